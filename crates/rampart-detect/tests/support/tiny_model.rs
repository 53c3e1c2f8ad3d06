//! Tiny randomly initialised checkpoints in the Hugging Face directory layout, for tests and benches.
//!
//! Each writes `config.json`, `tokenizer.json` (a WordPiece tokenizer built with the `tokenizers` crate) and
//! `model.safetensors` (random weights under the tensor names candle's model expects, saved from a `VarMap`).
//! Their probabilities mean nothing; they exercise loading, tokenising, windowing and batching with the real
//! architectures at a size that runs in milliseconds.

// Test support, also compiled into the bench (where clippy's test allowances do not apply): a failure to build
// a fixture should stop the run loudly.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::{bert, debertav2, modernbert};
use serde_json::{Value, json};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

/// Whole words in the vocabulary; each is one token.
pub const WORDS: &[&str] = &[
    "the",
    "a",
    "and",
    "of",
    "to",
    "in",
    "is",
    "you",
    "are",
    "now",
    "ignore",
    "all",
    "previous",
    "instructions",
    "system",
    "prompt",
    "reveal",
    "your",
    "hidden",
    "rules",
    "please",
    "summarise",
    "this",
    "document",
    "weather",
    "today",
    "hello",
    "world",
    "report",
    "meeting",
    "budget",
    "team",
    "pretend",
    "act",
    "as",
    "developer",
    "mode",
    "secret",
    "password",
    "print",
];

const SPECIALS: &[&str] = &["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Rows of the embedding table: more than the tokenizer uses, as in real checkpoints.
pub const VOCAB_SIZE: usize = 128;

/// The architectures the helpers can build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// DeBERTa-v3 layout: relative attention with log buckets, no absolute positions.
    DebertaV3,
    /// ModernBERT with one global and one local attention layer.
    ModernBert,
    /// Classic BERT with a pooler.
    Bert,
}

/// The vocabulary in id order.
pub fn vocab() -> Vec<String> {
    let mut v: Vec<String> = SPECIALS.iter().map(|s| (*s).to_owned()).collect();
    v.extend(WORDS.iter().map(|w| (*w).to_owned()));
    v.extend(('a'..='z').map(String::from));
    v.extend(('a'..='z').map(|c| format!("##{c}")));
    v
}

/// Writes `tokenizer.json` (and the `vocab.txt` it is built from) into `dir`.
pub fn write_tokenizer(dir: &Path) {
    let vocab_txt = dir.join("vocab.txt");
    std::fs::write(&vocab_txt, vocab().join("\n") + "\n").unwrap();
    let model = WordPiece::from_file(vocab_txt.to_str().unwrap())
        .unk_token("[UNK]".into())
        .build()
        .unwrap();
    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::default()))
        .unwrap();
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    tokenizer.with_post_processor(Some(
        TemplateProcessing::builder()
            .try_single("[CLS] $A [SEP]")
            .unwrap()
            .special_tokens(vec![("[CLS]", 2), ("[SEP]", 3)])
            .build()
            .unwrap(),
    ));
    tokenizer
        .add_special_tokens(SPECIALS.iter().map(|s| AddedToken::from(*s, true)))
        .unwrap();
    tokenizer.save(dir.join("tokenizer.json"), false).unwrap();
}

fn id2label(labels: &[&str]) -> Value {
    Value::Object(
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), json!(l)))
            .collect(),
    )
}

fn label2id(labels: &[&str]) -> Value {
    Value::Object(
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| ((*l).to_owned(), json!(i)))
            .collect(),
    )
}

/// Layer sizes of a generated model.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    /// Hidden width.
    pub hidden: usize,
    /// Transformer layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward width.
    pub intermediate: usize,
}

impl Size {
    /// Hidden 32, 2 layers, 2 heads: runs in milliseconds.
    pub const TINY: Size = Size {
        hidden: 32,
        layers: 2,
        heads: 2,
        intermediate: 64,
    };
    /// The body of DeBERTa-v3-base and mDeBERTa-v3-base (Prompt Guard 86M): the same compute per token,
    /// though the embedding table here is tiny.
    pub const BASE: Size = Size {
        hidden: 768,
        layers: 12,
        heads: 12,
        intermediate: 3072,
    };
}

/// The `config.json` a Hugging Face export of a tiny `arch` classifier with `labels` would have.
pub fn config(arch: Arch, labels: &[&str]) -> Value {
    config_sized(arch, labels, Size::TINY)
}

