//! Serving concerns: TLS, reloading the configuration file, fail-open and fail-closed scanning, routing.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use rampart_gateway::config::{FailMode, TlsConfig, UpstreamConfig, UpstreamKind};
use serde_json::json;

#[tokio::test]
async fn tls_listener_serves_http1_and_http2() {
    let h = start_with(|c| {
        c.tls = Some(TlsConfig {
            cert: fixture("tls/cert.pem"),
            key: fixture("tls/key.pem"),
        });
    })
    .await;
    assert!(h.base.starts_with("https://"));
    let (status, body) = h
        .post("/v1/chat/completions", &chat("mock-echo", CLEAN))
        .await;
    assert_eq!(status, 200, "{body}");
    let resp = h.client.get(h.url("/healthz")).send().await.unwrap();
    assert_eq!(
        resp.version(),
        reqwest::Version::HTTP_2,
        "ALPN should pick h2"
    );
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(h.base.replace("https://", "http://") + "/healthz")
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}

#[tokio::test]
async fn reload_reads_the_file_again_and_keeps_the_old_config_on_error() {
    let h = start().await;
    let path = h.dir.path().join("rampart.toml");
    let (status, _) = h
        .post("/v1/chat/completions", &chat("mock-echo", CLEAN))
        .await;
    assert_eq!(status, 200);

    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n[roles.default]\nmodels = [\"gpt-*\"]\n");
    std::fs::write(&path, &text).unwrap();
    h.gw.reload().unwrap();
    let (status, body) = h
        .post("/v1/chat/completions", &chat("mock-echo", CLEAN))
        .await;
    assert_eq!(status, 403, "{body}");

    std::fs::write(&path, "listen = 5\n").unwrap();
    let err = h.gw.reload().unwrap_err();
    assert!(err.to_string().contains("listen"), "{err}");
    let (status, _) = h
        .post("/v1/chat/completions", &chat("mock-echo", CLEAN))
        .await;
    assert_eq!(status, 403, "the previous configuration must stay");
}

/// A policy whose scanners refuse texts longer than 40 bytes.
fn tiny_policy(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("tiny.toml");
    let mut text =
        rampart_detect::DEFAULT_POLICY_TOML.replace("max_bytes = 16777216", "max_bytes = 40");
    text = text.replace("name = \"default\"", "name = \"tiny\"");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn fail_closed_refuses_what_cannot_be_scanned() {
    let policy_dir = tempfile::tempdir().unwrap();
    let policy = tiny_policy(policy_dir.path());
    let h = start_with(|c| {
        c.policies.insert("default".into(), policy);
        c.scanning.fail_mode = FailMode::Closed;
    })
    .await;
    let long = "Summarise this article in three sentences, please, and keep it short.";
    let (status, body) = h
        .post("/v1/chat/completions", &chat("mock-echo", long))
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "text_too_large");
    assert!(h.mock.requests().is_empty());
}

#[tokio::test]
async fn fail_open_lets_unscannable_text_through() {
    let policy_dir = tempfile::tempdir().unwrap();
    let policy = tiny_policy(policy_dir.path());
    let h = start_with(|c| {
        c.policies.insert("default".into(), policy);
        c.scanning.fail_mode = FailMode::Open;
    })
    .await;
    let long = "Summarise this article in three sentences, please, and keep it short.";
    let (status, body) = h
        .post("/v1/chat/completions", &chat("mock-echo", long))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], long);
    let metrics = h
        .client
        .get(h.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("rampart_gateway_scan_failures_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn azure_upstreams_use_deployments_and_the_api_key_header() {
    let h = start_with(|c| {
        let base = c.upstreams[0].base_url.trim_end_matches("/v1").to_owned();
        c.upstreams.insert(
            0,
            UpstreamConfig {
                name: "azure".into(),
                kind: UpstreamKind::Azure,
                base_url: base,
                api_key: Some("azure-key".into()),
                models: vec!["gpt-4o".into()],
                deployments: [("gpt-4o".to_owned(), "prod-4o".to_owned())].into(),
                ..UpstreamConfig::default()
            },
        );
    })
    .await;
    let (status, body) = h.post("/v1/chat/completions", &chat("gpt-4o", CLEAN)).await;
    assert_eq!(status, 200, "{body}");
    let seen = h.mock.last_request().unwrap();
    assert_eq!(seen.path, "/openai/deployments/prod-4o/chat/completions");
    assert_eq!(seen.api_key.as_deref(), Some("azure-key"));
    assert_eq!(seen.authorization, None);
}

#[tokio::test]
async fn unknown_model_and_max_tokens() {
    let h = start_with(|c| {
        c.upstreams.retain(|u| u.name != "mock");
        c.roles.insert(
            "default".into(),
            rampart_gateway::config::RoleConfig {
                max_tokens: Some(50),
                ..Default::default()
            },
        );
    })
    .await;
    let (status, body) = h.post("/v1/chat/completions", &chat("gpt-4o", CLEAN)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");

    let mut req = chat("mock-hang-x", CLEAN);
    req["max_tokens"] = json!(51);
    let (status, body) = h.post("/v1/chat/completions", &req).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "max_tokens_too_large");
    assert_eq!(body["error"]["param"], "max_tokens");

    // Anthropic requests without a cap are sent with the role's.
    let req = json!({"model": "claude-x", "messages": [{"role": "user", "content": CLEAN}]});
    let (status, body) = h.post("/v1/messages", &req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(h.mock.last_request().unwrap().body["max_tokens"], 50);
}
