//! Each operator, entity labels, numbering and overlap resolution.

mod common;

use std::collections::BTreeMap;

use common::{at, config, key, span};
use rampart_core::{Operator, RedactConfig};
use rampart_vault::{Anonymizer, REDACTED, Vault, VaultError};

fn run(op: Operator, text: &str, findings: &[rampart_core::Finding]) -> (String, Vault) {
    let anonymizer = Anonymizer::new(&config(op), Some(key(7))).expect("anonymizer");
    let mut vault = Vault::new();
    let out = anonymizer.anonymize(text, findings, &mut vault);
    (out, vault)
}

#[test]
fn replace_numbers_per_entity_and_reuses_placeholders() {
    let text = "a@x.io wrote to b@y.io, cc a@x.io; call 555-0100";
    let findings = [
        at(text, "a@x.io", "EMAIL_ADDRESS", 0.9),
        at(text, "b@y.io", "EMAIL_ADDRESS", 0.9),
        span(
            text.rfind("a@x.io").unwrap(),
            text.rfind("a@x.io").unwrap() + 6,
            Some("EMAIL_ADDRESS"),
            "e",
            0.9,
        ),
        at(text, "555-0100", "PHONE_NUMBER", 0.8),
    ];
    let (out, vault) = run(Operator::Replace, text, &findings);
    assert_eq!(
        out,
        "<EMAIL_ADDRESS_1> wrote to <EMAIL_ADDRESS_2>, cc <EMAIL_ADDRESS_1>; call <PHONE_NUMBER_1>"
    );
    assert_eq!(vault.len(), 3);
    assert_eq!(vault.original("<EMAIL_ADDRESS_2>"), Some("b@y.io"));
    assert_eq!(vault.restore(&out), text);
}

#[test]
fn replace_is_consistent_across_calls_with_one_vault() {
    let anonymizer = Anonymizer::new(&config(Operator::Replace), None).unwrap();
    let mut vault = Vault::new();
    let first = "mail jane@example.com";
    let second = "mail joe@example.com and jane@example.com";
    let a = anonymizer.anonymize(
        first,
        &[at(first, "jane@example.com", "EMAIL_ADDRESS", 0.9)],
        &mut vault,
    );
    let b = anonymizer.anonymize(
        second,
        &[
            at(second, "joe@example.com", "EMAIL_ADDRESS", 0.9),
            at(second, "jane@example.com", "EMAIL_ADDRESS", 0.9),
        ],
        &mut vault,
    );
    assert_eq!(a, "mail <EMAIL_ADDRESS_1>");
    assert_eq!(b, "mail <EMAIL_ADDRESS_2> and <EMAIL_ADDRESS_1>");
}

#[test]
fn label_falls_back_to_rule_name() {
    let text = "key AKIAIOSFODNN7EXAMPLE here";
    let f = span(4, 24, None, "aws-access-key-id", 0.99);
    let (out, _) = run(Operator::Replace, text, &[f]);
    assert_eq!(out, "key <AWS_ACCESS_KEY_ID_1> here");
}

#[test]
fn placeholders_typed_by_the_user_are_not_reused() {
    let text = "template <EMAIL_ADDRESS_1> for jane@example.com";
    let (out, vault) = run(
        Operator::Replace,
        text,
        &[at(text, "jane@example.com", "EMAIL_ADDRESS", 0.9)],
    );
    assert_eq!(out, "template <EMAIL_ADDRESS_1> for <EMAIL_ADDRESS_2>");
    // The literal stays literal on the way back.
    assert_eq!(vault.restore(&out), text);
}

#[test]
fn mask_operator() {
    let text = "card 4111 1111 1111 1111, mail jane.doe@example.com, pin 1234";
    let findings = [
        at(text, "4111 1111 1111 1111", "CREDIT_CARD", 0.95),
        at(text, "jane.doe@example.com", "EMAIL_ADDRESS", 0.9),
        at(text, "1234", "PIN", 0.5),
    ];
    let (out, vault) = run(Operator::Mask, text, &findings);
    assert_eq!(
        out,
        "card **** **** **** 1111, mail j***@example.com, pin ****"
    );
    assert!(
        vault.is_empty(),
        "masking is not reversible and records nothing"
    );
}

#[test]
fn redact_operator() {
    let text = "ssn 078-05-1120 and jane@example.com";
    let findings = [
        at(text, "078-05-1120", "US_SSN", 0.9),
        at(text, "jane@example.com", "EMAIL_ADDRESS", 0.9),
    ];
    let (out, vault) = run(Operator::Redact, text, &findings);
    assert_eq!(out, format!("ssn {REDACTED} and {REDACTED}"));
    assert_eq!(vault.restore(&out), out);
}

