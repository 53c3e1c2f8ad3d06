//! Set-up shared by the tests that run the `rampart` binary as a gateway.

use std::path::Path;
use std::process::Command;

/// Creates a key for `role` in `data_dir` with `rampart keys create` and returns it (`rk-…`).
pub fn create_key(data_dir: &Path, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["keys", "create", "--role", role, "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("rk-"))
        .unwrap_or_else(|| panic!("no key in {stdout:?}"))
        .to_owned()
}
