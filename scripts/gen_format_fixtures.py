#!/usr/bin/env python3
"""Writes the model-format test fixtures under crates/rampart-supply/tests/fixtures/formats/.

Every fixture has an entry in expected.json: the format, the verdict `rampart model scan` must reach and the
rule ids it must report (sorted, without repeats). The Rust test `formats::fixtures_test` reads it.

Two kinds of fixtures:
  * written byte by byte here with the standard library only (Keras configs, SavedModel and ONNX protobufs
    encoded by hand, GGUF, safetensors). Running the script again reproduces them exactly; `--check`
    regenerates them into a temporary folder and compares.
  * written with third-party packages so that the readers are tested against files real libraries produce:
    HDF5 files from h5py and ONNX models from the onnx package. They are committed, regenerated only with
    `--with-packages` (install the pinned versions below into a virtual environment first), and skipped by
    `--check`, because HDF5 and protobuf writers are free to change their byte layout between versions.

Usage:
  python3 scripts/gen_format_fixtures.py                  # hand-made fixtures + expected.json
  python3 scripts/gen_format_fixtures.py --with-packages  # also the h5py/onnx fixtures
  python3 scripts/gen_format_fixtures.py --check          # verify the committed hand-made fixtures
"""

from __future__ import annotations

import argparse
import base64
import json
import struct
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "rampart-supply" / "tests" / "fixtures" / "formats"

H5PY = "h5py==3.16.0"
ONNX = "onnx==1.23.2"

# marshal.dumps((lambda x: __import__('os').system('id')).__code__) under CPython 3.11, base64 as Keras
# writes it. Kept literal so the fixtures do not depend on the interpreter running this script.
LAMBDA_MARSHAL_B64 = (
    "4wEAAAAAAAAAAAAAAAMAAAADAAAA80YAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACg\n"
    "AQAAAAAAAAAAAAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAFMAKQNO2gJvc9oCaWQpAtoKX19p\n"
    "bXBvcnRfX9oGc3lzdGVtKQHaAXhzAQAAACD6CDxzdHJpbmc++gg8bGFtYmRhPnIIAAAAAQAAAHMc\n"
    "AAAAgACNKpBU0Qoa1Aoa1woh0gohoCTRCifUCieAAPMAAAAA\n"
)

# A Llama-3-style chat template (system prompt, tools as JSON, tool calls, generation prompt), written
# for these fixtures.
LLAMA3_STYLE_TEMPLATE = (
    "{{- bos_token }}\n"
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content'] | trim %}\n"
    "    {%- set messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set system_message = \"\" %}\n"
    "{%- endif %}\n"
    "{%- if tools is not none %}\n"
    "    {%- set ns = namespace(tool_text='') %}\n"
    "    {%- for t in tools %}{%- set ns.tool_text = ns.tool_text + (t | tojson(indent=4)) + '\\n\\n' %}{%- endfor %}\n"
    "{%- endif %}\n"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}\n"
    "{{- system_message }}\n"
    "{%- if tools is not none %}{{- '\\n\\nYou may call these functions:\\n' + ns.tool_text }}{%- endif %}\n"
    "{{- '<|eot_id|>' }}\n"
    "{%- for message in messages %}\n"
    "    {%- if message.role not in ['user', 'assistant', 'tool'] %}\n"
    "        {{- raise_exception('Unexpected role: ' ~ message.role) }}\n"
    "    {%- endif %}\n"
    "    {%- if message.tool_calls is defined and message.tool_calls %}\n"
    "        {%- for call in message.tool_calls %}\n"
    "            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
    "            {{- '{\"name\": \"' + call.function.name + '\", \"parameters\": ' + (call.function.arguments | tojson) + '}' }}\n"
    "            {{- '<|eot_id|>' }}\n"
    "        {%- endfor %}\n"
    "    {%- else %}\n"
    "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{#- the assistant speaks next -#}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
    "{%- endif %}\n"
)

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


# ---------------------------------------------------------------------------------------------------------
# Keras configs
# ---------------------------------------------------------------------------------------------------------


