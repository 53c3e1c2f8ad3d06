//! The signature layer: `rules.toml` parsed and compiled once per process.
//!
//! One aho-corasick automaton holds every rule's keywords; a rule's regexes run only when one of its keywords
//! occurs in the text, so clean text costs one automaton pass. Regexes run over the whole text (not a window) so
//! that a bounded-gap phrase is matched the same wherever the keyword falls in it.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::Regex;
use serde::Deserialize;

use rampart_core::{Category, Severity, Span};

/// The embedded rule data.
pub(crate) const RULES_TOML: &str = include_str!("rules.toml");

/// Bytes around a match given to a rule's `unless_before` / `unless_after` regexes.
const NEGATION_WINDOW: usize = 40;

/// Rules are tracked in a fixed-size bitset on the stack while scanning.
const MAX_RULES: usize = 256;

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
    pub category: Category,
    pub severity: Severity,
    pub weight: f32,
    /// ISO 639-1 code of the rule's language (`any` for markup); checked by the tests for coverage.
    #[cfg_attr(not(test), allow(dead_code))]
    pub lang: String,
    pub atlas: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub patterns: Vec<String>,
    pub unless_before: Option<String>,
    pub unless_after: Option<String>,
    /// Read by the `rule_examples` test only.
    #[cfg_attr(not(test), allow(dead_code))]
    pub examples: Examples,
}

/// Positive and negative examples, checked by the `rule_examples` test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Examples {
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    pub no_match: Vec<String>,
}

/// A compiled rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub def: RuleDef,
    patterns: Vec<Regex>,
    unless_before: Option<Regex>,
    unless_after: Option<Regex>,
}

/// Every rule plus the keyword prefilter.
#[derive(Debug)]
pub(crate) struct Signatures {
    pub rules: Vec<Rule>,
    keywords: AhoCorasick,
    /// Rule index of each keyword pattern in `keywords`.
    keyword_rule: Vec<u16>,
}

/// One signature match in a text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SigMatch {
    /// Index into [`Signatures::rules`].
    pub rule: u16,
    /// Byte range in the scanned text.
    pub span: Span,
}

/// The compiled table, shared by every scanner in the process.
pub(crate) fn signatures() -> Result<&'static Signatures, String> {
    static COMPILED: LazyLock<Result<Signatures, String>> = LazyLock::new(|| compile(RULES_TOML));
    COMPILED.as_ref().map_err(Clone::clone)
}

