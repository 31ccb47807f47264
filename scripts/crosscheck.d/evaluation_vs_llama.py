#!/usr/bin/env python3
"""Crosscheck of ckpt perplexity and ckpt generate --chat on the real model against llama.cpp
(llama-cpp-python 0.3.36):
1. `ckpt perplexity --ctx 512 --chunks 4 --json` on the Q4_1 file and the F32 copy vs the same computation
   (llama-perplexity's convention: whole chunks, second half scored, BOS only if the vocab adds one) over
   llama.cpp's own logits for each chunk: within 0.5%;
2. `ckpt generate --chat` prompt ids vs llama-cpp-python rendering the model's Jinja chat template
   (Jinja2ChatFormatter) and tokenizing it with special tokens: identical.
Usage: evaluation_vs_llama.py CKPT_BINARY Q4_1.gguf F32.gguf TEXT   -> 'N passed, M failed'"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from checks import Checks
from llama_ppl import perplexity

ckpt, q41, f32, text_path = sys.argv[1:5]
CTX, CHUNKS = 512, 4
check = Checks()


for name, model in (("Q4_1", q41), ("F32", f32)):
    ref, count = perplexity(model, open(text_path, encoding="utf-8").read(), CTX, CHUNKS)
    out = subprocess.run([ckpt, "perplexity", model, "-f", text_path, "--ctx", str(CTX), "--chunks", str(CHUNKS), "--json"],
                         capture_output=True, text=True, check=True).stdout
    ours = json.loads(out)
    rel = abs(ours["perplexity"] - ref) / ref
    check(ours["scored_tokens"] == count, f"{name}: scored {ours['scored_tokens']} tokens, llama.cpp way {count}")
    check(rel <= 0.005, f"{name}: PPL {ours['perplexity']:.4f} vs {ref:.4f} through llama.cpp logits ({100 * rel:.3f}%)")
    print(f"{name}: PPL ckpt {ours['perplexity']:.4f}, through llama.cpp logits {ref:.4f} ({100 * rel:.3f}%), {count} tokens")

vocab = llama_cpp.Llama(model_path=q41, vocab_only=True, verbose=False)
template = vocab.metadata["tokenizer.chat_template"]
formatter = Jinja2ChatFormatter(template=template, eos_token="<|im_end|>", bos_token="<|im_start|>")
for message in ["What is the capital of France?", "Write a haiku about\nthe sea.", "  spaces  "]:
    prompt = formatter(messages=[{"role": "user", "content": message}]).prompt
    ref = vocab.tokenize(prompt.encode(), add_bos=False, special=True)
    with tempfile.TemporaryDirectory() as tmp:
        ids_path = os.path.join(tmp, "ids.json")
        subprocess.run([ckpt, "generate", q41, "--chat", message, "-n", "1", "--ids-out", ids_path],
                       capture_output=True, check=True)
        ours = json.load(open(ids_path))
    check(ours == ref, f"--chat {message!r}: {len(ours)} ids vs {len(ref)} from the Jinja template")
print("chat: 3 messages compared with llama-cpp-python's Jinja rendering")
check.finish(show=len(check.failed))
