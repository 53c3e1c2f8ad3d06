//! Personal data: contact details, payment and bank numbers, government identifiers, network and wallet
//! addresses, dates of birth, and (through [`names`]) people, places and organisations.
//!
//! One combined automaton (`regex_automata::meta::Regex::new_many`) finds every *candidate* in a single
//! pass and says which shape it has: URL, e-mail, wallet, MAC, IPv6, worded date, alphanumeric token, or
//! a run of digits with separators. Each candidate then goes to code that knows the identifiers of that
//! shape: check digits (Luhn, mod-97, Verhoeff, mod-11, ISO 7064, 7-3-1, base58check, bech32, EIP-55),
//! issuer and country tables, and the words around it (an Aho-Corasick automaton over a small window) that
//! raise the score ("card", "passport", "geboren") or lower it ("invoice", "version"). Prose without digits
//! or `@` produces almost no candidates, so the cost is one automaton pass.
//!
//! Scores follow one scale: checksum-validated with supporting context ≈ 0.95, validated ≈ 0.85, shape with
//! context 0.6-0.8, shape alone 0.35-0.45 (reported, below the default action threshold of 0.5).
//!
//! Dates are reported only as dates of birth (a birth keyword right before them); other dates are not
//! personal data. Dotted numbers after a version keyword ("version 1.2.3.4") are scored 0.25 as addresses,
//! below the default report threshold, because changelogs are full of them.

mod keccak;
pub mod names;
mod phone;
mod rules;
mod validators;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rampart_core::{BuildError, Category, Finding, Input, RuleMeta, Scanner, Span};
use regex_automata::{Anchored, meta};

use crate::util::{ceil_char_boundary, check_keys, floor_char_boundary, opt_bool, opt_strings};
use rules::{CONTEXT_WORDS, Entity, Topic};
use validators as v;

/// Scanner id.
pub const ID: &str = "pii";

/// Every option with its default.
pub const EXAMPLE_CONFIG: &str = r#"# Entity types to report, by Presidio name (EMAIL_ADDRESS, CREDIT_CARD, PERSON, ...); empty = all.
entities = []
# Also recognise people, places and organisations (PERSON, LOCATION, ORGANIZATION).
names = true
# Bytes on each side of a candidate searched for context words ("card", "passport", "invoice").
context_window = 40
# Also scan the Unicode-normalised view (fullwidth digits, e-mails split by zero-width characters).
normalized = true
"#;

const NAME_ENTITIES: [&str; 3] = ["PERSON", "LOCATION", "ORGANIZATION"];

/// Builds the scanner from its options.
pub fn build(options: &toml::Table) -> Result<Box<dyn Scanner>, BuildError> {
    check_keys(
        ID,
        options,
        &["entities", "names", "context_window", "normalized"],
    )?;
    let entities = opt_strings(ID, options, "entities")?;
    let want_names = opt_bool(ID, options, "names", true)?;
    let normalized = opt_bool(ID, options, "normalized", true)?;
    let window = match options.get("context_window") {
        None => 40,
        Some(v) => v
            .as_integer()
            .filter(|n| (0..=1024).contains(n))
            .map(|n| n as usize)
            .ok_or_else(|| BuildError::Config {
                scanner: ID.into(),
                message: "`context_window` must be an integer in 0..=1024".into(),
            })?,
    };
    let mut enabled = 0u32;
    let mut name_filter = [entities.is_empty(); 3];
    for e in &entities {
        if let Some(ent) = Entity::ALL.iter().find(|x| x.entity_name() == e) {
            enabled |= ent.bit();
        } else if let Some(i) = NAME_ENTITIES.iter().position(|n| n == e) {
            name_filter[i] = true;
        } else {
            return Err(BuildError::Config {
                scanner: ID.into(),
                message: format!("`entities`: unknown entity `{e}`"),
            });
        }
    }
    if entities.is_empty() {
        enabled = Entity::ALL.iter().fold(0, |m, e| m | e.bit());
    }
    let names = if want_names && name_filter.iter().any(|&b| b) {
        Some(names::NameRecognizer::build()?)
    } else {
        None
    };
    let mut rules: Vec<RuleMeta> = Entity::ALL
        .iter()
        .filter(|e| enabled & e.bit() != 0)
        .map(|e| e.rule().meta())
        .collect();
    if let Some(n) = &names {
        rules.extend(n.rules());
    }
    Ok(Box::new(PiiScanner {
        coarse: compile(ID, &coarse_patterns())?,
        caps_at: compile("pii-token", &[CAPS_PATTERN])?,
        numeric_at: compile("pii-number", &[NUMERIC_PATTERN])?,
        context: AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(CONTEXT_WORDS.iter().map(|(w, _)| w))
            .map_err(|e| BuildError::Rule {
                rule: "pii-context".into(),
                message: e.to_string(),
            })?,
        rules,
        enabled,
        names,
        name_filter,
        window,
        normalized,
    }))
}

fn compile<P: AsRef<str>>(rule: &str, patterns: &[P]) -> Result<meta::Regex, BuildError> {
    meta::Regex::new_many(patterns).map_err(|e| BuildError::Rule {
        rule: rule.into(),
        message: e.to_string(),
    })
}

/// Candidate shapes, in priority order: where two start at the same byte, the earlier one is tried first,
/// and a failed specific shape falls back to the token and digit-run readings of the same position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Url,
    Email,
    Eth,
    Bech32,
    Base58,
    Mac,
    Ipv6,
    WordDate,
    NirCorsica,
    NifSeparated,
    Nie,
    Nino,
    Iban,
    Token,
    Number,
}

const KINDS: [Kind; 15] = [
    Kind::Url,
    Kind::Email,
    Kind::Eth,
    Kind::Bech32,
    Kind::Base58,
    Kind::Mac,
    Kind::Ipv6,
    Kind::WordDate,
    Kind::NirCorsica,
    Kind::NifSeparated,
    Kind::Nie,
    Kind::Nino,
    Kind::Iban,
    Kind::Token,
    Kind::Number,
];

const MONTHS: &str = "(?i:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec|januar|jänner|februar|märz|mai|juni|juli|oktober|dezember|janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre)";

/// Alphanumeric identifiers written in capitals (tax codes, document numbers, BICs).
const CAPS_PATTERN: &str = "[A-Z0-9]{7,34}";
/// Digits with the separators people put in phone, card and ID numbers.
const NUMERIC_PATTERN: &str = r"[+(]?[0-9](?:[0-9]|[ \-./()]{1,3}[0-9])*";

