//! Hidden-Unicode scanner: text that reads differently to a model than to the person approving it.
//!
//! Four tricks are common in prompt injection and phishing: Unicode tag characters that spell invisible
//! ASCII ("ASCII smuggling"), bidirectional controls that reorder what is displayed ("Trojan Source"),
//! zero-width characters and variation selectors that split keywords or carry data, and look-alike letters
//! from another script inside a word ("pаypal"). Each has legitimate uses (emoji ZWJ sequences, Persian
//! ZWNJ, subdivision flags, a byte-order mark, one emoji-style selector), and those are recognised from the
//! neighbouring characters and never reported, so clean multilingual text yields no findings.
//!
//! The scan is one pass over the text: ASCII stretches are skipped a byte at a time, each maximal run of
//! invisible characters is judged as a whole and produces at most one finding per rule, and look-alike
//! words come from [`rampart_text::confusable_words`]. Pure ASCII input returns at once.

mod context;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use rampart_core::{BuildError, Category, Finding, Input, RuleMeta, Scanner, Severity, Span};
use rampart_text::{
    BidiRole, HiddenKind, Script, UnicodeScript, abbreviation, bidi_control, classify,
    confusable_words, decode_tags, is_bidi_override, variation_selector_byte,
};

use crate::util::{check_keys, opt_bool};

/// Scanner id.
pub const ID: &str = "hidden-unicode";

/// Every option with its default.
pub const EXAMPLE_CONFIG: &str = r#"# Suspicious zero-width characters in one run before it is reported (legitimate joiners never count).
min_zero_width_run = 1
# Variation selectors in one run before they count as a hidden payload (one after an emoji is normal).
min_variation_selectors = 2
# Report words that mix scripts with look-alike letters ("pаypal" with a Cyrillic "а").
mixed_script = true
# Report soft hyphens (U+00AD) inside words; common in text copied from web pages, also used to split keywords.
soft_hyphens = true
# Longest decoded payload quoted in an explanation, in characters.
preview_chars = 60
"#;

const KNOWN_OPTIONS: &[&str] = &[
    "min_zero_width_run",
    "min_variation_selectors",
    "mixed_script",
    "soft_hyphens",
    "preview_chars",
];

const fn rule(
    id: &'static str,
    name: &'static str,
    severity: Severity,
    description: &'static str,
) -> RuleMeta {
    RuleMeta {
        id: Cow::Borrowed(id),
        name: Cow::Borrowed(name),
        entity: None,
        category: Category::HiddenUnicode,
        severity,
        description: Cow::Borrowed(description),
    }
}

const TAGS: usize = 0;
const BIDI: usize = 1;
const ZERO_WIDTH: usize = 2;
const VARIATION: usize = 3;
const MIXED_SCRIPT: usize = 4;
const INVISIBLE: usize = 5;

static RULES: [RuleMeta; 6] = [
    rule(
        "UNI0001",
        "unicode-tag-characters",
        Severity::High,
        "Unicode tag characters (U+E0000-U+E007F) outside an emoji flag: invisible ASCII that models read, used \
         to smuggle instructions past human review.",
    ),
    rule(
        "UNI0002",
        "bidi-control",
        Severity::High,
        "Bidirectional embedding, override or isolate controls, which make text display in a different order \
         than it is processed (Trojan Source).",
    ),
    rule(
        "UNI0003",
        "zero-width-characters",
        Severity::Medium,
        "Zero-width characters outside emoji sequences and the scripts that need them: they split keywords so \
         filters miss them, or encode hidden bits.",
    ),
    rule(
        "UNI0004",
        "variation-selector-payload",
        Severity::High,
        "Several variation selectors in a row, which encode one hidden byte each (\"emoji smuggling\"); one \
         selector after an emoji is normal.",
    ),
    rule(
        "UNI0005",
        "mixed-script-confusable",
        Severity::Medium,
        "A word mixing scripts whose foreign letters are look-alikes of the word's own script, as in spoofed \
         brand names and domains (\"pаypal\" with a Cyrillic \"а\").",
    ),
    rule(
        "UNI0006",
        "invisible-format-character",
        Severity::Medium,
        "Other characters that render as nothing (Hangul fillers, invisible math operators, the combining \
         grapheme joiner, deprecated format controls) used to pad or disguise text.",
    ),
];

