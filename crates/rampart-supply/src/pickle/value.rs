//! The symbolic values the pickle VM pushes: scalars inline, everything else as nodes in a per-pickle
//! arena that is freed in one piece (no reference counting, so cyclic or million-deep structures built
//! through the memo cost neither a stack overflow on drop nor a leak).
//!
//! Only what analysis and reports need is kept: the first bytes of each string (in one shared pool), the
//! first items of each container, and how large each really was.

use std::fmt::Write as _;

/// Index of a node in the [`Arena`].
pub(crate) type NodeId = u32;

/// A value on the VM stack or in the memo. Copying one is cheap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Node(NodeId),
    /// A value the VM stopped tracking because its node budget ran out.
    Elided,
}

/// String or bytes payload: the first `head` bytes live in the arena pool at `off`; `len` is the real
/// length; `src` is the absolute offset of the payload when it is a contiguous slice of the input.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Blob {
    pub off: usize,
    pub head: usize,
    pub len: u64,
    pub src: Option<u64>,
}

impl Blob {
    /// True when every byte of the payload is in the pool.
    pub fn complete(&self) -> bool {
        self.head as u64 == self.len
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeqKind {
    Tuple,
    List,
    /// Keys and values alternate in `items`; `total` counts pairs.
    Dict,
    Set,
    FrozenSet,
}

/// How a callable was invoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallKind {
    Reduce,
    NewObj,
    NewObjEx,
    Obj,
    Inst,
}

impl CallKind {
    pub fn opcode(self) -> &'static str {
        match self {
            CallKind::Reduce => "REDUCE",
            CallKind::NewObj => "NEWOBJ",
            CallKind::NewObjEx => "NEWOBJ_EX",
            CallKind::Obj => "OBJ",
            CallKind::Inst => "INST",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub func: Value,
    pub args: Value,
    pub kwargs: Value,
    /// The state a later BUILD gave the result, if any.
    pub state: Value,
}

#[derive(Clone, Debug)]
pub(crate) enum Node {
    Str(Blob),
    Bytes(Blob),
    ByteArray(Blob),
    /// A binary integer wider than 64 bits (LONG1/LONG4), little-endian two's complement.
    BigInt(Blob),
    /// A text integer wider than 64 bits (INT/LONG), as written.
    BigText(Blob),
    /// An out-of-band buffer (NEXT_BUFFER).
    Buffer,
    Seq {
        kind: SeqKind,
        items: Vec<Value>,
        total: u64,
    },
    /// An import; the index is into the VM's import records.
    Global(u32),
    Call(Box<Call>),
    PersId(Value),
    /// A copyreg extension code (EXT1/2/4).
    Ext(u32),
}

/// Items kept per container: enough to show a call's arguments and to read small state dicts.
pub(crate) const SEQ_KEEP: usize = 64;

/// All nodes of one pickle.
pub(crate) struct Arena {
    nodes: Vec<Node>,
    pool: Vec<u8>,
    max_nodes: usize,
    max_pool: usize,
    /// Set once a node could not be allocated.
    pub exhausted: bool,
}

impl Arena {
    pub fn new(max_nodes: usize, max_pool: usize) -> Arena {
        Arena {
            nodes: Vec::new(),
            pool: Vec::new(),
            max_nodes,
            max_pool,
            exhausted: false,
        }
    }

    /// Stores `node`, or returns [`Value::Elided`] when the budget is spent.
    pub fn push(&mut self, node: Node) -> Value {
        if self.nodes.len() >= self.max_nodes {
            self.exhausted = true;
            return Value::Elided;
        }
        self.nodes.push(node);
        Value::Node((self.nodes.len() - 1) as NodeId)
    }

    /// Stores `node` even past the budget (imports: each costs the input an opcode and a name).
    pub fn push_always(&mut self, node: Node) -> Value {
        self.nodes.push(node);
        Value::Node((self.nodes.len() - 1) as NodeId)
    }

