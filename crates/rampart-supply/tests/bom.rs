//! End-to-end tests of BOM generation and policy checks over the fixture project, with every BOM validated
//! against the official CycloneDX 1.6 JSON schema.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rampart_core::Severity;
use rampart_supply::bom::policy::{self, Policy};
use rampart_supply::bom::{self, BomOptions, cyclonedx::ComponentType, props};
use rampart_supply::{FileReport, Format, ModelFinding, Verdict};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bom-project")
}

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema")
}

/// The CycloneDX 1.6 validator, with the SPDX and JSF schemas it references registered locally (nothing is
/// fetched) and format assertions on (`date-time`, `iri-reference`, ...).
fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let load = |name: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(schema_dir().join(name)).unwrap())
                .unwrap()
        };
        let bom = load("bom-1.6.SNAPSHOT.schema.json");
        let registry = jsonschema::Registry::new()
            .add(
                "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
                jsonschema::Resource::from_contents(load("spdx.SNAPSHOT.schema.json")),
            )
            .unwrap()
            .add(
                "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
                jsonschema::Resource::from_contents(load("jsf-0.82.SNAPSHOT.schema.json")),
            )
            .unwrap()
            .prepare()
            .unwrap();
        // The registry only needs to outlive the build: compiled validators own what they resolved.
        let registry: &'static jsonschema::Registry<'static> = Box::leak(Box::new(registry));
        jsonschema::options()
            .with_registry(registry)
            .should_validate_formats(true)
            .build(&bom)
            .unwrap()
    })
}

fn assert_valid(doc: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

/// A stand-in for the model scanner: pickles are dangerous, everything else is safe, GGUF is not scanned.
fn fake_scan(path: &Path) -> Option<FileReport> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let bytes = std::fs::metadata(path).ok()?.len();
    let report = |format, verdict, findings: Vec<ModelFinding>| FileReport {
        path: name.clone(),
        format,
        verdict,
        findings,
        bytes,
        error: None,
    };
    if name.ends_with(".pkl") {
        Some(report(
            Format::Pickle,
            Verdict::Dangerous,
            vec![ModelFinding {
                rule: "pickle.dangerous-import",
                severity: Severity::Critical,
                offset: 2,
                member: None,
                import: Some("os.system".into()),
                explanation: "imports os.system".into(),
            }],
        ))
    } else if name.ends_with(".safetensors") {
        Some(report(Format::Safetensors, Verdict::Safe, Vec::new()))
    } else {
        None
    }
}

fn reproducible() -> BomOptions {
    BomOptions {
        reproducible: true,
        ..BomOptions::default()
    }
}

fn fixture_bom() -> bom::GeneratedBom {
    bom::generate(&fixture(), &reproducible(), &fake_scan).unwrap()
}

fn find<'a>(doc: &'a Value, bom_ref: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == bom_ref)
        .unwrap_or_else(|| panic!("no component {bom_ref}"))
}

