//! Loading a checkpoint directory and running it with candle on the CPU.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::{bert, debertav2, modernbert};
use serde_json::{Map, Value, json};
use tokenizers::Tokenizer;

use super::{
    MIN_WINDOW_CONTENT, TransformerError, TransformerOptions, TransformerScore, pick_attack_labels,
    plan_windows,
};

/// Text whose encoding shows which special tokens the tokenizer puts before and after a sequence.
const PROBE: &str = "hello world";

/// The network with its classification head.
enum Net {
    Deberta(Box<debertav2::DebertaV2SeqClassificationModel>),
    /// Candle's ModernBERT head ends in a softmax, so it yields probabilities rather than logits.
    ModernBert(Box<modernbert::ModernBertForSequenceClassification>),
    Bert {
        encoder: Box<bert::BertModel>,
        pooler: Linear,
        classifier: Linear,
    },
}

/// A sequence classifier loaded from a checkpoint directory, ready to score texts.
///
/// Loading reads the whole weight file into memory (about twice its size at the peak, then once) and costs
/// roughly what reading the file costs; scoring costs one forward pass per window (see
/// [`TransformerClassifier::score_texts`]). The value is immutable and `Sync`: one instance serves concurrent
/// scans.
pub struct TransformerClassifier {
    options: TransformerOptions,
    net: Net,
    model_type: &'static str,
    labels: Vec<String>,
    attack: Vec<usize>,
    tokenizer: Tokenizer,
    prefix: Vec<u32>,
    suffix: Vec<u32>,
    max_length: usize,
    /// Rows of the embedding table: every token id must be below it.
    vocab_size: usize,
    /// Longest sequence the position tables allow.
    max_positions: usize,
    pool: Option<rayon::ThreadPool>,
}

impl std::fmt::Debug for TransformerClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransformerClassifier")
            .field("path", &self.options.path)
            .field("model_type", &self.model_type)
            .field("labels", &self.labels)
            .field("attack", &self.attack)
            .field("max_length", &self.max_length)
            .finish()
    }
}

impl TransformerClassifier {
    /// Loads the checkpoint in `options.path`: `config.json` picks the architecture and labels,
    /// `tokenizer.json` the tokenizer, `model.safetensors` (or the shards a `model.safetensors.index.json`
    /// lists) the weights, converted to f32. Every problem is reported here, not at scan time: missing files,
    /// an unsupported `model_type`, labels that do not say which mean injection, missing tensors, shapes that
    /// disagree with the config, a tokenizer whose ids exceed the embedding table.
    pub fn load(options: &TransformerOptions) -> Result<TransformerClassifier, TransformerError> {
        let dir = options.path.as_path();
        if !dir.is_dir() {
            return Err(TransformerError::NotADirectory(dir.to_path_buf()));
        }
        let config_path = require(dir, "config.json", String::new())?;
        let tokenizer_path = require(
            dir,
            "tokenizer.json",
            "; save the checkpoint's fast tokenizer there (AutoTokenizer ... save_pretrained)"
                .into(),
        )?;
        let weight_paths = weight_files(dir)?;

        let text =
            std::fs::read_to_string(&config_path).map_err(|source| TransformerError::Io {
                path: config_path.clone(),
                source,
            })?;
        let mut config: Value =
            serde_json::from_str(&text).map_err(|e| TransformerError::Config(e.to_string()))?;
        let object = config
            .as_object_mut()
            .ok_or_else(|| TransformerError::Config("not a JSON object".into()))?;
        let model_type_name = object
            .get("model_type")
            .and_then(Value::as_str)
            .ok_or_else(|| TransformerError::Config("no `model_type`".into()))?
            .to_owned();
        let model_type = match model_type_name.as_str() {
            "deberta-v2" => "deberta-v2",
            "modernbert" => "modernbert",
            "bert" => "bert",
            _ => return Err(TransformerError::UnsupportedModel(model_type_name)),
        };
        if let Some(archs) = object.get("architectures").and_then(Value::as_array) {
            let names: Vec<String> = archs
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            if !names
                .iter()
                .any(|a| a.ends_with("ForSequenceClassification"))
            {
                return Err(TransformerError::NotSequenceClassifier(names));
            }
        }
        let labels = read_labels(object)?;
        if labels.len() < 2 {
            return Err(TransformerError::Labels(
                "the head has fewer than two labels; only softmax classifiers are supported".into(),
            ));
        }
        let attack = pick_attack_labels(&labels, &options.injection_labels)?;
        let vocab_size = object
            .get("vocab_size")
            .and_then(Value::as_u64)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| TransformerError::Config("no `vocab_size`".into()))?;

