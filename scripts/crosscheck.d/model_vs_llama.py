#!/usr/bin/env python3
"""Crosscheck of the transformer and tokenizer on the real model against llama.cpp (llama-cpp-python 0.3.36):
1. tokenization of the fixture strings (fixtures/tokenizer/encodings.json) plus a few more with the SmolLM2
   vocabulary: `ckpt tokenize` vs llama.cpp's tokenize(special=True);
2. prompt logits: `ckpt generate --logits-out` on the F32 copy and on the Q4_1 file (ckpt dequantizes exactly)
   vs llama.cpp on the F32 copy with an F32 KV cache, all positions: max |Δ| ≤ 1e-3 and top-1 agreement;
3. the 64-token greedy continuation: ckpt on the Q4_1 file vs llama.cpp on the F32 copy, identical text.
Usage: model_vs_llama.py CKPT_BINARY Q4_1.gguf F32.gguf   -> 'N passed, M failed'"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import llama_cpp
from checks import Checks

ckpt, q41, f32 = sys.argv[1:4]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
check = Checks()


strings = [c["text"] for c in json.load(open(os.path.join(root, "fixtures/tokenizer/encodings.json")))["cases"]]
strings += ["SmolLM2 was trained by Hugging Face.", "ⅷ ² ½ ٣ numerals", "  \t mixed \u3000 spaces"]
vocab = llama_cpp.Llama(model_path=q41, vocab_only=True, verbose=False)
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "strings.json")
    json.dump(strings, open(path, "w"))
    ours = json.loads(subprocess.check_output([ckpt, "tokenize", q41, "--strings-file", path]))
    for s, ids in zip(strings, ours):
        ref = vocab.tokenize(s.encode(), add_bos=False, special=True)
        check(ref == ids, f"tokenize {s!r}: {ids} vs llama.cpp {ref}")
print(f"tokenize: {len(strings)} strings compared")

prompt = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n" \
         "<|im_start|>user\nWrite one sentence about the moon.<|im_end|>\n<|im_start|>assistant\n"
llm = llama_cpp.Llama(model_path=f32, n_ctx=512, n_batch=512, n_threads=2, logits_all=True, verbose=False, type_k=0, type_v=0)
ref_ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
llm.eval(ref_ids)
ref_logits = np.array(llm.scores[:len(ref_ids)], dtype=np.float32)
with tempfile.TemporaryDirectory() as tmp:
    for name, model in (("F32", f32), ("Q4_1", q41)):
        npy, ids_json = os.path.join(tmp, f"{name}.npy"), os.path.join(tmp, f"{name}.json")
        out = subprocess.check_output([ckpt, "generate", model, "--prompt", prompt, "-n", "64", "--temp", "0",
                                       "--logits-out", npy, "--ids-out", ids_json], stderr=subprocess.DEVNULL).decode()
        ids = json.load(open(ids_json))
        check(ids == ref_ids, f"{name}: prompt ids differ")
        ours = np.load(npy)
        diff = float(np.abs(ours - ref_logits).max())
        top1 = float((ours.argmax(1) == ref_logits.argmax(1)).mean())
        check(diff <= 1e-3, f"{name}: max |Δlogit| {diff:.2e} > 1e-3")
        check(top1 == 1.0, f"{name}: top-1 agreement {top1:.3f}")
        print(f"{name}: {len(ids)} prompt tokens, max |Δlogit| vs llama.cpp F32 {diff:.2e}, top-1 agreement {top1:.3f}")
        if name == "Q4_1":
            # llama.cpp's greedy continuation on the F32 copy, token by token from the same KV state.
            llm.reset()
            tokens = []
            for tok in llm.generate(ref_ids, temp=0.0, top_k=1):
                if tok == llm.token_eos() or len(tokens) == 64:
                    break
                tokens.append(tok)
            ref = llm.detokenize(tokens).decode("utf-8", errors="replace")
            check(out.rstrip("\n") == ref, f"greedy continuation differs:\n ckpt  {out!r}\n llama {ref!r}")
            print(f"greedy 64 tokens: {'identical' if out.rstrip(chr(10)) == ref else 'DIFFERENT'}: {ref[:80]!r}")

check.finish()
