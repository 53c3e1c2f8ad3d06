//! Manifests and lockfiles, each parsed with a real parser for its format (TOML, JSON, or the line format
//! where that is the format), into one shape: packages with purls, and the dependency edges when the file
//! records them.

mod cargo;
mod gosum;
mod npm;
mod pipfile;
mod poetry;
mod requirements;
mod uv;

use super::cyclonedx::Hash;
use super::detect::LockKind;

/// A package ecosystem, for purls and for the framework list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    Pypi,
    Npm,
    Cargo,
    Golang,
}

impl Ecosystem {
    pub fn name(self) -> &'static str {
        match self {
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Golang => "golang",
        }
    }
}

/// One package as a lockfile or manifest records it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockedPackage {
    pub name: String,
    pub version: Option<String>,
    /// Full purl string; `None` for packages of the project itself (workspace members, the uv project).
    pub purl: Option<String>,
    /// Part of the project (a path dependency or workspace member), not fetched from anywhere.
    pub local: bool,
    /// `Some(true)` when only development or test code uses it, `Some(false)` when runtime code does, `None`
    /// when the file does not say.
    pub dev: Option<bool>,
    /// Digests of the package itself (a crate file, an npm tarball). Python lockfiles list one digest per
    /// wheel or sdist; those describe artifacts, not the package, and are not kept.
    pub hashes: Vec<Hash>,
    /// An SPDX expression or licence name, where the lockfile carries one (npm).
    pub license: Option<String>,
    /// Where it came from, when that is not the ecosystem's default registry (a git URL, another index).
    pub source: Option<String>,
    /// The version constraint as written, when no exact version is pinned (requirements.txt `>=2.0`).
    pub constraint: Option<String>,
}

/// A parsed manifest or lockfile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lock {
    pub packages: Vec<LockedPackage>,
    /// `edges[i]`: indices of the packages `packages[i]` depends on. `None` when the format does not record
    /// relations (requirements.txt, Pipfile.lock, go.sum).
    pub edges: Option<Vec<Vec<usize>>>,
    /// The project's own direct dependencies, when the file says which they are (npm's root package). When
    /// `None`, the roots of the graph (packages nothing else depends on), or every package of a flat file, are
    /// taken as direct.
    pub direct: Option<Vec<usize>>,
}

impl Lock {
    /// A file that records no relations between its packages (requirements.txt, Pipfile.lock, go.sum).
    pub(crate) fn flat(packages: Vec<LockedPackage>) -> Lock {
        Lock {
            packages,
            edges: None,
            direct: None,
        }
    }

    /// A file that records the dependency graph but not which packages are direct: the graph decides.
    pub(crate) fn graph(packages: Vec<LockedPackage>, edges: Vec<Vec<usize>>) -> Lock {
        Lock {
            packages,
            edges: Some(edges),
            direct: None,
        }
    }

    /// Indices the project depends on directly: [`Lock::direct`], else local packages and graph roots, else
    /// every package.
    pub fn project_dependencies(&self) -> Vec<usize> {
        if let Some(d) = &self.direct {
            let mut d = d.clone();
            d.extend(
                self.packages
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.local)
                    .map(|(i, _)| i),
            );
            d.sort_unstable();
            d.dedup();
            return d;
        }
        let Some(edges) = &self.edges else {
            return (0..self.packages.len()).collect();
        };
        let mut has_parent = vec![false; self.packages.len()];
        for (from, targets) in edges.iter().enumerate() {
            for &t in targets {
                if t != from {
                    has_parent[t] = true;
                }
            }
        }
        (0..self.packages.len())
            .filter(|&i| self.packages[i].local || !has_parent[i])
            .collect()
    }
}

/// Parses one manifest. `Err` carries a message naming the line or field at fault.
pub fn parse(kind: LockKind, text: &str, file_name: &str) -> Result<Lock, String> {
    match kind {
        LockKind::Requirements => Ok(requirements::parse(text, file_name)),
        LockKind::Poetry => poetry::parse(text),
        LockKind::Uv => uv::parse(text),
        LockKind::Pipfile => pipfile::parse(text),
        LockKind::PackageLock => npm::parse(text),
        LockKind::Cargo => cargo::parse(text),
        LockKind::GoSum => Ok(gosum::parse(text)),
    }
}

