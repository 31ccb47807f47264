#!/usr/bin/env python3
"""ckpt imatrix and quantize --imatrix against llama.cpp's own tools (llama-imatrix, llama-quantize, built from the
llama-cpp-python 0.3.36 sdist by scripts/build-llama-tools) on the real model (an F32 GGUF) and a text:
1. the importance matrix of the same text, --ctx 128, 8 chunks (llama-imatrix with -fa off -ctk f32 -ctv f32,
   attention in f32 as ckpt's): same entries and token counts, sums within 1e-4 of each entry's largest;
   and the time of each (tokens/s);
2. quantizing the model with llama-imatrix's matrix to each type: the file ckpt writes equals llama-quantize's
   byte for byte; and the time of each.
Usage: imatrix_vs_llama.py CKPT_BINARY F32.gguf TEXT"""
import hashlib
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from gguf import GGUFReader

ckpt, model, text = (os.path.abspath(p) for p in sys.argv[1:4])
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
tools = subprocess.check_output([os.path.join(root, "scripts", "build-llama-tools")], text=True).strip()
CTX, CHUNKS = 128, 8
TYPES = ["Q4_K_M", "Q4_0", "Q5_0", "Q4_1", "Q5_1", "Q6_K", "Q2_K", "Q3_K_M", "Q4_K_S", "Q5_K_M"]
ok = True


def timed(argv, cwd=None):
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - start


def entries(path):
    r = GGUFReader(path)
    return {t.name: np.array(t.data, dtype=np.float64).ravel() for t in r.tensors}


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


with tempfile.TemporaryDirectory() as tmp:
    ours, theirs = os.path.join(tmp, "ckpt.imatrix.gguf"), os.path.join(tmp, "llama.imatrix.gguf")
    t_ours = timed([ckpt, "imatrix", model, "--data", text, "-o", ours, "--ctx", str(CTX), "--chunks", str(CHUNKS)])
    t_theirs = timed([os.path.join(tools, "llama-imatrix"), "-m", model, "-f", text, "-o", theirs, "-c", str(CTX), "-b", str(CTX),
                      "--chunks", str(CHUNKS), "--no-ppl", "-t", "2", "-fa", "off", "-ctk", "f32", "-ctv", "f32"])
    a, b = entries(ours), entries(theirs)
    worst = max(np.abs(a[k] - b[k]).max() / max(np.abs(b[k]).max(), 1e-30) for k in b if k in a)
    same = sorted(a) == sorted(b) and all((a[k] == b[k]).all() for k in b if k.endswith(".counts"))
    good = same and worst <= 1e-4
    ok &= good
    tokens = CTX * CHUNKS
    print(f"imatrix: {len(b) // 2} entries, counts equal {same}, sums max |diff| / entry scale {worst:.1e}; "
          f"ckpt {tokens / t_ours:.0f} tok/s ({t_ours:.1f} s), llama-imatrix {tokens / t_theirs:.0f} tok/s ({t_theirs:.1f} s), "
          f"ratio {t_theirs / t_ours:.2f}x  {'ok' if good else 'FAIL'}")
    for qtype in TYPES:
        mine, ref = os.path.join(tmp, f"ckpt-{qtype}.gguf"), os.path.join(tmp, f"llama-{qtype}.gguf")
        # Both tools record the imatrix path as given: run both in its folder with the bare file name.
        t_q = timed([ckpt, "quantize", model, mine, qtype, "--imatrix", os.path.basename(theirs)], cwd=tmp)
        t_l = timed([os.path.join(tools, "llama-quantize"), "--imatrix", os.path.basename(theirs), model, ref, qtype, "2"], cwd=tmp)
        identical = sha(mine) == sha(ref)
        ok &= identical
        print(f"quantize --imatrix {qtype:7s} byte-identical {identical}; ckpt {t_q:.1f} s, llama-quantize {t_l:.1f} s, "
              f"ratio {t_l / t_q:.2f}x  {'ok' if identical else 'FAIL'}")
sys.exit(0 if ok else 1)
