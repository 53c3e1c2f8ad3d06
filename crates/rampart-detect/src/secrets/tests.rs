use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use rampart_core::{Direction, OffsetMap, ViewKind, Views};

use super::*;

fn scanner(options: &str) -> SecretsScanner {
    let table: toml::Table = toml::from_str(options).unwrap();
    SecretsScanner::from_options(&table).unwrap()
}

fn scan_with(s: &SecretsScanner, text: &str) -> Vec<Finding> {
    let views = Views::default();
    let mut out = Vec::new();
    s.scan(
        &Input {
            text,
            views: &views,
            direction: Direction::Input,
        },
        &mut out,
    );
    out
}

fn scan(text: &str) -> Vec<Finding> {
    scan_with(&scanner(""), text)
}

fn assert_well_formed(text: &str, findings: &[Finding]) {
    for f in findings {
        assert!(
            f.span.start < f.span.end && f.span.end <= text.len(),
            "{f:?}"
        );
        assert!(
            text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end),
            "{f:?}"
        );
        assert!((0.0..=1.0).contains(&f.score));
        let matched = f.matched(text);
        if matched.len() >= 8 {
            assert!(
                !f.explanation.contains(matched),
                "explanation echoes the secret: {}",
                f.explanation
            );
        }
    }
}

#[test]
fn rule_examples() {
    let compiled = compiled().unwrap();
    assert!(
        compiled.rules.len() >= 150,
        "only {} rules",
        compiled.rules.len()
    );
    let mut ids = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for (i, rule) in compiled.rules.iter().enumerate() {
        let def = &rule.def;
        assert_eq!(
            def.id,
            format!("SEC{:04}", i + 1),
            "ids are sequential and never reused"
        );
        assert!(ids.insert(def.id.clone()));
        assert!(rules::is_kebab(&def.name), "{}", def.name);
        assert!(!def.description.is_empty() && !def.label.is_empty());
        let only = scanner(&format!("rules = [\"{}\"]", def.id));
        for example in &def.examples.matches {
            let found = scan_with(&only, example);
            if !found.iter().any(|f| f.rule == def.id.as_str()) {
                failures.push(format!(
                    "{} {} misses its example {example:?}",
                    def.id, def.name
                ));
            }
            assert_well_formed(example, &found);
        }
        for example in &def.examples.no_match {
            let found = scan_with(&only, example);
            if found.iter().any(|f| f.rule == def.id.as_str()) {
                failures.push(format!(
                    "{} {} matches its no_match example {example:?}",
                    def.id, def.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} example failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn example_config_lists_every_option_and_builds() {
    let table: toml::Table = toml::from_str(EXAMPLE_CONFIG).unwrap();
    for key in OPTIONS {
        assert!(table.contains_key(*key), "EXAMPLE_CONFIG lacks {key}");
    }
    let s = SecretsScanner::from_options(&table).unwrap();
    assert_eq!(s.rules().len(), compiled().unwrap().rules.len());
    assert!(s.max_span().is_some_and(|m| m >= 16384));
}

#[test]
fn options_are_validated_and_applied() {
    let bad = |src: &str| SecretsScanner::from_options(&toml::from_str(src).unwrap()).is_err();
    assert!(bad("colour = true"));
    assert!(bad("rules = [\"no-such-rule\"]"));
    assert!(bad("disabled_rules = [\"SEC9999\"]"));
    assert!(bad("min_entropy = 9.5"));
    assert!(bad("generic = \"yes\""));

    let text = "DB_PASSWORD=Qz7-UxZs3skHjf";
    assert_eq!(scan(text).len(), 1);
    assert!(scan_with(&scanner("generic = false"), text).is_empty());
    assert!(scan_with(&scanner("disabled_rules = [\"generic-password\"]"), text).is_empty());
    let only = scanner("rules = [\"github-pat\", \"SEC0001\"]");
    assert_eq!(only.rules().len(), 2);
}

fn github_token(prefix: &str, random: &str) -> String {
    let sum = validate::base62_6(validate::crc32(random.as_bytes()));
    format!("{prefix}{random}{}", std::str::from_utf8(&sum).unwrap())
}

#[test]
fn github_token_span_score_and_explanation() {
    let token = github_token("ghp_", "Zt3kQ9mWx2LpR7vB4nY8cD1fG6hJ0s");
    let text = format!("export GITHUB_TOKEN=\"{token}\" # CI");
    let found = scan(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f.matched(&text), token);
    assert_eq!(f.name, "github-pat");
    assert_eq!(f.entity.as_deref(), Some("API_KEY"));
    assert!(f.score >= 0.95);
    assert!(
        f.explanation.contains("CRC32 checksum valid"),
        "{}",
        f.explanation
    );
    assert_well_formed(&text, &found);

    // A wrong checksum is still reported, with a lower score and a reason: never silently accepted.
    let mut bad = token.clone();
    bad.replace_range(
        bad.len() - 1..,
        if token.ends_with('0') { "1" } else { "0" },
    );
    let found = scan(&bad);
    assert_eq!(found.len(), 1);
    assert!(found[0].score < 0.7 && found[0].explanation.contains("does not match"));
}

#[test]
fn provider_rule_beats_generic_assignment() {
    let token = github_token("ghp_", "Zt3kQ9mWx2LpR7vB4nY8cD1fG6hJ0s");
    let found = scan(&format!("api_token = \"{token}\""));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "github-pat");
}

#[test]
fn aws_pair_reports_both_values() {
    let text = "[default]\naws_access_key_id = AKIAZ7QW4R2T5Y3U6I7O\naws_secret_access_key = 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\n";
    let found = scan(text);
    let names: Vec<&str> = found.iter().map(|f| f.name.as_ref()).collect();
    assert_eq!(
        names,
        ["aws-access-key-id", "aws-secret-access-key"],
        "{found:?}"
    );
    assert_eq!(
        found[1].matched(text),
        "9fK2LmQ8xR4vT1wY6zB3nC5dE7gH0jA2kS4uP/q+"
    );
    assert_eq!(found[1].severity, rampart_core::Severity::Critical);
    // The documentation's sample pair is not a leak.
    let docs = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    assert!(scan(docs).is_empty(), "{:?}", scan(docs));
}

#[test]
fn placeholders_are_not_reported() {
    let text = r#"
API_KEY=your-api-key-here
OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}
password: "{{ db_password }}"
password = "%(password)s"
password=$DB_PASSWORD
secret = process.env.APP_SECRET
token = os.environ["API_TOKEN"]
api_key: "<your-key>"
password: "********"
password = "changeme"
password = "password123"
client_secret = "REDACTED"
secret: null
token: true
password: None
password = "dummy-password"
api_key = "sample_key_1234567890"
token = "test_token_abcdef123456"
password = "aaaaaaaaaaaa"
password: 123456789
key_file = "/etc/ssl/private/server.key"
token_url = "https://auth.example.com/oauth/token"
postgres://user:password@localhost:5432/app
mongodb://admin:<password>@cluster0.mongodb.net/
Authorization: Bearer <token>
AKIAIOSFODNN7EXAMPLE
"#;
    let found = scan(text);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn connection_strings_are_reported_with_their_password_judged() {
    let text = "DATABASE_URL=postgres://app:Vq8-Lw3zR9tY2xK@db.internal:5432/app?sslmode=require\n";
    let found = scan(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].entity.as_deref(), Some("CONNECTION_STRING"));
    assert!(found[0].matched(text).starts_with("postgres://app:"));
    assert!(!found[0].explanation.contains("Vq8-Lw3zR9tY2xK"));

    let ado = "Server=tcp:sql.internal,1433;Database=app;User Id=app;Password=Vq8-Lw3zR9tY2xK;Encrypt=true";
    let found = scan(ado);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].matched(ado), "Vq8-Lw3zR9tY2xK");
}

fn b64(json: &str) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

#[test]
fn jwt_header_and_claims_are_explained() {
    let sig = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let token = format!(
        "{}.{}.{sig}",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(r#"{"iss":"https://auth.acme.io","sub":"42","exp":1500000000}"#)
    );
    let text = format!("Authorization: Bearer {token}");
    let found = scan(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f.name, "jwt");
    assert_eq!(f.entity.as_deref(), Some("JWT"));
    assert_eq!(f.matched(&text), token);
    assert!(f.explanation.contains("alg RS256"), "{}", f.explanation);
    assert!(f.explanation.contains("issuer `https://auth.acme.io`"));
    assert!(f.explanation.contains("expired 2017-07-14"));
    assert!(!f.explanation.contains(sig));
    assert!(f.score < 0.9, "expired tokens score lower");

    let live = format!(
        "{}.{}.{sig}",
        b64(r#"{"alg":"HS256"}"#),
        b64(r#"{"sub":"42","exp":4102444800}"#)
    );
    let found = scan(&live);
    assert!(
        found[0].explanation.contains("valid until 2100-01-01"),
        "{}",
        found[0].explanation
    );
    assert!(found[0].score >= 0.9);

    let unsigned = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"sub":"42"}"#));
    let found = scan(&unsigned);
    assert_eq!(found.len(), 1);
    assert!(found[0].explanation.contains("alg none"));
    assert!(found[0].explanation.contains("no expiry claim"));

    // Base64 that merely starts like JSON is not a JWT: no alg, or a payload that is not an object.
    let no_alg = format!(
        "{}.{}.{sig}",
        b64(r#"{"typ":"JWT"}"#),
        b64(r#"{"sub":"42"}"#)
    );
    assert!(scan(&no_alg).is_empty());
    let array_payload = format!(
        "{}.{}.{sig}",
        b64(r#"{"alg":"HS256"}"#),
        b64(r#"["not","claims"]"#)
    );
    assert!(scan(&array_payload).is_empty());
}

#[test]
fn private_key_blocks_cover_the_whole_block() {
    let body = "MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi7x7Ppdk4U0n6h2eJ8s0Wq5uPRnL1V\nc3x4Ub7yZpQ9F2kT8mN6rW1sE5gH0jA2kS4uL7vB9nC3dX6fY8hJ1qR4tU7wZ0aI3oP\n";
    let block = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----");
    let text = format!("key.pem:\n{block}\nend\n");
    let found = scan(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].matched(&text), block);
    assert_eq!(found[0].severity, rampart_core::Severity::Critical);
    assert!(
        found[0].explanation.starts_with("RSA private key (PKCS#1)"),
        "{}",
        found[0].explanation
    );

    // Truncated: no END line. Still reported, with a lower score.
    let cut = format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}");
    let found = scan(&cut);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].explanation.contains("truncated") && found[0].score < 0.95);

    // Mismatched END label: broken armour, not reported as a complete key.
    let mismatched = format!("-----BEGIN EC PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----");
    assert!(
        scan(&mismatched)
            .iter()
            .all(|f| f.matched(&mismatched) != mismatched)
    );
}

#[test]
fn findings_in_the_normalised_view_map_back_to_the_original() {
    // A zero-width space splits the token in the original; the normalised view has it whole.
    let token = github_token("ghp_", "Zt3kQ9mWx2LpR7vB4nY8cD1fG6hJ0s");
    let (a, b) = token.split_at(10);
    let original = format!("token {a}\u{200B}{b} end");
    let zw = original.find('\u{200B}').unwrap();
    let mut map = OffsetMap::new();
    map.push_verbatim(0..zw);
    map.push_replaced(zw..zw + 3, 0);
    map.push_verbatim(zw + 3..original.len());
    let normalized = format!("token {token} end");
    assert_eq!(map.view_len(), normalized.len());
    let views = Views {
        normalized: Some(View {
            kind: ViewKind::Normalized,
            text: normalized,
            map,
        }),
        decoded: Vec::new(),
    };
    let s = scanner("");
    let mut out = Vec::new();
    s.scan(
        &Input {
            text: &original,
            views: &views,
            direction: Direction::Input,
        },
        &mut out,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].matched(&original), format!("{a}\u{200B}{b}"));
    assert!(out[0].explanation.contains("normalisation"));
}

#[test]
fn ordinary_text_has_no_findings() {
    let text = include_str!("../../tests/fixtures/secrets/clean.txt");
    let found = scan(text);
    assert!(
        found.is_empty(),
        "{:#?}",
        found
            .iter()
            .map(|f| (&f.name, f.matched(text)))
            .collect::<Vec<_>>()
    );
}

#[test]
fn adversarial_repetition_stays_bounded() {
    // Many keywords, no secrets: merged windows keep this linear; the test just has to finish and find nothing.
    let text = "ghp_ sk-ant- password= token: eyJ -----BEGIN ".repeat(20_000);
    assert!(scan(&text).is_empty());
    let text = "eyJ".repeat(100_000);
    assert!(scan(&text).is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let found = scan(&text);
        assert_well_formed(&text, &found);
    }

    #[test]
    fn secret_shaped_text_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just("ghp_".to_owned()), Just("sk-proj-".to_owned()), Just("eyJ".to_owned()), Just(".".to_owned()),
        Just("password=".to_owned()), Just("-----BEGIN RSA PRIVATE KEY-----\n".to_owned()),
        Just("-----END RSA PRIVATE KEY-----".to_owned()), Just("postgres://u:".to_owned()), Just("@h/".to_owned()),
        Just("é".to_owned()), Just("\u{200B}".to_owned()), Just("ẞ".to_owned()),
        "[A-Za-z0-9+/=_-]{1,40}",
    ], 0..30)) {
        let text = parts.concat();
        let found = scan(&text);
        assert_well_formed(&text, &found);
    }
}

