//! Classifies what a pickle imports (`GLOBAL`, `STACK_GLOBAL`, `INST`) as safe, unknown or dangerous,
//! from the lists in `imports.toml`.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The lists, embedded at compile time.
pub const IMPORTS_TOML: &str = include_str!("imports.toml");

/// How an import is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImportClass {
    /// Listed as what real checkpoints use.
    Safe,
    /// Listed nowhere: a person should look.
    Unknown,
    /// Runs code, starts processes, touches files or the network when loaded or called.
    Dangerous,
}

/// The verdict on one `(module, name)` pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classification<'t> {
    pub class: ImportClass,
    /// Why, from the list (or a built-in rule for attribute paths).
    pub reason: &'t str,
    /// The callable's first argument is a serialised model to scan recursively.
    pub nested: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    dangerous: Vec<RawEntry>,
    safe: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    module: String,
    names: Vec<String>,
    #[serde(default)]
    submodules: bool,
    #[serde(default)]
    nested: bool,
    reason: String,
}

/// One list entry, after loading.
struct Entry {
    class: ImportClass,
    reason: String,
    nested: bool,
    submodules: bool,
}

/// The loaded lists, indexed for lookup.
pub struct ImportTable {
    entries: Vec<Entry>,
    /// `module\0name` → entries (dangerous first).
    exact: HashMap<String, Vec<usize>>,
    /// `module` → "*" entries (dangerous first).
    wildcard: HashMap<String, Vec<usize>>,
}

/// Errors in the import lists (only ever seen by the list's own test: the lists are embedded).
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("imports.toml: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("imports.toml: entry for module {0:?} has no names")]
    Empty(String),
}

const DUNDER_REASON: &str = "attribute path through a dunder attribute (__globals__, __builtins__, __subclasses__, ...) reaches \
     arbitrary objects";
const PATH_REASON: &str =
    "attribute path below an object (protocol 4 resolves dotted names with getattr)";
const UNKNOWN_REASON: &str = "not on the list of imports that real checkpoints use";

impl ImportTable {
    /// Parses and indexes a list in the `imports.toml` format.
    pub fn parse(text: &str) -> Result<ImportTable, TableError> {
        let file: File = toml::from_str(text)?;
        let mut table = ImportTable {
            entries: Vec::new(),
            exact: HashMap::new(),
            wildcard: HashMap::new(),
        };
        for (class, list) in [
            (ImportClass::Dangerous, file.dangerous),
            (ImportClass::Safe, file.safe),
        ] {
            for raw in list {
                if raw.names.is_empty() {
                    return Err(TableError::Empty(raw.module));
                }
                let idx = table.entries.len();
                table.entries.push(Entry {
                    class,
                    reason: raw.reason,
                    nested: raw.nested,
                    submodules: raw.submodules,
                });
                for name in raw.names {
                    if name == "*" {
                        table
                            .wildcard
                            .entry(raw.module.clone())
                            .or_default()
                            .push(idx);
                    } else {
                        table
                            .exact
                            .entry(format!("{}\0{name}", raw.module))
                            .or_default()
                            .push(idx);
                    }
                }
            }
        }
        Ok(table)
    }

