//! Approval policies for AI-BOMs: which models, datasets, formats, licences, vendors and packages a project may
//! ship, checked against a CycloneDX BOM (`rampart bom check`).
//!
//! A policy is a TOML file (documented in docs/bom.md, example in examples/bom-policy.toml). Every section is
//! optional; an empty policy passes every BOM. Names and patterns compare case-insensitively, and `*` in a
//! pattern matches any run of characters (including `/`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cyclonedx::{Bom, Component, ComponentType, LicenseChoice};
use super::{detect, license, props, purl};

/// Why a policy or BOM could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy: {0}")]
    Toml(String),
    #[error("policy: {0}")]
    Invalid(String),
    #[error("BOM: {0}")]
    Bom(String),
}

/// A model scan verdict as a policy names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictName {
    Safe,
    Suspicious,
    Dangerous,
    Error,
    /// The BOM records no scan for the file.
    NotScanned,
}

impl VerdictName {
    fn as_str(self) -> &'static str {
        match self {
            VerdictName::Safe => "safe",
            VerdictName::Suspicious => "suspicious",
            VerdictName::Dangerous => "dangerous",
            VerdictName::Error => "error",
            VerdictName::NotScanned => "not-scanned",
        }
    }
}

/// Which component kinds a licence or vendor rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applies {
    /// `machine-learning-model` components.
    Models,
    /// `data` components.
    Datasets,
    /// `library` and `framework` components.
    Packages,
}

impl Applies {
    fn covers(self, kind: ComponentType) -> bool {
        match self {
            Applies::Models => kind == ComponentType::MachineLearningModel,
            Applies::Datasets => kind == ComponentType::Data,
            Applies::Packages => matches!(kind, ComponentType::Library | ComponentType::Framework),
        }
    }
}

/// A top-level approval policy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// A label shown in reports.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub models: ModelRules,
    #[serde(default)]
    pub datasets: DatasetRules,
    #[serde(default)]
    pub licenses: LicenseRules,
    #[serde(default)]
    pub vendors: VendorRules,
    #[serde(default)]
    pub packages: PackageRules,
}

/// `[models]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRules {
    /// When non-empty, every model must match one of these entries (and their hashes, where given).
    #[serde(default)]
    pub approved: Vec<Approved>,
    /// Models that must not appear.
    #[serde(default)]
    pub denied: Vec<Denied>,
    /// When non-empty, every model file's format must be one of these.
    #[serde(default)]
    pub allowed_formats: Vec<String>,
    /// Formats that must not appear.
    #[serde(default)]
    pub denied_formats: Vec<String>,
    /// Deny every format whose usual loader can execute code from the file (pickle, PyTorch checkpoints,
    /// joblib, NumPy object arrays).
    #[serde(default)]
    pub deny_code_execution: bool,
    /// Scan verdicts that fail the check (`dangerous`, `suspicious`, `error`, `not-scanned`).
    #[serde(default)]
    pub deny_verdicts: Vec<VerdictName>,
    /// Every model file must carry a SHA-256.
    #[serde(default)]
    pub require_hash: bool,
}

/// `[datasets]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetRules {
    #[serde(default)]
    pub approved: Vec<Approved>,
    #[serde(default)]
    pub denied: Vec<Denied>,
    #[serde(default)]
    pub require_hash: bool,
}

/// An approved model or dataset.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approved {
    /// Pattern for the component's name, or `group/name` (`acme/sentiment-*`).
    pub name: String,
    /// Exact version (for Hub models, the revision), when it matters.
    #[serde(default)]
    pub version: Option<String>,
    /// The SHA-256 the (single-file) component must have.
    #[serde(default)]
    pub sha256: Option<String>,
    /// For multi-file components: path inside the component → SHA-256. Every listed file must be present with
    /// that hash, and no other file may be.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

/// A denied model or dataset.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Denied {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    /// Shown in the report.
    #[serde(default)]
    pub reason: Option<String>,
}

fn default_license_scope() -> Vec<Applies> {
    vec![Applies::Models, Applies::Datasets, Applies::Packages]
}