/// As [`config`], with other layer sizes.
pub fn config_sized(arch: Arch, labels: &[&str], size: Size) -> Value {
    let common = json!({
        "vocab_size": VOCAB_SIZE,
        "hidden_size": size.hidden,
        "num_hidden_layers": size.layers,
        "num_attention_heads": size.heads,
        "intermediate_size": size.intermediate,
        "max_position_embeddings": 512,
        "id2label": id2label(labels),
        "label2id": label2id(labels),
        "pad_token_id": 0,
    });
    let specific = match arch {
        Arch::DebertaV3 => json!({
            "model_type": "deberta-v2",
            "architectures": ["DebertaV2ForSequenceClassification"],
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "type_vocab_size": 0,
            "initializer_range": 0.02,
            "layer_norm_eps": 1e-7,
            "relative_attention": true,
            "max_relative_positions": -1,
            "position_buckets": 64,
            "norm_rel_ebd": "layer_norm",
            "share_att_key": true,
            "pos_att_type": ["p2c", "c2p"],
            "position_biased_input": false,
            "pooler_dropout": 0,
            "pooler_hidden_act": "gelu",
            "pooler_hidden_size": size.hidden,
        }),
        Arch::ModernBert => json!({
            "model_type": "modernbert",
            "architectures": ["ModernBertForSequenceClassification"],
            "layer_norm_eps": 1e-5,
            "global_attn_every_n_layers": 2,
            "global_rope_theta": 160000.0,
            "local_attention": 16,
            "local_rope_theta": 10000.0,
            "classifier_pooling": "cls",
            "classifier_activation": "gelu",
            "classifier_bias": false,
        }),
        Arch::Bert => json!({
            "model_type": "bert",
            "architectures": ["BertForSequenceClassification"],
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "type_vocab_size": 2,
            "initializer_range": 0.02,
            "layer_norm_eps": 1e-12,
            "position_embedding_type": "absolute",
        }),
    };
    let mut merged = common;
    for (k, v) in specific.as_object().unwrap() {
        merged[k] = v.clone();
    }
    merged
}

/// Random weights for `config`, named as candle's model (and the Hugging Face checkpoint) names them.
pub fn random_weights(arch: Arch, config: &Value, labels: usize) -> VarMap {
    let hidden = config["hidden_size"].as_u64().unwrap() as usize;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    match arch {
        Arch::DebertaV3 => {
            let cfg: debertav2::Config = serde_json::from_value(config.clone()).unwrap();
            debertav2::DebertaV2SeqClassificationModel::load(vb.pp("deberta"), &cfg, None).unwrap();
        }
        Arch::ModernBert => {
            // Candle reads label2id values as strings.
            let mut c = config.clone();
            let names: Vec<(String, Value)> = c["label2id"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), json!(v.to_string())))
                .collect();
            c["label2id"] = Value::Object(names.into_iter().collect());
            let cfg: modernbert::Config = serde_json::from_value(c).unwrap();
            assert_eq!(
                cfg.classifier_config.as_ref().map(|cc| cc.id2label.len()),
                Some(labels)
            );
            modernbert::ModernBertForSequenceClassification::load(vb, &cfg).unwrap();
        }
        Arch::Bert => {
            let cfg: bert::Config = serde_json::from_value(config.clone()).unwrap();
            bert::BertModel::load(vb.pp("bert"), &cfg).unwrap();
            candle_nn::linear(hidden, hidden, vb.pp("bert.pooler.dense")).unwrap();
            candle_nn::linear(hidden, labels, vb.pp("classifier")).unwrap();
        }
    }
    varmap
}

/// The name of the classification head's bias, whose values [`write_model_with_bias`] can pin.
pub fn head_bias_name(_arch: Arch) -> &'static str {
    "classifier.bias"
}

/// Writes a complete tiny checkpoint into `dir` and returns its config.
pub fn write_model(dir: &Path, arch: Arch, labels: &[&str]) -> Value {
    write_model_with_bias(dir, arch, labels, None)
}

/// As [`write_model`], with the head's bias set to `bias` (one value per label) so that the output is
/// dominated by a chosen label whatever the random body computes.
pub fn write_model_with_bias(
    dir: &Path,
    arch: Arch,
    labels: &[&str],
    bias: Option<&[f32]>,
) -> Value {
    write_model_sized(dir, arch, labels, bias, Size::TINY)
}

/// As [`write_model_with_bias`], with other layer sizes.
pub fn write_model_sized(
    dir: &Path,
    arch: Arch,
    labels: &[&str],
    bias: Option<&[f32]>,
    size: Size,
) -> Value {
    let cfg = config_sized(arch, labels, size);
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&cfg).unwrap(),
    )
    .unwrap();
    write_tokenizer(dir);
    let mut varmap = random_weights(arch, &cfg, labels.len());
    if let Some(bias) = bias {
        assert_eq!(bias.len(), labels.len());
        let t = Tensor::new(bias, &Device::Cpu).unwrap();
        varmap.set_one(head_bias_name(arch), t).unwrap();
        // Small head weights, so the bias decides.
        let name = "classifier.weight";
        let w = varmap
            .data()
            .lock()
            .unwrap()
            .get(name)
            .unwrap()
            .as_tensor()
            .clone();
        varmap.set_one(name, (w * 0.01).unwrap()).unwrap();
    }
    varmap.save(dir.join("model.safetensors")).unwrap();
    cfg
}

/// `n` whitespace-separated vocabulary words: exactly `n` tokens.
pub fn words(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(WORDS[(i * 7 + i / 3) % WORDS.len()]);
    }
    out
}
