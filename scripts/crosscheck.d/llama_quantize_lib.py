"""llama.cpp's quantizer through llama-cpp-python (0.3.36): the oracle for `ckpt quantize`."""
import ctypes
import os
import time

FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9, "Q8_0": 7, "Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12,
          "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18, "F16": 1, "BF16": 32,
          "F32": 0, "COPY": 0, "IQ4_NL": 25, "IQ4_XS": 30,
          "IQ3_XS": 22, "IQ3_S": 26, "IQ3_M": 27, "TQ1_0": 36, "TQ2_0": 37, "MXFP4_MOE": 38,
          "IQ3_XXS": 23, "IQ2_XS": 20, "IQ2_S": 28, "IQ2_M": 29}


_silence = None  # the ctypes callback must outlive every call into llama.cpp


GGML_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7, "q8_0": 8, "q2_K": 10, "q3_K": 11,
              "q4_K": 12, "q5_K": 13, "q6_K": 14, "bf16": 30}


def quantize(src, dst, name, nthread=2, pure=False, leave_output=False, output_type=None, embedding_type=None,
             tensor_types=(), allow_requantize=False):
    """Runs llama_model_quantize for the menu name with llama-quantize's flags (--pure, --leave-output-tensor,
    --output-tensor-type, --token-embedding-type, --tensor-type PATTERN=TYPE); returns the wall seconds.
    With CKPT_QUIET_LLAMA set, llama.cpp's per-tensor log is dropped."""
    global _silence
    import llama_cpp
    if os.environ.get("CKPT_QUIET_LLAMA") and _silence is None:
        _silence = llama_cpp.llama_log_callback(lambda level, text, data: None)
        llama_cpp.llama_log_set(_silence, ctypes.c_void_p(0))
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[name]
    params.only_copy = name == "COPY"
    params.nthread = nthread
    params.pure = pure
    params.allow_requantize = allow_requantize
    params.quantize_output_tensor = not leave_output
    if output_type:
        params.output_tensor_type = GGML_TYPES[output_type]
    if embedding_type:
        params.token_embedding_type = GGML_TYPES[embedding_type]
    keep = None
    if tensor_types:
        entries = list(tensor_types) + [(None, 0)]
        keep = (llama_cpp.llama_model_tensor_override * len(entries))(
            *[llama_cpp.llama_model_tensor_override(p.lower().encode() if p else None, GGML_TYPES[t] if p else 0)
              for p, t in entries])
        params.tt_overrides = ctypes.cast(keep, ctypes.POINTER(llama_cpp.llama_model_tensor_override))
    start = time.perf_counter()
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize({name}) failed with {rc}")
    return time.perf_counter() - start
