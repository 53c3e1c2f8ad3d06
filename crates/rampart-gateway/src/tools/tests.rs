use super::*;

fn policy(allow: &[&str], deny: &[&str], rules: Vec<ArgRule>) -> CompiledToolPolicy {
    ToolPolicy {
        allow: allow.iter().map(|s| s.to_string()).collect(),
        deny: deny.iter().map(|s| s.to_string()).collect(),
        rules,
    }
    .compile()
    .unwrap()
}

fn deny_rule(tool: &str, argument: &str, patterns: &[&str]) -> ArgRule {
    ArgRule {
        tool: tool.into(),
        argument: argument.into(),
        deny_patterns: patterns.iter().map(|s| s.to_string()).collect(),
        allow_url_hosts: vec![],
    }
}

fn host_rule(tool: &str, argument: &str, hosts: &[&str]) -> ArgRule {
    ArgRule {
        tool: tool.into(),
        argument: argument.into(),
        deny_patterns: vec![],
        allow_url_hosts: hosts.iter().map(|s| s.to_string()).collect(),
    }
}

fn rule_of(result: Result<(), ToolViolation>) -> Option<&'static str> {
    result.err().map(|v| v.rule)
}

#[test]
fn empty_allow_list_allows_nothing() {
    let p = ToolPolicy::default().compile().unwrap();
    let v = p.check_declared("search").unwrap_err();
    assert_eq!(v.rule, "tools.not-allowed");
    assert_eq!(v.tool, "search");
    assert_eq!(
        rule_of(p.check_call("search", "{}")),
        Some("tools.not-allowed")
    );
}

#[test]
fn allow_names_and_globs() {
    let p = policy(&["get_weather", "search_*", "db_?"], &[], vec![]);
    for ok in ["get_weather", "search_web", "search_", "db_1"] {
        assert!(p.check_declared(ok).is_ok(), "{ok}");
    }
    for no in [
        "get_weather2",
        "Get_Weather",
        "xsearch_web",
        "db_12",
        "db_",
        "",
    ] {
        assert_eq!(
            rule_of(p.check_declared(no)),
            Some("tools.not-allowed"),
            "{no}"
        );
    }
}

#[test]
fn glob_metacharacters_are_literal() {
    let p = policy(&["a.b", "x+"], &[], vec![]);
    assert!(p.check_declared("a.b").is_ok());
    assert!(p.check_declared("axb").is_err());
    assert!(p.check_declared("x+").is_ok());
    assert!(p.check_declared("xx").is_err());
}