def keras_layer(cls: str, name: str, config: dict | None = None, module: str = "keras.layers") -> dict:
    return {"module": module, "class_name": cls, "config": {"name": name, **(config or {})}, "registered_name": None}


def keras_model(layers: list[dict], cls: str = "Sequential") -> dict:
    return {
        "module": "keras",
        "class_name": cls,
        "config": {"name": "model", "trainable": True, "layers": layers},
        "registered_name": None,
        "build_config": {"input_shape": [None, 4]},
        "compile_config": {
            "optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {"learning_rate": 0.001}, "registered_name": None},
            "loss": "mean_squared_error",
        },
    }


def dense(name: str) -> dict:
    init = {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None}
    return keras_layer("Dense", name, {"units": 4, "activation": "relu", "kernel_initializer": init})


def keras_fixtures() -> dict[str, tuple[bytes, str, list[str]]]:
    def dump(obj: dict) -> bytes:
        return json.dumps(obj, indent=2, sort_keys=False).encode()

    inputs = keras_layer("InputLayer", "input", {"batch_shape": [None, 4], "dtype": "float32"})
    lambda_layer = keras_layer(
        "Lambda",
        "preprocess",
        {
            "function": {"class_name": "__lambda__", "config": {"code": LAMBDA_MARSHAL_B64, "defaults": None, "closure": None}},
            "arguments": {},
        },
    )
    nested = keras_model([inputs, dense("inner")], cls="Sequential")
    nested["config"]["name"] = "inner_block"
    return {
        "keras/benign_sequential.config.json": (dump(keras_model([inputs, dense("d1"), nested, dense("d2")])), "safe", []),
        "keras/lambda_marshal.config.json": (
            dump(keras_model([inputs, lambda_layer, dense("d")], cls="Functional")),
            "dangerous",
            ["keras.lambda-layer"],
        ),
        "keras/custom_object.config.json": (
            dump(keras_model([inputs, keras_layer("FancyAttention", "fancy", {"heads": 2}, module="acme_layers.attention")])),
            "suspicious",
            ["keras.custom-object"],
        ),
        "keras/tfoplambda_write.config.json": (
            dump(
                keras_model(
                    [
                        inputs,
                        {"class_name": "TFOpLambda", "config": {"name": "tf.math.add", "function": "math.add"}},
                        {"class_name": "TFOpLambda", "config": {"name": "tf.io.write_file", "function": "io.write_file"}},
                    ],
                    cls="Functional",
                )
            ),
            "dangerous",
            ["keras.tfoplambda-dangerous"],
        ),
        "keras/safe_mode_toggle.config.json": (
            dump(
                keras_model(
                    [inputs, {"module": "keras.config", "class_name": "enable_unsafe_deserialization", "config": {}, "registered_name": None}]
                )
            ),
            "dangerous",
            ["keras.dangerous-reference"],
        ),
    }


# ---------------------------------------------------------------------------------------------------------
# Protobuf, by hand
# ---------------------------------------------------------------------------------------------------------


def varint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def f_varint(number: int, v: int) -> bytes:
    return varint(number << 3) + varint(v)


def f_bytes(number: int, b: bytes | str) -> bytes:
    if isinstance(b, str):
        b = b.encode()
    return varint((number << 3) | 2) + varint(len(b)) + b


def message(*fields: bytes) -> bytes:
    return b"".join(fields)


# SavedModel ----------------------------------------------------------------------------------------------


def tf_node(name: str, op: str, attrs: dict[str, bytes] | None = None, inputs: list[str] | None = None) -> bytes:
    parts = [f_bytes(1, name), f_bytes(2, op)]
    parts += [f_bytes(3, i) for i in inputs or []]
    for key, attr_value in (attrs or {}).items():
        parts.append(f_bytes(5, message(f_bytes(1, key), f_bytes(2, attr_value))))
    return message(*parts)


def attr_type(dtype: int) -> bytes:
    return f_varint(6, dtype)