    pub fn node(&self, v: Value) -> Option<&Node> {
        match v {
            Value::Node(id) => self.nodes.get(id as usize),
            _ => None,
        }
    }

    pub fn node_mut(&mut self, v: Value) -> Option<&mut Node> {
        match v {
            Value::Node(id) => self.nodes.get_mut(id as usize),
            _ => None,
        }
    }

    /// How many payload bytes the pool may still take for one value: the full `want` while the pool
    /// budget lasts, then a short head for display.
    pub fn head_room(&self, want: u64, keep: usize) -> usize {
        let cap = if self.pool.len() < self.max_pool {
            keep
        } else {
            64
        };
        usize::try_from(want).map_or(cap, |w| w.min(cap))
    }

    /// The pool, for sources to append payload heads to.
    pub fn pool_mut(&mut self) -> &mut Vec<u8> {
        &mut self.pool
    }

    pub fn pool_len(&self) -> usize {
        self.pool.len()
    }

    /// Copies `bytes` into the pool and describes them as a complete blob.
    pub fn blob_from(&mut self, bytes: &[u8], src: Option<u64>) -> Blob {
        let off = self.pool.len();
        self.pool.extend_from_slice(bytes);
        Blob {
            off,
            head: bytes.len(),
            len: bytes.len() as u64,
            src,
        }
    }

    pub fn bytes(&self, b: &Blob) -> &[u8] {
        self.pool.get(b.off..b.off + b.head).unwrap_or_default()
    }

    /// The text of a string node (its kept head), and whether it is complete.
    pub fn str_of(&self, v: Value) -> Option<(&[u8], bool)> {
        match self.node(v)? {
            Node::Str(b) => Some((self.bytes(b), b.complete())),
            _ => None,
        }
    }

    /// The payload blob of a string, bytes or bytearray node.
    pub fn blob_of(&self, v: Value) -> Option<Blob> {
        match self.node(v)? {
            Node::Str(b) | Node::Bytes(b) | Node::ByteArray(b) => Some(*b),
            _ => None,
        }
    }

    /// The kept items of a tuple/list/set node.
    pub fn items(&self, v: Value) -> Option<(SeqKind, &[Value])> {
        match self.node(v)? {
            Node::Seq { kind, items, .. } => Some((*kind, items)),
            _ => None,
        }
    }

    /// Looks up a string key in a dict node's kept items.
    pub fn dict_get(&self, v: Value, key: &str) -> Option<Value> {
        let (SeqKind::Dict, items) = self.items(v)? else {
            return None;
        };
        items
            .chunks_exact(2)
            .find(|kv| self.str_of(kv[0]).is_some_and(|(s, _)| s == key.as_bytes()))
            .map(|kv| kv[1])
    }
}

/// Longest rendered call chain, in bytes.
const RENDER_MAX: usize = 240;
/// Strings up to this many bytes are shown whole; longer ones are summarised.
const SHORT_STR: usize = 48;

/// Renders `v` as Python-like source, truncated and with control and non-ASCII characters escaped, so a
/// payload can be shown without being replayed into a terminal. `names` holds each import's dotted name.
pub(crate) fn render(arena: &Arena, names: &[String], v: Value) -> String {
    let mut r = Renderer {
        arena,
        names,
        out: String::new(),
        visits: 0,
    };
    r.value(v, 0);
    if r.out.len() > RENDER_MAX {
        let mut cut = RENDER_MAX;
        while !r.out.is_char_boundary(cut) {
            cut -= 1;
        }
        r.out.truncate(cut);
        r.out.push('…');
    }
    r.out
}

struct Renderer<'a> {
    arena: &'a Arena,
    names: &'a [String],
    out: String,
    visits: usize,
}

impl Renderer<'_> {
    fn full(&self) -> bool {
        self.out.len() > RENDER_MAX || self.visits > 200
    }

