//! Prompt-injection and jailbreak detection: signatures, the shipped classifier, context from documents and
//! hidden HTML, and their fusion into one calibrated score per input.
//!
//! Every input is searched in its original text, its normalised view, each decoded view (base64, hex, …) and,
//! for documents and HTML, the hidden parts of the markup. Matches are mapped back to the original bytes and the
//! evidence is fused (see [`fusion`]) into one score; when it reaches the sensitivity's threshold the scanner
//! reports one finding per matched signature, or one document-level finding (`INJ0000`) when only the classifier
//! and context spoke. In the output direction it also looks for configured canary tokens ([`canary`]).
//!
//! An optional [`transformer`] layer (cargo feature `transformer`) adds a local DeBERTa/ModernBERT/BERT
//! sequence classifier named in the policy; its probability is one more term of the fusion rule.

pub mod canary;
pub mod classifier;
pub mod fusion;
pub mod html;
mod signatures;
#[cfg(test)]
mod tests;
pub mod transformer;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use rampart_core::{
    BuildError, Category, Direction, Finding, Input, RuleMeta, Scanner, Severity, Span, View,
    ViewKind,
};

pub use canary::{Canary, LeakDetector};
pub use fusion::{Evidence, ModelVote, Sensitivity};

use crate::util::{
    ceil_char_boundary, check_keys, floor_char_boundary, opt_bool, opt_strings, opt_unit,
};
use signatures::{RuleSet, Signatures};
use transformer::{TransformerClassifier, TransformerOptions, TransformerScore};

/// Scanner id.
pub const ID: &str = "injection";

/// Every option with its default.
pub const EXAMPLE_CONFIG: &str = r#"# How eagerly to report: "low" (fused score >= 0.8), "balanced" (>= 0.6) or "strict" (>= 0.45).
sensitivity = "balanced"
# Fused-score threshold in 0..1; when set it overrides the sensitivity's.
# threshold = 0.6
# Fuse the shipped classifier's probability with the signatures.
classifier = true
# Also run the classifier (and the transformer) on model answers. Both learnt what attacks on a model look like
# from prompts; an answer is text of another kind (it may explain, quote or refuse an attack), so by default
# answers get the signatures, which name instructions aimed at whoever reads the answer next, and the canary checks.
output_models = false
# Look inside hidden HTML (comments, display:none, alt text, white-on-white) of documents and HTML-looking text.
hidden_html = true
# A local transformer checkpoint as one more fused layer (needs a build with `--features transformer`; see
# docs/transformer.md). A path string, or a table: weight multiplies its log-odds (0 = shadow: shown, not
# fused); long texts are scored in windows of max_length tokens sharing overlap tokens, at most max_chunks
# per text, batch_size per forward pass, threads matrix-multiplication threads (0 = all); injection_labels = [] picks the
# attack labels from their names (INJECTION, JAILBREAK, MALICIOUS, ...).
# transformer = { path = "/models/prompt-guard", weight = 1.0, max_length = 512, overlap = 64, max_chunks = 8, batch_size = 8, threads = 0, injection_labels = [] }
# Canary tokens planted in system prompts (see `Canary`); one in an output is a leak (INJ0901).
canaries = []
# Rule ids to switch off, e.g. ["INJ0010"].
disable = []
"#;

const OPTIONS: &[&str] = &[
    "sensitivity",
    "threshold",
    "classifier",
    "hidden_html",
    "output_models",
    "canaries",
    "disable",
    "transformer",
];

/// Rule id of the document-level finding reported when the fused score passes without a signature.
pub const SCORE_RULE: &str = "INJ0000";

/// How far above the sensitivity threshold a classifier-only score must be to be reported.
pub const CLASSIFIER_ONLY_MARGIN: f32 = 0.15;

/// Fewest words a text needs before the classifier alone may report it. Greetings and acknowledgements
/// ("ok", "hello world", "sorry, typo") give a bag-of-n-grams model almost nothing to go on, and a text that
/// short carries no instruction a signature would not name.
pub const CLASSIFIER_ONLY_MIN_WORDS: usize = 3;