/// The candidate patterns, one per [`Kind`], in the same order.
fn coarse_patterns() -> Vec<String> {
    let word_date = format!(
        r"[0-9]{{1,2}}(?:st|nd|rd|th|er|º|\.)? (?:(?i:de|of) )?{MONTHS}\.?,? (?:(?i:de|del) )?[0-9]{{4}}|{MONTHS}\.? [0-9]{{1,2}}(?:st|nd|rd|th)?,? [0-9]{{4}}"
    );
    [
        r#"(?i:(?:https?|ftp)://|www\.)[^\s<>"'`{}|\\^]+"#,
        // The local part is bounded (RFC 5321 allows 64) so that a long run of letters and digits without `@`
        // cannot keep this pattern alive and make every later candidate rescan it.
        r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+",
        r"0x[0-9a-fA-F]{40}",
        r"(?i:bc1|tb1)[0-9a-zA-Z]{11,87}",
        r"[13][1-9A-HJ-NP-Za-km-z]{25,34}",
        r"[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}",
        r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8}(?:\.[0-9]{1,3}){0,3}",
        word_date.as_str(),
        r"[1-478] ?[0-9]{2} ?[0-9]{2} ?2[AB] ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}",
        r"[0-9]{8}[ \-][A-Z]",
        r"[XYZ][ \-]?[0-9]{7}[ \-]?[A-Z]",
        r"[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]",
        r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,32}",
        CAPS_PATTERN,
        NUMERIC_PATTERN,
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect()
}

/// The PII scanner: structured entities plus the name recogniser.
struct PiiScanner {
    coarse: meta::Regex,
    caps_at: meta::Regex,
    numeric_at: meta::Regex,
    context: AhoCorasick,
    rules: Vec<RuleMeta>,
    enabled: u32,
    names: Option<names::NameRecognizer>,
    name_filter: [bool; 3],
    window: usize,
    normalized: bool,
}

impl Scanner for PiiScanner {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleMeta] {
        &self.rules
    }

    fn scan(&self, input: &Input<'_>, out: &mut Vec<Finding>) {
        let text = input.text;
        let first = out.len();
        self.scan_text(text, out);
        if self.normalized
            && let Some(view) = &input.views.normalized
        {
            let mark = out.len();
            self.scan_text(&view.text, out);
            let mut i = mark;
            while i < out.len() {
                match view.to_original(out[i].span) {
                    Some(span) if span.end <= text.len() => {
                        let start = floor_char_boundary(text, span.start);
                        let end = ceil_char_boundary(text, span.end.max(start));
                        out[i].span = Span::new(start, end);
                        out[i]
                            .explanation
                            .push_str(" (seen after Unicode normalisation)");
                        i += 1;
                    }
                    _ => {
                        out.swap_remove(i);
                    }
                }
            }
        }
        crate::util::keep_strongest_overlapping(out, first);
        if let Some(names) = &self.names {
            let structured = out.len();
            names.scan(text, out);
            let mut i = structured;
            while i < out.len() {
                let f = &out[i];
                let allowed = f
                    .entity
                    .as_deref()
                    .and_then(|e| NAME_ENTITIES.iter().position(|n| *n == e))
                    .is_none_or(|k| self.name_filter[k]);
                // A name inside an address or identifier already reported is part of that finding.
                let inside = out[first..structured]
                    .iter()
                    .any(|s| s.span.overlaps(f.span));
                if allowed && !inside {
                    i += 1;
                } else {
                    out.swap_remove(i);
                }
            }
        }
    }
}

/// Context words seen around a candidate.
struct Ctx {
    before: u32,
    after: u32,
    /// Index into `CONTEXT_WORDS` of the nearest word of each topic.
    word: [u16; 32],
}

impl Ctx {
    fn has(&self, t: Topic) -> bool {
        (self.before | self.after) & t.bit() != 0
    }

    fn before(&self, t: Topic) -> bool {
        self.before & t.bit() != 0
    }

    /// " after the word 'card'" for the nearest word of `t`, or "".
    fn because(&self, t: Topic) -> String {
        let Some((w, _)) = CONTEXT_WORDS.get(usize::from(self.word[t as usize])) else {
            return String::new();
        };
        if self.before(t) {
            format!(" after the word '{w}'")
        } else {
            format!(" before the word '{w}'")
        }
    }

    /// The nearest positive topic among `ts`, for explanations.
    fn first_of(&self, ts: &[Topic]) -> Option<Topic> {
        ts.iter().copied().find(|&t| self.has(t))
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when `start` is not inside a larger word or dotted/dashed identifier.
fn clean_left(text: &str, start: usize) -> bool {
    let Some(head) = text.get(..start) else {
        return false;
    };
    let mut it = head.chars().rev();
    let Some(c) = it.next() else { return true };
    if is_word_char(c) {
        return false;
    }
    match (c, it.next()) {
        ('-' | '.' | '/' | '@' | '\\', Some(p)) if p.is_alphanumeric() => false,
        (':', Some(p)) if p.is_ascii_digit() => false,
        _ => true,
    }
}

/// True when `end` is not followed by more of the same word or identifier. `port_ok` accepts `:8080`.
fn clean_right(text: &str, end: usize, port_ok: bool) -> bool {
    let Some(tail) = text.get(end..) else {
        return false;
    };
    let mut it = tail.chars();
    let Some(c) = it.next() else { return true };
    if is_word_char(c) {
        return false;
    }
    match (c, it.next()) {
        ('-' | '.' | '/' | '@' | '\\', Some(n)) if n.is_alphanumeric() => false,
        (':', Some(n)) if n.is_ascii_digit() => port_ok,
        _ => true,
    }
}

/// Score from the evidence: `base` alone, `with` when a supporting word is near, and `against` when only a
/// business-number word is.
fn grade(ctx: &Ctx, topics: &[Topic], base: f32, with: f32, against: Option<f32>) -> Option<f32> {
    if ctx.first_of(topics).is_some() {
        Some(with)
    } else if ctx.has(Topic::Negative) {
        against
    } else {
        Some(base)
    }
}

/// A run of digits as written: the digits, the groups separators split them into, and the separators.
struct Run<'t> {
    text: &'t str,
    start: usize,
    plus: bool,
    groups: [(usize, usize); 24],
    paren: [bool; 24],
    ng: usize,
}

const SEP_SPACE: u8 = 1;
const SEP_DASH: u8 = 2;
const SEP_DOT: u8 = 4;
const SEP_SLASH: u8 = 8;
const SEP_PAREN: u8 = 16;

impl<'t> Run<'t> {
    /// Splits `text[start..end]` into digit groups; `None` when it has more groups than any identifier.
    fn parse(text: &'t str, start: usize, end: usize) -> Option<Run<'t>> {
        let bytes = text.as_bytes().get(start..end)?;
        let mut run = Run {
            text,
            start,
            plus: bytes.first() == Some(&b'+'),
            groups: [(0, 0); 24],
            paren: [false; 24],
            ng: 0,
        };
        let mut i = 0;
        let mut open = false;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() {
                let s = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                if run.ng == run.groups.len() {
                    return None;
                }
                let closes = bytes.get(i) == Some(&b')');
                run.groups[run.ng] = (start + s, start + i);
                run.paren[run.ng] = open && closes;
                run.ng += 1;
                open = false;
            } else {
                if bytes[i] == b'(' {
                    open = true;
                }
                i += 1;
            }
        }
        Some(run)
    }