/// `[licenses]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseRules {
    /// When non-empty, every licence must be one of these SPDX ids or names (an `OR` expression needs one
    /// acceptable branch, an `AND` expression all of them).
    #[serde(default)]
    pub allowed: Vec<String>,
    #[serde(default)]
    pub denied: Vec<String>,
    /// Components without any licence fail.
    #[serde(default)]
    pub require: bool,
    #[serde(default = "default_license_scope")]
    pub applies_to: Vec<Applies>,
}

impl Default for LicenseRules {
    fn default() -> LicenseRules {
        LicenseRules {
            allowed: Vec::new(),
            denied: Vec::new(),
            require: false,
            applies_to: default_license_scope(),
        }
    }
}

fn default_vendor_scope() -> Vec<Applies> {
    vec![Applies::Models]
}

/// `[vendors]`: who published a component — its supplier, manufacturer, publisher, group, or purl namespace
/// (the Hub organisation of a model, the npm scope of a package).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorRules {
    /// When non-empty, every covered component must have a vendor matching one of these.
    #[serde(default)]
    pub allowed: Vec<String>,
    #[serde(default)]
    pub denied: Vec<String>,
    #[serde(default = "default_vendor_scope")]
    pub applies_to: Vec<Applies>,
}

impl Default for VendorRules {
    fn default() -> VendorRules {
        VendorRules {
            allowed: Vec::new(),
            denied: Vec::new(),
            applies_to: default_vendor_scope(),
        }
    }
}

/// `[packages]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageRules {
    /// Packages that must not appear, by purl pattern (`pkg:pypi/torch@1.*`, `pkg:npm/event-stream@3.3.6`).
    #[serde(default)]
    pub denied: Vec<DeniedPackage>,
}

/// A denied package.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeniedPackage {
    pub purl: String,
    #[serde(default)]
    pub reason: Option<String>,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Policy {
    /// Parses and validates a policy. Errors name the offending field.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let p: Policy = toml::from_str(text).map_err(|e| PolicyError::Toml(e.to_string()))?;
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), PolicyError> {
        let bad = |m: String| Err(PolicyError::Invalid(m));
        for (section, list) in [
            ("models", &self.models.approved),
            ("datasets", &self.datasets.approved),
        ] {
            for a in list {
                if a.name.trim().is_empty() {
                    return bad(format!("{section}.approved: an entry has an empty name"));
                }
                if let Some(h) = &a.sha256
                    && !is_sha256(h)
                {
                    return bad(format!(
                        "{section}.approved `{}`: sha256 must be 64 hex digits",
                        a.name
                    ));
                }
                if a.sha256.is_some() && !a.files.is_empty() {
                    return bad(format!(
                        "{section}.approved `{}`: give either sha256 (one file) or files (several), not both",
                        a.name
                    ));
                }
                for (path, h) in &a.files {
                    if !is_sha256(h) {
                        return bad(format!(
                            "{section}.approved `{}`: files.{path} must be 64 hex digits",
                            a.name
                        ));
                    }
                }
            }
        }
        for (section, list) in [
            ("models", &self.models.denied),
            ("datasets", &self.datasets.denied),
        ] {
            if list.iter().any(|d| d.name.trim().is_empty()) {
                return bad(format!("{section}.denied: an entry has an empty name"));
            }
        }
        for f in self
            .models
            .allowed_formats
            .iter()
            .chain(&self.models.denied_formats)
        {
            if f.is_empty()
                || !f
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return bad(format!(
                    "models: format `{f}` is not a format name (lowercase, like `safetensors`)"
                ));
            }
        }
        if self
            .packages
            .denied
            .iter()
            .any(|d| !d.purl.starts_with("pkg:"))
        {
            return bad("packages.denied: every purl pattern starts with `pkg:`".to_owned());
        }
        Ok(())
    }
}

