//! The optional transformer layer: a local sequence-classification checkpoint (DeBERTa-v2/v3, ModernBERT or
//! BERT) whose injection probability is fused with the other layers (see [`super::fusion`]).
//!
//! The policy names a directory holding `config.json`, `tokenizer.json` and `model.safetensors` (see
//! `docs/transformer.md`). The model runs on the CPU through candle, a pure-Rust runtime; nothing is downloaded.
//! Long inputs are cut into overlapping windows of at most `max_length` tokens ([`plan_windows`]), windows of
//! one length run as one batch, and the input's probability is the highest over its windows, so an instruction
//! buried in a long document is judged on its own window rather than diluted by the rest.
//!
//! Options are parsed and checked in every build; the model itself needs the `transformer` cargo feature, and a
//! policy that names a model in a build without it fails to load with [`TransformerError::NotCompiled`] rather
//! than silently running without the layer.

#[cfg(feature = "transformer")]
mod engine;

use std::ops::Range;
use std::path::PathBuf;

#[cfg(feature = "transformer")]
pub use engine::TransformerClassifier;

/// Option keys of the `transformer` table.
pub const OPTIONS: &[&str] = &[
    "path",
    "weight",
    "max_length",
    "overlap",
    "max_chunks",
    "batch_size",
    "threads",
    "injection_labels",
];

/// Label names (upper-cased substrings) that mean "attack" when the policy does not list the labels itself.
pub const ATTACK_LABEL_WORDS: &[&str] =
    &["INJECTION", "JAILBREAK", "MALICIOUS", "UNSAFE", "ATTACK"];

/// Fewest content tokens a window may hold after the special tokens, so overlap and specials never eat it.
pub const MIN_WINDOW_CONTENT: usize = 16;

/// The model families this build can run, by `config.json` `model_type`.
pub const SUPPORTED_MODEL_TYPES: &[&str] = &["deberta-v2", "modernbert", "bert"];

/// How to load and run the checkpoint, from the policy's `transformer` option.
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerOptions {
    /// Directory with `config.json`, `tokenizer.json` and `model.safetensors`.
    pub path: PathBuf,
    /// Multiplier on the model's log-odds in the fusion rule; 0 runs the model in shadow (its probability is
    /// shown in explanations but moves no score).
    pub weight: f32,
    /// Tokens per window, special tokens included; capped by the model's `max_position_embeddings`.
    pub max_length: usize,
    /// Tokens shared by consecutive windows, so a phrase cut by one boundary is whole in the next window.
    pub overlap: usize,
    /// Most windows scored per text; longer texts are sampled evenly, first and last window included. The
    /// decoded views of an input share one more such budget.
    pub max_chunks: usize,
    /// Most windows per forward pass.
    pub batch_size: usize,
    /// Threads for the matrix multiplications, which are most of a forward pass: a pool of this size runs
    /// them; 0 uses the runtime's default (the physical cores, or `RAYON_NUM_THREADS`). Candle's element-wise
    /// operations use one process-wide pool sized by the `CANDLE_NUM_THREADS` environment variable instead.
    pub threads: usize,
    /// Labels whose probabilities add up to the injection probability; empty picks them from the label
    /// names (see [`pick_attack_labels`]).
    pub injection_labels: Vec<String>,
}

impl TransformerOptions {
    /// Options for `path` with every other option at its default.
    pub fn new(path: impl Into<PathBuf>) -> TransformerOptions {
        TransformerOptions {
            path: path.into(),
            weight: 1.0,
            max_length: 512,
            overlap: 64,
            max_chunks: 8,
            batch_size: 8,
            threads: 0,
            injection_labels: Vec::new(),
        }
    }