/// Below this many words a classifier-only score must reach [`SHORT_TEXT_MIN_SCORE`].
pub const SHORT_TEXT_WORDS: usize = 12;

/// The classifier-only bar for short texts.
pub const SHORT_TEXT_MIN_SCORE: f32 = 0.95;

/// Hits remembered per input; more would not change the decision, only the number of findings.
const MAX_HITS: usize = 32;
/// Distinct rules that feed the signature score.
const MAX_RULE_WEIGHTS: usize = 16;
/// Characters of matched text quoted in an explanation.
const EXCERPT_CHARS: usize = 48;

/// Where a hit was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Original,
    Normalized,
    /// Index into `input.views.decoded`.
    Decoded(u16),
    /// Tag-stripped visible HTML text.
    HtmlVisible,
    /// Index into the hidden HTML segments.
    Hidden(u16),
}

impl Source {
    fn obfuscated(self) -> bool {
        matches!(self, Source::Normalized | Source::Decoded(_))
    }
}

#[derive(Clone, Copy, Debug)]
struct Hit {
    rule: u16,
    /// Span in the original text.
    span: Span,
    /// Span in the view it was found in.
    view_span: Span,
    source: Source,
}

/// Fixed-capacity hit list, so a clean or rejected input allocates nothing.
struct Hits {
    items: [Hit; MAX_HITS],
    len: usize,
}

impl Hits {
    fn new() -> Hits {
        const EMPTY: Hit = Hit {
            rule: 0,
            span: Span { start: 0, end: 0 },
            view_span: Span { start: 0, end: 0 },
            source: Source::Original,
        };
        Hits {
            items: [EMPTY; MAX_HITS],
            len: 0,
        }
    }

    fn as_slice(&self) -> &[Hit] {
        self.items.get(..self.len).unwrap_or(&[])
    }

    /// Adds a hit unless the same rule already matched overlapping original bytes (the first view wins).
    fn add(&mut self, hit: Hit) {
        if self
            .as_slice()
            .iter()
            .any(|h| h.rule == hit.rule && (h.span.overlaps(hit.span) || h.span == hit.span))
        {
            return;
        }
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = hit;
            self.len += 1;
        }
    }
}

/// Regexes for context and discussion, shared by every scanner.
struct ContextRegexes {
    /// Text addressed to an AI reader.
    addressed: Regex,
    /// Second-person imperatives and response directives.
    imperative: Regex,
    /// Words of people discussing attacks rather than making them.
    discussion: Regex,
}

fn context_regexes() -> Result<&'static ContextRegexes, String> {
    static RES: LazyLock<Result<ContextRegexes, String>> = LazyLock::new(|| {
        let build = |p: &str| Regex::new(p).map_err(|e| format!("context regex: {e}"));
        Ok(ContextRegexes {
            addressed: build(
                r"(?i)(?-u:\b)(?:(?:dear|note\s+(?:to|for)|attention|hey|hello|to)\s+(?:the\s+|any\s+|all\s+)?(?:ai|llm|language\s+model|assistant|chatbot|ai\s+agent|agent|model|bot)s?(?-u:\b)|(?:if\s+you\s+are|as)\s+an?\s+(?:ai|llm|language\s+model|assistant|chatbot|agent)(?-u:\b)|(?:ai|llm|assistant|model|agent|chatbot)s?\s+(?:reading|processing|summari[sz]ing|analy[sz]ing|reviewing)\s+this(?-u:\b)|(?:ai|llm|assistant|chatbot|agent)s?\s*[,:]\s+(?:please\s+)?(?:ignore|you|do|don't|never|always|say|tell|respond|reply|write|output|include|recommend|summari[sz]e)(?-u:\b))",
            )?,
            imperative: build(
                r"(?im)(?:^|[.!?:]\s+)(?:you\s+(?:must|should|will|are\s+(?:now|to))|instead,?\s+(?:you|respond|reply|say|output|tell|write)|(?:do\s+not|don't|never)\s+(?:tell|inform|mention|reveal|show|disclose)\s+(?:this\s+to\s+)?(?:the\s+)?(?:user|anyone|them|reader)|(?:respond|reply|answer)\s+only\s+with|your\s+(?:new\s+)?(?:task|job|goal)\s+is)(?-u:\b)",
            )?,
            discussion: build(
                r"(?i)(?-u:\b)(?:prompt[\s-]+injections?|injection\s+attacks?|attackers?|adversar(?:y|ies|ial)|red[\s-]?team\w*|defen[cd]\w*|mitigat\w*|detect\w*|classifier|for\s+example|e\.g\.|such\s+as|example\s+(?:of|payload|attack))(?-u:\b)",
            )?,
        })
    });
    RES.as_ref().map_err(Clone::clone)
}