def attr_s(s: str) -> bytes:
    return f_bytes(2, s)


def saved_model(graph_nodes: list[bytes], functions: list[tuple[str, list[bytes]]], saver_scope: str = "save") -> bytes:
    graph = message(*[f_bytes(1, n) for n in graph_nodes])
    library = b""
    for name, nodes in functions:
        signature = message(f_bytes(1, name))
        library += f_bytes(1, message(f_bytes(1, signature), *[f_bytes(3, n) for n in nodes]))
    graph += f_bytes(2, library)
    graph += f_bytes(4, message(f_varint(1, 1808)))  # versions.producer
    meta_info = message(f_bytes(4, "serve"), f_bytes(5, "2.16.1"))
    saver = message(f_bytes(1, f"{saver_scope}/Const:0"), f_bytes(2, f"{saver_scope}/Identity:0"), f_bytes(3, f"{saver_scope}/restore_all"))
    meta = message(f_bytes(1, meta_info), f_bytes(2, graph), f_bytes(3, saver))
    return message(f_varint(1, 1), f_bytes(2, meta))


def savedmodel_fixtures() -> dict[str, tuple[bytes, str, list[str]]]:
    dt_float = attr_type(1)
    model_nodes = [
        tf_node("serving_default_x", "Placeholder", {"dtype": dt_float}),
        tf_node("dense/kernel", "VarHandleOp", {"dtype": dt_float}),
        tf_node("dense/MatMul", "MatMul", {"T": dt_float}, ["serving_default_x", "dense/kernel"]),
        tf_node("save/SaveV2", "SaveV2"),
        tf_node("save/RestoreV2", "RestoreV2"),
    ]
    traced = [
        ("__inference__traced_save_77", [tf_node("SaveV2", "SaveV2"), tf_node("MergeV2Checkpoints", "MergeV2Checkpoints")]),
        ("__inference__traced_restore_91", [tf_node("RestoreV2", "RestoreV2")]),
    ]
    serve = ("__inference_serve_42", [tf_node("dense/Relu", "Relu", {"T": dt_float})])
    read_fn = ("__inference_serve_43", [tf_node("secrets", "ReadFile", inputs=["path"]), tf_node("cb", "EagerPyFunc", {"token": attr_s("pyfunc_0")})])
    ckpt_fn = ("__inference_call_44", [tf_node("stash", "SaveV2")])
    return {
        "savedmodel/benign/saved_model.pb": (saved_model(model_nodes, traced + [serve]), "safe", []),
        "savedmodel/readfile/saved_model.pb": (
            saved_model(model_nodes, traced + [read_fn]),
            "dangerous",
            ["savedmodel.dangerous-op"],
        ),
        "savedmodel/checkpoint_elsewhere/saved_model.pb": (
            saved_model(model_nodes, traced + [ckpt_fn]),
            "suspicious",
            ["savedmodel.unexpected-checkpoint-op"],
        ),
    }


# ONNX ----------------------------------------------------------------------------------------------------


def onnx_node(name: str, op: str, inputs: list[str], outputs: list[str], domain: str = "", attrs: list[bytes] | None = None) -> bytes:
    parts = [f_bytes(1, i) for i in inputs] + [f_bytes(2, o) for o in outputs]
    parts += [f_bytes(3, name), f_bytes(4, op)]
    parts += [f_bytes(5, a) for a in attrs or []]
    if domain:
        parts.append(f_bytes(7, domain))
    return message(*parts)


def onnx_graph_attr(name: str, graph: bytes) -> bytes:
    return message(f_bytes(1, name), f_bytes(6, graph), f_varint(20, 5))  # type GRAPH


def value_info(name: str, dims: list[int]) -> bytes:
    shape = message(*[f_bytes(1, f_varint(1, d)) for d in dims])
    tensor_type = message(f_varint(1, 1), f_bytes(2, shape))  # elem_type FLOAT
    return message(f_bytes(1, name), f_bytes(2, f_bytes(1, tensor_type)))


