#!/usr/bin/env python3
"""llama.cpp (llama-cpp-python 0.3.36) side of scripts/bench/generate, run as its own process so its peak
RSS is its own: load MODEL, prefill the token ids in IDS_JSON in one batch, then decode N tokens greedily one
at a time. Prints one JSON line {"prefill_tok_s", "decode_tok_s", "decoded"}.
Usage: llama_generate_speed.py MODEL IDS_JSON N THREADS"""
import json
import sys
import time

import numpy as np
from llama_cpp import Llama

model, ids_path, n, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ids = json.load(open(ids_path))
llm = Llama(model_path=model, n_ctx=512, n_batch=512, n_threads=threads, n_threads_batch=threads,
            verbose=False, logits_all=False)
start = time.perf_counter()
llm.eval(ids)
prefilled = time.perf_counter()
decoded = []
for _ in range(n):
    token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    decoded.append(token)
    llm.eval([token])
done = time.perf_counter()
print(json.dumps({"prefill_tok_s": len(ids) / (prefilled - start), "decode_tok_s": n / (done - prefilled),
                  "decoded": decoded}))