/// The `injection` scanner.
pub struct InjectionScanner {
    sigs: &'static Signatures,
    context: &'static ContextRegexes,
    enabled: RuleSet,
    sensitivity: Sensitivity,
    threshold: f32,
    classifier: Option<&'static classifier::Classifier>,
    transformer: Option<TransformerClassifier>,
    hidden_html: bool,
    output_models: bool,
    leaks: Option<LeakDetector>,
    metas: Vec<RuleMeta>,
}

impl std::fmt::Debug for InjectionScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InjectionScanner")
            .field("sensitivity", &self.sensitivity)
            .field("threshold", &self.threshold)
            .field("classifier", &self.classifier.is_some())
            .field("transformer", &self.transformer)
            .field("hidden_html", &self.hidden_html)
            .field("output_models", &self.output_models)
            .finish()
    }
}

fn config_error(message: String) -> BuildError {
    BuildError::Config {
        scanner: ID.into(),
        message,
    }
}

/// Builds the scanner.
pub fn build(options: &toml::Table) -> Result<Box<dyn Scanner>, BuildError> {
    Ok(Box::new(InjectionScanner::from_options(options)?))
}

impl InjectionScanner {
    /// Builds the scanner from its policy options (see [`EXAMPLE_CONFIG`]).
    pub fn from_options(options: &toml::Table) -> Result<InjectionScanner, BuildError> {
        check_keys(ID, options, OPTIONS)?;
        let sigs = signatures::signatures().map_err(|m| BuildError::Rule {
            rule: "rules.toml".into(),
            message: m,
        })?;
        let context = context_regexes().map_err(|m| BuildError::Rule {
            rule: SCORE_RULE.into(),
            message: m,
        })?;
        let sensitivity = match options.get("sensitivity") {
            None => Sensitivity::default(),
            Some(v) => v.as_str().and_then(Sensitivity::from_name).ok_or_else(|| {
                config_error("`sensitivity` must be \"low\", \"balanced\" or \"strict\"".into())
            })?,
        };
        let threshold = opt_unit(ID, options, "threshold", sensitivity.threshold())?;
        let classifier =
            opt_bool(ID, options, "classifier", true)?.then(classifier::Classifier::embedded);
        let transformer = match options.get("transformer") {
            None => None,
            Some(value) => {
                let load = TransformerOptions::from_toml(value)
                    .and_then(|o| TransformerClassifier::load(&o));
                Some(load.map_err(|e| config_error(format!("`transformer`: {e}")))?)
            }
        };
        let hidden_html = opt_bool(ID, options, "hidden_html", true)?;
        let output_models = opt_bool(ID, options, "output_models", false)?;
        let canaries = opt_strings(ID, options, "canaries")?;
        let mut enabled = RuleSet::all(sigs.rules.len());
        for id in opt_strings(ID, options, "disable")? {
            let index = sigs
                .rules
                .iter()
                .position(|r| r.def.id == id)
                .ok_or_else(|| config_error(format!("`disable` names unknown rule `{id}`")))?;
            enabled.remove(index);
        }
        let leaks = (!canaries.is_empty()).then(|| LeakDetector::for_canaries(&canaries));
        let mut metas = vec![RuleMeta {
            id: Cow::Borrowed(SCORE_RULE),
            name: Cow::Borrowed("injection-score"),
            entity: None,
            category: Category::PromptInjection,
            severity: Severity::High,
            description: Cow::Borrowed(
                "The fused injection score (classifier, document context, hidden or encoded text) passed the threshold without a matching signature.",
            ),
        }];
        metas.extend(sigs.rules.iter().map(|r| RuleMeta {
            id: Cow::Owned(r.def.id.clone()),
            name: Cow::Owned(r.def.name.clone()),
            entity: None,
            category: r.def.category,
            severity: r.def.severity,
            description: Cow::Owned(format!(
                "{} (MITRE ATLAS {})",
                r.def.description, r.def.atlas
            )),
        }));
        metas.extend(canary::rule_metas());
        Ok(InjectionScanner {
            sigs,
            context,
            enabled,
            sensitivity,
            threshold,
            classifier,
            transformer,
            hidden_html,
            output_models,
            leaks,
            metas,
        })
    }

