//! ONNX `ModelProto`: custom operator domains and external tensor data.
//!
//! The protobuf is walked by hand: `ModelProto.graph` (7), `training_info` (20: `initialization` 1 and
//! `algorithm` 2 graphs) and `functions` (25); in each `GraphProto` the `node`s (1), `initializer`s (5) and
//! `sparse_initializer`s (15); in each `NodeProto` `name` (3), `op_type` (4), `domain` (7) and the
//! `attribute`s (5), following their tensors (`t` 5, `tensors` 10, sparse 22/23) and subgraphs (`g` 6,
//! `graphs` 11, as used by `If`, `Loop` and `Scan`) to a bounded depth; in each `TensorProto` the
//! `external_data` entries (13) and `data_location` (14).
//!
//! Reported: nodes whose domain is not one the runtimes implement themselves (`""`, `ai.onnx`, `ai.onnx.ml`,
//! `ai.onnx.preview.training`, `com.microsoft`) unless a function in the model defines that operator, and
//! external-data locations that escape the model folder or name special files; with a model folder, also
//! locations that do not exist or resolve outside it through symbolic links. Not checked: the tensor values
//! themselves, and whether standard operators are used correctly.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;

use rampart_core::Severity;

use super::proto::{Message, Value, top_level_matches};
use super::{Rule, Sink, preview};
use crate::report::ModelFinding;

pub static CUSTOM_OP_DOMAIN: Rule = Rule {
    id: "onnx.custom-op-domain",
    severity: Severity::Medium,
    summary: "A node from an operator domain the runtimes do not implement: it runs only with a native custom-op library loaded.",
};
pub static EXTERNAL_DATA_ESCAPE: Rule = Rule {
    id: "onnx.external-data-escape",
    severity: Severity::High,
    summary: "External tensor data at an absolute path, outside the model folder, at a URL or in a special file: loading reads it.",
};
pub static EXTERNAL_DATA_MISSING: Rule = Rule {
    id: "onnx.external-data-missing",
    severity: Severity::Medium,
    summary: "External tensor data names a file that is not in the model folder (checked only when the folder is known).",
};
pub static EXTERNAL_DATA_RANGE: Rule = Rule {
    id: "onnx.external-data-range",
    severity: Severity::Low,
    summary: "External tensor data claims bytes beyond the end of its file, or an offset/length that is not a number.",
};
pub static MALFORMED: Rule = Rule {
    id: "onnx.malformed",
    severity: Severity::Medium,
    summary: "The protobuf does not decode, or external data lacks a location; what follows the error was not checked.",
};
pub static DEPTH_LIMIT: Rule = Rule {
    id: "onnx.depth-limit",
    severity: Severity::Medium,
    summary: "Subgraphs nested deeper than the walk follows (32 levels); deeper graphs were not checked.",
};

/// Operator domains implemented by ONNX itself and by ONNX Runtime's built-in contrib ops.
pub const STANDARD_DOMAINS: &[&str] = &[
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.preview.training",
    "com.microsoft",
];

/// Subgraph nesting followed. Real models nest `If`/`Loop` bodies a handful of levels.
const MAX_GRAPH_DEPTH: usize = 32;
/// Distinct custom operators remembered; more are counted but not listed.
const MAX_CUSTOM_OPS: usize = 1024;

/// Whether `data` decodes as an ONNX `ModelProto`: every top-level field is a `ModelProto` field with its
/// wire type, `ir_version` (1) is between 1 and 64 and a `graph` (7) is present. Cost: one pass over the
/// top-level tags; the graph's bytes are skipped, not parsed.
pub fn sniff(data: &[u8]) -> bool {
    top_level_matches(
        data,
        |n, v| match (n, v) {
            (1, Value::Varint(ir)) => (1..=64).contains(ir),
            (5, Value::Varint(_)) => true,
            (2 | 3 | 4 | 6 | 7 | 8 | 14 | 20 | 25 | 26, Value::Len(_)) => true,
            _ => false,
        },
        &[1, 7],
    )
}