/// `*`-wildcard match, case-insensitive.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Classic two-pointer match with backtracking to the last `*`: linear in practice, never exponential.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Stable id: `model.denied`, `model.not-approved`, `model.hash-mismatch`, `model.hash-missing`,
    /// `model.file-missing`, `model.file-unexpected`, `model.format-denied`, `model.format-not-allowed`,
    /// `model.verdict-denied`, `dataset.denied`, `dataset.not-approved`, `dataset.hash-mismatch`,
    /// `dataset.hash-missing`, `dataset.file-missing`, `dataset.file-unexpected`, `license.denied`,
    /// `license.not-allowed`, `license.missing`, `vendor.denied`, `vendor.not-allowed`, `package.denied`.
    pub rule: &'static str,
    /// The component's bom-ref, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    /// `group/name@version` of the component (of the model, for a rule about one of its files).
    pub component: String,
    /// What is wrong, in one sentence.
    pub message: String,
}

/// The outcome of [`check`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The policy's `name`, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    pub passed: bool,
    /// Components looked at, nested ones included.
    pub components: usize,
    pub models: usize,
    pub datasets: usize,
    pub violations: Vec<Violation>,
}

/// Parses a CycloneDX JSON BOM (any 1.x version whose components have the 1.6 shape), refusing other
/// documents.
pub fn read_bom(text: &str) -> Result<Bom, PolicyError> {
    let bom: Bom = serde_json::from_str(text).map_err(|e| PolicyError::Bom(e.to_string()))?;
    if bom.bom_format != super::cyclonedx::BOM_FORMAT {
        return Err(PolicyError::Bom(format!(
            "bomFormat is `{}`, not `CycloneDX`",
            bom.bom_format
        )));
    }
    if !bom.spec_version.starts_with("1.") {
        return Err(PolicyError::Bom(format!(
            "specVersion `{}` is not a CycloneDX 1.x version",
            bom.spec_version
        )));
    }
    Ok(bom)
}

fn label(c: &Component) -> String {
    match &c.version {
        Some(v) => format!("{}@{v}", c.full_name()),
        None => c.full_name(),
    }
}

fn entry_matches(name_pattern: &str, version: Option<&str>, c: &Component) -> bool {
    (glob_match(name_pattern, &c.full_name()) || glob_match(name_pattern, &c.name))
        && version.is_none_or(|v| {
            c.version
                .as_deref()
                .is_some_and(|cv| cv.eq_ignore_ascii_case(v))
        })
}

fn vendor_of(c: &Component) -> Option<String> {
    c.supplier
        .as_ref()
        .and_then(|s| s.name.clone())
        .or_else(|| c.manufacturer.as_ref().and_then(|m| m.name.clone()))
        .or_else(|| c.publisher.clone())
        .or_else(|| c.group.clone())
        .or_else(|| {
            c.purl
                .as_deref()
                .and_then(purl::parse)
                .and_then(|p| p.namespace)
        })
        .filter(|v| !v.is_empty())
}

struct Checker<'a> {
    policy: &'a Policy,
    out: Vec<Violation>,
}