    /// The fused score of `input` and the evidence behind it, without producing findings.
    pub fn evaluate(&self, input: &Input<'_>) -> Evidence {
        let mut hits = Hits::new();
        let extracted = self.extract_html(input);
        self.analyse(input, extracted.as_ref(), &mut hits).evidence
    }

    fn extract_html(&self, input: &Input<'_>) -> Option<(View, Vec<html::HiddenSegment>)> {
        (self.hidden_html
            && (input.direction == Direction::Document || html::looks_like_html(input.text)))
        .then(|| html::visible_and_hidden(input.text))
    }

    /// Runs the signatures over one text and records hits mapped to the original.
    fn collect(
        &self,
        input_text: &str,
        text: &str,
        view: Option<&View>,
        source: Source,
        hits: &mut Hits,
    ) {
        self.sigs.find(text, &self.enabled, |m| {
            let original = match view {
                None => Some(m.span),
                Some(v) => v.to_original(m.span),
            };
            let Some(original) = original else { return };
            let start = floor_char_boundary(input_text, original.start);
            let end = ceil_char_boundary(input_text, original.end.max(start));
            hits.add(Hit {
                rule: m.rule,
                span: Span::new(start, end),
                view_span: m.span,
                source,
            });
        });
    }

    fn analyse(
        &self,
        input: &Input<'_>,
        extracted: Option<&(View, Vec<html::HiddenSegment>)>,
        hits: &mut Hits,
    ) -> Analysis {
        let text = input.text;
        let hidden = extracted.map(|(_, h)| h.as_slice());
        // Hidden segments first, so a hidden instruction keeps its provenance when the raw text matches too.
        for (i, seg) in hidden.unwrap_or(&[]).iter().enumerate() {
            self.collect(
                text,
                &seg.view.text,
                Some(&seg.view),
                Source::Hidden(i as u16),
                hits,
            );
        }
        self.collect(text, text, None, Source::Original, hits);
        if let Some(v) = &input.views.normalized {
            self.collect(text, &v.text, Some(v), Source::Normalized, hits);
        }
        for (i, v) in input.views.decoded.iter().enumerate() {
            self.collect(text, &v.text, Some(v), Source::Decoded(i as u16), hits);
        }
        // Tag-stripped text can join words split by markup ("ig<b></b>nore"); only worth a pass when it differs.
        if let Some((visible, _)) = extracted
            && visible.text.len() != text.len()
        {
            self.collect(
                text,
                &visible.text,
                Some(visible),
                Source::HtmlVisible,
                hits,
            );
        }

        let signatures = self.signature_score(hits);

        let models = input.direction != Direction::Output || self.output_models;
        let (classifier, clf_source) = match self.classifier.filter(|_| models) {
            None => (None, None),
            Some(c) => {
                let mut best = (c.score(text), None);
                let extra = input
                    .views
                    .decoded
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v, Source::Decoded(i as u16)));
                for (v, src) in extra {
                    let p = c.score(&v.text);
                    if p > best.0 {
                        best = (p, Some((src, v)));
                    }
                }
                (
                    Some(best.0),
                    best.1
                        .map(|(s, v)| (s, v.to_original(Span::new(0, v.text.len())))),
                )
            }
        };

        let transformer = self
            .transformer
            .as_ref()
            .filter(|_| models)
            .map(|t| self.run_transformer(t, input));
        let tf_vote = match &transformer {
            Some(TransformerOutcome::Scored { score, .. }) => Some(ModelVote {
                probability: score.probability,
                weight: self
                    .transformer
                    .as_ref()
                    .map_or(0.0, |t| t.options().weight),
            }),
            _ => None,
        };

        let mut context = 0.0;
        let mut addressed = false;
        if input.direction == Direction::Document {
            addressed = self.context.addressed.is_match(text);
            if addressed {
                context += 0.5;
            }
            if self.context.imperative.is_match(text) {
                context += 0.5;
            }
        }

        let obfuscated = hits.as_slice().iter().any(|h| h.source.obfuscated())
            || clf_source.is_some_and(|_| classifier.is_some_and(|p| p >= 0.5))
            || matches!(&transformer, Some(TransformerOutcome::Scored { score, source: Some(_) })
                if score.probability >= 0.5 && tf_vote.is_some_and(|v| v.weight > 0.0));
        let hidden_hit = hits
            .as_slice()
            .iter()
            .any(|h| matches!(h.source, Source::Hidden(_)));
        let mut meta = 0.0;
        if hits.len > 0 {
            if hits.as_slice().iter().all(|h| quoted(text, h.span)) {
                meta += 0.5;
            }
            if self.context.discussion.is_match(text) {
                meta += 0.5;
            }
        }
        Analysis {
            evidence: Evidence {
                signatures,
                classifier,
                transformer: tf_vote,
                context,
                obfuscated,
                hidden: hidden_hit,
                meta,
            },
            addressed,
            clf_source: clf_source.map(|(s, span)| (s, span.unwrap_or(Span::new(0, text.len())))),
            transformer,
        }
    }

    /// Scores the text and its decoded views with the transformer; the highest view wins, as for the
    /// shipped classifier.
    fn run_transformer(&self, t: &TransformerClassifier, input: &Input<'_>) -> TransformerOutcome {
        let mut texts = Vec::with_capacity(1 + input.views.decoded.len());
        texts.push(input.text);
        texts.extend(input.views.decoded.iter().map(|v| v.text.as_str()));
        let scores = match t.score_texts(&texts) {
            Ok(s) => s,
            Err(e) => return TransformerOutcome::Failed(e.to_string()),
        };
        let mut best: Option<(usize, TransformerScore)> = None;
        for (i, s) in scores.into_iter().enumerate() {
            if let Some(s) = s
                && best.is_none_or(|(_, b)| s.probability > b.probability)
            {
                best = Some((i, s));
            }
        }
        match best {
            None => TransformerOutcome::Empty,
            Some((0, score)) => TransformerOutcome::Scored {
                score,
                source: None,
            },
            Some((i, score)) => {
                let view = input.views.decoded.get(i - 1);
                TransformerOutcome::Scored {
                    score,
                    source: view.map(|v| {
                        let span = v
                            .to_original(Span::new(0, v.text.len()))
                            .unwrap_or(Span::new(0, input.text.len()));
                        (Source::Decoded((i - 1) as u16), span)
                    }),
                }
            }
        }
    }

    /// One line of per-layer evidence shared by all findings of an input.
    fn evidence_line(&self, input: &Input<'_>, a: &Analysis, score: f32) -> String {
        let mut line = String::new();
        match (self.classifier, a.evidence.classifier) {
            (Some(c), Some(p)) => {
                let _ = write!(line, "classifier {p:.2}");
                if p >= 0.5 {
                    let features = c.top_features(input.text, 3);
                    if !features.is_empty() {
                        line.push_str(" (");
                        for (i, (f, _)) in features.iter().enumerate() {
                            if i > 0 {
                                line.push_str(", ");
                            }
                            let _ = write!(line, "'{f}'");
                        }
                        line.push(')');
                    }
                }
            }
            _ => line.push_str("classifier off"),
        }
        if let Some(t) = &self.transformer {
            self.transformer_evidence(t, input, a.transformer.as_ref(), &mut line);
        }
        if a.evidence.context > 0.0 {
            line.push_str(if a.addressed {
                "; addressed to an AI reader inside a document"
            } else {
                "; imperative instructions inside a document"
            });
        }
        if a.evidence.obfuscated {
            line.push_str("; hidden by encoding or look-alike characters");
        }
        if a.evidence.meta > 0.0 {
            let _ = write!(
                line,
                "; discussion/quotation damping {:.1}",
                a.evidence.meta
            );
        }
        let _ = write!(
            line,
            "; fused {score:.2} >= {} threshold {:.2}",
            self.sensitivity.name(),
            self.threshold
        );
        line
    }
}