/// Checks an ONNX model; `model_dir` is the folder the model was loaded from, used to check external data
/// files on disk (pass `None` for archive members). Offsets point at the node or tensor. Cost: one walk of
/// the message tree (each byte visited once per nesting level, at most 32), plus one `stat` per distinct
/// external-data location when `model_dir` is given.
pub fn scan(data: &[u8], model_dir: Option<&Path>, out: &mut Vec<ModelFinding>) {
    let root = Message::new(data, 0);
    let mut walker = Walker {
        sink: Sink::new(out),
        model_dir,
        local_functions: HashSet::new(),
        custom_ops: BTreeMap::new(),
        locations: HashMap::new(),
        failed: false,
        depth_reported: false,
    };
    // Operators defined by a function in the model are expanded from its body; they need no library.
    for f in root
        .fields()
        .filter_map(Result::ok)
        .filter(|f| f.number == 25)
        .filter_map(|f| f.value.message())
    {
        let (mut name, mut domain) = (String::new(), String::new());
        for g in f.fields().filter_map(Result::ok) {
            match (g.number, g.value.message()) {
                (1, Some(m)) => name = m.text().into_owned(),
                (10, Some(m)) => domain = m.text().into_owned(),
                _ => {}
            }
        }
        walker.local_functions.insert((domain, name));
    }
    walker.each(root, |w, number, m| match number {
        7 => w.graph(m, 0),
        20 => w.each(m, |w, n, g| {
            if matches!(n, 1 | 2) {
                w.graph(g, 1);
            }
        }),
        25 => w.function(m),
        _ => {}
    });
    walker.finish();
}

struct CustomOp {
    nodes: u64,
    first_node: String,
    offset: u64,
}

/// What is known about one external-data location.
enum LocationState {
    /// Already reported as escaping or missing; range checks are moot.
    Reported,
    /// Not checked on disk (no model folder).
    Unchecked,
    /// A regular file of this many bytes.
    File(u64),
}

struct Walker<'o, 'p> {
    sink: Sink<'o>,
    model_dir: Option<&'p Path>,
    local_functions: HashSet<(String, String)>,
    custom_ops: BTreeMap<(String, String), CustomOp>,
    locations: HashMap<String, LocationState>,
    failed: bool,
    depth_reported: bool,
}

impl Walker<'_, '_> {
    fn malformed(&mut self, offset: u64, why: String) {
        if !self.failed {
            self.failed = true;
            self.sink.emit(&MALFORMED, offset, || why);
        }
    }

    /// Calls `f` with each length-delimited field of `m`, reporting decoding errors.
    fn each<'m>(&mut self, m: Message<'m>, mut f: impl FnMut(&mut Self, u32, Message<'m>)) {
        for field in m.fields() {
            match field {
                Ok(fl) => {
                    if let Some(inner) = fl.value.message() {
                        f(self, fl.number, inner);
                    }
                }
                Err(e) => self.malformed(e.offset(), format!("protobuf does not decode: {e}")),
            }
        }
    }

    fn graph(&mut self, m: Message<'_>, depth: usize) {
        if depth > MAX_GRAPH_DEPTH {
            if !self.depth_reported {
                self.depth_reported = true;
                self.sink.emit(&DEPTH_LIMIT, m.offset, || {
                    format!("subgraphs nest deeper than {MAX_GRAPH_DEPTH} levels; deeper graphs were not checked")
                });
            }
            return;
        }
        self.each(m, |w, number, inner| match number {
            1 => w.node(inner, depth),
            5 => w.tensor(inner),
            15 => w.sparse_tensor(inner),
            _ => {}
        });
    }

    fn function(&mut self, m: Message<'_>) {
        self.each(m, |w, number, inner| {
            if number == 7 {
                w.node(inner, 1);
            }
        });
    }

