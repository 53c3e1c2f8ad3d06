//! Secrets: provider tokens, private keys, JWTs, connection strings and password assignments.
//!
//! Rules are data (`rules.toml`, embedded and compiled once per process). Each rule names lower-case keywords;
//! one case-insensitive Aho-Corasick pass over the text finds them all, and a rule's regex (or detector) runs only
//! on a bounded window around its keywords. Clean text therefore costs one automaton pass whatever the number of
//! rules. Candidates then go through placeholder rejection (`AKIAIOSFODNN7EXAMPLE`, `${VAR}`, `changeme`), an
//! entropy floor where the format alone is weak, and a validator where the format has structure to check
//! (GitHub/npm CRC32, JWT header and claims, bech32, Basic credentials).
//!
//! Spans cover the secret value itself (not `api_key=`), so redaction keeps the surrounding text readable.

mod detectors;
mod placeholder;
mod rules;
mod validate;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use rampart_core::{BuildError, Category, Finding, Input, RuleMeta, Scanner, Span, View};
use regex_automata::Input as ReInput;

use crate::util::{
    ceil_char_boundary, check_keys, floor_char_boundary, opt_bool, opt_strings, shannon_entropy,
};
use rules::{COMPILED, Compiled, MAX_RULES, Matcher, Rule};
use validate::Check;

/// Scanner id.
pub const ID: &str = "secrets";

/// Every option with its default.
pub const EXAMPLE_CONFIG: &str = r#"# Report `password = "…"`, `api_key: …` and similar assignments whose key names no provider, when the value
# looks random enough. Provider formats (ghp_…, sk_live_…, AKIA…) are reported either way.
generic = true
# Shannon entropy, in bits per character, that a generic secret value must reach. Short passwords are held to
# a length-adjusted bar (a 7-character value cannot exceed log2(7) = 2.8).
min_entropy = 3.5
# Run only these rules, by id (`SEC0041`) or name (`github-pat`); empty runs every rule.
rules = []
# Never run these rules, by id or name.
disabled_rules = []
"#;

const OPTIONS: &[&str] = &["generic", "min_entropy", "rules", "disabled_rules"];

/// The compiled secrets scanner.
pub struct SecretsScanner {
    compiled: &'static Compiled,
    enabled: Vec<bool>,
    metas: Vec<RuleMeta>,
    min_entropy: f64,
    max_span: usize,
}

impl std::fmt::Debug for SecretsScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsScanner")
            .field("rules", &self.metas.len())
            .field("min_entropy", &self.min_entropy)
            .finish()
    }
}

fn config_error(message: impl Into<String>) -> BuildError {
    BuildError::Config {
        scanner: ID.into(),
        message: message.into(),
    }
}

fn compiled() -> Result<&'static Compiled, BuildError> {
    match &*COMPILED {
        Ok(c) => Ok(c),
        Err((rule, message)) => Err(BuildError::Rule {
            rule: rule.clone(),
            message: message.clone(),
        }),
    }
}

/// Builds the scanner from its policy options (see [`EXAMPLE_CONFIG`]).
pub fn build(options: &toml::Table) -> Result<Box<dyn Scanner>, BuildError> {
    Ok(Box::new(SecretsScanner::from_options(options)?))
}

impl SecretsScanner {
    /// Builds the scanner from its policy options; unknown options and unknown rule names are errors.
    pub fn from_options(options: &toml::Table) -> Result<SecretsScanner, BuildError> {
        check_keys(ID, options, OPTIONS)?;
        let compiled = compiled()?;
        let generic = opt_bool(ID, options, "generic", true)?;
        let min_entropy = match options.get("min_entropy") {
            None => 3.5,
            Some(v) => v
                .as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .filter(|f| (0.0..=8.0).contains(f))
                .ok_or_else(|| {
                    config_error("`min_entropy` must be a number in 0.0..=8.0 (bits per character)")
                })?,
        };
        let find = |key: &str, wanted: &str| {
            compiled
                .rules
                .iter()
                .position(|r| r.def.id == wanted || r.def.name == wanted)
                .ok_or_else(|| config_error(format!("`{key}` names unknown rule `{wanted}`")))
        };
        let only = opt_strings(ID, options, "rules")?;
        let mut enabled = vec![only.is_empty(); compiled.rules.len()];
        for name in &only {
            enabled[find("rules", name)?] = true;
        }
        for name in &opt_strings(ID, options, "disabled_rules")? {
            enabled[find("disabled_rules", name)?] = false;
        }
        if !generic {
            for (on, rule) in enabled.iter_mut().zip(&compiled.rules) {
                *on &= !rule.def.generic;
            }
        }
        let metas = compiled
            .rules
            .iter()
            .zip(&enabled)
            .filter(|(_, on)| **on)
            .map(|(r, _)| meta(r))
            .collect();
        let max_span = compiled
            .rules
            .iter()
            .zip(&enabled)
            .filter(|(_, on)| **on)
            .map(|(r, _)| r.max_len())
            .max();
        Ok(SecretsScanner {
            compiled,
            enabled,
            metas,
            min_entropy,
            max_span: max_span.unwrap_or(0),
        })
    }

