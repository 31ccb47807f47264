#!/usr/bin/env python3
"""Teacher logits for `ckpt distill --teacher-logits`, from transformers: the scale-out path for teachers too
large for one CPU box (run it on a GPU machine or a cluster node, copy the folder back).

Writes the same folder as `ckpt teacher-logits`: DIR/shard-NNNNN.safetensors (example, prompt_length, offsets,
tokens, top_ids, top_logprobs, rest_mass) and DIR/manifest.json, last. The data is tokenized exactly as ckpt
tokenizes it (MiniLLM's rule: response tokens are encode(prompt + response) after len(encode(prompt)), then EOS;
prompts over --max-prompt-length skipped; sequences cut to --max-length), and the manifest's hashes are the ones
ckpt computes, so `distill` accepts the folder when tokenizer and data match:
  tokenizer: SHA-256 of the token strings in id order, each followed by "\\n" (ids the tokenizer lacks are
             "[PAD<id>]", as convert_hf_to_gguf.py fills them);
  data:      SHA-256 of the JSONL file;
  teacher:   SHA-256 of the model folder's *.safetensors in name order.

  python3 scripts/teacher_logits_hf.py MODEL_DIR --data train.jsonl -o DIR [--top-k 64] [--device cuda]
      [--dtype bfloat16] [--responses dataset|sampled] [--max-new-tokens 256] [--chat-template]

Needs torch, transformers and safetensors. Multi-GPU: split the data file, run one process per GPU, and merge is
not needed if each part is distilled separately; for one run over all of it, run on the whole file (the forward is
the only work). --responses sampled draws with torch's sampler: the responses differ from ckpt's own samples
(same distribution, other random numbers).
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import time

import numpy as np

FORMAT, VERSION = "ckpt-teacher-logits", 1


def dolly_template(instruction, context):
    # MiniLLM's tools/process_data_dolly.py template, as ckpt's InstructionExample.template.
    if not context:
        return ("Below is an instruction that describes a task. Write a response that appropriately completes the request."
                f"\n\n### Instruction:\n{instruction}\n\n### Response:\n")
    return ("Below is an instruction that describes a task, paired with an input that provides further context. "
            f"Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}"
            f"\n\n### Input:\n{context}\n\n### Response:\n")


def load_examples(path):
    """(prompt, response, user_message) per line, in the three forms ckpt reads."""
    out = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            v = json.loads(line)
            outputs = v.get("output")
            first = (outputs[0] if isinstance(outputs, list) else outputs)
            if "instruction" in v and "response" not in v and "output" in v:  # MiniLLM's processed Dolly
                context = v.get("input", "")
                prompt = v.get("prompt") or dolly_template(v["instruction"], context)
                out.append((prompt, first, v["instruction"] + ("\n\n" + context if context else "")))
            elif "instruction" in v:
                context = v.get("context", "")
                out.append((dolly_template(v["instruction"], context), v["response"],
                            v["instruction"] + ("\n\n" + context if context else "")))
            elif "prompt" in v:
                out.append((v["prompt"], first, v["prompt"]))
            else:
                sys.exit(f"error: {path}: line {number}: expected instruction/response or prompt/output")
    return out


def sha256_files(paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 24), b""):
                h.update(block)
    return h.hexdigest()


def tokenizer_hash(tokenizer, vocab_size):
    h = hashlib.sha256()
    tokens = tokenizer.convert_ids_to_tokens(list(range(vocab_size)))
    for i, t in enumerate(tokens):
        h.update(((t if t is not None else f"[PAD{i}]") + "\n").encode("utf-8"))
    return h.hexdigest()


def top_k(logits, k):
    """ids (descending log-prob, ties to the lower id), log-probs and the mass outside, from logits [rows, V]."""
    import torch
    logp = torch.log_softmax(logits.double(), dim=-1)
    values, ids = torch.topk(logp, k, dim=-1, sorted=True)
    # torch.topk orders equal values arbitrarily; ckpt puts the lower id first.
    order = np.lexsort((ids.cpu().numpy(), -values.cpu().numpy()), axis=-1)
    values = np.take_along_axis(values.cpu().numpy(), order, axis=-1)
    ids = np.take_along_axis(ids.cpu().numpy(), order, axis=-1)
    rest = np.clip(1 - np.exp(values).sum(-1), 0, None)
    return ids.astype(np.int32), values.astype(np.float32), rest.astype(np.float32)


def write_shard(entries, k, folder, index):
    from safetensors.numpy import save_file
    name = f"shard-{index:05d}.safetensors"
    offsets = np.cumsum([0] + [len(e["tokens"]) for e in entries]).astype(np.int64)
    tensors = {
        "example": np.array([e["example"] for e in entries], dtype=np.int32),
        "prompt_length": np.array([e["prompt_length"] for e in entries], dtype=np.int32),
        "offsets": offsets,
        "tokens": np.concatenate([np.array(e["tokens"], dtype=np.int32) for e in entries]),
        "top_ids": np.concatenate([e["ids"] for e in entries]).reshape(-1, k),
        "top_logprobs": np.concatenate([e["logprobs"] for e in entries]).reshape(-1, k),
        "rest_mass": np.concatenate([e["rest"] for e in entries]),
    }
    save_file(tensors, os.path.join(folder, name), metadata={"format": FORMAT})
    return {"file": name, "examples": len(entries), "sha256": sha256_files([os.path.join(folder, name)])}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a Hugging Face model folder (config, *.safetensors, tokenizer)")
    ap.add_argument("--data", required=True)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--top-k", type=int, default=64)
    ap.add_argument("--responses", choices=["dataset", "sampled"], default="dataset")
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--max-prompt-length", type=int, default=256)
    ap.add_argument("--chat-template", action="store_true", help="render prompts with the tokenizer's chat template")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--shard-examples", type=int, default=256)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--eos-id", type=int, help="EOS id ending every sequence (default: the tokenizer's)")
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if os.path.exists(a.out) and not a.force:
        sys.exit(f"error: '{a.out}' already exists (pass --force to replace it)")
    weights = sorted(f for f in os.listdir(a.model) if f.endswith(".safetensors"))
    if not weights:
        sys.exit(f"error: {a.model}: no *.safetensors to identify the teacher by")
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=getattr(torch, a.dtype)).to(a.device).eval()
    V = model.config.vocab_size
    if not 1 <= a.top_k <= V:
        sys.exit(f"error: --top-k {a.top_k} is not in 1...{V}")
    eos = a.eos_id if a.eos_id is not None else tokenizer.eos_token_id
    max_length = min(a.max_length, getattr(model.config, "max_position_embeddings", a.max_length))

    examples = []  # (prompt ids, full ids with EOS)
    for prompt, response, user in load_examples(a.data):
        if a.chat_template:
            prompt = tokenizer.apply_chat_template([{"role": "user", "content": user}], add_generation_prompt=True, tokenize=False)
            if tokenizer.bos_token and getattr(tokenizer, "add_bos_token", False) and prompt.startswith(tokenizer.bos_token):
                prompt = prompt[len(tokenizer.bos_token):]
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if len(p) > a.max_prompt_length or len(p) >= max_length:
            continue
        full = tokenizer(prompt + response, add_special_tokens=False)["input_ids"]
        examples.append((p, (p + full[len(p):] + [eos])[:max_length]))
    print(f"teacher-logits: {len(examples)} examples from {a.data}, top {a.top_k} of {V}, responses {a.responses}", file=sys.stderr)

    manifest = {"format": FORMAT, "version": VERSION, "producer": f"transformers {__import__('transformers').__version__}",
                "teacher_sha256": sha256_files([os.path.join(a.model, w) for w in weights]),
                "tokenizer_sha256": tokenizer_hash(tokenizer, V), "data_sha256": sha256_files([a.data]),
                "vocab_size": V, "top_k": a.top_k, "responses": a.responses, "max_length": max_length,
                "max_prompt_length": a.max_prompt_length, "chat_template": a.chat_template, "examples": len(examples), "shards": []}
    staging = f"{a.out}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    torch.manual_seed(a.seed)
    pending, start = [], time.time()
    for first in range(0, len(examples), a.batch_size):
        batch = examples[first:first + a.batch_size]
        sequences = [full for _, full in batch]
        if a.responses == "sampled":
            sequences = []
            for p, _ in batch:
                room = min(a.max_new_tokens, max_length - len(p))
                out = model.generate(torch.tensor([p], device=a.device), do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                                     max_new_tokens=room, eos_token_id=eos, pad_token_id=eos)[0, len(p):].tolist()
                if eos in out:
                    out = out[:out.index(eos) + 1]
                elif out:
                    out = out[:-1] + [eos]
                else:
                    out = [eos]
                sequences.append((p + out)[:max_length])
        longest = max(len(s) for s in sequences)
        ids = torch.full((len(sequences), longest), eos, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, s in enumerate(sequences):
            ids[i, :len(s)] = torch.tensor(s)
            mask[i, :len(s)] = 1
        with torch.no_grad():
            logits = model(input_ids=ids.to(a.device), attention_mask=mask.to(a.device)).logits.float()
        for i, ((p, _), s) in enumerate(zip(batch, sequences)):
            rows = logits[i, len(p) - 1:len(s) - 1]
            top_ids, top_logprobs, rest = top_k(rows, a.top_k)
            pending.append({"example": first + i, "prompt_length": len(p), "tokens": s,
                            "ids": top_ids.reshape(-1), "logprobs": top_logprobs.reshape(-1), "rest": rest})
        while len(pending) >= a.shard_examples:
            manifest["shards"].append(write_shard(pending[:a.shard_examples], a.top_k, staging, len(manifest["shards"])))
            pending = pending[a.shard_examples:]
        print(f"teacher-logits: {min(first + a.batch_size, len(examples))}/{len(examples)} examples, {time.time() - start:.1f} s", file=sys.stderr)
    if pending:
        manifest["shards"].append(write_shard(pending, a.top_k, staging, len(manifest["shards"])))
    with open(os.path.join(staging, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    os.rename(staging, a.out)
    print(json.dumps({"out": a.out, "examples": len(examples), "shards": len(manifest["shards"]), "seconds": time.time() - start}))


if __name__ == "__main__":
    main()
