#!/usr/bin/env python3
"""Crosscheck of training on the real model (SmolLM2-135M-Instruct F32), against PyTorch/transformers and PEFT:
1. `ckpt finetune`, one step (2 examples, clip 1.0, AdamW lr 1e-4, wd 0.01 on matrices) vs the same step in
   PyTorch on the model exported by `ckpt convert --to hf`, tokenized the MiniLLM way with the HF tokenizer:
   loss, gradient norm, and the weights after the step (tensors whose layout GGUF keeps as HF's).
2. `ckpt prompt-tune --lr 0`: the TEXT-initialized prompt equals PEFT's PromptTuningConfig TEXT init.
3. `ckpt prompt-tune`, 2 steps: PEFT loads the adapter (PeftModel.from_pretrained) and its logits for a
   prompt equal `ckpt generate --adapter --logits-out` (soft prompt rows dropped).
Usage: training_vs_torch.py CKPT_BINARY F32.gguf   -> 'N passed, M failed'"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from gguf import GGUFReader
from peft import PeftModel, PromptTuningConfig, get_peft_model
from safetensors.numpy import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer
from checks import Checks

ckpt, f32 = sys.argv[1:3]
check = Checks()
torch.set_num_threads(2)
EXAMPLES = [("Below is an instruction that describes a task. Write a response that appropriately completes the request."
             "\n\n### Instruction:\nName two primary colors.\n\n### Response:\n", "Red and blue."),
            ("Below is an instruction that describes a task. Write a response that appropriately completes the request."
             "\n\n### Instruction:\nWhat is the boiling point of water at sea level?\n\n### Response:\n",
             "Water boils at 100 degrees Celsius at sea level.")]


def ckpt_run(*args):
    r = subprocess.run([ckpt, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"ckpt {' '.join(args)} failed:\n{r.stderr}")
    return r


def rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


with tempfile.TemporaryDirectory() as tmp:
    hf = os.path.join(tmp, "hf")
    ckpt_run("convert", f32, hf, "--to", "hf")
    tok = AutoTokenizer.from_pretrained(hf)
    data = os.path.join(tmp, "data.jsonl")
    with open(data, "w") as f:
        for p, o in EXAMPLES:
            f.write(json.dumps({"prompt": p, "output": o}) + "\n")

    # 1. One SFT step.
    run = os.path.join(tmp, "sft")
    ckpt_run("finetune", f32, "--data", data, "--dev-data", data, "--out", run, "--steps", "1", "--batch-size", "2",
             "--lr", "1e-4", "--schedule", "constant", "--clip", "1.0", "--weight-decay", "0.01")
    metrics = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl")) if '"loss"' in l][0]
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32, attn_implementation="eager")
    model.train()
    seqs, labels = [], []
    for p, o in EXAMPLES:
        pi = tok.encode(p, add_special_tokens=False)
        ids = pi + tok.encode(p + o, add_special_tokens=False)[len(pi):] + [tok.eos_token_id]
        seqs.append(ids)
        labels.append([-100] * len(pi) + ids[len(pi):])
    L = max(map(len, seqs))
    ids = torch.tensor([s + [0] * (L - len(s)) for s in seqs])
    mask = torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s in seqs])
    lab = torch.tensor([l + [-100] * (L - len(l)) for l in labels])
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    loss = model(input_ids=ids, attention_mask=mask, labels=lab).loss
    loss.backward()
    norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
    decay = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]
    torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                      lr=1e-4, betas=(0.9, 0.999), eps=1e-8).step()
    print(f"loss ckpt {metrics['loss']:.7f} torch {float(loss):.7f}; grad norm ckpt {metrics['grad_norm']:.5f} torch {norm:.5f}")
    check(abs(metrics["loss"] - float(loss)) <= 1e-4 * float(loss), "sft loss")
    check(abs(metrics["grad_norm"] - norm) <= 1e-3 * norm, "sft grad norm")
    ours = {t.name: np.array(t.data).reshape([int(d) for d in reversed(t.shape)]) for t in GGUFReader(os.path.join(run, "model.gguf")).tensors}
    pairs = [("token_embd.weight", "model.embed_tokens.weight"), ("output_norm.weight", "model.norm.weight")]
    for layer in (0, 15, 29):
        pairs += [(f"blk.{layer}.{g}.weight", f"model.layers.{layer}.{h}.weight") for g, h in
                  [("attn_v", "self_attn.v_proj"), ("attn_output", "self_attn.o_proj"), ("ffn_down", "mlp.down_proj"),
                   ("ffn_up", "mlp.up_proj"), ("ffn_gate", "mlp.gate_proj"), ("attn_norm", "input_layernorm")]]
    params = dict(model.named_parameters())
    worst = 0.0
    for g, h in pairs:
        theirs = params[h].detach().numpy()
        moved = np.abs(theirs - before[h].numpy()).max()
        r = rel(ours[g], theirs)
        worst = max(worst, r)
        check(r <= 1e-4 and moved > 0, f"{g}: relative {r:.2e}, step moved it by {moved:.2e}")
    print(f"{len(pairs)} tensors after the step: worst max|Δ|/max|w| {worst:.2e}")

    # 2. TEXT init equals PEFT's.
    run = os.path.join(tmp, "init")
    ckpt_run("prompt-tune", f32, "--data", data, "--out", run, "--steps", "1", "--batch-size", "2", "--lr", "0")
    ours = load_file(os.path.join(run, "adapter", "adapter_model.safetensors"))["prompt_embeddings"]
    base = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32)
    peft = get_peft_model(base, PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=7, prompt_tuning_init="TEXT",
                                                   prompt_tuning_init_text="Suppose you are a student.",
                                                   tokenizer_name_or_path=hf))
    theirs = peft.prompt_encoder["default"].embedding.weight.detach().numpy()
    check(np.array_equal(ours, theirs), "TEXT init equals PEFT's")
    print("TEXT init: ckpt and PEFT prompts identical:", np.array_equal(ours, theirs))

    # 3. PEFT loads a trained adapter; same logits as ckpt generate --adapter.
    run = os.path.join(tmp, "prompt")
    ckpt_run("prompt-tune", f32, "--data", data, "--out", run, "--steps", "2", "--batch-size", "2", "--lr", "1e-2")
    base = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32, attn_implementation="eager")
    peft = PeftModel.from_pretrained(base, os.path.join(run, "adapter"))
    text = EXAMPLES[0][0]
    ids_path, logits_path = os.path.join(tmp, "ids.json"), os.path.join(tmp, "logits.npy")
    ckpt_run("generate", f32, "--prompt", text, "-n", "1", "--adapter", os.path.join(run, "adapter"),
             "--ids-out", ids_path, "--logits-out", logits_path)
    ids = json.load(open(ids_path))
    check(ids == tok.encode(text, add_special_tokens=False), "prompt ids")
    with torch.no_grad():
        theirs = peft(input_ids=torch.tensor([ids])).logits[0, 7:].numpy()
    ours = np.load(logits_path)
    r = rel(ours, theirs)
    print(f"PEFT-loaded adapter: {len(ids)} positions, max |Δ logits| / max |logit| {r:.2e}, "
          f"top-1 agreement {float((ours.argmax(1) == theirs.argmax(1)).mean()):.3f}")
    check(ours.shape == theirs.shape and r <= 1e-4, "PEFT logits")
check.finish()
