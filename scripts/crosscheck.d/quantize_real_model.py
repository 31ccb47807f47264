#!/usr/bin/env python3
"""Crosscheck: `ckpt quantize` vs llama.cpp's quantizer on the real model (SmolLM2 F32 copy) for Q8_0, Q4_0,
Q4_K_M and Q6_K: every tensor's type and bytes and the whole file must be identical; then llama.cpp loads
both files and greedy-decodes the same prompt, which must give the same text.
Also requantizes the shipped Q4_1 file to Q8_0 and Q4_K_M with --allow-requantize on both sides.
Usage: quantize_real_model.py CKPT_BINARY F32.gguf [Q4_1.gguf]   -> 'N passed, M failed'"""
import ctypes
import filecmp
import hashlib
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("CKPT_QUIET_LLAMA", "1")
from llama_quantize_lib import quantize  # noqa: E402

import llama_cpp  # noqa: E402
from gguf import GGUFReader  # noqa: E402
from checks import Checks

ckpt, f32 = sys.argv[1], sys.argv[2]
check = Checks()


def greedy(path, prompt="<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"):
    llm = llama_cpp.Llama(model_path=path, n_ctx=256, n_threads=2, verbose=False, seed=0)
    out = llm(prompt, max_tokens=32, temperature=0.0, top_k=1)
    text = out["choices"][0]["text"]
    del llm
    return text


with tempfile.TemporaryDirectory(dir=os.path.dirname(f32)) as tmp:
    for name in ("Q8_0", "Q4_0", "Q4_K_M", "Q6_K"):
        ref, ours = os.path.join(tmp, f"ref-{name}.gguf"), os.path.join(tmp, f"ckpt-{name}.gguf")
        quantize(f32, ref, name, nthread=2)
        subprocess.run([ckpt, "quantize", f32, ours, name, "2"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        a, b = GGUFReader(ref), GGUFReader(ours)
        check(len(a.tensors) == len(b.tensors), f"{name}: tensor count")
        types = {}
        for ta, tb in zip(a.tensors, b.tensors):
            check(ta.name == tb.name and ta.tensor_type == tb.tensor_type, f"{name}: {ta.name} type {ta.tensor_type.name} vs {tb.tensor_type.name}")
            check(hashlib.sha256(ta.data.tobytes()).digest() == hashlib.sha256(tb.data.tobytes()).digest(), f"{name}: {ta.name} bytes")
            types[tb.tensor_type.name] = types.get(tb.tensor_type.name, 0) + 1
        same = filecmp.cmp(ref, ours, shallow=False)
        check(same, f"{name}: whole file")
        text_ref, text_ours = greedy(ref), greedy(ours)
        check(text_ref == text_ours, f"{name}: greedy text differs: {text_ref!r} vs {text_ours!r}")
        print(f"{name}: types {dict(sorted(types.items()))}, file identical: {same}, greedy text: {text_ours[:60]!r}")

    if len(sys.argv) > 3:
        q41 = sys.argv[3]
        for name in ("Q8_0", "Q4_K_M"):
            ref, ours = os.path.join(tmp, f"ref-req-{name}.gguf"), os.path.join(tmp, f"ckpt-req-{name}.gguf")
            quantize(q41, ref, name, nthread=2, allow_requantize=True)
            subprocess.run([ckpt, "quantize", q41, ours, name, "2", "--allow-requantize"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            same = filecmp.cmp(ref, ours, shallow=False)
            check(same, f"requantize Q4_1 -> {name}: whole file")
            print(f"requantize Q4_1 -> {name}: file identical: {same}")

check.finish()
