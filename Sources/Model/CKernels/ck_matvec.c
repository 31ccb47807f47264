// Quantized-weight × f32-vector products for decoding. Block types: the weight integers are widened to
// int16 and multiplied with x prepared as int16 with one scale per 32 (ck_prepare) by madd_epi16, one
// f32 multiply-add per block applies both scales. Unlike ggml's q8 activations, the 16-bit x keeps the
// result within ~1e-4 relative of dequantize-then-f32. F32/F16/BF16 rows: ck_matvec_float.c.
// The AVX2+FMA+F16C versions are compiled per function (target attribute, no build flags) and chosen at
// run time; elsewhere ck_dot_scalar widens each block and multiplies x in f32.
#include <stdlib.h>
#include "ck_internal.h"
#include "ck_iquant_tables.h"

#ifdef CK_X86
// 16 int8 weights (low 16 bytes of lo, hi) times 32 int16 x: 8 int32 partial sums.
CK_AVX2 static inline __m256i imul32(__m128i lo, __m128i hi, const int16_t *xq) {
    const __m256i a = _mm256_madd_epi16(_mm256_cvtepi8_epi16(lo), _mm256_loadu_si256((const __m256i *)xq));
    const __m256i b = _mm256_madd_epi16(_mm256_cvtepi8_epi16(hi), _mm256_loadu_si256((const __m256i *)(xq + 16)));
    return _mm256_add_epi32(a, b);
}

// acc += scale · Σ (8 int32 lanes as f32).
CK_AVX2 static inline __m256 scaled(__m256 acc, float scale, __m256i isum) {
    return _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(isum), acc);
}

// 16 packed bytes → nibbles: low nibbles are elements 0..15, high nibbles 16..31 (ggml legacy order).
CK_AVX2 static inline void nibbles(const uint8_t *qs, __m128i *lo, __m128i *hi) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0xF);
    *lo = _mm_and_si128(q, m);
    *hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
}

// 32 bits → 32 bytes, byte i = 0x10 if bit i is set (the fifth bit of Q5 values).
CK_AVX2 static inline __m256i high_bits32(uint32_t bits) {
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select), _mm256_set1_epi8(0x10));
}

// The prepared x of one product.
typedef struct { const int16_t *q; const float *scales; const float *sums; } ck_x16;

// One legacy block's Σ q·x as 8 int32 lanes, per type (x: the block's 32 prepared values).
CK_AVX2 static inline __m256i isum_q8_0(const uint8_t *blk, const int16_t *xq) {
    return imul32(_mm_loadu_si128((const __m128i *)(blk + 2)), _mm_loadu_si128((const __m128i *)(blk + 18)), xq);
}
CK_AVX2 static inline __m256i isum_q4_0(const uint8_t *blk, const int16_t *xq) {
    __m128i lo, hi;
    nibbles(blk + 2, &lo, &hi);
    return imul32(_mm_sub_epi8(lo, _mm_set1_epi8(8)), _mm_sub_epi8(hi, _mm_set1_epi8(8)), xq);
}
CK_AVX2 static inline __m256i isum_q4_1(const uint8_t *blk, const int16_t *xq) {
    __m128i lo, hi;
    nibbles(blk + 4, &lo, &hi);
    return imul32(lo, hi, xq);
}
CK_AVX2 static inline __m256i isum_q5(const uint8_t *qh_at, const uint8_t *qs, int offset16, const int16_t *xq) {
    uint32_t qh;
    memcpy(&qh, qh_at, 4);
    __m128i lo, hi;
    nibbles(qs, &lo, &hi);
    __m256i q = _mm256_or_si256(_mm256_set_m128i(hi, lo), high_bits32(qh));
    if (offset16) q = _mm256_sub_epi8(q, _mm256_set1_epi8(16));
    return imul32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1), xq);
}
CK_AVX2 static inline __m256i isum_q5_0(const uint8_t *blk, const int16_t *xq) { return isum_q5(blk + 2, blk + 6, 1, xq); }
CK_AVX2 static inline __m256i isum_q5_1(const uint8_t *blk, const int16_t *xq) { return isum_q5(blk + 4, blk + 8, 0, xq); }