/// Longest input a streaming front end must hold back for this scanner to see a run whole, in bytes.
///
/// Judging one invisible character needs its neighbours (at most a flag emoji and seven tags, 36 bytes),
/// so anything longer than that is still detected when split; 1 KiB keeps payloads of up to 256 tag
/// characters in one finding with their whole decoded text.
pub const MAX_SPAN: usize = 1024;

/// Findings per rule per input; beyond it the last finding says how many more were seen. Bounds memory on
/// text that alternates visible and invisible characters.
const MAX_FINDINGS_PER_RULE: usize = 256;

/// Decoded payload inspected for instruction words, in characters (or bytes for variation selectors).
const MAX_DECODE: usize = 4096;

/// Words that make a decoded hidden payload an instruction rather than a watermark or stray data.
const INSTRUCTION_WORDS: &[&str] = &[
    "ignore",
    "disregard",
    "instruction",
    "system prompt",
    "override",
    "forget",
    "bypass",
    "jailbreak",
    "exfiltrate",
    "reveal",
    "password",
    "api key",
    "execute",
    "you are now",
    "do not tell",
    "don't tell",
];

const SOFT_HYPHEN: char = '\u{00AD}';
const ZWJ: char = '\u{200D}';

#[derive(Clone, Debug)]
struct Config {
    min_zero_width_run: usize,
    min_variation_selectors: usize,
    mixed_script: bool,
    soft_hyphens: bool,
    preview_chars: usize,
}

fn opt_count(
    t: &toml::Table,
    key: &str,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, BuildError> {
    match t.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_integer()
            .and_then(|i| usize::try_from(i).ok())
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| BuildError::Config {
                scanner: ID.into(),
                message: format!("`{key}` must be an integer in {min}..={max}"),
            }),
    }
}

/// Builds the scanner from its options (see [`EXAMPLE_CONFIG`]); unknown options are an error.
pub fn build(options: &toml::Table) -> Result<Box<dyn Scanner>, BuildError> {
    check_keys(ID, options, KNOWN_OPTIONS)?;
    let config = Config {
        min_zero_width_run: opt_count(options, "min_zero_width_run", 1, 1, 1 << 20)?,
        min_variation_selectors: opt_count(options, "min_variation_selectors", 2, 2, 1 << 20)?,
        mixed_script: opt_bool(ID, options, "mixed_script", true)?,
        soft_hyphens: opt_bool(ID, options, "soft_hyphens", true)?,
        preview_chars: opt_count(options, "preview_chars", 60, 0, 1000)?,
    };
    Ok(Box::new(HiddenUnicode { config }))
}

struct HiddenUnicode {
    config: Config,
}

impl Scanner for HiddenUnicode {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleMeta] {
        &RULES
    }

    fn scan(&self, input: &Input<'_>, out: &mut Vec<Finding>) {
        let text = input.text;
        // Every character this scanner reports is outside ASCII.
        if text.is_ascii() {
            return;
        }
        let bytes = text.as_bytes();
        let mut state = ScanState::default();
        let mut prev: Option<char> = None;
        let mut i = 0;
        while i < bytes.len() {
            let rest = bytes.get(i..).unwrap_or_default();
            let ascii = rest
                .iter()
                .position(|b| !b.is_ascii())
                .unwrap_or(rest.len());
            if ascii > 0 {
                let skipped = rest.get(..ascii).unwrap_or_default();
                if state.bidi_open()
                    && skipped
                        .iter()
                        .any(|&b| matches!(b, b'\n' | b'\r' | 0x1C..=0x1E))
                {
                    state.end_line(out);
                }
                prev = skipped.last().map(|&b| char::from(b));
                i += ascii;
                continue;
            }
            let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else {
                break;
            };
            if classify(c).is_none() {
                if matches!(c, '\u{85}' | '\u{2029}') {
                    state.end_line(out);
                }
                prev = Some(c);
                i += c.len_utf8();
                continue;
            }
            let tail = text.get(i..).unwrap_or_default();
            let end = i + tail
                .find(|c: char| classify(c).is_none())
                .unwrap_or(tail.len());
            self.judge_run(text, i, end, prev, &mut state, out);
            // The character after the run is visible and is read by the next iteration.
            prev = None;
            i = end;
        }
        state.end_line(out);
        if self.config.mixed_script {
            for word in confusable_words(text) {
                state.push(out, MIXED_SCRIPT, || mixed_script_finding(text, &word));
            }
        }
        state.finish(out);
    }

    fn max_span(&self) -> Option<usize> {
        Some(MAX_SPAN)
    }
}