        let mut tensors = HashMap::new();
        for path in &weight_paths {
            let bytes = std::fs::read(path).map_err(|source| TransformerError::Io {
                path: path.clone(),
                source,
            })?;
            let part = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
                .map_err(|e| TransformerError::Weights(root_cause(&e).to_string()))?;
            tensors.extend(part);
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        let (net, max_positions) = match model_type {
            "deberta-v2" => {
                fill_deberta_defaults(object, &labels);
                let cfg: debertav2::Config = serde_json::from_value(config.clone())
                    .map_err(|e| TransformerError::Config(e.to_string()))?;
                let net =
                    debertav2::DebertaV2SeqClassificationModel::load(vb.pp("deberta"), &cfg, None)
                        .map_err(load_error)?;
                (Net::Deberta(Box::new(net)), cfg.max_position_embeddings)
            }
            "modernbert" => {
                fill_modernbert_defaults(object, &labels)?;
                let cfg: modernbert::Config = serde_json::from_value(config.clone())
                    .map_err(|e| TransformerError::Config(e.to_string()))?;
                let net = modernbert::ModernBertForSequenceClassification::load(vb, &cfg)
                    .map_err(load_error)?;
                (Net::ModernBert(Box::new(net)), cfg.max_position_embeddings)
            }
            _ => {
                fill_bert_defaults(object)?;
                let cfg: bert::Config = serde_json::from_value(config.clone())
                    .map_err(|e| TransformerError::Config(e.to_string()))?;
                let encoder = bert::BertModel::load(vb.pp("bert"), &cfg).map_err(load_error)?;
                let pooler =
                    candle_nn::linear(cfg.hidden_size, cfg.hidden_size, vb.pp("bert.pooler.dense"))
                        .map_err(load_error)?;
                let classifier =
                    candle_nn::linear(cfg.hidden_size, labels.len(), vb.pp("classifier"))
                        .map_err(load_error)?;
                (
                    Net::Bert {
                        encoder: Box::new(encoder),
                        pooler,
                        classifier,
                    },
                    cfg.max_position_embeddings,
                )
            }
        };

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| TransformerError::Tokenizer(e.to_string()))?;
        // Windows are cut here, so the tokenizer must hand over every token of the text.
        tokenizer
            .with_truncation(None)
            .map_err(|e| TransformerError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        let highest_id = tokenizer.get_vocab(true).into_values().max().unwrap_or(0);
        if highest_id as usize >= vocab_size {
            return Err(TransformerError::ShapeMismatch(format!(
                "tokenizer.json has token id {highest_id} but config.json vocab_size is {vocab_size}"
            )));
        }
        let probe = tokenizer
            .encode_fast(PROBE, true)
            .map_err(|e| TransformerError::Tokenizer(e.to_string()))?;
        let (prefix, suffix) = special_affixes(probe.get_ids(), probe.get_special_tokens_mask());

        let max_length = options.max_length.min(max_positions);
        if max_length < prefix.len() + suffix.len() + MIN_WINDOW_CONTENT {
            return Err(TransformerError::Option(format!(
                "`max_length` {max_length} leaves fewer than {MIN_WINDOW_CONTENT} tokens per window"
            )));
        }
        let pool = match options.threads {
            0 => None,
            n => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .thread_name(|i| format!("rampart-transformer-{i}"))
                    .build()
                    .map_err(|e| TransformerError::Threads(e.to_string()))?,
            ),
        };
        let classifier = TransformerClassifier {
            options: options.clone(),
            net,
            model_type,
            labels,
            attack,
            tokenizer,
            prefix,
            suffix,
            max_length,
            vocab_size,
            max_positions,
            pool,
        };
        // One forward pass now, so a checkpoint that loads but cannot run fails at policy load, not per scan.
        let probe = classifier.windows(PROBE)?.0;
        classifier.label_probabilities(&probe)?;
        Ok(classifier)
    }

    /// The options it was loaded with.
    pub fn options(&self) -> &TransformerOptions {
        &self.options
    }

    /// `deberta-v2`, `modernbert` or `bert`.
    pub fn model_type(&self) -> &'static str {
        self.model_type
    }

    /// Label names in the order of the model's outputs.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Indices into [`TransformerClassifier::labels`] whose probabilities add up to the injection probability.
    pub fn attack_labels(&self) -> &[usize] {
        &self.attack
    }

    /// Tokens per window, special tokens included: `max_length` capped by the model's position table.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The token-id windows [`TransformerClassifier::score_texts`] would score for `text`, each with the
    /// tokenizer's special tokens around it, and how many windows the text has before `max_chunks` sampling.
    /// An empty text (no tokens) has no windows.
    pub fn windows(&self, text: &str) -> Result<(Vec<Vec<u32>>, usize), TransformerError> {
        self.windows_capped(text, self.options.max_chunks)
    }

    /// [`TransformerClassifier::windows`] with at most `cap` windows.
    fn windows_capped(
        &self,
        text: &str,
        cap: usize,
    ) -> Result<(Vec<Vec<u32>>, usize), TransformerError> {
        let encoding = self
            .tokenizer
            .encode_fast(text, false)
            .map_err(|e| TransformerError::Tokenizer(e.to_string()))?;
        let ids = encoding.get_ids();
        let content = self.max_length - self.prefix.len() - self.suffix.len();
        let (ranges, total) = plan_windows(ids.len(), content, self.options.overlap, cap);
        let windows = ranges
            .into_iter()
            .map(|r| {
                let mut w = Vec::with_capacity(self.prefix.len() + r.len() + self.suffix.len());
                w.extend_from_slice(&self.prefix);
                w.extend_from_slice(ids.get(r).unwrap_or(&[]));
                w.extend_from_slice(&self.suffix);
                w
            })
            .collect();
        Ok((windows, total))
    }

    /// The label distribution of each window, in order. Windows of equal length share a forward pass (at
    /// most `batch_size` per pass); windows are never padded, so each result equals that window scored alone.
    /// A window must be non-empty, no longer than the model's position table, and hold only ids below its
    /// vocabulary size; [`TransformerClassifier::windows`] produces such windows.
    pub fn label_probabilities(
        &self,
        windows: &[Vec<u32>],
    ) -> Result<Vec<Vec<f32>>, TransformerError> {
        for w in windows {
            if w.is_empty() || w.len() > self.max_positions {
                return Err(TransformerError::Inference(format!(
                    "a window of {} tokens (the model takes 1..={})",
                    w.len(),
                    self.max_positions
                )));
            }
            if let Some(&id) = w.iter().find(|&&id| id as usize >= self.vocab_size) {
                return Err(TransformerError::Inference(format!(
                    "token id {id} is outside the vocabulary of {}",
                    self.vocab_size
                )));
            }
        }
        self.run(|| {
            let mut order: Vec<usize> = (0..windows.len()).collect();
            order.sort_by_key(|&i| windows.get(i).map_or(0, Vec::len));
            let mut out = vec![Vec::new(); windows.len()];
            let mut i = 0;
            while i < order.len() {
                let len = windows[order[i]].len();
                let mut j = i;
                while j < order.len()
                    && j - i < self.options.batch_size.max(1)
                    && windows[order[j]].len() == len
                {
                    j += 1;
                }
                let batch: Vec<&[u32]> =
                    order[i..j].iter().map(|&k| windows[k].as_slice()).collect();
                for (&k, probs) in order[i..j].iter().zip(self.forward(&batch)?) {
                    out[k] = probs;
                }
                i = j;
            }
            Ok(out)
        })
    }

    /// The injection probability a label distribution stands for: the sum over the attack labels.
    pub fn attack_probability(&self, probabilities: &[f32]) -> f32 {
        self.attack
            .iter()
            .filter_map(|&i| probabilities.get(i))
            .sum::<f32>()
            .clamp(0.0, 1.0)
    }

    /// Scores an input and its views (decoded segments) in one go: each text's windows (see
    /// [`TransformerClassifier::windows`]) are scored, equal-length windows of all texts batched together, and
    /// each text gets its highest window probability. `None` for a text with no tokens, or one left out by the
    /// budget.
    ///
    /// Budget: the first text gets up to `max_chunks` windows; the texts after it share one more `max_chunks`
    /// (sampled in order; texts past the budget are not scored), so many encoded segments cannot multiply the
    /// cost of one input. Cost: one forward pass per window, so at most `2 × max_chunks` windows; a base-size
    /// model needs about 0.2 GFLOP per token (see `docs/transformer.md`).
    pub fn score_texts(
        &self,
        texts: &[&str],
    ) -> Result<Vec<Option<TransformerScore>>, TransformerError> {
        let mut windows = Vec::new();
        let mut owner = Vec::new();
        let mut totals = Vec::with_capacity(texts.len());
        let cap = self.options.max_chunks.max(1);
        let mut views_left = cap;
        for (t, text) in texts.iter().enumerate() {
            let allowed = if t == 0 { cap } else { views_left };
            if allowed == 0 {
                totals.push(0);
                continue;
            }
            let (w, total) = self.run(|| self.windows_capped(text, allowed))?;
            if t > 0 {
                views_left -= w.len();
            }
            owner.extend(std::iter::repeat_n(t, w.len()));
            windows.extend(w);
            totals.push(total);
        }
        let probabilities = self.label_probabilities(&windows)?;
        let mut scores: Vec<Option<TransformerScore>> = vec![None; texts.len()];
        for (&t, probs) in owner.iter().zip(&probabilities) {
            let p = self.attack_probability(probs);
            let slot = &mut scores[t];
            match slot {
                Some(s) => {
                    s.probability = s.probability.max(p);
                    s.chunks += 1;
                }
                None => {
                    *slot = Some(TransformerScore {
                        probability: p,
                        chunks: 1,
                        total_chunks: totals[t],
                    });
                }
            }
        }
        Ok(scores)
    }

    fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// One forward pass over windows of equal length; returns each window's label distribution.
    fn forward(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, TransformerError> {
        let rows = batch.len();
        let len = batch.first().map_or(0, |w| w.len());
        if rows == 0 || len == 0 {
            return Ok(vec![Vec::new(); rows]);
        }
        let flat: Vec<u32> = batch.concat();
        let run = || -> candle_core::Result<Tensor> {
            let ids = Tensor::from_vec(flat, (rows, len), &Device::Cpu)?;
            let mask = Tensor::ones((rows, len), DType::U32, &Device::Cpu)?;
            match &self.net {
                Net::Deberta(m) => {
                    let logits = m.forward(&ids, None, Some(mask))?;
                    candle_nn::ops::softmax_last_dim(&logits)
                }
                Net::ModernBert(m) => m.forward(&ids, &mask),
                Net::Bert {
                    encoder,
                    pooler,
                    classifier,
                } => {
                    let types = ids.zeros_like()?;
                    let hidden = encoder.forward(&ids, &types, Some(&mask))?;
                    let first = hidden.i((.., 0))?.contiguous()?;
                    let pooled = pooler.forward(&first)?.tanh()?;
                    candle_nn::ops::softmax_last_dim(&classifier.forward(&pooled)?)
                }
            }
        };
        let probs = run()
            .and_then(|t| t.to_dtype(DType::F32)?.to_vec2::<f32>())
            .map_err(|e| TransformerError::Inference(root_cause(&e).to_string()))?;
        if probs.len() != rows || probs.iter().any(|p| p.len() != self.labels.len()) {
            return Err(TransformerError::ShapeMismatch(format!(
                "the head gave {} outputs per window for {} labels",
                probs.first().map_or(0, Vec::len),
                self.labels.len()
            )));
        }
        Ok(probs)
    }
}

