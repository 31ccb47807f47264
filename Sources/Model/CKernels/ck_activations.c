// Element-wise activations of the MLP (GELU-tanh for gpt2, SwiGLU for llama), forward and backward.
// The AVX2+FMA versions compute e^x with a Cephes-style polynomial (about 1 ulp from expf) eight lanes at a
// time; a tail shorter than eight goes through the same vector code on a padded copy, so every element's
// bits are the same however a caller splits the range. Without AVX2, scalar code with expf.
#include "ck_internal.h"
#include <math.h>
#include <string.h>

#define GELU_C 0.7978845608028654f  // √(2/π)
#define GELU_A 0.044715f

static void gelu_forward_scalar(float *out, const float *inp, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float x = inp[i], t = 1 - 2 / (expf(2 * (GELU_C * (x + GELU_A * x * x * x))) + 1);
        out[i] = 0.5f * x * (1 + t);
    }
}

static void gelu_backward_scalar(float *dinp, const float *dout, const float *inp, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float x = inp[i], t = 1 - 2 / (expf(2 * (GELU_C * (x + GELU_A * x * x * x))) + 1);
        dinp[i] += dout[i] * (0.5f * (1 + t) + 0.5f * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x));
    }
}

static void swiglu_forward_scalar(float *out, const float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = gate[i] / (1 + expf(-gate[i])) * up[i];
}

static void swiglu_backward_scalar(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i], s = 1 / (1 + expf(-g));
        dup[i] += dout[i] * g * s;
        dgate[i] += dout[i] * up[i] * s * (1 + g * (1 - s));
    }
}

static double exp_shifted_scalar(float *x, int64_t n, float shift) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - shift);
        sum += x[i];
    }
    return sum;
}

#ifdef CK_X86

// e^x: x = n·ln2 + r with |r| ≤ ln2/2, e^r by Cephes' degree-7 polynomial, 2^n applied as 2^(n/2)·2^(n−n/2)
// (both normal floats, so results fall gradually into the subnormals as expf's do). x is clamped to
// [-104, 88.72]; above 88.72 the result is +inf and below -104 it is 0, as expf's overflow and underflow;
// NaN stays NaN (min/max return their second operand when one is NaN).
CK_AVX2 static inline __m256 exp8(__m256 x0) {
    const __m256 x = _mm256_min_ps(_mm256_set1_ps(88.72f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x0));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1)));
    const __m256i ni = _mm256_cvtps_epi32(n), n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    const __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    const __m256 over = _mm256_cmp_ps(x0, _mm256_set1_ps(88.72f), _CMP_GT_OQ);
    const __m256 under = _mm256_cmp_ps(x0, _mm256_set1_ps(-104.0f), _CMP_LT_OQ);
    return _mm256_andnot_ps(under, _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), over));
}

// tanh(u) of GELU's u = √(2/π)·(x + 0.044715·x³), as 1 − 2/(e^{2u} + 1).
CK_AVX2 static inline __m256 gelu_tanh8(__m256 x) {
    const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    const __m256 u = _mm256_mul_ps(_mm256_set1_ps(GELU_C), _mm256_fmadd_ps(_mm256_set1_ps(GELU_A), x3, x));
    const __m256 e = exp8(_mm256_add_ps(u, u));
    return _mm256_sub_ps(_mm256_set1_ps(1), _mm256_div_ps(_mm256_set1_ps(2), _mm256_add_ps(e, _mm256_set1_ps(1))));
}

CK_AVX2 static inline __m256 gelu8(__m256 x) {
    const __m256 t = gelu_tanh8(x);
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1), t));
}

// d gelu / dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3a·x²).
CK_AVX2 static inline __m256 gelu_grad8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1), half = _mm256_set1_ps(0.5f), t = gelu_tanh8(x);
    const __m256 inner = _mm256_fmadd_ps(_mm256_set1_ps(3 * GELU_A), _mm256_mul_ps(x, x), one);
    const __m256 sech2 = _mm256_fnmadd_ps(t, t, one);
    const __m256 b = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(half, x), sech2), _mm256_mul_ps(_mm256_set1_ps(GELU_C), inner));
    return _mm256_fmadd_ps(half, _mm256_add_ps(one, t), b);
}

CK_AVX2 static inline __m256 sigmoid8(__m256 g) {
    const __m256 one = _mm256_set1_ps(1);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
}

// Runs `body(i)` for every full group of 8 from 0, then once on a zero-padded copy of the tail.
#define CK_EACH8(n, body)                                      \
    do {                                                       \
        int64_t i_ = 0;                                        \
        for (; i_ + 8 <= (n); i_ += 8) { body(i_, 8); }        \
        if (i_ < (n)) { body(i_, (int)((n) - i_)); }           \
    } while (0)

CK_AVX2 static inline __m256 load8(const float *p, int k) {
    if (k == 8) return _mm256_loadu_ps(p);
    float t[8] = {0};
    memcpy(t, p, (size_t)k * sizeof(float));
    return _mm256_loadu_ps(t);
}

