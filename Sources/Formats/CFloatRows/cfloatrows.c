// See include/cfloatrows.h. The transpose moves 8 × 8 blocks through registers; an HF → GGUF conversion of
// GPT-2 small moves 85 M values this way.
#include <string.h>
#include "include/cfloatrows.h"

static uint16_t f16_scalar(float x, int portable);

static uint16_t bf16_scalar(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

// `kind` may carry CF_PORTABLE: then F16 rounds in C even where F16C exists.
static void store_scalar(int kind, float x, void *out, int64_t i) {
    switch (kind & ~CF_PORTABLE) {
    case CF_F32: ((float *)out)[i] = x; break;
    case CF_F16: ((uint16_t *)out)[i] = f16_scalar(x, kind & CF_PORTABLE); break;
    default: ((uint16_t *)out)[i] = bf16_scalar(x); break;
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define CF_X86 1
#define CF_AVX2 __attribute__((target("avx2,fma,f16c")))

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
    return cached;
}

CF_AVX2 static uint16_t f16_f16c(float x) {
    if (x != x) {
        uint32_t u;
        memcpy(&u, &x, 4);
        return (uint16_t)(((u >> 16) & 0x8000) | 0x7E00);
    }
    return (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(x), _MM_FROUND_TO_NEAREST_INT), 0);
}

// 8 values narrowed and stored at p (unaligned). A lane holding NaN is redone in scalar code (the
// canonical NaN; F16C would keep payload bits).
CF_AVX2 static inline void store8(int kind, __m256 v, void *p) {
    switch (kind) {
    case CF_F32:
        _mm256_storeu_ps((float *)p, v);
        return;
    case CF_F16:
        _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))) {
            float x[8];
            _mm256_storeu_ps(x, v);
            for (int i = 0; i < 8; i++) ((uint16_t *)p)[i] = f16_f16c(x[i]);
        }
        return;
    default: {
        const __m256i u = _mm256_castps_si256(v);
        const __m256i rounded = _mm256_srli_epi32(
            _mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1)))), 16);
        const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)), _mm256_set1_epi32(0x7f800000));
        const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
        const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);  // each lane ≤ 0xFFFF
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
        _mm_storeu_si128((__m128i *)p, _mm256_castsi256_si128(packed));
        return;
    }
    }
}

// One entry point per kind (the dispatchers at the end pick it), and the transpose's scalar edges out of
// line: with `kind` switched on inside its loops and the edges inlined, clang kept the block's addresses on
// the stack, and the 48 GPT-2 small transposes took 37% more time.
CF_AVX2 static void narrow_avx2(int kind, const float *src, int64_t n, void *out) {
    const int size = kind == CF_F32 ? 4 : 2;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) store8(kind, _mm256_loadu_ps(src + i), (uint8_t *)out + i * size);
    for (; i < n; i++) store_scalar(kind, src[i], out, i);
}

// 8 × 8 transpose of rows r[0..7] in place (r[i] lane j ← r[j] lane i).
CF_AVX2 static inline void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

// Bands of BAND source rows, each read across the whole column range (BAND sequential streams), written
// as 8 × 8 blocks into the output rows, whose lines stay in L2 until the band is done. (Column tiles read
// every source row once per tile, in strides the prefetchers did not follow: 35% slower.)
#ifndef CF_BAND
#define CF_BAND 16
#endif
// Rows past the last multiple of 8 and columns past the last multiple of 8 after c0, one at a time (out of
// line: see above).
__attribute__((noinline)) static void transpose_edges(int kind, const float *src, int64_t rows, int64_t cols, int64_t c0, int64_t c1,
                                                      void *out, int64_t stride) {
    const int64_t c8 = c0 + (c1 - c0) / 8 * 8, rows8 = rows / 8 * 8;
    for (int64_t c = c0; c < c8; c++)
        for (int64_t r = rows8; r < rows; r++) store_scalar(kind, src[r * cols + c], out, (c - c0) * stride + r);
    for (int64_t c = c8; c < c1; c++)
        for (int64_t r = 0; r < rows; r++) store_scalar(kind, src[r * cols + c], out, (c - c0) * stride + r);
}

