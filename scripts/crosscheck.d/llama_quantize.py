#!/usr/bin/env python3
"""Quantize a GGUF with llama.cpp itself. Usage: llama_quantize.py IN.gguf OUT.gguf TYPE [nthread]
Prints the wall time in seconds."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_quantize_lib import quantize  # noqa: E402

print(f"{quantize(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 2):.3f}")