impl Checker<'_> {
    fn push(&mut self, rule: &'static str, c: &Component, message: String) {
        self.out.push(Violation {
            rule,
            bom_ref: c.bom_ref.clone(),
            component: label(c),
            message,
        });
    }

    /// Approval and denial lists plus hash pinning, shared by models and datasets.
    fn approvals(&mut self, c: &Component, approved: &[Approved], denied: &[Denied], kind: Kind) {
        for d in denied {
            if entry_matches(&d.name, d.version.as_deref(), c) {
                let why = d
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                self.push(
                    kind.rule("denied"),
                    c,
                    format!("{} `{}` is denied{why}", kind.noun(), label(c)),
                );
            }
        }
        if approved.is_empty() {
            return;
        }
        let Some(entry) = approved
            .iter()
            .find(|a| entry_matches(&a.name, a.version.as_deref(), c))
        else {
            self.push(
                kind.rule("not-approved"),
                c,
                format!("{} `{}` is not on the approved list", kind.noun(), label(c)),
            );
            return;
        };
        if let Some(want) = &entry.sha256 {
            match c.hash("SHA-256") {
                Some(have) if have.eq_ignore_ascii_case(want) => {}
                Some(have) => self.push(
                    kind.rule("hash-mismatch"),
                    c,
                    format!("SHA-256 is {have}, the approved entry pins {want}"),
                ),
                None if !c.components.is_empty() => self.push(
                    kind.rule("hash-mismatch"),
                    c,
                    "has several files; pin them with `files` instead of `sha256`".to_owned(),
                ),
                None => self.push(
                    kind.rule("hash-mismatch"),
                    c,
                    format!("carries no SHA-256; the approved entry pins {want}"),
                ),
            }
        }
        if !entry.files.is_empty() {
            let files: Vec<&Component> = c
                .components
                .iter()
                .filter(|f| f.kind == ComponentType::File)
                .collect();
            for (path, want) in &entry.files {
                match files.iter().find(|f| f.name == *path) {
                    None => self.push(
                        kind.rule("file-missing"),
                        c,
                        format!("approved file `{path}` is missing"),
                    ),
                    Some(f) => match f.hash("SHA-256") {
                        Some(have) if have.eq_ignore_ascii_case(want) => {}
                        have => self.push(
                            kind.rule("hash-mismatch"),
                            c,
                            format!(
                                "file `{path}` has SHA-256 {}, the approved entry pins {want}",
                                have.unwrap_or("(none)")
                            ),
                        ),
                    },
                }
            }
            for f in files {
                if !entry.files.contains_key(&f.name) {
                    self.push(
                        kind.rule("file-unexpected"),
                        c,
                        format!("file `{}` is not among the approved files", f.name),
                    );
                }
            }
        }
    }

    fn model(&mut self, m: &Component) {
        let rules = &self.policy.models;
        self.approvals(m, &rules.approved, &rules.denied, Kind::Model);
        // File-level facts live on the model for one file, on its nested file components for several.
        let nested: Vec<&Component> = m
            .components
            .iter()
            .filter(|f| f.kind == ComponentType::File)
            .collect();
        let files: Vec<&Component> = if nested.is_empty() { vec![m] } else { nested };
        for f in files {
            let what = if std::ptr::eq(f, m) {
                String::new()
            } else {
                format!("file `{}`: ", f.name)
            };
            let format = f.property(props::MODEL_FORMAT).unwrap_or("unknown");
            let in_list = |list: &[String]| list.iter().any(|x| x.eq_ignore_ascii_case(format));
            if in_list(&rules.denied_formats) {
                self.push(
                    "model.format-denied",
                    m,
                    format!("{what}format `{format}` is denied"),
                );
            } else if rules.deny_code_execution && detect::format_executes_code(format) {
                self.push(
                    "model.format-denied",
                    m,
                    format!("{what}format `{format}` can execute code when loaded"),
                );
            }
            if !rules.allowed_formats.is_empty() && !in_list(&rules.allowed_formats) {
                self.push(
                    "model.format-not-allowed",
                    m,
                    format!("{what}format `{format}` is not among the allowed formats"),
                );
            }
            let verdict = f.property(props::SCAN_VERDICT).unwrap_or("not-scanned");
            if rules.deny_verdicts.iter().any(|v| v.as_str() == verdict) {
                let findings = match f.property(props::SCAN_FINDINGS) {
                    Some("1") => " (1 finding)".to_owned(),
                    Some(n) => format!(" ({n} findings)"),
                    None => String::new(),
                };
                self.push(
                    "model.verdict-denied",
                    m,
                    format!("{what}model scan verdict is `{verdict}`{findings}"),
                );
            }
            if rules.require_hash && f.hash("SHA-256").is_none() {
                self.push(
                    "model.hash-missing",
                    m,
                    format!("{what}no SHA-256 recorded"),
                );
            }
        }
    }

    fn dataset(&mut self, d: &Component) {
        let rules = &self.policy.datasets;
        self.approvals(d, &rules.approved, &rules.denied, Kind::Dataset);
        if rules.require_hash {
            let nested: Vec<&Component> = d
                .components
                .iter()
                .filter(|f| f.kind == ComponentType::File)
                .collect();
            if nested.is_empty() {
                if d.hash("SHA-256").is_none() {
                    self.push("dataset.hash-missing", d, "no SHA-256 recorded".to_owned());
                }
            } else {
                for f in nested.iter().filter(|f| f.hash("SHA-256").is_none()) {
                    self.push(
                        "dataset.hash-missing",
                        d,
                        format!("file `{}`: no SHA-256 recorded", f.name),
                    );
                }
            }
        }
    }

    fn licenses(&mut self, c: &Component) {
        let rules = &self.policy.licenses;
        if !rules.applies_to.iter().any(|a| a.covers(c.kind)) {
            return;
        }
        if c.licenses.is_empty() {
            if rules.require {
                self.push("license.missing", c, "no licence recorded".to_owned());
            }
            return;
        }
        let eq = |list: &[String], id: &str| list.iter().any(|x| x.eq_ignore_ascii_case(id));
        let not_denied = |id: &str| !eq(&rules.denied, id);
        let acceptable =
            |id: &str| not_denied(id) && (rules.allowed.is_empty() || eq(&rules.allowed, id));
        for choice in &c.licenses {
            let (text, expr) = match choice {
                LicenseChoice::Expression { expression } => {
                    (expression.clone(), license::parse_expression(expression))
                }
                LicenseChoice::License { license: l } => {
                    let id = l.id.clone().or_else(|| l.name.clone()).unwrap_or_default();
                    let leaf = license::Expr::Leaf {
                        id: id.clone(),
                        exception: None,
                    };
                    (id, Some(leaf))
                }
            };
            let Some(expr) = expr else {
                self.push(
                    "license.not-allowed",
                    c,
                    format!("licence expression `{text}` does not parse"),
                );
                continue;
            };
            if expr.satisfiable(&acceptable) {
                continue;
            }
            if expr.satisfiable(&not_denied) {
                self.push(
                    "license.not-allowed",
                    c,
                    format!("licence `{text}` is not among the allowed licences"),
                );
            } else {
                self.push("license.denied", c, format!("licence `{text}` is denied"));
            }
        }
    }

    fn vendor(&mut self, c: &Component) {
        let rules = &self.policy.vendors;
        if !rules.applies_to.iter().any(|a| a.covers(c.kind))
            || (rules.allowed.is_empty() && rules.denied.is_empty())
        {
            return;
        }
        let vendor = vendor_of(c);
        if let Some(v) = &vendor
            && rules.denied.iter().any(|p| glob_match(p, v))
        {
            self.push("vendor.denied", c, format!("vendor `{v}` is denied"));
            return;
        }
        if !rules.allowed.is_empty() {
            match &vendor {
                Some(v) if rules.allowed.iter().any(|p| glob_match(p, v)) => {}
                Some(v) => self.push(
                    "vendor.not-allowed",
                    c,
                    format!("vendor `{v}` is not among the allowed vendors"),
                ),
                None => self.push(
                    "vendor.not-allowed",
                    c,
                    "no vendor recorded (supplier, group or purl namespace)".to_owned(),
                ),
            }
        }
    }

    fn package(&mut self, c: &Component) {
        let Some(p) = c.purl.as_deref() else { return };
        for d in &self.policy.packages.denied {
            if glob_match(&d.purl, p) {
                let why = d
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                self.push("package.denied", c, format!("package `{p}` is denied{why}"));
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Model,
    Dataset,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Dataset => "dataset",
        }
    }
    fn rule(self, what: &'static str) -> &'static str {
        match (self, what) {
            (Kind::Model, "denied") => "model.denied",
            (Kind::Model, "not-approved") => "model.not-approved",
            (Kind::Model, "hash-mismatch") => "model.hash-mismatch",
            (Kind::Model, "file-missing") => "model.file-missing",
            (Kind::Model, _) => "model.file-unexpected",
            (Kind::Dataset, "denied") => "dataset.denied",
            (Kind::Dataset, "not-approved") => "dataset.not-approved",
            (Kind::Dataset, "hash-mismatch") => "dataset.hash-mismatch",
            (Kind::Dataset, "file-missing") => "dataset.file-missing",
            (Kind::Dataset, _) => "dataset.file-unexpected",
        }
    }
}

/// Checks every component of `bom` (nested ones included) against `policy`. Cost: linear in the number of
/// components times the length of the policy's lists.
pub fn check(bom: &Bom, policy: &Policy) -> CheckReport {
    let mut ch = Checker {
        policy,
        out: Vec::new(),
    };
    let all = bom.all_components();
    let mut models = 0;
    let mut datasets = 0;
    for c in &all {
        match c.kind {
            ComponentType::MachineLearningModel => {
                models += 1;
                ch.model(c);
            }
            ComponentType::Data => {
                datasets += 1;
                ch.dataset(c);
            }
            ComponentType::Library | ComponentType::Framework => ch.package(c),
            _ => {}
        }
        ch.licenses(c);
        ch.vendor(c);
    }
    CheckReport {
        policy: policy.name.clone(),
        passed: ch.out.is_empty(),
        components: all.len(),
        models,
        datasets,
        violations: ch.out,
    }
}

impl CheckReport {
    /// The human-readable report: one line per violation, then a summary line.
    pub fn to_text(&self, bom_label: &str) -> String {
        let mut s = String::new();
        for v in &self.violations {
            s.push_str(&format!(
                "{bom_label}: {} [{}] {}\n",
                v.component, v.rule, v.message
            ));
        }
        let policy = self
            .policy
            .as_deref()
            .map(|p| format!(" under policy `{p}`"))
            .unwrap_or_default();
        let verdict = if self.passed {
            "pass".to_owned()
        } else {
            format!(
                "FAIL, {} violation{}",
                self.violations.len(),
                if self.violations.len() == 1 { "" } else { "s" }
            )
        };
        s.push_str(&format!(
            "{bom_label}: {verdict} ({} components checked: {} models, {} datasets){policy}\n",
            self.components, self.models, self.datasets
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(glob_match("acme/*", "ACME/sentiment"));
        assert!(glob_match("pkg:pypi/torch@1.*", "pkg:pypi/torch@1.13.1"));
        assert!(!glob_match("pkg:pypi/torch@1.*", "pkg:pypi/torch@2.0.0"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("exact", "Exact"));
        // Many stars against a long non-matching text stays fast (no exponential backtracking).
        assert!(!glob_match(&"*a".repeat(50), &"a".repeat(49)));
    }

    #[test]
    fn policy_validation_names_the_field() {
        assert!(Policy::from_toml("").is_ok());
        let e = Policy::from_toml("[models]\napproved = [{ name = \"x\", sha256 = \"zz\" }]")
            .unwrap_err();
        assert!(
            e.to_string().contains("sha256 must be 64 hex digits"),
            "{e}"
        );
        let e = Policy::from_toml("[models]\nunknown_key = 1").unwrap_err();
        assert!(e.to_string().contains("unknown_key"), "{e}");
        let e = Policy::from_toml("[models]\ndeny_verdicts = [\"awful\"]").unwrap_err();
        assert!(e.to_string().contains("awful"), "{e}");
        let e = Policy::from_toml("[models]\ndenied_formats = [\"Pickle\"]").unwrap_err();
        assert!(e.to_string().contains("Pickle"), "{e}");
        let e = Policy::from_toml("[packages]\ndenied = [{ purl = \"torch\" }]").unwrap_err();
        assert!(e.to_string().contains("pkg:"), "{e}");
    }

    #[test]
    fn read_bom_refuses_other_documents() {
        assert!(read_bom(r#"{"bomFormat":"SPDX","specVersion":"1.6"}"#).is_err());
        assert!(read_bom(r#"{"bomFormat":"CycloneDX","specVersion":"2.0"}"#).is_err());
        assert!(read_bom("[]").is_err());
        let b = read_bom(r#"{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"metadata":{"tools":[{"name":"x"}]},"components":[{"type":"library","name":"a"}]}"#).unwrap();
        assert_eq!(b.components.len(), 1);
    }
}
