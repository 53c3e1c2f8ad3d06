//! A sealed vault file from an attacker (or a disk error) is rejected with an error, never a panic; what
//! opens must restore any text without panicking.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rampart_vault::{Key, Vault};

static KEY: LazyLock<Key> = LazyLock::new(|| Key::from_bytes([7u8; 32]));

fuzz_target!(|data: &[u8]| {
    if let Ok(vault) = Vault::open(data, &KEY, None) {
        let _ = vault.restore("<EMAIL_ADDRESS_1> and <PERSON_2>");
    }
    // Restoring arbitrary text through an empty vault leaves it unchanged.
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(Vault::new().restore(text), text);
    }
});
