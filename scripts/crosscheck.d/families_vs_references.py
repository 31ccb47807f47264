#!/usr/bin/env python3
"""Crosscheck of every model family of the registry (fixtures/families, made by fixtures/make_families.py) against
llama.cpp (llama-cpp-python 0.3.36) and transformers 5.24:
1. runtime: `ckpt convert HF OUT.gguf --outtype f32`, llama.cpp loads it (F32 KV cache, logits_all, n_ctx 64) and
   its logits for the fixture's tokens equal transformers' within 1e-3 of the logit scale, top-1 identical.
   Two families are compared under llama.cpp's own semantics, which the GGUF cannot change:
   - gemma3: llama.cpp scales scores by 1/sqrt(head_dim) (GGUF has no query_pre_attn_scalar; the fixture's is 24)
     and slides every layer l with l % 6 < 5 (the fixture's layer_types say layer 2 is global). The reference is
     transformers rerun on the same weights with query_pre_attn_scalar = head_dim and those layer types.
   - phi3-longrope: llama.cpp picks the long factors when the context (64) exceeds the original (16), so the
     fixture's 20-token sequence (long factors in transformers too) is compared.
   The phi3 folders are converted from a copy named without "phi3": llama.cpp marks the special tokens of a model
   whose general.name (the folder's name) says phi-3 by looking up "<|endoftext|>", which the tiny vocabulary lacks.
2. export: `ckpt convert OUT.gguf HF2` (GGUF -> HF), transformers loads HF2, same logits as (1)'s reference <= 1e-4.
3. quantize: for each family a random model of real K-quant width made here by transformers (hidden 256,
   intermediate 512, 4 heads of 64, 2 KV heads, 4 layers; gemma3 6 layers; vocab 320, the fixture's tokenizer),
   converted by ckpt to F32 GGUF, then quantized by ckpt and by llama_model_quantize to Q4_K_M, Q5_K_M, Q6_K,
   Q3_K_M, Q4_K_S and Q8_0: the files identical byte for byte.
Usage: families_vs_references.py CKPT_BINARY   -> 'N passed, M failed', exit 1 on failure"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from checks import Checks
from llama_quantize_lib import quantize

os.environ["HF_HUB_OFFLINE"] = "1"
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
families = os.path.join(root, "fixtures", "families")
MODELS = ["llama3", "mistral", "qwen2", "qwen3", "gemma3", "phi3", "phi4", "phi3-longrope", "qwen2-yarn"]
MIXES = ["Q4_K_M", "Q5_K_M", "Q6_K", "Q3_K_M", "Q4_K_S", "Q8_0"]
ckpt = sys.argv[1]
check = Checks()


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    return check(r.returncode == 0, f"{what}: exit {r.returncode}: {(r.stderr or r.stdout).strip()[-300:]}")


def golden(name):
    e = json.load(open(os.path.join(families, name, "expected.json")))
    if name == "phi3-longrope":
        return e["long_tokens"], np.frombuffer(bytes.fromhex(e["long_logits"]), "<f4").reshape(len(e["long_tokens"]), -1)
    return e["tokens"], np.frombuffer(bytes.fromhex(e["logits"]), "<f4").reshape(e["logits_shape"])


def transformers_logits(folder, ids, overrides=None):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    config = AutoConfig.from_pretrained(folder)
    for k, v in (overrides or {}).items():
        setattr(config, k, v)
    model = AutoModelForCausalLM.from_pretrained(folder, config=config, attn_implementation="eager").eval()
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def llama_semantics(name):
    """Config changes that make transformers compute what llama.cpp computes from the GGUF."""
    if name != "gemma3":
        return None
    c = json.load(open(os.path.join(families, name, "config.json")))
    n = c["num_hidden_layers"]
    return {"query_pre_attn_scalar": c["head_dim"],
            "layer_types": ["sliding_attention" if l % 6 < 5 else "full_attention" for l in range(n)]}


def worst(got, ref):
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30))


def llama_logits(path, ids):
    import llama_cpp
    llm = llama_cpp.Llama(model_path=path, n_ctx=64, n_batch=64, n_threads=2, logits_all=True, verbose=False,
                          type_k=0, type_v=0)
    llm.eval(ids)
    return np.array(llm.scores[:len(ids)], dtype=np.float32)


def random_model(name, folder):
    """A family member of real K-quant width with the fixture's tokenizer (section 3)."""
    import shutil
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    c = json.load(open(os.path.join(families, name, "config.json")))
    c.update(hidden_size=256, intermediate_size=512, num_attention_heads=4, num_key_value_heads=2,
             num_hidden_layers=6 if name == "gemma3" else 4)
    if "head_dim" in c:
        c["head_dim"] = 64
    c.pop("layer_types", None)  # qwen2/qwen3 write one per layer
    if name == "gemma3":
        c.update(query_pre_attn_scalar=64, layer_types=["sliding_attention" if l % 6 < 5 else "full_attention" for l in range(6)])
    if name == "llama3":  # head 64: some pairs kept, some smoothed, some divided
        c["rope_parameters"]["original_max_position_embeddings"] = 128
    config = AutoConfig.for_model(**{k: v for k, v in c.items() if k not in ("architectures", "transformers_version")})
    config.architectures = c["architectures"]
    torch.manual_seed(7)
    model = AutoModelForCausalLM.from_config(config)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape) * (0.05 if p.dim() > 1 else 0.1) + (1.0 if p.dim() == 1 and name != "gemma3" else 0.0))
    model.save_pretrained(folder)
    for f in os.listdir(os.path.join(families, name)):
        if f.startswith("tokenizer") or f.endswith(".jinja"):
            shutil.copy(os.path.join(families, name, f), folder)


