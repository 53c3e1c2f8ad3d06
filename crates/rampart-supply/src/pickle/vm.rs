//! The symbolic pickle machine: it reads every opcode of protocols 0–5 and keeps the stack, marks and memo
//! the way CPython's unpickler does, but pushes descriptions instead of objects. Imports are classified,
//! calls (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST) are recorded with their arguments, and nothing is ever
//! imported or executed.
//!
//! Hostile input is bounded: an opcode budget, stack, mark, memo and node limits, length fields checked
//! against the bytes that remain before anything is read, and a depth limit for pickles inside pickles.

use std::collections::HashMap;
use std::io;

use rampart_core::Severity;

use super::imports::{ImportClass, ImportTable};
use super::source::Source;
use super::value::{Arena, Blob, Call, CallKind, Node, NodeId, SEQ_KEEP, SeqKind, Value, render};
use super::{NestedData, NestedRequest, PickleOptions, PickleScan, rules};
use crate::report::ModelFinding;

/// Payload bytes kept per string or bytes value (the rest is skipped, its offset remembered).
const HEAD_KEEP: usize = 64 << 10;
/// Longest module or attribute name kept from a GLOBAL/INST line.
const NAME_KEEP: usize = 4096;
/// Distinct imports one pickle may make before analysis stops.
const MAX_IMPORTS: usize = 100_000;
/// Calls rendered per import; more are counted.
const CALLS_SHOWN: usize = 16;
/// Indirect-call and global-mutation findings per pickle; more are counted in the last one.
const MISC_SHOWN: usize = 16;
/// Bytes values that look like pickles, scanned speculatively per pickle.
const MAX_SPECULATIVE: usize = 64;

/// The first value of a legacy (pre-zip) torch checkpoint: `0x1950a86a20f9469cfc6c`, little-endian.
const TORCH_MAGIC_LE: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

mod op {
    pub const MARK: u8 = b'(';
    pub const STOP: u8 = b'.';
    pub const POP: u8 = b'0';
    pub const POP_MARK: u8 = b'1';
    pub const DUP: u8 = b'2';
    pub const FLOAT: u8 = b'F';
    pub const INT: u8 = b'I';
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const LONG: u8 = b'L';
    pub const BININT2: u8 = b'M';
    pub const NONE: u8 = b'N';
    pub const PERSID: u8 = b'P';
    pub const BINPERSID: u8 = b'Q';
    pub const REDUCE: u8 = b'R';
    pub const STRING: u8 = b'S';
    pub const BINSTRING: u8 = b'T';
    pub const SHORT_BINSTRING: u8 = b'U';
    pub const UNICODE: u8 = b'V';
    pub const BINUNICODE: u8 = b'X';
    pub const APPEND: u8 = b'a';
    pub const BUILD: u8 = b'b';
    pub const GLOBAL: u8 = b'c';
    pub const DICT: u8 = b'd';
    pub const EMPTY_DICT: u8 = b'}';
    pub const APPENDS: u8 = b'e';
    pub const GET: u8 = b'g';
    pub const BINGET: u8 = b'h';
    pub const INST: u8 = b'i';
    pub const LONG_BINGET: u8 = b'j';
    pub const LIST: u8 = b'l';
    pub const EMPTY_LIST: u8 = b']';
    pub const OBJ: u8 = b'o';
    pub const PUT: u8 = b'p';
    pub const BINPUT: u8 = b'q';
    pub const LONG_BINPUT: u8 = b'r';
    pub const SETITEM: u8 = b's';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const SETITEMS: u8 = b'u';
    pub const BINFLOAT: u8 = b'G';
    pub const PROTO: u8 = 0x80;
    pub const NEWOBJ: u8 = 0x81;
    pub const EXT1: u8 = 0x82;
    pub const EXT2: u8 = 0x83;
    pub const EXT4: u8 = 0x84;
    pub const TUPLE1: u8 = 0x85;
    pub const TUPLE2: u8 = 0x86;
    pub const TUPLE3: u8 = 0x87;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const LONG1: u8 = 0x8a;
    pub const LONG4: u8 = 0x8b;
    pub const BINBYTES: u8 = b'B';
    pub const SHORT_BINBYTES: u8 = b'C';
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const BINUNICODE8: u8 = 0x8d;
    pub const BINBYTES8: u8 = 0x8e;
    pub const EMPTY_SET: u8 = 0x8f;
    pub const ADDITEMS: u8 = 0x90;
    pub const FROZENSET: u8 = 0x91;
    pub const NEWOBJ_EX: u8 = 0x92;
    pub const STACK_GLOBAL: u8 = 0x93;
    pub const MEMOIZE: u8 = 0x94;
    pub const FRAME: u8 = 0x95;
    pub const BYTEARRAY8: u8 = 0x96;
    pub const NEXT_BUFFER: u8 = 0x97;
    pub const READONLY_BUFFER: u8 = 0x98;
}

/// True for a byte that starts some opcode (used to sniff protocol 0/1 pickles).
pub(crate) fn is_opcode(b: u8) -> bool {
    matches!(b, b'(' | b'.' | b'0'..=b'2' | b'F' | b'I'..=b'N' | b'P'..=b'V' | b'X' | b'a'..=b'e'
        | b'g'..=b'j' | b'l' | b'o' | b'p'..=b'u' | b'}' | b']' | b')' | b'G' | b'B' | b'C' | 0x80..=0x98)
}

/// Why interpretation ended before STOP.
pub(crate) enum Stop {
    Malformed(u64, String),
    Truncated(u64, String),
    Limit(u64, String),
    Io(io::Error),
}

fn io_stop(e: io::Error, at: u64) -> Stop {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        Stop::Truncated(at, "the input ends inside an opcode's argument".into())
    } else {
        Stop::Io(e)
    }
}

fn malformed(at: u64, msg: impl Into<String>) -> Stop {
    Stop::Malformed(at, msg.into())
}

struct CallRec {
    offset: u64,
    kind: CallKind,
    chain: String,
}

struct ImportRec<'t> {
    module: String,
    name: String,
    offset: u64,
    class: ImportClass,
    reason: &'t str,
    nested: bool,
    node: Value,
    calls: Vec<CallRec>,
    more_calls: u64,
}

/// Memo keyed like CPython's: dense while keys come in order (they always do from `pickle.dump`),
/// a map for anything else.
#[derive(Default)]
struct Memo {
    dense: Vec<Option<Value>>,
    sparse: HashMap<u64, Value>,
    count: usize,
}

impl Memo {
    fn get(&self, k: u64) -> Option<Value> {
        match usize::try_from(k) {
            Ok(i) if i < self.dense.len() => self.dense[i].or_else(|| self.sparse.get(&k).copied()),
            _ => self.sparse.get(&k).copied(),
        }
    }