    fn sep_before(&self, g: usize) -> u8 {
        let Some(&(_, prev_end)) = g.checked_sub(1).and_then(|p| self.groups.get(p)) else {
            return 0;
        };
        let here = self.groups[g].0;
        self.text.as_bytes().get(prev_end..here).map_or(0, |s| {
            s.iter().fold(0, |m, b| {
                m | match b {
                    b' ' => SEP_SPACE,
                    b'-' => SEP_DASH,
                    b'.' => SEP_DOT,
                    b'/' => SEP_SLASH,
                    _ => SEP_PAREN,
                }
            })
        })
    }
}

/// A slice `g0..g1` of a run's groups, read as one number.
struct Num {
    digits: [u8; 40],
    n: usize,
    glen: [u8; 24],
    ng: usize,
    seps: u8,
    uniform_sep: bool,
    plus: bool,
    paren_first: bool,
    trunk_zero: bool,
    start: usize,
    end: usize,
}

impl Num {
    fn from_run(run: &Run<'_>, g0: usize, g1: usize) -> Option<Num> {
        if g0 >= g1 || g1 > run.ng {
            return None;
        }
        let mut num = Num {
            digits: [0; 40],
            n: 0,
            glen: [0; 24],
            ng: 0,
            seps: 0,
            uniform_sep: true,
            plus: g0 == 0 && run.plus,
            paren_first: run.paren[g0],
            trunk_zero: false,
            start: if g0 == 0 { run.start } else { run.groups[g0].0 },
            end: run.groups[g1 - 1].1,
        };
        if run.paren[g0] {
            num.start = num.start.min(run.groups[g0].0.saturating_sub(1));
        }
        if run.paren[g1 - 1] {
            num.end += 1;
        }
        let mut first_sep = None;
        for g in g0..g1 {
            let (s, e) = run.groups[g];
            let digits = run.text.as_bytes().get(s..e)?;
            if g > g0 {
                let sep = run.sep_before(g);
                num.seps |= sep;
                match first_sep {
                    None => first_sep = Some(sep),
                    Some(f)
                        if f != sep
                            && sep != SEP_PAREN | SEP_SPACE
                            && f != SEP_PAREN | SEP_SPACE =>
                    {
                        num.uniform_sep = false
                    }
                    _ => {}
                }
            }
            // "+44 (0)20 ...": the bracketed trunk zero is dialled only from inside the country.
            if num.plus && g == g0 + 1 && run.paren[g] && digits == b"0" {
                num.trunk_zero = true;
                continue;
            }
            if num.n + digits.len() > num.digits.len() {
                return None;
            }
            num.digits[num.n..num.n + digits.len()].copy_from_slice(digits);
            num.n += digits.len();
            num.glen[num.ng] = digits.len() as u8;
            num.ng += 1;
        }
        Some(num)
    }

    fn d(&self) -> &[u8] {
        &self.digits[..self.n]
    }

    fn g(&self) -> &[u8] {
        &self.glen[..self.ng]
    }

    fn compact(&self) -> bool {
        self.ng == 1
    }
}

impl PiiScanner {
    fn wants(&self, e: Entity) -> bool {
        self.enabled & e.bit() != 0
    }

    fn emit(
        &self,
        out: &mut Vec<Finding>,
        e: Entity,
        start: usize,
        end: usize,
        score: f32,
        why: String,
    ) {
        if !self.wants(e) {
            return;
        }
        let rule = e.rule();
        out.push(Finding {
            scanner: ID.into(),
            rule: rule.id.into(),
            name: rule.name.into(),
            entity: Some(rule.entity.into()),
            category: Category::Pii,
            severity: rule.severity,
            score: score.clamp(0.0, 1.0),
            span: Span::new(start, end),
            explanation: why,
        });
    }

    fn context(&self, text: &str, start: usize, end: usize) -> Ctx {
        let mut ctx = Ctx {
            before: 0,
            after: 0,
            word: [u16::MAX; 32],
        };
        if self.window == 0 {
            return ctx;
        }
        let from = floor_char_boundary(text, start.saturating_sub(self.window));
        let to = ceil_char_boundary(text, end.saturating_add(self.window));
        for (lo, hi, is_before) in [(from, start, true), (end, to, false)] {
            let Some(hay) = text.get(lo..hi) else {
                continue;
            };
            for m in self.context.find_overlapping_iter(hay) {
                let (s, e) = (lo + m.start(), lo + m.end());
                let word_edge_left = text
                    .get(..s)
                    .and_then(|h| h.chars().next_back())
                    .is_none_or(|c| !c.is_alphanumeric());
                let word_edge_right = text
                    .get(e..)
                    .and_then(|t| t.chars().next())
                    .is_none_or(|c| !c.is_alphanumeric());
                if !(word_edge_left && word_edge_right) {
                    continue;
                }
                let Some(&(_, topic)) = CONTEXT_WORDS.get(m.pattern().as_usize()) else {
                    continue;
                };
                let slot = &mut ctx.word[topic as usize];
                // Nearest word wins: the last one before the candidate, the first one after it.
                if is_before {
                    ctx.before |= topic.bit();
                    *slot = m.pattern().as_usize() as u16;
                } else if ctx.after & topic.bit() == 0 && ctx.before & topic.bit() == 0 {
                    ctx.after |= topic.bit();
                    *slot = m.pattern().as_usize() as u16;
                }
            }
        }
        ctx
    }

