//! The rule file's schema and its compilation into matchers.
//!
//! `rules.toml` is parsed and compiled once per process; scanners built from different policies share the
//! compiled table and differ only in which rules they enable.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_automata::meta::{self, Regex};
use serde::Deserialize;

use rampart_core::Severity;

/// The embedded rule data.
pub(crate) const RULES_TOML: &str = include_str!("rules.toml");

/// Entities a secrets finding may carry; `rampart eval secrets` scores against exactly these.
pub(crate) const ENTITIES: &[&str] = &[
    "API_KEY",
    "PRIVATE_KEY",
    "JWT",
    "CONNECTION_STRING",
    "PASSWORD",
];

/// Bytes searched before a keyword when a rule does not say otherwise: enough for `export AWS_..._KEY="`.
const DEFAULT_BEFORE: usize = 64;
/// Bytes searched after a keyword's start when a rule does not say otherwise.
const DEFAULT_AFTER: usize = 256;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<RuleDef>,
}

/// One `[[rule]]` table as written in `rules.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDef {
    pub id: String,
    pub name: String,
    pub entity: String,
    pub severity: Severity,
    pub score: f32,
    pub label: String,
    pub description: String,
    pub regex: Option<String>,
    pub detector: Option<String>,
    pub keywords: Vec<String>,
    pub secret_group: Option<usize>,
    pub value_group: Option<usize>,
    pub min_entropy: Option<f64>,
    pub validate: Option<String>,
    #[serde(default)]
    pub generic: bool,
    pub before: Option<usize>,
    pub after: Option<usize>,
    #[serde(default)]
    pub min_run: usize,
    pub examples: Examples,
}

/// Positive and negative examples, checked by the `rule_examples` test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Examples {
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    pub no_match: Vec<String>,
}

/// How a rule finds candidates inside its window.
#[derive(Debug)]
pub(crate) enum Matcher {
    /// A regex; `secret` is the group reported, `value` the group judged (placeholders, entropy).
    Regex {
        re: Regex,
        secret: usize,
        value: usize,
        key: Option<usize>,
    },
    /// PEM armour (`-----BEGIN … PRIVATE KEY-----`); `pgp` selects OpenPGP blocks instead of the others.
    Pem { pgp: bool },
    /// A PuTTY `.ppk` file.
    Putty,
}

/// Named validators written in code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Validator {
    /// GitHub-style tokens: the last 6 base62 characters are the CRC32 of the 30 before them.
    Crc32Github,
    /// JSON Web Token: header and payload must decode to JSON objects and the header must name an `alg`.
    Jwt,
    /// Base64 that decodes to `user:password`.
    BasicAuth,
    /// Bech32 checksum of an age identity.
    Bech32Age,
}

impl Validator {
    fn parse(name: &str) -> Option<Validator> {
        Some(match name {
            "crc32-github" => Validator::Crc32Github,
            "jwt" => Validator::Jwt,
            "basic-auth" => Validator::BasicAuth,
            "bech32-age" => Validator::Bech32Age,
            _ => return None,
        })
    }
}

/// A compiled rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub def: RuleDef,
    pub matcher: Matcher,
    pub validator: Option<Validator>,
    pub before: usize,
    pub after: usize,
}

impl Rule {
    /// Longest span this rule may report; longer candidates are dropped so that `max_span` holds.
    pub fn max_len(&self) -> usize {
        self.before + self.after
    }
}

/// Every rule, and the keyword automaton that finds where to run them.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub rules: Vec<Rule>,
    pub automaton: AhoCorasick,
    /// For each automaton pattern, the rules that use it as a keyword.
    pub keyword_rules: Vec<Vec<u16>>,
}

impl Compiled {
    /// Heap bytes held by the compiled table: regexes, one search cache per regex (what each searching thread
    /// adds before its lazy DFA caches grow), and the keyword automaton. Deterministic for a given rule file.
    #[cfg(test)]
    pub(crate) fn memory_usage(&self) -> usize {
        let regexes: usize = self
            .rules
            .iter()
            .map(|r| match &r.matcher {
                Matcher::Regex { re, .. } => re.memory_usage() + re.create_cache().memory_usage(),
                Matcher::Pem { .. } | Matcher::Putty => 0,
            })
            .sum();
        regexes + self.automaton.memory_usage()
    }
}

/// The compiled embedded rules, or why they do not compile (a test keeps this `Ok`).
pub(crate) static COMPILED: LazyLock<Result<Compiled, (String, String)>> =
    LazyLock::new(|| compile(RULES_TOML));

/// Engines for rule regexes, chosen for memory. A rule regex searches a window of at most a few KiB around a
/// keyword, so the lazy DFA finds the match and the bounded backtracker (or the PikeVM) resolves its groups on
/// that short span. The one-pass DFA would do the latter slightly faster but is a full table per regex (about
/// half of all the rules' memory), and its speed does not matter on spans this short. (Literal prefilters stay:
/// dropping them saves about 1 MiB but costs a third of the throughput on prose, where most windows hold no
/// candidate and the prefilter is what rejects them.)
fn regex_config() -> meta::Config {
    meta::Config::new().onepass(false)
}

