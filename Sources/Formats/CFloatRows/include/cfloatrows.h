// f32 → f32/f16/bf16 narrowing, plain and transposed (GPT-2 Conv1D weights in HF → GGUF conversion).
// The bits are those of Formats' per-element codecs: f16 rounds to nearest even (IEEE, as numpy), a NaN
// becomes sign | 0x7E00; bf16 is ggml's ggml_compute_fp32_to_bf16. AVX2+F16C chosen at run time.
#ifndef CFLOATROWS_H
#define CFLOATROWS_H

#include <stdint.h>

enum { CF_F32 = 0, CF_F16 = 1, CF_BF16 = 2 };

// OR'd into `kind` for one call: the portable C rounding even where F16C/AVX2 exist (tests compare both).
// Per call, so concurrent callers never change each other's kernels.
enum { CF_PORTABLE = 0x100 };

/// out[i] = narrow(src[i]) for i < n; out holds n elements of `kind`.
void cf_narrow(int kind, const float *src, int64_t n, void *out);

/// src [rows, cols] f32 transposed to [cols, rows] of `kind`, output rows (source columns) [c0, c1) only,
/// into out [c1 − c0, stride ≥ rows]: output row c − c0 starts `stride` elements after the one before it
/// (stride = rows: a dense block of output rows; stride > rows: src is a band of a taller matrix, and out
/// points at the band's first column of the whole output).
void cf_transpose_narrow(int kind, const float *src, int64_t rows, int64_t cols, int64_t c0, int64_t c1, void *out, int64_t stride);

#endif
