//! Keras model configs: the `config.json` of a Keras v3 `.keras` zip and the `model_config` /
//! `training_config` JSON that legacy Keras stores as HDF5 attributes.
//!
//! A Keras config is a tree of objects `{"class_name", "config", "module"?, "registered_name"?}`. Loading
//! one imports `module` and instantiates `class_name`, so the config decides which code runs. The walk looks
//! at every object in the tree (layers, nested Functional/Sequential models, optimisers, losses,
//! initialisers) and reports:
//! - `Lambda` layers, whose function is marshalled Python bytecode (base64) or a named callable;
//! - `__lambda__` objects elsewhere (marshalled code as an activation, loss, ...);
//! - references to modules or callables that run commands or switch off safe mode;
//! - `TFOpLambda` layers calling TensorFlow functions with file or Python access;
//! - objects from modules outside Keras and TensorFlow (custom code that must be installed to load).
//!
//! Not checked: what a custom layer's own Python code does (it is not in the file), and built-in layers
//! given by class name alone without `module` (legacy configs); those only run Keras's own code.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use rampart_core::Severity;
use serde_json::{Map, Value};

use super::{Rule, Sink, preview};
use crate::report::ModelFinding;

pub static LAMBDA_LAYER: Rule = Rule {
    id: "keras.lambda-layer",
    severity: Severity::High,
    summary: "A Lambda layer: its function is marshalled Python bytecode or a named callable, run when the model is loaded or called.",
};
pub static SERIALIZED_LAMBDA: Rule = Rule {
    id: "keras.serialized-lambda",
    severity: Severity::High,
    summary: "A `__lambda__` object outside a Lambda layer: marshalled Python code used as an activation, loss or other callable.",
};
pub static DANGEROUS_REFERENCE: Rule = Rule {
    id: "keras.dangerous-reference",
    severity: Severity::High,
    summary: "An object names a module or callable that runs commands, evaluates code, downloads files or switches off safe mode.",
};
pub static TFOP_DANGEROUS: Rule = Rule {
    id: "keras.tfoplambda-dangerous",
    severity: Severity::High,
    summary: "A TFOpLambda layer calls a TensorFlow function that reads or writes files, loads native code or calls Python.",
};
pub static CUSTOM_OBJECT: Rule = Rule {
    id: "keras.custom-object",
    severity: Severity::Medium,
    summary: "An object from a module outside Keras and TensorFlow: loading imports that module and runs its code.",
};
pub static MALFORMED_CONFIG: Rule = Rule {
    id: "keras.malformed-config",
    severity: Severity::Medium,
    summary: "The config is not a JSON object (invalid UTF-8 or JSON, nesting beyond 128 levels).",
};
pub static DEPTH_LIMIT: Rule = Rule {
    id: "keras.depth-limit",
    severity: Severity::Medium,
    summary: "Objects nested deeper than the walk follows (64 levels); deeper objects were not checked.",
};

/// JSON nesting the walk follows. Real configs nest a few levels per sub-model; serde_json itself refuses
/// more than 128.
const MAX_DEPTH: usize = 64;

/// Top-level packages whose objects are Keras's or TensorFlow's own (KerasHub/NLP/CV are the Keras team's
/// model packages; `tf_keras` is Keras 2 as a separate package).
const TRUSTED_PACKAGES: &[&str] = &[
    "keras",
    "tf_keras",
    "tensorflow",
    "keras_hub",
    "keras_nlp",
    "keras_cv",
];

/// Modules whose every callable is a way to run commands, reach the network or deserialise more code.
const DANGEROUS_MODULES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "subprocess",
    "sys",
    "shutil",
    "socket",
    "importlib",
    "pickle",
    "marshal",
    "runpy",
    "pty",
    "ctypes",
    "webbrowser",
    "code",
    "codeop",
    "commands",
    "multiprocessing",
    "urllib",
    "requests",
    "http",
    "ftplib",
    "smtplib",
    "telnetlib",
];