/// Where in a run the characters of one rule are, and which ones they are.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    start: usize,
    end: usize,
    count: usize,
    distinct: [char; 3],
    n_distinct: usize,
    more_kinds: bool,
}

impl Tally {
    fn add(&mut self, at: usize, c: char) {
        if self.count == 0 {
            self.start = at;
        }
        self.end = at + c.len_utf8();
        self.count += 1;
        let seen = self.distinct.get(..self.n_distinct).unwrap_or_default();
        if !seen.contains(&c) {
            match self.distinct.get_mut(self.n_distinct) {
                Some(slot) => {
                    *slot = c;
                    self.n_distinct += 1;
                }
                None => self.more_kinds = true,
            }
        }
    }

    fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }

    /// "ZWSP (U+200B), ZWJ (U+200D)".
    fn names(&self) -> String {
        let mut out = String::new();
        for &c in self.distinct.get(..self.n_distinct).unwrap_or_default() {
            if !out.is_empty() {
                out.push_str(", ");
            }
            match abbreviation(c) {
                Some(name) => out.push_str(&format!("{name} (U+{:04X})", c as u32)),
                None => out.push_str(&format!("U+{:04X}", c as u32)),
            }
        }
        if self.more_kinds {
            out.push_str(", …");
        }
        out
    }
}

/// State carried across runs: per-rule finding caps and the bidi embedding depth of the current line.
#[derive(Debug, Default)]
struct ScanState {
    emitted: [usize; 6],
    suppressed: [usize; 6],
    last: [Option<usize>; 6],
    embeddings: usize,
    isolates: usize,
    /// Index in `out` of the bidi finding of the latest run that opened an embedding or isolate.
    last_opener: Option<usize>,
}

impl ScanState {
    /// Pushes a finding unless the rule has reached its cap; returns its index in `out`.
    fn push(
        &mut self,
        out: &mut Vec<Finding>,
        rule: usize,
        make: impl FnOnce() -> Finding,
    ) -> Option<usize> {
        let emitted = self.emitted.get_mut(rule)?;
        if *emitted >= MAX_FINDINGS_PER_RULE {
            if let Some(s) = self.suppressed.get_mut(rule) {
                *s += 1;
            }
            return None;
        }
        *emitted += 1;
        out.push(make());
        let idx = out.len() - 1;
        if let Some(last) = self.last.get_mut(rule) {
            *last = Some(idx);
        }
        Some(idx)
    }

    fn bidi_open(&self) -> bool {
        self.embeddings + self.isolates > 0
    }

    /// Updates the embedding depth; returns true for a closer with nothing to close.
    fn bidi(&mut self, role: BidiRole) -> bool {
        match role {
            BidiRole::Mark => false,
            BidiRole::OpenEmbedding => {
                self.embeddings += 1;
                false
            }
            BidiRole::OpenIsolate => {
                self.isolates += 1;
                false
            }
            BidiRole::CloseEmbedding => match self.embeddings.checked_sub(1) {
                Some(d) => {
                    self.embeddings = d;
                    false
                }
                None => true,
            },
            BidiRole::CloseIsolate => match self.isolates.checked_sub(1) {
                Some(d) => {
                    self.isolates = d;
                    false
                }
                None => true,
            },
        }
    }

    /// A paragraph ends: any embedding still open has reordered everything up to here.
    fn end_line(&mut self, out: &mut [Finding]) {
        let open = self.embeddings + self.isolates;
        if open > 0
            && let Some(f) = self.last_opener.and_then(|i| out.get_mut(i))
        {
            f.score = f.score.max(0.9);
            f.explanation.push_str(&format!(
                "; {open} left open at the end of the line, so the reordering runs past what it seems to enclose"
            ));
        }
        self.embeddings = 0;
        self.isolates = 0;
        self.last_opener = None;
    }

    /// Notes on each rule's last finding how many more were not listed.
    fn finish(&self, out: &mut [Finding]) {
        for (rule, &n) in self.suppressed.iter().enumerate() {
            if n > 0
                && let Some(f) = self
                    .last
                    .get(rule)
                    .copied()
                    .flatten()
                    .and_then(|i| out.get_mut(i))
            {
                f.explanation
                    .push_str(&format!("; {n} more like it in this text are not listed"));
            }
        }
    }
}