def onnx_tensor(
    name: str, dims: list[int], raw: bytes | None = None, external: list[tuple[str, str]] | None = None, data_type: int = 1
) -> bytes:
    parts = [f_varint(1, d) for d in dims] + [f_varint(2, data_type), f_bytes(8, name)]
    if raw is not None:
        parts.append(f_bytes(9, raw))
    for key, value in external or []:
        parts.append(f_bytes(13, message(f_bytes(1, key), f_bytes(2, value))))
    if external:
        parts.append(f_varint(14, 1))
    return message(*parts)


def onnx_graph(nodes: list[bytes], initializers: list[bytes], name: str = "main") -> bytes:
    return message(
        *[f_bytes(1, n) for n in nodes],
        f_bytes(2, name),
        *[f_bytes(5, t) for t in initializers],
        f_bytes(11, value_info("x", [1, 4])),
        f_bytes(12, value_info("y", [1, 4])),
    )


def onnx_model(graph: bytes, domains: list[tuple[str, int]], functions: list[bytes] | None = None) -> bytes:
    parts = [f_varint(1, 9), f_bytes(2, "rampart-fixtures"), f_bytes(3, "1"), f_bytes(7, graph)]
    parts += [f_bytes(8, message(f_bytes(1, d), f_varint(2, v))) for d, v in domains]
    parts += [f_bytes(25, f) for f in functions or []]
    return message(*parts)


def onnx_fixtures() -> dict[str, tuple[bytes, str, list[str]]]:
    weights = struct.pack("<16f", *[0.25 * i for i in range(16)])
    w = onnx_tensor("w", [4, 4], raw=weights)
    std = [("", 17)]
    benign = onnx_graph(
        [onnx_node("mm", "MatMul", ["x", "w"], ["h"]), onnx_node("act", "Gelu", ["h"], ["g"], domain="com.microsoft"), onnx_node("out", "Relu", ["g"], ["y"])],
        [w],
    )
    custom = onnx_graph([onnx_node("mm", "MatMul", ["x", "w"], ["h"]), onnx_node("crypt", "Decrypt", ["h"], ["y"], domain="com.acme.secure")], [w])
    then_branch = onnx_graph([onnx_node("hidden", "Exfil", ["x"], ["y"], domain="org.attacker")], [], name="then")
    else_branch = onnx_graph([onnx_node("pass", "Identity", ["x"], ["y"])], [], name="else")
    with_if = onnx_graph(
        [onnx_node("cond", "If", ["c"], ["y"], attrs=[onnx_graph_attr("then_branch", then_branch), onnx_graph_attr("else_branch", else_branch)])],
        [onnx_tensor("c", [], raw=b"\x01", data_type=9)],  # BOOL
    )
    # A model-local function is expanded from its body: no library needed for `local.blocks::Swish`.
    swish = message(
        f_bytes(1, "Swish"),
        f_bytes(4, "X"),
        f_bytes(5, "Y"),
        f_bytes(7, onnx_node("s", "Sigmoid", ["X"], ["S"])),
        f_bytes(7, onnx_node("m", "Mul", ["X", "S"], ["Y"])),
        f_bytes(9, message(f_bytes(1, ""), f_varint(2, 17))),
        f_bytes(10, "local.blocks"),
    )
    with_function = onnx_graph([onnx_node("sw", "Swish", ["x"], ["y"], domain="local.blocks")], [])

    def external(location: str, length: int = 64) -> bytes:
        t = onnx_tensor("w", [4, 4], external=[("location", location), ("offset", "0"), ("length", str(length))])
        return onnx_graph([onnx_node("mm", "MatMul", ["x", "w"], ["y"])], [t])

    return {
        "onnx/benign.onnx": (onnx_model(benign, std + [("com.microsoft", 1)]), "safe", []),
        "onnx/local_function.onnx": (onnx_model(with_function, std + [("local.blocks", 1)], [swish]), "safe", []),
        "onnx/custom_domain.onnx": (onnx_model(custom, std + [("com.acme.secure", 1)]), "suspicious", ["onnx.custom-op-domain"]),
        "onnx/custom_in_subgraph.onnx": (onnx_model(with_if, std + [("org.attacker", 1)]), "suspicious", ["onnx.custom-op-domain"]),
        "onnx/external_ok.onnx": (onnx_model(external("external_ok.weights"), std), "safe", []),
        "onnx/external_ok.weights": (weights * 4, "", []),
        "onnx/external_escape.onnx": (onnx_model(external("../../../../etc/passwd"), std), "dangerous", ["onnx.external-data-escape"]),
        "onnx/external_absolute.onnx": (onnx_model(external("/proc/self/environ"), std), "dangerous", ["onnx.external-data-escape"]),
        "onnx/external_missing.onnx": (onnx_model(external("missing.weights"), std), "suspicious", ["onnx.external-data-missing"]),
    }


