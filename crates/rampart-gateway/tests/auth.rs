//! Authentication, authorisation and the audit trail, end to end.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use rampart_gateway::config::RoleConfig;
use serde_json::json;

#[tokio::test]
async fn missing_and_invalid_keys_get_401() {
    let h = start().await;
    let body = chat("mock-echo", CLEAN);
    let (status, err) = h.post_as("/v1/chat/completions", None, &body).await;
    assert_eq!(status, 401, "{err}");
    assert_eq!(err["error"]["type"], "authentication_error");
    assert_eq!(err["error"]["code"], "invalid_api_key");
    let (status, _) = h
        .post_as("/v1/chat/completions", Some("rk-nope_0000"), &body)
        .await;
    assert_eq!(status, 401);
    // A real key with its secret altered.
    let tampered = format!("{}x", &h.key[..h.key.len() - 1]);
    let (status, _) = h
        .post_as("/v1/chat/completions", Some(&tampered), &body)
        .await;
    assert_eq!(status, 401);
    for path in ["/v1/models", "/v1/scan"] {
        let resp = h.client.get(h.url(path)).send().await.unwrap();
        assert!(
            matches!(resp.status().as_u16(), 401 | 405),
            "{path}: {}",
            resp.status()
        );
    }
    let (status, _) = h.post_as("/v1/scan", None, &json!({"text": "x"})).await;
    assert_eq!(status, 401);
    assert!(h.mock.requests().is_empty());
}

#[tokio::test]
async fn anthropic_clients_may_send_x_api_key() {
    let h = start().await;
    let req = json!({"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": CLEAN}]});
    let resp = h
        .client
        .post(h.url("/v1/messages"))
        .header("x-api-key", &h.key)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&req).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = h.mock.last_request().unwrap();
    assert_ne!(
        seen.x_api_key.as_deref(),
        Some(h.key.as_str()),
        "the client key must not be forwarded"
    );
}

#[tokio::test]
async fn revoked_key_stops_working_at_once() {
    let h = start().await;
    let key = h.key_for("default");
    let body = chat("mock-echo", CLEAN);
    let (status, _) = h.post_as("/v1/chat/completions", Some(&key), &body).await;
    assert_eq!(status, 200);
    let id =
        h.gw.keys()
            .list()
            .unwrap()
            .into_iter()
            .find(|k| key.starts_with(&format!("rk-{}_", k.id)))
            .unwrap()
            .id;
    // Revoked through a second handle on the same database, as `rampart keys revoke` would.
    let other = rampart_gateway::KeyStore::open(h.dir.path()).unwrap();
    assert!(other.revoke(&id).unwrap());
    let (status, err) = h.post_as("/v1/chat/completions", Some(&key), &body).await;
    assert_eq!(status, 401, "{err}");
}

#[tokio::test]
async fn role_without_the_model_gets_403() {
    let h = start_with(|c| {
        c.roles.insert(
            "interns".into(),
            RoleConfig {
                models: vec!["mock-echo-split-*".into()],
                ..RoleConfig::default()
            },
        );
    })
    .await;
    let key = h.key_for("interns");
    let (status, err) = h
        .post_as(
            "/v1/chat/completions",
            Some(&key),
            &chat("mock-echo", CLEAN),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "model_not_allowed");
    let (status, _) = h
        .post_as(
            "/v1/chat/completions",
            Some(&key),
            &chat("mock-echo-split-2", CLEAN),
        )
        .await;
    assert_eq!(status, 200);
    // The model list only shows what the role may use.
    let resp = h
        .client
        .get(h.url("/v1/models"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id.starts_with("mock-echo-split-")),
        "{ids:?}"
    );
}

#[tokio::test]
async fn key_with_a_role_the_config_lacks_gets_403() {
    let h = start().await;
    let key = h.key_for("ghosts");
    let (status, err) = h
        .post_as(
            "/v1/chat/completions",
            Some(&key),
            &chat("mock-echo", CLEAN),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "role_unknown");
}

#[tokio::test]
async fn audit_records_one_entry_per_request_without_raw_values() {
    let h = start().await;
    let prompt = "My email is jane.doe@example.com, please confirm my booking.";
    h.post("/v1/chat/completions", &chat("mock-echo", CLEAN))
        .await;
    h.post("/v1/chat/completions", &chat("mock-echo", prompt))
        .await;
    h.post("/v1/chat/completions", &chat("mock-echo", INJECTION))
        .await;
    h.stream("/v1/chat/completions", &chat_stream("mock-echo", prompt))
        .await;
    h.post("/v1/chat/completions", &chat("mock-status-500", CLEAN))
        .await;
    h.post_as("/v1/chat/completions", None, &chat("mock-echo", CLEAN))
        .await;

    let records = h.audit().await;
    assert_eq!(records.len(), 6, "{records:#?}");
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["allow", "redact", "block", "redact", "error", "error"]
    );
    let statuses: Vec<u16> = records.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 400, 200, 502, 401]);
    let block = &records[2];
    assert!(
        block
            .findings
            .iter()
            .any(|f| f.category == "prompt-injection" && f.direction == "input")
    );
    assert_eq!(block.model.as_deref(), Some("mock-echo"));
    assert!(block.key_id.is_some());
    assert_eq!(block.role.as_deref(), Some("default"));
    assert!(records[0].upstream_ms.is_some());
    assert!(records[1].prompt_tokens.is_some());
    let all = serde_json::to_string(&records).unwrap();
    assert!(
        !all.contains("jane.doe@example.com"),
        "raw values must never reach the audit log"
    );
    assert!(!all.contains(&h.key), "keys must never reach the audit log");
    // The chain verifies.
    let report = h.gw.audit().verify().await.unwrap();
    assert!(report.ok, "{:?}", report.problems);
}