// Legacy 32-element blocks, two per iteration into separate accumulators (the FMA latency chain is what
// limits a single one). Types with a minimum add m·Σx (exact f32 sums) at the end.
#define CK_LEGACY_DOT(NAME, SIZE, ISUM, HAS_MIN)                                                        \
    CK_AVX2 static float NAME(const uint8_t *row, ck_x16 x, int n) {                                    \
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                                      \
        float m0 = 0, m1 = 0;                                                                           \
        const int nb = n / 32;                                                                          \
        int b = 0;                                                                                      \
        for (; b + 2 <= nb; b += 2) {                                                                   \
            const uint8_t *p0 = row + (size_t)b * SIZE, *p1 = p0 + SIZE;                                \
            CK_PREFETCH_AT(p0);                                                                         \
            a0 = scaled(a0, ck_half_f16c(p0) * x.scales[b], ISUM(p0, x.q + 32 * b));                       \
            a1 = scaled(a1, ck_half_f16c(p1) * x.scales[b + 1], ISUM(p1, x.q + 32 * b + 32));              \
            if (HAS_MIN) {                                                                              \
                m0 += ck_half_f16c(p0 + 2) * x.sums[b];                                                    \
                m1 += ck_half_f16c(p1 + 2) * x.sums[b + 1];                                                \
            }                                                                                           \
        }                                                                                               \
        if (b < nb) {                                                                                   \
            const uint8_t *p0 = row + (size_t)b * SIZE;                                                 \
            a0 = scaled(a0, ck_half_f16c(p0) * x.scales[b], ISUM(p0, x.q + 32 * b));                       \
            if (HAS_MIN) m0 += ck_half_f16c(p0 + 2) * x.sums[b];                                           \
        }                                                                                               \
        return ck_hsum(_mm256_add_ps(a0, a1)) + (m0 + m1);                                                 \
    }

CK_LEGACY_DOT(dot_q8_0, 34, isum_q8_0, 0)
CK_LEGACY_DOT(dot_q4_0, 18, isum_q4_0, 0)
CK_LEGACY_DOT(dot_q4_1, 20, isum_q4_1, 1)
CK_LEGACY_DOT(dot_q5_0, 22, isum_q5_0, 0)
CK_LEGACY_DOT(dot_q5_1, 24, isum_q5_1, 1)

// Q4_K / Q5_K: 8 sub-blocks of 32 with 6-bit scale s and min m: value = d·s·q − dmin·m.
CK_AVX2 static float dot_q45_k(const uint8_t *row, ck_x16 x, int n, int five) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    float mins = 0;
    const int size = five ? 176 : 144;
    const __m256i low = _mm256_set1_epi8(0xF);
    for (int b = 0; b < n / 256; b++, row += size) {
        const float d = ck_half_f16c(row), dmin = ck_half_f16c(row + 2);
        const uint8_t *qs = row + (five ? 48 : 16);
        const __m256i qh = five ? _mm256_loadu_si256((const __m256i *)(row + 16)) : _mm256_setzero_si256();
        for (int c = 0; c < 4; c++, qs += 32) {
            CK_PREFETCH_AT(qs);
            const int sb = 8 * b + 2 * c;  // index of the first of the two 32-value sub-blocks
            uint8_t s1, m1, s2, m2;
            ck_scale_min_k4(2 * c, row + 4, &s1, &m1);
            ck_scale_min_k4(2 * c + 1, row + 4, &s2, &m2);
            const __m256i q = _mm256_loadu_si256((const __m256i *)qs);
            __m256i lo = _mm256_and_si256(q, low), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
            if (five) {
                const __m256i b1 = _mm256_set1_epi8((char)(1 << (2 * c))), b2 = _mm256_set1_epi8((char)(2 << (2 * c)));
                lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, b1), b1), _mm256_set1_epi8(16)));
                hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, b2), b2), _mm256_set1_epi8(16)));
            }
            acc[0] = scaled(acc[0], d * s1 * x.scales[sb],
                            imul32(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1), x.q + 32 * sb));
            acc[1] = scaled(acc[1], d * s2 * x.scales[sb + 1],
                            imul32(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1), x.q + 32 * sb + 32));
            mins += dmin * m1 * x.sums[sb] + dmin * m2 * x.sums[sb + 1];
        }
    }
    return ck_hsum(_mm256_add_ps(acc[0], acc[1])) - mins;
}

