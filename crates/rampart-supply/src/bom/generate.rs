//! Walking a folder and assembling the BOM: model units, dataset units, packages from manifests, and the
//! dependency graph that ties them to the project.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::card::{self, CardMeta, HfConfig};
use super::cyclonedx::{
    Bom, Component, ComponentData, ComponentType, DataContents, DatasetChoice, Dependency,
    ExternalReference, Hash, Metadata, ModelCard, ModelParameters, OrganizationalEntity, Pedigree,
    PerformanceMetric, Property, QuantitativeAnalysis, Scope, Tools,
};
use super::detect::{self, FileKind, LockKind};
use super::lockfile::{self, Ecosystem};
use super::purl::{self, Purl};
use super::{BomError, BomOptions, BomWarning, GeneratedBom, clock, digest, license, props};
use crate::report::{FileReport, Verdict};

/// Folder names never entered: version control, dependency caches and build output hold copies of packages
/// (already described by the lockfiles) and can be very large.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "target",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
];

/// The bom-ref of the project (the metadata component).
pub const PROJECT_REF: &str = "project";

/// Bytes read from a `config.json` or `README.md` at most.
const MAX_CARD_BYTES: u64 = 256 * 1024;

struct FileEntry {
    /// Path relative to the scanned root, `/`-separated.
    rel: String,
    /// The folder holding it, relative (`""` for the root).
    dir: String,
    abs: PathBuf,
    kind: FileKind,
}

fn rel_string(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn base_name(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, n)| n)
}

/// Every ancestor folder of `dir`, nearest first, ending with the root `""`.
fn ancestors(dir: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(dir);
    std::iter::from_fn(move || {
        let cur = next?;
        next = if cur.is_empty() {
            None
        } else {
            Some(parent_dir(cur))
        };
        Some(cur)
    })
}

fn is_venv(path: &Path) -> bool {
    path.join("pyvenv.cfg").is_file()
}

fn walk(root: &Path, warnings: &mut Vec<BomWarning>) -> Vec<FileEntry> {
    let mut out = Vec::new();
    let iter = WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e.file_type().is_dir()
                || !(SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref())
                    || is_venv(e.path()))
        });
    for entry in iter {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map(rel_string)
                    .unwrap_or_default();
                warnings.push(BomWarning {
                    path,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let ft = entry.file_type();
        // A symlink counts when it points at a regular file (the Hugging Face cache links snapshot files to
        // blobs); links to folders are not followed, which also rules out cycles. Devices and FIFOs never
        // count, so nothing here blocks or reads without end.
        let is_file = ft.is_file()
            || (ft.is_symlink() && fs::metadata(entry.path()).is_ok_and(|m| m.is_file()));
        if !is_file {
            continue;
        }
        let rel_path = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let mut rel = rel_string(rel_path);
        if rel.is_empty() {
            // The root itself is a file.
            rel = entry.file_name().to_string_lossy().into_owned();
        }
        let dir = parent_dir(&rel).to_owned();
        let name = base_name(&rel).to_owned();
        let kind = detect::classify(&name, (!dir.is_empty()).then(|| base_name(&dir)));
        out.push(FileEntry {
            rel,
            dir,
            abs: entry.path().to_path_buf(),
            kind,
        });
    }
    out
}

fn read_text(path: &Path, limit: u64) -> Result<String, String> {
    match digest::read_bounded(path, limit) {
        Ok(Some(bytes)) => String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned()),
        Ok(None) => Err(format!("larger than {limit} bytes; not parsed")),
        Err(e) => Err(e.to_string()),
    }
}

/// One weight or data file inside a unit.
struct Artifact {
    rel: String,
    abs: PathBuf,
    format: &'static str,
    digest: Option<digest::FileDigest>,
    report: Option<FileReport>,
}

impl Artifact {
    fn verdict_name(&self) -> &'static str {
        match &self.report {
            None => "not-scanned",
            Some(r) => verdict_name(r.verdict),
        }
    }
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Safe => "safe",
        Verdict::Suspicious => "suspicious",
        Verdict::Dangerous => "dangerous",
        Verdict::Error => "error",
    }
}

/// Rank used to combine verdicts: the worst one wins, and "not scanned" only beats "safe".
fn verdict_rank(name: &str) -> u8 {
    match name {
        "safe" => 0,
        "not-scanned" => 1,
        "suspicious" => 2,
        "dangerous" => 3,
        _ => 4,
    }
}