# ---------------------------------------------------------------------------------------------------------
# GGUF
# ---------------------------------------------------------------------------------------------------------

GGUF_U32, GGUF_STRING, GGUF_ARRAY, GGUF_U64 = 4, 8, 9, 10


def gstr(s: str | bytes) -> bytes:
    if isinstance(s, str):
        s = s.encode()
    return struct.pack("<Q", len(s)) + s


class Gguf:
    def __init__(self, alignment: int = 32) -> None:
        self.kvs = b""
        self.kv_count = 0
        self.infos = b""
        self.tensor_count = 0
        self.data = bytearray()
        self.alignment = alignment

    def kv(self, key: str, value_type: int, raw: bytes) -> "Gguf":
        self.kvs += gstr(key) + struct.pack("<I", value_type) + raw
        self.kv_count += 1
        return self

    def kv_str(self, key: str, value: str) -> "Gguf":
        return self.kv(key, GGUF_STRING, gstr(value))

    def kv_u32(self, key: str, value: int) -> "Gguf":
        return self.kv(key, GGUF_U32, struct.pack("<I", value))

    def kv_str_array(self, key: str, values: list[str]) -> "Gguf":
        return self.kv(key, GGUF_ARRAY, struct.pack("<IQ", GGUF_STRING, len(values)) + b"".join(gstr(v) for v in values))

    def tensor(self, name: str, dims: list[int], ggml_type: int, nbytes: int, offset: int | None = None) -> "Gguf":
        if offset is None:
            offset = -(-len(self.data) // self.alignment) * self.alignment
        self.infos += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        self.infos += struct.pack("<IQ", ggml_type, offset)
        end = offset + nbytes
        if len(self.data) < end:
            self.data.extend(bytes(end - len(self.data)))
        # Deterministic, non-zero tensor bytes.
        for i in range(offset, end):
            self.data[i] = (i * 31 + 7) & 0xFF
        self.tensor_count += 1
        return self

    def build(self) -> bytes:
        head = b"GGUF" + struct.pack("<IQQ", 3, self.tensor_count, self.kv_count) + self.kvs + self.infos
        head += bytes(-len(head) % self.alignment)
        return head + bytes(self.data)


def tiny_llama(template_key: str, template: str) -> Gguf:
    tokens = ["<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "hello", "world"]
    return (
        Gguf()
        .kv_str("general.architecture", "llama")
        .kv_str("general.name", "Rampart Tiny Fixture")
        .kv_str("general.license", "apache-2.0")
        .kv_u32("llama.context_length", 8192)
        .kv_u32("llama.embedding_length", 256)
        .kv_u32("general.file_type", 15)
        .kv_u32("general.quantization_version", 2)
        .kv_str("tokenizer.ggml.model", "gpt2")
        .kv_str_array("tokenizer.ggml.tokens", tokens)
        .kv_str(template_key, template)
        .tensor("token_embd.weight", [256, 6], 12, 6 * 144)  # Q4_K
        .tensor("output_norm.weight", [256], 0, 256 * 4)  # F32
        .tensor("blk.0.attn_q.weight", [256, 256], 14, 256 * 210)  # Q6_K
    )


def gguf_fixtures() -> dict[str, tuple[bytes, str, list[str]]]:
    injection = "{{ cycler.__init__.__globals__.os.popen('id').read() }}" + CHATML_TEMPLATE
    escaped = "{% for m in messages %}{{ m['content'] }}{% endfor %}{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f') }}"
    include = "{% include 'extra.jinja' %}" + CHATML_TEMPLATE
    truncated = tiny_llama("tokenizer.chat_template", CHATML_TEMPLATE).build()
    overflow = b"GGUF" + struct.pack("<IQQ", 3, 1, 0xFFFFFFFFFFFF) + gstr("general.architecture")
    return {
        "gguf/llama3_style.gguf": (tiny_llama("tokenizer.chat_template", LLAMA3_STYLE_TEMPLATE).build(), "safe", []),
        "gguf/chatml.gguf": (tiny_llama("tokenizer.chat_template", CHATML_TEMPLATE).build(), "safe", []),
        "gguf/template_injection.gguf": (
            tiny_llama("tokenizer.chat_template.tool_use", injection).build(),
            "dangerous",
            ["gguf.template-injection"],
        ),
        "gguf/template_escaped_dunder.gguf": (
            tiny_llama("tokenizer.chat_template", escaped).build(),
            "dangerous",
            ["gguf.template-injection", "gguf.template-suspicious"],
        ),
        "gguf/template_include.gguf": (tiny_llama("tokenizer.chat_template", include).build(), "suspicious", ["gguf.template-suspicious"]),
        "gguf/truncated.gguf": (truncated[: len(truncated) - 100], "suspicious", ["gguf.tensor-out-of-bounds"]),
        "gguf/kv_count_overflow.gguf": (overflow, "dangerous", ["gguf.malformed"]),
    }


# ---------------------------------------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------------------------------------


def safetensors(header: dict | str, data: bytes, pad: bool = True) -> bytes:
    text = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    raw = text.encode()
    if pad:
        raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def safetensors_fixtures() -> dict[str, tuple[bytes, str, list[str]]]:
    data = bytes((i * 13 + 1) & 0xFF for i in range(64))
    benign = {
        "__metadata__": {"format": "pt", "source": "rampart fixtures"},
        "embed.weight": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]},
        "norm.weight": {"dtype": "BF16", "shape": [8], "data_offsets": [32, 48]},
        "head.bias": {"dtype": "F16", "shape": [8], "data_offsets": [48, 64]},
    }
    overlap = {
        "a": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]},
        "b": {"dtype": "F32", "shape": [8], "data_offsets": [16, 48]},
        "c": {"dtype": "F32", "shape": [4], "data_offsets": [48, 64]},
    }
    oob = {"a": {"dtype": "F32", "shape": [1024], "data_offsets": [0, 4096]}}
    trailing = {"a": {"dtype": "U8", "shape": [64], "data_offsets": [0, 64]}}
    pickle_payload = b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x8c\x06system\x93\x8c\x02id\x85R."
    duplicate = (
        '{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},'
        '"w":{"dtype":"F32","shape":[4],"data_offsets":[16,32]},'
        '"v":{"dtype":"F32","shape":[8],"data_offsets":[32,64]}}'
    )
    mismatch = {"a": {"dtype": "F32", "shape": [3, 3], "data_offsets": [0, 64]}}
    return {
        "safetensors/benign.safetensors": (safetensors(benign, data), "safe", []),
        "safetensors/overlap.safetensors": (safetensors(overlap, data), "suspicious", ["safetensors.overlapping-tensors"]),
        "safetensors/out_of_bounds.safetensors": (safetensors(oob, data), "dangerous", ["safetensors.out-of-bounds"]),
        "safetensors/trailing_pickle.safetensors": (
            safetensors(trailing, data + pickle_payload),
            "suspicious",
            ["safetensors.trailing-data"],
        ),
        "safetensors/duplicate_key.safetensors": (safetensors(duplicate, data), "suspicious", ["safetensors.duplicate-key"]),
        "safetensors/size_mismatch.safetensors": (safetensors(mismatch, data), "suspicious", ["safetensors.size-mismatch"]),
        "safetensors/huge_header.safetensors": (struct.pack("<Q", 200_000_000) + b'{"a":', "dangerous", ["safetensors.header-too-large"]),
    }


