#!/usr/bin/env python3
"""Crosscheck: `ckpt inspect --json --full MODEL` against gguf-py's GGUFReader on the same file: every
metadata key, value type, element type and value (floats compared as float32/float64 bit patterns), every
tensor's name, numpy shape, ggml type, absolute offset and byte size; version, alignment, data offset.
Usage: inspect_vs_ggufpy.py CKPT_BINARY MODEL.gguf   -> prints 'N passed, M failed' and exits non-zero on failure."""
import json
import math
import subprocess
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType
from checks import Checks

ckpt, model = sys.argv[1], sys.argv[2]
ours = json.loads(subprocess.check_output([ckpt, "inspect", "--json", "--full", model]))
ref = GGUFReader(model)
check = Checks()


def same_scalar(vtype, mine, theirs):
    if vtype == GGUFValueType.FLOAT32:
        if isinstance(mine, str):  # "nan", "inf", "-inf"
            return math.isnan(theirs) if mine == "nan" else float(mine) == theirs
        return np.float32(mine).tobytes() == np.float32(theirs).tobytes()
    if vtype == GGUFValueType.FLOAT64:
        if isinstance(mine, str):
            return math.isnan(theirs) if mine == "nan" else float(mine) == theirs
        return float(mine) == float(theirs)
    if vtype == GGUFValueType.BOOL:
        return bool(mine) == bool(theirs)
    return mine == theirs


fields = [f for name, f in ref.fields.items() if not name.startswith("GGUF.")]
check(ours["version"] == int(ref.fields["GGUF.version"].parts[0][0]), "version")
check(ours["alignment"] == ref.alignment, "alignment")
check(ours["data_offset"] == ref.data_offset, f"data_offset {ours['data_offset']} vs {ref.data_offset}")
check(len(ours["metadata"]) == len(fields), f"metadata count {len(ours['metadata'])} vs {len(fields)}")
for mine, field in zip(ours["metadata"], fields):
    check(mine["key"] == field.name, f"key order {mine['key']} vs {field.name}")
    vtype = field.types[0]
    check(mine["type"] == vtype.name, f"{field.name}: type {mine['type']} vs {vtype.name}")
    value = field.contents()
    if vtype == GGUFValueType.ARRAY:
        sub = field.types[-1]
        check(mine.get("element_type") == sub.name, f"{field.name}: element type")
        check(mine.get("count") == len(value) and not mine.get("truncated"), f"{field.name}: count")
        ok = len(mine["value"]) == len(value) and all(same_scalar(sub, a, b) for a, b in zip(mine["value"], value))
        check(ok, f"{field.name}: array values differ")
    else:
        check(same_scalar(vtype, mine["value"], value), f"{field.name}: {mine['value']!r} vs {value!r}")

check(ours["tensor_count"] == len(ref.tensors), "tensor count")
for mine, t in zip(ours["tensors"], ref.tensors):
    check(mine["name"] == t.name, f"tensor order {mine['name']} vs {t.name}")
    check(mine["shape"] == [int(x) for x in reversed(t.shape)], f"{t.name}: shape {mine['shape']} vs {list(reversed(t.shape))}")
    check(mine["dtype"] == t.tensor_type.name, f"{t.name}: dtype {mine['dtype']} vs {t.tensor_type.name}")
    check(mine["offset"] == t.data_offset, f"{t.name}: offset {mine['offset']} vs {t.data_offset}")
    check(mine["bytes"] == t.n_bytes, f"{t.name}: bytes {mine['bytes']} vs {t.n_bytes}")
check(ours["parameter_count"] == sum(int(t.n_elements) for t in ref.tensors), "parameter count")

check.finish()