/// A model or dataset: one file, or a card folder with its files.
struct Unit {
    /// The folder (card units) or file (loose files), relative.
    rel: String,
    card_dir: bool,
    artifacts: Vec<Artifact>,
}

impl Unit {
    /// The relative path as it appears in bom-refs and properties: `.` for the root.
    fn display_rel(&self) -> &str {
        if self.rel.is_empty() { "." } else { &self.rel }
    }
}

struct Cards {
    configs: BTreeMap<String, HfConfig>,
    readmes: BTreeMap<String, CardMeta>,
}

impl Cards {
    fn is_model_dir(&self, dir: &str) -> bool {
        self.configs.contains_key(dir) || self.readmes.get(dir).is_some_and(|m| m.is_model_card)
    }
    fn is_dataset_dir(&self, dir: &str) -> bool {
        self.readmes
            .get(dir)
            .is_some_and(|m| m.is_dataset_card && !m.is_model_card)
    }
}

/// Groups files into units: each file goes to its nearest ancestor folder that `is_card_dir`, or stands alone.
fn group(files: Vec<Artifact>, is_card_dir: &dyn Fn(&str) -> bool) -> Vec<Unit> {
    let mut units: BTreeMap<String, Unit> = BTreeMap::new();
    for a in files {
        let owner = ancestors(parent_dir(&a.rel)).find(|d| is_card_dir(d));
        let (key, card_dir) = match owner {
            Some(d) => (d.to_owned(), true),
            None => (a.rel.clone(), false),
        };
        units
            .entry(key.clone())
            .or_insert_with(|| Unit {
                rel: key,
                card_dir,
                artifacts: Vec::new(),
            })
            .artifacts
            .push(a);
    }
    units.into_values().collect()
}

fn hash_artifact(a: &mut Artifact, count_lines: bool, warnings: &mut Vec<BomWarning>) {
    match digest::file(&a.abs, count_lines) {
        Ok(d) => a.digest = Some(d),
        Err(e) => warnings.push(BomWarning {
            path: a.rel.clone(),
            message: format!("cannot hash: {e}"),
        }),
    }
}

fn sha256(hex: &str) -> Hash {
    Hash {
        alg: "SHA-256".to_owned(),
        content: hex.to_owned(),
    }
}

/// Name, group and purl-relevant identity of a unit.
struct Identity {
    group: Option<String>,
    name: String,
    version: Option<String>,
    repo_id: Option<String>,
}

fn display_dir_name(rel: &str, root_name: &str) -> String {
    if rel.is_empty() {
        root_name.to_owned()
    } else {
        base_name(rel).to_owned()
    }
}

fn identity(
    unit: &Unit,
    root_abs: &Path,
    root_name: &str,
    cards: &Cards,
    models: bool,
) -> Identity {
    let abs = root_abs.join(&unit.rel);
    let mut repo_id = None;
    let mut revision = None;
    if unit.card_dir {
        if let Some((id, rev)) = card::hub_cache_location(&abs) {
            repo_id = Some(id);
            revision = rev;
        } else if models {
            // `_name_or_path` names the model that was loaded before saving: this model when it was
            // re-saved unchanged, its base when it was fine-tuned. A card that names that same id as
            // `base_model` settles it.
            let cfg = cards.configs.get(&unit.rel);
            let bases = cards
                .readmes
                .get(&unit.rel)
                .map(|m| m.base_model.as_slice())
                .unwrap_or(&[]);
            if let Some(id) = cfg.and_then(|c| c.name_or_path.as_deref())
                && card::looks_like_repo_id(id)
                && !bases.iter().any(|b| b == id)
            {
                repo_id = Some(id.to_owned());
            }
        }
        if revision.is_none() {
            revision = download_revision(&abs);
        }
    }
    match repo_id {
        Some(id) => {
            let (group, name) = match id.split_once('/') {
                Some((g, n)) => (Some(g.to_owned()), n.to_owned()),
                None => (None, id.clone()),
            };
            Identity {
                group,
                name,
                version: revision,
                repo_id: Some(id),
            }
        }
        None => Identity {
            group: None,
            name: if unit.card_dir {
                display_dir_name(&unit.rel, root_name)
            } else {
                base_name(&unit.rel).to_owned()
            },
            version: revision,
            repo_id: None,
        },
    }
}

