//! Model and dataset cards in the Hugging Face layout: `config.json` beside the weights, and YAML
//! front-matter at the top of `README.md`.
//!
//! Both are untrusted: values are taken only when they have the expected type, strings are length-capped, and
//! the YAML parser bounds recursion and alias expansion. Anything unexpected is ignored rather than failing the
//! BOM.

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

/// Longest string kept from a card; longer values are cut (at a character boundary).
const MAX_STRING: usize = 512;
/// Most items kept from one list (tags, datasets, metrics).
const MAX_ITEMS: usize = 64;

fn cap(s: &str) -> String {
    let s = s.trim();
    if s.len() <= MAX_STRING {
        return s.to_owned();
    }
    let mut end = MAX_STRING;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// The fields of a transformers-style `config.json` that the model card uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HfConfig {
    /// `model_type`: the family (`bert`, `llama`).
    pub model_type: Option<String>,
    /// `architectures`: the classes the weights load into (`BertForSequenceClassification`).
    pub architectures: Vec<String>,
    /// `_name_or_path`: where the model was loaded from before it was saved (a Hub id or a local path).
    pub name_or_path: Option<String>,
    pub torch_dtype: Option<String>,
    pub transformers_version: Option<String>,
}

/// Parses `config.json`; `None` when it is not a JSON object naming a model type or architecture (many tools
/// write unrelated `config.json` files).
pub fn parse_config(bytes: &[u8]) -> Option<HfConfig> {
    let Json::Object(map) = serde_json::from_slice::<Json>(bytes).ok()? else {
        return None;
    };
    let s = |k: &str| map.get(k).and_then(Json::as_str).map(cap);
    let config = HfConfig {
        model_type: s("model_type"),
        architectures: map
            .get("architectures")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(cap)
                    .take(MAX_ITEMS)
                    .collect()
            })
            .unwrap_or_default(),
        name_or_path: s("_name_or_path"),
        torch_dtype: s("torch_dtype").or_else(|| s("dtype")),
        transformers_version: s("transformers_version"),
    };
    (config.model_type.is_some() || !config.architectures.is_empty()).then_some(config)
}

impl HfConfig {
    /// The pipeline task implied by the architecture's head, for the unambiguous heads only.
    pub fn task_from_architecture(&self) -> Option<&'static str> {
        const HEADS: &[(&str, &str)] = &[
            ("ForSequenceClassification", "text-classification"),
            ("ForTokenClassification", "token-classification"),
            ("ForQuestionAnswering", "question-answering"),
            ("ForCausalLM", "text-generation"),
            ("ForMaskedLM", "fill-mask"),
            ("ForMultipleChoice", "multiple-choice"),
            ("ForImageClassification", "image-classification"),
            ("ForObjectDetection", "object-detection"),
            ("ForSemanticSegmentation", "image-segmentation"),
            ("ForAudioClassification", "audio-classification"),
            ("ForCTC", "automatic-speech-recognition"),
        ];
        let arch = self.architectures.first()?;
        HEADS
            .iter()
            .find(|(suffix, _)| arch.ends_with(suffix))
            .map(|&(_, task)| task)
    }
}

/// One evaluation result from `model-index`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardMetric {
    pub kind: String,
    pub value: String,
    /// `dataset` or `dataset/split`.
    pub slice: Option<String>,
}

/// The front-matter fields of a model or dataset card that the BOM uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CardMeta {
    pub license: Option<String>,
    /// With `license: other`: the licence's name and link.
    pub license_name: Option<String>,
    pub license_link: Option<String>,
    pub pipeline_tag: Option<String>,
    pub library_name: Option<String>,
    pub tags: Vec<String>,
    pub language: Vec<String>,
    /// Datasets the model was trained or evaluated on (Hub ids or names).
    pub datasets: Vec<String>,
    /// Models this one was derived from.
    pub base_model: Vec<String>,
    pub metrics: Vec<CardMetric>,
    /// `model-index[0].name`.
    pub model_name: Option<String>,
    pub pretty_name: Option<String>,
    pub task_categories: Vec<String>,
    pub size_categories: Vec<String>,
    /// `dataset_info.splits`: name and example count.
    pub splits: Vec<(String, Option<u64>)>,
    /// Has keys only a model card uses.
    pub is_model_card: bool,
    /// Has keys only a dataset card uses.
    pub is_dataset_card: bool,
}

