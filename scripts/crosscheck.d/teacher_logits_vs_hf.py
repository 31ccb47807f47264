#!/usr/bin/env python3
"""The offline teacher on the real model: `ckpt teacher-logits` on SmolLM2 (F32 GGUF) against
scripts/teacher_logits_hf.py on the same weights in transformers (the GGUF converted with `ckpt convert --to hf`),
on the first N examples of the bundled training split. Same tokenizer and data hashes, same examples and tokens,
top ids equal wherever the two log-probabilities are not within 1e-4 of a neighbour's (ties may swap), and
log-probabilities / rest mass within 1e-4. Then `distill --teacher-logits` trains from the Python folder.

    python3 scripts/crosscheck.d/teacher_logits_vs_hf.py CKPT_BINARY SmolLM2-F32.gguf [--examples 24]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def shards(folder):
    m = json.load(open(os.path.join(folder, "manifest.json")))
    parts = [load_file(os.path.join(folder, s["file"])) for s in m["shards"]]
    return m, {k: np.concatenate([p[k] for p in parts]) for k in parts[0] if k != "offsets"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("f32")
    ap.add_argument("--examples", type=int, default=24)
    ap.add_argument("--top-k", type=int, default=64)
    a = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "train.jsonl")
        with open(os.path.join(ROOT, "fixtures/data/train.jsonl")) as f:
            lines = f.readlines()[:a.examples]
        open(data, "w").writelines(lines)
        hf = os.path.join(tmp, "hf")
        subprocess.run([a.binary, "convert", a.f32, hf, "--to", "hf"], check=True, capture_output=True)
        mine, theirs = os.path.join(tmp, "ckpt"), os.path.join(tmp, "python")
        subprocess.run([a.binary, "teacher-logits", a.f32, "--data", data, "-o", mine, "--top-k", str(a.top_k)], check=True, capture_output=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/teacher_logits_hf.py"), hf, "--data", data, "-o", theirs,
                        "--top-k", str(a.top_k)], check=True, capture_output=True)
        (m1, x), (m2, y) = shards(mine), shards(theirs)
        for key in ["tokenizer_sha256", "data_sha256", "vocab_size", "top_k", "examples", "max_length"]:
            same = m1[key] == m2[key]
            ok &= same
            print(f"manifest {key:17s} {'same' if same else 'DIFFERS'}: {m1[key]}")
        for key in ["example", "prompt_length", "tokens"]:
            same = np.array_equal(x[key], y[key])
            ok &= same
            print(f"{key:13s} {'same' if same else 'DIFFERS'} ({x[key].size} values)")
        lp1, lp2 = x["top_logprobs"], y["top_logprobs"]
        # Where ids differ, the two log-probabilities must be a near-tie (the order of equal values may swap).
        swapped = x["top_ids"] != y["top_ids"]
        ties = np.abs(lp1 - lp2)[swapped] <= 1e-4 if swapped.any() else np.array([True])
        worst_lp = float(np.abs(np.sort(lp1, -1) - np.sort(lp2, -1)).max())
        worst_rest = float(np.abs(x["rest_mass"] - y["rest_mass"]).max())
        print(f"top ids: {int(swapped.sum())} of {swapped.size} differ, all near-ties: {bool(ties.all())}")
        print(f"top log-probs: max |diff| {worst_lp:.2e} over {lp1.size} values; rest mass: max |diff| {worst_rest:.2e}")
        ok &= bool(ties.all()) and worst_lp <= 1e-4 and worst_rest <= 1e-4
        run = subprocess.run([a.binary, "distill", "--student", a.f32, "--data", data, "--teacher-logits", theirs, "--method", "kd",
                              "--steps", "2", "--batch-size", "2", "--dev-examples", "0", "--out", os.path.join(tmp, "run")],
                             capture_output=True, text=True)
        print(f"distill --teacher-logits (the Python folder): exit {run.returncode}")
        ok &= run.returncode == 0
    print("teacher logits vs transformers:", "OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