struct Analysis {
    evidence: Evidence,
    addressed: bool,
    /// The decoded view where the classifier scored highest, with its original span.
    clf_source: Option<(Source, Span)>,
    /// What the transformer layer said, when there is one.
    transformer: Option<TransformerOutcome>,
}

/// The transformer layer's result for one input.
enum TransformerOutcome {
    /// Its highest window probability over the text and its decoded views, and the decoded view it came from.
    Scored {
        score: TransformerScore,
        source: Option<(Source, Span)>,
    },
    /// Nothing to score: the text has no tokens.
    Empty,
    /// The forward pass failed; the layer then counts as absent.
    Failed(String),
}

impl InjectionScanner {
    /// Appends `; transformer p=0.97 (deberta-v2, 2 chunks)` and its provenance to an evidence line.
    fn transformer_evidence(
        &self,
        t: &TransformerClassifier,
        input: &Input<'_>,
        outcome: Option<&TransformerOutcome>,
        line: &mut String,
    ) {
        match outcome {
            Some(TransformerOutcome::Scored { score, source }) => {
                let _ = write!(
                    line,
                    "; transformer p={:.2} ({}, ",
                    score.probability,
                    t.model_type()
                );
                if score.chunks < score.total_chunks {
                    let _ = write!(line, "{} of {} chunks", score.chunks, score.total_chunks);
                } else if score.chunks == 1 {
                    line.push_str("1 chunk");
                } else {
                    let _ = write!(line, "{} chunks", score.chunks);
                }
                if let Some((Source::Decoded(i), span)) = source {
                    let kind = input
                        .views
                        .decoded
                        .get(*i as usize)
                        .map_or("encoded", |v| view_kind(v));
                    let _ = write!(
                        line,
                        ", {kind}-decoded segment at {}..{}",
                        span.start, span.end
                    );
                }
                if t.options().weight == 0.0 {
                    line.push_str(", shadow: not fused");
                }
                line.push(')');
            }
            Some(TransformerOutcome::Empty) => line.push_str("; transformer: no tokens"),
            Some(TransformerOutcome::Failed(e)) => {
                let _ = write!(line, "; transformer failed ({})", e.replace('\n', " "));
            }
            None => {}
        }
    }
}