fn yaml_str(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(cap(s)),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A string or a list of strings, as cards write either.
fn yaml_list(v: Option<&Yaml>) -> Vec<String> {
    match v {
        Some(Yaml::Sequence(items)) => items.iter().filter_map(yaml_str).take(MAX_ITEMS).collect(),
        Some(other) => yaml_str(other).into_iter().collect(),
        None => Vec::new(),
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

fn get<'a>(v: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match v {
        Yaml::Mapping(m) => m.get(key),
        _ => None,
    }
}

/// Extracts the YAML front-matter block of a README (`---` ... `---` at the very top) and parses the fields
/// above. `Ok(None)` when there is no front-matter; `Err` with the parser's message when it is not valid YAML.
pub fn front_matter(readme: &str) -> Result<Option<CardMeta>, String> {
    let text = readme.strip_prefix('\u{feff}').unwrap_or(readme);
    let mut lines = text.split_inclusive('\n');
    match lines.next() {
        Some(first) if first.trim_end() == "---" => {}
        _ => return Ok(None),
    }
    let start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut end = None;
    let mut offset = start;
    for line in lines {
        let t = line.trim_end();
        if t == "---" || t == "..." {
            end = Some(offset);
            break;
        }
        offset += line.len();
    }
    let Some(end) = end else { return Ok(None) };
    let block = &text[start..end];
    if block.len() > MAX_FRONT_MATTER {
        return Err(format!(
            "front-matter is larger than {MAX_FRONT_MATTER} bytes"
        ));
    }
    if has_yaml_anchor(block) {
        // The parser caps alias jumps, but a few thousand aliases of one large anchored list still expand to
        // hundreds of millions of values. Cards never need anchors, so they are refused outright.
        return Err("front-matter uses YAML anchors, which are not accepted".to_owned());
    }
    let yaml: Yaml = serde_norway::from_str(block).map_err(|e| e.to_string())?;
    if !matches!(yaml, Yaml::Mapping(_)) {
        return Ok(None);
    }
    Ok(Some(card_meta(&yaml)))
}

/// Largest front-matter block parsed.
pub const MAX_FRONT_MATTER: usize = 64 * 1024;

/// Whether `yaml` defines an anchor: `&name` at the start of a node (after whitespace or a flow or block
/// indicator). An `&` inside plain text (`R&D`, `Q & A`) does not count.
fn has_yaml_anchor(yaml: &str) -> bool {
    let b = yaml.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'&'
            && b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace())
            && (i == 0
                || matches!(
                    b[i - 1],
                    b' ' | b'\t' | b'\n' | b'[' | b'{' | b',' | b':' | b'-'
                ))
    })
}

fn card_meta(y: &Yaml) -> CardMeta {
    let s = |k: &str| get(y, k).and_then(yaml_str).filter(|s| !s.is_empty());
    let mut meta = CardMeta {
        license: yaml_list(get(y, "license")).into_iter().next(),
        license_name: s("license_name"),
        license_link: s("license_link"),
        pipeline_tag: s("pipeline_tag"),
        library_name: s("library_name"),
        tags: yaml_list(get(y, "tags")),
        language: yaml_list(get(y, "language")),
        datasets: yaml_list(get(y, "datasets")),
        base_model: yaml_list(get(y, "base_model")),
        pretty_name: s("pretty_name"),
        task_categories: yaml_list(get(y, "task_categories")),
        size_categories: yaml_list(get(y, "size_categories")),
        ..CardMeta::default()
    };
    if let Some(Yaml::Sequence(index)) = get(y, "model-index") {
        meta.model_name = index
            .first()
            .and_then(|m| get(m, "name"))
            .and_then(yaml_str);
        for model in index.iter().take(MAX_ITEMS) {
            let Some(Yaml::Sequence(results)) = get(model, "results") else {
                continue;
            };
            for result in results.iter().take(MAX_ITEMS) {
                let dataset = get(result, "dataset");
                let ds_name = dataset
                    .and_then(|d| get(d, "name").or_else(|| get(d, "type")))
                    .and_then(yaml_str);
                let split = dataset.and_then(|d| get(d, "split")).and_then(yaml_str);
                let slice = match (ds_name, split) {
                    (Some(d), Some(s)) => Some(format!("{d}/{s}")),
                    (d, _) => d,
                };
                let Some(Yaml::Sequence(metrics)) = get(result, "metrics") else {
                    continue;
                };
                for m in metrics.iter().take(MAX_ITEMS) {
                    let kind = get(m, "type").or_else(|| get(m, "name")).and_then(yaml_str);
                    let value = get(m, "value").and_then(yaml_str);
                    if let (Some(kind), Some(value)) = (kind, value)
                        && meta.metrics.len() < MAX_ITEMS
                    {
                        meta.metrics.push(CardMetric {
                            kind,
                            value,
                            slice: slice.clone(),
                        });
                    }
                }
            }
        }
    }
    // dataset_info is a mapping, or a list of them (one per config).
    let infos: Vec<&Yaml> = match get(y, "dataset_info") {
        Some(Yaml::Sequence(list)) => list.iter().collect(),
        Some(m @ Yaml::Mapping(_)) => vec![m],
        _ => Vec::new(),
    };
    for info in infos.into_iter().take(MAX_ITEMS) {
        let Some(Yaml::Sequence(splits)) = get(info, "splits") else {
            continue;
        };
        for split in splits.iter().take(MAX_ITEMS) {
            if let Some(name) = get(split, "name").and_then(yaml_str) {
                let n = get(split, "num_examples").and_then(|v| match v {
                    Yaml::Number(n) => n.as_u64(),
                    _ => None,
                });
                meta.splits.push((name, n));
            }
        }
    }
    let has = |k: &str| get(y, k).is_some();
    meta.is_model_card = [
        "pipeline_tag",
        "library_name",
        "base_model",
        "model-index",
        "model_name",
    ]
    .iter()
    .any(|k| has(k));
    meta.is_dataset_card = [
        "dataset_info",
        "task_categories",
        "task_ids",
        "size_categories",
        "annotations_creators",
        "source_datasets",
        "pretty_name",
    ]
    .iter()
    .any(|k| has(k));
    meta
}

