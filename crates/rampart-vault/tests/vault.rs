//! Restoring, expiry, scope and sealed persistence.

mod common;

use std::time::Duration;

use common::{at, config, key};
use rampart_core::Operator;
use rampart_vault::{Anonymizer, MAGIC, Vault, VaultError};

/// A vault holding two e-mail placeholders and a person, with the anonymised text.
fn filled(scope: Option<&str>) -> (Vault, String, String) {
    let text = "From ana@example.com to bo@example.org about Ana Lima.".to_owned();
    let findings = [
        at(&text, "ana@example.com", "EMAIL_ADDRESS", 0.9),
        at(&text, "bo@example.org", "EMAIL_ADDRESS", 0.9),
        at(&text, "Ana Lima", "PERSON", 0.7),
    ];
    let mut vault = Vault::new();
    if let Some(s) = scope {
        vault = vault.with_scope(s);
    }
    let anonymizer = Anonymizer::new(&config(Operator::Replace), None).expect("anonymizer");
    let safe = anonymizer.anonymize(&text, &findings, &mut vault);
    assert_eq!(
        safe,
        "From <EMAIL_ADDRESS_1> to <EMAIL_ADDRESS_2> about <PERSON_1>."
    );
    (vault, text, safe)
}

#[test]
fn restore_replaces_known_and_keeps_unknown_placeholders() {
    let (vault, _, _) = filled(None);
    let answer = "Dear <PERSON_1>, I wrote to <EMAIL_ADDRESS_2> (not <EMAIL_ADDRESS_3>, nor EMAIL_ADDRESS_1, \
                  nor <<EMAIL_ADDRESS_1>>).";
    assert_eq!(
        vault.restore(answer),
        "Dear Ana Lima, I wrote to bo@example.org (not <EMAIL_ADDRESS_3>, nor EMAIL_ADDRESS_1, nor \
         <ana@example.com>)."
    );
    assert_eq!(vault.restore(""), "");
    assert_eq!(
        vault.restore("no placeholders < here >"),
        "no placeholders < here >"
    );
    assert_eq!(vault.max_placeholder_len(), "<EMAIL_ADDRESS_1>".len());
}

#[test]
fn restore_does_not_reinterpret_restored_values() {
    // An original that itself looks like a placeholder is put back verbatim, never expanded again.
    let text = "user typed <PERSON_1> as a name";
    let mut vault = Vault::new();
    let anonymizer = Anonymizer::new(&config(Operator::Replace), None).unwrap();
    let safe = anonymizer.anonymize(text, &[at(text, "<PERSON_1>", "PERSON", 0.9)], &mut vault);
    assert_eq!(safe, "user typed <PERSON_2> as a name");
    assert_eq!(vault.restore(&safe), text);
}

#[test]
fn expired_vault_leaves_placeholders_and_says_so() {
    let (vault, _, safe) = filled(None);
    let vault = vault.with_ttl(Duration::ZERO);
    assert!(vault.is_expired());
    assert_eq!(vault.restore(&safe), safe);
    assert!(matches!(vault.try_restore(&safe), Err(VaultError::Expired)));
    assert_eq!(vault.restore_with_key(&safe, &key(1)), safe);

    let (live, text, safe) = filled(None);
    let live = live.with_ttl(Duration::from_secs(3600));
    assert!(!live.is_expired());
    assert!(live.expires_at().unwrap() > live.created_at());
    assert_eq!(live.try_restore(&safe).unwrap(), text);
}

#[test]
fn seal_and_open_round_trip() {
    let (vault, text, safe) = filled(Some("req-42"));
    let vault = vault.with_ttl(Duration::from_secs(600));
    let k = key(3);
    let sealed = vault.seal(&k).unwrap();
    assert_eq!(&sealed[..4], MAGIC);
    assert!(
        !String::from_utf8_lossy(&sealed).contains("ana@"),
        "payload must be encrypted"
    );
    assert_ne!(
        sealed,
        vault.seal(&k).unwrap(),
        "each sealing uses a fresh nonce"
    );

    let opened = Vault::open(&sealed, &k, Some("req-42")).unwrap();
    assert_eq!(opened.restore(&safe), text);
    assert_eq!(opened.scope(), Some("req-42"));
    assert_eq!(opened.created_at(), vault.created_at());
    assert_eq!(opened.expires_at(), vault.expires_at());
    assert_eq!(opened.max_placeholder_len(), vault.max_placeholder_len());
    assert_eq!(Vault::open(&sealed, &k, None).unwrap().len(), 3);

    // Numbering carries on after reopening.
    let mut opened = opened;
    let anonymizer = Anonymizer::new(&config(Operator::Replace), None).unwrap();
    let t = "bo@example.org and cy@example.net";
    let more = anonymizer.anonymize(
        t,
        &[
            at(t, "bo@example.org", "EMAIL_ADDRESS", 0.9),
            at(t, "cy@example.net", "EMAIL_ADDRESS", 0.9),
        ],
        &mut opened,
    );
    assert_eq!(more, "<EMAIL_ADDRESS_2> and <EMAIL_ADDRESS_3>");
}

#[test]
fn empty_vault_seals() {
    let k = key(4);
    let opened = Vault::open(&Vault::new().seal(&k).unwrap(), &k, None).unwrap();
    assert!(opened.is_empty());
    assert_eq!(opened.scope(), None);
}

#[test]
fn wrong_key_is_refused() {
    let (vault, _, _) = filled(None);
    let sealed = vault.seal(&key(3)).unwrap();
    let err = Vault::open(&sealed, &key(4), None).unwrap_err();
    assert!(matches!(err, VaultError::Decrypt), "{err:?}");
    assert!(err.to_string().contains("wrong key"));
}