fn property<'a>(c: &'a Value, name: &str) -> Vec<&'a str> {
    c["properties"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["name"] == name)
                .filter_map(|p| p["value"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn reproducible_bom_snapshot() {
    let generated = fixture_bom();
    assert_eq!(generated.warnings, []);
    let doc = serde_json::to_value(&generated.bom).unwrap();
    assert_valid(&doc);
    // The exact bytes `rampart bom --reproducible` writes (field order included).
    insta::assert_snapshot!(
        "fixture_bom",
        serde_json::to_string_pretty(&generated.bom).unwrap()
    );
}

#[test]
fn the_schema_check_rejects_what_1_6_forbids() {
    let mut doc = serde_json::to_value(fixture_bom().bom).unwrap();
    assert_valid(&doc);
    let count = |doc: &Value| validator().iter_errors(doc).count();
    let good = doc.clone();
    doc["components"][0]["type"] = "model".into();
    assert!(count(&doc) > 0, "unknown component type accepted");
    let mut doc = good.clone();
    doc["components"][0]["hashes"][0]["content"] = "xyz".into();
    assert!(count(&doc) > 0, "malformed hash accepted");
    // Resolved through the locally registered SPDX schema.
    let mut doc = good.clone();
    doc["components"][1]["licenses"][0]["license"]["id"] = "Not-A-Licence".into();
    assert!(count(&doc) > 0, "unknown SPDX id accepted");
    let mut doc = good;
    doc["serialNumber"] = "urn:uuid:nope".into();
    assert!(count(&doc) > 0, "malformed serial accepted");
}

#[test]
fn reproducible_output_is_stable_and_default_output_is_stamped() {
    let a = serde_json::to_string(&fixture_bom().bom).unwrap();
    let b = serde_json::to_string(&fixture_bom().bom).unwrap();
    assert_eq!(a, b);

    let stamped = bom::generate(&fixture(), &BomOptions::default(), &fake_scan)
        .unwrap()
        .bom;
    let doc = serde_json::to_value(&stamped).unwrap();
    assert_valid(&doc);
    assert!(
        doc["metadata"]["timestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let again = bom::generate(&fixture(), &BomOptions::default(), &fake_scan)
        .unwrap()
        .bom;
    assert_ne!(
        stamped.serial_number, again.serial_number,
        "serials are random by default"
    );

    let dated = BomOptions {
        source_date_epoch: Some(1_700_000_000),
        ..BomOptions::default()
    };
    let doc =
        serde_json::to_value(bom::generate(&fixture(), &dated, &fake_scan).unwrap().bom).unwrap();
    assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    assert_valid(&doc);
}

#[test]
fn hugging_face_model_folder_becomes_one_described_model() {
    let doc = serde_json::to_value(fixture_bom().bom).unwrap();
    let m = find(&doc, "model:models/sentiment-mini");
    assert_eq!(m["type"], "machine-learning-model");
    assert_eq!(m["group"], "acme");
    assert_eq!(m["name"], "sentiment-mini");
    assert_eq!(m["version"], "3f9c2a7d5e1b4c6a8f0e2d4b6a8c0e1f3a5b7c9d");
    assert_eq!(
        m["purl"],
        "pkg:huggingface/acme/sentiment-mini@3f9c2a7d5e1b4c6a8f0e2d4b6a8c0e1f3a5b7c9d"
    );
    assert_eq!(m["licenses"][0]["license"]["id"], "Apache-2.0");
    assert_eq!(m["hashes"][0]["alg"], "SHA-256");
    let params = &m["modelCard"]["modelParameters"];
    assert_eq!(params["task"], "text-classification");
    assert_eq!(params["architectureFamily"], "bert");
    assert_eq!(params["modelArchitecture"], "BertForSequenceClassification");
    // A dataset named in the card that is in the BOM is referenced; others are described inline.
    assert_eq!(params["datasets"][0]["ref"], "data:data/reviews");
    assert_eq!(params["datasets"][1]["name"], "stanfordnlp/imdb");
    let card_props = &m["modelCard"]["properties"];
    assert!(
        card_props
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == props::CARD_PARAMETERS && p["value"] == "10")
    );
    assert_eq!(
        m["pedigree"]["ancestors"][0]["purl"],
        "pkg:huggingface/google-bert/bert-base-uncased"
    );
    assert_eq!(property(m, props::SCAN_VERDICT), ["safe"]);
    assert_eq!(property(m, props::MODEL_FORMAT), ["safetensors"]);
}

#[test]
fn loose_model_files_carry_format_hash_and_verdict() {
    let doc = serde_json::to_value(fixture_bom().bom).unwrap();
    let pkl = find(&doc, "model:models/legacy-classifier.pkl");
    assert_eq!(property(pkl, props::MODEL_FORMAT), ["pickle"]);
    assert_eq!(property(pkl, props::SCAN_VERDICT), ["dangerous"]);
    assert_eq!(property(pkl, props::SCAN_RULE), ["pickle.dangerous-import"]);
    assert!(
        pkl["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:generic/legacy-classifier.pkl?checksum=sha256:")
    );
    let gguf = find(&doc, "model:models/tiny-llm.gguf");
    assert_eq!(property(gguf, props::MODEL_FORMAT), ["gguf"]);
    assert_eq!(property(gguf, props::SCAN_VERDICT), ["not-scanned"]);
    // A .bin without checkpoint magic is not a model.
    let refs: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    assert!(!refs.iter().any(|r| r.contains("lookup.bin")), "{refs:?}");
}

#[test]
fn datasets_from_cards_and_loose_files() {
    let doc = serde_json::to_value(fixture_bom().bom).unwrap();
    let reviews = find(&doc, "data:data/reviews");
    assert_eq!(reviews["type"], "data");
    assert_eq!(reviews["licenses"][0]["license"]["id"], "CC-BY-4.0");
    assert_eq!(reviews["data"][0]["type"], "dataset");
    assert_eq!(
        reviews["data"][0]["description"],
        "Product reviews (fixture)"
    );
    assert_eq!(reviews["components"].as_array().unwrap().len(), 2);
    assert_eq!(property(reviews, props::DATA_SPLIT), ["train=4", "test=2"]);
    let csv = find(&doc, "data:data/extra/metrics.csv");
    assert_eq!(property(csv, props::DATA_FORMAT), ["csv"]);
    assert_eq!(property(csv, props::DATA_LINES), ["4"]);
}

#[test]
fn packages_have_purls_scopes_and_relations() {
    let doc = serde_json::to_value(fixture_bom().bom).unwrap();
    let torch = find(&doc, "pkg:pypi/torch@2.4.1");
    assert_eq!(torch["type"], "framework");
    assert_eq!(
        property(torch, props::PACKAGE_MANIFEST),
        ["poetry.lock", "requirements.txt"]
    );
    let hf = find(&doc, "pkg:npm/%40huggingface/transformers@3.0.2");
    assert_eq!(hf["group"], "@huggingface");
    assert_eq!(hf["type"], "framework");
    assert_eq!(hf["hashes"][0]["alg"], "SHA-512");
    assert_eq!(find(&doc, "pkg:npm/typescript@5.6.2")["scope"], "excluded");
    assert_eq!(find(&doc, "pkg:pypi/pytest@8.3.3")["scope"], "excluded");
    assert_eq!(find(&doc, "pkg:pypi/fastapi@0.115.0")["scope"], "required");
    assert_eq!(
        find(&doc, "pkg:cargo/serde@1.0.210")["hashes"][0]["alg"],
        "SHA-256"
    );
    find(&doc, "pkg:golang/github.com/google/uuid@v1.6.0");
    assert_eq!(
        find(&doc, "pkg:golang/github.com/tmc/langchaingo@v0.1.12")["type"],
        "framework"
    );
    let deps = doc["dependencies"].as_array().unwrap();
    let depends_on = |r: &str| -> Vec<&str> {
        deps.iter()
            .find(|d| d["ref"] == r)
            .unwrap_or_else(|| panic!("no dependency entry for {r}"))["dependsOn"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        depends_on("pkg:npm/express@4.21.0"),
        ["pkg:npm/debug@2.6.9"],
        "nested node_modules copy"
    );
    assert_eq!(
        depends_on("local:cargo/embedder@0.1.0"),
        ["pkg:cargo/candle-core@0.8.0", "pkg:cargo/serde@1.0.210"]
    );
    assert_eq!(
        depends_on("pkg:pypi/requests@2.32.3"),
        ["pkg:pypi/certifi@2024.8.30", "pkg:pypi/urllib3@2.2.3"]
    );
    let project = depends_on(bom::PROJECT_REF);
    for r in [
        "model:models/sentiment-mini",
        "data:data/reviews",
        "local:cargo/embedder@0.1.0",
        "local:pypi/api@0.3.0",
        "pkg:npm/express@4.21.0",
        "pkg:pypi/celery@5.4.0",
    ] {
        assert!(
            project.contains(&r),
            "project should depend on {r}: {project:?}"
        );
    }
    // bom-refs are unique across nested components, and no absolute path leaks into the document.
    let generated = fixture_bom();
    let mut all: Vec<&str> = generated
        .bom
        .all_components()
        .into_iter()
        .filter_map(|c| c.bom_ref.as_deref())
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "duplicate bom-refs");
    let text = serde_json::to_string(&generated.bom).unwrap();
    assert!(!text.contains(fixture().to_str().unwrap()));
    // Every reference in the graph names a component or the project.
    let mut known: Vec<&str> = vec![bom::PROJECT_REF];
    known.extend(
        doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["bom-ref"].as_str()),
    );
    for d in deps {
        for r in std::iter::once(&d["ref"]).chain(d["dependsOn"].as_array().into_iter().flatten()) {
            assert!(known.contains(&r.as_str().unwrap()), "dangling ref {r}");
        }
    }
}

#[test]
fn skipped_folders_symlinks_and_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, data: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    let pickle = b"\x80\x02}q\x00.";
    write("node_modules/pkg/model.pkl", pickle);
    write(".git/objects/model.pkl", pickle);
    write("target/debug/model.pkl", pickle);
    write("env/pyvenv.cfg", b"home = /usr/bin\n");
    write("env/lib/model.pkl", pickle);
    write("real/model.pkl", pickle);
    write("broken/Cargo.lock", b"this is [not toml");
    write("broken/package-lock.json", b"{\"packages\": 7}");
    write("weird/README.md", b"---\nx: &a [1]\ny: *a\n---\n");
    write(
        "weird/fake.safetensors",
        b"\xff\xff\xff\xff\xff\xff\xff\xff{",
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("real"), root.join("loop")).unwrap();
        std::os::unix::fs::symlink(root.join("real/model.pkl"), root.join("linked.pkl")).unwrap();
    }
    let generated = bom::generate(root, &reproducible(), &|_| None).unwrap();
    let refs: Vec<String> = generated
        .bom
        .components
        .iter()
        .filter_map(|c| c.bom_ref.clone())
        .collect();
    let mut expected = vec!["model:real/model.pkl", "model:weird/fake.safetensors"];
    if cfg!(unix) {
        expected.insert(0, "model:linked.pkl");
    }
    assert_eq!(refs, expected);
    let warned: Vec<&str> = generated.warnings.iter().map(|w| w.path.as_str()).collect();
    assert!(warned.contains(&"broken/Cargo.lock"), "{warned:?}");
    assert!(warned.contains(&"broken/package-lock.json"), "{warned:?}");
    assert!(warned.contains(&"weird/README.md"), "{warned:?}");
    assert_valid(&serde_json::to_value(&generated.bom).unwrap());
}