/// True when a quotation mark opens just before `span` (the phrase is being cited, not used).
fn quoted(text: &str, span: Span) -> bool {
    let before = crate::util::context_before(text, span.start, 4);
    before
        .trim_end()
        .chars()
        .last()
        .is_some_and(|c| matches!(c, '"' | '\'' | '“' | '‘' | '«' | '「' | '`' | '„'))
}

/// The first characters of `s`, with an ellipsis when cut.
fn excerpt(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

impl Scanner for InjectionScanner {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleMeta] {
        &self.metas
    }

    fn needs_decoded_views(&self) -> bool {
        true
    }

    fn scan(&self, input: &Input<'_>, out: &mut Vec<Finding>) {
        if input.direction == Direction::Output
            && let Some(leaks) = &self.leaks
        {
            leaks.scan(input.text, out);
        }
        let extracted = self.extract_html(input);
        let mut hits = Hits::new();
        let a = self.analyse(input, extracted.as_ref(), &mut hits);
        let hidden = extracted.as_ref().map(|(_, h)| h.as_slice());
        self.report(input, hidden, &hits, a, out);
    }
}

/// Words in `text`, counting at most `cap`: runs of letters or digits (apostrophes inside), where each pair of
/// CJK/kana/hangul/Thai characters (written without spaces) counts as one word.
fn count_words(text: &str, cap: usize) -> usize {
    let mut words = 0;
    let mut in_word = false;
    let mut unspaced = 0;
    for c in text.chars() {
        if is_unspaced_script(c) {
            unspaced += 1;
            in_word = false;
            if unspaced % 2 == 0 {
                words += 1;
            }
        } else if c.is_alphanumeric() {
            if !in_word {
                words += 1;
                in_word = true;
            }
        } else if c != '\'' && c != '’' {
            in_word = false;
        }
        if words >= cap {
            return cap;
        }
    }
    (words + unspaced % 2).min(cap)
}