    fn put(&mut self, k: u64, v: Value) {
        let i = usize::try_from(k).unwrap_or(usize::MAX);
        // The dense part only grows in step with the entries written, so keys that jump ahead cannot make
        // it allocate more than a small multiple of what the pickle really stored.
        if i < self.dense.len() || i < 2 * self.count + 1024 {
            if i >= self.dense.len() {
                self.dense.resize(i + 1, None);
            }
            if self.dense[i].replace(v).is_none() {
                self.count += 1;
            }
        } else if self.sparse.insert(k, v).is_none() {
            self.count += 1;
        }
    }
}

/// One pickle being interpreted.
pub(crate) struct Vm<'o> {
    opts: &'o PickleOptions,
    table: &'static ImportTable,
    arena: Arena,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Memo,
    imports: Vec<ImportRec<'static>>,
    names: Vec<String>,
    import_index: HashMap<(String, String), u32>,
    findings: Vec<ModelFinding>,
    mutated: Vec<bool>,
    misc_shown: usize,
    misc_more: u64,
    nested: Vec<(NodeId, NestedRequest)>,
    nested_index: HashMap<NodeId, usize>,
    speculative: usize,
    protocol: u8,
    ops: u64,
    depth: usize,
    joblib_mode: bool,
    joblib_seen: bool,
    sniff: bool,
    first_value_magic: bool,
    scratch: Vec<u8>,
    child_ops: u64,
}