    /// Finds and classifies every candidate in `text`, pushing findings with spans into `text`.
    fn scan_text(&self, text: &str, out: &mut Vec<Finding>) {
        for m in self.coarse.find_iter(text) {
            let kind = KINDS
                .get(m.pattern().as_usize())
                .copied()
                .unwrap_or(Kind::Number);
            let (start, end) = (m.start(), m.end());
            let handled = match kind {
                Kind::Url => self.url(text, start, end, out),
                Kind::Email => self.email(text, start, end, out),
                Kind::Eth => self.eth(text, start, end, out),
                Kind::Bech32 | Kind::Base58 => self.bitcoin(text, start, end, kind, out),
                Kind::Mac => self.mac(text, start, end, out),
                Kind::Ipv6 => self.ipv6(text, start, end, out),
                Kind::WordDate => self.word_date(text, start, end, out),
                Kind::Iban => self.iban(text, start, end, out),
                Kind::NirCorsica | Kind::NifSeparated | Kind::Nie | Kind::Nino | Kind::Token => {
                    self.separated_token(text, start, end, out)
                }
                Kind::Number => {
                    self.number(text, start, end, out);
                    true
                }
            };
            if !handled && !matches!(kind, Kind::Url | Kind::Email | Kind::Number) {
                self.fallback(text, start, kind != Kind::Token, out);
            }
        }
    }

    /// Re-reads a position whose specific shape failed as an alphanumeric token, then as a digit run.
    fn fallback(&self, text: &str, start: usize, try_token: bool, out: &mut Vec<Finding>) {
        let input = regex_automata::Input::new(text)
            .range(start..)
            .anchored(Anchored::Yes);
        if try_token
            && let Some(m) = self.caps_at.search(&input)
            && text
                .as_bytes()
                .get(m.start()..m.end())
                .is_some_and(|t| t.iter().any(u8::is_ascii_uppercase))
            && self.separated_token(text, m.start(), m.end(), out)
        {
            return;
        }
        if let Some(m) = self.numeric_at.search(&input) {
            self.number(text, m.start(), m.end(), out);
        }
    }

    fn url(&self, text: &str, start: usize, end: usize, out: &mut Vec<Finding>) -> bool {
        let Some(raw) = text.get(start..end) else {
            return false;
        };
        let mut s = raw;
        let count = |c: u8| raw.bytes().filter(|&b| b == c).count();
        let (opens, mut closes, square_opens, mut square_closes) =
            (count(b'('), count(b')'), count(b'['), count(b']'));
        // Trailing punctuation belongs to the sentence; a closing bracket only if the URL opened none.
        while let Some(last) = s.chars().next_back() {
            let strip = match last {
                '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '*' => true,
                ')' if opens < closes => {
                    closes -= 1;
                    true
                }
                ']' if square_opens < square_closes => {
                    square_closes -= 1;
                    true
                }
                _ => false,
            };
            if !strip {
                break;
            }
            s = &s[..s.len() - last.len_utf8()];
        }
        let host_len = s.find("://").map_or(0, |i| i + 3);
        if s.len() <= host_len + 3 || !clean_left(text, start) {
            return false;
        }
        let with_user = s[host_len..]
            .split(['/', '?', '#'])
            .next()
            .is_some_and(|h| h.contains('@'));
        // A URL is certainly a URL; whether it is personal is the policy's call (the default policy logs
        // URLs without user information instead of redacting them).
        let (score, what) = if with_user {
            (0.85, "URL carrying user information")
        } else {
            (0.8, "web address")
        };
        self.emit(
            out,
            Entity::Url,
            start,
            start + s.len(),
            score,
            what.to_owned(),
        );
        true
    }

    fn email(&self, text: &str, start: usize, end: usize, out: &mut Vec<Finding>) -> bool {
        let Some(raw) = text.get(start..end) else {
            return false;
        };
        let raw = raw.trim_end_matches(['.', '-']);
        let Some((local, domain)) = raw.split_once('@') else {
            return false;
        };
        if local.is_empty()
            || local.len() > 64
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || domain.len() > 253
        {
            return false;
        }
        let mut labels = domain.split('.');
        let tld = domain.rsplit('.').next().unwrap_or("");
        if labels.any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-')) {
            return false;
        }
        let tld_ok = (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
            || tld.starts_with("xn--");
        // `icon@2x.png` and similar file names share the shape.
        const FILE_EXTENSIONS: [&str; 10] = [
            "png", "jpg", "jpeg", "gif", "svg", "webp", "css", "js", "ts", "json",
        ];
        if !tld_ok || FILE_EXTENSIONS.iter().any(|x| tld.eq_ignore_ascii_case(x)) {
            return false;
        }
        // A local part that started with non-ASCII letters (`müller@`) is reported whole.
        let mut s = start;
        let head = text.get(..start).unwrap_or("");
        for c in head.chars().rev().take(64) {
            if c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-') {
                s -= c.len_utf8();
            } else {
                break;
            }
        }
        let ctx = self.context(text, s, start + raw.len());
        let because = ctx.because(Topic::Email);
        self.emit(
            out,
            Entity::Email,
            s,
            start + raw.len(),
            0.9,
            format!("e-mail address at domain {domain}{because}"),
        );
        true
    }

    fn eth(&self, text: &str, start: usize, end: usize, out: &mut Vec<Finding>) -> bool {
        if !clean_left(text, start) || !clean_right(text, end, false) {
            return false;
        }
        let Some(hex) = text.as_bytes().get(start + 2..end) else {
            return false;
        };
        let ctx = self.context(text, start, end);
        let (score, what) = match keccak::eip55(hex) {
            Some(true) => (
                if ctx.has(Topic::Crypto) { 0.95 } else { 0.85 },
                "Ethereum address with a valid EIP-55 checksum",
            ),
            Some(false) => return false,
            None if ctx.has(Topic::Crypto) => {
                (0.7, "single-case Ethereum address (no checksum to verify)")
            }
            None => (
                0.4,
                "0x-prefixed 40-hex-digit value shaped like an Ethereum address",
            ),
        };
        self.emit(
            out,
            Entity::Crypto,
            start,
            end,
            score,
            format!("{what}{}", ctx.because(Topic::Crypto)),
        );
        true
    }

    fn bitcoin(
        &self,
        text: &str,
        start: usize,
        end: usize,
        kind: Kind,
        out: &mut Vec<Finding>,
    ) -> bool {
        if !clean_left(text, start) || !clean_right(text, end, false) {
            return false;
        }
        let Some(s) = text.get(start..end) else {
            return false;
        };
        let (ok, what) = match kind {
            Kind::Base58 => (
                v::btc_base58(s),
                "Bitcoin address with a valid base58check checksum",
            ),
            _ => (
                v::btc_bech32(s),
                "Bitcoin segwit address with a valid bech32 checksum",
            ),
        };
        if !ok {
            return false;
        }
        let ctx = self.context(text, start, end);
        let score = if ctx.has(Topic::Crypto) { 0.95 } else { 0.85 };
        self.emit(
            out,
            Entity::Crypto,
            start,
            end,
            score,
            format!("{what}{}", ctx.because(Topic::Crypto)),
        );
        true
    }