/// The text whose classifier probability went into the score: a decoded view, or the input itself.
fn classified_text<'a>(input: &'a Input<'_>, source: Option<(Source, Span)>) -> &'a str {
    match source {
        Some((Source::Decoded(i), _)) => input
            .views
            .decoded
            .get(i as usize)
            .map_or(input.text, |v| v.text.as_str()),
        _ => input.text,
    }
}

fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x0E00..=0x0E7F)
}

impl InjectionScanner {
    /// Whether a fused score without any signature hit is strong enough to report. The classifier alone must
    /// clear the threshold by [`CLASSIFIER_ONLY_MARGIN`]; on texts under [`SHORT_TEXT_WORDS`] words it must be
    /// near-certain ([`SHORT_TEXT_MIN_SCORE`]), and under [`CLASSIFIER_ONLY_MIN_WORDS`] it may not report at all:
    /// a bag-of-n-grams model sees only a handful of features there, and the short attacks that exist
    /// ("ignore your rules") are what the signatures name.
    fn classifier_alone_suffices(
        &self,
        input: &Input<'_>,
        source: Option<(Source, Span)>,
        score: f32,
    ) -> bool {
        if score < (self.threshold + CLASSIFIER_ONLY_MARGIN).min(0.95) {
            return false;
        }
        let words = count_words(input.text, SHORT_TEXT_WORDS).max(count_words(
            classified_text(input, source),
            SHORT_TEXT_WORDS,
        ));
        if words < CLASSIFIER_ONLY_MIN_WORDS {
            return false;
        }
        words >= SHORT_TEXT_WORDS || score >= SHORT_TEXT_MIN_SCORE
    }

    /// The combined weight of the distinct rules among `hits`.
    fn signature_score(&self, hits: &Hits) -> f32 {
        let mut weights = [0f32; MAX_RULE_WEIGHTS];
        let mut seen = [u16::MAX; MAX_RULE_WEIGHTS];
        let mut distinct = 0;
        for h in hits.as_slice() {
            if distinct < MAX_RULE_WEIGHTS && !seen[..distinct].contains(&h.rule) {
                seen[distinct] = h.rule;
                weights[distinct] = self
                    .sigs
                    .rules
                    .get(h.rule as usize)
                    .map_or(0.0, |r| r.def.weight);
                distinct += 1;
            }
        }
        fusion::combine_signatures(&mut weights[..distinct])
    }