#[test]
fn hash_is_keyed_stable_and_short() {
    let text = "jane@example.com and jane@example.com and joe@example.com";
    let findings = [
        span(0, 16, Some("EMAIL_ADDRESS"), "email", 0.9),
        span(21, 37, Some("EMAIL_ADDRESS"), "email", 0.9),
        at(text, "joe@example.com", "EMAIL_ADDRESS", 0.9),
    ];
    let (out, vault) = run(Operator::Hash, text, &findings);
    let tokens: Vec<&str> = out.split(" and ").collect();
    assert_eq!(tokens.len(), 3);
    assert_eq!(tokens[0], tokens[1]);
    assert_ne!(tokens[0], tokens[2]);
    let hex = tokens[0]
        .strip_prefix("<EMAIL_ADDRESS:")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap();
    assert_eq!(hex.len(), 12);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    // Same key, new request: same token. Other key: different token.
    let (again, _) = run(Operator::Hash, text, &findings);
    assert_eq!(again, out);
    let other = Anonymizer::new(&config(Operator::Hash), Some(key(8))).unwrap();
    assert_ne!(other.anonymize(text, &findings, &mut Vault::new()), out);
    // The entity type is part of the hash: the same digits as a phone and as an id differ.
    let t = "5550100 5550100";
    let two = [
        span(0, 7, Some("PHONE_NUMBER"), "p", 0.9),
        span(8, 15, Some("ID"), "i", 0.9),
    ];
    let (h, _) = run(Operator::Hash, t, &two);
    let (p, i) = h.split_once(' ').unwrap();
    assert_ne!(p.split(':').nth(1), i.split(':').nth(1));
    assert_eq!(vault.restore(&out), out, "hashes are not reversible");
}

#[test]
fn encrypt_is_deterministic_and_reversible_with_the_key() {
    let text = "jane@example.com met jane@example.com";
    let findings = [
        span(0, 16, Some("EMAIL_ADDRESS"), "email", 0.9),
        span(21, 37, Some("EMAIL_ADDRESS"), "email", 0.9),
    ];
    let (out, vault) = run(Operator::Encrypt, text, &findings);
    let (a, b) = out.split_once(" met ").unwrap();
    assert_eq!(a, b);
    assert!(
        a.starts_with("<EMAIL_ADDRESS:enc:") && a.ends_with('>'),
        "{a}"
    );
    assert!(!out.contains("jane"));
    assert_eq!(vault.max_placeholder_len(), a.len());
    // Without a key the vault cannot read the tokens; with it, a fresh empty vault can.
    assert_eq!(vault.restore(&out), out);
    assert_eq!(Vault::new().restore_with_key(&out, &key(7)), text);
    assert_eq!(Vault::new().with_key(&key(7)).restore(&out), text);
    let anonymizer = Anonymizer::new(&config(Operator::Encrypt), Some(key(7))).unwrap();
    assert_eq!(anonymizer.restore(&out, &Vault::new()), text);
    // Another key fails authentication and leaves the token alone.
    assert_eq!(Vault::new().restore_with_key(&out, &key(9)), out);
}

#[test]
fn tampered_or_relabelled_encrypt_tokens_stay_as_they_are() {
    let text = "jane@example.com";
    let (out, _) = run(
        Operator::Encrypt,
        text,
        &[span(0, 16, Some("EMAIL_ADDRESS"), "e", 0.9)],
    );
    let relabelled = out.replace("<EMAIL_ADDRESS:", "<PERSON:");
    assert_eq!(
        Vault::new().restore_with_key(&relabelled, &key(7)),
        relabelled
    );
    let payload_at = out.len() - 5;
    let mut bytes = out.clone().into_bytes();
    bytes[payload_at] = if bytes[payload_at] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let flipped = String::from_utf8(bytes).unwrap();
    assert_eq!(Vault::new().restore_with_key(&flipped, &key(7)), flipped);
    for junk in [
        "<X:enc:>",
        "<X:enc:!!!>",
        "<X:enc:AAAA>",
        "<:enc:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA>",
    ] {
        assert_eq!(Vault::new().restore_with_key(junk, &key(7)), junk);
    }
}

#[test]
fn per_entity_operators_override_the_default() {
    let mut entities = BTreeMap::new();
    entities.insert("credit-card".to_owned(), Operator::Mask);
    entities.insert("US_SSN".to_owned(), Operator::Redact);
    let cfg = RedactConfig {
        operator: Operator::Replace,
        entities,
        key_env: None,
    };
    let anonymizer = Anonymizer::new(&cfg, None).unwrap();
    let text = "4242424242424242 / 078-05-1120 / jane@example.com";
    let findings = [
        at(text, "4242424242424242", "CREDIT_CARD", 0.9),
        at(text, "078-05-1120", "US_SSN", 0.9),
        at(text, "jane@example.com", "EMAIL_ADDRESS", 0.9),
    ];
    let out = anonymizer.anonymize(text, &findings, &mut Vault::new());
    assert_eq!(out, "************4242 / <REDACTED> / <EMAIL_ADDRESS_1>");
}