impl<'o> Vm<'o> {
    pub fn new(opts: &'o PickleOptions, depth: usize, joblib_mode: bool, sniff: bool) -> Vm<'o> {
        Vm {
            opts,
            table: ImportTable::builtin(),
            arena: Arena::new(opts.max_nodes, opts.max_retained_bytes),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Memo::default(),
            imports: Vec::new(),
            names: Vec::new(),
            import_index: HashMap::new(),
            findings: Vec::new(),
            mutated: Vec::new(),
            misc_shown: 0,
            misc_more: 0,
            nested: Vec::new(),
            nested_index: HashMap::new(),
            speculative: 0,
            protocol: 0,
            ops: 0,
            depth,
            joblib_mode,
            joblib_seen: false,
            sniff,
            first_value_magic: false,
            scratch: Vec::new(),
            child_ops: 0,
        }
    }

    /// Interprets one pickle from `src`'s position to its STOP (or the first error) and reports.
    pub fn run<S: Source>(mut self, src: &mut S) -> io::Result<PickleScan> {
        let start = src.pos();
        let result = self.exec(src);
        let end = src.pos();
        let stop = match result {
            Ok(()) => None,
            Err(Stop::Io(e)) => return Err(e),
            Err(s) => Some(s),
        };
        Ok(self.finish(stop, start, end))
    }

    // ---- reading helpers -------------------------------------------------------------------------

    fn u8<S: Source>(src: &mut S, at: u64) -> Result<u8, Stop> {
        match src.byte() {
            Ok(Some(b)) => Ok(b),
            Ok(None) => Err(Stop::Truncated(
                at,
                "the input ends inside an opcode's argument".into(),
            )),
            Err(e) => Err(io_stop(e, at)),
        }
    }

    fn array<S: Source, const N: usize>(src: &mut S, at: u64) -> Result<[u8; N], Stop> {
        let mut a = [0u8; N];
        for b in &mut a {
            *b = Self::u8(src, at)?;
        }
        Ok(a)
    }

    /// Reads a length-prefixed payload: checks the claim against what remains before reading, keeps the
    /// head in the pool and skips the rest.
    fn blob<S: Source>(&mut self, src: &mut S, n: u64, at: u64) -> Result<Blob, Stop> {
        let left = src.remaining();
        if n > left {
            return Err(Stop::Truncated(
                at,
                format!("a length field claims {n} bytes but only {left} remain"),
            ));
        }
        let start = src.pos();
        let keep = self.arena.head_room(n, HEAD_KEEP);
        let off = self.arena.pool_len();
        src.fill(keep, self.arena.pool_mut())
            .map_err(|e| io_stop(e, at))?;
        src.skip(n - keep as u64).map_err(|e| io_stop(e, at))?;
        Ok(Blob {
            off,
            head: keep,
            len: n,
            src: Some(start),
        })
    }

    /// Reads a `\n`-terminated argument into `scratch`; returns whether it was kept whole.
    fn line<S: Source>(&mut self, src: &mut S, at: u64, keep: usize) -> Result<bool, Stop> {
        self.scratch.clear();
        match src.line(keep, &mut self.scratch) {
            Ok(Some(n)) => Ok(n as usize == self.scratch.len()),
            Ok(None) => Err(Stop::Truncated(
                at,
                "the input ends before the end of a text argument".into(),
            )),
            Err(e) => Err(io_stop(e, at)),
        }
    }

    // ---- stack helpers ---------------------------------------------------------------------------

    fn base(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, v: Value, at: u64) -> Result<(), Stop> {
        if self.stack.len() >= self.opts.max_stack {
            return Err(Stop::Limit(
                at,
                format!("stack grew past {} items", self.opts.max_stack),
            ));
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self, at: u64) -> Result<Value, Stop> {
        if self.stack.len() <= self.base() {
            return Err(malformed(at, "stack underflow"));
        }
        self.stack
            .pop()
            .ok_or_else(|| malformed(at, "stack underflow"))
    }

    fn top(&self, at: u64) -> Result<Value, Stop> {
        if self.stack.len() <= self.base() {
            return Err(malformed(at, "stack underflow"));
        }
        self.stack
            .last()
            .copied()
            .ok_or_else(|| malformed(at, "stack underflow"))
    }

    fn pop_mark(&mut self, at: u64) -> Result<Vec<Value>, Stop> {
        let Some(base) = self.marks.pop() else {
            return Err(malformed(at, "an opcode needs a MARK but none is open"));
        };
        Ok(self.stack.split_off(base.min(self.stack.len())))
    }

    fn seq(&mut self, kind: SeqKind, items: Vec<Value>) -> Value {
        let total = items.len() as u64;
        let total = if kind == SeqKind::Dict {
            total / 2
        } else {
            total
        };
        let mut items = items;
        items.truncate(SEQ_KEEP);
        self.arena.push(Node::Seq { kind, items, total })
    }

    fn extend(&mut self, target: Value, new: &[Value], at: u64, what: &str) {
        if let Some(Node::Global(i)) = self.arena.node(target) {
            let i = *i;
            self.global_mutation(i, at, what);
            return;
        }
        if let Some(Node::Seq { items, total, kind }) = self.arena.node_mut(target) {
            let pairs = *kind == SeqKind::Dict;
            let room = SEQ_KEEP.saturating_sub(items.len());
            items.extend(new.iter().take(room));
            *total += if pairs {
                new.len() as u64 / 2
            } else {
                new.len() as u64
            };
        }
    }

    // ---- findings --------------------------------------------------------------------------------

    fn finding(
        &mut self,
        rule: &'static str,
        severity: Severity,
        at: u64,
        import: Option<String>,
        text: String,
    ) {
        self.findings.push(ModelFinding {
            rule,
            severity,
            offset: at,
            member: None,
            import,
            explanation: text,
        });
    }

    fn misc_finding(
        &mut self,
        rule: &'static str,
        severity: Severity,
        at: u64,
        import: Option<String>,
        text: String,
    ) {
        if self.misc_shown >= MISC_SHOWN {
            self.misc_more += 1;
            return;
        }
        self.misc_shown += 1;
        self.finding(rule, severity, at, import, text);
    }

    fn global_mutation(&mut self, idx: u32, at: u64, what: &str) {
        let i = idx as usize;
        if self.mutated.get(i).copied().unwrap_or(true) {
            return;
        }
        self.mutated[i] = true;
        let name = self.names[i].clone();
        self.misc_finding(
            rules::GLOBAL_MUTATION,
            Severity::High,
            at,
            Some(name.clone()),
            format!(
                "{what} changes the imported object {name} itself, not an instance: a pickle can \
                 overwrite module or class attributes this way"
            ),
        );
    }

    // ---- imports and calls -----------------------------------------------------------------------

    fn import(&mut self, module: &str, name: &str, at: u64) -> Result<Value, Stop> {
        if self.sniff && !(is_dotted_identifier(module) && is_dotted_identifier(name)) {
            return Err(malformed(
                at,
                "import of something that is not a Python name",
            ));
        }
        if let Some(&i) = self.import_index.get(&(module.to_owned(), name.to_owned())) {
            return Ok(self.imports[i as usize].node);
        }
        if self.imports.len() >= MAX_IMPORTS {
            return Err(Stop::Limit(
                at,
                format!("more than {MAX_IMPORTS} distinct imports"),
            ));
        }
        let c = self.table.classify(module, name);
        let idx = self.imports.len() as u32;
        // Imports bypass the node budget: they are what the scan is for, and each costs input bytes.
        let node = self.arena.push_always(Node::Global(idx));
        self.imports.push(ImportRec {
            module: module.to_owned(),
            name: name.to_owned(),
            offset: at,
            class: c.class,
            reason: c.reason,
            nested: c.nested,
            node,
            calls: Vec::new(),
            more_calls: 0,
        });
        self.names.push(format!("{module}.{name}"));
        self.mutated.push(false);
        self.import_index
            .insert((module.to_owned(), name.to_owned()), idx);
        Ok(node)
    }

    /// The import a callable comes from: directly (`Global`), or through the result of another call
    /// (`getattr(x, 'system')(...)`), in which case `direct` is false.
    fn root_import(&self, mut func: Value) -> Option<(u32, bool)> {
        let mut direct = true;
        for _ in 0..64 {
            match self.arena.node(func)? {
                Node::Global(i) => return Some((*i, direct)),
                Node::Call(c) => {
                    func = c.func;
                    direct = false;
                }
                _ => return None,
            }
        }
        None
    }

    fn call(
        &mut self,
        func: Value,
        args: Value,
        kwargs: Value,
        kind: CallKind,
        at: u64,
    ) -> Result<Value, Stop> {
        let v = self.arena.push(Node::Call(Box::new(Call {
            func,
            args,
            kwargs,
            state: Value::None,
        })));
        match self.root_import(func) {
            Some((i, direct)) => {
                let rec = &self.imports[i as usize];
                let (class, nested) = (rec.class, rec.nested);
                if class != ImportClass::Safe {
                    if rec.calls.len() < CALLS_SHOWN {
                        let chain = self.render_call(v, func, args);
                        self.imports[i as usize].calls.push(CallRec {
                            offset: at,
                            kind,
                            chain,
                        });
                    } else {
                        self.imports[i as usize].more_calls += 1;
                    }
                } else if !direct {
                    let chain = self.render_call(v, func, args);
                    self.misc_finding(
                        rules::INDIRECT_CALL,
                        Severity::Medium,
                        at,
                        Some(self.names[i as usize].clone()),
                        format!(
                            "{} calls the result of another call: {chain}; real checkpoints only call \
                             imported functions and classes",
                            kind.opcode()
                        ),
                    );
                }
                if nested && direct {
                    let loader = self.names[i as usize].clone();
                    self.nested_argument(args, loader, at);
                }
            }
            None => {
                if !matches!(self.arena.node(func), Some(Node::Ext(_))) && func != Value::Elided {
                    let chain = self.render_call(v, func, args);
                    self.misc_finding(
                        rules::INDIRECT_CALL,
                        Severity::Medium,
                        at,
                        None,
                        format!(
                            "{} calls something that is not an import: {chain}; loading fails or runs a \
                             callable the file does not name",
                            kind.opcode()
                        ),
                    );
                }
            }
        }
        Ok(v)
    }

    fn render_call(&self, call: Value, func: Value, args: Value) -> String {
        if call != Value::Elided {
            return render(&self.arena, &self.names, call);
        }
        format!(
            "{}(*{})",
            render(&self.arena, &self.names, func),
            render(&self.arena, &self.names, args)
        )
    }

    /// Queues the first argument of a loader that deserialises its argument (`pickle.loads`,
    /// `torch.storage._load_from_bytes`) for a recursive scan.
    fn nested_argument(&mut self, args: Value, loader: String, at: u64) {
        let first = match self.arena.items(args) {
            Some((SeqKind::Tuple | SeqKind::List, items)) => items.first().copied(),
            _ => None,
        };
        let Some(Value::Node(id)) = first else {
            return;
        };
        if self.arena.blob_of(Value::Node(id)).is_none() {
            return;
        }
        match self.nested_index.get(&id) {
            Some(&k) => {
                let req = &mut self.nested[k].1;
                if req.speculative {
                    req.speculative = false;
                    req.loader = Some(loader);
                    req.at = at;
                }
            }
            None => {
                self.nested_index.insert(id, self.nested.len());
                self.nested.push((
                    id,
                    NestedRequest {
                        data: NestedData::Unavailable { len: 0 },
                        loader: Some(loader),
                        at,
                        speculative: false,
                    },
                ));
            }
        }
    }

    /// Bytes that start like a pickle (`\x80` and a protocol number) are scanned too, in case some later
    /// code unpickles them; only what that scan finds beyond "malformed" is reported.
    fn maybe_speculative(&mut self, v: Value, blob: &Blob, at: u64) {
        let head = self.arena.bytes(blob);
        if blob.len < 4 || head.len() < 2 || head[0] != op::PROTO || !(2..=5).contains(&head[1]) {
            return;
        }
        let Value::Node(id) = v else { return };
        if self.speculative >= MAX_SPECULATIVE || self.nested_index.contains_key(&id) {
            return;
        }
        self.speculative += 1;
        self.nested_index.insert(id, self.nested.len());
        self.nested.push((
            id,
            NestedRequest {
                data: NestedData::Unavailable { len: 0 },
                loader: None,
                at,
                speculative: true,
            },
        ));
    }

    fn push_blob<S: Source>(
        &mut self,
        src: &mut S,
        n: u64,
        at: u64,
        kind: BlobKind,
    ) -> Result<(), Stop> {
        let blob = self.blob(src, n, at)?;
        let node = match kind {
            BlobKind::Str => {
                if blob.complete() && std::str::from_utf8(self.arena.bytes(&blob)).is_err() {
                    return Err(malformed(
                        at,
                        "a unicode string argument is not valid UTF-8",
                    ));
                }
                Node::Str(blob)
            }
            BlobKind::PyBytes => Node::Str(blob),
            BlobKind::Bytes => Node::Bytes(blob),
            BlobKind::ByteArray => Node::ByteArray(blob),
        };
        let v = self.arena.push(node);
        if matches!(
            kind,
            BlobKind::Bytes | BlobKind::ByteArray | BlobKind::PyBytes
        ) {
            self.maybe_speculative(v, &blob, at);
        }
        self.push(v, at)
    }

    fn text_blob(&mut self, bytes: &[u8], complete: bool, len: u64) -> Value {
        let mut b = self.arena.blob_from(bytes, None);
        if !complete {
            b.len = len.max(b.head as u64 + 1);
        }
        self.arena.push(Node::Str(b))
    }

    // ---- the interpreter -------------------------------------------------------------------------

    fn exec<S: Source>(&mut self, src: &mut S) -> Result<(), Stop> {
        loop {
            let at = src.pos();
            if self.ops + self.child_ops >= self.opts.max_ops {
                return Err(Stop::Limit(
                    at,
                    format!(
                        "more than {} opcodes (a pickle bomb, or a limit set too low)",
                        self.opts.max_ops
                    ),
                ));
            }
            self.ops += 1;
            let code = match src.byte() {
                Ok(Some(b)) => b,
                Ok(None) => {
                    return Err(Stop::Truncated(
                        at,
                        "the input ends before the STOP opcode".into(),
                    ));
                }
                Err(e) => return Err(io_stop(e, at)),
            };
            match code {
                op::PROTO => {
                    let p = Self::u8(src, at)?;
                    if p > 5 {
                        return Err(malformed(at, format!("unsupported protocol {p}")));
                    }
                    self.protocol = p;
                }
                op::FRAME => {
                    let n = u64::from_le_bytes(Self::array::<S, 8>(src, at)?);
                    if n > src.remaining() {
                        return Err(Stop::Truncated(
                            at,
                            format!(
                                "a FRAME claims {n} bytes but only {} remain",
                                src.remaining()
                            ),
                        ));
                    }
                }
                op::STOP => {
                    let v = self.pop(at)?;
                    self.first_value_magic = self.is_torch_magic(v);
                    return Ok(());
                }
                op::MARK => {
                    if self.marks.len() >= self.opts.max_marks {
                        return Err(Stop::Limit(
                            at,
                            format!("more than {} open MARKs", self.opts.max_marks),
                        ));
                    }
                    self.marks.push(self.stack.len());
                }
                op::POP => {
                    if self.stack.len() > self.base() {
                        self.stack.pop();
                    } else {
                        self.pop_mark(at)?;
                    }
                }
                op::POP_MARK => {
                    self.pop_mark(at)?;
                }
                op::DUP => {
                    let v = self.top(at)?;
                    self.push(v, at)?;
                }
                op::NONE => self.push(Value::None, at)?,
                op::NEWTRUE => self.push(Value::Bool(true), at)?,
                op::NEWFALSE => self.push(Value::Bool(false), at)?,
                op::BININT => {
                    let v = i32::from_le_bytes(Self::array::<S, 4>(src, at)?);
                    self.push(Value::Int(v.into()), at)?;
                }
                op::BININT1 => {
                    let v = Self::u8(src, at)?;
                    self.push(Value::Int(v.into()), at)?;
                }
                op::BININT2 => {
                    let v = u16::from_le_bytes(Self::array::<S, 2>(src, at)?);
                    self.push(Value::Int(v.into()), at)?;
                }
                op::INT | op::LONG => {
                    let complete = self.line(src, at, 4096)?;
                    let v = self.text_int(code, complete, at)?;
                    self.push(v, at)?;
                }
                op::LONG1 | op::LONG4 => {
                    let n = if code == op::LONG1 {
                        u64::from(Self::u8(src, at)?)
                    } else {
                        let n = i32::from_le_bytes(Self::array::<S, 4>(src, at)?);
                        u64::try_from(n)
                            .map_err(|_| malformed(at, "LONG4 with a negative length"))?
                    };
                    let blob = self.blob(src, n, at)?;
                    let v = if n <= 8 && blob.complete() {
                        let le = self.arena.bytes(&blob);
                        let mut buf = if le.last().is_some_and(|&b| b & 0x80 != 0) {
                            [0xff; 8]
                        } else {
                            [0; 8]
                        };
                        buf[..le.len()].copy_from_slice(le);
                        Value::Int(i64::from_le_bytes(buf))
                    } else {
                        self.arena.push(Node::BigInt(blob))
                    };
                    self.push(v, at)?;
                }
                op::FLOAT => {
                    self.line(src, at, 256)?;
                    let text = String::from_utf8_lossy(&self.scratch);
                    let f: f64 = text
                        .trim()
                        .replace('_', "")
                        .parse()
                        .map_err(|_| malformed(at, "FLOAT argument is not a number"))?;
                    self.push(Value::Float(f), at)?;
                }
                op::BINFLOAT => {
                    let f = f64::from_be_bytes(Self::array::<S, 8>(src, at)?);
                    self.push(Value::Float(f), at)?;
                }
                op::STRING => {
                    let complete = self.line(src, at, HEAD_KEEP)?;
                    let len = self.scratch.len() as u64;
                    let raw = std::mem::take(&mut self.scratch);
                    let inner = strip_quotes(&raw, complete).ok_or_else(|| {
                        malformed(at, "the STRING opcode's argument must be quoted")
                    })?;
                    let decoded = escape_decode(inner).map_err(|m| malformed(at, m))?;
                    let v = self.text_blob(&decoded, complete, len);
                    self.scratch = raw;
                    if let Some(blob) = self.arena.blob_of(v) {
                        self.maybe_speculative(v, &blob, at);
                    }
                    self.push(v, at)?;
                }
                op::UNICODE => {
                    let complete = self.line(src, at, HEAD_KEEP)?;
                    let len = self.scratch.len() as u64;
                    let decoded = raw_unicode_escape(&self.scratch, complete)
                        .map_err(|m| malformed(at, m))?;
                    let v = self.text_blob(decoded.as_bytes(), complete, len);
                    self.push(v, at)?;
                }
                op::BINSTRING => {
                    let n = i32::from_le_bytes(Self::array::<S, 4>(src, at)?);
                    let n = u64::try_from(n)
                        .map_err(|_| malformed(at, "BINSTRING with a negative length"))?;
                    self.push_blob(src, n, at, BlobKind::PyBytes)?;
                }
                op::SHORT_BINSTRING => {
                    let n = Self::u8(src, at)?;
                    self.push_blob(src, n.into(), at, BlobKind::PyBytes)?;
                }
                op::BINUNICODE => {
                    let n = u32::from_le_bytes(Self::array::<S, 4>(src, at)?);
                    self.push_blob(src, n.into(), at, BlobKind::Str)?;
                }
                op::SHORT_BINUNICODE => {
                    let n = Self::u8(src, at)?;
                    self.push_blob(src, n.into(), at, BlobKind::Str)?;
                }
                op::BINUNICODE8 => {
                    let n = u64::from_le_bytes(Self::array::<S, 8>(src, at)?);
                    self.push_blob(src, n, at, BlobKind::Str)?;
                }
                op::BINBYTES => {
                    let n = u32::from_le_bytes(Self::array::<S, 4>(src, at)?);
                    self.push_blob(src, n.into(), at, BlobKind::Bytes)?;
                }
                op::SHORT_BINBYTES => {
                    let n = Self::u8(src, at)?;
                    self.push_blob(src, n.into(), at, BlobKind::Bytes)?;
                }
                op::BINBYTES8 => {
                    let n = u64::from_le_bytes(Self::array::<S, 8>(src, at)?);
                    self.push_blob(src, n, at, BlobKind::Bytes)?;
                }
                op::BYTEARRAY8 => {
                    let n = u64::from_le_bytes(Self::array::<S, 8>(src, at)?);
                    self.push_blob(src, n, at, BlobKind::ByteArray)?;
                }
                op::NEXT_BUFFER => {
                    // Only `pickle.loads(data, buffers=...)` supplies these; analysis goes on as if it did.
                    let v = self.arena.push(Node::Buffer);
                    self.push(v, at)?;
                }
                op::READONLY_BUFFER => {
                    self.top(at)?;
                }
                op::EMPTY_TUPLE => {
                    let v = self.seq(SeqKind::Tuple, Vec::new());
                    self.push(v, at)?;
                }
                op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                    let n = usize::from(code - op::TUPLE1 + 1);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop(at)?);
                    }
                    items.reverse();
                    let v = self.seq(SeqKind::Tuple, items);
                    self.push(v, at)?;
                }
                op::TUPLE => {
                    let items = self.pop_mark(at)?;
                    let v = self.seq(SeqKind::Tuple, items);
                    self.push(v, at)?;
                }
                op::EMPTY_LIST => {
                    let v = self.seq(SeqKind::List, Vec::new());
                    self.push(v, at)?;
                }
                op::LIST => {
                    let items = self.pop_mark(at)?;
                    let v = self.seq(SeqKind::List, items);
                    self.push(v, at)?;
                }
                op::EMPTY_DICT => {
                    let v = self.seq(SeqKind::Dict, Vec::new());
                    self.push(v, at)?;
                }
                op::DICT => {
                    let items = self.pop_mark(at)?;
                    if items.len() % 2 != 0 {
                        return Err(malformed(at, "DICT with an odd number of items"));
                    }
                    let v = self.seq(SeqKind::Dict, items);
                    self.push(v, at)?;
                }
                op::EMPTY_SET => {
                    let v = self.seq(SeqKind::Set, Vec::new());
                    self.push(v, at)?;
                }
                op::FROZENSET => {
                    let items = self.pop_mark(at)?;
                    let v = self.seq(SeqKind::FrozenSet, items);
                    self.push(v, at)?;
                }
                op::APPEND => {
                    let v = self.pop(at)?;
                    let target = self.top(at)?;
                    self.extend(target, &[v], at, "APPEND");
                }
                op::APPENDS => {
                    let items = self.pop_mark(at)?;
                    let target = self.top(at)?;
                    self.extend(target, &items, at, "APPENDS");
                }
                op::SETITEM => {
                    let v = self.pop(at)?;
                    let k = self.pop(at)?;
                    let target = self.top(at)?;
                    self.extend(target, &[k, v], at, "SETITEM");
                }
                op::SETITEMS => {
                    let items = self.pop_mark(at)?;
                    if items.len() % 2 != 0 {
                        return Err(malformed(at, "SETITEMS with an odd number of items"));
                    }
                    let target = self.top(at)?;
                    self.extend(target, &items, at, "SETITEMS");
                }
                op::ADDITEMS => {
                    let items = self.pop_mark(at)?;
                    let target = self.top(at)?;
                    self.extend(target, &items, at, "ADDITEMS");
                }
                op::GLOBAL => {
                    let (module, name) = self.two_lines(src, at)?;
                    let v = self.import(&module, &name, at)?;
                    self.push(v, at)?;
                }
                op::STACK_GLOBAL => {
                    let name = self.pop(at)?;
                    let module = self.pop(at)?;
                    let (Some(m), Some(n)) = (self.name_of(module), self.name_of(name)) else {
                        if module == Value::Elided || name == Value::Elided {
                            return Err(Stop::Limit(
                                at,
                                "STACK_GLOBAL names were dropped when the node budget ran out"
                                    .into(),
                            ));
                        }
                        return Err(malformed(at, "STACK_GLOBAL needs two strings"));
                    };
                    let v = self.import(&m, &n, at)?;
                    self.push(v, at)?;
                }
                op::INST => {
                    let (module, name) = self.two_lines(src, at)?;
                    let cls = self.import(&module, &name, at)?;
                    let items = self.pop_mark(at)?;
                    let args = self.seq(SeqKind::Tuple, items);
                    let v = self.call(cls, args, Value::None, CallKind::Inst, at)?;
                    self.push(v, at)?;
                }
                op::OBJ => {
                    let mut items = self.pop_mark(at)?;
                    if items.is_empty() {
                        return Err(malformed(at, "OBJ with no class"));
                    }
                    let cls = items.remove(0);
                    let args = self.seq(SeqKind::Tuple, items);
                    let v = self.call(cls, args, Value::None, CallKind::Obj, at)?;
                    self.push(v, at)?;
                }
                op::REDUCE => {
                    let args = self.pop(at)?;
                    let func = self.pop(at)?;
                    let v = self.call(func, args, Value::None, CallKind::Reduce, at)?;
                    self.push(v, at)?;
                }
                op::NEWOBJ => {
                    let args = self.pop(at)?;
                    let cls = self.pop(at)?;
                    let v = self.call(cls, args, Value::None, CallKind::NewObj, at)?;
                    self.push(v, at)?;
                }
                op::NEWOBJ_EX => {
                    let kwargs = self.pop(at)?;
                    let args = self.pop(at)?;
                    let cls = self.pop(at)?;
                    let v = self.call(cls, args, kwargs, CallKind::NewObjEx, at)?;
                    self.push(v, at)?;
                }
                op::BUILD => {
                    let state = self.pop(at)?;
                    let inst = self.top(at)?;
                    self.build(src, inst, state, at)?;
                }
                op::PERSID => {
                    self.line(src, at, 4096)?;
                    let text = self.scratch.clone();
                    let pid = self.text_blob(&text, true, text.len() as u64);
                    let v = self.arena.push(Node::PersId(pid));
                    self.push(v, at)?;
                }
                op::BINPERSID => {
                    let pid = self.pop(at)?;
                    let v = self.arena.push(Node::PersId(pid));
                    self.push(v, at)?;
                }
                op::GET | op::BINGET | op::LONG_BINGET => {
                    let key = match code {
                        op::GET => self.text_key(src, at)?,
                        op::BINGET => u64::from(Self::u8(src, at)?),
                        _ => u64::from(u32::from_le_bytes(Self::array::<S, 4>(src, at)?)),
                    };
                    let v = self.memo.get(key).ok_or_else(|| {
                        malformed(at, format!("memo key {key} is read before it is written"))
                    })?;
                    self.push(v, at)?;
                }
                op::PUT | op::BINPUT | op::LONG_BINPUT | op::MEMOIZE => {
                    let key = match code {
                        op::PUT => self.text_key(src, at)?,
                        op::BINPUT => u64::from(Self::u8(src, at)?),
                        op::LONG_BINPUT => {
                            u64::from(u32::from_le_bytes(Self::array::<S, 4>(src, at)?))
                        }
                        _ => self.memo.count as u64,
                    };
                    let v = self.top(at)?;
                    if self.memo.count >= self.opts.max_memo {
                        return Err(Stop::Limit(
                            at,
                            format!("more than {} memo entries", self.opts.max_memo),
                        ));
                    }
                    self.memo.put(key, v);
                }
                op::EXT1 | op::EXT2 | op::EXT4 => {
                    let ext = match code {
                        op::EXT1 => u32::from(Self::u8(src, at)?),
                        op::EXT2 => u32::from(u16::from_le_bytes(Self::array::<S, 2>(src, at)?)),
                        _ => {
                            let c = i32::from_le_bytes(Self::array::<S, 4>(src, at)?);
                            u32::try_from(c)
                                .map_err(|_| malformed(at, "EXT4 with a negative code"))?
                        }
                    };
                    if ext == 0 {
                        return Err(malformed(at, "extension code 0 is invalid"));
                    }
                    self.misc_finding(
                        rules::EXTENSION_CODE,
                        Severity::Medium,
                        at,
                        None,
                        format!(
                            "EXT opcode with extension code {ext}: the callable comes from the loading \
                             process's copyreg extension registry, so the file does not say what it imports"
                        ),
                    );
                    let v = self.arena.push(Node::Ext(ext));
                    self.push(v, at)?;
                }
                other => {
                    return Err(malformed(at, format!("unknown opcode 0x{other:02x}")));
                }
            }
        }
    }

    fn is_torch_magic(&self, v: Value) -> bool {
        match self.arena.node(v) {
            Some(Node::BigInt(b)) => b.complete() && self.arena.bytes(b) == TORCH_MAGIC_LE,
            _ => false,
        }
    }

    fn two_lines<S: Source>(&mut self, src: &mut S, at: u64) -> Result<(String, String), Stop> {
        let mut parts = [String::new(), String::new()];
        for part in &mut parts {
            let complete = self.line(src, at, NAME_KEEP)?;
            let mut s = std::str::from_utf8(&self.scratch)
                .map_err(|_| malformed(at, "an import name is not valid UTF-8"))?
                .to_owned();
            if !complete {
                s.push('…');
            }
            *part = s;
        }
        let [m, n] = parts;
        Ok((m, n))
    }

    fn name_of(&self, v: Value) -> Option<String> {
        let (bytes, complete) = self.arena.str_of(v)?;
        let mut s = String::from_utf8_lossy(bytes).into_owned();
        if !complete {
            s.push('…');
        }
        Some(s)
    }

    fn text_key<S: Source>(&mut self, src: &mut S, at: u64) -> Result<u64, Stop> {
        self.line(src, at, 64)?;
        let text = String::from_utf8_lossy(&self.scratch);
        text.trim()
            .parse::<u64>()
            .map_err(|_| malformed(at, "memo key is not a non-negative integer"))
    }

    fn text_int(&mut self, code: u8, complete: bool, at: u64) -> Result<Value, Stop> {
        let raw = String::from_utf8_lossy(&self.scratch).into_owned();
        let mut t = raw.trim();
        if code == op::INT {
            match t {
                "00" => return Ok(Value::Bool(false)),
                "01" => return Ok(Value::Bool(true)),
                _ => {}
            }
        } else {
            t = t.strip_suffix('L').unwrap_or(t);
        }
        let (neg, digits) = match t.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (radix, digits) = match digits.get(..2) {
            Some("0x" | "0X") => (16, &digits[2..]),
            Some("0o" | "0O") => (8, &digits[2..]),
            Some("0b" | "0B") => (2, &digits[2..]),
            _ => (10, digits),
        };
        let clean: String = digits.chars().filter(|&c| c != '_').collect();
        if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
            return Err(malformed(at, "INT/LONG argument is not an integer"));
        }
        match i64::from_str_radix(&clean, radix) {
            Ok(v) if complete => Ok(Value::Int(if neg { v.wrapping_neg() } else { v })),
            _ => {
                let b = self.arena.blob_from(t.as_bytes(), None);
                Ok(self.arena.push(Node::BigText(b)))
            }
        }
    }

    // ---- BUILD and joblib ------------------------------------------------------------------------

    fn build<S: Source>(
        &mut self,
        src: &mut S,
        inst: Value,
        state: Value,
        at: u64,
    ) -> Result<(), Stop> {
        if let Some(Node::Global(i)) = self.arena.node(inst) {
            let i = *i;
            self.global_mutation(i, at, "BUILD");
            return Ok(());
        }
        let wrapper = self.is_joblib_wrapper(inst);
        if let Some(Node::Call(c)) = self.arena.node_mut(inst) {
            c.state = state;
        }
        if wrapper {
            self.joblib_seen = true;
            if self.joblib_mode {
                self.joblib_array(src, state, at)?;
            }
        }
        Ok(())
    }

    fn is_joblib_wrapper(&self, inst: Value) -> bool {
        let Some(Node::Call(c)) = self.arena.node(inst) else {
            return false;
        };
        let is_wrapper = |v: Value| match self.arena.node(v) {
            Some(Node::Global(i)) => matches!(
                self.names[*i as usize].as_str(),
                "joblib.numpy_pickle.NumpyArrayWrapper"
                    | "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper"
            ),
            _ => false,
        };
        if is_wrapper(c.func) {
            return true;
        }
        // Protocols 0 and 1: copyreg._reconstructor(NumpyArrayWrapper, object, None).
        matches!(self.arena.node(c.func), Some(Node::Global(i)) if self.names[*i as usize] == "copyreg._reconstructor"
            || self.names[*i as usize] == "copy_reg._reconstructor")
            && self
                .arena
                .items(c.args)
                .and_then(|(_, items)| items.first().copied())
                .is_some_and(is_wrapper)
    }

    /// joblib writes each numpy array's bytes straight after the BUILD of its `NumpyArrayWrapper`
    /// (object arrays as a nested pickle). Skip exactly what joblib's reader consumes, or stop if that
    /// cannot be worked out: guessing would let data hide opcodes.
    fn joblib_array<S: Source>(&mut self, src: &mut S, state: Value, at: u64) -> Result<(), Stop> {
        let bad = |m: &str| malformed(at, format!("joblib array record: {m}"));
        let shape = self
            .arena
            .dict_get(state, "shape")
            .ok_or_else(|| bad("no shape"))?;
        let dtype = self
            .arena
            .dict_get(state, "dtype")
            .ok_or_else(|| bad("no dtype"))?;
        let mut count: u64 = 1;
        match self.arena.node(shape) {
            Some(Node::Seq {
                kind: SeqKind::Tuple | SeqKind::List,
                items,
                total,
            }) => {
                if *total as usize != items.len() {
                    return Err(bad("shape has too many dimensions"));
                }
                for d in items {
                    let Value::Int(d) = *d else {
                        return Err(bad("shape holds a non-integer"));
                    };
                    let d = u64::try_from(d).map_err(|_| bad("negative dimension"))?;
                    count = count.checked_mul(d).ok_or_else(|| bad("shape overflows"))?;
                }
            }
            _ => return Err(bad("shape is not a tuple")),
        }
        let (itemsize, object) = self
            .dtype_info(dtype, 0)
            .ok_or_else(|| bad("unreadable dtype"))?;
        if object {
            // `pickle.dump(array, protocol=2)` inline: interpret it as its own pickle, in place.
            if self.depth + 1 > self.opts.max_depth {
                return Err(Stop::Limit(
                    at,
                    "pickles nested deeper than the depth limit".into(),
                ));
            }
            let child = Vm::new(self.opts, self.depth + 1, true, false);
            let mut child = child;
            child.child_ops = self.ops + self.child_ops;
            let result = child.exec(src);
            let used = child.ops;
            let end = src.pos();
            let stop = match result {
                Ok(()) => None,
                Err(Stop::Io(e)) => return Err(Stop::Io(e)),
                Err(s) => Some(s),
            };
            let failed = stop.is_some();
            let scan = child.finish(stop, at, end);
            self.child_ops += used;
            self.findings.extend(scan.findings);
            self.nested
                .extend(scan.nested.into_iter().map(|r| (NodeId::MAX, r)));
            if failed {
                return Err(malformed(
                    end,
                    "the object array inside a joblib record is not a valid pickle",
                ));
            }
            return Ok(());
        }
        if self
            .arena
            .dict_get(state, "numpy_array_alignment_bytes")
            .is_some_and(|v| v != Value::None)
        {
            let pad = Self::u8(src, at)?;
            if u64::from(pad) > src.remaining() {
                return Err(Stop::Truncated(
                    at,
                    "joblib alignment padding runs past the end".into(),
                ));
            }
            src.skip(pad.into()).map_err(|e| io_stop(e, at))?;
        }
        let nbytes = count
            .checked_mul(itemsize)
            .ok_or_else(|| bad("array size overflows"))?;
        if nbytes > src.remaining() {
            return Err(Stop::Truncated(
                at,
                format!(
                    "a joblib array claims {nbytes} bytes but only {} remain",
                    src.remaining()
                ),
            ));
        }
        src.skip(nbytes).map_err(|e| io_stop(e, at))
    }

    /// Item size and "holds Python objects" for a `numpy.dtype(...)` call node.
    fn dtype_info(&self, v: Value, depth: usize) -> Option<(u64, bool)> {
        if depth > 8 {
            return None;
        }
        let Some(Node::Call(c)) = self.arena.node(v) else {
            return None;
        };
        match self.arena.node(c.func) {
            Some(Node::Global(i)) if self.names[*i as usize] == "numpy.dtype" => {}
            _ => return None,
        }
        let (_, args) = self.arena.items(c.args)?;
        let (code, complete) = self.arena.str_of(*args.first()?)?;
        if !complete || code.is_empty() {
            return None;
        }
        let kind = code[0];
        let digits = std::str::from_utf8(&code[1..]).ok()?;
        let n: u64 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        let mut object = kind == b'O';
        let mut elsize = None;
        if let Some((SeqKind::Tuple, st)) = self.arena.items(c.state) {
            if let Some(Value::Int(e)) = st.get(5)
                && *e > 0
            {
                elsize = Some(*e as u64);
            }
            // Structured dtypes: any field whose dtype holds objects makes the whole array an object array.
            if let Some(fields) = st.get(4) {
                object |= self.any_object_dtype(*fields, depth + 1);
            }
        }
        let size = match (elsize, kind) {
            (Some(e), _) => e,
            (None, b'U') => n.checked_mul(4)?,
            (None, b'O') => 8,
            (None, b'b' | b'i' | b'u' | b'f' | b'c' | b'S' | b'V' | b'M' | b'm' | b'?') => n,
            _ => return None,
        };
        if size == 0 && kind != b'V' && kind != b'S' && kind != b'U' {
            return None;
        }
        Some((size, object))
    }

    fn any_object_dtype(&self, v: Value, depth: usize) -> bool {
        if depth > 8 {
            return false;
        }
        match self.arena.node(v) {
            Some(Node::Seq { items, .. }) => {
                items.iter().any(|&i| self.any_object_dtype(i, depth + 1))
            }
            Some(Node::Call(_)) => self.dtype_info(v, depth + 1).is_some_and(|(_, o)| o),
            _ => false,
        }
    }

    // ---- report ----------------------------------------------------------------------------------

    fn finish(mut self, stop: Option<Stop>, start: u64, end: u64) -> PickleScan {
        let ok = stop.is_none();
        let truncated = matches!(stop, Some(Stop::Truncated(..)));
        match stop {
            None | Some(Stop::Io(_)) => {}
            Some(Stop::Malformed(at, m)) => self.finding(
                rules::MALFORMED,
                Severity::Medium,
                at,
                None,
                format!("malformed pickle: {m}; a loader stops here with an error, after running everything before it"),
            ),
            Some(Stop::Truncated(at, m)) => self.finding(
                rules::MALFORMED,
                Severity::Medium,
                at,
                None,
                format!("truncated pickle: {m}; a loader stops here with an error, after running everything before it"),
            ),
            Some(Stop::Limit(at, m)) => self.finding(
                rules::LIMIT,
                Severity::Medium,
                at,
                None,
                format!("analysis stopped: {m}; the rest of this pickle was not checked"),
            ),
        }
        if self.arena.exhausted {
            self.finding(
                rules::LIMIT,
                Severity::Medium,
                start,
                None,
                format!(
                    "more than {} values: later strings and containers were not tracked, so call \
                     arguments may be shown as <…>",
                    self.opts.max_nodes
                ),
            );
        }
        let more = self.misc_more;
        if more > 0
            && let Some(last) = self.findings.iter_mut().rev().find(|f| {
                matches!(
                    f.rule,
                    rules::INDIRECT_CALL | rules::GLOBAL_MUTATION | rules::EXTENSION_CODE
                )
            })
        {
            last.explanation
                .push_str(&format!(" (and {more} more like this)"));
        }
        let imports = std::mem::take(&mut self.imports);
        for rec in imports {
            let full = format!("{}.{}", rec.module, rec.name);
            match rec.class {
                ImportClass::Safe => {}
                ImportClass::Dangerous if !rec.calls.is_empty() => {
                    let n = rec.calls.len();
                    for (k, c) in rec.calls.into_iter().enumerate() {
                        let verb = match c.kind {
                            CallKind::NewObj | CallKind::NewObjEx => "creates",
                            _ => "calls",
                        };
                        let mut text = format!(
                            "{verb} {} on load ({} at byte {}; imported at byte {}): {}",
                            c.chain,
                            c.kind.opcode(),
                            c.offset,
                            rec.offset,
                            rec.reason
                        );
                        if k + 1 == n && rec.more_calls > 0 {
                            text.push_str(&format!(" (and {} more calls)", rec.more_calls));
                        }
                        self.finding(
                            rules::DANGEROUS_CALL,
                            Severity::Critical,
                            c.offset,
                            Some(full.clone()),
                            text,
                        );
                    }
                }
                ImportClass::Dangerous => {
                    let text = format!(
                        "imports {full} (never called in the pickle, but importing runs module code and \
                         the object may be used by other code): {}",
                        rec.reason
                    );
                    self.finding(
                        rules::DANGEROUS_IMPORT,
                        Severity::High,
                        rec.offset,
                        Some(full),
                        text,
                    );
                }
                ImportClass::Unknown => {
                    let mut text = format!("imports {full}: {}", rec.reason);
                    if let Some(c) = rec.calls.first() {
                        let total = rec.calls.len() as u64 + rec.more_calls;
                        text.push_str(&format!(
                            "; {} {} at byte {}",
                            c.kind.opcode(),
                            c.chain,
                            c.offset
                        ));
                        if total > 1 {
                            text.push_str(&format!(" (called {total} times)"));
                        }
                    }
                    self.finding(
                        rules::UNKNOWN_IMPORT,
                        Severity::Medium,
                        rec.offset,
                        Some(full),
                        text,
                    );
                }
            }
        }
        let mut nested = Vec::with_capacity(self.nested.len());
        for (id, mut req) in std::mem::take(&mut self.nested) {
            if id != NodeId::MAX {
                req.data = self.nested_data(id);
            }
            nested.push(req);
        }
        self.findings.sort_by_key(|f| f.offset);
        PickleScan {
            findings: self.findings,
            nested,
            end,
            ok,
            truncated,
            protocol: self.protocol,
            ops: self.ops + self.child_ops,
            imports: self.names.len(),
            torch_magic: self.first_value_magic,
            joblib: self.joblib_seen,
        }
    }

    fn nested_data(&self, id: NodeId) -> NestedData {
        let Some(blob) = self.arena.blob_of(Value::Node(id)) else {
            return NestedData::Unavailable { len: 0 };
        };
        if blob.complete() {
            NestedData::Bytes {
                data: self.arena.bytes(&blob).to_vec(),
                src: blob.src,
            }
        } else if let Some(start) = blob.src {
            NestedData::Range {
                start,
                len: blob.len,
            }
        } else {
            NestedData::Unavailable { len: blob.len }
        }
    }
}

