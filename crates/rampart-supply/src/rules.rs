//! Stable ids of the model-scan rules raised by the pickle VM, the archive walker and the format sniffer,
//! with the one-line description SARIF output and `docs/model-scan.md` use.

use rampart_core::Severity;

/// One rule: its id, the severity its findings carry, and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    pub description: &'static str,
}

pub const DANGEROUS_CALL: &str = "pickle.dangerous-call";
pub const DANGEROUS_IMPORT: &str = "pickle.dangerous-import";
pub const UNKNOWN_IMPORT: &str = "pickle.unknown-import";
pub const GLOBAL_MUTATION: &str = "pickle.global-mutation";
pub const INDIRECT_CALL: &str = "pickle.indirect-call";
pub const EXTENSION_CODE: &str = "pickle.extension-code";
pub const MALFORMED: &str = "pickle.malformed";
pub const LIMIT: &str = "pickle.limit";
pub const NESTED_UNSCANNED: &str = "pickle.nested-unscanned";
pub const TRAILING_DATA: &str = "pickle.trailing-data";
pub const PATH_TRAVERSAL: &str = "archive.path-traversal";
pub const ZIP_BOMB: &str = "archive.zip-bomb";
pub const ARCHIVE_LIMIT: &str = "archive.limit";
pub const ARCHIVE_MALFORMED: &str = "archive.malformed";
pub const DUPLICATE_ENTRY: &str = "archive.duplicate-entry";
pub const LINK_ENTRY: &str = "archive.link";
pub const ENCRYPTED: &str = "archive.encrypted";
pub const UNSUPPORTED_COMPRESSION: &str = "archive.unsupported-compression";
pub const NUMPY_OBJECT: &str = "numpy.object-array";
pub const NUMPY_MALFORMED: &str = "numpy.malformed";
pub const FORMAT_PARTIAL: &str = "format.partial";

/// Every rule this crate's scanner raises, in documentation order.
pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        id: DANGEROUS_CALL,
        severity: Severity::Critical,
        description: "A pickle calls a dangerous import (os.system, builtins.exec, subprocess, ...) when loaded.",
    },
    RuleInfo {
        id: DANGEROUS_IMPORT,
        severity: Severity::High,
        description: "A pickle imports a dangerous callable or module without calling it in the stream.",
    },
    RuleInfo {
        id: UNKNOWN_IMPORT,
        severity: Severity::Medium,
        description: "A pickle imports something that is on neither the safe nor the dangerous list.",
    },
    RuleInfo {
        id: GLOBAL_MUTATION,
        severity: Severity::High,
        description: "BUILD, SETITEM or APPEND applied to an imported module or class: it overwrites global state.",
    },
    RuleInfo {
        id: INDIRECT_CALL,
        severity: Severity::Medium,
        description: "A pickle calls the result of another call, or something that is not an import.",
    },
    RuleInfo {
        id: EXTENSION_CODE,
        severity: Severity::Medium,
        description: "EXT1/EXT2/EXT4: the callable comes from the loader's copyreg extension registry.",
    },
    RuleInfo {
        id: MALFORMED,
        severity: Severity::Medium,
        description: "The pickle is malformed or truncated; loading fails there after running what came before.",
    },
    RuleInfo {
        id: LIMIT,
        severity: Severity::Medium,
        description: "Analysis stopped at a resource limit (opcodes, stack, memo, depth): a pickle bomb or a huge file.",
    },
    RuleInfo {
        id: NESTED_UNSCANNED,
        severity: Severity::Medium,
        description: "A serialised blob handed to a loader could not be scanned (too large or not contiguous).",
    },
    RuleInfo {
        id: TRAILING_DATA,
        severity: Severity::Info,
        description: "Bytes follow the pickle's STOP opcode.",
    },
    RuleInfo {
        id: PATH_TRAVERSAL,
        severity: Severity::High,
        description: "An archive member's name escapes the extraction folder (`../`, absolute path, drive letter).",
    },
    RuleInfo {
        id: ZIP_BOMB,
        severity: Severity::High,
        description: "An archive expands far beyond its size (compression ratio, total size, overlapping entries).",
    },
    RuleInfo {
        id: ARCHIVE_LIMIT,
        severity: Severity::Medium,
        description: "Archive scanning stopped at a limit (entries, nesting depth, bytes read); the rest was not checked.",
    },
    RuleInfo {
        id: ARCHIVE_MALFORMED,
        severity: Severity::Medium,
        description: "An archive or compressed stream is damaged and could not be read completely.",
    },
    RuleInfo {
        id: DUPLICATE_ENTRY,
        severity: Severity::High,
        description: "A zip holds two members with the same name: readers disagree on which one they load.",
    },
    RuleInfo {
        id: LINK_ENTRY,
        severity: Severity::Medium,
        description: "An archive member is a symbolic or hard link, which can point outside the extraction folder.",
    },
    RuleInfo {
        id: ENCRYPTED,
        severity: Severity::Medium,
        description: "An archive member is encrypted and could not be checked.",
    },
    RuleInfo {
        id: UNSUPPORTED_COMPRESSION,
        severity: Severity::Medium,
        description: "A member or file uses a compression the scanner does not read (bzip2, lzma, xz, zstd, lz4).",
    },
    RuleInfo {
        id: NUMPY_OBJECT,
        severity: Severity::Info,
        description: "A NumPy array of dtype object: its data is a pickle, loaded only with allow_pickle=True.",
    },
    RuleInfo {
        id: NUMPY_MALFORMED,
        severity: Severity::Medium,
        description: "A NumPy .npy header is malformed.",
    },
    RuleInfo {
        id: FORMAT_PARTIAL,
        severity: Severity::Info,
        description: "Only the first part of a very large file was handed to the format's checks.",
    },
];

/// The rule with id `id`, if this crate defines it.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}