/// The Hub repository id and revision implied by a Hugging Face cache path
/// (`.../models--ORG--NAME/snapshots/REVISION/...`), for models or datasets.
pub fn hub_cache_location(path: &std::path::Path) -> Option<(String, Option<String>)> {
    let parts: Vec<&str> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    let snap = parts.iter().rposition(|p| *p == "snapshots")?;
    let repo_dir = parts.get(snap.checked_sub(1)?)?;
    let rest = repo_dir
        .strip_prefix("models--")
        .or_else(|| repo_dir.strip_prefix("datasets--"))?;
    let repo_id = rest.replace("--", "/");
    let revision = parts
        .get(snap + 1)
        .filter(|r| is_commit(r))
        .map(|r| r.to_ascii_lowercase());
    Some((repo_id, revision))
}

/// Whether `s` looks like a full Git commit id (40 or 64 hex digits).
pub fn is_commit(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `s` has the shape of a Hub repository id (`name` or `org/name`, no path syntax).
pub fn looks_like_repo_id(s: &str) -> bool {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.len() <= 96
            && !p.starts_with('.')
            && !p.starts_with('-')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let mut parts = s.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), None, None) => ok_part(a),
        (Some(a), Some(b), None) => ok_part(a) && ok_part(b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_needs_model_keys() {
        let c = parse_config(br#"{"model_type":"bert","architectures":["BertForSequenceClassification"],"_name_or_path":"acme/x"}"#).unwrap();
        assert_eq!(c.task_from_architecture(), Some("text-classification"));
        assert_eq!(c.name_or_path.as_deref(), Some("acme/x"));
        assert_eq!(parse_config(br#"{"compilerOptions":{}}"#), None);
        assert_eq!(parse_config(b"[1,2]"), None);
        assert_eq!(parse_config(b"not json"), None);
    }

    #[test]
    fn model_card_front_matter() {
        let readme = "---\nlicense: apache-2.0\npipeline_tag: text-classification\ndatasets:\n- imdb\nbase_model: bert-base-uncased\ntags: [sentiment]\nmodel-index:\n- name: sentiment-mini\n  results:\n  - task: {type: text-classification}\n    dataset: {name: imdb, type: imdb, split: test}\n    metrics:\n    - {type: accuracy, value: 0.91}\n---\n# Title\n";
        let m = front_matter(readme).unwrap().unwrap();
        assert!(m.is_model_card && !m.is_dataset_card);
        assert_eq!(m.license.as_deref(), Some("apache-2.0"));
        assert_eq!(m.datasets, ["imdb"]);
        assert_eq!(m.base_model, ["bert-base-uncased"]);
        assert_eq!(m.model_name.as_deref(), Some("sentiment-mini"));
        assert_eq!(
            m.metrics,
            [CardMetric {
                kind: "accuracy".into(),
                value: "0.91".into(),
                slice: Some("imdb/test".into())
            }]
        );
    }

    #[test]
    fn dataset_card_and_edge_cases() {
        let m = front_matter("---\npretty_name: Reviews\ntask_categories: text-classification\ndataset_info:\n  splits:\n  - name: train\n    num_examples: 3\n---\n").unwrap().unwrap();
        assert!(m.is_dataset_card && !m.is_model_card);
        assert_eq!(m.task_categories, ["text-classification"]);
        assert_eq!(m.splits, [("train".to_owned(), Some(3))]);
        assert_eq!(front_matter("# no front matter\n").unwrap(), None);
        assert_eq!(front_matter("---\nunterminated: true\n").unwrap(), None);
        assert!(front_matter("---\n: : [\n---\n").is_err());
        // Anchors are refused before parsing, so alias bombs never expand.
        assert!(
            front_matter("---\ntitle: R&D and Q & A\n---\n")
                .unwrap()
                .is_some()
        );
        let bomb = "---\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n---\n";
        assert!(front_matter(bomb).is_err());
    }

    #[test]
    fn hub_cache_paths_and_repo_ids() {
        let p = std::path::Path::new(
            "/home/u/.cache/huggingface/hub/models--acme--sentiment-mini/snapshots/0123456789abcdef0123456789abcdef01234567/model.safetensors",
        );
        assert_eq!(
            hub_cache_location(p),
            Some((
                "acme/sentiment-mini".into(),
                Some("0123456789abcdef0123456789abcdef01234567".into())
            ))
        );
        assert!(looks_like_repo_id("acme/sentiment-mini"));
        assert!(looks_like_repo_id("gpt2"));
        assert!(!looks_like_repo_id("/models/x"));
        assert!(!looks_like_repo_id("./x"));
        assert!(!looks_like_repo_id("a/b/c"));
    }
}