    fn node(&mut self, m: Message<'_>, depth: usize) {
        let (mut name, mut op_type, mut domain) = (None, None, None);
        self.each(m, |w, number, inner| match number {
            3 => name = Some(inner),
            4 => op_type = Some(inner),
            7 => domain = Some(inner),
            5 => w.attribute(inner, depth),
            _ => {}
        });
        let domain = domain.map(|d| d.text().into_owned()).unwrap_or_default();
        if STANDARD_DOMAINS.contains(&domain.as_str()) {
            return;
        }
        let op_type = op_type.map(|o| o.text().into_owned()).unwrap_or_default();
        let key = (domain, op_type);
        if self.local_functions.contains(&key) {
            return;
        }
        let full = self.custom_ops.len() >= MAX_CUSTOM_OPS;
        match self.custom_ops.get_mut(&key) {
            Some(op) => op.nodes += 1,
            None if full => {}
            None => {
                let first_node = name.map(|n| n.text().into_owned()).unwrap_or_default();
                self.custom_ops.insert(
                    key,
                    CustomOp {
                        nodes: 1,
                        first_node,
                        offset: m.offset,
                    },
                );
            }
        }
    }

    fn attribute(&mut self, m: Message<'_>, depth: usize) {
        self.each(m, |w, number, inner| match number {
            5 | 10 => w.tensor(inner),
            6 | 11 => w.graph(inner, depth + 1),
            22 | 23 => w.sparse_tensor(inner),
            _ => {}
        });
    }

    fn sparse_tensor(&mut self, m: Message<'_>) {
        // SparseTensorProto: values (1) and indices (2) are TensorProtos.
        self.each(m, |w, number, inner| {
            if matches!(number, 1 | 2) {
                w.tensor(inner);
            }
        });
    }

    fn tensor(&mut self, m: Message<'_>) {
        let mut name = None;
        let mut external = false;
        let mut entries: Vec<(String, String, u64)> = Vec::new();
        for field in m.fields() {
            let Ok(f) = field else { continue };
            match (f.number, f.value) {
                (8, Value::Len(n)) => name = Some(n),
                (14, Value::Varint(loc)) => external = loc == 1,
                (13, Value::Len(entry)) => {
                    let (mut k, mut v) = (String::new(), String::new());
                    for e in entry.fields().filter_map(Result::ok) {
                        match (e.number, e.value.message()) {
                            (1, Some(s)) => k = s.text().into_owned(),
                            (2, Some(s)) => v = s.text().into_owned(),
                            _ => {}
                        }
                    }
                    entries.push((k, v, entry.offset));
                }
                _ => {}
            }
        }
        if entries.is_empty() && !external {
            return;
        }
        let name = name.map(|n| n.text().into_owned()).unwrap_or_default();
        let get = |key: &str| entries.iter().find(|(k, _, _)| k == key);
        let Some((_, location, at)) = get("location") else {
            self.sink.emit(&MALFORMED, m.offset, || {
                format!(
                    "tensor `{}` uses external data but has no location",
                    preview(&name, 100)
                )
            });
            return;
        };
        let (location, at) = (location.clone(), *at);
        let number = |key: &str| -> Result<Option<u64>, String> {
            match get(key) {
                None => Ok(None),
                Some((_, v, _)) => v
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| format!("{key} `{}`", preview(v, 40))),
            }
        };
        let range = number("offset").and_then(|o| number("length").map(|l| (o, l)));
        self.location(&name, &location, at);
        match range {
            Err(what) => self.sink.emit(&EXTERNAL_DATA_RANGE, at, || {
                format!(
                    "tensor `{}` has an external-data {what} that is not a byte count",
                    preview(&name, 100)
                )
            }),
            Ok((offset, length)) => {
                if let Some(LocationState::File(size)) = self.locations.get(&location) {
                    let size = *size;
                    let start = offset.unwrap_or(0);
                    let end = length.map_or(Some(start), |l| start.checked_add(l));
                    if end.is_none_or(|e| e > size) || start > size {
                        self.sink.emit(&EXTERNAL_DATA_RANGE, at, || {
                            format!(
                                "tensor `{}` reads bytes {start}..{} of `{}`, which has {size} bytes",
                                preview(&name, 100),
                                end.map_or_else(|| "overflow".to_string(), |e| e.to_string()),
                                preview(&location, 100)
                            )
                        });
                    }
                }
            }
        }
    }

    /// Checks a location once, however many tensors share it.
    fn location(&mut self, tensor: &str, location: &str, at: u64) {
        if self.locations.contains_key(location) {
            return;
        }
        if location.is_empty() {
            self.locations
                .insert(String::new(), LocationState::Reported);
            self.sink.emit(&MALFORMED, at, || {
                format!(
                    "tensor `{}` has an empty external-data location",
                    preview(tensor, 100)
                )
            });
            return;
        }
        let state = if let Some(why) = location_escapes(location) {
            self.sink.emit(&EXTERNAL_DATA_ESCAPE, at, || {
                format!(
                    "tensor `{}` loads external data from `{}`, which {why}",
                    preview(tensor, 100),
                    preview(location, 160)
                )
            });
            LocationState::Reported
        } else if let Some(dir) = self.model_dir {
            match check_on_disk(dir, location) {
                OnDisk::File(size) => LocationState::File(size),
                OnDisk::Missing(why) => {
                    self.sink.emit(&EXTERNAL_DATA_MISSING, at, || {
                        format!(
                            "external data `{}` of tensor `{}` {why}",
                            preview(location, 160),
                            preview(tensor, 100)
                        )
                    });
                    LocationState::Reported
                }
                OnDisk::Escapes(why) => {
                    self.sink.emit(&EXTERNAL_DATA_ESCAPE, at, || {
                        format!(
                            "external data `{}` of tensor `{}` {why}",
                            preview(location, 160),
                            preview(tensor, 100)
                        )
                    });
                    LocationState::Reported
                }
            }
        } else {
            LocationState::Unchecked
        };
        self.locations.insert(location.to_string(), state);
    }

    fn finish(&mut self) {
        let ops = std::mem::take(&mut self.custom_ops);
        for ((domain, op), info) in ops {
            let qualified = format!("{domain}.{op}");
            self.sink.emit_with_import(&CUSTOM_OP_DOMAIN, info.offset, Some(qualified), || {
                format!(
                    "operator `{}` from domain `{}` ({} node{}, first `{}`): it runs only with a custom-op library registered for that domain, native code outside ONNX",
                    preview(&op, 80),
                    preview(&domain, 80),
                    info.nodes,
                    if info.nodes == 1 { "" } else { "s" },
                    preview(&info.first_node, 80)
                )
            });
        }
    }
}