    fn mac(&self, text: &str, start: usize, end: usize, out: &mut Vec<Finding>) -> bool {
        if !clean_left(text, start) || !clean_right(text, end, false) {
            return false;
        }
        let Some(s) = text.get(start..end) else {
            return false;
        };
        let b = s.as_bytes();
        if b.len() == 17 && !(b[2..].iter().step_by(3).all(|&c| c == b[2])) {
            return false;
        }
        let hex = || b.iter().filter(|c| c.is_ascii_hexdigit());
        if hex().all(|&c| c == b'0') || hex().all(|&c| c == b'f' || c == b'F') {
            return false;
        }
        let ctx = self.context(text, start, end);
        let letters = hex().any(u8::is_ascii_alphabetic);
        let Some(score) = grade(
            &ctx,
            &[Topic::Mac],
            if letters { 0.75 } else { 0.4 },
            0.9,
            None,
        ) else {
            return false;
        };
        let what = if letters {
            "hardware (MAC) address"
        } else {
            "digits grouped like a hardware (MAC) address"
        };
        self.emit(
            out,
            Entity::Mac,
            start,
            end,
            score,
            format!("{what}{}", ctx.because(Topic::Mac)),
        );
        true
    }

    fn ipv6(&self, text: &str, start: usize, mut end: usize, out: &mut Vec<Finding>) -> bool {
        let Some(mut s) = text.get(start..end) else {
            return false;
        };
        if s.ends_with(':') && !s.ends_with("::") {
            s = &s[..s.len() - 1];
            end -= 1;
        }
        if !clean_left(text, start) || !clean_right(text, end, false) {
            return false;
        }
        let Ok(addr) = Ipv6Addr::from_str(s) else {
            return false;
        };
        let hex_digits = s.bytes().filter(u8::is_ascii_hexdigit).count();
        // `a::b` in source code parses as an address; real ones carry digits and more than a few nibbles.
        if addr.is_loopback()
            || addr.is_unspecified()
            || hex_digits < 4
            || !s.bytes().any(|b| b.is_ascii_digit())
        {
            return false;
        }
        let seg = addr.segments();
        let local = (seg[0] & 0xffc0) == 0xfe80
            || (seg[0] & 0xfe00) == 0xfc00
            || (seg[0] == 0x2001 && seg[1] == 0x0db8);
        let ctx = self.context(text, start, end);
        let Some(score) = grade(
            &ctx,
            &[Topic::Ip],
            if local { 0.6 } else { 0.75 },
            0.9,
            Some(0.4),
        ) else {
            return false;
        };
        let what = if local {
            "link-local, private or documentation IPv6 address"
        } else {
            "IPv6 address"
        };
        self.emit(
            out,
            Entity::Ip,
            start,
            end,
            score,
            format!("{what}{}", ctx.because(Topic::Ip)),
        );
        true
    }