# ---------------------------------------------------------------------------------------------------------
# Files written with third-party packages (committed; regenerated with --with-packages)
# ---------------------------------------------------------------------------------------------------------

# (file, format, verdict, rules, producer): declared here so expected.json is complete without the packages.
PACKAGE_FIXTURES = [
    ("hdf5/keras2_benign.h5", "hdf5", "safe", [], H5PY),
    ("hdf5/keras2_lambda.h5", "hdf5", "dangerous", ["keras.lambda-layer"], H5PY),
    ("hdf5/keras2_lambda_vlen_latest.h5", "hdf5", "dangerous", ["keras.custom-object", "keras.lambda-layer"], H5PY),
    ("hdf5/weights_only.h5", "hdf5", "safe", ["hdf5.no-model-config"], H5PY),
    ("onnx/pkg_benign.onnx", "onnx", "safe", [], ONNX),
    ("onnx/pkg_custom_external.onnx", "onnx", "dangerous", ["onnx.custom-op-domain", "onnx.external-data-escape"], ONNX),
]


def keras2_config(with_lambda: bool, custom: bool = False) -> str:
    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32", "name": "input_1"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 4, "activation": "relu"}},
    ]
    if with_lambda:
        layers.append(
            {
                "class_name": "Lambda",
                "config": {
                    "name": "lambda",
                    "function": [LAMBDA_MARSHAL_B64, None, None],
                    "function_type": "lambda",
                    "module": "__main__",
                    "arguments": {},
                },
            }
        )
    if custom:
        layers.append({"module": "acme_layers", "class_name": "Scale", "config": {"name": "scale"}, "registered_name": "Acme>Scale"})
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    return json.dumps(config)


