//! The signature layer: `rules.toml` parsed and compiled once per process.
//!
//! Aho-corasick automata hold every rule's keywords; a rule's regexes run only when one of its keywords occurs
//! in the text, so clean text costs one automaton pass (two when it holds non-ASCII bytes). Regexes run over the
//! whole text (not a window) so that a bounded-gap phrase is matched the same wherever the keyword falls in it.
//!
//! Memory: the compiled regexes are most of the scanner's footprint, so they are compiled lean (see
//! [`crate::util::compile_rule_regex`]): ASCII patterns in byte mode, and in the others `\w` / `\W` stand for
//! the word characters of the scripts the rules are written in ([`SCRIPT_WORD_BLOCKS`]) rather than all of
//! Unicode's, which keeps each gap copy a few KiB instead of about 55 KiB.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::WhichCaptures;
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

/// Keywords and the rule each belongs to.
#[derive(Debug)]
struct Keywords {
    automaton: AhoCorasick,
    /// Rule index of each pattern in `automaton`.
    rule: Vec<u16>,
}

impl Keywords {
    /// Overlapping search, so that a keyword inside another (`ignore` in `ignore all`) still names its rule.
    fn build(list: &[String], rule: Vec<u16>, kind: AhoCorasickKind) -> Result<Keywords, String> {
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(list)
            .map_err(|e| format!("keyword automaton: {e}"))?;
        Ok(Keywords { automaton, rule })
    }

    /// Adds to `candidates` every enabled rule with a keyword in `text`.
    fn collect(&self, text: &str, enabled: &RuleSet, candidates: &mut RuleSet) {
        for m in self.automaton.find_overlapping_iter(text) {
            if let Some(&rule) = self.rule.get(m.pattern().as_usize())
                && enabled.contains(rule as usize)
            {
                candidates.insert(rule as usize);
            }
        }
    }
}