/// The ecosystem a manifest kind belongs to.
pub fn ecosystem(kind: LockKind) -> Ecosystem {
    match kind {
        LockKind::Requirements | LockKind::Poetry | LockKind::Uv | LockKind::Pipfile => {
            Ecosystem::Pypi
        }
        LockKind::PackageLock => Ecosystem::Npm,
        LockKind::Cargo => Ecosystem::Cargo,
        LockKind::GoSum => Ecosystem::Golang,
    }
}

/// Packages that are machine-learning frameworks rather than ordinary libraries: they get the CycloneDX type
/// `framework`, so an AI-BOM reader can find the runtime that loads the models. Names are normalised as the
/// purl is (PEP 503 for PyPI, lowercase elsewhere).
pub fn is_ml_framework(eco: Ecosystem, name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let list: &[&str] = match eco {
        Ecosystem::Pypi => &[
            "torch",
            "tensorflow",
            "tensorflow-cpu",
            "tensorflow-gpu",
            "tf-keras",
            "keras",
            "jax",
            "flax",
            "transformers",
            "diffusers",
            "sentence-transformers",
            "accelerate",
            "peft",
            "trl",
            "scikit-learn",
            "xgboost",
            "lightgbm",
            "catboost",
            "onnxruntime",
            "onnxruntime-gpu",
            "pytorch-lightning",
            "lightning",
            "vllm",
            "llama-cpp-python",
            "mlx",
            "paddlepaddle",
            "mxnet",
            "langchain",
            "langchain-core",
            "llama-index",
            "llama-index-core",
        ],
        Ecosystem::Npm => &[
            "@tensorflow/tfjs",
            "@tensorflow/tfjs-node",
            "onnxruntime-node",
            "onnxruntime-web",
            "@xenova/transformers",
            "@huggingface/transformers",
            "langchain",
            "@langchain/core",
            "llamaindex",
        ],
        Ecosystem::Cargo => &[
            "candle-core",
            "candle-nn",
            "candle-transformers",
            "burn",
            "tract-onnx",
            "tch",
            "ort",
            "linfa",
        ],
        Ecosystem::Golang => &["gorgonia.org/gorgonia", "github.com/tmc/langchaingo"],
    };
    list.contains(&n.as_str())
}

/// Splits `sha512-BASE64` (a Subresource Integrity string, as npm writes) into a CycloneDX hash.
pub(crate) fn sri_hash(integrity: &str) -> Option<Hash> {
    use base64::Engine;
    let (alg, b64) = integrity.trim().split_once('-')?;
    let alg = match alg {
        "sha512" => "SHA-512",
        "sha384" => "SHA-384",
        "sha256" => "SHA-256",
        "sha1" => "SHA-1",
        _ => return None,
    };
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let expected = match alg {
        "SHA-512" => 64,
        "SHA-384" => 48,
        "SHA-256" => 32,
        _ => 20,
    };
    (raw.len() == expected).then(|| Hash {
        alg: alg.to_owned(),
        content: super::digest::hex(&raw),
    })
}

/// A lowercase 64-digit hex SHA-256, when `s` is one.
pub(crate) fn sha256_hash(s: &str) -> Option<Hash> {
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Hash {
        alg: "SHA-256".to_owned(),
        content: s.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_come_from_the_graph_when_the_file_names_none() {
        let pkg = |n: &str| LockedPackage {
            name: n.into(),
            ..Default::default()
        };
        let lock = Lock {
            packages: vec![pkg("a"), pkg("b"), pkg("c")],
            edges: Some(vec![vec![1], vec![], vec![1]]),
            direct: None,
        };
        assert_eq!(lock.project_dependencies(), [0, 2]);
        let flat = Lock {
            edges: None,
            ..lock.clone()
        };
        assert_eq!(flat.project_dependencies(), [0, 1, 2]);
    }

    #[test]
    fn integrity_strings_decode() {
        // sha1 of the empty string, base64.
        let h = sri_hash("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=").unwrap();
        assert_eq!(h.alg, "SHA-1");
        assert_eq!(h.content, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sri_hash("md5-xxxx"), None);
        assert_eq!(sri_hash("sha512-notbase64!"), None);
    }
}