def write_package_fixtures(out: Path) -> None:
    import h5py  # noqa: PLC0415 - optional, only for --with-packages
    import numpy as np  # noqa: PLC0415
    import onnx  # noqa: PLC0415
    from onnx import TensorProto, helper  # noqa: PLC0415

    for spec, module in ((H5PY, h5py), (ONNX, onnx)):
        want = spec.split("==")[1]
        if module.__version__ != want:
            sys.exit(f"{spec.split('==')[0]} {module.__version__} is installed; the fixtures pin {want}")

    (out / "hdf5").mkdir(parents=True, exist_ok=True)

    def keras_h5(path: Path, config: str, vlen: bool, libver: str = "earliest") -> None:
        with h5py.File(path, "w", libver=libver, track_order=False) as f:
            # Keras 2 stores JSON as bytes (a fixed-length string); h5py stores str as a variable-length one.
            f.attrs["model_config"] = config if vlen else np.bytes_(config.encode())
            f.attrs["keras_version"] = np.bytes_(b"2.15.0")
            f.attrs["backend"] = np.bytes_(b"tensorflow")
            weights = f.create_group("model_weights")
            dense = weights.create_group("dense")
            dense.attrs["weight_names"] = np.array([b"dense/kernel:0", b"dense/bias:0"])
            dense.create_dataset("kernel", data=np.arange(16, dtype="<f4").reshape(4, 4), track_times=False)
            dense.create_dataset("bias", data=np.zeros(4, dtype="<f4"), track_times=False)

    keras_h5(out / "hdf5/keras2_benign.h5", keras2_config(False), vlen=False)
    keras_h5(out / "hdf5/keras2_lambda.h5", keras2_config(True), vlen=False)
    keras_h5(out / "hdf5/keras2_lambda_vlen_latest.h5", keras2_config(True, custom=True), vlen=True, libver="latest")
    with h5py.File(out / "hdf5/weights_only.h5", "w") as f:
        f.create_dataset("layers/dense/vars/0", data=np.ones((4, 4), dtype="<f4"), track_times=False)

    (out / "onnx").mkdir(parents=True, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [0.5] * 16)
    then_g = helper.make_graph([helper.make_node("Identity", ["h"], ["t"])], "then", [], [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 4])])
    else_g = helper.make_graph([helper.make_node("Neg", ["h"], ["e"])], "else", [], [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 4])])
    c = helper.make_tensor("c", TensorProto.BOOL, [], [True])
    benign = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"), helper.make_node("If", ["c"], ["y"], name="if", then_branch=then_g, else_branch=else_g)],
        "benign",
        [x],
        [y],
        [w, c],
    )
    model = helper.make_model(benign, producer_name="rampart-fixtures", opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    (out / "onnx/pkg_benign.onnx").write_bytes(model.SerializeToString(deterministic=True))

    ext = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [0.0] * 16)
    ext.ClearField("float_data")
    ext.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../../.ssh/id_rsa"), ("offset", "0"), ("length", "64")):
        entry = ext.external_data.add()
        entry.key, entry.value = key, value
    custom = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"), helper.make_node("Backdoor", ["h"], ["y"], name="bd", domain="com.acme.ops")],
        "custom",
        [x],
        [y],
        [ext],
    )
    model = helper.make_model(
        custom,
        producer_name="rampart-fixtures",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.acme.ops", 1)],
    )
    (out / "onnx/pkg_custom_external.onnx").write_bytes(model.SerializeToString(deterministic=True))