    /// Parses the policy value: a path string, or a table with `path` and the optional keys in [`OPTIONS`].
    /// Unknown keys and out-of-range values are errors naming the key.
    pub fn from_toml(value: &toml::Value) -> Result<TransformerOptions, TransformerError> {
        let bad =
            |key: &str, want: &str| TransformerError::Option(format!("`{key}` must be {want}"));
        let table = match value {
            toml::Value::String(path) => return Ok(TransformerOptions::new(path)),
            toml::Value::Table(t) => t,
            _ => {
                return Err(TransformerError::Option(
                    "must be a path or a table with `path`".into(),
                ));
            }
        };
        for key in table.keys() {
            if !OPTIONS.contains(&key.as_str()) {
                return Err(TransformerError::Option(format!(
                    "unknown option `{key}` (known: {})",
                    OPTIONS.join(", ")
                )));
            }
        }
        let path = table
            .get("path")
            .ok_or_else(|| TransformerError::Option("`path` is required".into()))?
            .as_str()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| bad("path", "a non-empty string"))?;
        let mut opts = TransformerOptions::new(path);
        let int =
            |key: &str, min: i64, max: i64, default: usize| -> Result<usize, TransformerError> {
                match table.get(key) {
                    None => Ok(default),
                    Some(v) => v
                        .as_integer()
                        .filter(|i| (min..=max).contains(i))
                        .and_then(|i| usize::try_from(i).ok())
                        .ok_or_else(|| bad(key, &format!("an integer in {min}..={max}"))),
                }
            };
        if let Some(v) = table.get("weight") {
            opts.weight = v
                .as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .filter(|w| (0.0..=5.0).contains(w))
                .map(|w| w as f32)
                .ok_or_else(|| bad("weight", "a number in 0.0..=5.0"))?;
        }
        opts.max_length = int("max_length", 32, 8192, opts.max_length)?;
        opts.overlap = int("overlap", 0, 4096, opts.overlap)?;
        opts.max_chunks = int("max_chunks", 1, 4096, opts.max_chunks)?;
        opts.batch_size = int("batch_size", 1, 256, opts.batch_size)?;
        opts.threads = int("threads", 0, 1024, opts.threads)?;
        if let Some(v) = table.get("injection_labels") {
            let list = v
                .as_array()
                .ok_or_else(|| bad("injection_labels", "a list of strings"))?;
            opts.injection_labels = list
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad("injection_labels", "a list of strings"))
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(opts)
    }
}

/// Why the transformer layer could not be set up or run.
#[derive(Debug, thiserror::Error)]
pub enum TransformerError {
    /// The policy names a model but this binary was built without the `transformer` feature.
    #[error(
        "this build has no transformer support; rebuild with `--features transformer` (or remove the `transformer` option)"
    )]
    NotCompiled,
    /// A bad value in the `transformer` option.
    #[error("{0}")]
    Option(String),
    /// `path` is not a directory.
    #[error("`{0}` is not a directory")]
    NotADirectory(PathBuf),
    /// A file the checkpoint needs is missing.
    #[error("`{}` has no {file}{hint}", dir.display())]
    MissingFile {
        /// The checkpoint directory.
        dir: PathBuf,
        /// The file name looked for.
        file: &'static str,
        /// What to do about it (starts with "; " when present).
        hint: String,
    },
    /// A file could not be read.
    #[error("reading `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `config.json` is not valid JSON or lacks a field the architecture needs.
    #[error("config.json: {0}")]
    Config(String),
    /// `model_type` names a family this build cannot run.
    #[error("unsupported model_type `{0}` (supported: {supported})", supported = SUPPORTED_MODEL_TYPES.join(", "))]
    UnsupportedModel(String),
    /// `architectures` lists no sequence-classification head.
    #[error("not a sequence classifier: architectures {0:?} has no *ForSequenceClassification")]
    NotSequenceClassifier(Vec<String>),
    /// The label set does not say which labels are attacks, or the policy names a label the model lacks.
    #[error("labels: {0}")]
    Labels(String),
    /// `tokenizer.json` could not be loaded or used.
    #[error("tokenizer.json: {0}")]
    Tokenizer(String),
    /// `model.safetensors` is not a valid safetensors file.
    #[error("model.safetensors: {0}")]
    Weights(String),
    /// A tensor the architecture needs is not in the weights.
    #[error("model.safetensors has no tensor `{0}` (is it a checkpoint of this architecture?)")]
    MissingTensor(String),
    /// A tensor has another shape than `config.json` implies.
    #[error("tensor shape mismatch: {0}")]
    ShapeMismatch(String),
    /// The inference thread pool could not be started.
    #[error("thread pool: {0}")]
    Threads(String),
    /// The forward pass failed.
    #[error("inference: {0}")]
    Inference(String),
}

/// The injection probability of one text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransformerScore {
    /// Highest injection probability over the scored windows, in 0..=1.
    pub probability: f32,
    /// Windows scored.
    pub chunks: usize,
    /// Windows the text has; more than `chunks` when `max_chunks` sampled them.
    pub total_chunks: usize,
}