fn role(edit: impl FnOnce(&mut RoleConfig)) -> RoleConfig {
    let mut r = RoleConfig::default();
    edit(&mut r);
    r
}

#[tokio::test]
async fn rpm_exceeded_gets_429_with_retry_after() {
    let h = start_with(|c| {
        c.roles.insert("metered".into(), role(|r| r.rpm = Some(2)));
    })
    .await;
    let key = h.key_for("metered");
    let body = chat("mock-echo", CLEAN);
    for _ in 0..2 {
        let (status, err) = h.post_as("/v1/chat/completions", Some(&key), &body).await;
        assert_eq!(status, 200, "{err}");
    }
    let resp = h
        .client
        .post(h.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "Retry-After {retry}");
    let err: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(err["error"]["code"], "rate_limited");
    assert_eq!(err["error"]["type"], "rate_limit_error");
    // Another key of the same role has its own budget.
    let (status, _) = h
        .post_as("/v1/chat/completions", Some(&h.key_for("metered")), &body)
        .await;
    assert_eq!(status, 200);
    assert_eq!(h.mock.requests().len(), 3);
}

#[tokio::test]
async fn tpm_refuses_once_the_budget_is_spent() {
    let h = start_with(|c| {
        c.roles.insert("tokens".into(), role(|r| r.tpm = Some(20)));
    })
    .await;
    let key = h.key_for("tokens");
    let long = "Summarise the following planning notes for the leadership meeting on Thursday, \
                listing the three most important risks for next quarter with one mitigation each.";
    let (status, err) = h
        .post_as("/v1/chat/completions", Some(&key), &chat("mock-echo", long))
        .await;
    assert_eq!(status, 200, "{err}");
    let (status, err) = h
        .post_as("/v1/chat/completions", Some(&key), &chat("mock-echo", long))
        .await;
    assert_eq!(status, 429, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tokens per minute"),
        "{err}"
    );
}

#[tokio::test]
async fn concurrency_limit_counts_open_streams() {
    let h = start_with(|c| {
        c.roles
            .insert("single".into(), role(|r| r.max_concurrency = Some(1)));
        for u in &mut c.upstreams {
            u.stream_idle_timeout_ms = 600_000;
        }
    })
    .await;
    let key = h.key_for("single");
    let open = h
        .client
        .post(h.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&chat_stream("mock-hang-stream", CLEAN)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 200);
    let (status, err) = h
        .post_as(
            "/v1/chat/completions",
            Some(&key),
            &chat("mock-echo", CLEAN),
        )
        .await;
    assert_eq!(status, 429, "{err}");
    drop(open);
}

#[tokio::test]
async fn tools_outside_the_allow_list_are_blocked() {
    let h = start_with(|c| {
        c.roles.insert(
            "agents".into(),
            role(|r| {
                r.tools.allow = vec!["get_*".into()];
                r.tools.deny = vec!["get_secrets".into()];
            }),
        );
    })
    .await;
    let key = h.key_for("agents");
    let tool =
        |name: &str| json!({"type": "function", "function": {"name": name, "parameters": {}}});

    let mut req = chat("mock-echo", CLEAN);
    req["tools"] = json!([tool("get_weather"), tool("shell")]);
    let (status, err) = h.post_as("/v1/chat/completions", Some(&key), &req).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "tool_not_allowed");
    assert_eq!(err["error"]["type"], "rampart_policy_violation");
    let f = &err["error"]["findings"][0];
    assert_eq!(f["rule"], "tools.not-allowed");
    assert_eq!(f["location"], "tools[1]");

    req["tools"] = json!([tool("get_secrets")]);
    let (status, err) = h.post_as("/v1/chat/completions", Some(&key), &req).await;
    assert_eq!(status, 403);
    assert_eq!(err["error"]["findings"][0]["rule"], "tools.denied");

    // An assistant message replaying a call of a forbidden tool.
    let replay = json!({"model": "mock-echo", "messages": [
        {"role": "user", "content": CLEAN},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function",
            "function": {"name": "shell", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "done"}]});
    let (status, err) = h.post_as("/v1/chat/completions", Some(&key), &replay).await;
    assert_eq!(status, 403, "{err}");

    // The model calling a forbidden tool, whole and streamed.
    let mut call = chat("mock-tool-call", CLEAN);
    call["mock_tool"] = json!({"name": "delete_repository", "arguments": "{\"repo\":\"main\"}"});
    let (status, err) = h.post_as("/v1/chat/completions", Some(&key), &call).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "tool_call_blocked");
    call["stream"] = json!(true);
    let (status, events) = h.stream_as("/v1/chat/completions", Some(&key), &call).await;
    assert_eq!(status, 200);
    assert!(
        !events
            .iter()
            .any(|e| e.contains("delete_repository\"") && e.contains("tool_calls\":[{")),
        "the forbidden call must not be sent: {events:?}"
    );
    let err: serde_json::Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(err["error"]["code"], "tool_call_blocked");

    // An allowed call passes.
    call["mock_tool"] = json!({"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"});
    let (status, events) = h.stream_as("/v1/chat/completions", Some(&key), &call).await;
    assert_eq!(status, 200);
    assert!(
        events.iter().any(|e| e.contains("get_weather")),
        "{events:?}"
    );
    assert_eq!(events.last().unwrap(), "[DONE]");
}

