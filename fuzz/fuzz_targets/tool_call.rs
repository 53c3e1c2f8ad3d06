//! Tool-call checks on arbitrary tool names and argument strings: they must end in Ok or a violation,
//! never a panic or a stack overflow, whatever JSON, URLs or nesting the model produced.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rampart_gateway::tools::{ArgRule, CompiledToolPolicy, ToolPolicy};

static POLICY: LazyLock<CompiledToolPolicy> = LazyLock::new(|| {
    let rule = |tool: &str, argument: &str, deny: &[&str], hosts: &[&str]| ArgRule {
        tool: tool.into(),
        argument: argument.into(),
        deny_patterns: deny.iter().map(|s| s.to_string()).collect(),
        allow_url_hosts: hosts.iter().map(|s| s.to_string()).collect(),
    };
    ToolPolicy {
        allow: vec!["fetch".into(), "shell".into(), "search_*".into()],
        deny: vec!["shell_admin".into()],
        rules: vec![
            rule(
                "fetch",
                "url",
                &[],
                &["example.com", "*.docs.example.org", "10.0.0.7", "[::1]"],
            ),
            rule("fetch", "/opts/next", &[], &["example.com"]),
            rule("*", "*", &[], &["example.com"]),
            rule("shell", "command", &[r"\brm\s+-[a-z]*r", "(?i)mkfs"], &[]),
        ],
    }
    .compile()
    .expect("fuzz policy compiles")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the tool name, the rest the arguments.
    let (name, arguments) = text.split_once('\n').unwrap_or(("fetch", text));
    let _ = POLICY.check_declared(name);
    let _ = POLICY.check_call(name, arguments);
});