/// The commit a `huggingface_hub` download into a local folder recorded
/// (`.cache/huggingface/download/*.metadata`, first line).
fn download_revision(dir: &Path) -> Option<String> {
    let meta_dir = dir.join(".cache").join("huggingface").join("download");
    let mut names: Vec<PathBuf> = fs::read_dir(&meta_dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "metadata"))
        .collect();
    names.sort();
    names.iter().find_map(|p| {
        let text = digest::read_bounded(p, 4096).ok()??;
        let first = String::from_utf8_lossy(&text)
            .lines()
            .next()?
            .trim()
            .to_owned();
        card::is_commit(&first).then(|| first.to_ascii_lowercase())
    })
}

fn license_entries(meta: Option<&CardMeta>) -> Vec<super::cyclonedx::LicenseChoice> {
    let Some(m) = meta else { return Vec::new() };
    m.license
        .as_deref()
        .and_then(|l| license::choice(l, m.license_name.as_deref(), m.license_link.as_deref()))
        .into_iter()
        .collect()
}

/// Files of the same safetensors checkpoint: `model-00001-of-00003.safetensors` and its siblings share the key
/// `model.safetensors`; alternative files (`model.fp16.safetensors`) get their own key.
fn checkpoint_key(rel: &str) -> String {
    let name = base_name(rel);
    let stem = name.strip_suffix(".safetensors").unwrap_or(name);
    // Strip a trailing `-NNNNN-of-NNNNN`.
    if let Some(i) = stem.rfind("-of-")
        && stem[i + 4..].bytes().all(|b| b.is_ascii_digit())
        && let Some(j) = stem[..i].rfind('-')
        && stem[j + 1..i].bytes().all(|b| b.is_ascii_digit())
    {
        return format!("{}/{}", parent_dir(rel), &stem[..j]);
    }
    format!("{}/{stem}", parent_dir(rel))
}

struct Builder<'a> {
    opts: &'a BomOptions,
    root_abs: PathBuf,
    root_name: String,
    warnings: Vec<BomWarning>,
    components: Vec<Component>,
    /// bom-ref → refs it depends on, for every node whose relations are known.
    graph: BTreeMap<String, BTreeSet<String>>,
    project_deps: BTreeSet<String>,
}

