//! TensorFlow SavedModel (`saved_model.pb`): the ops a graph runs when the model is loaded or called.
//!
//! The protobuf is walked by hand (no generated code): `SavedModel.meta_graphs` (2) →
//! `MetaGraphDef.graph_def` (2) → `GraphDef.node` (1) and `GraphDef.library` (2) →
//! `FunctionDefLibrary.function` (1) → `FunctionDef.node_def` (3), reading `NodeDef.name` (1), `op` (2) and,
//! for listed ops, string attributes from `attr` (5). `MetaGraphDef.saver_def` (3) names the saver's scope.
//! The listed ops and why each matters are data: `savedmodel_ops.toml` beside this file.
//!
//! Not checked: ops from custom op libraries (a graph can name any op; only the listed ones are reported),
//! the values flowing into an op (the file name ReadFile reads is a tensor), and `keras_metadata.pb` or
//! variables. Frozen `GraphDef` files are not SavedModels and are not sniffed as one.

use std::collections::HashMap;
use std::sync::LazyLock;

use rampart_core::Severity;
use serde::Deserialize;

use super::proto::{Message, Value, top_level_matches};
use super::{Rule, Sink, preview};
use crate::report::ModelFinding;

pub static DANGEROUS_OP: Rule = Rule {
    id: "savedmodel.dangerous-op",
    severity: Severity::High,
    summary: "An op that reads, writes or lists files, calls Python in the loading process or talks to the network.",
};
pub static SUSPICIOUS_OP: Rule = Rule {
    id: "savedmodel.suspicious-op",
    severity: Severity::Medium,
    summary: "A file input pipeline or summary writer: normal in training graphs, rare in a model exported for serving.",
};
pub static UNEXPECTED_CHECKPOINT_OP: Rule = Rule {
    id: "savedmodel.unexpected-checkpoint-op",
    severity: Severity::Medium,
    summary: "A checkpoint save/restore op outside the saver's scope or functions, reading or writing files the graph names.",
};
pub static MALFORMED: Rule = Rule {
    id: "savedmodel.malformed",
    severity: Severity::Medium,
    summary: "The protobuf does not decode; ops after the error were not checked.",
};