fn finding(
    rule: usize,
    severity: Severity,
    score: f32,
    span: Span,
    explanation: String,
) -> Finding {
    let meta = RULES.get(rule).unwrap_or(&RULES[TAGS]);
    Finding {
        scanner: Cow::Borrowed(ID),
        rule: meta.id.clone(),
        name: meta.name.clone(),
        entity: meta.entity.clone(),
        category: Category::HiddenUnicode,
        severity,
        score,
        span,
        explanation,
    }
}

/// The first instruction word in a decoded payload, if any.
fn instruction_word(decoded: &str) -> Option<&'static str> {
    let lower = decoded.to_lowercase();
    INSTRUCTION_WORDS
        .iter()
        .copied()
        .find(|w| lower.contains(w))
}

/// Quotes the first `max` characters of `s` on one line (controls become spaces), marking a cut with an
/// ellipsis.
fn preview(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The visible word around `start..end` when letters or digits touch the run on both sides.
fn split_word(text: &str, start: usize, end: usize) -> Option<String> {
    let visible = |c: &char| classify(*c).is_none();
    let wordish = |c: &char| c.is_alphanumeric() || classify(*c).is_some();
    let before = text.get(..start)?;
    let after = text.get(end..)?;
    if !before
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric())
        || !after.chars().next().is_some_and(|c| c.is_alphanumeric())
    {
        return None;
    }
    let mut left: Vec<char> = before
        .chars()
        .rev()
        .take_while(wordish)
        .take(64)
        .filter(visible)
        .take(32)
        .collect();
    left.reverse();
    let right = after
        .chars()
        .take_while(wordish)
        .take(64)
        .filter(visible)
        .take(32);
    Some(left.into_iter().chain(right).collect())
}

fn mixed_script_finding(text: &str, word: &rampart_text::ConfusableWord) -> Finding {
    let shown: String = text
        .get(word.span.start..word.span.end)
        .unwrap_or_default()
        .chars()
        .filter(|c| classify(*c).is_none())
        .take(40)
        .collect();
    let k = word.foreign_letters;
    let c = word.first_foreign;
    let explanation = match word.looks_like {
        Some(a) if word.base == Script::Latin => format!(
            "Latin word '{shown}' has {k} {} look-alike letter{}: '{c}' (U+{:04X}) poses as '{a}'",
            word.foreign.full_name(),
            plural(k),
            c as u32
        ),
        _ => format!(
            "{} word '{shown}' has {k} {} look-alike letter{}, e.g. '{c}' (U+{:04X})",
            word.base.full_name(),
            word.foreign.full_name(),
            plural(k),
            c as u32
        ),
    };
    finding(MIXED_SCRIPT, Severity::Medium, 0.7, word.span, explanation)
}

