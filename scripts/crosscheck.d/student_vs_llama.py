#!/usr/bin/env python3
"""Crosscheck of the distilled student in llama.cpp (llama-cpp-python 0.3.36): `ckpt student init` (blocks 12-23
dropped) + `ckpt distill --method promptkd --steps 2 --export Q4_K_M` on SmolLM2; llama.cpp loads student.gguf
(F32) and student-Q4_K_M.gguf; the prompt logits of `ckpt generate --logits-out` are within 1e-3 of llama.cpp's on
the F32 student (top-1 100%), and ckpt's 32-token greedy continuation equals llama.cpp's on both files.
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
    for name in ("student.gguf", "student-Q4_K_M.gguf"):
        path = os.path.join(run, name)
        llm = llama_cpp.Llama(model_path=path, n_ctx=512, n_batch=512, n_threads=2, logits_all=True, verbose=False, type_k=0, type_v=0)
        ref_ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        npy, ids_json = os.path.join(tmp, "l.npy"), os.path.join(tmp, "i.json")
        out = subprocess.check_output([ckpt, "generate", path, "--prompt", prompt, "-n", "32", "--temp", "0", "--ignore-eos",
                                       "--logits-out", npy, "--ids-out", ids_json], stderr=subprocess.DEVNULL).decode()
        check(json.load(open(ids_json)) == ref_ids, f"{name}: prompt ids differ")
        if name == "student.gguf":
            llm.eval(ref_ids)
            ref_logits = np.array(llm.scores[:len(ref_ids)], dtype=np.float32)
            ours = np.load(npy)
            diff = float(np.abs(ours - ref_logits).max())
            top1 = float((ours.argmax(1) == ref_logits.argmax(1)).mean())
            check(diff <= 1e-3 and top1 == 1.0, f"{name}: max |Δlogit| {diff:.2e}, top-1 {top1:.3f}")
            print(f"{name}: llama.cpp loads it; {len(ref_ids)} prompt tokens, max |Δlogit| {diff:.2e}, top-1 agreement {top1:.3f}")
            llm.reset()
        tokens = []
        for tok in llm.generate(ref_ids, temp=0.0, top_k=1):
            if len(tokens) == 32:
                break
            tokens.append(tok)
        ref = llm.detokenize(tokens).decode("utf-8", errors="replace")
        same = out.rstrip("\n") == ref
        check(same, f"{name}: greedy continuation differs:\n ckpt  {out!r}\n llama {ref!r}")
        print(f"{name}: greedy 32 tokens {'identical' if same else 'DIFFERENT'}: {ref[:60]!r}")
check.finish()
