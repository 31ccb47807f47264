#!/usr/bin/env python3
"""Quantize a GGUF with llama.cpp itself: llama_cpp.llama_model_quantize (llama-cpp-python 0.3.36).
Usage: llama_quantize.py IN.gguf OUT.gguf FTYPE_NAME [nthread]   (prints the wall time in seconds)"""
import ctypes
import sys
import time

import llama_cpp

FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9, "Q8_0": 7, "Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12,
          "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18, "F16": 1, "BF16": 32, "F32": 0}

src, dst, name = sys.argv[1], sys.argv[2], sys.argv[3]
params = llama_cpp.llama_model_quantize_default_params()
params.ftype = FTYPES[name]
params.nthread = int(sys.argv[4]) if len(sys.argv) > 4 else 2
start = time.perf_counter()
rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
elapsed = time.perf_counter() - start
if rc != 0:
    sys.exit(f"llama_model_quantize failed with {rc}")
print(f"{elapsed:.3f}")
