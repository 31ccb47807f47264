#!/usr/bin/env python3
"""ckpt's LoRA adapters in PEFT: on the tiny model of every family, `ckpt finetune --lora-rank 4` (all linear
layers, 3 steps) writes RUN/adapter; PEFT loads it onto the transformers model and merges it
(merge_and_unload): every weight must equal the one `ckpt lora merge --hf` writes within 1e-5 of the tensor's
scale, and the logits of PEFT's unmerged model must equal transformers' on ckpt's merged folder within 1e-4 of
the logit scale (not for the tiny gemma3: its query_pre_attn_scalar 24 and 3-layer sliding pattern have no GGUF
keys, llama.cpp derives both, so any GGUF -> HF of it differs), while the adapter changes the logits.
Then llama.cpp (llama-cpp-python, F32 KV cache): the base GGUF with RUN/lora-adapter.gguf as lora_path must give
the logits llama.cpp gives on ckpt's merged GGUF within 1e-4 of the logit scale, and PEFT's within 1e-3 (gemma3
as above; phi3-longrope: llama.cpp and transformers choose different rope factors at 8 tokens). With --real F32.gguf (SmolLM2-135M-Instruct), the same on the real model, exported to transformers files
by `ckpt convert --to hf` first.
Usage: lora_vs_peft.py CKPT_BINARY [--real F32.gguf]"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures")
MODELS = {name: os.path.join(ROOT, "families", name) for name in
          ["llama3", "mistral", "qwen2", "qwen3", "gemma3", "phi3", "phi4", "phi3-longrope"]}
MODELS["gpt2"] = os.path.join(ROOT, "hf", "gpt2", "safetensors")


def load(path):
    m = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    m.eval()
    return m


def llama_logits(model, ids, lora=None):
    import llama_cpp
    kw = {"lora_path": lora} if lora else {}
    llm = llama_cpp.Llama(model_path=model, n_ctx=64, n_batch=64, n_threads=2, logits_all=True, verbose=False,
                          type_k=0, type_v=0, **kw)
    llm.eval(ids)
    out = torch.tensor(np.array(llm.scores[:len(ids)], dtype=np.float32))
    del llm
    return out


def main():
    binary = sys.argv[1]
    models = dict(MODELS)
    real = sys.argv[sys.argv.index("--real") + 1] if "--real" in sys.argv else None
    torch.set_num_threads(1)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        if real:
            models = {"SmolLM2-135M": os.path.join(tmp, "smollm2-hf")}
            subprocess.run([binary, "convert", real, models["SmolLM2-135M"], "--to", "hf"], check=True, capture_output=True)
        data = os.path.join(tmp, "d.jsonl")
        with open(data, "w") as f:
            for a, b in [("a tokenizer ", "splits the text"), ("the pieces ", "map to ids"), ("ids in ", "the vocabulary")]:
                f.write(json.dumps({"prompt": a, "output": b}) + "\n")
        for name, path in models.items():
            run = os.path.join(tmp, name)
            if "phi3" in name:  # as families_vs_references.py: llama.cpp's phi-3 name check needs a token the tiny vocab lacks
                copy = os.path.join(tmp, "tiny-" + name.replace("phi3", "p3"))
                shutil.copytree(path, copy)
                path = copy
            subprocess.run([binary, "finetune", path, "--data", data, "--dev-data", data, "--out", run, "--steps", "3",
                            "--lr", "5e-2", "--lora-rank", "4", "--lora-alpha", "8"], check=True, capture_output=True)
            merged = os.path.join(tmp, name + "-merged.gguf")
            subprocess.run([binary, "lora", "merge", os.path.join(run, "base.gguf"), os.path.join(run, "adapter"), merged,
                            "--hf"], check=True, capture_output=True)
            ids = torch.tensor([[5, 40, 77, 12, 9, 100, 3, 41]])
            cpp_lora = llama_logits(os.path.join(run, "base.gguf"), ids[0].tolist(), os.path.join(run, "lora-adapter.gguf"))
            cpp_merged = llama_logits(merged, ids[0].tolist())
            with torch.no_grad():
                adapted = PeftModel.from_pretrained(load(path), os.path.join(run, "adapter")).eval()
                peft_logits = adapted(ids).logits
                ours = load(merged[:-5] + "-hf")
                merged_logits = ours(ids).logits
                plain = load(path)(ids).logits
                theirs = adapted.merge_and_unload().state_dict()
                mine = ours.state_dict()
                weights = max(((theirs[k] - mine[k]).abs().max() / theirs[k].abs().max().clamp(min=1e-30)).item()
                              for k in theirs if theirs[k].dim() == 2)
            scale = peft_logits.abs().max().item()
            diff = (peft_logits - merged_logits).abs().max().item() / scale
            effect = (peft_logits - plain).abs().max().item() / scale
            good = weights <= 1e-5 and effect > 1e-3 and (diff <= 1e-4 or name == "gemma3")
            cpp_scale = cpp_merged.abs().max().item()
            cpp_diff = (cpp_lora - cpp_merged).abs().max().item() / cpp_scale
            cpp_peft = (cpp_lora - peft_logits[0]).abs().max().item() / scale
            # phi3-longrope: llama.cpp takes the long factors whenever its context (64) exceeds the original (16),
            # transformers only past 16 tokens, so on these 8 tokens the two runtimes compute different models.
            cpp_good = cpp_diff <= 1e-4 and (cpp_peft <= 1e-3 or name in ("gemma3", "phi3-longrope"))
            ok &= good and cpp_good
            print(f"{name:14s} merged weights vs PEFT merge_and_unload {weights:.1e}; PEFT(base + ckpt adapter) logits vs "
                  f"ckpt merged {diff:.1e}{' (not comparable, see above)' if name == 'gemma3' else ''}; "
                  f"adapter moves the logits by {effect:.2f}  {'ok' if good else 'FAIL'}")
            print(f"{'':14s} llama.cpp base + ckpt lora-adapter.gguf vs llama.cpp on ckpt merged {cpp_diff:.1e}, vs PEFT "
                  f"{cpp_peft:.1e}{' (not comparable, see the script)' if name in ('gemma3', 'phi3-longrope') else ''}"
                  f"  {'ok' if cpp_good else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