    fn report(
        &self,
        input: &Input<'_>,
        hidden: Option<&[html::HiddenSegment]>,
        hits: &Hits,
        a: Analysis,
        out: &mut Vec<Finding>,
    ) {
        let score = a.evidence.score();
        if score < self.threshold {
            return;
        }
        // The classifier alone is weaker evidence than a signature (it has not seen every kind of benign
        // text: configuration files, logs), so it must clear the threshold by a margin.
        if hits.len == 0 && !self.classifier_alone_suffices(input, a.clf_source, score) {
            return;
        }
        let evidence = self.evidence_line(input, &a, score);
        let text = input.text;
        if hits.len == 0 {
            let tf_source = match &a.transformer {
                Some(TransformerOutcome::Scored { source, .. }) => *source,
                _ => None,
            };
            let (span, provenance) = match a.clf_source.or(tf_source) {
                Some((Source::Decoded(i), span)) => {
                    let kind = input
                        .views
                        .decoded
                        .get(i as usize)
                        .map_or("encoded", |v| view_kind(v));
                    (
                        span,
                        format!("{kind}-decoded segment at {}..{}; ", span.start, span.end),
                    )
                }
                _ => (Span::new(0, text.len()), String::new()),
            };
            out.push(Finding {
                scanner: Cow::Borrowed(ID),
                rule: Cow::Borrowed(SCORE_RULE),
                name: Cow::Borrowed("injection-score"),
                entity: None,
                category: Category::PromptInjection,
                severity: if score >= 0.85 {
                    Severity::High
                } else {
                    Severity::Medium
                },
                score,
                span,
                explanation: format!("{provenance}no signature matched; {evidence}"),
            });
            return;
        }
        for h in hits.as_slice() {
            let Some(rule) = self.sigs.rules.get(h.rule as usize) else {
                continue;
            };
            let def = &rule.def;
            let view_text: &str = match h.source {
                Source::Original => text,
                Source::Normalized => input
                    .views
                    .normalized
                    .as_ref()
                    .map_or("", |v| v.text.as_str()),
                Source::Decoded(i) => input
                    .views
                    .decoded
                    .get(i as usize)
                    .map_or("", |v| v.text.as_str()),
                Source::Hidden(i) => hidden
                    .and_then(|s| s.get(i as usize))
                    .map_or("", |s| s.view.text.as_str()),
                Source::HtmlVisible => "",
            };
            let matched = view_text
                .get(h.view_span.start..h.view_span.end)
                .unwrap_or_else(|| text.get(h.span.start..h.span.end).unwrap_or(""));
            let quote = excerpt(matched);
            let provenance = match h.source {
                Source::Original => String::new(),
                Source::Normalized => format!(
                    "after Unicode normalisation, text at {}..{} reads '{quote}'; ",
                    h.span.start, h.span.end
                ),
                Source::Decoded(i) => {
                    let kind = input
                        .views
                        .decoded
                        .get(i as usize)
                        .map_or("encoded", |v| view_kind(v));
                    format!(
                        "{kind}-decoded segment at {}..{} says '{quote}'; ",
                        h.span.start, h.span.end
                    )
                }
                Source::HtmlVisible => format!(
                    "with HTML tags removed, text at {}..{} reads '{quote}'; ",
                    h.span.start, h.span.end
                ),
                Source::Hidden(i) => {
                    let reason = hidden
                        .and_then(|s| s.get(i as usize))
                        .map_or("hidden markup", |s| s.reason.describe());
                    format!(
                        "hidden HTML ({reason}) contains an instruction to the assistant: '{quote}'; "
                    )
                }
            };
            let matched_part = if h.source == Source::Original {
                format!(" matched '{quote}'")
            } else {
                String::new()
            };
            out.push(Finding {
                scanner: Cow::Borrowed(ID),
                rule: Cow::Owned(def.id.clone()),
                name: Cow::Owned(def.name.clone()),
                entity: None,
                category: def.category,
                severity: def.severity,
                score,
                span: h.span,
                explanation: format!(
                    "{provenance}signature {} {} ({:.2}){matched_part}; {evidence}",
                    def.id, def.name, def.weight
                ),
            });
        }
    }
}

fn view_kind(v: &View) -> &'static str {
    match v.kind {
        ViewKind::Decoded(k) => k,
        ViewKind::Normalized => "normalised",
    }
}
