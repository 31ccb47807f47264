#!/usr/bin/env python3
"""Crosscheck of the distilled student in llama.cpp (llama-cpp-python 0.3.36): `ckpt student init` (blocks 12-23
dropped) + `ckpt distill --method promptkd --steps 2 --export Q4_K_M` on SmolLM2; llama.cpp loads student.gguf
(F32) and student-Q4_K_M.gguf; the prompt logits of `ckpt generate --logits-out` are within 1e-3 of llama.cpp's on
the F32 student (top-1 100%) and ckpt's 32-token greedy continuation equals llama.cpp's; ckpt on the Q4_K_M student
equals llama.cpp on the same weights dequantized to F32 by gguf-py (logits within 1e-3, same greedy text); llama.cpp
on the Q4_K_M file itself (8-bit activations for K-quant products) gives the same text up to a near-tie at most.
Usage: student_vs_llama.py CKPT_BINARY TEACHER.gguf   -> 'N passed, M failed'"""
import json
import os
import subprocess
import sys
import tempfile

import llama_cpp
import numpy as np
from checks import Checks

ckpt, teacher = sys.argv[1:3]
check = Checks()
prompt = ("Below is an instruction that describes a task. Write a response that appropriately completes the request."
          "\n\n### Instruction:\nName three primary colors.\n\n### Response:\n")
with tempfile.TemporaryDirectory() as tmp:
    init = os.path.join(tmp, "student-init.gguf")
    subprocess.run([ckpt, "student", "init", "--from", teacher, "--layers", "0-11,24-29", "--out", init], check=True, capture_output=True)
    run = os.path.join(tmp, "run")
    subprocess.run([ckpt, "distill", "--teacher", teacher, "--student", init, "--out", run, "--steps", "2", "--max-new-tokens", "16",
                    "--dev-examples", "2", "--dev-max-new-tokens", "8", "--export", "Q4_K_M"], check=True, capture_output=True)
    # llama.cpp multiplies K-quant weights with activations rounded to 8 bits; ckpt's prefill widens the
    # weights exactly (and decoding keeps 16-bit activations). So ckpt's Q4_K_M student is compared with
    # llama.cpp on the same weights dequantized to F32 by gguf-py (exact math on both sides), and with llama.cpp
    # on the Q4_K_M file itself (same text up to a near-tie that its 8-bit activations decide).
    q4 = os.path.join(run, "student-Q4_K_M.gguf")
    dequantized = os.path.join(tmp, "student-Q4_K_M-dequantized-F32.gguf")
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "make_f32_model.py"),
                    q4, dequantized], check=True, capture_output=True)
    for name, path, reference in (("student.gguf", os.path.join(run, "student.gguf"), os.path.join(run, "student.gguf")),
                                  ("student-Q4_K_M.gguf", q4, dequantized), ("student-Q4_K_M.gguf vs llama.cpp Q4_K_M", q4, q4)):
        exact = reference != q4
        llm = llama_cpp.Llama(model_path=reference, n_ctx=512, n_batch=512, n_threads=2, logits_all=True, verbose=False,
                              type_k=0, type_v=0)
        ref_ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        npy, ids_json = os.path.join(tmp, "l.npy"), os.path.join(tmp, "i.json")
        out = subprocess.check_output([ckpt, "generate", path, "--prompt", prompt, "-n", "32", "--temp", "0", "--ignore-eos",
                                       "--logits-out", npy, "--ids-out", ids_json], stderr=subprocess.DEVNULL).decode()
        check(json.load(open(ids_json)) == ref_ids, f"{name}: prompt ids differ")
        llm.eval(ref_ids)
        ref_logits = np.array(llm.scores[:len(ref_ids)], dtype=np.float32)
        ours = np.load(npy)
        diff = float(np.abs(ours - ref_logits).max())
        top1 = float((ours.argmax(1) == ref_logits.argmax(1)).mean())
        what = "llama.cpp on the gguf-py F32 dequantization" if reference == dequantized else "llama.cpp"
        if exact:
            check(diff <= 1e-3 and top1 == 1.0, f"{name}: max |Δlogit| {diff:.2e}, top-1 {top1:.3f}")
        print(f"{name}: {what} loads it; {len(ref_ids)} prompt tokens, max |Δlogit| {diff:.2e}, top-1 agreement {top1:.3f}")
        llm.reset()
        tokens = []
        for tok in llm.generate(ref_ids, temp=0.0, top_k=1):
            if len(tokens) == 32:
                break
            tokens.append(tok)
        ref = llm.detokenize(tokens).decode("utf-8", errors="replace")
        same = out.rstrip("\n") == ref
        if same or exact:
            check(same, f"{name}: greedy continuation differs:\n ckpt  {out!r}\n llama {ref!r}")
            print(f"{name}: greedy 32 tokens {'identical' if same else 'DIFFERENT'}: {ref[:60]!r}")
            continue
        # The texts must agree up to the first token where llama.cpp's own two best logits are closer than twice
        # the largest difference between the two on the prompt.
        text = lambda n: llm.detokenize(tokens[:n]).decode("utf-8", errors="replace")
        common = 0
        while common < len(tokens) and out.startswith(text(common + 1)):
            common += 1
        llm.reset()
        llm.eval(ref_ids + tokens[:common])
        top2 = np.sort(np.array(llm.scores[len(ref_ids) + common - 1], dtype=np.float32))[-2:]
        margin = float(top2[1] - top2[0])
        check(margin < 2 * diff, f"{name}: greedy continuation differs at token {common} where llama.cpp's top-2 margin is "
                                 f"{margin:.3f}:\n ckpt  {out!r}\n llama {ref!r}")
        print(f"{name}: greedy 32 tokens: same for {common} tokens, then a near-tie (llama.cpp's two best logits "
              f"{margin:.4f} apart): ckpt {out[:60]!r}, llama.cpp {ref[:60]!r}")
check.finish()