/// The Hugging Face hub cache: snapshot files are symlinks into `blobs/`, and the path names repo and revision.
#[cfg(unix)]
#[test]
fn hugging_face_cache_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("hub/models--acme--tiny-bert");
    let rev = "0123456789abcdef0123456789abcdef01234567";
    let snap = repo.join("snapshots").join(rev);
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(&snap).unwrap();
    let weights = std::fs::read(fixture().join("models/sentiment-mini/model.safetensors")).unwrap();
    std::fs::write(repo.join("blobs/aaaa"), weights).unwrap();
    std::fs::write(
        repo.join("blobs/bbbb"),
        br#"{"model_type": "bert", "architectures": ["BertModel"], "_name_or_path": "/tmp/training/out"}"#,
    )
    .unwrap();
    std::os::unix::fs::symlink("../../blobs/aaaa", snap.join("model.safetensors")).unwrap();
    std::os::unix::fs::symlink("../../blobs/bbbb", snap.join("config.json")).unwrap();
    for root in [snap.clone(), dir.path().join("hub")] {
        let generated = bom::generate(&root, &reproducible(), &fake_scan).unwrap();
        assert_eq!(generated.bom.components.len(), 1, "{root:?}");
        let m = &generated.bom.components[0];
        assert_eq!(m.full_name(), "acme/tiny-bert");
        assert_eq!(m.version.as_deref(), Some(rev));
        assert_eq!(
            m.purl.as_deref(),
            Some("pkg:huggingface/acme/tiny-bert@0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(m.property(props::SCAN_VERDICT), Some("safe"));
        assert_valid(&serde_json::to_value(&generated.bom).unwrap());
    }
}

#[test]
fn a_single_file_can_be_described() {
    let path = fixture().join("models/tiny-llm.gguf");
    let generated = bom::generate(&path, &reproducible(), &|_| None).unwrap();
    assert_eq!(generated.bom.components.len(), 1);
    assert_eq!(generated.bom.components[0].name, "tiny-llm.gguf");
    assert_eq!(
        generated.bom.components[0].kind,
        ComponentType::MachineLearningModel
    );
    assert!(
        bom::generate(Path::new("/nonexistent/rampart"), &reproducible(), &|_| {
            None
        })
        .is_err()
    );
}

fn check(policy_toml: &str) -> policy::CheckReport {
    let policy = Policy::from_toml(policy_toml).unwrap();
    // Round-trip through JSON, as `rampart bom check` reads a file.
    let text = serde_json::to_string(&fixture_bom().bom).unwrap();
    let bom = policy::read_bom(&text).unwrap();
    policy::check(&bom, &policy)
}

fn rules(report: &policy::CheckReport) -> Vec<(&str, &str)> {
    report
        .violations
        .iter()
        .map(|v| (v.rule, v.bom_ref.as_deref().unwrap_or("")))
        .collect()
}

#[test]
fn empty_policy_passes() {
    let r = check("");
    assert!(r.passed);
    assert_eq!(r.models, 3);
    assert_eq!(r.datasets, 2);
}

#[test]
fn example_policy_report_on_the_fixture() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bom-policy.toml"),
    )
    .unwrap();
    let r = check(&text);
    assert!(!r.passed);
    insta::assert_snapshot!("example_policy_report", r.to_text("bom.json"));
}