with tempfile.TemporaryDirectory() as tmp:
    import shutil
    for name in MODELS:
        hf = os.path.join(families, name)
        if name.startswith("phi3"):
            hf = shutil.copytree(hf, os.path.join(tmp, name.replace("phi3", "tiny-p3")))
        gguf = os.path.join(tmp, f"{name}.gguf")
        if not run([ckpt, "convert", hf, gguf, "--outtype", "f32", "--force"], f"{name}: ckpt convert HF -> GGUF"):
            continue
        ids, stored = golden(name)
        ref = stored if llama_semantics(name) is None else transformers_logits(hf, ids, llama_semantics(name))
        if llama_semantics(name) is not None:
            print(f"{name}: reference = transformers with {llama_semantics(name)} "
                  f"(differs from the fixture's own logits by {worst(ref, stored):.2e} of the scale)")
        try:
            got = llama_logits(gguf, ids)
            d, top1 = worst(got, ref), float((got.argmax(1) == ref.argmax(1)).mean())
            check(d <= 1e-3, f"{name}: llama.cpp vs transformers {d:.2e} > 1e-3")
            check(top1 == 1.0, f"{name}: llama.cpp top-1 agreement {top1:.3f}")
            print(f"{name}: llama.cpp on ckpt's GGUF, {len(ids)} tokens: max |Δ| / scale {d:.2e}, top-1 {top1:.3f}")
        except Exception as e:
            check(False, f"{name}: llama.cpp cannot run ckpt's GGUF: {e}")
        back = os.path.join(tmp, f"{name}-hf")
        if run([ckpt, "convert", gguf, back, "--force"], f"{name}: ckpt convert GGUF -> HF"):
            try:
                got = transformers_logits(back, ids)
                d = worst(got, ref)
                check(d <= 1e-4, f"{name}: exported HF folder in transformers {d:.2e} > 1e-4")
                print(f"{name}: GGUF -> HF folder in transformers: max |Δ| / scale {d:.2e}")
            except Exception as e:
                check(False, f"{name}: transformers cannot load the exported folder: {e}")

    for name in ["llama3", "qwen2", "qwen3", "gemma3", "phi3", "phi4"]:
        folder = os.path.join(tmp, f"{name}-256")
        random_model(name, folder)
        f32 = os.path.join(tmp, f"{name}-256.gguf")
        if not run([ckpt, "convert", folder, f32, "--outtype", "f32", "--force"], f"{name}-256: ckpt convert"):
            continue
        same = []
        for mix in MIXES:
            ours, theirs = os.path.join(tmp, f"{name}-{mix}-ckpt.gguf"), os.path.join(tmp, f"{name}-{mix}-llama.gguf")
            if not run([ckpt, "quantize", f32, ours, mix, "--force"], f"{name} {mix}: ckpt quantize"):
                continue
            quantize(f32, theirs, mix)
            ok = open(ours, "rb").read() == open(theirs, "rb").read()
            check(ok, f"{name} {mix}: ckpt quantize differs from llama_model_quantize")
            same.append(f"{mix} {'identical' if ok else 'DIFFERENT'}")
        print(f"{name} (hidden 256): " + ", ".join(same))
check.finish()