    fn word_date(&self, text: &str, start: usize, end: usize, out: &mut Vec<Finding>) -> bool {
        let Some(s) = text.get(start..end) else {
            return false;
        };
        let mut day = None;
        let mut year = None;
        let mut month = None;
        for part in s
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
        {
            let digits = part.trim_end_matches(|c: char| c.is_alphabetic());
            if part.len() == 4 && part.bytes().all(|b| b.is_ascii_digit()) {
                year = part.parse::<u32>().ok();
            } else if !digits.is_empty()
                && digits.len() <= 2
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                day = digits.parse::<u32>().ok();
            } else if month.is_none() {
                month = month_number(part);
            }
        }
        let (Some(d), Some(m), Some(y)) = (day, month, year) else {
            return false;
        };
        if !v::plausible_date(y, m, d) || !clean_left(text, start) || !clean_right(text, end, false)
        {
            return false;
        }
        self.birth_date(text, start, end, out)
    }

    /// Reports a date only when a birth keyword introduces it.
    fn birth_date(&self, text: &str, start: usize, end: usize, out: &mut Vec<Finding>) -> bool {
        let ctx = self.context(text, start, end);
        if !ctx.before(Topic::Dob) {
            return false;
        }
        let why = format!("date of birth{}", ctx.because(Topic::Dob));
        self.emit(out, Entity::DateOfBirth, start, end, 0.85, why);
        true
    }

    fn iban(&self, text: &str, start: usize, end: usize, out: &mut Vec<Finding>) -> bool {
        let Some(raw) = text.as_bytes().get(start..end) else {
            return false;
        };
        let Some(len) = raw.get(..2).and_then(v::iban_length) else {
            return false;
        };
        let mut compact = [0u8; 34];
        let mut n = 0;
        let mut cut = raw.len();
        for (i, &b) in raw.iter().enumerate() {
            if b == b' ' {
                continue;
            }
            if n == len {
                cut = i;
                break;
            }
            compact[n] = b;
            n += 1;
        }
        let stop = start + raw[..cut].trim_ascii_end().len();
        if n != len
            || !v::iban(&compact[..n])
            || !clean_left(text, start)
            || !clean_right(text, stop, false)
        {
            return false;
        }
        let ctx = self.context(text, start, stop);
        let score = if ctx.has(Topic::Iban) { 0.95 } else { 0.9 };
        let country = std::str::from_utf8(&compact[..2]).unwrap_or("??");
        let why = format!(
            "IBAN {country} with valid mod-97 checksum{}",
            ctx.because(Topic::Iban)
        );
        self.emit(out, Entity::Iban, start, stop, score, why);
        true
    }

    /// Alphanumeric identifiers, written compact or with the separators their issuers print.
    fn separated_token(
        &self,
        text: &str,
        start: usize,
        end: usize,
        out: &mut Vec<Finding>,
    ) -> bool {
        let Some(raw) = text.as_bytes().get(start..end) else {
            return false;
        };
        if !clean_left(text, start) || !clean_right(text, end, false) {
            return false;
        }
        let mut t = [0u8; 34];
        let mut n = 0;
        for &b in raw {
            if b.is_ascii_alphanumeric() {
                if n == t.len() {
                    return false;
                }
                t[n] = b;
                n += 1;
            }
        }
        let t = &t[..n];
        if !t.iter().any(u8::is_ascii_uppercase) {
            return false;
        }
        let grouped = n != raw.len();
        let ctx = self.context(text, start, end);
        let letters = |r: std::ops::Range<usize>| {
            t.get(r)
                .is_some_and(|s| s.iter().all(u8::is_ascii_uppercase))
        };
        let digits =
            |r: std::ops::Range<usize>| t.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
        let hit = |e: Entity, score: f32, what: &str, topic: Topic| {
            (e, score, format!("{what}{}", ctx.because(topic)))
        };
        // The usual case: a cue word of the finding's own topic lifts the score from `weak` to `strong`.
        let cued = |e: Entity, (strong, weak): (f32, f32), what: &str, topic: Topic| {
            hit(e, if ctx.has(topic) { strong } else { weak }, what, topic)
        };
        let found: Option<(Entity, f32, String)> = if n == 16 && v::it_fiscal_code(t) {
            Some(cued(
                Entity::ItFiscalCode,
                (0.95, 0.85),
                "Italian codice fiscale with a valid check character",
                Topic::FiscalCode,
            ))
        } else if n == 15 && v::fr_nir(t) {
            Some(cued(
                Entity::FrNir,
                (0.95, 0.85),
                "French social security number (Corsican department) with a valid key",
                Topic::Nir,
            ))
        } else if n == 9 && v::es_nif(t) {
            Some(cued(
                Entity::EsNif,
                (0.95, 0.85),
                "Spanish DNI/NIF with a valid control letter",
                Topic::Nif,
            ))
        } else if n == 9 && v::es_nie(t) {
            let s = if ctx.first_of(&[Topic::Nie, Topic::Nif]).is_some() {
                0.95
            } else {
                0.85
            };
            Some(hit(
                Entity::EsNie,
                s,
                "Spanish NIE with a valid control letter",
                Topic::Nie,
            ))
        } else if n == 9 && v::uk_nino(t) {
            Some(cued(
                Entity::UkNino,
                (0.9, 0.7),
                "UK National Insurance number with valid prefix and suffix",
                Topic::Nino,
            ))
        } else if grouped {
            None
        } else if n == 10 && v::in_pan(t) && !ctx.has(Topic::IdCard) {
            Some(cued(
                Entity::InPan,
                (0.85, 0.45),
                "Indian PAN with a valid holder-type letter",
                Topic::Pan,
            ))
        } else if n == 10 && v::de_id_card(t) {
            Some(cued(
                Entity::DeIdCard,
                (0.95, 0.7),
                "German ID card number with a valid 7-3-1 check digit",
                Topic::IdCard,
            ))
        } else if n == 10
            && ctx.has(Topic::Driver)
            && ((letters(0..2) && digits(2..9) && letters(9..10))
                || (t.starts_with(b"U1") && letters(9..10)))
        {
            Some(hit(
                Entity::ItDriverLicense,
                0.7,
                "Italian driving licence number",
                Topic::Driver,
            ))
        } else if n == 9
            && ctx.has(Topic::IdCard)
            && t.iter().all(|&b| v::is_de_document_char(b))
            && letters(0..1)
        {
            Some(hit(
                Entity::DeIdCard,
                0.7,
                "German ID card serial number",
                Topic::IdCard,
            ))
        } else if n == 9
            && ctx.has(Topic::Passport)
            && letters(0..1)
            && t.iter().all(|&b| v::is_de_document_char(b))
            && (ctx.has(Topic::CueDe) || !digits(1..9))
        {
            Some(hit(
                Entity::DePassport,
                0.7,
                "German passport number",
                Topic::Passport,
            ))
        } else if n == 9 && ctx.has(Topic::Passport) && letters(0..1) && digits(1..9) {
            Some(hit(
                Entity::UsPassport,
                0.7,
                "letter and 8 digits shaped like a US passport number",
                Topic::Passport,
            ))
        } else if n == 8
            && ctx.has(Topic::Passport)
            && letters(0..1)
            && digits(1..8)
            && t[1] != b'0'
        {
            Some(hit(
                Entity::InPassport,
                0.7,
                "letter and 7 digits shaped like an Indian passport number",
                Topic::Passport,
            ))
        } else if (n == 8 || n == 11) && v::swift_shape(t) {
            let strong = t[6..8].iter().any(u8::is_ascii_digit) || t.ends_with(b"XXX");
            match (ctx.has(Topic::Swift), strong) {
                (true, _) => Some(hit(
                    Entity::Swift,
                    0.85,
                    "BIC/SWIFT code with a valid country",
                    Topic::Swift,
                )),
                (false, true) => Some(hit(
                    Entity::Swift,
                    0.5,
                    "BIC/SWIFT-shaped code with a valid country",
                    Topic::Swift,
                )),
                (false, false) => None,
            }
        } else if ctx.has(Topic::Driver)
            && letters(0..1)
            && (5..=14).contains(&n)
            && (digits(1..n) || (letters(1..2) && digits(2..n)))
        {
            Some(hit(
                Entity::UsDriverLicense,
                0.65,
                "letters and digits shaped like a US driver's license number",
                Topic::Driver,
            ))
        } else {
            None
        };
        let Some((entity, score, why)) = found else {
            return false;
        };
        self.emit(out, entity, start, end, score, why);
        true
    }

    /// A run of digits: splits it into the longest readings that classify, at spaces only.
    fn number(&self, text: &str, start: usize, end: usize, out: &mut Vec<Finding>) {
        let Some(run) = Run::parse(text, start, end) else {
            return;
        };
        if run.ng == 0 {
            return;
        }
        if let Some(num) = Num::from_run(&run, 0, run.ng)
            && self.classify_number(text, &num, out)
        {
            return;
        }
        let mut i = 0;
        while i < run.ng {
            let mut next = i + 1;
            let mut found = false;
            // Longest reading first, at most 8 groups; split points must be plain spaces.
            for j in (i + 1..=run.ng.min(i + 8)).rev() {
                if (i == 0 && j == run.ng) || (j < run.ng && run.sep_before(j) != SEP_SPACE) {
                    continue;
                }
                if i > 0 && run.sep_before(i) != SEP_SPACE {
                    break;
                }
                if let Some(num) = Num::from_run(&run, i, j)
                    && self.classify_number(text, &num, out)
                {
                    next = j;
                    found = true;
                    break;
                }
            }
            // The digits after a `+` belong to the international number; they are not read on their own.
            if run.plus && i == 0 && !found {
                return;
            }
            i = next;
        }
    }

    fn classify_number(&self, text: &str, num: &Num, out: &mut Vec<Finding>) -> bool {
        let (start, end) = (num.start, num.end);
        let dotted_quad = num.seps == SEP_DOT && num.ng == 4 && !num.plus;
        if !clean_left(text, start) || !clean_right(text, end, dotted_quad) {
            return false;
        }
        let d = num.d();
        let g = num.g();
        let n = d.len();
        if dotted_quad {
            return self.ipv4(text, num, out);
        }
        // Dates are never phone or ID numbers; only dates of birth are reported.
        if num.ng == 3
            && num.uniform_sep
            && num.seps & (SEP_DASH | SEP_DOT | SEP_SLASH) != 0
            && num.seps & SEP_SPACE == 0
        {
            let v3 = |i: usize| -> u32 {
                let off: usize = g[..i].iter().map(|&x| usize::from(x)).sum();
                d[off..off + usize::from(g[i])]
                    .iter()
                    .fold(0, |a, &b| a * 10 + u32::from(b - b'0'))
            };
            let (a, b, c) = (v3(0), v3(1), v3(2));
            let is_date = match (g[0], g[1], g[2]) {
                (4, 1..=2, 1..=2) => v::plausible_date(a, b, c),
                (1..=2, 1..=2, 4) => v::plausible_date(c, b, a) || v::plausible_date(c, a, b),
                (1..=2, 1..=2, 2) if num.seps != SEP_DASH => {
                    let y = if c > 30 { 1900 + c } else { 2000 + c };
                    v::plausible_date(y, b, a) || v::plausible_date(y, a, b)
                }
                _ => false,
            };
            if is_date {
                self.birth_date(text, start, end, out);
                return true;
            }
        }
        // Dotted numbers are versions, decimals and section numbers, except in the two phone styles below.
        if num.seps & SEP_DOT != 0 && !(g == [3, 3, 4] || g == [2, 2, 2, 2, 2]) {
            return num.seps == SEP_DOT;
        }
        // Every identifier and national phone number below has at least six digits.
        if n < 6 && !num.plus {
            return false;
        }
        let ctx = self.context(text, start, end);
        if num.plus || (d.starts_with(b"00") && num.ng >= 2 && n >= 10) {
            let skip = if num.plus { 0 } else { 2 };
            return self.international_phone(num, &d[skip..], &ctx, out);
        }
        let isbn_like = ctx.has(Topic::Negative) && v::isbn(d)
            || (n == 13 && num.ng >= 4 && num.seps == SEP_DASH && v::isbn(d));
        if isbn_like {
            return true;
        }
        let id_topic = ctx.first_of(&[
            Topic::Aadhaar,
            Topic::Nhs,
            Topic::TaxId,
            Topic::Nir,
            Topic::Ssn,
            Topic::Phone,
        ]);
        if (12..=19).contains(&n)
            && (id_topic.is_none() || ctx.has(Topic::Card))
            && card_grouping(g, num.uniform_sep, num.seps)
            && v::luhn(d)
            && let Some(brand) = v::card_brand(d)
        {
            let Some(score) = grade(&ctx, &[Topic::Card], 0.85, 0.95, Some(0.5)) else {
                return true;
            };
            let why = format!(
                "Luhn-valid {n}-digit {} number{}",
                brand.name(),
                ctx.because(Topic::Card)
            );
            self.emit(out, Entity::CreditCard, start, end, score, why);
            return true;
        }
        if g == [3, 2, 4] && num.uniform_sep && (num.seps == SEP_DASH || num.seps == SEP_SPACE) {
            if !v::us_ssn(d) {
                return true;
            }
            let base = if num.seps == SEP_DASH { 0.85 } else { 0.6 };
            let Some(score) = grade(&ctx, &[Topic::Ssn], base, 0.95, Some(0.4)) else {
                return true;
            };
            let why = format!(
                "US Social Security number with valid area, group and serial{}",
                ctx.because(Topic::Ssn)
            );
            self.emit(out, Entity::UsSsn, start, end, score, why);
            return true;
        }
        if n == 12
            && (num.compact() || g == [4, 4, 4])
            && v::aadhaar(d)
            && (!num.compact() || !ctx.has(Topic::Negative) || ctx.has(Topic::Aadhaar))
        {
            let base = if num.compact() { 0.4 } else { 0.75 };
            let Some(score) = grade(&ctx, &[Topic::Aadhaar], base, 0.95, None) else {
                return true;
            };
            let why = format!(
                "Aadhaar number with a valid Verhoeff check digit{}",
                ctx.because(Topic::Aadhaar)
            );
            self.emit(out, Entity::InAadhaar, start, end, score, why);
            return true;
        }
        if n == 11 && v::de_tax_id(d) && (num.compact() || g == [2, 3, 3, 3]) {
            let Some(score) = grade(&ctx, &[Topic::TaxId], 0.75, 0.95, None) else {
                return true;
            };
            let why = format!(
                "German tax ID (Steuer-IdNr) with valid digit pattern and ISO 7064 check digit{}",
                ctx.because(Topic::TaxId)
            );
            self.emit(out, Entity::DeTaxId, start, end, score, why);
            return true;
        }
        if n == 15 && (num.compact() || g == [1, 2, 2, 2, 3, 3, 2]) && v::fr_nir(d) {
            let Some(score) = grade(&ctx, &[Topic::Nir], 0.85, 0.95, Some(0.45)) else {
                return true;
            };
            let why = format!(
                "French social security number (NIR) with a valid key{}",
                ctx.because(Topic::Nir)
            );
            self.emit(out, Entity::FrNir, start, end, score, why);
            return true;
        }
        let national = phone::national(&phone::Shape {
            digits: d,
            groups: g,
        });
        if n == 10 && (num.compact() || g == [3, 3, 4]) && v::nhs(d) {
            // NHS numbers are written 3-3-4 like North American phone numbers: the words decide.
            let nhs_score = if ctx.has(Topic::Nhs) {
                Some(0.95)
            } else if ctx.has(Topic::Phone) || ctx.has(Topic::Negative) || num.compact() {
                None
            } else if national.is_none() {
                Some(0.6)
            } else {
                None
            };
            if let Some(score) = nhs_score {
                let why = format!(
                    "NHS number with a valid mod-11 check digit{}",
                    ctx.because(Topic::Nhs)
                );
                self.emit(out, Entity::UkNhs, start, end, score, why);
                return true;
            }
        }
        if num.compact() && (7..=13).contains(&n) {
            if n == 9 && ctx.has(Topic::Ssn) && v::us_ssn(d) {
                let why = format!(
                    "9-digit number with valid SSN structure{}",
                    ctx.because(Topic::Ssn)
                );
                self.emit(out, Entity::UsSsn, start, end, 0.8, why);
                return true;
            }
            if n == 9 && ctx.has(Topic::Passport) {
                let (e, what) = if ctx.has(Topic::CueUk) {
                    (Entity::UkPassport, "UK")
                } else {
                    (Entity::UsPassport, "US")
                };
                let why = format!(
                    "9-digit number shaped like a {what} passport number{}",
                    ctx.because(Topic::Passport)
                );
                self.emit(out, e, start, end, 0.7, why);
                return true;
            }
            if ctx.has(Topic::Driver) && !ctx.has(Topic::Phone) {
                let why = format!(
                    "{n}-digit number shaped like a US driver's license number{}",
                    ctx.because(Topic::Driver)
                );
                self.emit(out, Entity::UsDriverLicense, start, end, 0.6, why);
                return true;
            }
        }
        self.national_phone(num, national, &ctx, out)
    }

    fn ipv4(&self, text: &str, num: &Num, out: &mut Vec<Finding>) -> bool {
        let (start, end) = (num.start, num.end);
        let Some(s) = text.get(start..end) else {
            return false;
        };
        let Ok(ip) = Ipv4Addr::from_str(s) else {
            return true;
        };
        if ip.is_loopback() || ip.is_unspecified() || ip.is_broadcast() {
            return true;
        }
        let ctx = self.context(text, start, end);
        let private = ip.is_private()
            || ip.is_link_local()
            || ip.is_documentation()
            || ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64;
        let single_digits = num.g().iter().all(|&l| l == 1);
        let (score, what) = if ctx.has(Topic::Ip) {
            (0.9, "IPv4 address")
        } else if ctx.has(Topic::Version) {
            (
                0.25,
                "dotted quad after a version keyword, most likely a version number",
            )
        } else if single_digits {
            (
                0.4,
                "dotted quad of single digits, which may be a version number",
            )
        } else if private {
            (0.6, "private or reserved IPv4 address")
        } else {
            (0.75, "public IPv4 address")
        };
        let why = format!(
            "{what}{}",
            ctx.because(if ctx.has(Topic::Ip) {
                Topic::Ip
            } else {
                Topic::Version
            })
        );
        self.emit(out, Entity::Ip, start, end, score, why);
        true
    }

    fn international_phone(
        &self,
        num: &Num,
        digits: &[u8],
        ctx: &Ctx,
        out: &mut Vec<Finding>,
    ) -> bool {
        // A phone number is written in groups or as one block; a wall of tiny groups is something else.
        if num.g().iter().skip(1).filter(|&&l| l == 1).count() > 1 {
            return false;
        }
        let (base, what) = match phone::international(digits) {
            phone::International::Valid { country, code } => (
                0.75,
                format!("{country} phone number (+{code}) with a valid national length"),
            ),
            phone::International::UnknownCode => (
                0.45,
                "international phone number with an unlisted calling code".to_owned(),
            ),
            phone::International::BadLength => return false,
        };
        let Some(score) = grade(ctx, &[Topic::Phone], base, 0.95, Some(0.4)) else {
            return false;
        };
        self.emit(
            out,
            Entity::Phone,
            num.start,
            num.end,
            score,
            format!("{what}{}", ctx.because(Topic::Phone)),
        );
        true
    }

    fn national_phone(
        &self,
        num: &Num,
        national: Option<&'static str>,
        ctx: &Ctx,
        out: &mut Vec<Finding>,
    ) -> bool {
        let phone_ctx = ctx.has(Topic::Phone);
        let (score, label) = match national {
            Some(label) if phone_ctx => (0.9, label),
            Some(_) if ctx.has(Topic::Negative) => return false,
            Some(label) if num.paren_first || num.seps & (SEP_DASH | SEP_DOT) != 0 => (0.6, label),
            Some(label) => (0.45, label),
            None if phone_ctx && num.compact() => match phone::compact(num.d()) {
                Some(label) => (0.7, label),
                None => return false,
            },
            None => return false,
        };
        let why = format!(
            "phone number in {label} national format{}",
            ctx.because(Topic::Phone)
        );
        self.emit(out, Entity::Phone, num.start, num.end, score, why);
        true
    }
}