    fn value(&mut self, v: Value, depth: usize) {
        self.visits += 1;
        if self.full() || depth > 8 {
            self.out.push('…');
            return;
        }
        match v {
            Value::None => self.out.push_str("None"),
            Value::Bool(true) => self.out.push_str("True"),
            Value::Bool(false) => self.out.push_str("False"),
            Value::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Value::Float(f) => {
                let _ = write!(self.out, "{f:?}");
            }
            Value::Elided => self.out.push_str("<…>"),
            Value::Node(_) => self.node(v, depth),
        }
    }

    fn node(&mut self, v: Value, depth: usize) {
        let Some(node) = self.arena.node(v) else {
            self.out.push_str("<…>");
            return;
        };
        match node {
            Node::Str(b) => self.string(b),
            Node::Bytes(b) => self.bytes(b),
            Node::ByteArray(b) => {
                self.out.push_str("bytearray(");
                self.bytes(b);
                self.out.push(')');
            }
            Node::BigInt(b) => self.big_int(b),
            Node::BigText(b) => {
                let text = self.arena.bytes(b);
                if b.complete() && text.len() <= 40 {
                    self.out.push_str(&String::from_utf8_lossy(text));
                } else {
                    let _ = write!(self.out, "<int of {} digits>", b.len);
                }
            }
            Node::Buffer => self.out.push_str("<out-of-band buffer>"),
            Node::Seq { kind, items, total } => self.seq(*kind, items, *total, depth),
            Node::Global(i) => {
                let name = self
                    .names
                    .get(*i as usize)
                    .map_or("<import>", |s| s.as_str());
                self.out.push_str(name);
            }
            Node::Call(c) => {
                self.value(c.func, depth + 1);
                self.out.push('(');
                let mut first = true;
                match self.arena.items(c.args) {
                    Some((SeqKind::Tuple | SeqKind::List, items)) => {
                        let total = self.seq_total(c.args);
                        self.list(items, total, depth, &mut first);
                    }
                    _ => {
                        self.out.push('*');
                        self.value(c.args, depth + 1);
                        first = false;
                    }
                }
                if c.kwargs != Value::None {
                    if !first {
                        self.out.push_str(", ");
                    }
                    self.out.push_str("**");
                    self.value(c.kwargs, depth + 1);
                }
                self.out.push(')');
            }
            Node::PersId(p) => {
                self.out.push_str("persistent_load(");
                self.value(*p, depth + 1);
                self.out.push(')');
            }
            Node::Ext(code) => {
                let _ = write!(self.out, "<copyreg extension {code}>");
            }
        }
    }

    fn seq_total(&self, v: Value) -> u64 {
        match self.arena.node(v) {
            Some(Node::Seq { total, .. }) => *total,
            _ => 0,
        }
    }

    fn list(&mut self, items: &[Value], total: u64, depth: usize, first: &mut bool) {
        const SHOW: usize = 6;
        for &item in items.iter().take(SHOW) {
            if !*first {
                self.out.push_str(", ");
            }
            *first = false;
            self.value(item, depth + 1);
            if self.full() {
                return;
            }
        }
        let shown = items.len().min(SHOW) as u64;
        if total > shown {
            if !*first {
                self.out.push_str(", ");
            }
            let _ = write!(self.out, "…{} more", total - shown);
            *first = false;
        }
    }

    fn seq(&mut self, kind: SeqKind, items: &[Value], total: u64, depth: usize) {
        let mut first = true;
        match kind {
            SeqKind::Tuple => {
                self.out.push('(');
                self.list(items, total, depth, &mut first);
                if total == 1 {
                    self.out.push(',');
                }
                self.out.push(')');
            }
            SeqKind::List => {
                self.out.push('[');
                self.list(items, total, depth, &mut first);
                self.out.push(']');
            }
            SeqKind::Set | SeqKind::FrozenSet => {
                let (open, close) = match (kind, total) {
                    (SeqKind::Set, 0) => ("set(", ")"),
                    (SeqKind::Set, _) => ("{", "}"),
                    _ => ("frozenset({", "})"),
                };
                self.out.push_str(open);
                self.list(items, total, depth, &mut first);
                self.out.push_str(close);
            }
            SeqKind::Dict => {
                self.out.push('{');
                const SHOW: usize = 4;
                for kv in items.chunks_exact(2).take(SHOW) {
                    if !first {
                        self.out.push_str(", ");
                    }
                    first = false;
                    self.value(kv[0], depth + 1);
                    self.out.push_str(": ");
                    self.value(kv[1], depth + 1);
                    if self.full() {
                        break;
                    }
                }
                let shown = (items.len() / 2).min(SHOW) as u64;
                if total > shown {
                    if !first {
                        self.out.push_str(", ");
                    }
                    let _ = write!(self.out, "…{} more", total - shown);
                }
                self.out.push('}');
            }
        }
    }