/// Longest keyword allowed in the rule file.
const MAX_KEYWORD_LEN: usize = 8;

/// Upper bound on rules, so per-scan bookkeeping fits in a fixed array on the stack.
pub(crate) const MAX_RULES: usize = 512;

fn err(rule: &str, message: impl Into<String>) -> (String, String) {
    (rule.to_owned(), message.into())
}

/// Parses and compiles a rule file. Errors carry the rule id and the reason.
pub(crate) fn compile(source: &str) -> Result<Compiled, (String, String)> {
    let file: RuleFile = toml::from_str(source).map_err(|e| err("rules.toml", e.to_string()))?;
    if file.rule.len() > MAX_RULES {
        return Err(err("rules.toml", format!("more than {MAX_RULES} rules")));
    }
    let mut rules = Vec::with_capacity(file.rule.len());
    let mut keywords: Vec<String> = Vec::new();
    let mut keyword_rules: Vec<Vec<u16>> = Vec::new();
    let mut seen_ids = std::collections::HashSet::new();
    let mut seen_names = std::collections::HashSet::new();
    for (index, def) in file.rule.into_iter().enumerate() {
        let id = def.id.clone();
        if !seen_ids.insert(id.clone()) {
            return Err(err(&id, "duplicate id"));
        }
        if !seen_names.insert(def.name.clone()) {
            return Err(err(&id, format!("duplicate name `{}`", def.name)));
        }
        if !is_kebab(&def.name) {
            return Err(err(&id, format!("name `{}` is not kebab-case", def.name)));
        }
        if !ENTITIES.contains(&def.entity.as_str()) {
            return Err(err(&id, format!("unknown entity `{}`", def.entity)));
        }
        if !(0.0..=1.0).contains(&def.score) {
            return Err(err(&id, "score must be in 0.0..=1.0"));
        }
        if def.keywords.is_empty() {
            return Err(err(&id, "a rule needs at least one keyword"));
        }
        if def.examples.matches.is_empty() || def.examples.no_match.is_empty() {
            return Err(err(
                &id,
                "a rule needs at least one match and one no_match example",
            ));
        }
        let matcher = match (&def.regex, def.detector.as_deref()) {
            (Some(pattern), None) => {
                let re = crate::util::compile_rule_regex(pattern, regex_config())
                    .map_err(|e| err(&id, format!("regex: {e}")))?;
                let groups = re.captures_len();
                let secret = def.secret_group.unwrap_or(0);
                let value = def.value_group.unwrap_or(secret);
                if secret >= groups || value >= groups {
                    return Err(err(
                        &id,
                        format!("capture group out of range (the regex has {groups})"),
                    ));
                }
                let key = re
                    .group_info()
                    .to_index(regex_automata::util::primitives::PatternID::ZERO, "key");
                Matcher::Regex {
                    re,
                    secret,
                    value,
                    key,
                }
            }
            (None, Some("pem")) => Matcher::Pem {
                pgp: def.name.contains("pgp"),
            },
            (None, Some("putty")) => Matcher::Putty,
            (None, Some(other)) => return Err(err(&id, format!("unknown detector `{other}`"))),
            _ => {
                return Err(err(
                    &id,
                    "exactly one of `regex` and `detector` is required",
                ));
            }
        };
        let validator = match &def.validate {
            None => None,
            Some(name) => Some(
                Validator::parse(name)
                    .ok_or_else(|| err(&id, format!("unknown validator `{name}`")))?,
            ),
        };
        for keyword in &def.keywords {
            // Longer keywords only grow the automaton (slowing every byte of every scan) without filtering more.
            if keyword.is_empty()
                || keyword.len() > MAX_KEYWORD_LEN
                || keyword.chars().any(|c| c.is_ascii_uppercase())
            {
                return Err(err(
                    &id,
                    format!("keyword `{keyword}` must be lower-case, 1..={MAX_KEYWORD_LEN} bytes"),
                ));
            }
            let slot = match keywords.iter().position(|k| k == keyword) {
                Some(i) => i,
                None => {
                    keywords.push(keyword.clone());
                    keyword_rules.push(Vec::new());
                    keywords.len() - 1
                }
            };
            // `index` < MAX_RULES (checked above), which fits u16.
            keyword_rules[slot].push(index as u16);
        }
        rules.push(Rule {
            before: def.before.unwrap_or(DEFAULT_BEFORE),
            after: def.after.unwrap_or(DEFAULT_AFTER),
            def,
            matcher,
            validator,
        });
    }
    // Overlapping search so that a short keyword (`sk-`) never hides a longer one (`sk-ant-`) at the same place.
    let automaton = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&keywords)
        .map_err(|e| err("rules.toml", format!("keyword automaton: {e}")))?;
    Ok(Compiled {
        rules,
        automaton,
        keyword_rules,
    })
}

/// True for `lower-case-words-123`.
pub(crate) fn is_kebab(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