/// Card numbers are written as one block or in the issuers' groupings (4-4-4-4, Amex 4-6-5, Diners 4-6-4).
fn card_grouping(g: &[u8], uniform: bool, seps: u8) -> bool {
    if g.len() == 1 {
        return true;
    }
    if !uniform || !(seps == SEP_SPACE || seps == SEP_DASH) {
        return false;
    }
    let (last, body) = g.split_last().unwrap_or((&0, &[]));
    (body.iter().all(|&l| l == 4) && (1..=4).contains(last)) || g == [4, 6, 5] || g == [4, 6, 4]
}

const MONTH_NAMES: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("januar", 1),
    ("jänner", 1),
    ("janvier", 1),
    ("enero", 1),
    ("gennaio", 1),
    ("february", 2),
    ("feb", 2),
    ("februar", 2),
    ("février", 2),
    ("fevrier", 2),
    ("febrero", 2),
    ("febbraio", 2),
    ("march", 3),
    ("mar", 3),
    ("märz", 3),
    ("mars", 3),
    ("marzo", 3),
    ("april", 4),
    ("apr", 4),
    ("avril", 4),
    ("abril", 4),
    ("aprile", 4),
    ("may", 5),
    ("mai", 5),
    ("mayo", 5),
    ("maggio", 5),
    ("june", 6),
    ("jun", 6),
    ("juni", 6),
    ("juin", 6),
    ("junio", 6),
    ("giugno", 6),
    ("july", 7),
    ("jul", 7),
    ("juli", 7),
    ("juillet", 7),
    ("julio", 7),
    ("luglio", 7),
    ("august", 8),
    ("aug", 8),
    ("août", 8),
    ("aout", 8),
    ("agosto", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("septembre", 9),
    ("septiembre", 9),
    ("setiembre", 9),
    ("settembre", 9),
    ("october", 10),
    ("oct", 10),
    ("oktober", 10),
    ("octobre", 10),
    ("octubre", 10),
    ("ottobre", 10),
    ("november", 11),
    ("nov", 11),
    ("novembre", 11),
    ("noviembre", 11),
    ("december", 12),
    ("dec", 12),
    ("dezember", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("diciembre", 12),
    ("dicembre", 12),
];

fn month_number(word: &str) -> Option<u32> {
    MONTH_NAMES
        .iter()
        .find(|(name, _)| word.chars().flat_map(char::to_lowercase).eq(name.chars()))
        .map(|&(_, m)| m)
}

#[cfg(test)]
mod tests;