#[derive(Clone, Copy)]
enum BlobKind {
    /// Unicode text (must be UTF-8).
    Str,
    /// A Python 2 `str` (BINSTRING): bytes that Python 3 decodes to text.
    PyBytes,
    Bytes,
    ByteArray,
}

/// `a.b_c.D`: what `find_class` could possibly import.
fn is_dotted_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

/// The quoted body of a protocol 0 STRING argument.
fn strip_quotes(raw: &[u8], complete: bool) -> Option<&[u8]> {
    let q = *raw.first()?;
    if q != b'\'' && q != b'"' {
        return None;
    }
    if !complete {
        return Some(&raw[1..]);
    }
    if raw.len() >= 2 && raw[raw.len() - 1] == q {
        Some(&raw[1..raw.len() - 1])
    } else {
        None
    }
}

/// Python's `codecs.escape_decode`, as the STRING opcode applies it.
fn escape_decode(s: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err("a STRING argument ends with a lone backslash");
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let hex = s
                    .get(i..i + 2)
                    .ok_or("invalid \\x escape in a STRING argument")?;
                let v = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("invalid \\x escape in a STRING argument")?;
                out.push(v);
                i += 2;
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Python's `raw-unicode-escape` decoding, as the UNICODE opcode applies it.
fn raw_unicode_escape(s: &[u8], complete: bool) -> Result<String, &'static str> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'\\' && matches!(s.get(i + 1), Some(b'u' | b'U')) {
            let width = if s[i + 1] == b'u' { 4 } else { 8 };
            match s.get(i + 2..i + 2 + width) {
                Some(hex) => {
                    let v = std::str::from_utf8(hex)
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .ok_or("invalid \\u escape in a UNICODE argument")?;
                    out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    i += 2 + width;
                    continue;
                }
                None if !complete => break,
                None => return Err("truncated \\u escape in a UNICODE argument"),
            }
        }
        out.push(char::from(c));
        i += 1;
    }
    Ok(out)
}
