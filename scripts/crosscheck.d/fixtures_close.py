#!/usr/bin/env python3
"""Regenerated goldens against the committed ones, for the files whose bytes changed.

The float goldens (torch's logits and gradients, llama.cpp's logits) are not bit-reproducible across CPUs: torch
and ggml pick their kernels (AVX2, AVX-512, oneDNN's) by the host, and their sums round differently. A byte
diff therefore says only that the host changed. This compares what the bytes mean: every float array (JSON
numbers, JSON strings of little-endian float32 hex, safetensors tensors) within TOLERANCE of its own scale
(max |new - old| / max |old|: the Swift tests' own tolerance), everything else exactly, except the SHA-256 of
golden files listed under a "files" key (those files are compared themselves) and one known noise: GPT-2's
key bias after an AdamW step (softmax ignores a key bias, so its gradient is pure rounding, which Adam scales
to ±lr per step: allowed |diff| <= 2 lr per step, as TorchTrainingStepTests allows). Usage: fixtures_close.py [FILE ...] (default: the
changed files under fixtures/ per `git diff --name-only`). Exit 1 on any real difference.
"""
import json
import math
import re
import subprocess
import sys

import numpy as np
from safetensors.numpy import load as load_safetensors

TOLERANCE = 1e-4
HEX_FLOATS = re.compile(r"^(?:[0-9a-f]{8})+$")


class Report:
    def __init__(self):
        self.worst, self.worst_where = 0.0, "-"
        self.failures = []

    def arrays(self, where, old, new):
        old, new = np.asarray(old, dtype=np.float64), np.asarray(new, dtype=np.float64)
        if old.shape != new.shape:
            self.failures.append(f"{where}: shape {old.shape} -> {new.shape}")
            return
        if old.size == 0:
            return
        if not np.array_equal(np.isnan(old), np.isnan(new)):
            self.failures.append(f"{where}: NaNs moved")
            return
        finite = ~np.isnan(old)
        scale = float(np.max(np.abs(old[finite]))) if finite.any() else 0.0
        diff = float(np.max(np.abs(new[finite] - old[finite]))) if finite.any() else 0.0
        rel = diff / scale if scale > 0 else (0.0 if diff == 0 else math.inf)
        if rel > self.worst:
            self.worst, self.worst_where = rel, where
        if rel > TOLERANCE:
            self.failures.append(f"{where}: max |diff| / scale {rel:.2e} > {TOLERANCE:.0e}")

    def json_values(self, where, old, new, key=""):
        if isinstance(old, dict) and isinstance(new, dict):
            if old.keys() != new.keys():
                self.failures.append(f"{where}: keys {sorted(set(old) ^ set(new))} differ")
                return
            for k in old:
                self.json_values(f"{where}.{k}", old[k], new[k], k)
        elif isinstance(old, list) and isinstance(new, list):
            if len(old) == len(new) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in old + new):
                if old != new:
                    self.arrays(where, old, new)
            elif len(old) != len(new):
                self.failures.append(f"{where}: {len(old)} -> {len(new)} items")
            else:
                for i, (a, b) in enumerate(zip(old, new)):
                    self.json_values(f"{where}[{i}]", a, b, key)
        elif isinstance(old, str) and isinstance(new, str) and old != new and ".files." in where + ".":
            pass  # a golden file's hash: the file itself is compared
        elif isinstance(old, str) and isinstance(new, str) and old != new:
            # Hashes must match exactly; other hex strings of whole float32s are arrays.
            if "sha" not in key and len(old) == len(new) and HEX_FLOATS.match(old) and HEX_FLOATS.match(new):
                self.arrays(where, np.frombuffer(bytes.fromhex(old), "<f4"), np.frombuffer(bytes.fromhex(new), "<f4"))
            else:
                self.failures.append(f"{where}: {old[:40]!r} -> {new[:40]!r}")
        elif "diff" in key and isinstance(old, (int, float)) and isinstance(new, (int, float)):
            # A rounding measurement recorded by the generator (e.g. padded vs unpadded): both must stay small.
            if max(abs(old), abs(new)) > TOLERANCE:
                self.failures.append(f"{where}: {old!r} -> {new!r} (> {TOLERANCE:.0e})")
        elif isinstance(old, float) or isinstance(new, float):
            if not (isinstance(old, (int, float)) and isinstance(new, (int, float))):
                self.failures.append(f"{where}: {old!r} -> {new!r}")
            elif old != new:
                self.arrays(where, [old], [new])
        elif old != new:
            self.failures.append(f"{where}: {old!r} -> {new!r}")


def committed(path):
    return subprocess.run(["git", "show", f"HEAD:{path}"], check=True, capture_output=True).stdout


def main():
    files = sys.argv[1:] or subprocess.run(["git", "diff", "--name-only", "--", "fixtures"], check=True,
                                           capture_output=True, text=True).stdout.split()
    files = [f for f in files if not f.endswith(".py")]  # the generators themselves
    report = Report()
    for path in files:
        old = committed(path)
        new = open(path, "rb").read()
        if path.endswith(".json"):
            report.json_values(path, json.loads(old), json.loads(new))
        elif path.endswith(".safetensors"):
            a, b = load_safetensors(old), load_safetensors(new)
            if a.keys() != b.keys():
                report.failures.append(f"{path}: tensors {sorted(set(a) ^ set(b))} differ")
            for name in sorted(set(a) & set(b)):
                step = re.search(r"training/gpt2/step(\d)/", path)
                if step and name.endswith("attn.c_attn.bias"):
                    lr = json.load(open("fixtures/training/expected.json"))["models"]["gpt2"]["hyper"]["full"]["lr"]
                    third = a[name].shape[0] // 3
                    noise = float(np.max(np.abs(a[name][third:2 * third].astype(np.float64) - b[name][third:2 * third])))
                    if noise > 2 * lr * int(step.group(1)):
                        report.failures.append(f"{path}:{name}: key bias |diff| {noise:.2e} > 2 lr per step")
                    report.arrays(f"{path}:{name} (query, value)", np.delete(a[name], np.s_[third:2 * third]),
                                  np.delete(b[name], np.s_[third:2 * third]))
                elif a[name].dtype.kind == "f":
                    report.arrays(f"{path}:{name}", a[name], b[name])
                elif not np.array_equal(a[name], b[name]):
                    report.failures.append(f"{path}:{name}: integer values differ")
        else:
            report.failures.append(f"{path}: changed (no numeric comparison for this kind of file)")
    for line in report.failures:
        print("FAIL", line)
    print(f"{len(files)} changed golden files; largest float difference {report.worst:.2e} of its array's scale "
          f"({report.worst_where}; tolerance {TOLERANCE:.0e})")
    print(f"{0 if report.failures else 1} passed, {1 if report.failures else 0} failed")
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
