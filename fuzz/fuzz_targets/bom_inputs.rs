//! Every parser behind `rampart bom` and `rampart bom check` either accepts or rejects arbitrary input; never a
//! panic, never unbounded work. The first byte picks the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_supply::bom::{fuzzing, policy};

const MANIFESTS: &[&str] = &[
    "requirements.txt",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "package-lock.json",
    "Cargo.lock",
    "go.sum",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match selector % 10 {
        n @ 0..=6 => {
            let _ = fuzzing::manifest(MANIFESTS[usize::from(n)], text);
        }
        7 => {
            let _ = fuzzing::cards(text);
        }
        8 => {
            let _ = fuzzing::license(text);
            let _ = fuzzing::purl(text);
        }
        _ => {
            // A BOM checked against a policy that exercises every rule family.
            if let Ok(bom) = policy::read_bom(text) {
                let p = policy::Policy::from_toml(
                    "[models]\ndeny_code_execution = true\nallowed_formats = [\"safetensors\"]\n\
                     deny_verdicts = [\"dangerous\"]\nrequire_hash = true\n\
                     approved = [{ name = \"a*\", files = { x = \"0000000000000000000000000000000000000000000000000000000000000000\" } }]\n\
                     [licenses]\nallowed = [\"MIT\"]\nrequire = true\n[vendors]\nallowed = [\"*x*\"]\n\
                     [packages]\ndenied = [{ purl = \"pkg:*\" }]\n",
                )
                .expect("the fixed policy is valid");
                let report = policy::check(&bom, &p);
                let _ = report.to_text("fuzz");
            }
        }
    }
});