CF_AVX2 static void transpose_avx2(int kind, const float *src, int64_t rows, int64_t cols, int64_t c0, int64_t c1, void *out,
                                   int64_t stride) {
    const int size = kind == CF_F32 ? 4 : 2;
    const int64_t c8 = c0 + (c1 - c0) / 8 * 8, rows8 = rows / 8 * 8;
    for (int64_t rt = 0; rt < rows8; rt += CF_BAND) {
        const int64_t re = rt + CF_BAND < rows8 ? rt + CF_BAND : rows8;
        for (int64_t c = c0; c < c8; c += 8) {
            // The next band's lines for these 16 columns: its rows are separate short streams the hardware
            // prefetchers start late on (the 48 GPT-2 small transposes: 81 → 46 ms on one thread).
            if (((c - c0) & 15) == 0 && rt + CF_BAND < rows)
                for (int i = 0; i < CF_BAND && rt + CF_BAND + i < rows; i++)
                    _mm_prefetch((const char *)(src + (rt + CF_BAND + i) * cols + c), _MM_HINT_T1);
            for (int64_t r = rt; r < re; r += 8) {
                __m256 v[8];
                for (int i = 0; i < 8; i++) v[i] = _mm256_loadu_ps(src + (r + i) * cols + c);
                transpose8(v);  // v[j] = column c + j, rows r..r+7
                for (int j = 0; j < 8; j++) store8(kind, v[j], (uint8_t *)out + ((c - c0 + j) * stride + r) * size);
            }
        }
    }
    if (rows8 < rows || c8 < c1) transpose_edges(kind, src, rows, cols, c0, c1, out, stride);
}

CF_AVX2 static void narrow_f32(const float *s, int64_t n, void *o) { narrow_avx2(CF_F32, s, n, o); }
CF_AVX2 static void narrow_f16(const float *s, int64_t n, void *o) { narrow_avx2(CF_F16, s, n, o); }
CF_AVX2 static void narrow_bf16(const float *s, int64_t n, void *o) { narrow_avx2(CF_BF16, s, n, o); }
CF_AVX2 static void transpose_f32(const float *s, int64_t r, int64_t c, int64_t c0, int64_t c1, void *o, int64_t t) { transpose_avx2(CF_F32, s, r, c, c0, c1, o, t); }
CF_AVX2 static void transpose_f16(const float *s, int64_t r, int64_t c, int64_t c0, int64_t c1, void *o, int64_t t) { transpose_avx2(CF_F16, s, r, c, c0, c1, o, t); }
CF_AVX2 static void transpose_bf16(const float *s, int64_t r, int64_t c, int64_t c0, int64_t c1, void *o, int64_t t) { transpose_avx2(CF_BF16, s, r, c, c0, c1, o, t); }
#endif

static uint16_t f16_scalar(float x, int portable) {
#ifdef CF_X86
    if (!portable && has_avx2()) return f16_f16c(x);
#endif
    // Portable IEEE binary16 rounding to nearest even.
    uint32_t u;
    memcpy(&u, &x, 4);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7E00;
    if (a >= 0x477ff000u) return sign | 0x7C00;  // rounds to ≥ 65520: infinity
    if (a < 0x38800000u) {                       // below the smallest normal half: subnormal or zero
        if (a < 0x33000000u) return sign;        // below 2^-25, half the smallest subnormal
        const uint32_t mant = (a & 0x7fffff) | 0x800000;
        const int shift = 126 - (int)(a >> 23);  // 14..24
        const uint32_t q = mant >> shift, rest = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        return sign | (uint16_t)(q + (rest > halfway || (rest == halfway && (q & 1))));
    }
    const uint32_t q = (a - 0x38000000u) >> 13, rest = a & 0x1fff;
    return sign | (uint16_t)(q + (rest > 0x1000 || (rest == 0x1000 && (q & 1))));
}

void cf_narrow(int kind, const float *src, int64_t n, void *out) {
#ifdef CF_X86
    if (!(kind & CF_PORTABLE) && has_avx2()) {
        (kind == CF_F32 ? narrow_f32 : kind == CF_F16 ? narrow_f16 : narrow_bf16)(src, n, out);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) store_scalar(kind, src[i], out, i);
}

void cf_transpose_narrow(int kind, const float *src, int64_t rows, int64_t cols, int64_t c0, int64_t c1, void *out, int64_t stride) {
#ifdef CF_X86
    if (!(kind & CF_PORTABLE) && has_avx2()) {
        (kind == CF_F32 ? transpose_f32 : kind == CF_F16 ? transpose_f16 : transpose_bf16)(src, rows, cols, c0, c1, out, stride);
        return;
    }
#endif
    for (int64_t c = c0; c < c1; c++)
        for (int64_t r = 0; r < rows; r++) store_scalar(kind, src[r * cols + c], out, (c - c0) * stride + r);
}