impl Builder<'_> {
    fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push(BomWarning {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn artifact_component(a: &Artifact, unit_rel: &str, kind: &str) -> Component {
        let inner = a
            .rel
            .strip_prefix(unit_rel)
            .map(|r| r.trim_start_matches('/'))
            .filter(|r| !r.is_empty())
            .unwrap_or(&a.rel);
        let mut c = Component::new(ComponentType::File, inner);
        c.bom_ref = Some(format!("{kind}:{}", a.rel));
        if let Some(d) = &a.digest {
            c.hashes.push(sha256(&d.sha256));
        }
        Self::artifact_properties(&mut c, a, kind);
        c
    }

    fn artifact_properties(c: &mut Component, a: &Artifact, kind: &str) {
        c.push_property(props::FILE_PATH, &a.rel);
        if let Some(d) = &a.digest {
            c.push_property(props::FILE_SIZE, d.bytes.to_string());
        }
        if kind == "model" {
            c.push_property(props::MODEL_FORMAT, a.format);
            c.push_property(props::SCAN_VERDICT, a.verdict_name());
            if let Some(r) = &a.report {
                c.push_property(props::SCAN_FINDINGS, r.findings.len().to_string());
                let rules: BTreeSet<&str> = r.findings.iter().map(|f| f.rule).collect();
                for rule in rules {
                    c.push_property(props::SCAN_RULE, rule);
                }
            }
        } else {
            c.push_property(props::DATA_FORMAT, a.format);
            if matches!(a.format, "jsonl" | "csv" | "tsv")
                && let Some(d) = &a.digest
            {
                c.push_property(props::DATA_LINES, d.newlines.to_string());
            }
        }
    }

    /// File-level facts: one file → on the unit's component itself; several → summary
    /// properties (total size, formats and, for models, the worst verdict) plus nested file
    /// components.
    fn file_facts(c: &mut Component, unit: &Unit, kind: &str) {
        if let [a] = unit.artifacts.as_slice() {
            if let Some(d) = &a.digest {
                c.hashes.push(sha256(&d.sha256));
            }
            Self::artifact_properties(c, a, kind);
            return;
        }
        let model = kind == "model";
        c.push_property(props::FILE_PATH, unit.display_rel());
        let total: u64 = unit
            .artifacts
            .iter()
            .filter_map(|a| a.digest.as_ref())
            .map(|d| d.bytes)
            .sum();
        c.push_property(props::FILE_SIZE, total.to_string());
        let formats: BTreeSet<&str> = unit.artifacts.iter().map(|a| a.format).collect();
        let format_prop = if model {
            props::MODEL_FORMAT
        } else {
            props::DATA_FORMAT
        };
        for f in formats {
            c.push_property(format_prop, f);
        }
        if model {
            let worst = unit
                .artifacts
                .iter()
                .map(Artifact::verdict_name)
                .max_by_key(|v| verdict_rank(v))
                .unwrap_or("not-scanned");
            c.push_property(props::SCAN_VERDICT, worst);
            let findings: usize = unit
                .artifacts
                .iter()
                .filter_map(|a| a.report.as_ref())
                .map(|r| r.findings.len())
                .sum();
            c.push_property(props::SCAN_FINDINGS, findings.to_string());
        }
        c.components = unit
            .artifacts
            .iter()
            .map(|a| Self::artifact_component(a, &unit.rel, kind))
            .collect();
    }

    fn model_component(
        &mut self,
        unit: &Unit,
        cards: &Cards,
        dataset_refs: &BTreeMap<String, String>,
    ) -> Component {
        let id = identity(unit, &self.root_abs, &self.root_name, cards, true);
        let mut c = Component::new(ComponentType::MachineLearningModel, id.name.clone());
        let bom_ref = format!("model:{}", unit.display_rel());
        c.bom_ref = Some(bom_ref.clone());
        c.group.clone_from(&id.group);
        c.version.clone_from(&id.version);
        let single = (unit.artifacts.len() == 1).then(|| &unit.artifacts[0]);
        c.purl = Some(match (&id.repo_id, single) {
            (Some(repo), _) => Purl::huggingface(repo, id.version.as_deref()).to_string(),
            (None, Some(a)) => {
                let p = Purl::generic(&id.name, id.version.as_deref());
                match &a.digest {
                    Some(d) => p
                        .qualifier("checksum", format!("sha256:{}", d.sha256))
                        .to_string(),
                    None => p.to_string(),
                }
            }
            (None, None) => Purl::generic(&id.name, id.version.as_deref()).to_string(),
        });
        if let Some(repo) = &id.repo_id {
            let url = format!("https://huggingface.co/{repo}");
            c.external_references.push(ExternalReference {
                url: url.clone(),
                kind: "model-card".to_owned(),
                comment: None,
            });
            if let Some(g) = &id.group {
                c.supplier = Some(OrganizationalEntity {
                    name: Some(g.clone()),
                    url: vec![format!("https://huggingface.co/{g}")],
                });
            }
        }
        let meta = unit
            .card_dir
            .then(|| cards.readmes.get(&unit.rel))
            .flatten();
        let config = unit
            .card_dir
            .then(|| cards.configs.get(&unit.rel))
            .flatten();
        c.licenses = license_entries(meta);
        if let Some(m) = meta {
            c.tags = m.tags.clone();
            if !m.base_model.is_empty() {
                c.pedigree = Some(Pedigree {
                    ancestors: m.base_model.iter().map(|b| ancestor(b)).collect(),
                    notes: None,
                });
            }
        }
        Self::file_facts(&mut c, unit, "model");
        // Parameter count: the largest safetensors checkpoint (shards summed; alternative copies not).
        let mut checkpoints: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
        for a in unit.artifacts.iter().filter(|a| a.format == "safetensors") {
            match detect::safetensors_summary(&a.abs) {
                Ok(Some(s)) => {
                    let e = checkpoints.entry(checkpoint_key(&a.rel)).or_default();
                    e.0 = e.0.saturating_add(s.parameters);
                    e.1.extend(s.dtypes);
                }
                Ok(None) => self.warn(
                    &a.rel,
                    "safetensors header unreadable; parameters not counted",
                ),
                Err(e) => self.warn(&a.rel, format!("cannot read: {e}")),
            }
        }
        let mut card_props = Vec::new();
        if let Some((params, dtypes)) = checkpoints.into_values().max_by_key(|(p, _)| *p) {
            card_props.push(prop(props::CARD_PARAMETERS, params.to_string()));
            for d in dtypes {
                card_props.push(prop(props::CARD_DTYPE, d));
            }
        }
        let mut params = ModelParameters::default();
        if let Some(cfg) = config {
            params.architecture_family.clone_from(&cfg.model_type);
            params.model_architecture = cfg.architectures.first().cloned();
            params.task = cfg.task_from_architecture().map(str::to_owned);
            if let Some(v) = &cfg.transformers_version {
                card_props.push(prop(props::CARD_TRANSFORMERS_VERSION, v.clone()));
            }
            if let Some(v) = &cfg.torch_dtype {
                card_props.push(prop(props::CARD_TORCH_DTYPE, v.clone()));
            }
        }
        let mut metrics = Vec::new();
        if let Some(m) = meta {
            if let Some(t) = &m.pipeline_tag {
                params.task = Some(t.clone());
            }
            for ds in &m.datasets {
                params.datasets.push(match dataset_refs.get(ds) {
                    Some(r) => DatasetChoice::Ref {
                        reference: r.clone(),
                    },
                    None => DatasetChoice::Inline(ComponentData {
                        kind: "dataset".to_owned(),
                        name: Some(ds.clone()),
                        contents: card::looks_like_repo_id(ds).then(|| DataContents {
                            url: Some(format!("https://huggingface.co/datasets/{ds}")),
                            properties: Vec::new(),
                        }),
                        classification: None,
                        description: None,
                    }),
                });
            }
            if let Some(lib) = &m.library_name {
                card_props.push(prop(props::CARD_LIBRARY, lib.clone()));
            }
            for lang in &m.language {
                card_props.push(prop(props::CARD_LANGUAGE, lang.clone()));
            }
            metrics = m
                .metrics
                .iter()
                .map(|x| PerformanceMetric {
                    kind: Some(x.kind.clone()),
                    value: Some(x.value.clone()),
                    slice: x.slice.clone(),
                })
                .collect();
        }
        let mut model_card = ModelCard {
            model_parameters: (params != ModelParameters::default()).then_some(params),
            quantitative_analysis: (!metrics.is_empty()).then_some(QuantitativeAnalysis {
                performance_metrics: metrics,
            }),
            properties: card_props,
        };
        if !model_card.is_empty() {
            model_card.properties.sort();
            c.model_card = Some(model_card);
        }
        c
    }

    fn dataset_component(&mut self, unit: &Unit, cards: &Cards) -> Component {
        let id = identity(unit, &self.root_abs, &self.root_name, cards, false);
        let mut c = Component::new(ComponentType::Data, id.name.clone());
        c.bom_ref = Some(format!("data:{}", unit.display_rel()));
        c.group.clone_from(&id.group);
        c.version.clone_from(&id.version);
        let single = (unit.artifacts.len() == 1).then(|| &unit.artifacts[0]);
        let mut p = Purl::generic(&id.name, id.version.as_deref());
        if let Some(d) = single.and_then(|a| a.digest.as_ref()) {
            p = p.qualifier("checksum", format!("sha256:{}", d.sha256));
        }
        c.purl = Some(p.to_string());
        let meta = unit
            .card_dir
            .then(|| cards.readmes.get(&unit.rel))
            .flatten();
        c.licenses = license_entries(meta);
        let mut data = ComponentData {
            kind: "dataset".to_owned(),
            name: Some(id.repo_id.clone().unwrap_or_else(|| id.name.clone())),
            contents: id.repo_id.as_ref().map(|r| DataContents {
                url: Some(format!("https://huggingface.co/datasets/{r}")),
                properties: Vec::new(),
            }),
            classification: None,
            description: None,
        };
        Self::file_facts(&mut c, unit, "data");
        if let Some(m) = meta {
            c.tags = m.tags.clone();
            data.description.clone_from(&m.pretty_name);
            for t in &m.task_categories {
                c.push_property(props::DATA_TASK, t.clone());
            }
            for s in &m.size_categories {
                c.push_property(props::DATA_SIZE_CATEGORY, s.clone());
            }
            for (split, n) in &m.splits {
                let v = match n {
                    Some(n) => format!("{split}={n}"),
                    None => split.clone(),
                };
                c.push_property(props::DATA_SPLIT, v);
            }
        }
        c.data.push(data);
        c
    }

    fn add_lock(
        &mut self,
        manifest: &str,
        kind: LockKind,
        lock: &lockfile::Lock,
        packages: &mut BTreeMap<String, PackageAcc>,
    ) {
        let eco = lockfile::ecosystem(kind);
        let refs: Vec<String> = lock
            .packages
            .iter()
            .map(|p| match &p.purl {
                Some(u) => u.clone(),
                None => match &p.version {
                    Some(v) => format!("local:{}/{}@{v}", eco.name(), p.name),
                    None => format!("local:{}/{}", eco.name(), p.name),
                },
            })
            .collect();
        for (p, r) in lock.packages.iter().zip(&refs) {
            let acc = packages.entry(r.clone()).or_insert_with(|| PackageAcc {
                eco,
                pkg: p.clone(),
                manifests: BTreeSet::new(),
                dev: Vec::new(),
                hashes: BTreeSet::new(),
                constraints: BTreeSet::new(),
            });
            acc.manifests.insert(manifest.to_owned());
            acc.dev.push(p.dev);
            acc.hashes.extend(p.hashes.iter().cloned());
            if let Some(c) = &p.constraint {
                acc.constraints.insert(c.clone());
            }
            if acc.pkg.license.is_none() {
                acc.pkg.license.clone_from(&p.license);
            }
        }
        if let Some(edges) = &lock.edges {
            for (i, targets) in edges.iter().enumerate() {
                let node = self.graph.entry(refs[i].clone()).or_default();
                node.extend(
                    targets
                        .iter()
                        .filter(|&&t| t != i)
                        .map(|&t| refs[t].clone()),
                );
            }
        }
        for i in lock.project_dependencies() {
            self.project_deps.insert(refs[i].clone());
        }
    }
}

/// One package merged across every manifest that lists it.
struct PackageAcc {
    eco: Ecosystem,
    pkg: lockfile::LockedPackage,
    manifests: BTreeSet<String>,
    dev: Vec<Option<bool>>,
    hashes: BTreeSet<Hash>,
    constraints: BTreeSet<String>,
}

impl PackageAcc {
    fn component(&self, bom_ref: &str) -> Component {
        let p = &self.pkg;
        let parsed = p.purl.as_deref().and_then(purl::parse);
        let norm_name = match &parsed {
            Some(x) => match &x.namespace {
                Some(ns) if self.eco == Ecosystem::Npm => format!("{ns}/{}", x.name),
                Some(ns) => format!("{ns}/{}", x.name),
                None => x.name.clone(),
            },
            None => p.name.clone(),
        };
        let kind = if lockfile::is_ml_framework(self.eco, &norm_name) {
            ComponentType::Framework
        } else {
            ComponentType::Library
        };
        let (group, name) = match (
            self.eco,
            p.name.strip_prefix('@').and_then(|s| s.split_once('/')),
        ) {
            (Ecosystem::Npm, Some((scope, bare))) => (Some(format!("@{scope}")), bare.to_owned()),
            _ => (None, p.name.clone()),
        };
        let mut c = Component::new(kind, name);
        c.group = group;
        c.bom_ref = Some(bom_ref.to_owned());
        c.version.clone_from(&p.version);
        c.purl.clone_from(&p.purl);
        // Runtime use anywhere wins; dev-only everywhere it is known means excluded from the runtime.
        c.scope = if self.dev.contains(&Some(false)) {
            Some(Scope::Required)
        } else if !self.dev.is_empty() && self.dev.iter().all(|d| *d == Some(true)) {
            Some(Scope::Excluded)
        } else {
            None
        };
        c.hashes = self.hashes.iter().cloned().collect();
        if let Some(l) = p
            .license
            .as_deref()
            .and_then(|l| license::choice(l, None, None))
        {
            c.licenses.push(l);
        }
        for m in &self.manifests {
            c.push_property(props::PACKAGE_MANIFEST, m.clone());
        }
        for k in &self.constraints {
            c.push_property(props::PACKAGE_CONSTRAINT, k.clone());
        }
        if p.local {
            c.push_property(props::PACKAGE_SOURCE, "local");
        } else if let Some(s) = &p.source {
            c.push_property(props::PACKAGE_SOURCE, s.clone());
        }
        c
    }
}

fn prop(name: &str, value: String) -> Property {
    Property {
        name: name.to_owned(),
        value: Some(value),
    }
}

fn ancestor(base: &str) -> Component {
    let (group, name) = match base.split_once('/') {
        Some((g, n)) if card::looks_like_repo_id(base) => (Some(g.to_owned()), n.to_owned()),
        _ => (None, base.to_owned()),
    };
    let mut c = Component::new(ComponentType::MachineLearningModel, name);
    c.group = group;
    if card::looks_like_repo_id(base) {
        c.purl = Some(Purl::huggingface(base, None).to_string());
    }
    c
}

fn kind_rank(k: ComponentType) -> u8 {
    match k {
        ComponentType::MachineLearningModel => 0,
        ComponentType::Data => 1,
        ComponentType::Framework => 2,
        ComponentType::Library => 3,
        _ => 4,
    }
}

pub fn generate(
    root: &Path,
    opts: &BomOptions,
    scan: &dyn Fn(&Path) -> Option<FileReport>,
) -> Result<GeneratedBom, BomError> {
    let io = |e: std::io::Error| BomError::Io {
        path: root.to_path_buf(),
        source: e,
    };
    let meta = fs::metadata(root).map_err(io)?;
    let root_abs = fs::canonicalize(root).map_err(io)?;
    let root_name = root_abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".to_owned());
    // For a single file, paths are relative to its folder.
    let walk_base = if meta.is_dir() {
        root_abs.clone()
    } else {
        root_abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| root_abs.clone())
    };
    let mut b = Builder {
        opts,
        root_abs: walk_base.clone(),
        root_name: root_name.clone(),
        warnings: Vec::new(),
        components: Vec::new(),
        graph: BTreeMap::new(),
        project_deps: BTreeSet::new(),
    };
    let entries = {
        let mut w = Vec::new();
        let mut e = walk(&root_abs, &mut w);
        b.warnings.extend(w);
        if !meta.is_dir() {
            for f in &mut e {
                f.rel = base_name(&f.rel).to_owned();
                f.dir = String::new();
            }
        }
        e
    };

    // Cards first: they decide how files group into units.
    let mut cards = Cards {
        configs: BTreeMap::new(),
        readmes: BTreeMap::new(),
    };
    for e in &entries {
        match e.kind {
            FileKind::HfConfig => match digest::read_bounded(&e.abs, MAX_CARD_BYTES) {
                Ok(Some(bytes)) => {
                    if let Some(c) = card::parse_config(&bytes) {
                        cards.configs.insert(e.dir.clone(), c);
                    }
                }
                Ok(None) => b.warn(&e.rel, "larger than 256 KiB; not read as a model config"),
                Err(err) => b.warn(&e.rel, err.to_string()),
            },
            FileKind::Readme => match read_text(&e.abs, MAX_CARD_BYTES) {
                Ok(text) => match card::front_matter(&text) {
                    Ok(Some(m)) => {
                        cards.readmes.insert(e.dir.clone(), m);
                    }
                    Ok(None) => {}
                    Err(msg) => b.warn(&e.rel, format!("front-matter ignored: {msg}")),
                },
                Err(msg) => b.warn(&e.rel, msg),
            },
            _ => {}
        }
    }

    let mut model_files = Vec::new();
    let mut data_files = Vec::new();
    let mut locks = Vec::new();
    for e in &entries {
        match e.kind {
            FileKind::ModelCandidate => match detect::model_format(&e.abs, base_name(&e.rel)) {
                Ok(Some(format)) => model_files.push(Artifact {
                    rel: e.rel.clone(),
                    abs: e.abs.clone(),
                    format,
                    digest: None,
                    report: None,
                }),
                Ok(None) => {}
                Err(err) => b.warn(&e.rel, err.to_string()),
            },
            FileKind::Data(format) => data_files.push(Artifact {
                rel: e.rel.clone(),
                abs: e.abs.clone(),
                format,
                digest: None,
                report: None,
            }),
            FileKind::Json if ancestors(&e.dir).any(|d| cards.is_dataset_dir(d)) => data_files
                .push(Artifact {
                    rel: e.rel.clone(),
                    abs: e.abs.clone(),
                    format: "json",
                    digest: None,
                    report: None,
                }),
            FileKind::Lockfile(kind) => locks.push((e, kind)),
            _ => {}
        }
    }

    for a in &mut model_files {
        hash_artifact(a, false, &mut b.warnings);
        a.report = scan(&a.abs);
        if let Some(r) = &a.report
            && r.format != crate::Format::Unknown
        {
            a.format = r.format.name();
        }
    }
    for a in &mut data_files {
        hash_artifact(a, true, &mut b.warnings);
    }

    let model_units = group(model_files, &|d| cards.is_model_dir(d));
    let data_units = group(data_files, &|d| cards.is_dataset_dir(d));

    // Datasets first, so that model cards can point at them by bom-ref. A card's `datasets:` entry matches a
    // local dataset by its Hub id or its folder name.
    let mut dataset_refs = BTreeMap::new();
    for unit in &data_units {
        let c = b.dataset_component(unit, &cards);
        let r = c.bom_ref.clone().unwrap_or_default();
        dataset_refs.insert(c.full_name(), r.clone());
        if unit.card_dir {
            dataset_refs.insert(display_dir_name(&unit.rel, &root_name), r.clone());
        }
        b.project_deps.insert(r);
        b.components.push(c);
    }
    for unit in &model_units {
        let c = b.model_component(unit, &cards, &dataset_refs);
        b.project_deps.insert(c.bom_ref.clone().unwrap_or_default());
        b.components.push(c);
    }

    let mut packages: BTreeMap<String, PackageAcc> = BTreeMap::new();
    for (e, kind) in locks {
        let text = match read_text(&e.abs, opts.max_manifest_bytes) {
            Ok(t) => t,
            Err(msg) => {
                b.warn(&e.rel, msg);
                continue;
            }
        };
        match lockfile::parse(kind, &text, base_name(&e.rel)) {
            Ok(lock) => b.add_lock(&e.rel, kind, &lock, &mut packages),
            Err(msg) => b.warn(&e.rel, format!("not parsed: {msg}")),
        }
    }
    for (r, acc) in &packages {
        b.components.push(acc.component(r));
    }

    b.components
        .sort_by(|x, y| (kind_rank(x.kind), &x.bom_ref).cmp(&(kind_rank(y.kind), &y.bom_ref)));

    let mut dependencies = vec![Dependency {
        reference: PROJECT_REF.to_owned(),
        depends_on: b.project_deps.iter().cloned().collect(),
    }];
    dependencies.extend(b.graph.iter().map(|(r, deps)| Dependency {
        reference: r.clone(),
        depends_on: deps.iter().cloned().collect(),
    }));

    let mut project = Component::new(ComponentType::Application, root_name);
    project.bom_ref = Some(PROJECT_REF.to_owned());
    let mut tool = Component::new(ComponentType::Application, "rampart");
    tool.version = Some(env!("CARGO_PKG_VERSION").to_owned());
    tool.external_references.push(ExternalReference {
        url: "https://github.com/rampart-sec/rampart".to_owned(),
        kind: "website".to_owned(),
        comment: None,
    });
    let mut bom = Bom {
        schema: Some(super::cyclonedx::SCHEMA_URL.to_owned()),
        bom_format: super::cyclonedx::BOM_FORMAT.to_owned(),
        spec_version: super::cyclonedx::SPEC_VERSION.to_owned(),
        serial_number: None,
        version: 1,
        metadata: Some(Metadata {
            timestamp: None,
            tools: Some(Tools::Components {
                components: vec![tool],
            }),
            component: Some(Box::new(project)),
            properties: Vec::new(),
        }),
        components: std::mem::take(&mut b.components),
        dependencies,
    };
    let fixed = b.opts.reproducible || b.opts.source_date_epoch.is_some();
    let timestamp = match (b.opts.source_date_epoch, b.opts.reproducible) {
        (Some(t), _) => Some(clock::rfc3339(t)),
        (None, true) => None,
        (None, false) => Some(clock::rfc3339(clock::now_epoch())),
    };
    if let Some(m) = bom.metadata.as_mut() {
        m.timestamp = timestamp;
    }
    bom.serial_number = Some(if fixed {
        // Serialising our own types cannot fail; an empty body would still give a valid serial.
        let body = serde_json::to_vec(&bom).unwrap_or_default();
        clock::derived_serial(&body)
    } else {
        clock::random_serial()
    });
    b.warnings.sort_by(|x, y| x.path.cmp(&y.path));
    Ok(GeneratedBom {
        bom,
        warnings: b.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names_share_a_checkpoint_key() {
        assert_eq!(
            checkpoint_key("m/model-00001-of-00002.safetensors"),
            "m/model"
        );
        assert_eq!(
            checkpoint_key("m/model-00002-of-00002.safetensors"),
            "m/model"
        );
        assert_eq!(checkpoint_key("m/model.safetensors"), "m/model");
        assert_eq!(checkpoint_key("m/model.fp16.safetensors"), "m/model.fp16");
        assert_eq!(checkpoint_key("x-of-y.safetensors"), "/x-of-y");
    }

    #[test]
    fn ancestors_end_at_the_root() {
        assert_eq!(ancestors("a/b").collect::<Vec<_>>(), ["a/b", "a", ""]);
        assert_eq!(ancestors("").collect::<Vec<_>>(), [""]);
    }
}
