#!/usr/bin/env python3
"""Crosscheck of `ckpt convert` against llama.cpp's convert_hf_to_gguf.py (llama-cpp-python 0.3.36 sdist, run
through convert_hf_ref.py with its three documented patches) on the tiny HF checkpoints
fixtures/hf/{gpt2,llama-gqa,llama-tied}/safetensors:
1. for each model and outtype (f32, f16, q8_0): `ckpt convert HF OUT --outtype T --force` and the reference on
   the same directory, both files read with gguf-py's GGUFReader: GGUF version, alignment, metadata keys (as a
   set and in order), value types, array element types, values (compared as their stored bytes, so floats
   bitwise); tensor names (as a set and in order), ggml types, shapes, offsets within the data section,
   identical tensor bytes, and the whole data section (padding included) identical.
   Excluded: only the value of general.name (its presence and type are checked). The converter derives it
   from the input directory's name by heuristics (gguf.Metadata: model card, _name_or_path, then the folder
   name title-cased: .../safetensors -> "Safetensors"), so it names where the checkpoint lies, not the model;
   a difference is printed as a note.
2. llama.cpp on our f32 files (F32 KV cache, logits_all, n_ctx 64) with the fixture token ids of
   fixtures/hf/expected.json against the stored transformers logits: max |Δ| <= 1e-3 and top-1 agreement.
   gpt2: llama.cpp's CPU GELU goes through an f16 table (GGML_GELU_FP16), 1.7e-3 from transformers on this
   fixture, so gpt2 is held to 1e-3 against transformers rerun with that GELU (measured 6e-6) and to 5e-3
   (plus top-1) against the stored logits.
--outtypes also takes bf16 and auto (the reference's auto is f16 unless a 2-D tensor is stored f16 or bf16).
Usage: convert_vs_llama.py CKPT_BINARY [--outtypes f32,f16,q8_0]   -> 'N passed, M failed', exit 1 on failure"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType
from checks import Checks

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
MODELS = ("gpt2", "llama-gqa", "llama-tied")
EXCLUDED_VALUES = {"general.name"}

parser = argparse.ArgumentParser()
parser.add_argument("ckpt")
parser.add_argument("--outtypes", default="f32,f16,q8_0")
args = parser.parse_args()
outtypes = args.outtypes.split(",")
expected = json.load(open(os.path.join(root, "fixtures/hf/expected.json")))["models"]
check = Checks()


def tail(text, n=3):
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:])


def run(cmd, what):
    """Runs cmd; returns True on success, else records one failure with the tail of its output."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return check(False, f"{what}: {e}")
    return check(r.returncode == 0, f"{what}: exit {r.returncode}: {tail(r.stderr) or tail(r.stdout)}")


def value_bytes(field):
    """The stored bytes of each value (one entry per array element), exact for floats (-0.0, NaN)."""
    return [field.parts[i].tobytes() for i in field.data]


def short(field):
    if field.types[0] == GGUFValueType.ARRAY:
        n = len(field.data)
        return f"[{n} items: {[field.contents(i) for i in range(min(n, 5))]}...]"
    v = field.contents()
    return repr(v if not isinstance(v, str) or len(v) < 80 else v[:80] + "...")


def compare(ref_path, our_path, label):
    ref, ours = GGUFReader(ref_path), GGUFReader(our_path)
    check(ours.fields["GGUF.version"].contents() == ref.fields["GGUF.version"].contents(), f"{label}: GGUF version")
    check(ours.alignment == ref.alignment, f"{label}: alignment {ours.alignment} vs {ref.alignment}")

    rkeys = [k for k in ref.fields if not k.startswith("GGUF.")]
    okeys = [k for k in ours.fields if not k.startswith("GGUF.")]
    check(set(okeys) == set(rkeys), f"{label}: metadata keys missing {sorted(set(rkeys) - set(okeys))}, "
                                    f"extra {sorted(set(okeys) - set(rkeys))}")
    check(okeys == rkeys, f"{label}: metadata key order differs:\n   ours {okeys}\n   ref  {rkeys}")
    for key in rkeys:
        if key not in ours.fields:
            continue
        rf, of = ref.fields[key], ours.fields[key]
        if not check([t.name for t in of.types] == [t.name for t in rf.types],
                     f"{label}: {key}: type {[t.name for t in of.types]} vs {[t.name for t in rf.types]}"):
            continue
        if key in EXCLUDED_VALUES:
            if value_bytes(of) != value_bytes(rf):
                print(f"note: {label}: {key} {short(of)} vs reference {short(rf)} (not compared)")
            continue
        check(value_bytes(of) == value_bytes(rf), f"{label}: {key}: {short(of)} vs {short(rf)}")

    rnames, onames = [t.name for t in ref.tensors], [t.name for t in ours.tensors]
    check(set(onames) == set(rnames), f"{label}: tensors missing {sorted(set(rnames) - set(onames))}, "
                                      f"extra {sorted(set(onames) - set(rnames))}")
    check(onames == rnames, f"{label}: tensor order differs:\n   ours {onames}\n   ref  {rnames}")
    by_name = {t.name: t for t in ours.tensors}
    for rt in ref.tensors:
        ot = by_name.get(rt.name)
        if ot is None:
            continue
        check(ot.tensor_type == rt.tensor_type, f"{label}: {rt.name}: type {ot.tensor_type.name} vs {rt.tensor_type.name}")
        check(list(map(int, ot.shape)) == list(map(int, rt.shape)),
              f"{label}: {rt.name}: shape {list(map(int, ot.shape))} vs {list(map(int, rt.shape))}")
        check(ot.data_offset - ours.data_offset == rt.data_offset - ref.data_offset,
              f"{label}: {rt.name}: offset in data section {ot.data_offset - ours.data_offset} vs {rt.data_offset - ref.data_offset}")
        a, b = ot.data.tobytes(), rt.data.tobytes()
        if a != b:
            detail = f"{len(a)} vs {len(b)} bytes"
            if len(a) == len(b):
                detail = f"{sum(x != y for x, y in zip(a, b))} of {len(a)} bytes differ"
                floats = {GGMLQuantizationType.F32: np.float32, GGMLQuantizationType.F16: np.float16}
                if ot.tensor_type == rt.tensor_type and rt.tensor_type in floats:
                    dt = floats[rt.tensor_type]
                    d = np.abs(np.frombuffer(a, dt).astype(np.float64) - np.frombuffer(b, dt).astype(np.float64))
                    detail += f", max |Δ| {d.max():.3g}"
            check(False, f"{label}: {rt.name}: tensor bytes differ ({detail})")
        else:
            check(True, "")
    same_data = bytes(ours.data[ours.data_offset:]) == bytes(ref.data[ref.data_offset:])
    check(same_data, f"{label}: data sections differ (sizes {len(ours.data) - ours.data_offset} vs {len(ref.data) - ref.data_offset})")
    print(f"{label}: {len(rkeys)} keys, {len(rnames)} tensors ({', '.join(sorted({t.tensor_type.name for t in ref.tensors}))}), "
          f"data section identical: {same_data}")


