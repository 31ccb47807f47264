#!/usr/bin/env python3
"""Crosscheck of `ckpt convert GGUF --to hf` on the real model: the SmolLM2 F32 GGUF exported to a Hugging Face
folder loads in transformers (AutoModelForCausalLM, AutoTokenizer); its tokenizer encodes the fixture strings
(fixtures/tokenizer/encodings.json, 62 strings: unicode, emoji, whitespace runs, digits, code, special tokens) to
the same ids as llama.cpp (llama-cpp-python 0.3.36, special=True); and transformers' greedy 64-token
continuation of a chat prompt is llama.cpp's on the F32 GGUF (F32 KV cache).
Usage: export_hf_real.py CKPT_BINARY F32.gguf   -> 'N passed, M failed'"""
import json
import os
import subprocess
import sys
import tempfile

import llama_cpp
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from checks import Checks

ckpt, f32 = sys.argv[1:3]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
check = Checks()


torch.set_num_threads(2)
with tempfile.TemporaryDirectory() as tmp:
    folder = os.path.join(tmp, "SmolLM2-135M-Instruct")
    subprocess.run([ckpt, "convert", f32, folder, "--to", "hf"], check=True, capture_output=True)
    print("files:", sorted(os.listdir(folder)))
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32)
    model.eval()
    vocab = llama_cpp.Llama(model_path=f32, vocab_only=True, verbose=False)
    strings = [c["text"] for c in json.load(open(os.path.join(root, "fixtures/tokenizer/encodings.json")))["cases"]]
    for s in strings:
        ours = tok(s, add_special_tokens=False)["input_ids"]
        ref = vocab.tokenize(s.encode(), add_bos=False, special=True)
        check(ours == ref, f"tokenize {s!r}: transformers {ours} vs llama.cpp {ref}")
    print(f"tokenizer: {len(strings)} strings compared with llama.cpp")
    prompt = tok.apply_chat_template([{"role": "user", "content": "Write one sentence about the moon."}],
                                     tokenize=False, add_generation_prompt=True)
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=64, do_sample=False, eos_token_id=tok.eos_token_id)
    ours = out[0][len(ids):].tolist()
    if ours and ours[-1] == tok.eos_token_id:
        ours = ours[:-1]
    llm = llama_cpp.Llama(model_path=f32, n_ctx=512, n_threads=2, verbose=False, type_k=0, type_v=0)
    ref = []
    for t in llm.generate(ids, temp=0.0, top_k=1):
        if t == llm.token_eos() or len(ref) == 64:
            break
        ref.append(t)
    check(ours == ref, f"greedy continuation differs:\n transformers {tok.decode(ours)!r}\n llama.cpp    {llm.detokenize(ref)!r}")
    print(f"greedy {len(ref)} tokens: {'identical' if ours == ref else 'DIFFERENT'}: {tok.decode(ours)[:80]!r}")
check.finish()