    /// The embedded lists.
    pub fn builtin() -> &'static ImportTable {
        static TABLE: LazyLock<ImportTable> = LazyLock::new(|| {
            ImportTable::parse(IMPORTS_TOML)
                .unwrap_or_else(|e| panic!("the embedded import lists are checked by a test: {e}"))
        });
        &TABLE
    }

    fn make(&self, idx: usize) -> Classification<'_> {
        let e = &self.entries[idx];
        Classification {
            class: e.class,
            reason: &e.reason,
            nested: e.nested,
        }
    }

    /// Classifies `module.name` as the unpickler would resolve it. Python 2 spellings are mapped to their
    /// Python 3 modules and both are judged; the worse result wins.
    pub fn classify(&self, module: &str, name: &str) -> Classification<'_> {
        let direct = self.classify_mapped(module, name);
        match py2_mapping(module, name) {
            Some((m, n)) => {
                // The Python 2 spelling is usually listed nowhere; then the Python 3 module decides.
                let mapped = self.classify_mapped(m, n);
                if direct.class == ImportClass::Unknown || mapped.class > direct.class {
                    mapped
                } else {
                    direct
                }
            }
            None => direct,
        }
    }

    fn classify_mapped(&self, module: &str, name: &str) -> Classification<'_> {
        if let Some(c) = self.exact(module, name) {
            return c;
        }
        if is_dunder(name) {
            // `__dict__`, `__class__`, `__builtins__`...: attribute gadgets, never what a checkpoint imports
            // (the few real ones, like numpy's `__randomstate_ctor`, are listed exactly).
            return Classification {
                class: ImportClass::Dangerous,
                reason: DUNDER_REASON,
                nested: false,
            };
        }
        if name.contains('.') {
            // `find_class` walks dotted names with getattr from protocol 4 on: judge the first attribute,
            // and never trust a path below it unless it is listed exactly.
            if name.split('.').any(|c| c.is_empty() || is_dunder(c)) {
                return Classification {
                    class: ImportClass::Dangerous,
                    reason: DUNDER_REASON,
                    nested: false,
                };
            }
            // A safe class in a dangerous module (pathlib.Path) does not make its methods safe.
            let first = name.split('.').next().unwrap_or(name);
            let base = self.classify_mapped(module, first);
            if base.class == ImportClass::Dangerous {
                return base;
            }
            if let Some(w) = self
                .wildcard(module)
                .filter(|w| w.class == ImportClass::Dangerous)
            {
                return w;
            }
            return Classification {
                class: ImportClass::Unknown,
                reason: PATH_REASON,
                nested: false,
            };
        }
        self.wildcard(module).unwrap_or(Classification {
            class: ImportClass::Unknown,
            reason: UNKNOWN_REASON,
            nested: false,
        })
    }

    /// The "*" entry covering `module`: its own, else the nearest parent's with `submodules = true`.
    fn wildcard(&self, module: &str) -> Option<Classification<'_>> {
        let mut m = module;
        let mut own = true;
        loop {
            if let Some(idxs) = self.wildcard.get(m)
                && let Some(&i) = idxs.iter().find(|&&i| own || self.entries[i].submodules)
            {
                return Some(self.make(i));
            }
            let i = m.rfind('.')?;
            m = &m[..i];
            own = false;
        }
    }

    fn exact(&self, module: &str, name: &str) -> Option<Classification<'_>> {
        let mut key = String::with_capacity(module.len() + name.len() + 1);
        key.push_str(module);
        key.push('\0');
        key.push_str(name);
        self.exact
            .get(&key)
            .and_then(|v| v.first())
            .map(|&i| self.make(i))
    }
}

/// `__name__`-style attribute names.
fn is_dunder(s: &str) -> bool {
    s.len() > 4 && s.starts_with("__") && s.ends_with("__")
}