// Lanes 0..<k set (k < 8).
CK_AVX2 static inline __m256 tail_mask(int k) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(k), lanes));
}

CK_AVX2 static inline void store8(float *p, __m256 v, int k) {
    if (k == 8) { _mm256_storeu_ps(p, v); return; }
    float t[8];
    _mm256_storeu_ps(t, v);
    memcpy(p, t, (size_t)k * sizeof(float));
}

CK_AVX2 static void gelu_forward_avx2(float *out, const float *inp, int64_t n) {
#define STEP(i, k) store8(out + (i), gelu8(load8(inp + (i), k)), k)
    CK_EACH8(n, STEP);
#undef STEP
}

CK_AVX2 static void gelu_backward_avx2(float *dinp, const float *dout, const float *inp, int64_t n) {
#define STEP(i, k) store8(dinp + (i), _mm256_fmadd_ps(load8(dout + (i), k), gelu_grad8(load8(inp + (i), k)), load8(dinp + (i), k)), k)
    CK_EACH8(n, STEP);
#undef STEP
}

CK_AVX2 static void swiglu_forward_avx2(float *out, const float *gate, const float *up, int64_t n) {
#define STEP(i, k)                                                                          \
    do {                                                                                    \
        const __m256 g = load8(gate + (i), k);                                              \
        store8(out + (i), _mm256_mul_ps(_mm256_mul_ps(g, sigmoid8(g)), load8(up + (i), k)), k); \
    } while (0)
    CK_EACH8(n, STEP);
#undef STEP
}

CK_AVX2 static void swiglu_backward_avx2(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int64_t n) {
#define STEP(i, k)                                                                                          \
    do {                                                                                                    \
        const __m256 g = load8(gate + (i), k), s = sigmoid8(g), dy = load8(dout + (i), k), one = _mm256_set1_ps(1); \
        store8(dup + (i), _mm256_fmadd_ps(_mm256_mul_ps(dy, g), s, load8(dup + (i), k)), k);                  \
        const __m256 local = _mm256_mul_ps(s, _mm256_fmadd_ps(g, _mm256_sub_ps(one, s), one));              \
        store8(dgate + (i), _mm256_fmadd_ps(_mm256_mul_ps(dy, load8(up + (i), k)), local, load8(dgate + (i), k)), k); \
    } while (0)
    CK_EACH8(n, STEP);
#undef STEP
}

// x[i] = e^(x[i] − shift) in place; returns Σ x[i] summed in double, four lanes per half of each group of
// eight, the lanes added at the end (fixed order: the same bits for the same row).
CK_AVX2 static double exp_shifted_avx2(float *x, int64_t n, float shift) {
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    const __m256 s = _mm256_set1_ps(shift);
#define STEP(i, k)                                                                          \
    do {                                                                                    \
        __m256 e = exp8(_mm256_sub_ps(load8(x + (i), k), s));                               \
        if (k < 8) e = _mm256_blendv_ps(_mm256_setzero_ps(), e, tail_mask(k));              \
        store8(x + (i), e, k);                                                              \
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));                 \
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));               \
    } while (0)
    CK_EACH8(n, STEP);
#undef STEP
    double t[4];
    _mm256_storeu_pd(t, _mm256_add_pd(lo, hi));
    return (t[0] + t[1]) + (t[2] + t[3]);
}

#else
#define gelu_forward_avx2 gelu_forward_scalar
#define gelu_backward_avx2 gelu_backward_scalar
#define swiglu_forward_avx2 swiglu_forward_scalar
#define swiglu_backward_avx2 swiglu_backward_scalar
#define exp_shifted_avx2 exp_shifted_scalar
#endif

double ck_exp_shifted(float *x, int64_t n, float shift) {
    return ck_cpu_has_avx2() ? exp_shifted_avx2(x, n, shift) : exp_shifted_scalar(x, n, shift);
}

void ck_gelu_forward(float *out, const float *inp, int64_t n) {
    if (ck_cpu_has_avx2()) gelu_forward_avx2(out, inp, n); else gelu_forward_scalar(out, inp, n);
}

void ck_gelu_backward(float *dinp, const float *dout, const float *inp, int64_t n) {
    if (ck_cpu_has_avx2()) gelu_backward_avx2(dinp, dout, inp, n); else gelu_backward_scalar(dinp, dout, inp, n);
}

void ck_swiglu_forward(float *out, const float *gate, const float *up, int64_t n) {
    if (ck_cpu_has_avx2()) swiglu_forward_avx2(out, gate, up, n); else swiglu_forward_scalar(out, gate, up, n);
}

void ck_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int64_t n) {
    if (ck_cpu_has_avx2()) swiglu_backward_avx2(dgate, dup, dout, gate, up, n); else swiglu_backward_scalar(dgate, dup, dout, gate, up, n);
}
