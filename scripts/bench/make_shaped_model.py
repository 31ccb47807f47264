#!/usr/bin/env python3
"""Writes a random-weight F32 GGUF shaped like a real model of another family, for scripts/bench/generate: the
dimensions, vocabulary size and block recipe of Qwen2.5-0.5B (qwen2) or Gemma-3-270M (gemma3), with SmolLM2's
tokenizer (from TOKENIZER.gguf) padded to that vocabulary with [PADn] unused tokens, so both tools tokenize the
benchmark prompt to the same ids. Weights N(0, 0.02) from a seeded generator, norm weights 1, biases 0.
Usage: make_shaped_model.py qwen2.5-0.5b|gemma-3-270m TOKENIZER.gguf OUT.gguf   (PyPI: gguf, numpy)"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter

SHAPES = {
    # arch, hidden, layers, heads, kv heads, head dim, ffn, vocab
    "qwen2.5-0.5b": ("qwen2", 896, 24, 14, 2, 64, 4864, 151936),
    "gemma-3-270m": ("gemma3", 640, 18, 4, 1, 256, 2048, 262144),
}
shape_name, tokenizer_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
arch, E, L, H, KV, D, F, V = SHAPES[shape_name]
rng = np.random.default_rng(20261206)
w = GGUFWriter(out, arch)
w.add_block_count(L)
w.add_context_length(4096)
w.add_embedding_length(E)
w.add_feed_forward_length(F)
w.add_head_count(H)
w.add_head_count_kv(KV)
w.add_rope_freq_base(1e6)
if arch == "gemma3":
    w.add_key_value(f"{arch}.rope.freq_base_swa", 10000.0, GGUFValueType.FLOAT32)
w.add_layer_norm_rms_eps(1e-6)
w.add_key_length(D)
w.add_value_length(D)
w.add_file_type(0)
if arch == "gemma3":
    w.add_sliding_window(512)

reader = GGUFReader(tokenizer_path)
for name, field in reader.fields.items():
    if not name.startswith("tokenizer."):
        continue
    value = field.contents()
    if name == "tokenizer.ggml.tokens":
        value = value + [f"[PAD{i}]" for i in range(len(value), V)]
    elif name == "tokenizer.ggml.token_type":
        value = value + [5] * (V - len(value))
    elif name == "tokenizer.ggml.scores":
        value = value + [-10000.0] * (V - len(value))
    vtype = field.types[0]
    w.add_key_value(name, value, vtype, sub_type=field.types[-1] if vtype == GGUFValueType.ARRAY else None)


def matrix(name, rows, cols):
    w.add_tensor(name, (0.02 * rng.standard_normal((rows, cols), dtype=np.float32)).astype(np.float32))


def ones(name, n):
    w.add_tensor(name, np.ones(n, dtype=np.float32))


matrix("token_embd.weight", V, E)
ones("output_norm.weight", E)
for l in range(L):
    p = f"blk.{l}."
    ones(p + "attn_norm.weight", E)
    matrix(p + "attn_q.weight", H * D, E)
    matrix(p + "attn_k.weight", KV * D, E)
    matrix(p + "attn_v.weight", KV * D, E)
    if arch == "qwen2":
        for t, n in (("q", H * D), ("k", KV * D), ("v", KV * D)):
            w.add_tensor(p + f"attn_{t}.bias", np.zeros(n, dtype=np.float32))
    else:
        ones(p + "attn_q_norm.weight", D)
        ones(p + "attn_k_norm.weight", D)
        ones(p + "post_attention_norm.weight", E)
        ones(p + "post_ffw_norm.weight", E)
    matrix(p + "attn_output.weight", E, H * D)
    ones(p + "ffn_norm.weight", E)
    matrix(p + "ffn_gate.weight", F, E)
    matrix(p + "ffn_up.weight", F, E)
    matrix(p + "ffn_down.weight", E, F)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