impl HiddenUnicode {
    /// Judges one maximal run `start..end` of invisible characters; `prev` is the visible character before it.
    fn judge_run(
        &self,
        text: &str,
        start: usize,
        end: usize,
        prev: Option<char>,
        state: &mut ScanState,
        out: &mut Vec<Finding>,
    ) {
        let run = text.get(start..end).unwrap_or_default();
        let next = text.get(end..).and_then(|t| t.chars().next());
        let single = run.chars().nth(1).is_none();
        let flag_len = if prev == Some(context::BLACK_FLAG) {
            context::flag_tag_sequence_len(run)
        } else {
            0
        };

        let mut tally = [Tally::default(); 6];
        let mut soft_hyphens_only = true;
        let mut override_seen = false;
        let mut opened = false;
        let mut unmatched = 0usize;
        let mut before: Option<char> = None;
        let mut chars = run.char_indices().peekable();
        while let Some((off, c)) = chars.next() {
            let first = off == 0;
            let last = chars.peek().is_none();
            let following = chars.peek().map(|&(_, n)| n);
            let rule = match classify(c) {
                None => None,
                Some(HiddenKind::Tag) => (off >= flag_len).then_some(TAGS),
                Some(HiddenKind::Bidi) => match bidi_control(c) {
                    Some((BidiRole::Mark, _)) => mark_splits_word(prev, next).then_some(ZERO_WIDTH),
                    Some((role, _)) => {
                        unmatched += usize::from(state.bidi(role));
                        opened |= matches!(role, BidiRole::OpenEmbedding | BidiRole::OpenIsolate);
                        override_seen |= is_bidi_override(c);
                        Some(BIDI)
                    }
                    None => Some(BIDI),
                },
                Some(HiddenKind::ZeroWidth) => {
                    let legit = match c {
                        SOFT_HYPHEN => !self.config.soft_hyphens,
                        '\u{FEFF}' => start == 0 && first,
                        ZWJ => {
                            let after_selector = before.is_some_and(is_presentation_selector)
                                && run.chars().nth(2).is_none();
                            (last
                                && (first || after_selector)
                                && both(prev, next, context::is_emoji_like))
                                || (single && both(prev, next, context::is_joining_script))
                        }
                        '\u{200C}' => single && both(prev, next, context::is_joining_script),
                        '\u{200B}' => single && both(prev, next, context::is_unspaced_script),
                        '\u{180E}' => single && both(prev, next, context::is_mongolian),
                        _ => false,
                    };
                    (!legit).then_some(ZERO_WIDTH)
                }
                Some(HiddenKind::VariationSelector) => {
                    // One selector right after a visible character picks its glyph (emoji or text style,
                    // an ideographic variant); more than one can only be data.
                    let legit = first
                        && prev.is_some_and(|p| !p.is_whitespace())
                        && !following
                            .is_some_and(|n| classify(n) == Some(HiddenKind::VariationSelector));
                    (!legit).then_some(VARIATION)
                }
                Some(HiddenKind::InvisibleOther) => {
                    let legit = match c {
                        '\u{034F}' => {
                            first
                                && prev.is_some_and(|p| {
                                    matches!(p.script(), Script::Inherited | Script::Hebrew)
                                })
                        }
                        '\u{115F}' => last && next.is_some_and(context::is_hangul_jungseong),
                        '\u{1160}' => first && prev.is_some_and(context::is_hangul_choseong),
                        _ => false,
                    };
                    (!legit).then_some(INVISIBLE)
                }
            };
            if let Some(slot) = rule.and_then(|r| tally.get_mut(r)) {
                slot.add(start + off, c);
                if rule == Some(ZERO_WIDTH) && c != SOFT_HYPHEN {
                    soft_hyphens_only = false;
                }
            }
            before = Some(c);
        }

        let preview_chars = self.config.preview_chars;
        let t = tally[TAGS];
        if t.count > 0 {
            state.push(out, TAGS, || {
                let run_text = text.get(t.start..t.end).unwrap_or_default();
                let decoded: String = decode_tags(run_text).take(MAX_DECODE).collect();
                tag_finding(&t, &decoded, preview_chars)
            });
        }

        let b = tally[BIDI];
        if b.count > 0 {
            let idx = state.push(out, BIDI, || {
                let mut explanation = format!(
                    "{} bidirectional control{} ({}) can make text display in a different order than it is read \
                     (Trojan Source)",
                    b.count,
                    plural(b.count),
                    b.names()
                );
                match unmatched {
                    0 => {}
                    1 => explanation.push_str("; 1 closes nothing"),
                    n => explanation.push_str(&format!("; {n} close nothing")),
                }
                let score = if override_seen { 0.9 } else { 0.75 };
                finding(BIDI, Severity::High, score, b.span(), explanation)
            });
            if opened && state.bidi_open() && idx.is_some() {
                state.last_opener = idx;
            }
        }

        let z = tally[ZERO_WIDTH];
        if z.count >= self.config.min_zero_width_run {
            state.push(out, ZERO_WIDTH, || {
                zero_width_finding(text, &z, soft_hyphens_only)
            });
        }

        let v = tally[VARIATION];
        if v.count >= self.config.min_variation_selectors {
            state.push(out, VARIATION, || {
                let base = if v.start == start { prev } else { None };
                let bytes: Vec<u8> = text
                    .get(v.start..v.end)
                    .unwrap_or_default()
                    .chars()
                    .filter_map(variation_selector_byte)
                    .take(MAX_DECODE)
                    .collect();
                variation_finding(&v, base, &bytes, preview_chars)
            });
        }

        let o = tally[INVISIBLE];
        if o.count > 0 {
            state.push(out, INVISIBLE, || {
                finding(
                    INVISIBLE,
                    Severity::Medium,
                    0.6,
                    o.span(),
                    format!(
                        "{} invisible character{} ({}) that render as nothing, used to pad or disguise text",
                        o.count,
                        plural(o.count),
                        o.names()
                    ),
                )
            });
        }
    }
}