// Q6_K: 16 sub-blocks of 16 with int8 scales; 6-bit values from 4 low bits (ql) and 2 high bits (qh), −32.
CK_AVX2 static float dot_q6_k(const uint8_t *row, ck_x16 x, int n) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m256i bias = _mm256_set1_epi8(32);
    for (int b = 0; b < n / 256; b++, row += 210) {
        const float d = ck_half_f16c(row + 208);
        for (int k = 0; k < 210; k += 64) CK_PREFETCH_AT(row + k);
        for (int c = 0; c < 2; c++) {
            const int8_t *sc = (const int8_t *)(row + 192 + 8 * c);
            __m256i q[4];
            ck_q6k_values(row, c, q);
            for (int k = 0; k < 4; k++) {
                const __m256i v = _mm256_sub_epi8(q[k], bias);
                const int sb = 8 * b + 4 * c + k;  // 32-value block of x
                const int16_t *xq = x.q + 32 * sb;
                const __m256i i0 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_castsi256_si128(v)), _mm256_loadu_si256((const __m256i *)xq));
                const __m256i i1 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_extracti128_si256(v, 1)), _mm256_loadu_si256((const __m256i *)(xq + 16)));
                acc[0] = scaled(acc[0], d * sc[2 * k] * x.scales[sb], i0);
                acc[1] = scaled(acc[1], d * sc[2 * k + 1] * x.scales[sb], i1);
            }
        }
    }
    return ck_hsum(_mm256_add_ps(acc[0], acc[1]));
}

// 16 packed bytes of IQ4 indices → the non-linear values as int8 (low nibbles: elements 0..15, high: 16..31).
CK_AVX2 static inline void iq4_values(const uint8_t *qs, __m128i *lo, __m128i *hi) {
    const __m128i table = _mm_loadu_si128((const __m128i *)ck_iq4nl_values);
    nibbles(qs, lo, hi);
    *lo = _mm_shuffle_epi8(table, *lo);
    *hi = _mm_shuffle_epi8(table, *hi);
}
// 16 bytes of IQ4 indices (32 values) times 32 prepared x: IQ4_NL's block after its d, IQ4_XS's sub-blocks.
CK_AVX2 static inline __m256i isum_iq4(const uint8_t *qs, const int16_t *xq) {
    __m128i lo, hi;
    iq4_values(qs, &lo, &hi);
    return imul32(lo, hi, xq);
}
CK_AVX2 static inline __m256i isum_iq4_nl(const uint8_t *blk, const int16_t *xq) { return isum_iq4(blk + 2, xq); }
CK_LEGACY_DOT(dot_iq4_nl, 18, isum_iq4_nl, 0)

// IQ4_XS: 8 sub-blocks of 32 values at d·(ls − 32), taken in pairs into two named accumulators (an array
// indexed by ib & 1 was kept on the stack: a load and a store per sub-block, seen in perf).
CK_AVX2 static float dot_iq4_xs(const uint8_t *row, ck_x16 x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (int b = 0; b < n / 256; b++, row += 136) {
        CK_PREFETCH_AT(row);
        const float d = ck_half_f16c(row);
        for (int ib = 0; ib < 8; ib += 2) {
            const int sb = 8 * b + ib;
            a0 = scaled(a0, d * (float)ck_iq4xs_scale(row, ib) * x.scales[sb], isum_iq4(row + 8 + 16 * ib, x.q + 32 * sb));
            a1 = scaled(a1, d * (float)ck_iq4xs_scale(row, ib + 1) * x.scales[sb + 1], isum_iq4(row + 24 + 16 * ib, x.q + 32 * sb + 32));
        }
    }
    return ck_hsum(_mm256_add_ps(a0, a1));
}

// IQ3_S: each sub-block of 32 as int8 (ck_iq3s_values).
CK_AVX2 static inline __m256i isum_iq3_s(const uint8_t *row, int ib, const int16_t *xq) {
    const __m256i q = ck_iq3s_values(row, ib);
    return imul32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1), xq);
}
CK_AVX2 static float dot_iq3_s(const uint8_t *row, ck_x16 x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (int b = 0; b < n / 256; b++, row += 110) {
        CK_PREFETCH_AT(row);
        const float d = ck_half_f16c(row);
        for (int ib = 0; ib < 8; ib += 2) {
            const int sb = 8 * b + ib;
            a0 = scaled(a0, d * (float)ck_iq3s_scale(row, ib) * x.scales[sb], isum_iq3_s(row, ib, x.q + 32 * sb));
            a1 = scaled(a1, d * (float)ck_iq3s_scale(row, ib + 1) * x.scales[sb + 1], isum_iq3_s(row, ib + 1, x.q + 32 * sb + 32));
        }
    }
    return ck_hsum(_mm256_add_ps(a0, a1));
}