# ---------------------------------------------------------------------------------------------------------


FORMAT_OF_DIR = {"keras": "keras", "savedmodel": "saved-model", "onnx": "onnx", "gguf": "gguf", "safetensors": "safetensors"}


def hand_made() -> dict[str, tuple[bytes, str, list[str]]]:
    out: dict[str, tuple[bytes, str, list[str]]] = {}
    for part in (keras_fixtures, savedmodel_fixtures, onnx_fixtures, gguf_fixtures, safetensors_fixtures):
        out.update(part())
    return out


def manifest(fixtures: dict[str, tuple[bytes, str, list[str]]]) -> bytes:
    entries = []
    for name, (_, verdict, rules) in sorted(fixtures.items()):
        if not verdict:
            continue  # a data file another fixture refers to
        fmt = FORMAT_OF_DIR[name.split("/")[0]]
        entries.append({"file": name, "format": fmt, "verdict": verdict, "rules": sorted(set(rules)), "producer": "gen_format_fixtures.py"})
    for name, fmt, verdict, rules, producer in PACKAGE_FIXTURES:
        entries.append({"file": name, "format": fmt, "verdict": verdict, "rules": sorted(set(rules)), "producer": producer})
    entries.sort(key=lambda e: e["file"])
    return (json.dumps({"fixtures": entries}, indent=1) + "\n").encode()


def write(out: Path) -> dict[str, bytes]:
    fixtures = hand_made()
    files = {name: data for name, (data, _, _) in fixtures.items()}
    files["expected.json"] = manifest(fixtures)
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="regenerate into a temporary folder and compare")
    parser.add_argument("--with-packages", action="store_true", help=f"also write the {H5PY} and {ONNX} fixtures")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            files = write(Path(tmp))
            stale = [n for n, data in files.items() if not (OUT / n).is_file() or (OUT / n).read_bytes() != data]
            missing = [name for name, *_ in PACKAGE_FIXTURES if not (OUT / name).is_file()]
        for name in stale:
            print(f"differs: {name}")
        for name in missing:
            print(f"missing package fixture: {name}")
        if stale or missing:
            print("run: python3 scripts/gen_format_fixtures.py")
            return 1
        print(f"{len(files)} fixture files up to date ({len(PACKAGE_FIXTURES)} package fixtures not compared)")
        return 0
    files = write(OUT)
    if args.with_packages:
        write_package_fixtures(OUT)
    print(f"wrote {len(files)} files under {OUT.relative_to(ROOT)}" + (" and the package fixtures" if args.with_packages else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