fn both(a: Option<char>, b: Option<char>, test: fn(char) -> bool) -> bool {
    a.is_some_and(test) && b.is_some_and(test)
}

fn is_presentation_selector(c: char) -> bool {
    matches!(c, '\u{FE0E}' | '\u{FE0F}')
}

/// LRM/RLM/ALM between two letters of a left-to-right word do nothing but hide the word from filters.
fn mark_splits_word(prev: Option<char>, next: Option<char>) -> bool {
    both(prev, next, char::is_alphanumeric)
        && !prev.is_some_and(context::is_rtl_script)
        && !next.is_some_and(context::is_rtl_script)
}

fn tag_finding(t: &Tally, decoded: &str, preview_chars: usize) -> Finding {
    let n = t.count;
    let (severity, score, explanation) = if decoded.is_empty() {
        (
            Severity::High,
            if n >= 4 { 0.9 } else { 0.75 },
            format!(
                "{n} Unicode tag character{} outside an emoji flag; tags encode invisible ASCII",
                plural(n)
            ),
        )
    } else {
        let shown = preview(decoded, preview_chars);
        match instruction_word(decoded) {
            Some(word) => (
                Severity::Critical,
                0.98,
                format!(
                    "{n} Unicode tag characters spell '{shown}', invisible text containing '{word}'"
                ),
            ),
            None => (
                Severity::High,
                if n >= 4 { 0.9 } else { 0.75 },
                format!(
                    "{n} Unicode tag character{} spell '{shown}', text that is invisible to readers",
                    plural(n)
                ),
            ),
        }
    };
    finding(TAGS, severity, score, t.span(), explanation)
}

fn zero_width_finding(text: &str, z: &Tally, soft_hyphens_only: bool) -> Finding {
    let n = z.count;
    let names = z.names();
    let word = split_word(text, z.start, z.end);
    let (severity, score, explanation) = match word {
        Some(word) if soft_hyphens_only => (
            Severity::Low,
            0.35,
            format!(
                "soft hyphen inside '{word}'; usual in text copied from web pages, but it also splits keywords"
            ),
        ),
        _ if n >= 8 => (
            Severity::Medium,
            0.75,
            format!(
                "run of {n} zero-width characters ({names}) can encode hidden data, one bit or more each"
            ),
        ),
        Some(word) => (
            Severity::Medium,
            0.7,
            format!("{names} splits the word '{word}', which hides it from keyword filters"),
        ),
        None => (
            Severity::Low,
            0.4,
            format!(
                "{n} zero-width character{} ({names}) with no visible purpose",
                plural(n)
            ),
        ),
    };
    finding(ZERO_WIDTH, severity, score, z.span(), explanation)
}

fn variation_finding(v: &Tally, base: Option<char>, bytes: &[u8], preview_chars: usize) -> Finding {
    let n = v.count;
    let after = match base {
        Some(b) => format!("after '{b}'"),
        None => "in a row".to_owned(),
    };
    let decoded = String::from_utf8_lossy(bytes);
    let total = decoded.chars().count();
    let readable = decoded
        .chars()
        .filter(|c| (!c.is_control() || c.is_whitespace()) && *c != '\u{FFFD}')
        .count();
    let text_like = total > 0 && readable * 10 >= total * 9;
    let (severity, score) = if n >= 4 {
        (Severity::High, 0.9)
    } else {
        (Severity::Medium, 0.55)
    };
    let (severity, score, explanation) = match (text_like, instruction_word(&decoded)) {
        (true, Some(word)) => (
            Severity::Critical,
            0.98,
            format!(
                "{n} variation selectors {after} encode the hidden text '{}', containing '{word}'",
                preview(&decoded, preview_chars)
            ),
        ),
        (true, None) => (
            severity,
            score,
            format!(
                "{n} variation selectors {after} encode the hidden text '{}'",
                preview(&decoded, preview_chars)
            ),
        ),
        (false, _) => (
            severity,
            score,
            format!(
                "{n} variation selectors {after}; one picks a glyph style, more can only carry hidden bytes"
            ),
        ),
    };
    finding(VARIATION, severity, score, v.span(), explanation)
}