#[tokio::test]
async fn models_and_scan_are_audited_like_proxied_requests() {
    let h = start_with(|c| {
        c.roles.insert(
            "narrow".into(),
            role(|r| {
                r.models = vec!["mock-echo".into()];
                r.rpm = Some(1);
            }),
        );
    })
    .await;
    let narrow = h.key_for("narrow");
    let (status, _) = h.get("/v1/models").await;
    assert_eq!(status, 200);
    let (status, body) = h
        .post(
            "/v1/scan",
            &json!({"text": INJECTION, "direction": "document"}),
        )
        .await;
    assert_eq!((status, body["action"].as_str()), (200, Some("block")));
    let (status, body) = h
        .post(
            "/v1/scan",
            &json!({"text": "Mail jane.doe@example.com about the invoice, thanks."}),
        )
        .await;
    assert_eq!((status, body["action"].as_str()), (200, Some("redact")));
    let (status, _) = h.post("/v1/scan", &json!({"text": CLEAN})).await;
    assert_eq!(status, 200);
    let (status, _) = h.post("/v1/scan", &json!({"text": 5})).await;
    assert_eq!(status, 400);
    let (status, _) = h.post_as("/v1/scan", None, &json!({"text": "x"})).await;
    assert_eq!(status, 401);
    let resp = h
        .client
        .get(h.url("/v1/models"))
        .bearer_auth("rk-nope_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers().contains_key("x-request-id"));
    // Refusals before any scan are audited the same on every route: 403 and 429 on a proxied one.
    let (status, _) = h
        .post_as(
            "/v1/chat/completions",
            Some(&narrow),
            &chat("mock-chunks", CLEAN),
        )
        .await;
    assert_eq!(status, 403);
    for expected in [200, 429] {
        let (status, _) = h
            .post_as(
                "/v1/chat/completions",
                Some(&narrow),
                &chat("mock-echo", CLEAN),
            )
            .await;
        assert_eq!(status, expected);
    }

    let records = h.audit().await;
    let summary: Vec<(&str, &str, u16, bool)> = records
        .iter()
        .map(|r| {
            (
                r.endpoint.as_str(),
                r.action.as_str(),
                r.status,
                r.key_id.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("models", "allow", 200, true),
            ("scan", "block", 200, true),
            ("scan", "redact", 200, true),
            ("scan", "allow", 200, true),
            ("scan", "error", 400, true),
            ("scan", "error", 401, false),
            ("models", "error", 401, false),
            ("chat_completions", "error", 403, true),
            ("chat_completions", "allow", 200, true),
            ("chat_completions", "error", 429, true),
        ],
        "{records:#?}"
    );
    let block = &records[1];
    assert_eq!(block.role.as_deref(), Some("default"));
    assert!(block.latency_ms >= 0.0);
    assert!(!block.findings.is_empty());
    for f in &block.findings {
        assert_eq!(f.direction, "document");
        assert_eq!(f.location.as_deref(), Some("text"));
    }
    assert!(
        block
            .findings
            .iter()
            .any(|f| f.category == "prompt-injection")
    );
    assert!(
        records[2]
            .findings
            .iter()
            .any(|f| f.category == "pii" && f.direction == "input"),
        "{:?}",
        records[2].findings
    );
    assert!(
        records[4]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("invalid_type")
    );
    assert!(
        records[5]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("invalid_api_key")
    );
    assert_eq!(records[7].role.as_deref(), Some("narrow"));
    let all = serde_json::to_string(&records).unwrap();
    assert!(!all.contains("jane.doe@example.com"));
    assert!(!all.contains("reveal your system prompt"));
    let report = h.gw.audit().verify().await.unwrap();
    assert!(report.ok, "{:?}", report.problems);
}