#[test]
fn formats_verdicts_and_hashes() {
    let r = check(
        r#"
[models]
deny_code_execution = true
deny_verdicts = ["dangerous", "not-scanned"]
allowed_formats = ["safetensors", "gguf"]
"#,
    );
    assert_eq!(
        rules(&r),
        [
            ("model.format-denied", "model:models/legacy-classifier.pkl"),
            (
                "model.format-not-allowed",
                "model:models/legacy-classifier.pkl"
            ),
            ("model.verdict-denied", "model:models/legacy-classifier.pkl"),
            ("model.verdict-denied", "model:models/tiny-llm.gguf"),
        ]
    );

    let sha = fixture_bom()
        .bom
        .components
        .iter()
        .find(|c| c.bom_ref.as_deref() == Some("model:models/sentiment-mini"))
        .and_then(|c| c.hash("SHA-256").map(str::to_owned))
        .unwrap();
    let pinned = format!(
        "[models]\napproved = [{{ name = \"acme/sentiment-*\", sha256 = \"{sha}\" }}, {{ name = \"*.gguf\" }}, {{ name = \"legacy-classifier.pkl\" }}]\n"
    );
    assert!(check(&pinned).passed, "{:?}", check(&pinned).violations);
    let wrong = pinned.replace(&sha, &"0".repeat(64));
    assert_eq!(
        rules(&check(&wrong)),
        [("model.hash-mismatch", "model:models/sentiment-mini")]
    );
    let partial = "[models]\napproved = [{ name = \"acme/*\" }]\n";
    assert_eq!(
        rules(&check(partial)),
        [
            ("model.not-approved", "model:models/legacy-classifier.pkl"),
            ("model.not-approved", "model:models/tiny-llm.gguf"),
        ]
    );
}