/// CPU seconds used by the calling thread (from /proc), so that a busy machine does not distort throughput.
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat(5); after the command name they sit at 11 and 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// Throughput on clean text. Run:
/// `cargo test --release -p rampart-detect --lib secrets::tests::speed -- --ignored --nocapture`
#[test]
#[ignore = "timing; run by hand in release mode"]
fn speed() {
    let fixture = include_str!("../../tests/fixtures/secrets/clean.txt");
    let prose = &fixture[..fixture.find("```rust").unwrap_or(fixture.len())];
    let s = scanner("");
    let views = Views::default();
    for (what, base) in [
        ("English/German prose", prose),
        ("mixed fixture (code, hashes, base64)", fixture),
    ] {
        let mut text = String::new();
        while text.len() < 5 << 20 {
            text.push_str(base);
        }
        let input = Input {
            text: &text,
            views: &views,
            direction: Direction::Input,
        };
        let mut out = Vec::new();
        s.scan(&input, &mut out);
        let rounds = 20;
        let (wall, cpu) = (std::time::Instant::now(), thread_cpu_seconds());
        for _ in 0..rounds {
            out.clear();
            s.scan(&input, &mut out);
        }
        let (wall, cpu) = (wall.elapsed().as_secs_f64(), thread_cpu_seconds() - cpu);
        let mb = (text.len() * rounds) as f64 / 1e6;
        println!(
            "secrets on {what}: {:.0} MB/s of CPU time ({:.0} MB/s wall), {} findings",
            mb / cpu.max(1e-9),
            mb / wall,
            out.len()
        );
    }
}

