"""Perplexity the way llama-perplexity computes it, over llama.cpp's own logits (llama-cpp-python): whole chunks
of `ctx` tokens (BOS in the first slot when the vocabulary adds one), the second half of each chunk scored.
Shared by the crosscheck scripts that hold ckpt perplexity against llama.cpp."""
import math

import numpy as np
import llama_cpp


def perplexity(model, text, ctx, chunks):
    """(PPL, scored tokens) of `text` (a trailing newline dropped, as llama.cpp's -f does) under `model`."""
    if text.endswith("\n"):
        text = text[:-1]
    llm = llama_cpp.Llama(model_path=model, n_ctx=ctx, n_batch=ctx, n_threads=2, logits_all=True, verbose=False)
    tokens = llm.tokenize(text.encode(), add_bos=llm._model.add_bos_token(), special=False)
    nll, count = 0.0, 0
    for i in range(min(chunks, len(tokens) // ctx)):
        chunk = tokens[i * ctx:(i + 1) * ctx]
        batch = list(chunk)
        if llm._model.add_bos_token():
            batch[0] = llm.token_bos()
        llm.reset()
        llm._ctx.kv_cache_clear()
        llm.eval(batch)
        logits = np.array(llm.scores[:ctx], dtype=np.float64)
        for pos in range(ctx // 2, ctx - 1):
            row = logits[pos]
            m = row.max()
            nll += -(row[chunk[pos + 1]] - m - math.log(np.exp(row - m).sum()))
            count += 1
    del llm
    return math.exp(nll / count), count