/// Callables of `builtins` that evaluate code or reach objects they should not.
const DANGEROUS_BUILTINS: &[&str] = &[
    "eval",
    "exec",
    "compile",
    "__import__",
    "open",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "locals",
    "vars",
    "breakpoint",
    "input",
];

/// Names found in marshalled code or source that show what a Lambda reaches for.
const RISKY_NAMES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "system",
    "popen",
    "Popen",
    "subprocess",
    "check_output",
    "eval",
    "exec",
    "__import__",
    "compile",
    "open",
    "socket",
    "getattr",
    "__builtins__",
    "builtins",
    "importlib",
    "shutil",
    "pty",
    "urlopen",
    "requests",
];

/// Whether a `.keras` zip's member list is a Keras v3 model: `config.json` with `metadata.json` or the
/// weights file beside it, at the archive root.
pub fn is_keras_zip(member_names: &[&str]) -> bool {
    let has = |name: &str| member_names.contains(&name);
    has("config.json")
        && (has("metadata.json") || has("model.weights.h5") || has("model.weights.npz"))
}

/// Checks a Keras config (the JSON text of `config.json` or an HDF5 `model_config` attribute) and appends
/// findings; offsets are byte offsets in `json` (best effort: where the object's name or code first
/// occurs). Cost: one JSON parse into memory and one walk of the tree; the input is the config alone,
/// never weights.
pub fn scan_config(json: &[u8], out: &mut Vec<ModelFinding>) {
    scan_config_at(json, 0, out);
}

/// [`scan_config`] for JSON found at `base` in a larger file (HDF5), so offsets point into that file.
pub(crate) fn scan_config_at(json: &[u8], base: u64, out: &mut Vec<ModelFinding>) {
    let mut sink = Sink::new(out);
    let value: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => {
            sink.emit(&MALFORMED_CONFIG, base, || {
                format!("config is not valid JSON: {e}")
            });
            return;
        }
    };
    if !value.is_object() {
        sink.emit(&MALFORMED_CONFIG, base, || {
            "config is not a JSON object".to_string()
        });
        return;
    }
    let mut walker = Walker {
        json,
        base,
        sink,
        reported: HashSet::new(),
        depth_reported: false,
    };
    walker.value(&value, 0);
}

struct Walker<'j, 'o> {
    json: &'j [u8],
    base: u64,
    sink: Sink<'o>,
    /// Custom objects already reported, so a model with 40 identical custom blocks yields one finding.
    reported: HashSet<String>,
    depth_reported: bool,
}

