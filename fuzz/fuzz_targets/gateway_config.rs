//! Gateway configuration files: any TOML text gives a config or a clear error, never a panic; a config that
//! loads also yields its effective roles.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_gateway::GatewayConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match GatewayConfig::from_toml(text) {
        Ok(config) => {
            assert!(config.effective_roles().contains_key("default"));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