/// Why a location, read as a path relative to the model folder, escapes it or names something that is not
/// an ordinary file. Both `/` and `\` count as separators because Windows loaders accept either.
pub fn location_escapes(location: &str) -> Option<&'static str> {
    let b = location.as_bytes();
    if location.contains('\0') {
        return Some("contains a NUL byte, which cuts the path short in C and C++ loaders");
    }
    for special in ["/dev/", "/proc/", "/sys/"] {
        if location.starts_with(special) {
            return Some("is an absolute path to a device or kernel file");
        }
    }
    if location.starts_with('/') || location.starts_with('\\') {
        return Some("is an absolute path");
    }
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("is an absolute Windows path");
    }
    if location.contains("://") || location.to_ascii_lowercase().starts_with("file:") {
        return Some("is a URL, not a file in the model folder");
    }
    let components = location.split(['/', '\\']);
    if components.clone().any(|c| c == "..") {
        return Some("climbs out of the model folder with `..`");
    }
    if components.clone().any(is_windows_device) {
        return Some("names a Windows device");
    }
    None
}

fn is_windows_device(component: &str) -> bool {
    let stem = component
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_ascii_uppercase();
    match stem.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        s => {
            (s.starts_with("COM") || s.starts_with("LPT"))
                && s.len() == 4
                && s.as_bytes()[3].is_ascii_digit()
        }
    }
}

enum OnDisk {
    File(u64),
    Missing(String),
    Escapes(String),
}