#[test]
fn truncated_files_are_refused() {
    let (vault, _, _) = filled(None);
    let sealed = vault.seal(&key(3)).unwrap();
    for cut in [0, 3, 4, 8, 9, 20, sealed.len() / 2, sealed.len() - 1] {
        let err = Vault::open(&sealed[..cut], &key(3), None).unwrap_err();
        assert!(
            matches!(err, VaultError::Truncated { len, .. } if len == cut),
            "cut {cut}: {err:?}"
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(matches!(
        Vault::open(&longer, &key(3), None),
        Err(VaultError::Corrupt(_))
    ));
}

#[test]
fn every_flipped_byte_is_detected() {
    let (vault, _, _) = filled(None);
    let sealed = vault.seal(&key(3)).unwrap();
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        let err = Vault::open(&bad, &key(3), None).unwrap_err();
        let expected = match i {
            0..=3 => matches!(err, VaultError::BadMagic),
            4 => matches!(
                err,
                VaultError::UnsupportedVersion {
                    found: 0,
                    supported: 1
                }
            ),
            // Length field: a flipped bit announces more or fewer bytes than there are.
            5..=8 => matches!(err, VaultError::Truncated { .. } | VaultError::Corrupt(_)),
            _ => matches!(err, VaultError::Decrypt),
        };
        assert!(expected, "byte {i}: {err:?}");
    }
}

#[test]
fn other_format_version_is_refused_clearly() {
    let sealed = Vault::new().seal(&key(3)).unwrap();
    let mut v2 = sealed.clone();
    v2[4] = 2;
    let err = Vault::open(&v2, &key(3), None).unwrap_err();
    assert!(matches!(
        err,
        VaultError::UnsupportedVersion {
            found: 2,
            supported: 1
        }
    ));
    assert!(err.to_string().contains("version 2"), "{err}");
    let err = Vault::open(b"PK\x03\x04 not a vault at all", &key(3), None).unwrap_err();
    assert!(matches!(err, VaultError::BadMagic));
}

#[test]
fn wrong_scope_is_refused() {
    let (vault, _, _) = filled(Some("tenant-a/req-1"));
    let sealed = vault.seal(&key(3)).unwrap();
    let err = Vault::open(&sealed, &key(3), Some("tenant-b/req-1")).unwrap_err();
    assert!(matches!(err, VaultError::ScopeMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("tenant-b/req-1"), "{err}");

    let unscoped = Vault::new().seal(&key(3)).unwrap();
    let err = Vault::open(&unscoped, &key(3), Some("req-1")).unwrap_err();
    assert!(err.to_string().contains("no scope"), "{err}");
}

#[test]
fn save_and_load_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conversation.rvlt");
    let (vault, text, safe) = filled(Some("conv-7"));
    vault.save(&path, &key(5)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Overwrites atomically and leaves no temporary file behind.
    vault.save(&path, &key(5)).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["conversation.rvlt"]);

    let loaded = Vault::load(&path, &key(5), Some("conv-7")).unwrap();
    assert_eq!(loaded.restore(&safe), text);
    assert!(matches!(
        Vault::load(&path, &key(6), None),
        Err(VaultError::Decrypt)
    ));
    assert!(matches!(
        Vault::load(dir.path().join("missing"), &key(5), None),
        Err(VaultError::Io(_))
    ));
    assert!(matches!(
        vault.save(dir.path().join("no/such/dir/v"), &key(5)),
        Err(VaultError::Io(_))
    ));
}

#[test]
fn encrypt_tokens_and_placeholders_restore_together() {
    let mut entities = std::collections::BTreeMap::new();
    entities.insert("US_SSN".to_owned(), Operator::Encrypt);
    let cfg = rampart_core::RedactConfig {
        operator: Operator::Replace,
        entities,
        key_env: None,
    };
    let anonymizer = Anonymizer::new(&cfg, Some(key(2))).unwrap();
    let text = "ana@example.com has SSN 078-05-1120";
    let findings = [
        at(text, "ana@example.com", "EMAIL_ADDRESS", 0.9),
        at(text, "078-05-1120", "US_SSN", 0.9),
    ];
    let mut vault = Vault::new();
    let safe = anonymizer.anonymize(text, &findings, &mut vault);
    assert!(
        safe.starts_with("<EMAIL_ADDRESS_1> has SSN <US_SSN:enc:"),
        "{safe}"
    );
    assert!(vault.max_placeholder_len() > "<EMAIL_ADDRESS_1>".len());
    assert_eq!(anonymizer.restore(&safe, &vault), text);
    // Sealed and reopened elsewhere, the vault restores placeholders, and the key adds the encrypted values.
    let opened = Vault::open(
        &vault.seal(anonymizer.key()).unwrap(),
        anonymizer.key(),
        None,
    )
    .unwrap();
    assert!(
        opened
            .restore(&safe)
            .starts_with("ana@example.com has SSN <US_SSN:enc:")
    );
    assert_eq!(opened.with_key(anonymizer.key()).restore(&safe), text);
}

#[test]
fn restore_is_linear_on_pathological_text() {
    let (vault, _, _) = filled(None);
    let vault = vault.with_key(&key(1));
    let text = "<".repeat(300_000) + &"<EMAIL_ADDRESS_1".repeat(20_000) + &">".repeat(300_000);
    let start = std::time::Instant::now();
    let out = vault.restore(&text);
    // Only the last run is closed, so only it is a placeholder.
    assert_eq!(out.matches("ana@example.com").count(), 1);
    assert!(out.contains("<EMAIL_ADDRESS_1ana@example.com>>"));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}