    fn string(&mut self, b: &Blob) {
        let head = self.arena.bytes(b);
        let text = String::from_utf8_lossy(head);
        if b.complete() && head.len() <= SHORT_STR {
            quote_str(&mut self.out, &text);
        } else {
            let _ = write!(self.out, "<str of {} bytes: ", b.len);
            let shown: String = text.chars().take(16).collect();
            quote_str(&mut self.out, &shown);
            self.out.pop();
            self.out.push_str("…'>");
        }
    }

    fn bytes(&mut self, b: &Blob) {
        let head = self.arena.bytes(b);
        if b.complete() && head.len() <= 16 {
            quote_bytes(&mut self.out, head);
        } else {
            let _ = write!(self.out, "<bytes of {}: ", b.len);
            quote_bytes(&mut self.out, &head[..head.len().min(8)]);
            self.out.pop();
            self.out.push_str("…'>");
        }
    }

    fn big_int(&mut self, b: &Blob) {
        let le = self.arena.bytes(b);
        if b.complete() && le.len() <= 16 {
            let mut buf = [0u8; 16];
            let fill = if le.last().is_some_and(|&x| x & 0x80 != 0) {
                0xff
            } else {
                0
            };
            buf.fill(fill);
            buf[..le.len()].copy_from_slice(le);
            let _ = write!(self.out, "{}", i128::from_le_bytes(buf));
        } else {
            let _ = write!(self.out, "<int of {} bytes>", b.len);
        }
    }
}

/// Writes `s` as a single-quoted Python string literal showing only printable ASCII.
pub(crate) fn quote_str(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('\'');
}

/// Writes `b` as a Python bytes literal.
pub(crate) fn quote_bytes(out: &mut String, b: &[u8]) {
    out.push_str("b'");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b' '..=b'~' => out.push(c as char),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_calls_with_truncated_strings() {
        let mut a = Arena::new(100, 1 << 20);
        let names = vec!["builtins.exec".to_owned()];
        let g = a.push(Node::Global(0));
        let code = "import os;os.system('id')".repeat(5);
        let b = a.blob_from(code.as_bytes(), Some(10));
        let s = a.push(Node::Str(b));
        let args = a.push(Node::Seq {
            kind: SeqKind::Tuple,
            items: vec![s],
            total: 1,
        });
        let call = a.push(Node::Call(Box::new(Call {
            func: g,
            args,
            kwargs: Value::None,
            state: Value::None,
        })));
        assert_eq!(
            render(&a, &names, call),
            "builtins.exec(<str of 125 bytes: 'import os;os.sys…'>)"
        );
    }

    #[test]
    fn escapes_control_and_non_ascii() {
        let mut s = String::new();
        quote_str(&mut s, "a\u{202e}b\x1b'");
        assert_eq!(s, "'a\\u202eb\\x1b\\''");
        let mut b = String::new();
        quote_bytes(&mut b, b"\x80\x04ok");
        assert_eq!(b, "b'\\x80\\x04ok'");
    }

    #[test]
    fn node_budget_elides_instead_of_growing() {
        let mut a = Arena::new(1, 16);
        assert!(matches!(a.push(Node::Buffer), Value::Node(0)));
        assert_eq!(a.push(Node::Buffer), Value::Elided);
        assert!(a.exhausted);
    }
}