fn check_on_disk(dir: &Path, location: &str) -> OnDisk {
    let path = dir.join(location);
    if fs::symlink_metadata(&path).is_err() {
        return OnDisk::Missing("does not exist in the model folder".to_string());
    }
    let (Ok(real), Ok(root)) = (fs::canonicalize(&path), fs::canonicalize(dir)) else {
        return OnDisk::Missing("cannot be resolved (a dangling symbolic link?)".to_string());
    };
    if !real.starts_with(&root) {
        return OnDisk::Escapes(format!(
            "resolves to `{}` outside the model folder through a symbolic link",
            preview(&real.to_string_lossy(), 160)
        ));
    }
    match fs::metadata(&real) {
        Ok(m) if m.is_file() => OnDisk::File(m.len()),
        Ok(m) if m.is_dir() => OnDisk::Missing("is a directory, not a file".to_string()),
        Ok(_) => OnDisk::Escapes(
            "is a special file (device, FIFO or socket), not tensor data".to_string(),
        ),
        Err(e) => OnDisk::Missing(format!("cannot be read: {e}")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::proto::encode::*;
    use super::*;

    pub(crate) fn node(name: &str, op: &str, domain: &str, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut n = msg(&[
            (3, name.as_bytes()),
            (4, op.as_bytes()),
            (7, domain.as_bytes()),
        ]);
        for a in attrs {
            field_bytes(5, a, &mut n);
        }
        n
    }

    pub(crate) fn external_tensor(name: &str, entries: &[(&str, &str)]) -> Vec<u8> {
        let mut t = Vec::new();
        field_varint(1, 4, &mut t);
        field_varint(2, 1, &mut t);
        field_bytes(8, name.as_bytes(), &mut t);
        for (k, v) in entries {
            field_bytes(13, &msg(&[(1, k.as_bytes()), (2, v.as_bytes())]), &mut t);
        }
        field_varint(14, 1, &mut t);
        t
    }

    pub(crate) fn graph(nodes: &[Vec<u8>], initializers: &[Vec<u8>]) -> Vec<u8> {
        let mut g = Vec::new();
        for n in nodes {
            field_bytes(1, n, &mut g);
        }
        field_bytes(2, b"g", &mut g);
        for t in initializers {
            field_bytes(5, t, &mut g);
        }
        g
    }

    pub(crate) fn model(graph: &[u8], functions: &[Vec<u8>]) -> Vec<u8> {
        let mut m = Vec::new();
        field_varint(1, 8, &mut m);
        field_bytes(2, b"rampart-test", &mut m);
        field_bytes(7, graph, &mut m);
        field_bytes(8, &msg(&[(1, b"")]), &mut m);
        for f in functions {
            field_bytes(25, f, &mut m);
        }
        m
    }

    fn scan_rules(data: &[u8], dir: Option<&Path>) -> Vec<ModelFinding> {
        let mut out = Vec::new();
        scan(data, dir, &mut out);
        out
    }

    fn subgraph_attr(name: &str, g: &[u8]) -> Vec<u8> {
        msg(&[(1, name.as_bytes()), (6, g)])
    }

    #[test]
    fn standard_model_is_safe() {
        let m = model(
            &graph(
                &[
                    node("mm", "MatMul", "", &[]),
                    node("ln", "LayerNormalization", "ai.onnx", &[]),
                    node("fg", "FastGelu", "com.microsoft", &[]),
                ],
                &[],
            ),
            &[],
        );
        assert!(sniff(&m));
        assert!(scan_rules(&m, None).is_empty());
    }

    #[test]
    fn custom_domains_in_subgraphs_are_aggregated() {
        let body = graph(
            &[
                node("c1", "Evil", "com.attacker", &[]),
                node("c2", "Evil", "com.attacker", &[]),
            ],
            &[],
        );
        let if_node = node(
            "if",
            "If",
            "",
            &[
                subgraph_attr("then_branch", &body),
                subgraph_attr("else_branch", &graph(&[], &[])),
            ],
        );
        let m = model(
            &graph(&[if_node, node("x", "Other", "org.pytorch.aten", &[])], &[]),
            &[],
        );
        let f = scan_rules(&m, None);
        let rules: Vec<_> = f.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["onnx.custom-op-domain", "onnx.custom-op-domain"]);
        assert!(
            f[0].explanation.contains("2 nodes, first `c1`"),
            "{}",
            f[0].explanation
        );
        assert_eq!(f[0].import.as_deref(), Some("com.attacker.Evil"));
    }

    #[test]
    fn model_local_functions_are_not_custom_ops() {
        let mut function = msg(&[(1, b"MyBlock"), (10, b"my.domain")]);
        field_bytes(7, &node("inner", "Relu", "", &[]), &mut function);
        field_bytes(
            7,
            &node("inner2", "Native", "vendor.ops", &[]),
            &mut function,
        );
        let m = model(
            &graph(&[node("b", "MyBlock", "my.domain", &[])], &[]),
            &[function],
        );
        let f = scan_rules(&m, None);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].explanation
                .contains("`Native` from domain `vendor.ops`")
        );
    }

    #[test]
    fn escaping_locations() {
        for (loc, escapes) in [
            ("weights.bin", false),
            ("sub/dir/w.bin", false),
            ("..\\..\\secret", true),
            ("a/../../etc/passwd", true),
            ("/etc/passwd", true),
            ("/dev/zero", true),
            ("C:\\Windows\\win.ini", true),
            ("file:///etc/shadow", true),
            ("data/NUL.txt", true),
            ("com1", true),
            ("compute.bin", false),
            ("w\0.bin", true),
        ] {
            assert_eq!(location_escapes(loc).is_some(), escapes, "{loc}");
        }
    }

    #[test]
    fn external_data_checks_with_and_without_folder() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("w.bin"), [0u8; 16]).unwrap();
        let m = model(
            &graph(
                &[],
                &[
                    external_tensor(
                        "a",
                        &[("location", "w.bin"), ("offset", "0"), ("length", "16")],
                    ),
                    external_tensor(
                        "b",
                        &[("location", "w.bin"), ("offset", "8"), ("length", "16")],
                    ),
                    external_tensor("c", &[("location", "gone.bin")]),
                    external_tensor("d", &[("location", "../../etc/passwd")]),
                    external_tensor("e", &[("offset", "0")]),
                ],
            ),
            &[],
        );
        let rules = |f: Vec<ModelFinding>| f.iter().map(|f| f.rule).collect::<Vec<_>>();
        assert_eq!(
            rules(scan_rules(&m, Some(dir.path()))),
            [
                "onnx.external-data-range",
                "onnx.external-data-missing",
                "onnx.external-data-escape",
                "onnx.malformed"
            ]
        );
        assert_eq!(
            rules(scan_rules(&m, None)),
            ["onnx.external-data-escape", "onnx.malformed"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_out_of_folder_escapes() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("w.bin"))
            .unwrap();
        let m = model(
            &graph(&[], &[external_tensor("a", &[("location", "w.bin")])]),
            &[],
        );
        let f = scan_rules(&m, Some(dir.path()));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "onnx.external-data-escape");
        assert!(f[0].explanation.contains("symbolic link"));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut g = graph(&[], &[]);
        for _ in 0..40 {
            g = graph(&[node("l", "Loop", "", &[subgraph_attr("body", &g)])], &[]);
        }
        let f = scan_rules(&model(&g, &[]), None);
        assert_eq!(
            f.iter().map(|f| f.rule).collect::<Vec<_>>(),
            ["onnx.depth-limit"]
        );
    }

    #[test]
    fn sniff_and_truncation() {
        let m = model(&graph(&[node("x", "Evil", "bad", &[])], &[]), &[]);
        assert!(!sniff(&m[..m.len() - 1]));
        assert!(!sniff(b"\x08\x01"));
        assert!(!sniff(b"GGUF\x03\x00\x00\x00"));
        let f = scan_rules(&m[..m.len() - 1], None);
        assert!(f.iter().any(|f| f.rule == "onnx.malformed"));
    }
}