#[test]
fn shell_tool_denied_even_when_everything_is_allowed() {
    let p = policy(&["*"], &["shell", "exec_*", "*_command"], vec![]);
    assert!(p.check_declared("search").is_ok());
    for name in [
        "shell",
        "SHELL",
        "Shell",
        "exec_python",
        "EXEC_sh",
        "run_command",
    ] {
        let v = p.check_declared(name).unwrap_err();
        assert_eq!(v.rule, "tools.denied", "{name}");
        assert!(v.explanation.contains("denied"), "{}", v.explanation);
    }
    assert_eq!(
        rule_of(p.check_call("shell", r#"{"cmd":"ls"}"#)),
        Some("tools.denied")
    );
}

#[test]
fn rm_rf_pattern_is_denied_in_decoded_arguments() {
    let p = policy(
        &["shell"],
        &[],
        vec![deny_rule(
            "shell",
            "command",
            &[r"\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*\s+/", r"(?i)\bmkfs\b"],
        )],
    );
    assert!(
        p.check_call("shell", r#"{"command":"ls -la /tmp"}"#)
            .is_ok()
    );
    assert!(
        p.check_call("shell", r#"{"command":"rm notes.txt"}"#)
            .is_ok()
    );
    let v = p
        .check_call("shell", r#"{"command":"rm -rf /"}"#)
        .unwrap_err();
    assert_eq!(v.rule, "tools.argument-denied");
    assert!(v.explanation.contains("\"command\""), "{}", v.explanation);
    assert!(
        !v.explanation.contains("rm -rf /\""),
        "the value is not echoed: {}",
        v.explanation
    );
    // JSON escapes are undone before matching.
    assert_eq!(
        rule_of(p.check_call("shell", r#"{"command":"\u0072m -fr /home"}"#)),
        Some("tools.argument-denied")
    );
    assert_eq!(
        rule_of(p.check_call("shell", r#"{"command":"sudo MKFS /dev/sda"}"#)),
        Some("tools.argument-denied")
    );
    // Other arguments are not this rule's business.
    assert!(
        p.check_call("shell", r#"{"command":"ls","note":"rm -rf /"}"#)
            .is_ok()
    );
    // Rules match tool names ignoring case.
    let p = policy(
        &["*"],
        &[],
        vec![deny_rule("SHELL", "command", &["rm -rf"])],
    );
    assert_eq!(
        rule_of(p.check_call("shell", r#"{"command":"rm -rf x"}"#)),
        Some("tools.argument-denied")
    );
}

#[test]
fn deny_patterns_see_nested_values_keys_and_scalars() {
    let p = policy(
        &["*"],
        &[],
        vec![deny_rule("run", "*", &["^rm -rf", "^22$"])],
    );
    assert_eq!(
        rule_of(p.check_call("run", r#"{"steps":[{"x":"rm -rf /"}]}"#)),
        Some("tools.argument-denied")
    );
    assert_eq!(
        rule_of(p.check_call("run", r#"{"opts":{"rm -rf /":true}}"#)),
        Some("tools.argument-denied")
    );
    assert_eq!(
        rule_of(p.check_call("run", r#"{"port":22}"#)),
        Some("tools.argument-denied")
    );
    assert!(
        p.check_call("run", r#"{"port":2222,"steps":["ls"]}"#)
            .is_ok()
    );
}

#[test]
fn json_pointer_addresses_nested_arguments() {
    let p = policy(
        &["*"],
        &[],
        vec![host_rule("http", "/request/url", &["api.example.com"])],
    );
    assert!(
        p.check_call(
            "http",
            r#"{"request":{"url":"https://api.example.com/v1"}}"#
        )
        .is_ok()
    );
    assert_eq!(
        rule_of(p.check_call("http", r#"{"request":{"url":"https://evil.net/v1"}}"#)),
        Some("tools.url-not-allowed")
    );
    // Absent argument: nothing to check.
    assert!(p.check_call("http", r#"{"request":{}}"#).is_ok());
    let escaped = policy(&["*"], &[], vec![deny_rule("t", "/a~1b/c~0d", &["bad"])]);
    assert_eq!(
        rule_of(escaped.check_call("t", r#"{"a/b":{"c~d":"bad"}}"#)),
        Some("tools.argument-denied")
    );
}

#[test]
fn url_outside_the_allow_list() {
    let p = policy(
        &["fetch"],
        &[],
        vec![host_rule(
            "fetch",
            "url",
            &["example.com", "*.docs.example.org"],
        )],
    );
    for ok in [
        "https://example.com/page",
        "http://EXAMPLE.com",
        "https://example.com./x",
        "https://user:pw@example.com/",
        "https://a.docs.example.org/x",
        "https://a.b.docs.example.org",
        "example.com/path",
        "example.com",
    ] {
        assert!(
            p.check_call("fetch", &serde_json::json!({ "url": ok }).to_string())
                .is_ok(),
            "{ok}"
        );
    }
    for bad in [
        "https://evil.net/",
        "https://docs.example.org/", // `*.` means subdomains only
        "https://notexample.com/",
        "https://example.com:443@evil.net/",
        "ftp://evil.net/",
        "file:///etc/passwd",
        "gopher://evil.net/",
        "//evil.net/x",
        "evil.net",
        "localhost:8080/admin",
        "http://127.0.0.1/",
        "http://2130706433/", // 127.0.0.1 as one number
        "http://[::1]/",
    ] {
        let v = p
            .check_call("fetch", &serde_json::json!({ "url": bad }).to_string())
            .unwrap_err();
        assert_eq!(v.rule, "tools.url-not-allowed", "{bad}: {v:?}");
    }
}

#[test]
fn look_alike_hosts_are_not_the_allowed_host() {
    let p = policy(
        &["fetch"],
        &[],
        vec![host_rule("fetch", "url", &["example.com"])],
    );
    for trick in [
        "https://example.com.evil.net/",
        "https://evil.net/example.com",
        "evil.net/example.com",
        "https://example.com@evil.net/",
        "https://example.com%40evil.net@evil.net/",
        "https://evil.net?example.com",
        "https://evil.net#@example.com",
        "https://exаmple.com/",            // Cyrillic 'а'
        "https://example.com\\@evil.net/", // backslash: parsers disagree
        "https://%65vil.net/",
        "https:evil.net",
        "HTTPS://EVIL.NET",
        "https:/\\evil.net",
        "https://evil.net:80@example.com:81@evil.net/",
    ] {
        let v = p
            .check_call("fetch", &serde_json::json!({ "url": trick }).to_string())
            .unwrap_err();
        assert_eq!(v.rule, "tools.url-not-allowed", "{trick}: {v:?}");
    }
}

#[test]
fn urls_inside_text_are_checked() {
    let p = policy(
        &["*"],
        &[],
        vec![host_rule("send_email", "body", &["example.com"])],
    );
    assert!(
        p.check_call(
            "send_email",
            r#"{"body":"See https://example.com/docs. Thanks!"}"#
        )
        .is_ok()
    );
    assert!(
        p.check_call("send_email", r#"{"body":"(link: https://example.com/a)"}"#)
            .is_ok()
    );
    assert!(
        p.check_call(
            "send_email",
            r#"{"body":"note: mailto is fine, so is a plain sentence"}"#
        )
        .is_ok()
    );
    for bad in [
        "Click https://evil.net/?q=secret now",
        "Click <https://evil.net/>",
        "see:https://example.com/,https://evil.net/x",
        "image ![x](https://evil.net/p.png)",
        "foo_http://evil.net",
        "text\nhttps://evil.net",
        "https://example.com https://evil.net",
        "broken http://exa mple and http://[::g]/",
    ] {
        let args = serde_json::json!({ "body": bad }).to_string();
        assert_eq!(
            rule_of(p.check_call("send_email", &args)),
            Some("tools.url-not-allowed"),
            "{bad}"
        );
    }
    // Nested strings of the addressed argument are searched too.
    let nested = r#"{"body":{"parts":["hi","https://evil.net"]}}"#;
    assert_eq!(
        rule_of(p.check_call("send_email", nested)),
        Some("tools.url-not-allowed")
    );
    // A single word is not a host; a sentence is not a bare URL.
    assert!(p.check_call("send_email", r#"{"body":"hello"}"#).is_ok());
    assert!(
        p.check_call("send_email", r#"{"body":"meet at evil.net later"}"#)
            .is_ok()
    );
}

#[test]
fn ip_host_patterns() {
    let p = policy(
        &["*"],
        &[],
        vec![host_rule("f", "u", &["10.0.0.7", "[::1]"])],
    );
    assert!(
        p.check_call("f", r#"{"u":"http://10.0.0.7:8080/x"}"#)
            .is_ok()
    );
    assert!(
        p.check_call("f", r#"{"u":"http://0xa.0.0.7/"}"#).is_ok(),
        "same address, other spelling"
    );
    assert!(p.check_call("f", r#"{"u":"http://[0:0::1]/"}"#).is_ok());
    assert!(p.check_call("f", r#"{"u":"http://10.0.0.8/"}"#).is_err());
}

#[test]
fn malformed_arguments_are_violations_not_panics() {
    let p = policy(&["*"], &[], vec![]);
    assert!(p.check_call("t", "").is_ok(), "blank means no arguments");
    assert!(p.check_call("t", "  {}  ").is_ok());
    for bad in [
        "{",
        "{\"a\":}",
        "not json",
        "[1,2]",
        "\"text\"",
        "42",
        "{\"a\":1}{\"b\":2}",
        "{\"cmd\":\"ls\",\"cmd\":\"rm -rf /\"}",
        "{\"a\":\"\\ud800\"}",
        "\u{0}",
    ] {
        let v = p.check_call("t", bad).unwrap_err();
        assert_eq!(v.rule, "tools.bad-arguments", "{bad:?}");
    }
    let v = p
        .check_call("t", "{\"cmd\":\"ls\",\"cmd\":\"rm -rf /\"}")
        .unwrap_err();
    assert!(v.explanation.contains("duplicate key"), "{}", v.explanation);
    assert!(!v.explanation.contains("rm -rf"), "{}", v.explanation);
}

#[test]
fn deep_nesting_is_refused_without_recursing() {
    let p = policy(&["*"], &[], vec![deny_rule("t", "*", &["x"])]);
    let depth = 200_000;
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
    let v = p.check_call("t", &deep).unwrap_err();
    assert_eq!(v.rule, "tools.bad-arguments");
    assert!(
        v.explanation.contains("recursion limit"),
        "{}",
        v.explanation
    );
    // Within the limit, nested values are walked.
    let ok_depth = 100;
    let nested = format!(
        "{{\"a\":{}\"x\"{}}}",
        "[".repeat(ok_depth),
        "]".repeat(ok_depth)
    );
    assert_eq!(
        rule_of(p.check_call("t", &nested)),
        Some("tools.argument-denied")
    );
}

#[test]
fn arguments_are_parsed_even_without_rules_and_rules_run_in_order() {
    let p = policy(
        &["*"],
        &[],
        vec![
            deny_rule("t*", "a", &["one"]),
            host_rule("t", "a", &["example.com"]),
        ],
    );
    assert_eq!(
        rule_of(p.check_call("t", r#"{"a":"one https://evil.net"}"#)),
        Some("tools.argument-denied")
    );
    assert_eq!(
        rule_of(p.check_call("t", r#"{"a":"two https://evil.net"}"#)),
        Some("tools.url-not-allowed")
    );
    assert!(p.check_call("other", r#"{"a":"one"}"#).is_ok());
}

#[test]
fn policy_errors_are_reported() {
    let compile = |p: ToolPolicy| p.compile().map(|_| ()).unwrap_err();
    let bad_regex = compile(ToolPolicy {
        allow: vec!["*".into()],
        deny: vec![],
        rules: vec![deny_rule("t", "a", &["(unclosed"])],
    });
    assert!(
        matches!(bad_regex, ToolPolicyError::BadRegex { .. }),
        "{bad_regex}"
    );
    assert!(bad_regex.to_string().contains("(unclosed"));

    let huge = compile(ToolPolicy {
        allow: vec![],
        deny: vec![],
        rules: vec![deny_rule("t", "a", &["\\w{1000}{1000}"])],
    });
    assert!(matches!(huge, ToolPolicyError::BadRegex { .. }), "{huge}");

    for host in [
        "",
        "*",
        "*.",
        "exa mple.com",
        "example.com/path",
        "*.10.0.0.1",
        "a*.example.com",
        "[::1",
    ] {
        let err = compile(ToolPolicy {
            allow: vec![],
            deny: vec![],
            rules: vec![host_rule("t", "a", &[host])],
        });
        assert!(
            matches!(err, ToolPolicyError::BadHost { .. }),
            "{host:?}: {err}"
        );
    }
    let empty = compile(ToolPolicy {
        allow: vec![],
        deny: vec![],
        rules: vec![deny_rule("t", "a", &[])],
    });
    assert!(
        matches!(empty, ToolPolicyError::EmptyRule { .. }),
        "{empty}"
    );
    let name = compile(ToolPolicy {
        allow: vec![" ".into()],
        deny: vec![],
        rules: vec![],
    });
    assert!(matches!(name, ToolPolicyError::BadName { .. }), "{name}");
    let pointer = compile(ToolPolicy {
        allow: vec![],
        deny: vec![],
        rules: vec![deny_rule("t", "/a~2", &["x"])],
    });
    assert!(
        matches!(pointer, ToolPolicyError::BadArgument { .. }),
        "{pointer}"
    );
}

#[test]
fn host_patterns_are_normalised() {
    let p = policy(
        &["*"],
        &[],
        vec![host_rule(
            "f",
            "u",
            &["EXAMPLE.com.", "*.Bücher.example", " spaced.example "],
        )],
    );
    assert!(p.check_call("f", r#"{"u":"https://example.com"}"#).is_ok());
    assert!(
        p.check_call("f", r#"{"u":"https://shop.xn--bcher-kva.example/"}"#)
            .is_ok()
    );
    assert!(
        p.check_call("f", r#"{"u":"https://shop.bücher.example/"}"#)
            .is_ok()
    );
    assert!(
        p.check_call("f", r#"{"u":"https://spaced.example/"}"#)
            .is_ok()
    );
}

#[test]
fn policy_config_is_strict_and_defaulted() {
    let p: ToolPolicy = serde_json::from_str(
        r#"{"allow":["search_*"],"rules":[{"tool":"fetch","argument":"url","allow_url_hosts":["example.com"]}]}"#,
    )
    .unwrap();
    assert!(p.deny.is_empty());
    assert!(p.rules[0].deny_patterns.is_empty());
    assert!(serde_json::from_str::<ToolPolicy>(r#"{"alow":[]}"#).is_err());
    assert!(
        serde_json::from_str::<ToolPolicy>(r#"{"rules":[{"tool":"t","argument":"a","deny":[]}]}"#)
            .is_err()
    );
    assert_eq!(
        serde_json::from_str::<ToolPolicy>("{}").unwrap(),
        ToolPolicy::default()
    );
}

#[test]
fn violation_serialises_for_audit() {
    let v = policy(&[], &[], vec![]).check_declared("x").unwrap_err();
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["rule"], "tools.not-allowed");
    assert_eq!(json["tool"], "x");
    assert_eq!(
        v.to_string(),
        format!("tools.not-allowed: {}", v.explanation)
    );
}

const RULE_IDS: [&str; 5] = [
    "tools.not-allowed",
    "tools.denied",
    "tools.argument-denied",
    "tools.url-not-allowed",
    "tools.bad-arguments",
];

static FUZZ_POLICY: std::sync::LazyLock<CompiledToolPolicy> = std::sync::LazyLock::new(|| {
    policy(
        &["fetch", "shell", "search_*"],
        &["shell_admin"],
        vec![
            host_rule(
                "fetch",
                "url",
                &["example.com", "*.docs.example.org", "10.0.0.7"],
            ),
            host_rule("fetch", "/opts/next", &["example.com"]),
            deny_rule("shell", "*", &[r"\brm\s+-[a-z]*r", "(?i)mkfs"]),
        ],
    )
});

proptest::proptest! {
    /// Whatever a model emits, a check ends in Ok or a violation with a documented rule id.
    #[test]
    fn arbitrary_calls_never_panic(name in "(fetch|shell|search_x|[a-z_]{0,8})", args in "\\PC{0,200}") {
        let p = &*FUZZ_POLICY;
        if let Err(v) = p.check_call(&name, &args) {
            proptest::prop_assert!(RULE_IDS.contains(&v.rule));
        }
    }

    /// URL-shaped arguments built from URL syntax characters, the inputs most likely to confuse parsing.
    #[test]
    fn url_shaped_arguments_never_panic(url in "[a-zA-Z]{0,6}:{0,1}[/\\\\]{0,3}[a-z0-9.@:%\\[\\]#?/\\\\-]{0,40}") {
        let p = &*FUZZ_POLICY;
        let args = serde_json::json!({ "url": url, "opts": { "next": url } }).to_string();
        if let Err(v) = p.check_call("fetch", &args) {
            proptest::prop_assert!(v.rule == "tools.url-not-allowed", "{v:?}");
        }
    }
}
