// Row-wise products of ggml-quantized weight matrices with an f32 vector, for decoding without widening
// the weights. Block layouts are those of ggml (ggml-quants.h / ggml-common.h); the Swift codecs in
// Formats/Quant are the reference each kernel is tested against. Types are ggml type ids.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

enum {
    CK_F32 = 0, CK_F16 = 1, CK_Q4_0 = 2, CK_Q4_1 = 3, CK_Q5_0 = 6, CK_Q5_1 = 7, CK_Q8_0 = 8,
    CK_Q4_K = 12, CK_Q5_K = 13, CK_Q6_K = 14, CK_IQ4_NL = 20, CK_IQ3_S = 21, CK_IQ4_XS = 23, CK_BF16 = 30
};

/// OR'd into the type of one ck_matvec / ck_dequantize_rows call: the portable scalar kernels even where
/// AVX2 is available (tests compare the sets). Per call, so concurrent callers never change each other's.
/// CK_AVX2_ONLY: the AVX2 kernels even where the AVX-512 (f32/f16/bf16 rows) and AVX512-VNNI (blocks) ones would run.
enum { CK_PORTABLE = 0x10000, CK_AVX2_ONLY = 0x20000 };

/// 1 when ck_matvec and ck_dequantize_rows handle `type`, else 0.
int ck_supports(int type);

/// 1 when the AVX2+FMA+F16C kernels are in use on this CPU (else the portable scalar ones).
int ck_uses_avx2(void);

/// x prepared once for many rows: per 32 values a scale and 16-bit integers (x ≈ scale·q, |q| ≤ 32767,
/// rounded to nearest), plus the exact f32 sum of each 32 (for the block minimums of Q4_1, Q5_1, Q4_K, Q5_K).
/// cols is a multiple of 32; q [cols], scales and sums [cols / 32].
void ck_prepare(const float *x, int cols, int16_t *q, float *scales, float *sums);

/// 1 when this CPU runs the AVX512-VNNI kernels, which take x as ck_prepare_vnni writes it.
int ck_cpu_has_vnni(void);

/// x for the VNNI kernels: per 32 values a scale s and integers q = 256·a + b (|q| ≤ 32639, a and b signed
/// bytes), stored per pair of 32-value blocks as 64 bytes of a then 64 of b, each in the order [block 0
/// values 0–15, block 1 values 0–15, block 0 values 16–31, block 1 values 16–31] (an odd last block pairs with
/// zeros); qsums = s·Σq per block. q8 [128 · ⌈cols / 64⌉], scales and qsums [cols / 32].
void ck_prepare_vnni(const float *x, int cols, int8_t *q8, float *scales, float *qsums);

/// One prepared input vector: the f32 values, ck_prepare's integers, scales and sums, and (where the CPU
/// has VNNI) ck_prepare_vnni's bytes, scales and sums.
typedef struct {
    const float *x;
    const int16_t *q;
    const float *scales;
    const float *sums;
    const int8_t *q8;
    const float *scales8;
    const float *qsums8;
} ck_vector;

/// out[j·out_stride + (r − r0)] = dot(row r of w, x_j) for j < k and r in [r0, r1); every row is read from
/// memory once for all k vectors (batched decoding), and each product is the same whatever k. Rows of `cols`
/// elements, `row_bytes` apart. F32/F16/BF16 rows multiply x in f32. Block types multiply their integers with
/// the prepared 16-bit x (AVX2) — relative error about 2^-16 per product against dequantize-then-f32 — or,
/// without AVX2, widen each block and multiply x in f32. `cols` is a multiple of the type's block size (and of
/// 32 for blocks).
void ck_matvec(int type, const void *w, size_t row_bytes, int r0, int r1, int k, const ck_vector *xs, int cols,
               float *out, size_t out_stride);

/// Rows [r0, r1) widened to f32 into out [(r1 - r0) × cols], with ggml's arithmetic (no fused multiply-add).
void ck_dequantize_rows(int type, const void *w, size_t row_bytes, int r0, int r1, int cols, float *out);

/// GELU-tanh (GPT-2's gelu_new) and SwiGLU over [n] (ck_activations.c). out may alias inp in the forwards;
/// the backwards accumulate (+=). AVX2: e^x by a polynomial, about 1 ulp from expf; else expf.
void ck_gelu_forward(float *out, const float *inp, int64_t n);
void ck_gelu_backward(float *dinp, const float *dout, const float *inp, int64_t n);
void ck_swiglu_forward(float *out, const float *gate, const float *up, int64_t n);
void ck_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int64_t n);

/// x[i] = e^(x[i] − shift) in place (the soft-max numerators); returns their sum, accumulated in double in a
/// fixed order.
double ck_exp_shifted(float *x, int64_t n, float shift);

/// One decoding query row of one attention head against `positions` cached rows (ck_attention.c):
/// scores[s] = scale · q·k_s, soft-max (ck_exp_shifted), out = Σ_s p_s · v_s. q, out [d]; k, v rows `stride`
/// floats apart; scores [positions] scratch.
void ck_attend_row(const float *q, const float *k, const float *v, size_t stride, int positions, int d, float scale,
                   float *scores, float *out);

/// Work of one parallel region: chunk c of its chunks (ck_pool.c).
typedef void (*ck_task)(void *context, int chunk);

/// Runs task(context, c) for every c in [0, chunks) on the caller and `threads` − 1 persistent workers, and
/// returns 0 when all have finished. Returns 1 without running anything when another thread's region is
/// running (or no worker could start), −1 when called from inside a chunk: the caller runs the work itself.
int ck_parallel(int threads, int chunks, ck_task task, void *context);

/// How long idle workers spin before they sleep (default 200 µs).
void ck_pool_set_spin(long microseconds);

#endif