/// Python 2 module and name spellings that `pickle`'s `fix_imports` rewrites (a subset: the ones that
/// matter for classification).
fn py2_mapping<'a>(module: &'a str, name: &'a str) -> Option<(&'a str, &'a str)> {
    let m = match (module, name) {
        ("__builtin__", "reduce") => return Some(("functools", "reduce")),
        ("__builtin__", "intern") => return Some(("sys", "intern")),
        ("__builtin__", "xrange") => return Some(("builtins", "range")),
        ("__builtin__", "unicode" | "basestring") => return Some(("builtins", "str")),
        ("__builtin__", "long") => return Some(("builtins", "int")),
        ("__builtin__" | "exceptions", _) => "builtins",
        ("copy_reg", _) => "copyreg",
        ("cPickle", _) => "pickle",
        ("Queue", _) => "queue",
        ("SocketServer", _) => "socketserver",
        ("httplib", _) => "http.client",
        ("urllib2", _) => "urllib.request",
        ("thread", _) => "_thread",
        ("StringIO" | "cStringIO", _) => "io",
        ("UserDict" | "UserList" | "UserString", _) => "collections",
        ("commands", _) => "subprocess",
        _ => return None,
    };
    Some((m, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(module: &str, name: &str) -> ImportClass {
        ImportTable::builtin().classify(module, name).class
    }

    #[test]
    fn the_embedded_lists_parse() {
        let t = ImportTable::parse(IMPORTS_TOML).unwrap();
        assert!(t.entries.len() > 50);
    }

    #[test]
    fn dangerous_imports() {
        for (m, n) in [
            ("os", "system"),
            ("os.path", "join"),
            ("posix", "system"),
            ("nt", "system"),
            ("subprocess", "Popen"),
            ("builtins", "exec"),
            ("builtins", "getattr"),
            ("__builtin__", "eval"),
            ("__builtin__", "reduce"),
            ("runpy", "run_path"),
            ("socket", "create_connection"),
            ("webbrowser", "open"),
            ("shutil", "rmtree"),
            ("sys", "modules"),
            ("importlib", "import_module"),
            ("importlib.util", "spec_from_file_location"),
            ("pty", "spawn"),
            ("pickle", "loads"),
            ("_pickle", "loads"),
            ("cPickle", "loads"),
            ("marshal", "loads"),
            ("types", "CodeType"),
            ("ctypes", "CDLL"),
            ("code", "interact"),
            ("commands", "getoutput"),
            ("asyncio.subprocess", "create_subprocess_shell"),
            ("torch", "load"),
            ("numpy", "load"),
            ("numpy.testing._private.utils", "runstring"),
            ("requests", "get"),
            ("urllib.request", "urlopen"),
            ("httplib", "HTTPConnection"),
            ("pathlib", "Path.write_text"),
            ("collections", "OrderedDict.__init__.__globals__"),
            ("builtins", "__dict__"),
            ("torch", "__builtins__"),
        ] {
            assert_eq!(class(m, n), ImportClass::Dangerous, "{m}.{n}");
        }
    }

    #[test]
    fn what_real_checkpoints_use_is_safe() {
        for (m, n) in [
            ("torch._utils", "_rebuild_tensor_v2"),
            ("torch", "FloatStorage"),
            ("torch", "BFloat16Storage"),
            ("collections", "OrderedDict"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy", "dtype"),
            ("sklearn.linear_model._logistic", "LogisticRegression"),
            ("sklearn.ensemble._forest", "RandomForestClassifier"),
            ("torch.nn.modules.linear", "Linear"),
            ("copy_reg", "_reconstructor"),
            ("__builtin__", "set"),
            ("_codecs", "encode"),
            ("pathlib", "PosixPath"),
            ("joblib.numpy_pickle", "NumpyArrayWrapper"),
        ] {
            assert_eq!(class(m, n), ImportClass::Safe, "{m}.{n}");
        }
        assert!(
            ImportTable::builtin()
                .classify("torch.storage", "_load_from_bytes")
                .nested
        );
    }

    #[test]
    fn everything_else_is_unknown() {
        for (m, n) in [
            ("__main__", "Payload"),
            ("functools", "partial"),
            ("torch._utils", "_rebuild_tensor_v2.foo"),
            ("numpy", "frombuffer"),
            ("mymodule", "thing"),
            ("builtins", "print"),
        ] {
            assert_eq!(class(m, n), ImportClass::Unknown, "{m}.{n}");
        }
    }

    #[test]
    fn precedence_exact_then_longest_module_then_dangerous() {
        let t = ImportTable::parse(
            r#"
            [[dangerous]]
            module = "pkg"
            names = ["*"]
            submodules = true
            reason = "d"
            [[safe]]
            module = "pkg.sub"
            names = ["*"]
            reason = "s"
            [[safe]]
            module = "pkg"
            names = ["ok"]
            reason = "exact"
            "#,
        )
        .unwrap();
        assert_eq!(t.classify("pkg", "ok").class, ImportClass::Safe);
        assert_eq!(t.classify("pkg", "other").class, ImportClass::Dangerous);
        assert_eq!(t.classify("pkg.sub", "x").class, ImportClass::Safe);
        assert_eq!(
            t.classify("pkg.sub.deeper", "x").class,
            ImportClass::Dangerous
        );
        assert!(
            ImportTable::parse("[[dangerous]]\nmodule = 'x'\nnames = []\nreason = ''\n[[safe]]")
                .is_err()
        );
    }
}
