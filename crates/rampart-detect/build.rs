//! Compiles the PII gazetteers under `src/pii/data/` into fst maps in `OUT_DIR`, so that loading them at run
//! time is a pointer cast and lookups walk a compact automaton instead of a hash table of strings.

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

// Token flags; keep in sync with `pii/names.rs`.
const FIRST: u64 = 1;
const LAST: u64 = 2;
const COMMON: u64 = 4;
const STOP: u64 = 8;

// Phrase flags; keep in sync with `pii/names.rs`.
const COUNTRY: u64 = 1;
const STATE: u64 = 2;
const REGION: u64 = 4;
const CITY_LARGE: u64 = 8;
const CITY_MID: u64 = 16;
const CITY_SMALL: u64 = 32;
const ORG: u64 = 64;

fn main() {
    let data = Path::new("src/pii/data");
    println!("cargo::rerun-if-changed=src/pii/data");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    let mut tokens: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for (file, flag) in [
        ("first_names.txt", FIRST),
        ("last_names.txt", LAST),
        ("common_words.txt", COMMON),
        ("stop_words.txt", STOP),
    ] {
        for line in lines(&data.join(file)) {
            for word in line.split_whitespace() {
                *tokens.entry(normalise(word).into_bytes()).or_default() |= flag;
            }
        }
    }

    let mut phrases: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for line in lines(&data.join("locations.tsv")) {
        let (name, kinds) = line.split_once('\t').unwrap_or((line.as_str(), ""));
        let mut flags = 0;
        for k in kinds.chars() {
            flags |= match k {
                'C' => COUNTRY,
                'S' => STATE,
                'R' => REGION,
                'L' => CITY_LARGE,
                'M' => CITY_MID,
                'T' => CITY_SMALL,
                other => panic!("locations.tsv: unknown kind {other:?} for {name:?}"),
            };
        }
        *phrases.entry(normalise(name).into_bytes()).or_default() |= flags;
    }
    for (file, flag) in [("regions.txt", REGION), ("organizations.txt", ORG)] {
        for line in lines(&data.join(file)) {
            *phrases.entry(normalise(&line).into_bytes()).or_default() |= flag;
        }
    }

    write_map(&out.join("pii_tokens.fst"), &tokens);
    write_map(&out.join("pii_phrases.fst"), &phrases);
}

/// Non-empty, non-comment lines of a data file.
fn lines(path: &Path) -> Vec<String> {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Same normalisation the recogniser applies while walking the automaton: lower case, typographic apostrophe
/// folded, periods and commas dropped, words separated by one space.
fn normalise(s: &str) -> String {
    let folded: String = s
        .chars()
        .map(|c| match c {
            '\u{2019}' => '\'',
            '.' | ',' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn write_map(path: &Path, entries: &BTreeMap<Vec<u8>, u64>) {
    let mut builder = fst::MapBuilder::memory();
    for (key, value) in entries {
        if !key.is_empty() {
            builder
                .insert(key, *value)
                .expect("keys are sorted and unique");
        }
    }
    let bytes = builder.into_inner().expect("in-memory fst");
    fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