const OPS_TOML: &str = include_str!("savedmodel_ops.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpTable {
    op: Vec<OpSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpSpec {
    name: String,
    class: OpClass,
    why: String,
    attr: Option<String>,
    attr_prefix: Option<String>,
    #[serde(default)]
    show_attrs: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum OpClass {
    Dangerous,
    Suspicious,
    Checkpoint,
}

static OPS: LazyLock<HashMap<String, OpSpec>> = LazyLock::new(|| {
    let table: OpTable =
        toml::from_str(OPS_TOML).expect("savedmodel_ops.toml is checked by a unit test");
    table
        .op
        .into_iter()
        .map(|op| (op.name.clone(), op))
        .collect()
});

/// Whether `data` decodes as a SavedModel: top-level fields are only the schema version (1, varint) and
/// meta graphs (2, message), at least one meta graph exists, and the first one's fields are all
/// `MetaGraphDef` messages (1 to 7). Cost: one pass over top-level tags and those of one meta graph.
pub fn sniff(data: &[u8]) -> bool {
    let top = top_level_matches(
        data,
        |n, v| match n {
            1 => matches!(v, Value::Varint(_)),
            2 => matches!(v, Value::Len(_)),
            _ => false,
        },
        &[2],
    );
    if !top {
        return false;
    }
    let first = Message::new(data, 0)
        .fields()
        .filter_map(Result::ok)
        .find(|f| f.number == 2)
        .and_then(|f| f.value.message());
    first.is_some_and(|m| {
        top_level_matches(
            m.bytes,
            |n, v| (1..=7).contains(&n) && matches!(v, Value::Len(_)),
            &[],
        )
    })
}

/// Reports listed ops in every graph and function of a `saved_model.pb`; offsets are those of the
/// `NodeDef`. Cost: one walk of the message tree, no allocation per node beyond listed ops.
pub fn scan(data: &[u8], out: &mut Vec<ModelFinding>) {
    let mut walker = Walker {
        sink: Sink::new(out),
        failed: false,
    };
    for field in Message::new(data, 0).fields() {
        match field {
            Ok(f) if f.number == 2 => {
                if let Some(m) = f.value.message() {
                    walker.meta_graph(m);
                }
            }
            Ok(_) => {}
            Err(e) => walker.malformed(e.offset(), &e.to_string()),
        }
    }
}

/// Where a node sits, which decides whether checkpoint ops are expected there.
enum Context<'a> {
    Graph { saver_scopes: &'a [String] },
    Function(&'a str),
}

struct Walker<'o> {
    sink: Sink<'o>,
    failed: bool,
}

impl Walker<'_> {
    fn malformed(&mut self, offset: u64, why: &str) {
        // One decoding error is enough to say the file is broken; later ones are consequences.
        if !self.failed {
            self.failed = true;
            self.sink.emit(&MALFORMED, offset, || {
                format!("protobuf does not decode: {why}")
            });
        }
    }

    /// Fields of `m` with the given number as messages, reporting decoding errors.
    fn each<'m>(&mut self, m: Message<'m>, number: u32, mut f: impl FnMut(&mut Self, Message<'m>)) {
        for field in m.fields() {
            match field {
                Ok(fl) if fl.number == number => match fl.value.message() {
                    Some(inner) => f(self, inner),
                    None => self.malformed(
                        fl.offset,
                        &format!("field {number} is not length-delimited"),
                    ),
                },
                Ok(_) => {}
                Err(e) => self.malformed(e.offset(), &e.to_string()),
            }
        }
    }

    fn meta_graph(&mut self, m: Message<'_>) {
        let mut scopes = vec!["save".to_string()];
        self.each(m, 3, |_, saver| {
            for f in saver.fields().filter_map(Result::ok) {
                // save_tensor_name (2) and restore_op_name (3) start with the saver's scope.
                if let (2 | 3, Some(name)) = (f.number, f.value.message()) {
                    let name = name.text();
                    if let Some((scope, _)) = name.split_once('/') {
                        scopes.push(scope.to_string());
                    }
                }
            }
        });
        self.each(m, 2, |w, graph| {
            w.each(graph, 1, |w, node| {
                w.node(
                    node,
                    &Context::Graph {
                        saver_scopes: &scopes,
                    },
                )
            });
            w.each(graph, 2, |w, library| {
                w.each(library, 1, |w, function| w.function(function))
            });
        });
    }

    fn function(&mut self, m: Message<'_>) {
        let mut name = String::new();
        self.each(m, 1, |_, signature| {
            if let Some(n) = signature
                .fields()
                .filter_map(Result::ok)
                .find(|f| f.number == 1)
            {
                name = n
                    .value
                    .message()
                    .map(|m| m.text().into_owned())
                    .unwrap_or_default();
            }
        });
        self.each(m, 3, |w, node| w.node(node, &Context::Function(&name)));
    }

    fn node(&mut self, m: Message<'_>, ctx: &Context<'_>) {
        let (mut name, mut op) = (None, None);
        for field in m.fields() {
            match field {
                Ok(f) if f.number == 1 => name = f.value.message(),
                Ok(f) if f.number == 2 => op = f.value.message(),
                Ok(_) => {}
                Err(e) => return self.malformed(e.offset(), &e.to_string()),
            }
        }
        let Some(op) = op else { return };
        let Some(spec) = std::str::from_utf8(op.bytes)
            .ok()
            .and_then(|op| OPS.get(op))
        else {
            return;
        };
        let name = name.map(|n| n.text().into_owned()).unwrap_or_default();
        let rule = match spec.class {
            OpClass::Dangerous => &DANGEROUS_OP,
            OpClass::Suspicious => &SUSPICIOUS_OP,
            OpClass::Checkpoint if checkpoint_expected(&name, ctx) => return,
            OpClass::Checkpoint => &UNEXPECTED_CHECKPOINT_OP,
        };
        if let (Some(attr), Some(prefix)) = (&spec.attr, &spec.attr_prefix)
            && !string_attr(m, attr)
                .iter()
                .any(|v| v.starts_with(prefix.as_str()))
        {
            return;
        }
        let mut shown = String::new();
        for attr in &spec.show_attrs {
            let values = string_attr(m, attr);
            if !values.is_empty() {
                let values: Vec<String> = values
                    .iter()
                    .take(4)
                    .map(|v| format!("`{}`", preview(v, 80)))
                    .collect();
                shown.push_str(&format!("; {attr} = {}", values.join(", ")));
            }
        }
        let place = match ctx {
            Context::Graph { .. } => "the graph".to_string(),
            Context::Function(f) => format!("function `{}`", preview(f, 100)),
        };
        self.sink.emit(rule, m.offset, || {
            format!(
                "op `{}` in node `{}` of {place}: {}{shown}",
                spec.name,
                preview(&name, 100),
                spec.why
            )
        });
    }
}

/// Checkpoint ops belong to the TF1 saver scope (`save/`, `save_1/` or the scope SaverDef names) and the TF2
/// `__inference__traced_save_*` / `__inference__traced_restore_*` functions.
fn checkpoint_expected(node: &str, ctx: &Context<'_>) -> bool {
    match ctx {
        Context::Function(f) => f.contains("traced_save") || f.contains("traced_restore"),
        Context::Graph { saver_scopes } => {
            let scope = node.split('/').next().unwrap_or("");
            let numbered = scope
                .strip_prefix("save_")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            node.contains('/') && (numbered || saver_scopes.iter().any(|s| s == scope))
        }
    }
}

/// The values of a string (`s`) or list-of-strings (`list.s`) attribute of a NodeDef.
fn string_attr(node: Message<'_>, key: &str) -> Vec<String> {
    let mut values = Vec::new();
    for entry in node
        .fields()
        .filter_map(Result::ok)
        .filter(|f| f.number == 5)
        .filter_map(|f| f.value.message())
    {
        let (mut k, mut v) = (None, None);
        for f in entry.fields().filter_map(Result::ok) {
            match f.number {
                1 => k = f.value.message(),
                2 => v = f.value.message(),
                _ => {}
            }
        }
        if k.is_none_or(|k| k.bytes != key.as_bytes()) {
            continue;
        }
        for f in v
            .into_iter()
            .flat_map(|v| v.fields().filter_map(Result::ok))
        {
            match (f.number, f.value.message()) {
                (2, Some(s)) => values.push(s.text().into_owned()),
                (1, Some(list)) => values.extend(
                    list.fields()
                        .filter_map(Result::ok)
                        .filter(|f| f.number == 2)
                        .filter_map(|f| f.value.message())
                        .map(|s| s.text().into_owned()),
                ),
                _ => {}
            }
        }
    }
    values
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::proto::encode::*;
    use super::*;

    pub(crate) fn node(name: &str, op: &str, attrs: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut n = msg(&[(1, name.as_bytes()), (2, op.as_bytes())]);
        for (k, v) in attrs {
            field_bytes(5, &msg(&[(1, k.as_bytes()), (2, v)]), &mut n);
        }
        n
    }

    pub(crate) fn saved_model(
        graph_nodes: &[Vec<u8>],
        functions: &[(&str, Vec<Vec<u8>>)],
    ) -> Vec<u8> {
        let mut graph = Vec::new();
        for n in graph_nodes {
            field_bytes(1, n, &mut graph);
        }
        let mut library = Vec::new();
        for (name, nodes) in functions {
            let mut f = msg(&[(1, &msg(&[(1, name.as_bytes())]))]);
            for n in nodes {
                field_bytes(3, n, &mut f);
            }
            field_bytes(1, &f, &mut library);
        }
        field_bytes(2, &library, &mut graph);
        let meta = msg(&[(1, b""), (2, &graph)]);
        let mut sm = Vec::new();
        field_varint(1, 1, &mut sm);
        field_bytes(2, &meta, &mut sm);
        sm
    }

    fn rules(data: &[u8]) -> Vec<&'static str> {
        let mut out = Vec::new();
        scan(data, &mut out);
        out.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn op_table_parses_and_names_are_unique() {
        let table: OpTable = toml::from_str(OPS_TOML).unwrap();
        assert_eq!(
            table.op.len(),
            OPS.len(),
            "duplicate op names in savedmodel_ops.toml"
        );
        assert!(
            OPS.values()
                .all(|o| o.attr.is_some() == o.attr_prefix.is_some())
        );
    }

    #[test]
    fn benign_graph_with_saver_is_safe() {
        let sm = saved_model(
            &[
                node("dense/MatMul", "MatMul", &[]),
                node("save/SaveV2", "SaveV2", &[]),
                node("save_1/RestoreV2", "RestoreV2", &[]),
            ],
            &[(
                "__inference__traced_save_88",
                vec![node("SaveV2", "SaveV2", &[])],
            )],
        );
        assert!(sniff(&sm));
        assert_eq!(rules(&sm), Vec::<&str>::new());
    }

    #[test]
    fn dangerous_ops_in_graph_and_functions() {
        let urls = msg(&[(1, &msg(&[(2, b"grpc://evil:6064")]))]);
        let sm = saved_model(
            &[
                node("read", "ReadFile", &[]),
                node("dbg", "DebugIdentity", &[("debug_urls", urls)]),
            ],
            &[
                (
                    "__inference_serve_12",
                    vec![node("w", "WriteFile", &[]), node("r", "RestoreV2", &[])],
                ),
                (
                    "__inference_f_3",
                    vec![
                        node("p", "EagerPyFunc", &[]),
                        node("t", "TFRecordDataset", &[]),
                    ],
                ),
            ],
        );
        let mut out = Vec::new();
        scan(&sm, &mut out);
        let got: Vec<_> = out.iter().map(|f| f.rule).collect();
        assert_eq!(
            got,
            [
                "savedmodel.dangerous-op",
                "savedmodel.dangerous-op",
                "savedmodel.dangerous-op",
                "savedmodel.unexpected-checkpoint-op",
                "savedmodel.dangerous-op",
                "savedmodel.suspicious-op"
            ]
        );
        assert!(
            out[1]
                .explanation
                .contains("debug_urls = `grpc://evil:6064`"),
            "{}",
            out[1].explanation
        );
        assert!(
            out[2]
                .explanation
                .contains("function `__inference_serve_12`")
        );
        assert_eq!(
            &sm[out[0].offset as usize..][..6],
            &node("read", "ReadFile", &[])[..6]
        );
    }

    #[test]
    fn print_only_when_writing_a_file() {
        let to_file = msg(&[(2, b"file:///tmp/leak")]);
        let to_stderr = msg(&[(2, b"stderr")]);
        let sm = saved_model(
            &[
                node("a", "PrintV2", &[("output_stream", to_stderr)]),
                node("b", "PrintV2", &[("output_stream", to_file)]),
            ],
            &[],
        );
        assert_eq!(rules(&sm), ["savedmodel.dangerous-op"]);
    }

    #[test]
    fn sniff_rejects_other_protobufs_and_garbage() {
        let mut onnx_like = Vec::new();
        field_varint(1, 8, &mut onnx_like);
        field_bytes(2, b"pytorch", &mut onnx_like);
        field_bytes(7, b"", &mut onnx_like);
        assert!(!sniff(&onnx_like));
        assert!(!sniff(b""));
        assert!(!sniff(b"\x08\x01\x12\x05pytor"));
        let sm = saved_model(&[node("x", "ReadFile", &[])], &[]);
        assert_eq!(rules(&sm[..sm.len() - 3]), ["savedmodel.malformed"]);
    }
}