/// Rule regexes run in byte mode, where `\S{4,128}` counts bytes: a cap that falls inside a multi-byte
/// character must still give a finding, snapped to the last whole character.
#[test]
fn byte_mode_caps_snap_to_char_boundaries() {
    let s = scanner(r#"rules = ["SEC0239"]"#);
    let cycle = ["Q", "é", "7", "ü", "k", "ñ", "Z", "ø"];
    let value: String = cycle.iter().cycle().take(100).copied().collect();
    let text = format!("machine api.acme.io login deploy password {value}\n");
    let found = scan_with(&s, &text);
    assert_eq!(found.len(), 1, "{found:?}");
    let span = found[0].span;
    let start = text.find(&value).unwrap();
    // 128 bytes of the value end inside the 11th `ñ`; the finding stops after the `k` before it.
    assert_eq!(span.start, start);
    assert_eq!(span.end, start + 127);
    assert!(text[span.start..span.end].ends_with('k'));
}

/// The compiled rules' heap footprint, with headroom. A rule that compiles to an outsized automaton (a
/// Unicode class under a large bounded repetition, a one-pass table) trips this before it reaches a release.
/// The figure is deterministic: `regex_automata`'s own accounting, not a process measurement
/// (`cargo test -p rampart-detect memory_budget -- --nocapture` prints it).
#[test]
fn compiled_rules_stay_within_memory_budget() {
    // 13.0 MiB in use (about 50 MiB before rules were compiled in byte mode). Raise it deliberately when the
    // rule set grows, not to make a single new rule fit.
    const BUDGET: usize = 17 << 20;
    let compiled = compiled().unwrap();
    let used = compiled.memory_usage();
    assert!(
        used <= BUDGET,
        "secrets rules use {} KiB, budget {} KiB",
        used >> 10,
        BUDGET >> 10
    );
    // No single rule may take a large share of the budget either.
    for rule in &compiled.rules {
        if let Matcher::Regex { re, .. } = &rule.matcher {
            let one = re.memory_usage() + re.create_cache().memory_usage();
            assert!(one <= 2 << 20, "{} uses {} KiB", rule.def.id, one >> 10);
        }
    }
    eprintln!("secrets rules: {} KiB of {} KiB", used >> 10, BUDGET >> 10);
}
