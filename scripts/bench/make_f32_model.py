#!/usr/bin/env python3
"""Writes an F32 copy of a GGUF (every tensor dequantized by gguf-py, metadata copied) for benchmarks.
Usage: make_f32_model.py IN.gguf OUT.gguf   (PyPI: gguf, numpy)"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType, GGUFValueType
from gguf.quants import dequantize

src, dst = sys.argv[1], sys.argv[2]
reader = GGUFReader(src)
arch = reader.fields["general.architecture"].contents()
writer = GGUFWriter(dst, arch)
for name, field in reader.fields.items():
    if name.startswith("GGUF.") or name == "general.architecture":
        continue
    value = field.contents()
    if name == "general.file_type":
        value = 0  # ALL_F32
    vtype = field.types[0]
    sub = field.types[-1] if vtype == GGUFValueType.ARRAY else None
    writer.add_key_value(name, value, vtype, sub_type=sub)
for t in reader.tensors:
    data = dequantize(t.data, t.tensor_type).astype(np.float32)
    shape = [int(x) for x in reversed(t.shape)]
    writer.add_tensor(t.name, data.reshape(shape))
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