/// Rewrites `\b` to an ASCII word boundary: Unicode boundaries force the regex crate off its DFA engines as soon
/// as the text holds a non-ASCII byte, and every boundary in the rules sits next to an ASCII letter.
fn ascii_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('b') => out.push_str("(?-u:\\b)"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Case variants of a keyword for the prefilter: the automaton folds ASCII case itself, but Cyrillic, Greek and
/// accented Latin need their upper-case and capitalised spellings listed.
fn keyword_variants(keyword: &str) -> Vec<String> {
    let lower = keyword.to_lowercase();
    let mut out = vec![lower.clone()];
    if !lower.is_ascii() {
        let upper = lower.to_uppercase();
        let mut chars = lower.chars();
        let capital: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        for v in [upper, capital] {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

fn rule_error(id: &str, message: impl std::fmt::Display) -> String {
    format!("rule {id}: {message}")
}

pub(crate) fn compile(toml_text: &str) -> Result<Signatures, String> {
    let file: RuleFile = toml::from_str(toml_text).map_err(|e| format!("rules.toml: {e}"))?;
    if file.rule.len() > MAX_RULES {
        return Err(format!(
            "rules.toml: {} rules, at most {MAX_RULES}",
            file.rule.len()
        ));
    }
    let mut rules = Vec::with_capacity(file.rule.len());
    let mut keyword_list = Vec::new();
    let mut keyword_rule = Vec::new();
    for (index, def) in file.rule.into_iter().enumerate() {
        if def.patterns.is_empty() || def.keywords.is_empty() {
            return Err(rule_error(
                &def.id,
                "needs at least one pattern and one keyword",
            ));
        }
        if !(0.0..=1.0).contains(&def.weight) {
            return Err(rule_error(&def.id, "weight must be in 0..=1"));
        }
        let build = |p: &str| {
            regex::RegexBuilder::new(&ascii_boundaries(p))
                .size_limit(32 << 20)
                .dfa_size_limit(8 << 20)
                .build()
                .map_err(|e| rule_error(&def.id, e))
        };
        let patterns = def
            .patterns
            .iter()
            .map(|p| build(p))
            .collect::<Result<Vec<_>, _>>()?;
        let unless_before = def.unless_before.as_deref().map(build).transpose()?;
        let unless_after = def.unless_after.as_deref().map(build).transpose()?;
        for k in &def.keywords {
            if k.trim().is_empty() {
                return Err(rule_error(&def.id, "empty keyword"));
            }
            for v in keyword_variants(k) {
                keyword_list.push(v);
                keyword_rule.push(index as u16);
            }
        }
        rules.push(Rule {
            def,
            patterns,
            unless_before,
            unless_after,
        });
    }
    let keywords = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        // Overlapping search cannot use the literal prefilter, so a full DFA keeps the one pass cheap.
        .kind(Some(AhoCorasickKind::DFA))
        .build(&keyword_list)
        .map_err(|e| format!("keyword automaton: {e}"))?;
    Ok(Signatures {
        rules,
        keywords,
        keyword_rule,
    })
}

/// A stack bitset of rule indexes.
#[derive(Clone, Copy, Default)]
pub(crate) struct RuleSet([u64; MAX_RULES / 64]);

impl RuleSet {
    fn insert(&mut self, i: usize) {
        if let Some(word) = self.0.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    /// True when rule `i` is in the set.
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// The set of the first `n` rules.
    pub(crate) fn all(n: usize) -> RuleSet {
        let mut s = RuleSet::default();
        for i in 0..n.min(MAX_RULES) {
            s.insert(i);
        }
        s
    }

    /// Removes rule `i`.
    pub(crate) fn remove(&mut self, i: usize) {
        if let Some(word) = self.0.get_mut(i / 64) {
            *word &= !(1 << (i % 64));
        }
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MAX_RULES).filter(|&i| self.contains(i))
    }
}

impl Signatures {
    /// Calls `found` for every match of an `enabled` rule in `text`, rule by rule in file order.
    ///
    /// Allocation-free: candidate rules are a stack bitset and the regex iterators reuse the regex's pool.
    pub(crate) fn find(&self, text: &str, enabled: &RuleSet, mut found: impl FnMut(SigMatch)) {
        let mut candidates = RuleSet::default();
        for m in self.keywords.find_overlapping_iter(text) {
            if let Some(&rule) = self.keyword_rule.get(m.pattern().as_usize())
                && enabled.contains(rule as usize)
            {
                candidates.insert(rule as usize);
            }
        }
        if candidates.is_empty() {
            return;
        }
        for index in candidates.iter() {
            let Some(rule) = self.rules.get(index) else {
                continue;
            };
            for re in &rule.patterns {
                for m in re.find_iter(text) {
                    if m.is_empty() || rule.negated(text, m.start(), m.end()) {
                        continue;
                    }
                    found(SigMatch {
                        rule: index as u16,
                        span: Span::new(m.start(), m.end()),
                    });
                }
            }
        }
    }
}

impl Rule {
    /// True when the words just before or after the match negate it ("do not reveal your system prompt").
    fn negated(&self, text: &str, start: usize, end: usize) -> bool {
        if let Some(re) = &self.unless_before
            && re.is_match(crate::util::context_before(text, start, NEGATION_WINDOW))
        {
            return true;
        }
        if let Some(re) = &self.unless_after
            && re.is_match(crate::util::context_after(text, end, NEGATION_WINDOW))
        {
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_become_ascii_and_escapes_survive() {
        assert_eq!(
            ascii_boundaries(r"\bfoo\b\s\\b"),
            r"(?-u:\b)foo(?-u:\b)\s\\b"
        );
    }

    #[test]
    fn keyword_variants_cover_non_ascii_case() {
        let v = keyword_variants("игнорир");
        assert!(v.contains(&"ИГНОРИР".to_string()) && v.contains(&"Игнорир".to_string()));
        assert_eq!(keyword_variants("Ignore"), vec!["ignore".to_string()]);
    }

    #[test]
    fn bad_rule_files_are_rejected() {
        let bad = r#"
[[rule]]
id = "INJ9999"
name = "x"
category = "prompt-injection"
severity = "high"
weight = 0.5
lang = "en"
atlas = "AML.T0051"
description = "d"
keywords = ["x"]
patterns = ["(unclosed"]
examples.match = []
examples.no_match = []
"#;
        assert!(compile(bad).unwrap_err().contains("INJ9999"));
    }
}
