//! Arbitrary policy text is either rejected with an error or builds a pipeline; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(policy) = rampart_core::Policy::from_toml(text) {
        let _ = rampart_detect::Pipeline::from_policy(policy);
    }
});
