#!/usr/bin/env python3
"""Continue a ckpt PromptKD run in PyTorch: the scale-out path (GPUs, several of them with accelerate).

`ckpt distill --method promptkd --hf --out RUN` leaves RUN/hf (the student as a Hugging Face folder) and
RUN/prompt-adapter (the teacher's soft prompt as a PEFT PROMPT_TUNING adapter). This script loads both, with the
teacher as a Hugging Face folder (`ckpt convert TEACHER.gguf TEACHER_HF --to hf` if it is a GGUF), and runs the same
PromptKD step as ckpt (promptkd.md §3): the student samples answers (T 1); the prompt learns
KL(q‖p_S) + (1 − s/S)·KL(q‖p_T) through the frozen teacher; the student learns KL(p_S‖q') against the updated
prompt; AdamW for both, clip 1.0, constant lr. It writes OUT/hf and OUT/prompt-adapter, which ckpt reads again
(`ckpt convert OUT/hf student.gguf`, `ckpt quantize`, `ckpt generate TEACHER --adapter OUT/prompt-adapter`).

    accelerate launch scripts/scale_out_promptkd.py --run RUN --teacher TEACHER_HF --data train.jsonl --out OUT \
        [--steps 100] [--batch-size 4] [--lr 5e-5] [--max-new-tokens 256]
    (or plain `python3 scripts/scale_out_promptkd.py ...` on one device)

Needs torch, transformers, peft and accelerate. Data: the JSONL forms ckpt reads, with MiniLLM's template.
"""
import argparse
import json
import os
import random
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from teacher_logits_hf import load_examples  # noqa: E402  (the same data forms and template as ckpt)


def masked_kl(a_logits, b_logits, mask):
    """Σ_t mask·KL(softmax(a)‖softmax(b)) / Σ mask over [B, T, V] (promptkd.md §4)."""
    la, lb = F.log_softmax(a_logits.float(), -1), F.log_softmax(b_logits.float(), -1)
    kl = (la.exp() * (la - lb)).sum(-1)
    return (kl * mask).sum() / mask.sum().clamp(min=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a ckpt distill run folder with hf/ and prompt-adapter/")
    ap.add_argument("--teacher", required=True, help="the teacher as a Hugging Face folder")
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--prompt-lr", type=float, default=5e-5)
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--seed", type=int, default=10)
    a = ap.parse_args()

    from accelerate import Accelerator
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    acc = Accelerator()
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    tokenizer = AutoTokenizer.from_pretrained(os.path.join(a.run, "hf"))
    eos = tokenizer.eos_token_id
    student = AutoModelForCausalLM.from_pretrained(os.path.join(a.run, "hf"), dtype=torch.float32)
    teacher = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(a.teacher, dtype=torch.float32),
                                        os.path.join(a.run, "prompt-adapter"))  # made trainable below
    P = teacher.peft_config["default"].num_virtual_tokens
    for name, p in teacher.named_parameters():
        p.requires_grad = "prompt_encoder" in name
    s_opt = torch.optim.AdamW(student.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    p_opt = torch.optim.AdamW([p for p in teacher.parameters() if p.requires_grad], lr=a.prompt_lr, weight_decay=0.01)
    student, teacher, s_opt, p_opt = acc.prepare(student, teacher, s_opt, p_opt)
    prompts = [tokenizer(p, add_special_tokens=False)["input_ids"] for p, _, _ in load_examples(a.data)]
    prompts = [p for p in prompts if len(p) <= 256]
    for step in range(1, a.steps + 1):
        batch = random.sample(prompts, a.batch_size)
        # 1. The student samples (eval mode, T 1, top-k 0, top-p 1), each answer ending with EOS.
        student.eval()
        sequences = []
        with torch.no_grad():
            for p in batch:
                out = acc.unwrap_model(student).generate(torch.tensor([p], device=acc.device), do_sample=True, temperature=1.0, top_k=0,
                                                         top_p=1.0, max_new_tokens=a.max_new_tokens, eos_token_id=eos, pad_token_id=eos)
                answer = out[0, len(p):].tolist()
                answer = answer[:answer.index(eos) + 1] if eos in answer else (answer[:-1] + [eos] if answer else [eos])
                sequences.append(p + answer)
        longest = max(map(len, sequences))
        ids = torch.full((len(sequences), longest), eos, dtype=torch.long, device=acc.device)
        attention = torch.zeros_like(ids)
        mask = torch.zeros(len(sequences), longest - 1, device=acc.device)
        for i, (p, s) in enumerate(zip(batch, sequences)):
            ids[i, :len(s)] = torch.tensor(s)
            attention[i, :len(s)] = 1
            mask[i, len(p) - 1:len(s) - 1] = 1  # positions that predict the answer and EOS
        inputs, attn = ids[:, :-1], attention[:, :-1]
        # 2. The prompt step: q (prompted teacher, trainable prompt) against p_S and the plain teacher p_T.
        with torch.no_grad():
            p_s = student(input_ids=inputs, attention_mask=attn).logits
            with acc.unwrap_model(teacher).disable_adapter():
                p_t = teacher(input_ids=inputs, attention_mask=attn).logits
        w = 1 - step / a.steps
        q = teacher(input_ids=inputs, attention_mask=attn).logits[:, P:]
        prompt_loss = masked_kl(q, p_s, mask) + w * masked_kl(q, p_t, mask)
        acc.backward(prompt_loss)
        acc.clip_grad_norm_([p for p in teacher.parameters() if p.requires_grad], 1.0)
        p_opt.step()
        p_opt.zero_grad()
        # 3. The student step against the updated prompt: KL(p_S ‖ q').
        student.train()
        with torch.no_grad():
            q2 = teacher(input_ids=inputs, attention_mask=attn).logits[:, P:]
        loss = masked_kl(student(input_ids=inputs, attention_mask=attn).logits, q2, mask)
        acc.backward(loss)
        acc.clip_grad_norm_(student.parameters(), 1.0)
        s_opt.step()
        s_opt.zero_grad()
        if acc.is_main_process:
            print(json.dumps({"step": step, "loss": loss.item(), "loss_prompt": prompt_loss.item()}), flush=True)
    if acc.is_main_process:
        acc.unwrap_model(student).save_pretrained(os.path.join(a.out, "hf"))
        tokenizer.save_pretrained(os.path.join(a.out, "hf"))
        acc.unwrap_model(teacher).save_pretrained(os.path.join(a.out, "prompt-adapter"))
        print(f"wrote {a.out}/hf and {a.out}/prompt-adapter", file=sys.stderr)


if __name__ == "__main__":
    main()
