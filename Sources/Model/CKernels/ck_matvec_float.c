// Decoding's products of f32, f16 and bf16 rows with an f32 x (ck_matvec's AVX2 / AVX-512 kernels for the
// unquantized types). Pure memory sweeps with one multiply-add per weight: what matters is how many bytes are
// in flight, so these are about loads, not arithmetic.
#include "ck_internal.h"

#ifdef CK_X86
// f32 rows, `rows` (1–4) consecutive rows per pass, row_bytes apart: out[r] = row r · x. Decoding an f32 model is
// a pure memory sweep, and the VM reads ~16 GB/s per core: with 64-byte loads (a 2-thread sweep of a 671 MB matrix
// read ~27 GB/s with 32-byte loads, ~32 GB/s with these) and four rows in flight per thread instead of one (33.3 GB/s
// on a 2 GB matrix; in decoding, where matrices are small and the sweep restarts often, more: Qwen2.5-0.5B-shaped F32
// 14.1 → 15.3 tok/s, SmolLM2 F32 52.5 → 55.9, with AVX2 13.0 → 15.0 and 44.8 → 50.0). x is loaded once for the rows.
// One row at a time serves only the last rows of a range.
CK_AVX512 static inline __attribute__((always_inline)) void rows_f32_avx512(const uint8_t *row, size_t row_bytes, const float *x,
                                                                          int n, float *out, const int rows) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 xv = _mm512_loadu_ps(x + i);
        for (int r = 0; r < rows; r++) acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps((const float *)(row + r * row_bytes) + i), xv, acc[r]);
    }
    const __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);  // 0 when n is a multiple of 16
    const __m512 xv = _mm512_maskz_loadu_ps(tail, x + i);
    for (int r = 0; r < rows; r++)
        out[r] = _mm512_reduce_add_ps(_mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, (const float *)(row + r * row_bytes) + i), xv, acc[r]));
}

// The same with AVX2 (8 floats per load), for hosts without AVX-512; the tail in scalar f32.
CK_AVX2 static inline __attribute__((always_inline)) void rows_f32(const uint8_t *row, size_t row_bytes, const float *x, int n,
                                                                 float *out, const int rows) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 xv = _mm256_loadu_ps(x + i);
        for (int r = 0; r < rows; r++) acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(row + r * row_bytes) + i), xv, acc[r]);
    }
    for (int r = 0; r < rows; r++) {
        const float *w = (const float *)(row + r * row_bytes);
        float s = ck_hsum(acc[r]);
        for (int t = i; t < n; t++) s += w[t] * x[t];
        out[r] = s;
    }
}

CK_AVX512 static float dot_f32_avx512(const uint8_t *row, const float *x, int n) {
    float s;
    rows_f32_avx512(row, 0, x, n, &s, 1);
    return s;
}
CK_AVX2 static float dot_f32(const uint8_t *row, const float *x, int n) {
    float s;
    rows_f32(row, 0, x, n, &s, 1);
    return s;
}
CK_AVX512 static void dot4_f32_avx512(const uint8_t *row, size_t row_bytes, const float *x, int n, float *out) {
    rows_f32_avx512(row, row_bytes, x, n, out, 4);
}
CK_AVX2 static void dot4_f32(const uint8_t *row, size_t row_bytes, const float *x, int n, float *out) {
    rows_f32(row, row_bytes, x, n, out, 4);
}

CK_AVX2 static float dot_f16(const uint8_t *row, const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        CK_PREFETCH_AT(row + 2 * i);
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * i))), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * i + 16))), _mm256_loadu_ps(x + i + 8), a1);
    }
    float s = ck_hsum(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += ck_half_f16c(row + 2 * i) * x[i];
    return s;
}

// BF16 rows: each value's 16 bits moved to the top of an f32 (exact), then f32 multiply-adds.
CK_AVX2 static float dot_bf16(const uint8_t *row, const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        CK_PREFETCH_AT(row + 2 * i);
        const __m256i w0 = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 2 * i))), 16);
        const __m256i w1 = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 2 * i + 16))), 16);
        a0 = _mm256_fmadd_ps(_mm256_castsi256_ps(w0), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_castsi256_ps(w1), _mm256_loadu_ps(x + i + 8), a1);
    }
    float s = ck_hsum(_mm256_add_ps(a0, a1));
    for (; i < n; i++) {
        const uint32_t bits = (uint32_t)load_u16(row + 2 * i) << 16;
        float w;
        memcpy(&w, &bits, 4);
        s += w * x[i];
    }
    return s;
}

// F16 and BF16 rows 32 values per step with AVX-512 (as f32 rows, wider loads read more of the memory's
// bandwidth); the tail as the AVX2 versions.
CK_AVX512 static float dot_16bit_avx512(int bf16, const uint8_t *row, const float *x, int n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        CK_PREFETCH_AT(row + 2 * i);
        const __m256i h0 = _mm256_loadu_si256((const __m256i *)(row + 2 * i)), h1 = _mm256_loadu_si256((const __m256i *)(row + 2 * i + 32));
        const __m512 w0 = bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h0), 16)) : _mm512_cvtph_ps(h0);
        const __m512 w1 = bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h1), 16)) : _mm512_cvtph_ps(h1);
        a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + i), a0);
        a1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + i + 16), a1);
    }
    const float head = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    return i == n ? head : head + (bf16 ? dot_bf16(row + 2 * i, x + i, n - i) : dot_f16(row + 2 * i, x + i, n - i));
}

float ck_dot_float_row(int type, const uint8_t *row, const float *x, int n, int wide) {
    switch (type) {
    case CK_F32: return wide ? dot_f32_avx512(row, x, n) : dot_f32(row, x, n);
    case CK_F16: return wide ? dot_16bit_avx512(0, row, x, n) : dot_f16(row, x, n);
    default: return wide ? dot_16bit_avx512(1, row, x, n) : dot_bf16(row, x, n);
    }
}

void ck_dot4_f32(const uint8_t *rows, size_t row_bytes, const float *x, int n, float *out, int wide) {
    if (wide) dot4_f32_avx512(rows, row_bytes, x, n, out);
    else dot4_f32(rows, row_bytes, x, n, out);
}
#endif