/// The path of a required file, or an error naming it.
fn require(dir: &Path, file: &'static str, hint: String) -> Result<PathBuf, TransformerError> {
    let path = dir.join(file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(TransformerError::MissingFile {
            dir: dir.to_path_buf(),
            file,
            hint,
        })
    }
}

/// `model.safetensors`, or the shards its index lists. Pickled and ONNX weights are named in the error.
fn weight_files(dir: &Path) -> Result<Vec<PathBuf>, TransformerError> {
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    let index = dir.join("model.safetensors.index.json");
    if index.is_file() {
        let text = std::fs::read_to_string(&index).map_err(|source| TransformerError::Io {
            path: index.clone(),
            source,
        })?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| TransformerError::Weights(format!("model.safetensors.index.json: {e}")))?;
        let mut files: Vec<PathBuf> = Vec::new();
        for shard in value
            .get("weight_map")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(Map::values)
            .filter_map(Value::as_str)
        {
            // Shards live beside the index; a name with a path in it could point anywhere.
            if shard.contains(['/', '\\']) || shard.starts_with('.') {
                return Err(TransformerError::Weights(format!(
                    "model.safetensors.index.json names `{shard}`, which is not a file beside it"
                )));
            }
            let path = dir.join(shard);
            if !files.contains(&path) {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(TransformerError::Weights(
                "model.safetensors.index.json lists no shards".into(),
            ));
        }
        return Ok(files);
    }
    let hint = if dir.join("pytorch_model.bin").is_file() {
        "; pytorch_model.bin is a pickle, which Rampart never loads (unpickling can run code): use the \
         checkpoint's safetensors file, or convert it"
    } else if dir.join("model.onnx").is_file() || dir.join("onnx").is_dir() {
        "; ONNX files are not supported (the candle runtime reads safetensors; checkpoints that publish ONNX \
         publish safetensors too)"
    } else {
        ""
    };
    Err(TransformerError::MissingFile {
        dir: dir.to_path_buf(),
        file: "model.safetensors",
        hint: hint.into(),
    })
}