/// The windows to score for a text of `n` content tokens: `window` tokens each, consecutive windows sharing
/// `overlap` tokens (at most half a window), the last one ending at `n`. When there are more than `max_chunks`,
/// `max_chunks` evenly spaced windows are kept, the first and the last among them. Returns the windows and
/// how many there were before sampling. A text no longer than one window is one window; an empty text has
/// none.
pub fn plan_windows(
    n: usize,
    window: usize,
    overlap: usize,
    max_chunks: usize,
) -> (Vec<Range<usize>>, usize) {
    if n == 0 {
        return (Vec::new(), 0);
    }
    let window = window.max(1);
    if n <= window {
        return (std::iter::once(0..n).collect(), 1);
    }
    let step = window - overlap.min(window / 2);
    let last = n - window;
    // Windows start at 0, step, 2·step, … and one more ends exactly at n.
    let total = last.div_ceil(step) + 1;
    let max_chunks = max_chunks.max(1);
    let starts: Vec<usize> = if total <= max_chunks {
        (0..total).map(|i| (i * step).min(last)).collect()
    } else if max_chunks == 1 {
        vec![0]
    } else {
        let k = max_chunks - 1;
        (0..max_chunks).map(|i| ((i * last) + k / 2) / k).collect()
    };
    (starts.into_iter().map(|s| s..s + window).collect(), total)
}

/// The label indices whose probabilities add up to the injection probability.
///
/// With `configured` names, each must be one of `labels` (compared case-insensitively). Otherwise every label
/// whose name contains one of [`ATTACK_LABEL_WORDS`] counts (Prompt Guard's `INJECTION` and `JAILBREAK`
/// together); failing that, a two-label model with generic names (`LABEL_0`, `LABEL_1`) counts `LABEL_1`, the
/// positive class by convention. Anything else is an error asking for `injection_labels`.
pub fn pick_attack_labels(
    labels: &[String],
    configured: &[String],
) -> Result<Vec<usize>, TransformerError> {
    if !configured.is_empty() {
        let mut ids = Vec::new();
        for name in configured {
            let id = labels
                .iter()
                .position(|l| l.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    TransformerError::Labels(format!(
                        "`injection_labels` names `{name}`, which the model does not have (labels: {})",
                        labels.join(", ")
                    ))
                })?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.len() == labels.len() {
            return Err(TransformerError::Labels(
                "`injection_labels` lists every label, so every text would score 1".into(),
            ));
        }
        return Ok(ids);
    }
    let ids: Vec<usize> = labels
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let upper = l.to_ascii_uppercase();
            ATTACK_LABEL_WORDS.iter().any(|w| upper.contains(w))
        })
        .map(|(i, _)| i)
        .collect();
    if !ids.is_empty() && ids.len() < labels.len() {
        return Ok(ids);
    }
    if labels.len() == 2
        && labels
            .iter()
            .all(|l| l.to_ascii_uppercase().starts_with("LABEL_"))
    {
        return Ok(vec![1]);
    }
    Err(TransformerError::Labels(format!(
        "cannot tell which of the labels {} mean injection; list them in `injection_labels`",
        labels.join(", ")
    )))
}

/// Without the `transformer` feature there is no model to hold: this type has no values, so an
/// `Option<TransformerClassifier>` is always `None` and the scanner needs no feature switches of its own.
#[cfg(not(feature = "transformer"))]
#[derive(Debug)]
pub enum TransformerClassifier {}

#[cfg(not(feature = "transformer"))]
impl TransformerClassifier {
    /// Always fails with [`TransformerError::NotCompiled`] in this build.
    pub fn load(_options: &TransformerOptions) -> Result<TransformerClassifier, TransformerError> {
        Err(TransformerError::NotCompiled)
    }

    /// Unreachable: no value of this type exists.
    pub fn options(&self) -> &TransformerOptions {
        match *self {}
    }

    /// Unreachable: no value of this type exists.
    pub fn model_type(&self) -> &'static str {
        match *self {}
    }

    /// Unreachable: no value of this type exists.
    pub fn score_texts(
        &self,
        _texts: &[&str],
    ) -> Result<Vec<Option<TransformerScore>>, TransformerError> {
        match *self {}
    }
}