def stored_logits(name):
    e = expected[name]
    return np.frombuffer(bytes.fromhex(e["logits"]), "<f4").reshape(e["logits_shape"])


def transformers_gpt2_ggml_gelu(hf_dir, ids):
    """transformers' GPT-2 with gelu_new computed as ggml's CPU kernel does it: x rounded to f16, the f16 table
    entry gelu(x) rounded to f16; x <= -10 gives 0 and x >= 10 gives x."""
    import torch
    from transformers import GPT2LMHeadModel

    class GgmlGelu(torch.nn.Module):
        def forward(self, x):
            h = x.half().float()
            y = (0.5 * h * (1 + torch.tanh(0.7978845608028654 * h * (1 + 0.044715 * h * h)))).half().float()
            return torch.where(x <= -10, torch.zeros_like(x), torch.where(x >= 10, x, y))

    model = GPT2LMHeadModel.from_pretrained(hf_dir).eval()
    for block in model.transformer.h:
        block.mlp.act = GgmlGelu()
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def check_logits(name, hf_dir, path):
    import llama_cpp
    ids = expected[name]["token_ids"]
    try:
        llm = llama_cpp.Llama(model_path=path, n_ctx=64, n_batch=64, n_threads=2, logits_all=True, verbose=False,
                              type_k=0, type_v=0)
    except Exception as e:  # llama.cpp refuses the file
        check(False, f"{name} f32: llama.cpp cannot load our GGUF: {e}")
        return
    llm.eval(ids)
    got = np.array(llm.scores[:len(ids)], dtype=np.float32)
    ref = stored_logits(name)
    if not check(got.shape == ref.shape, f"{name} f32: logits shape {got.shape} vs {ref.shape}"):
        return
    diff = float(np.abs(got - ref).max())
    top1 = float((got.argmax(1) == ref.argmax(1)).mean())
    bound = 5e-3 if name == "gpt2" else 1e-3
    check(diff <= bound, f"{name} f32: max |Δlogit| vs transformers {diff:.2e} > {bound:g}")
    check(top1 == 1.0, f"{name} f32: top-1 agreement {top1:.3f}")
    line = f"{name} f32 through llama.cpp: {len(ids)} tokens, max |Δlogit| vs transformers {diff:.2e}, top-1 {top1:.3f}"
    if name == "gpt2":
        try:
            emulated = transformers_gpt2_ggml_gelu(hf_dir, ids)
            d2 = float(np.abs(got - emulated).max())
            check(d2 <= 1e-3, f"{name} f32: max |Δlogit| vs transformers with ggml's f16 GELU {d2:.2e} > 1e-3")
            line += f", vs transformers with ggml's f16 GELU {d2:.2e}"
        except Exception as e:
            check(False, f"{name} f32: transformers rerun failed: {e}")
    print(line)


with tempfile.TemporaryDirectory() as tmp:
    for name in MODELS:
        hf_dir = os.path.join(root, "fixtures/hf", name, "safetensors")
        for t in outtypes:
            label = f"{name} {t}"
            ref_path, our_path = os.path.join(tmp, f"ref-{name}-{t}.gguf"), os.path.join(tmp, f"ours-{name}-{t}.gguf")
            ok_ref = run([sys.executable, os.path.join(here, "convert_hf_ref.py"), hf_dir, "--outfile", ref_path,
                          "--outtype", t], f"{label}: reference convert_hf_to_gguf.py")
            ok_ours = run([args.ckpt, "convert", hf_dir, our_path, "--outtype", t, "--force"], f"{label}: ckpt convert")
            ok_ours = ok_ours and check(os.path.isfile(our_path), f"{label}: ckpt convert wrote no {our_path}")
            if not (ok_ref and ok_ours):
                print(f"{label}: skipped (conversion failed)")
                continue
            try:
                compare(ref_path, our_path, label)
            except Exception as e:  # e.g. a file GGUFReader cannot parse
                check(False, f"{label}: comparison failed: {type(e).__name__}: {e}")
                continue
            if t == "f32":
                check_logits(name, hf_dir, our_path)

check.finish(show=30)