/// Label names from `id2label` (ids must be 0..n), or `LABEL_i` for `num_labels` (default 2).
fn read_labels(config: &Map<String, Value>) -> Result<Vec<String>, TransformerError> {
    if let Some(map) = config.get("id2label").and_then(Value::as_object) {
        let mut labels = vec![None; map.len()];
        for (id, name) in map {
            let slot = id
                .parse::<usize>()
                .ok()
                .and_then(|i| labels.get_mut(i))
                .ok_or_else(|| {
                    TransformerError::Config(format!(
                        "`id2label` key `{id}` is not an id in 0..{}",
                        map.len()
                    ))
                })?;
            let name = name.as_str().ok_or_else(|| {
                TransformerError::Config("`id2label` values must be strings".into())
            })?;
            *slot = Some(name.to_owned());
        }
        return labels
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| TransformerError::Config("`id2label` ids are not 0..n".into()));
    }
    let n = config
        .get("num_labels")
        .and_then(Value::as_u64)
        .unwrap_or(2);
    if n > 4096 {
        return Err(TransformerError::Config(format!(
            "`num_labels` {n} is implausible"
        )));
    }
    Ok((0..n).map(|i| format!("LABEL_{i}")).collect())
}

fn set_default(config: &mut Map<String, Value>, key: &str, value: Value) {
    if config.get(key).is_none_or(Value::is_null) {
        config.insert(key.to_owned(), value);
    }
}