#[cfg(test)]
// Window lists of one window are what the assertions mean, not a range mistaken for a vector of its items.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn windows_cover_the_text_overlap_and_end_at_the_last_token() {
        assert_eq!(plan_windows(0, 510, 64, 16), (vec![], 0));
        assert_eq!(plan_windows(10, 510, 64, 16), (vec![0..10], 1));
        assert_eq!(plan_windows(510, 510, 64, 16), (vec![0..510], 1));
        let (w, total) = plan_windows(1000, 510, 64, 16);
        assert_eq!(total, 3);
        assert_eq!(w, vec![0..510, 446..956, 490..1000]);
        for n in [511, 777, 5000, 12_345] {
            let (w, total) = plan_windows(n, 100, 20, 10_000);
            assert_eq!(w.len(), total);
            assert_eq!(w.first().map(|r| r.start), Some(0));
            assert_eq!(w.last().map(|r| r.end), Some(n));
            for pair in w.windows(2) {
                assert_eq!(pair[0].len(), 100);
                // Consecutive windows share at least the overlap, so nothing is cut without a second look.
                assert!(pair[1].start + 20 <= pair[0].end, "{pair:?}");
                assert!(pair[1].start > pair[0].start);
            }
        }
    }

    #[test]
    fn overlap_is_capped_at_half_a_window_and_sampling_keeps_both_ends() {
        let (w, _) = plan_windows(300, 100, 1000, 100);
        assert_eq!(w, vec![0..100, 50..150, 100..200, 150..250, 200..300]);
        let (w, total) = plan_windows(100_000, 512, 64, 16);
        assert_eq!(total, 224);
        assert_eq!(w.len(), 16);
        assert_eq!(w[0], 0..512);
        assert_eq!(w[15], 99_488..100_000);
        assert!(w.windows(2).all(|p| p[0].start < p[1].start));
        assert_eq!(plan_windows(100_000, 512, 64, 1).0, vec![0..512]);
    }

    #[test]
    fn attack_labels_by_name_by_convention_or_by_policy() {
        let pg = labels(&["BENIGN", "INJECTION", "JAILBREAK"]);
        assert_eq!(pick_attack_labels(&pg, &[]).unwrap(), vec![1, 2]);
        assert_eq!(
            pick_attack_labels(&pg, &labels(&["jailbreak"])).unwrap(),
            vec![2]
        );
        assert_eq!(
            pick_attack_labels(&labels(&["SAFE", "INJECTION"]), &[]).unwrap(),
            vec![1]
        );
        assert_eq!(
            pick_attack_labels(&labels(&["LABEL_0", "LABEL_1"]), &[]).unwrap(),
            vec![1]
        );
        let err = pick_attack_labels(&labels(&["positive", "negative"]), &[]).unwrap_err();
        assert!(err.to_string().contains("injection_labels"), "{err}");
        let err = pick_attack_labels(&pg, &labels(&["EVIL"])).unwrap_err();
        assert!(err.to_string().contains("`EVIL`"), "{err}");
        assert!(pick_attack_labels(&pg, &labels(&["BENIGN", "INJECTION", "JAILBREAK"])).is_err());
        // Every label an attack word is as useless as none.
        assert!(pick_attack_labels(&labels(&["UNSAFE", "MALICIOUS"]), &[]).is_err());
    }

    #[test]
    fn options_parse_with_defaults_and_reject_typos_and_ranges() {
        let o = TransformerOptions::from_toml(&toml::Value::String("/m".into())).unwrap();
        assert_eq!(o, TransformerOptions::new("/m"));
        let t: toml::Table = toml::from_str(
            r#"t = { path = "/m", weight = 2, max_length = 256, overlap = 32, max_chunks = 4, batch_size = 2, threads = 1, injection_labels = ["JAILBREAK"] }"#,
        )
        .unwrap();
        let o = TransformerOptions::from_toml(&t["t"]).unwrap();
        assert_eq!(o.weight, 2.0);
        assert_eq!(
            (
                o.max_length,
                o.overlap,
                o.max_chunks,
                o.batch_size,
                o.threads
            ),
            (256, 32, 4, 2, 1)
        );
        assert_eq!(o.injection_labels, vec!["JAILBREAK".to_owned()]);
        for (bad, key) in [
            (r#"t = { path = "/m", weigth = 1.0 }"#, "weigth"),
            (r#"t = { weight = 1.0 }"#, "path"),
            (r#"t = { path = "/m", weight = 9.0 }"#, "weight"),
            (r#"t = { path = "/m", max_length = 8 }"#, "max_length"),
            (r#"t = { path = "/m", max_chunks = 0 }"#, "max_chunks"),
            (
                r#"t = { path = "/m", injection_labels = "INJECTION" }"#,
                "injection_labels",
            ),
            ("t = 3", "path"),
        ] {
            let t: toml::Table = toml::from_str(bad).unwrap();
            let err = TransformerOptions::from_toml(&t["t"])
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{bad}: {err}");
        }
    }
}