#[test]
fn licences_vendors_datasets_and_packages() {
    let r = check(
        r#"
[licenses]
allowed = ["Apache-2.0", "MIT"]
applies_to = ["models", "datasets"]

[vendors]
denied = ["acme"]

[datasets]
denied = [{ name = "metrics.csv", reason = "training logs are not data we ship" }]

[packages]
denied = [{ purl = "pkg:npm/debug@2.*", reason = "ReDoS in old releases" }]
"#,
    );
    assert_eq!(
        rules(&r),
        [
            ("vendor.denied", "model:models/sentiment-mini"),
            ("dataset.denied", "data:data/extra/metrics.csv"),
            ("license.not-allowed", "data:data/reviews"),
            ("package.denied", "pkg:npm/debug@2.6.9"),
        ]
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(
        json["violations"][1]["message"],
        "dataset `metrics.csv` is denied: training logs are not data we ship"
    );

    let r =
        check("[licenses]\nrequire = true\napplies_to = [\"models\"]\ndenied = [\"Apache-2.0\"]\n");
    assert_eq!(
        rules(&r),
        [
            ("license.missing", "model:models/legacy-classifier.pkl"),
            ("license.denied", "model:models/sentiment-mini"),
            ("license.missing", "model:models/tiny-llm.gguf"),
        ]
    );
    let r = check("[vendors]\nallowed = [\"acme\"]\n");
    assert_eq!(
        rules(&r),
        [
            ("vendor.not-allowed", "model:models/legacy-classifier.pkl"),
            ("vendor.not-allowed", "model:models/tiny-llm.gguf"),
        ]
    );
}