#[test]
fn conflicting_entity_spellings_are_refused() {
    let mut entities = BTreeMap::new();
    entities.insert("credit-card".to_owned(), Operator::Mask);
    entities.insert("CREDIT_CARD".to_owned(), Operator::Hash);
    let cfg = RedactConfig {
        operator: Operator::Replace,
        entities,
        key_env: None,
    };
    let err = Anonymizer::new(&cfg, None).unwrap_err();
    assert!(matches!(err, VaultError::Config(_)), "{err}");
    assert!(err.to_string().contains("CREDIT_CARD"));
}

#[test]
fn overlaps_keep_the_strongest_then_longest_then_earliest() {
    let text = "see https://jane@example.com/x now";
    let url = at(text, "https://jane@example.com/x", "URL", 0.6);
    let email = at(text, "jane@example.com", "EMAIL_ADDRESS", 0.9);
    let (out, _) = run(Operator::Replace, text, &[url.clone(), email.clone()]);
    assert_eq!(out, "see https://<EMAIL_ADDRESS_1>/x now");

    // Equal scores: the longer span wins.
    let mut url_eq = url.clone();
    url_eq.score = 0.9;
    let (out, _) = run(Operator::Replace, text, &[email.clone(), url_eq]);
    assert_eq!(out, "see <URL_1> now");

    // Equal score and length: the earlier span wins, whatever the input order.
    let t = "abcdef";
    let (out, _) = run(
        Operator::Redact,
        t,
        &[
            span(2, 5, Some("B"), "b", 0.5),
            span(1, 4, Some("A"), "a", 0.5),
        ],
    );
    assert_eq!(out, "a<REDACTED>ef");

    // Same span reported twice, and adjacent spans that do not overlap.
    let (out, _) = run(
        Operator::Replace,
        t,
        &[
            span(0, 3, Some("X"), "x", 0.5),
            span(0, 3, Some("X"), "x", 0.7),
            span(3, 6, Some("Y"), "y", 0.5),
        ],
    );
    assert_eq!(out, "<X_1><Y_1>");
}

#[test]
fn bad_spans_are_ignored() {
    let text = "héllo wörld";
    let findings = [
        span(2, 4, Some("MID_CHAR"), "m", 0.9), // é spans bytes 1..3: 2 is inside it
        span(5, 500, Some("OUT"), "o", 0.9),
        span(4, 4, Some("EMPTY"), "e", 0.9),
        span(9, 3, Some("REVERSED"), "r", 0.9),
        span(usize::MAX - 1, usize::MAX, Some("HUGE"), "h", 0.9),
        span(7, 13, Some("WORD"), "w", f32::NAN),
    ];
    let (out, vault) = run(Operator::Replace, text, &findings);
    assert_eq!(out, "héllo <WORD_1>");
    assert_eq!(vault.len(), 1);
}

#[test]
fn unicode_values_round_trip() {
    let text = "名前: 山田太郎, メール: 太郎@例え.jp";
    let findings = [
        at(text, "山田太郎", "PERSON", 0.8),
        at(text, "太郎@例え.jp", "EMAIL_ADDRESS", 0.9),
    ];
    let (out, vault) = run(Operator::Replace, text, &findings);
    assert_eq!(out, "名前: <PERSON_1>, メール: <EMAIL_ADDRESS_1>");
    assert_eq!(vault.restore(&out), text);
    let (masked, _) = run(Operator::Mask, text, &findings);
    assert_eq!(masked, "名前: ****, メール: 太***@例え.jp");
}

#[test]
fn debug_output_leaks_neither_key_nor_values() {
    let anonymizer = Anonymizer::new(&config(Operator::Replace), Some(key(0xab))).unwrap();
    let mut vault = Vault::new();
    anonymizer.anonymize(
        "jane@example.com",
        &[span(0, 16, Some("EMAIL_ADDRESS"), "e", 0.9)],
        &mut vault,
    );
    let shown = format!("{anonymizer:?} {vault:?} {:?}", anonymizer.key());
    assert!(!shown.contains("jane"), "{shown}");
    assert!(!shown.to_lowercase().contains("abab"), "{shown}");
    assert!(!shown.contains("171, 171"), "{shown}");
}

#[test]
fn shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Anonymizer>();
    send_sync::<Vault>();
    send_sync::<rampart_vault::Key>();
}
