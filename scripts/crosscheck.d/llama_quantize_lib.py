"""llama.cpp's quantizer through llama-cpp-python (0.3.36): the oracle for `ckpt quantize`."""
import ctypes
import os
import time

FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9, "Q8_0": 7, "Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12,
          "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18, "F16": 1, "BF16": 32,
          "F32": 0, "COPY": 0}


def quantize(src, dst, name, nthread=2):
    """Runs llama_model_quantize with default parameters for the menu name; returns the wall seconds."""
    import llama_cpp
    llama_cpp.llama_log_set(llama_cpp.llama_log_callback(lambda level, text, data: None), ctypes.c_void_p(0)) \
        if os.environ.get("CKPT_QUIET_LLAMA") else None
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[name]
    params.only_copy = name == "COPY"
    params.nthread = nthread
    start = time.perf_counter()
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize({name}) failed with {rc}")
    return time.perf_counter() - start