/// Candle names the tanh approximation of GELU `geluapproximate`; Hugging Face configs spell it several ways.
fn normalise_activation(config: &mut Map<String, Value>, key: &str) {
    if let Some(Value::String(act)) = config.get_mut(key)
        && matches!(act.as_str(), "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast")
    {
        *act = "geluapproximate".into();
    }
}

fn id2label_json(labels: &[String]) -> Value {
    Value::Object(
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), Value::String(l.clone())))
            .collect(),
    )
}

/// Hugging Face's `DebertaV2Config` defaults for the keys candle's config requires.
fn fill_deberta_defaults(config: &mut Map<String, Value>, labels: &[String]) {
    let hidden = config.get("hidden_size").cloned().unwrap_or(json!(768));
    for (key, value) in [
        ("hidden_act", json!("gelu")),
        ("hidden_dropout_prob", json!(0.1)),
        ("attention_probs_dropout_prob", json!(0.1)),
        ("max_position_embeddings", json!(512)),
        ("type_vocab_size", json!(0)),
        ("initializer_range", json!(0.02)),
        ("layer_norm_eps", json!(1e-7)),
        ("relative_attention", json!(false)),
        ("max_relative_positions", json!(-1)),
        ("pad_token_id", json!(0)),
        ("position_biased_input", json!(true)),
        ("pos_att_type", json!([])),
        ("pooler_dropout", json!(0.0)),
        ("pooler_hidden_act", json!("gelu")),
        ("pooler_hidden_size", hidden),
    ] {
        set_default(config, key, value);
    }
    normalise_activation(config, "hidden_act");
    normalise_activation(config, "pooler_hidden_act");
    config.insert("id2label".into(), id2label_json(labels));
    config.remove("label2id");
}

/// Hugging Face's `ModernBertConfig` defaults for the keys candle's config requires; candle reads label maps
/// with string values only, and has no bias or other activation in its classification head.
fn fill_modernbert_defaults(
    config: &mut Map<String, Value>,
    labels: &[String],
) -> Result<(), TransformerError> {
    for (key, value) in [
        ("max_position_embeddings", json!(8192)),
        ("layer_norm_eps", json!(1e-5)),
        ("pad_token_id", json!(50283)),
        ("global_attn_every_n_layers", json!(3)),
        ("global_rope_theta", json!(160_000.0)),
        ("local_attention", json!(128)),
        ("local_rope_theta", json!(10_000.0)),
        ("classifier_pooling", json!("cls")),
    ] {
        set_default(config, key, value);
    }
    if config.get("classifier_bias").and_then(Value::as_bool) == Some(true) {
        return Err(TransformerError::Config(
            "`classifier_bias = true` is not supported for modernbert".into(),
        ));
    }
    if let Some(act) = config.get("classifier_activation").and_then(Value::as_str)
        && act != "gelu"
    {
        return Err(TransformerError::Config(format!(
            "`classifier_activation` `{act}` is not supported for modernbert (only gelu)"
        )));
    }
    config.insert("id2label".into(), id2label_json(labels));
    config.insert(
        "label2id".into(),
        Value::Object(
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), Value::String(i.to_string())))
                .collect(),
        ),
    );
    Ok(())
}

