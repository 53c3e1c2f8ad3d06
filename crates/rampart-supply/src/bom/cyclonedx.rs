//! Serde types for the subset of CycloneDX 1.6 JSON that `rampart bom` writes and `rampart bom check` reads.
//!
//! Field names follow the 1.6 JSON schema exactly (`bom-ref`, `modelCard`, `dependsOn`, ...). Writing is strict:
//! everything emitted validates against the official schema (checked in the tests). Reading is lenient: unknown
//! fields are ignored, so a policy can be checked against BOMs written by other tools (1.4–1.6), as long as the
//! parts the policy looks at have the shape described here.

use serde::{Deserialize, Serialize};

/// The `$schema` URL written into every BOM.
pub const SCHEMA_URL: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";
/// The only `bomFormat` value CycloneDX defines.
pub const BOM_FORMAT: &str = "CycloneDX";
/// The spec version this module writes.
pub const SPEC_VERSION: &str = "1.6";

/// A CycloneDX bill of materials (the document root).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bom {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(rename = "bomFormat")]
    pub bom_format: String,
    #[serde(rename = "specVersion")]
    pub spec_version: String,
    /// `urn:uuid:` followed by an RFC 4122 UUID.
    #[serde(
        rename = "serialNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub serial_number: Option<String>,
    #[serde(default = "one")]
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
}

fn one() -> u32 {
    1
}

impl Bom {
    /// Every component in the BOM, depth first: top-level components, each followed by its nested ones. The
    /// metadata component (the project itself) is not included.
    pub fn all_components(&self) -> Vec<&Component> {
        fn walk<'a>(list: &'a [Component], out: &mut Vec<&'a Component>) {
            for c in list {
                out.push(c);
                walk(&c.components, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.components, &mut out);
        out
    }
}

/// `metadata`: when, by what and about what the BOM was written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// RFC 3339 date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Tools>,
    /// The thing the BOM describes (the scanned folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<Box<Component>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// `metadata.tools`: 1.5+ writes an object of components; 1.4 wrote an array of tool objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Tools {
    Components {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<Component>,
    },
    /// The deprecated 1.4 form, kept only so that older BOMs can be read.
    Legacy(Vec<serde_json::Value>),
}

/// `component.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentType {
    Application,
    Framework,
    Library,
    Container,
    Platform,
    OperatingSystem,
    Device,
    DeviceDriver,
    Firmware,
    File,
    MachineLearningModel,
    Data,
    CryptographicAsset,
    /// A type from a later spec version; never written.
    #[serde(other)]
    Other,
}

/// `component.scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Required,
    Optional,
    /// Not part of the runtime: development and test dependencies.
    Excluded,
}

/// A component: a model, a dataset, a library, a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: ComponentType,
    #[serde(rename = "mime-type", default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(rename = "bom-ref", default, skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<OrganizationalEntity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<OrganizationalEntity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pedigree: Option<Pedigree>,
    #[serde(
        rename = "externalReferences",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub external_references: Vec<ExternalReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
    #[serde(rename = "modelCard", default, skip_serializing_if = "Option::is_none")]
    pub model_card: Option<ModelCard>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<ComponentData>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Component {
    /// A component of `kind` named `name` with every optional field empty.
    pub fn new(kind: ComponentType, name: impl Into<String>) -> Component {
        Component {
            kind,
            mime_type: None,
            bom_ref: None,
            supplier: None,
            manufacturer: None,
            publisher: None,
            group: None,
            name: name.into(),
            version: None,
            description: None,
            scope: None,
            hashes: Vec::new(),
            licenses: Vec::new(),
            purl: None,
            pedigree: None,
            external_references: Vec::new(),
            components: Vec::new(),
            model_card: None,
            data: Vec::new(),
            properties: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// The first value of property `name`, if any.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.as_deref())
    }

    /// Every value of property `name` (properties may repeat).
    pub fn properties_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.properties
            .iter()
            .filter(move |p| p.name == name)
            .filter_map(|p| p.value.as_deref())
    }

    /// The hex digest for `alg` (`SHA-256`), if the component carries one.
    pub fn hash(&self, alg: &str) -> Option<&str> {
        self.hashes
            .iter()
            .find(|h| h.alg.eq_ignore_ascii_case(alg))
            .map(|h| h.content.as_str())
    }

    /// `group/name` when the component has a group, else `name`: the name policies match against.
    pub fn full_name(&self) -> String {
        match self.group.as_deref() {
            Some(g) if !g.is_empty() => format!("{g}/{}", self.name),
            _ => self.name.clone(),
        }
    }

    /// Appends a property.
    pub fn push_property(&mut self, name: &str, value: impl Into<String>) {
        self.properties.push(Property {
            name: name.to_owned(),
            value: Some(value.into()),
        });
    }
}

/// `hashes[]`: an algorithm name as CycloneDX spells it (`SHA-256`) and a hex digest.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hash {
    pub alg: String,
    pub content: String,
}

/// One entry of `licenses[]`: a licence (SPDX id or free name) or one SPDX expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LicenseChoice {
    License { license: License },
    Expression { expression: String },
}

/// A licence: exactly one of `id` (an SPDX licence id) or `name`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct License {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `organizationalEntity`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationalEntity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub url: Vec<String>,
}

/// `pedigree`: where a component came from; for models, the base models they were fine-tuned from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pedigree {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ancestors: Vec<Component>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// `externalReferences[]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExternalReference {
    pub url: String,
    /// One of the schema's reference types (`website`, `model-card`, `vcs`, `distribution`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `properties[]`: a name/value pair; names may repeat.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Property {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `dependencies[]`: the components `ref` directly depends on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(rename = "dependsOn", default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

/// `modelCard`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    #[serde(
        rename = "modelParameters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub model_parameters: Option<ModelParameters>,
    #[serde(
        rename = "quantitativeAnalysis",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub quantitative_analysis: Option<QuantitativeAnalysis>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

impl ModelCard {
    /// Whether nothing was filled in (an empty card is left out of the BOM).
    pub fn is_empty(&self) -> bool {
        self.model_parameters.is_none()
            && self.quantitative_analysis.is_none()
            && self.properties.is_empty()
    }
}

/// `modelCard.modelParameters`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approach: Option<Approach>,
    /// The task, in Hugging Face pipeline vocabulary (`text-classification`, `text-generation`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The model family (`bert`, `llama`), from `config.json` `model_type`.
    #[serde(
        rename = "architectureFamily",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub architecture_family: Option<String>,
    /// The concrete architecture (`BertForSequenceClassification`), from `config.json` `architectures`.
    #[serde(
        rename = "modelArchitecture",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub model_architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetChoice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<MlIo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<MlIo>,
}

/// `modelParameters.approach`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approach {
    /// `supervised`, `unsupervised`, `reinforcement-learning`, `semi-supervised` or `self-supervised`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `modelParameters.inputs[]` / `outputs[]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlIo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// `modelParameters.datasets[]`: a reference to a `data` component in this BOM, or an inline description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DatasetChoice {
    Ref {
        #[serde(rename = "ref")]
        reference: String,
    },
    Inline(ComponentData),
}

/// `componentData`: what a `data` component holds, or a dataset named in a model card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComponentData {
    /// `source-code`, `configuration`, `dataset`, `definition` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents: Option<DataContents>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `componentData.contents`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataContents {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// `modelCard.quantitativeAnalysis`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantitativeAnalysis {
    #[serde(
        rename = "performanceMetrics",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub performance_metrics: Vec<PerformanceMetric>,
}

/// One reported evaluation result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerformanceMetric {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The dataset (and split) the value was measured on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
}