impl Walker<'_, '_> {
    fn value(&mut self, v: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            if !self.depth_reported {
                self.depth_reported = true;
                self.sink.emit(&DEPTH_LIMIT, self.base, || {
                    format!("config nests objects deeper than {MAX_DEPTH} levels; deeper objects were not checked")
                });
            }
            return;
        }
        match v {
            Value::Array(items) => {
                for item in items {
                    self.value(item, depth + 1);
                }
            }
            Value::Object(map) => {
                let consumed = match map.get("class_name") {
                    Some(Value::String(class)) => self.object(map, class, depth),
                    _ => false,
                };
                if !consumed {
                    for child in map.values() {
                        self.value(child, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    /// Checks one Keras object; returns true when it walked the children itself.
    fn object(&mut self, map: &Map<String, Value>, class: &str, depth: usize) -> bool {
        let module = map.get("module").and_then(Value::as_str);
        let config = map.get("config");
        // A function reference is `{"class_name": "function", "config": "<name>"}`.
        let callable = match (class, config) {
            ("function", Some(Value::String(name))) => name.as_str(),
            _ => class,
        };
        match class {
            "Lambda" => {
                self.lambda(map, depth);
                return true;
            }
            "__lambda__" => {
                let code = config.and_then(lambda_code);
                let desc =
                    code.map_or_else(|| "no code recorded".to_string(), |c| describe_code(c).text);
                let offset = self.locate(code.unwrap_or("__lambda__"));
                self.sink.emit(&SERIALIZED_LAMBDA, offset, || {
                    format!("serialized lambda outside a Lambda layer: {desc}")
                });
                return true;
            }
            "TFOpLambda" => self.tfop_lambda(config),
            _ => {}
        }
        self.reference(module, callable, map);
        // `Package>Name` registrations matter when no untrusted module was reported for the object already.
        if module.is_none_or(trusted_module) {
            for registered in [
                map.get("registered_name").and_then(Value::as_str),
                Some(class),
            ]
            .into_iter()
            .flatten()
            {
                if let Some((package, name)) = registered.split_once('>') {
                    self.reference(Some(package), name, map);
                }
            }
        }
        false
    }

    /// Reports `module.name` when it is dangerous or not Keras's own.
    fn reference(&mut self, module: Option<&str>, name: &str, map: &Map<String, Value>) {
        let qualified = match module {
            Some(m) => format!("{m}.{name}"),
            None => name.to_string(),
        };
        if let Some(why) = dangerous_callable(module.unwrap_or(""), name) {
            let offset = self.locate_object(map, name);
            self.sink.emit_with_import(
                &DANGEROUS_REFERENCE,
                offset,
                Some(qualified.clone()),
                || format!("object refers to `{}`: {why}", preview(&qualified, 120)),
            );
            return;
        }
        let Some(module) = module else { return };
        if trusted_module(module) || (module == "builtins" && !name.starts_with('_')) {
            return;
        }
        if self.reported.insert(qualified.clone()) {
            let offset = self.locate_object(map, name);
            self.sink.emit_with_import(&CUSTOM_OBJECT, offset, Some(qualified.clone()), || {
                format!(
                    "custom object `{}`: loading imports `{}`, code outside Keras and TensorFlow",
                    preview(&qualified, 120),
                    preview(module, 80)
                )
            });
        }
    }

    fn lambda(&mut self, map: &Map<String, Value>, depth: usize) {
        let config = map.get("config").and_then(Value::as_object);
        let field = |k: &str| config.and_then(|c| c.get(k));
        let name = field("name").and_then(Value::as_str).unwrap_or("?");
        let module = field("module").and_then(Value::as_str);
        let function_type = field("function_type").and_then(Value::as_str);
        let desc = match field("function") {
            None | Some(Value::Null) => Description::text("no function recorded"),
            // Keras 2 lambda: [code, defaults, closure].
            Some(Value::Array(items)) => match items.first() {
                Some(Value::String(code)) => describe_code(code),
                _ => Description::text("function list without code"),
            },
            // Keras 2 named function, or an old-style bare code string.
            Some(Value::String(s)) if function_type == Some("function") => {
                describe_named(module, s)
            }
            Some(Value::String(code)) => describe_code(code),
            Some(Value::Object(f)) => {
                let class = f.get("class_name").and_then(Value::as_str).unwrap_or("");
                match (class, f.get("config")) {
                    ("__lambda__", Some(c)) => match lambda_code(c) {
                        Some(code) => describe_code(code),
                        None => Description::text("serialized lambda without code"),
                    },
                    (_, Some(Value::String(fname))) => {
                        describe_named(f.get("module").and_then(Value::as_str), fname)
                    }
                    _ => describe_named(f.get("module").and_then(Value::as_str), class),
                }
            }
            Some(other) => {
                Description::text(&format!("function of unexpected type {}", json_type(other)))
            }
        };
        let code_needle = desc.needle.clone();
        let offset = code_needle.map_or_else(|| self.locate_quoted(name), |n| self.locate(&n));
        let name = preview(name, 80);
        self.sink
            .emit_with_import(&LAMBDA_LAYER, offset, desc.import, || {
                format!("Lambda layer `{name}`: {}", desc.text)
            });
        // The function was described above; everything else in the layer is walked as usual.
        for (k, child) in map {
            if k != "config" {
                self.value(child, depth + 1);
            }
        }
        if let Some(config) = config {
            for (k, child) in config {
                if k != "function" {
                    self.value(child, depth + 2);
                }
            }
        }
    }

    fn tfop_lambda(&mut self, config: Option<&Value>) {
        let Some(function) = config
            .and_then(|c| c.get("function"))
            .and_then(Value::as_str)
        else {
            return;
        };
        if let Some(why) = dangerous_tf_function(function) {
            let offset = self.locate_quoted(function);
            self.sink.emit_with_import(
                &TFOP_DANGEROUS,
                offset,
                Some(format!("tf.{function}")),
                || {
                    format!(
                        "TFOpLambda calls `tf.{}`, which {why}",
                        preview(function, 120)
                    )
                },
            );
        }
    }

    fn locate(&self, needle: &str) -> u64 {
        let needle = &needle.as_bytes()[..needle.len().min(48)];
        match memchr::memmem::find(self.json, needle) {
            Some(p) if !needle.is_empty() => self.base + p as u64,
            _ => self.base,
        }
    }

    fn locate_quoted(&self, s: &str) -> u64 {
        self.locate(&format!("\"{s}\""))
    }

    fn locate_object(&self, map: &Map<String, Value>, name: &str) -> u64 {
        match map
            .get("config")
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
        {
            Some(n) => self.locate_quoted(n),
            None => self.locate_quoted(name),
        }
    }
}

/// The code string of a serialized lambda's config: `{"code": ...}` (Lambda layers) or
/// `{"value": [code, defaults, closure]}` (other places).
fn lambda_code(config: &Value) -> Option<&str> {
    match config.get("code") {
        Some(Value::String(c)) => Some(c),
        _ => config
            .get("value")
            .and_then(|v| v.get(0))
            .and_then(Value::as_str),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

struct Description {
    text: String,
    import: Option<String>,
    /// Text to search for in the JSON to locate the finding.
    needle: Option<String>,
}

impl Description {
    fn text(s: &str) -> Self {
        Description {
            text: s.to_string(),
            import: None,
            needle: None,
        }
    }
}

fn describe_named(module: Option<&str>, name: &str) -> Description {
    let qualified = module.map_or_else(|| name.to_string(), |m| format!("{m}.{name}"));
    let mut text = format!("calls the named function `{}`", preview(&qualified, 120));
    if let Some(why) = dangerous_callable(module.unwrap_or(""), name) {
        text.push_str(&format!(" ({why})"));
    }
    Description {
        text,
        import: Some(qualified),
        needle: Some(format!("\"{name}\"")),
    }
}

/// What a Lambda's code string holds: marshalled bytecode (with the names it uses), Python source, or
/// something else. Best effort: the marshal format is not parsed, only its string records are read.
fn describe_code(code: &str) -> Description {
    // A prefix of the code that appears verbatim in the JSON (before any escaped newline).
    let prefix: String = code
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\\')
        .take(32)
        .collect();
    let needle = (!prefix.is_empty()).then_some(prefix);
    let compact: Vec<u8> = code.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let lenient = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let decoded = lenient
        .decode(&compact)
        .or_else(|_| general_purpose::URL_SAFE.decode(&compact));
    let text = match decoded {
        Err(_) => format!("function body is not base64: `{}`", preview(code, 120)),
        Ok(bytes) if bytes.first().is_some_and(|b| b & 0x7f == b'c') => {
            let names = marshal_strings(&bytes);
            let risky: Vec<&str> = names
                .iter()
                .map(String::as_str)
                .filter(|n| RISKY_NAMES.contains(n))
                .collect();
            let mut t = format!("marshalled Python bytecode ({} bytes)", bytes.len());
            if !names.is_empty() {
                let shown: Vec<String> = names.iter().take(16).map(|n| preview(n, 40)).collect();
                t.push_str(&format!(" naming {}", shown.join(", ")));
            }
            if !risky.is_empty() {
                t.push_str(&format!("; reaches for {}", risky.join(", ")));
            }
            t
        }
        Ok(bytes) => match std::str::from_utf8(&bytes) {
            Ok(src)
                if src
                    .chars()
                    .all(|c| !c.is_control() || c.is_ascii_whitespace()) =>
            {
                format!("Python source `{}`", preview(src.trim(), 160))
            }
            _ => format!("{} bytes of unrecognised encoded data", bytes.len()),
        },
    };
    Description {
        text,
        import: None,
        needle,
    }
}

/// Printable strings recorded in a marshal stream (names, constants), in order, without repeats; at most
/// 32. Reads only the string record layouts (`z`/`Z` short, `a`/`A`/`u`/`t` with a 32-bit length).
fn marshal_strings(b: &[u8]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() && names.len() < 32 {
        let (len, start) = match b[i] & 0x7f {
            b'z' | b'Z' => match b.get(i + 1) {
                Some(&n) => (usize::from(n), i + 2),
                None => break,
            },
            b'a' | b'A' | b'u' | b't' => match b.get(i + 1..i + 5) {
                Some(l) => (u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize, i + 5),
                None => break,
            },
            _ => {
                i += 1;
                continue;
            }
        };
        match b.get(start..start.saturating_add(len)) {
            Some(s) if len > 0 && len <= 256 && s.iter().all(|c| (0x20..0x7f).contains(c)) => {
                let s = String::from_utf8_lossy(s).into_owned();
                if !names.contains(&s) {
                    names.push(s);
                }
                i = start + len;
            }
            _ => i += 1,
        }
    }
    names
}

fn trusted_module(module: &str) -> bool {
    let root = module.split('.').next().unwrap_or(module);
    TRUSTED_PACKAGES.contains(&root)
}

/// Why `module.name` is dangerous to resolve, if it is.
fn dangerous_callable(module: &str, name: &str) -> Option<&'static str> {
    let root = module.split('.').next().unwrap_or(module);
    if DANGEROUS_MODULES.contains(&root) {
        return Some("the module runs commands, opens connections or loads more code");
    }
    if matches!(root, "builtins" | "__builtin__" | "__builtins__")
        && DANGEROUS_BUILTINS.contains(&name)
    {
        return Some("a builtin that evaluates code or reaches arbitrary objects");
    }
    match name {
        "enable_unsafe_deserialization" => {
            Some("it switches off Keras safe mode so later lambdas load")
        }
        "get_file" => Some("it downloads a file from a URL onto the loading machine"),
        "load_op_library" | "load_library" => Some("it loads a native library into the process"),
        _ => None,
    }
}

/// Why a `TFOpLambda` function (a path under the `tf` namespace) is dangerous, if it is.
fn dangerous_tf_function(function: &str) -> Option<&'static str> {
    let f = function.strip_prefix("tf.").unwrap_or(function);
    let f = f
        .strip_prefix("compat.v1.")
        .or_else(|| f.strip_prefix("compat.v2."))
        .unwrap_or(f);
    let parts: Vec<&str> = f.split('.').collect();
    match parts.as_slice() {
        ["io", "read_file"] | ["read_file"] => Some("reads a file named at run time"),
        ["io", "write_file"] | ["write_file"] => Some("writes a file"),
        ["io", "matching_files"] | ["matching_files"] => Some("lists files on the loading machine"),
        ["io", "gfile", ..] | ["gfile", ..] => Some("reads, writes or deletes files"),
        ["py_function"] | ["numpy_function"] | ["py_func"] | ["script_ops", ..] => {
            Some("calls a Python function from inside the graph")
        }
        ["load_op_library"] | ["load_library"] => Some("loads a native library"),
        ["saved_model", ..] => Some("loads or saves other models"),
        ["summary", ..] => Some("writes event files"),
        ["data", ..] => Some("builds an input pipeline that reads files"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(json: &str) -> Vec<ModelFinding> {
        let mut out = Vec::new();
        scan_config(json.as_bytes(), &mut out);
        out
    }

    fn rules(findings: &[ModelFinding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.rule).collect()
    }

    // Marshalled `lambda x: __import__('os').system('id')`, CPython 3.11.
    const MARSHAL_B64: &str = "4wEAAAAAAAAAAAAAAAMAAAADAAAA80YAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACg\nAQAAAAAAAAAAAAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAFMAKQNO2gJvc9oCaWQpAtoKX19p\nbXBvcnRfX9oGc3lzdGVtKQHaAXhzAQAAACD6CDxzdHJpbmc++gg8bGFtYmRhPnIIAAAAAQAAAHMc\nAAAAgACNKpBU0Qoa1Aoa1woh0gohoCTRCifUCieAAPMAAAAA\n";

    #[test]
    fn benign_sequential_is_safe() {
        let json = r#"{"module":"keras","class_name":"Sequential","config":{"name":"seq","layers":[
            {"module":"keras.layers","class_name":"InputLayer","config":{"batch_shape":[null,4]},"registered_name":null},
            {"module":"keras.layers","class_name":"Dense","config":{"name":"dense","units":2,
              "kernel_initializer":{"module":"keras.initializers","class_name":"GlorotUniform","config":{"seed":null},"registered_name":null}},
              "registered_name":null}]},
            "compile_config":{"optimizer":{"module":"keras.optimizers","class_name":"Adam","config":{}},"loss":"mse"}}"#;
        assert_eq!(scan(json), vec![]);
    }

    #[test]
    fn lambda_with_marshalled_code_names_what_it_reaches() {
        let json = serde_json::json!({"module":"keras","class_name":"Functional","config":{"layers":[
            {"module":"keras.layers","class_name":"Lambda","config":{"name":"evil",
             "function":{"class_name":"__lambda__","config":{"code":MARSHAL_B64,"defaults":null,"closure":null}}}}]}});
        let text = json.to_string();
        let f = scan(&text);
        assert_eq!(rules(&f), ["keras.lambda-layer"]);
        assert!(
            f[0].explanation.contains("marshalled Python bytecode"),
            "{}",
            f[0].explanation
        );
        let why = &f[0].explanation;
        assert!(
            ["reaches for", "__import__", "os", "system"]
                .iter()
                .all(|w| why.contains(w)),
            "{why}"
        );
        assert!(text[f[0].offset as usize..].starts_with("4wEAAAAA"));
    }

    #[test]
    fn keras2_lambda_list_and_named_function() {
        let src = base64::engine::general_purpose::STANDARD.encode("import os\nos.system('id')");
        let json = format!(
            r#"{{"class_name":"Model","config":{{"layers":[
              {{"class_name":"Lambda","config":{{"name":"l1","function":["{src}",null,null],"function_type":"lambda","module":"__main__"}}}},
              {{"class_name":"Lambda","config":{{"name":"l2","function":"system","function_type":"function","module":"os"}}}}]}}}}"#
        );
        let f = scan(&json);
        assert_eq!(rules(&f), ["keras.lambda-layer", "keras.lambda-layer"]);
        assert!(
            f[0].explanation
                .contains("Python source `import os\\nos.system('id')`"),
            "{}",
            f[0].explanation
        );
        assert_eq!(f[1].import.as_deref(), Some("os.system"));
        assert!(f[1].explanation.contains("runs commands"));
    }

    #[test]
    fn custom_and_dangerous_references() {
        let json = r#"{"class_name":"Sequential","config":{"layers":[
            {"module":"my_pkg.layers","class_name":"Fancy","config":{"name":"f1"},"registered_name":"my_pkg>Fancy"},
            {"module":"my_pkg.layers","class_name":"Fancy","config":{"name":"f2"},"registered_name":"my_pkg>Fancy"},
            {"module":"keras.layers","class_name":"Dense","config":{"name":"d",
              "activation":{"module":"builtins","class_name":"function","config":"eval","registered_name":"eval"}}},
            {"module":"keras.config","class_name":"enable_unsafe_deserialization","config":{}},
            {"class_name":"Addons>Thing","config":{}}]}}"#;
        let f = scan(json);
        assert_eq!(
            rules(&f),
            [
                "keras.custom-object",
                "keras.dangerous-reference",
                "keras.dangerous-reference",
                "keras.custom-object"
            ],
            "{f:#?}"
        );
        assert_eq!(f[0].import.as_deref(), Some("my_pkg.layers.Fancy"));
        assert_eq!(f[1].import.as_deref(), Some("builtins.eval"));
        assert_eq!(f[3].import.as_deref(), Some("Addons.Thing"));
    }

    #[test]
    fn tfoplambda_dangerous_only() {
        let json = r#"{"class_name":"Functional","config":{"layers":[
            {"class_name":"TFOpLambda","config":{"name":"tf.math.add","function":"math.add"}},
            {"class_name":"TFOpLambda","config":{"name":"tf.io.write_file","function":"io.write_file"}},
            {"class_name":"TFOpLambda","config":{"name":"x","function":"compat.v1.py_func"}}]}}"#;
        let f = scan(json);
        assert_eq!(
            rules(&f),
            ["keras.tfoplambda-dangerous", "keras.tfoplambda-dangerous"]
        );
        assert_eq!(f[0].import.as_deref(), Some("tf.io.write_file"));
    }

    #[test]
    fn nested_models_and_serialized_lambdas_elsewhere() {
        let json = serde_json::json!({"class_name":"Functional","config":{"layers":[
            {"class_name":"Sequential","module":"keras","config":{"layers":[
                {"class_name":"Dense","module":"keras.layers","config":{"name":"inner",
                 "activation":{"class_name":"__lambda__","config":{"value":[MARSHAL_B64,null,null]}}}}]}}]}});
        let f = scan(&json.to_string());
        assert_eq!(rules(&f), ["keras.serialized-lambda"]);
        assert!(f[0].explanation.contains("system"));
    }

    #[test]
    fn hostile_nesting_and_garbage() {
        let deep = "[".repeat(100) + &"]".repeat(100);
        let f = scan(&format!("{{\"a\":{deep}}}"));
        assert_eq!(rules(&f), ["keras.depth-limit"]);
        assert_eq!(rules(&scan(&"[".repeat(200))), ["keras.malformed-config"]);
        assert_eq!(rules(&scan("[1,2]")), ["keras.malformed-config"]);
        let mut out = Vec::new();
        scan_config(b"\xff\xfe{", &mut out);
        assert_eq!(rules(&out), ["keras.malformed-config"]);
        let odd = r#"{"class_name":"Lambda","config":{"function":{"class_name":"__lambda__","config":7}}}"#;
        assert_eq!(rules(&scan(odd)), ["keras.lambda-layer"]);
        let not_b64 = r#"{"class_name":"Lambda","config":{"name":"q","function":"%%%"}}"#;
        assert!(scan(not_b64)[0].explanation.contains("not base64"));
    }

    #[test]
    fn keras_zip_detection() {
        assert!(is_keras_zip(&[
            "metadata.json",
            "config.json",
            "model.weights.h5"
        ]));
        assert!(!is_keras_zip(&["config.json"]));
        assert!(!is_keras_zip(&["sub/config.json", "metadata.json"]));
    }

    #[test]
    fn marshal_strings_bounded() {
        assert_eq!(marshal_strings(b"\xdaZ"), Vec::<String>::new());
        assert_eq!(marshal_strings(b"\xda\x02osz\x06system"), ["os", "system"]);
        assert_eq!(marshal_strings(b"a\xff\xff\xff\xff"), Vec::<String>::new());
    }
}