/// Every rule plus the keyword prefilter.
#[derive(Debug)]
pub(crate) struct Signatures {
    pub rules: Vec<Rule>,
    /// ASCII keywords as a full DFA (about 1 MiB), the fastest pass, run on every text.
    ascii: Keywords,
    /// Keywords with non-ASCII letters, with their case variants. They split the bytes into so many classes
    /// that a DFA would take over 3 MiB, so they are a contiguous NFA, run only on texts that hold a
    /// non-ASCII byte (which none of them can match otherwise).
    non_ascii: Keywords,
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

/// Unicode blocks whose word characters `\w` matches in a pattern holding non-ASCII text: Latin (with Latin-1,
/// Extended-A/B and Extended Additional), combining diacritics, Greek, Cyrillic, Arabic, Devanagari, Hangul,
/// kana, CJK ideographs, full-width forms, and the zero-width (non-)joiners of Persian and Indic words. `\W` is
/// its complement, so a letter of another script counts as a separator in a gap. A test checks that every word
/// character in the rules' patterns and keywords lies in these blocks; a rule in a new script extends the list.
pub(crate) const SCRIPT_WORD_BLOCKS: &str = concat!(
    r"\x00-\x7F\x{80}-\x{24F}", // Basic Latin, Latin-1, Latin Extended-A and -B
    r"\x{300}-\x{52F}",         // combining diacritics, Greek, Cyrillic (and its supplement)
    r"\x{600}-\x{6FF}\x{750}-\x{77F}", // Arabic and its supplement
    r"\x{900}-\x{97F}",         // Devanagari
    r"\x{1100}-\x{11FF}",       // Hangul Jamo
    r"\x{1E00}-\x{1FFF}",       // Latin Extended Additional, Greek Extended
    r"\x{200C}\x{200D}",        // zero-width non-joiner and joiner
    r"\x{3040}-\x{30FF}",       // Hiragana, Katakana
    r"\x{3130}-\x{318F}",       // Hangul Compatibility Jamo
    r"\x{4E00}-\x{9FFF}",       // CJK Unified Ideographs
    r"\x{AC00}-\x{D7AF}",       // Hangul Syllables
    r"\x{FF00}-\x{FFEF}",       // half-width and full-width forms
);

/// Rewrites a rule pattern before compilation.
///
/// `\b` becomes an ASCII word boundary: Unicode boundaries force the regex engine off its DFA as soon as the text
/// holds a non-ASCII byte, and every boundary in the rules sits next to an ASCII letter. In a pattern holding
/// non-ASCII text (compiled with Unicode semantics), `\w` and `\W` are narrowed to [`SCRIPT_WORD_BLOCKS`]:
/// Unicode's full `\w` is a UTF-8 automaton of about 700 ranges, copied once per repetition in every bounded gap
/// (`(?:\w+\W+){0,4}?`), and those copies were most of the signatures' memory. ASCII patterns are compiled in
/// byte mode, where `\w` is ASCII already.
fn rewrite_pattern(pattern: &str) -> String {
    let narrow = !pattern.is_ascii();
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('b') => out.push_str("(?-u:\\b)"),
                // A bracketed class is valid both on its own and nested inside another class (`[\w.-]`).
                Some('w') if narrow => {
                    out.push_str("[\\w&&[");
                    out.push_str(SCRIPT_WORD_BLOCKS);
                    out.push_str("]]");
                }
                Some('W') if narrow => {
                    out.push_str("[^\\w&&[");
                    out.push_str(SCRIPT_WORD_BLOCKS);
                    out.push_str("]]");
                }
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

/// Engines for signature regexes, chosen for memory. Only match bounds are needed, so the NFA keeps no group
/// slots and the one-pass DFA (an anchored capture engine) is not built; the lazy DFA does the searching. Its
/// cache grows with use up to the capacity, per searching thread; 1 MiB per regex holds the states the rules
/// reach on long documents without thrashing.
fn regex_config() -> meta::Config {
    meta::Config::new()
        .nfa_size_limit(Some(32 << 20))
        .which_captures(WhichCaptures::Implicit)
        .onepass(false)
        .hybrid_cache_capacity(1 << 20)
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
    let (mut ascii, mut non_ascii) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
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
            crate::util::compile_rule_regex(&rewrite_pattern(p), regex_config())
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
                let (list, rule) = if v.is_ascii() {
                    &mut ascii
                } else {
                    &mut non_ascii
                };
                list.push(v);
                rule.push(index as u16);
            }
        }
        rules.push(Rule {
            def,
            patterns,
            unless_before,
            unless_after,
        });
    }
    Ok(Signatures {
        rules,
        ascii: Keywords::build(&ascii.0, ascii.1, AhoCorasickKind::DFA)?,
        non_ascii: Keywords::build(&non_ascii.0, non_ascii.1, AhoCorasickKind::ContiguousNFA)?,
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
    /// Heap bytes held by the compiled table: regexes, one search cache per regex (what each searching thread
    /// adds before its lazy DFA caches grow), and the keyword automaton. Deterministic for a given rule file.
    #[cfg(test)]
    pub(crate) fn memory_usage(&self) -> usize {
        let regex = |re: &Regex| re.memory_usage() + re.create_cache().memory_usage();
        let regexes: usize = self
            .rules
            .iter()
            .map(|r| {
                r.patterns.iter().map(regex).sum::<usize>()
                    + r.unless_before.as_ref().map_or(0, regex)
                    + r.unless_after.as_ref().map_or(0, regex)
            })
            .sum();
        regexes + self.ascii.automaton.memory_usage() + self.non_ascii.automaton.memory_usage()
    }

    /// Calls `found` for every match of an `enabled` rule in `text`, rule by rule in file order.
    ///
    /// Allocation-free: candidate rules are a stack bitset and the regex iterators reuse the regex's pool.
    pub(crate) fn find(&self, text: &str, enabled: &RuleSet, mut found: impl FnMut(SigMatch)) {
        let mut candidates = RuleSet::default();
        self.ascii.collect(text, enabled, &mut candidates);
        if !text.is_ascii() {
            self.non_ascii.collect(text, enabled, &mut candidates);
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
                    // Byte-mode patterns may stop inside a multi-byte character at a repetition cap.
                    let Some(span) = crate::util::char_span(text, m.start(), m.end()) else {
                        continue;
                    };
                    if span.is_empty() || rule.negated(text, span.start, span.end) {
                        continue;
                    }
                    found(SigMatch {
                        rule: index as u16,
                        span: Span::new(span.start, span.end),
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
            rewrite_pattern(r"\bfoo\b\s\\b\w"),
            r"(?-u:\b)foo(?-u:\b)\s\\b\w"
        );
    }

    /// The compiled signatures' heap footprint, with headroom (see the secrets budget test for why).
    #[test]
    fn signatures_stay_within_memory_budget() {
        // 10.1 MiB in use (about 64 MiB before byte mode, narrowed word classes and the keyword split).
        const BUDGET: usize = 13 << 20;
        let sigs = signatures().unwrap();
        let used = sigs.memory_usage();
        assert!(
            used <= BUDGET,
            "signatures use {} KiB, budget {} KiB",
            used >> 10,
            BUDGET >> 10
        );
        for rule in &sigs.rules {
            let one: usize = rule
                .patterns
                .iter()
                .map(|re| re.memory_usage() + re.create_cache().memory_usage())
                .sum();
            assert!(one <= 1 << 20, "{} uses {} KiB", rule.def.id, one >> 10);
        }
        eprintln!("signatures: {} KiB of {} KiB", used >> 10, BUDGET >> 10);
    }

    /// Byte-mode patterns count bytes, so a cap may fall inside a multi-byte character; the reported span
    /// stops at the last whole character.
    #[test]
    fn byte_mode_matches_snap_to_char_boundaries() {
        let rules = r#"
[[rule]]
id = "INJ9998"
name = "say"
category = "prompt-injection"
severity = "high"
weight = 0.5
lang = "en"
atlas = "AML.T0051"
description = "d"
keywords = ["say"]
patterns = ['(?i)\bsay\s+[^\n]{0,5}']
examples.match = []
examples.no_match = []
"#;
        let sigs = compile(rules).unwrap();
        let text = "SAY éééé";
        let mut spans = Vec::new();
        sigs.find(text, &RuleSet::all(1), |m| spans.push(m.span));
        assert_eq!(spans, vec![Span::new(0, 8)]);
        assert_eq!(&text[..8], "SAY éé");
    }

    #[test]
    fn word_classes_narrow_only_in_unicode_patterns() {
        let narrowed = rewrite_pattern(r"é\w[\w.-]\W\\w");
        assert_eq!(
            narrowed,
            format!(
                r"é[\w&&[{b}]][[\w&&[{b}]].-][^\w&&[{b}]]\\w",
                b = SCRIPT_WORD_BLOCKS
            )
        );
        let re = crate::util::compile_rule_regex(&narrowed, regex_config()).unwrap();
        assert!(re.is_match("éж- \\w"));
        assert!(!re.is_match("éж!x\\w"));
        // Combining marks stay word characters; a Hebrew letter is outside the blocks, so it separates.
        assert!(!re.is_match("éжb\u{0301}\\w"));
        assert!(re.is_match("éжbא\\w"));
    }

    /// Every word character the rules spell out must be one `\w` still matches, or a rule in a new script would
    /// silently lose its gaps and suffixes.
    #[test]
    fn rule_scripts_are_covered_by_the_word_blocks() {
        let unicode_word = regex::Regex::new(r"^\w$").unwrap();
        let covered = regex::Regex::new(&format!("^[{SCRIPT_WORD_BLOCKS}]$")).unwrap();
        let sigs = signatures().unwrap();
        let mut checked = 0;
        for rule in &sigs.rules {
            let def = &rule.def;
            let texts = def.patterns.iter().chain(&def.keywords);
            for c in texts.flat_map(|t| t.chars()).filter(|c| !c.is_ascii()) {
                let c = c.to_string();
                if unicode_word.is_match(&c) {
                    checked += 1;
                    assert!(
                        covered.is_match(&c),
                        "rule {}: `{c}` (U+{:04X}) is outside SCRIPT_WORD_BLOCKS",
                        def.id,
                        c.chars().next().map_or(0, u32::from)
                    );
                }
            }
        }
        assert!(checked > 100, "only {checked} non-ASCII word characters");
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