/// Hugging Face's `BertConfig` defaults for the keys candle's config requires.
fn fill_bert_defaults(config: &mut Map<String, Value>) -> Result<(), TransformerError> {
    for (key, value) in [
        ("hidden_act", json!("gelu")),
        ("hidden_dropout_prob", json!(0.1)),
        ("max_position_embeddings", json!(512)),
        ("type_vocab_size", json!(2)),
        ("initializer_range", json!(0.02)),
        ("layer_norm_eps", json!(1e-12)),
        ("pad_token_id", json!(0)),
    ] {
        set_default(config, key, value);
    }
    normalise_activation(config, "hidden_act");
    if let Some(kind) = config
        .get("position_embedding_type")
        .and_then(Value::as_str)
        && kind != "absolute"
    {
        return Err(TransformerError::Config(format!(
            "`position_embedding_type` `{kind}` is not supported for bert (only absolute)"
        )));
    }
    config.remove("position_embedding_type");
    Ok(())
}

/// The special tokens a tokenizer adds before and after a single sequence, read off the probe's mask.
fn special_affixes(ids: &[u32], special: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let lead = special.iter().take_while(|&&m| m == 1).count();
    let trail = special[lead..]
        .iter()
        .rev()
        .take_while(|&&m| m == 1)
        .count();
    let prefix = ids.get(..lead).unwrap_or(&[]).to_vec();
    let suffix = ids
        .get(ids.len().saturating_sub(trail)..)
        .unwrap_or(&[])
        .to_vec();
    (prefix, suffix)
}

/// The innermost candle error, without the backtrace and context layers that only repeat it.
fn root_cause(mut e: &candle_core::Error) -> &candle_core::Error {
    loop {
        match e {
            candle_core::Error::WithBacktrace { inner, .. }
            | candle_core::Error::WithPath { inner, .. }
            | candle_core::Error::Context { inner, .. } => e = inner,
            _ => return e,
        }
    }
}

/// Sorts a model-construction error into the cases a user can act on.
fn load_error(e: candle_core::Error) -> TransformerError {
    match root_cause(&e) {
        candle_core::Error::CannotFindTensor { path } => {
            TransformerError::MissingTensor(path.clone())
        }
        candle_core::Error::UnexpectedShape { msg, expected, got } => {
            TransformerError::ShapeMismatch(format!(
                "{msg}: config.json implies {expected:?}, file has {got:?}"
            ))
        }
        other => TransformerError::Config(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affixes_are_the_leading_and_trailing_special_runs() {
        assert_eq!(
            special_affixes(&[2, 10, 11, 3], &[1, 0, 0, 1]),
            (vec![2], vec![3])
        );
        assert_eq!(special_affixes(&[10, 11], &[0, 0]), (vec![], vec![]));
        assert_eq!(
            special_affixes(&[0, 10, 2, 2], &[1, 0, 1, 1]),
            (vec![0], vec![2, 2])
        );
        assert_eq!(special_affixes(&[2, 3], &[1, 1]), (vec![2, 3], vec![]));
    }

    #[test]
    fn labels_come_from_id2label_in_id_order_or_default_to_generic_names() {
        let cfg: Value = serde_json::json!({"id2label": {"1": "INJECTION", "0": "SAFE"}});
        assert_eq!(
            read_labels(cfg.as_object().unwrap()).unwrap(),
            vec!["SAFE", "INJECTION"]
        );
        let cfg: Value = serde_json::json!({"num_labels": 3});
        assert_eq!(
            read_labels(cfg.as_object().unwrap()).unwrap(),
            vec!["LABEL_0", "LABEL_1", "LABEL_2"]
        );
        let cfg: Value = serde_json::json!({"id2label": {"0": "A", "5": "B"}});
        assert!(read_labels(cfg.as_object().unwrap()).is_err());
    }
}