CK_AVX2 static float dot_avx2(int type, const uint8_t *row, const float *x, ck_x16 xq, int n, int wide) {
    switch (type) {
    case CK_F32: case CK_F16: case CK_BF16: return ck_dot_float_row(type, row, x, n, wide);
    case CK_Q8_0: return dot_q8_0(row, xq, n);
    case CK_Q4_0: return dot_q4_0(row, xq, n);
    case CK_Q4_1: return dot_q4_1(row, xq, n);
    case CK_Q5_0: return dot_q5_0(row, xq, n);
    case CK_Q5_1: return dot_q5_1(row, xq, n);
    case CK_Q4_K: return dot_q45_k(row, xq, n, 0);
    case CK_Q5_K: return dot_q45_k(row, xq, n, 1);
    case CK_IQ4_NL: return dot_iq4_nl(row, xq, n);
    case CK_IQ4_XS: return dot_iq4_xs(row, xq, n);
    case CK_IQ3_S: return dot_iq3_s(row, xq, n);
    default: return dot_q6_k(row, xq, n);  // the last type of ck_info's table with an AVX2 dot
    }
}

// Row-major over the rows, the k vectors inside: each row comes from memory once and is multiplied by the
// other vectors from cache (a row is at most a few KiB).
CK_AVX2 static int matvec_avx2(int type, const uint8_t *w, size_t row_bytes, int r0, int r1, int k, const ck_vector *xs,
                               int n, float *out, size_t out_stride, int wide) {
    if (!ck_info(type)) return 0;  // every type of ck_info's table has a dot above
    int r = r0;
    // f32 rows four at a time, each vector against the four rows while they are in cache.
    if (type == CK_F32)
        for (; r + 4 <= r1; r += 4)
            for (int j = 0; j < k; j++)
                ck_dot4_f32(w + (size_t)r * row_bytes, row_bytes, xs[j].x, n, out + (size_t)j * out_stride + (size_t)(r - r0), wide);
    for (; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        for (int j = 0; j < k; j++) {
            const ck_x16 xq = {xs[j].q, xs[j].scales, xs[j].sums};
            out[(size_t)j * out_stride + (size_t)(r - r0)] = dot_avx2(type, row, xs[j].x, xq, n, wide);
        }
    }
    return 1;
}
#endif

int ck_cpu_has_avx2(void) {
#ifdef CK_X86
    static int cached = -1;
    if (cached < 0)
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    return cached;
#else
    return 0;
#endif
}

int ck_cpu_has_avx512(void) {
#ifdef CK_X86
    static int cached = -1;
    if (cached < 0) cached = ck_cpu_has_avx2() && __builtin_cpu_supports("avx512f") && !ck_kernels_limited_to_avx2();
    return cached;
#else
    return 0;
#endif
}

int ck_kernels_limited_to_avx2(void) {
    const char *choice = getenv("CKPT_KERNELS");
    return choice && strcmp(choice, "avx2") == 0;
}

int ck_uses_avx2(void) { return ck_cpu_has_avx2(); }

void ck_matvec(int type, const void *w, size_t row_bytes, int r0, int r1, int k, const ck_vector *xs, int cols,
               float *out, size_t out_stride) {
    const int portable = type & CK_PORTABLE, avx2_only = type & CK_AVX2_ONLY;
    type &= ~(CK_PORTABLE | CK_AVX2_ONLY);
#ifdef CK_X86
    if (!portable && !avx2_only && xs[0].q8 && ck_cpu_has_vnni() &&
        ck_matvec_vnni(type, (const uint8_t *)w, row_bytes, r0, r1, k, xs, cols, out, out_stride)) return;
    if (!portable && ck_uses_avx2() && matvec_avx2(type, (const uint8_t *)w, row_bytes, r0, r1, k, xs, cols, out, out_stride,
                                                   ck_cpu_has_avx512() && !avx2_only)) return;
#endif
    const ck_type_info *info = ck_info(type);
    if (!info) return;
    for (int r = r0; r < r1; r++)
        for (int j = 0; j < k; j++)
            out[(size_t)j * out_stride + (size_t)(r - r0)] = ck_dot_scalar(info, (const uint8_t *)w + (size_t)r * row_bytes, xs[j].x, cols);
}