    /// Scans one text (the original or a view) and pushes findings with spans in the original.
    fn scan_text(
        &self,
        text: &str,
        view: Option<&View>,
        original: &str,
        now: i64,
        out: &mut Vec<Finding>,
    ) {
        let rules = &self.compiled.rules;
        // Per-rule pending window; windows of one rule that touch are merged, so each byte is searched by a
        // rule at most once however many keywords it holds (linear time on `ghp_ghp_ghp_…`).
        let mut pending = [(0usize, 0usize); MAX_RULES];
        for m in self.compiled.automaton.find_overlapping_iter(text) {
            let Some(owners) = self.compiled.keyword_rules.get(m.pattern().as_usize()) else {
                continue;
            };
            for &index in owners {
                let index = usize::from(index);
                if !self.enabled.get(index).copied().unwrap_or(false) {
                    continue;
                }
                let rule = &rules[index];
                if !passes_gate(rule, text.as_bytes(), m.start(), m.end()) {
                    continue;
                }
                let from = m.start().saturating_sub(rule.before);
                let to = m.start().saturating_add(rule.after).min(text.len());
                let slot = &mut pending[index];
                if slot.1 > 0 && from <= slot.1 {
                    slot.1 = slot.1.max(to);
                } else {
                    if slot.1 > 0 {
                        self.run_rule(rule, text, *slot, view, original, now, out);
                    }
                    *slot = (from, to);
                }
            }
        }
        for (rule, window) in rules.iter().zip(pending.iter()) {
            if window.1 > 0 {
                self.run_rule(rule, text, *window, view, original, now, out);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_rule(
        &self,
        rule: &'static Rule,
        text: &str,
        (from, to): (usize, usize),
        view: Option<&View>,
        original: &str,
        now: i64,
        out: &mut Vec<Finding>,
    ) {
        let from = floor_char_boundary(text, from);
        let to = ceil_char_boundary(text, to);
        let mut emit = |start: usize, end: usize, score: f32, explanation: String| {
            let span = match view {
                None => Span::new(start, end),
                Some(v) => match v.to_original(Span::new(start, end)) {
                    Some(s) => s,
                    None => return,
                },
            };
            if span.end > original.len()
                || !original.is_char_boundary(span.start)
                || !original.is_char_boundary(span.end)
                || span.is_empty()
            {
                return;
            }
            let explanation = if view.is_some() {
                format!("{explanation} (seen after Unicode normalisation)")
            } else {
                explanation
            };
            out.push(finding(rule, span, score, explanation));
        };
        match &rule.matcher {
            Matcher::Regex {
                re,
                secret,
                value,
                key,
            } => {
                // ASCII rules run in byte mode, so a group may stop inside a multi-byte character at a
                // repetition cap: groups are snapped to whole characters before anything slices them.
                let group = |caps: &regex_automata::util::captures::Captures, g: usize| {
                    caps.get_group(g)
                        .and_then(|s| crate::util::char_span(text, s.start, s.end))
                };
                for caps in re.captures_iter(ReInput::new(text).span(from..to)) {
                    let (Some(secret_span), Some(value_span)) =
                        (group(&caps, *secret), group(&caps, *value))
                    else {
                        continue;
                    };
                    if secret_span.is_empty() || secret_span.len() > rule.max_len() {
                        continue;
                    }
                    let (Some(secret_text), Some(value_text)) =
                        (text.get(secret_span.clone()), text.get(value_span))
                    else {
                        continue;
                    };
                    let key_text = key.and_then(|k| group(&caps, k)).and_then(|s| text.get(s));
                    if let Some((score, explanation)) =
                        self.judge(rule, secret_text, value_text, key_text, now)
                    {
                        emit(secret_span.start, secret_span.end, score, explanation);
                    }
                }
            }
            Matcher::Pem { pgp } => detectors::pem(text, from, to, *pgp, rule.after, &mut |hit| {
                emit(hit.start, hit.end, hit.score, hit.note)
            }),
            Matcher::Putty => detectors::putty(text, from, to, rule.after, &mut |hit| {
                emit(hit.start, hit.end, hit.score, hit.note)
            }),
        }
    }

    /// Decides whether a regex candidate is a secret: placeholders, entropy, validator. Returns the score and
    /// the explanation, which never contains the value.
    fn judge(
        &self,
        rule: &Rule,
        secret: &str,
        value: &str,
        key: Option<&str>,
        now: i64,
    ) -> Option<(f32, String)> {
        let def = &rule.def;
        if placeholder::is_placeholder(value, def.generic) {
            return None;
        }
        let entropy = shannon_entropy(value.as_bytes());
        if def.generic {
            return self.judge_generic(rule, value, entropy, key);
        }
        if def.min_entropy.is_some_and(|min| entropy < min) {
            return None;
        }
        let (score, note) = match rule.validator {
            None => (def.score, String::new()),
            Some(v) => match validate::run(v, secret, def.score, now) {
                Check::Reject => return None,
                Check::Keep { score, note } => (score, note),
            },
        };
        let mut explanation = def.label.clone();
        if !note.is_empty() {
            explanation.push_str(", ");
            explanation.push_str(&note);
        }
        if let Some(key) = key.filter(|k| !k.contains(value)) {
            explanation.push_str(&format!(
                ", assigned to `{}`",
                key.chars().take(40).collect::<String>()
            ));
        }
        Some((score, explanation))
    }

    /// Generic assignments have no format, so the value itself must look like a secret.
    fn judge_generic(
        &self,
        rule: &Rule,
        value: &str,
        entropy: f64,
        key: Option<&str>,
    ) -> Option<(f32, String)> {
        let len = value.chars().count();
        let is_password = rule.def.entity == "PASSWORD";
        let classes = placeholder::char_classes(value);
        let (threshold, ceiling) = if is_password {
            // A short password cannot reach a fixed bar (7 distinct characters give log2(7) = 2.8 bits), so
            // the bar follows the length; mixing character classes is what separates `hunter2` from `remember`.
            let ceiling = (len as f64).log2();
            if classes < 2 || len < 6 {
                return None;
            }
            (self.min_entropy.min(ceiling - 0.7), ceiling)
        } else {
            if len < 16 || classes < 2 || !value.bytes().any(|b| b.is_ascii_digit()) {
                return None;
            }
            (self.min_entropy, (len as f64).log2().min(6.0))
        };
        if entropy < threshold {
            return None;
        }
        let spread = (ceiling - threshold).max(0.1);
        let t = ((entropy - threshold) / spread).clamp(0.0, 1.0) as f32;
        let score = (rule.def.score + 0.25 * t).min(0.75);
        // A key name that happens to contain the value would leak it through the explanation.
        let key = key
            .filter(|k| !k.contains(value))
            .map_or(String::new(), |k| {
                format!(" assigned to `{}`", k.chars().take(40).collect::<String>())
            });
        Some((
            score,
            format!(
                "{}: {len}-character literal with {entropy:.1} bits/char entropy{key}",
                rule.def.label
            ),
        ))
    }
}

/// Cheap byte checks that spare the regex most keyword hits in prose (`pass` in "passage", `pat` in "path").
fn passes_gate(rule: &Rule, bytes: &[u8], start: usize, end: usize) -> bool {
    let min_run = rule.def.min_run;
    if min_run > 0 {
        // The token holding the keyword is one run of non-blank bytes at least `min_run` long.
        let mut len = end - start;
        let mut i = start;
        while len < min_run && i > 0 && !bytes[i - 1].is_ascii_whitespace() {
            i -= 1;
            len += 1;
        }
        let mut j = end;
        while len < min_run && j < bytes.len() && !bytes[j].is_ascii_whitespace() {
            j += 1;
            len += 1;
        }
        if len < min_run {
            return false;
        }
    }
    if rule.def.generic {
        // Generic rules need an assignment: the rest of the key name, an optional closing quote, blanks, then
        // `=` or `:` (which also covers `:=` and `=>`).
        let mut j = end;
        let key_end = (end + 40).min(bytes.len());
        while j < key_end
            && (bytes[j].is_ascii_alphanumeric() || matches!(bytes[j], b'_' | b'.' | b'-'))
        {
            j += 1;
        }
        if j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b'`') {
            j += 1;
        }
        let blank_end = (j + 8).min(bytes.len());
        while j < blank_end && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        return j < bytes.len() && matches!(bytes[j], b'=' | b':');
    }
    true
}

fn meta(rule: &'static Rule) -> RuleMeta {
    RuleMeta {
        id: Cow::Borrowed(rule.def.id.as_str()),
        name: Cow::Borrowed(rule.def.name.as_str()),
        entity: Some(Cow::Borrowed(rule.def.entity.as_str())),
        category: Category::Secret,
        severity: rule.def.severity,
        description: Cow::Borrowed(rule.def.description.as_str()),
    }
}

fn finding(rule: &'static Rule, span: Span, score: f32, explanation: String) -> Finding {
    Finding {
        scanner: Cow::Borrowed(ID),
        rule: Cow::Borrowed(rule.def.id.as_str()),
        name: Cow::Borrowed(rule.def.name.as_str()),
        entity: Some(Cow::Borrowed(rule.def.entity.as_str())),
        category: Category::Secret,
        severity: rule.def.severity,
        score: score.clamp(0.0, 1.0),
        span,
        explanation,
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Scanner for SecretsScanner {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleMeta] {
        &self.metas
    }

    fn scan(&self, input: &Input<'_>, out: &mut Vec<Finding>) {
        let start = out.len();
        let now = now_unix();
        self.scan_text(input.text, None, input.text, now, out);
        if let Some(view) = &input.views.normalized {
            self.scan_text(&view.text, Some(view), input.text, now, out);
        }
        if out.len() > start + 1 {
            crate::util::keep_strongest_overlapping(out, start);
        }
    }

    fn max_span(&self) -> Option<usize> {
        Some(self.max_span)
    }
}
