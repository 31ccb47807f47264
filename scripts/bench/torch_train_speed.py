#!/usr/bin/env python3
"""PyTorch side of scripts/bench/train: a random-init model from a config.json (GPT2LMHeadModel or
LlamaForCausalLM, dropout 0 as ckpt has none), random token batches, timed forward + loss + backward
(+ AdamW) steps on 2 threads; with --lora-rank R, PEFT LoRA adapters (alpha 2R, all linear layers, dropout 0)
on the frozen model instead; --grad-checkpoint: transformers' gradient checkpointing. Prints one JSON line like `ckpt bench-train`."""
import argparse
import json
import time

import torch
import transformers

p = argparse.ArgumentParser()
p.add_argument("config")
p.add_argument("--batch", type=int, default=4)
p.add_argument("--seq", type=int, default=256)
p.add_argument("--steps", type=int, default=3)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--adamw", action="store_true")
p.add_argument("--lora-rank", type=int)
p.add_argument("--grad-checkpoint", action="store_true")
a = p.parse_args()

torch.set_num_threads(2)
torch.manual_seed(1)
config = transformers.AutoConfig.from_pretrained(a.config)
for field in ("attn_pdrop", "embd_pdrop", "resid_pdrop", "attention_dropout", "dropout"):
    if hasattr(config, field):
        setattr(config, field, 0.0)
config._attn_implementation = "eager"
model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
if a.grad_checkpoint:
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
if a.lora_rank:
    from peft import LoraConfig, get_peft_model
    model = get_peft_model(model, LoraConfig(r=a.lora_rank, lora_alpha=2 * a.lora_rank, lora_dropout=0.0,
                                             target_modules="all-linear", task_type="CAUSAL_LM"))
model.train()
optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=1e-4, weight_decay=0.01)
forward = backward = update = 0.0
for step in range(a.warmup + a.steps):
    ids = torch.randint(0, config.vocab_size, (a.batch, a.seq))
    t0 = time.perf_counter()
    optimizer.zero_grad(set_to_none=False)
    loss = model(input_ids=ids, labels=ids).loss
    t1 = time.perf_counter()
    loss.backward()
    t2 = time.perf_counter()
    if a.adamw:
        optimizer.step()
    t3 = time.perf_counter()
    if step >= a.warmup:
        forward += t1 - t0
        backward += t2 - t1
        update += t3 - t2
total = forward + backward + update
print(json.dumps({"tok_per_s": a.batch * a.seq * a.steps / total, "forward_s": forward / a.steps,
                  "backward_s": backward / a.steps, "adamw_s": update / a.steps,
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "trainable": sum(q.numel() for q in model.parameters() if q.requires_grad), "torch": torch.__version__,
                  "threads": torch.get_num_threads()}))
