// AVX2 widening of the block types prefill widens most (Q8_0, Q4_0, Q4_1, Q5_0/Q5_1 and IQ4_NL, which llama-quantize
// gives the tensors whose rows are not a multiple of 256 in K-quant mixes, e.g. most of Qwen2.5-0.5B's Q4_K_M;
// IQ4_XS and IQ3_S, the i-quant files' own types): the same arithmetic as the
// scalar widening in ck_dequant.c, one rounding per operation and no fused multiply-add, so the bits are
// the same (the tests compare both with the Swift codecs). Other types fall back to the scalar code.
#include "ck_internal.h"

#pragma STDC FP_CONTRACT OFF

#ifdef CK_X86

// 16 packed bytes → 32 int32 nibbles in ggml's order (low nibbles are elements 0..15, high 16..31), as 4×8 f32.
CK_AVX2 static inline void nibbles_f32(const uint8_t *qs, __m256 v[4]) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0xF);
    const __m128i lo = _mm_and_si128(q, m), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
    v[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo));
    v[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)));
    v[2] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi));
    v[3] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)));
}

CK_AVX2 static void widen_q8_0(const uint8_t *b, float *y) {
    const __m256 d = _mm256_set1_ps(ck_half(load_u16(b)));
    const __m256i q = _mm256_loadu_si256((const __m256i *)(b + 2));
    const __m128i q0 = _mm256_castsi256_si128(q), q1 = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q0)), d));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q0, 8))), d));
    _mm256_storeu_ps(y + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q1)), d));
    _mm256_storeu_ps(y + 24, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q1, 8))), d));
}

// y = (q − 8)·d: q − 8 is exact in f32, then one product.
CK_AVX2 static void widen_q4_0(const uint8_t *b, float *y) {
    const __m256 d = _mm256_set1_ps(ck_half(load_u16(b))), eight = _mm256_set1_ps(8);
    __m256 v[4];
    nibbles_f32(b + 2, v);
    for (int i = 0; i < 4; i++) _mm256_storeu_ps(y + 8 * i, _mm256_mul_ps(_mm256_sub_ps(v[i], eight), d));
}

// y = q·d + m, rounded after the product and after the sum (no FMA), as ggml.
CK_AVX2 static void widen_q4_1(const uint8_t *b, float *y) {
    const __m256 d = _mm256_set1_ps(ck_half(load_u16(b))), m = _mm256_set1_ps(ck_half(load_u16(b + 2)));
    __m256 v[4];
    nibbles_f32(b + 4, v);
    for (int i = 0; i < 4; i++) _mm256_storeu_ps(y + 8 * i, _mm256_add_ps(_mm256_mul_ps(v[i], d), m));
}

// The 5-bit values of a Q5 block as 32 bytes 0..31 in element order: nibbles (low for 0..15, high for
// 16..31) with bit i of qh as 0x10 of byte i.
CK_AVX2 static inline __m256i q5_values(const uint8_t *qs, uint32_t qh) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0xF);
    const __m256i nibbles = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m256i high = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(nibbles, high);
}

// 32 signed bytes → 4×8 f32.
CK_AVX2 static inline void bytes_f32(__m256i v, __m256 out[4]) {
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    out[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
    out[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
    out[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
    out[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
}

// y = (q − 16)·d: q − 16 is exact (as int8), then one product.
CK_AVX2 static void widen_q5_0(const uint8_t *b, float *y) {
    const __m256 d = _mm256_set1_ps(ck_half(load_u16(b)));
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    __m256 v[4];
    bytes_f32(_mm256_sub_epi8(q5_values(b + 6, qh), _mm256_set1_epi8(16)), v);
    for (int i = 0; i < 4; i++) _mm256_storeu_ps(y + 8 * i, _mm256_mul_ps(v[i], d));
}

// y = q·d + m, rounded after the product and after the sum (no FMA), as ggml.
CK_AVX2 static void widen_q5_1(const uint8_t *b, float *y) {
    const __m256 d = _mm256_set1_ps(ck_half(load_u16(b))), m = _mm256_set1_ps(ck_half(load_u16(b + 2)));
    uint32_t qh;
    memcpy(&qh, b + 4, 4);
    __m256 v[4];
    bytes_f32(q5_values(b + 8, qh), v);  // 0..31: the same as unsigned
    for (int i = 0; i < 4; i++) _mm256_storeu_ps(y + 8 * i, _mm256_add_ps(_mm256_mul_ps(v[i], d), m));
}

// y = kvalue·d: the non-linear value looked up as int8 (exact in f32), then one product.
CK_AVX2 static void widen_iq4_nl(const uint8_t *b, float *y) {
    const __m256 d = _mm256_set1_ps(ck_half(load_u16(b)));
    const __m128i table = _mm_loadu_si128((const __m128i *)ck_iq4nl_values), m = _mm_set1_epi8(0xF);
    const __m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
    const __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(q, m)), hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), m));
    __m256 v[4];
    bytes_f32(_mm256_set_m128i(hi, lo), v);
    for (int i = 0; i < 4; i++) _mm256_storeu_ps(y + 8 * i, _mm256_mul_ps(v[i], d));
}

// IQ4_XS: per sub-block y = dl·kvalue with dl = d·(ls − 32) in f32, as the scalar code.
CK_AVX2 static void widen_iq4_xs(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b));
    const __m128i table = _mm_loadu_si128((const __m128i *)ck_iq4nl_values), m = _mm_set1_epi8(0xF);
    for (int ib = 0; ib < 8; ib++) {
        const __m256 dl = _mm256_set1_ps(d * (float)ck_iq4xs_scale(b, ib));
        const __m128i q = _mm_loadu_si128((const __m128i *)(b + 8 + 16 * ib));
        const __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(q, m)), hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), m));
        __m256 v[4];
        bytes_f32(_mm256_set_m128i(hi, lo), v);
        for (int i = 0; i < 4; i++) _mm256_storeu_ps(y + 32 * ib + 8 * i, _mm256_mul_ps(v[i], dl));
    }
}

// IQ3_S: per sub-block y = db·(±grid value) with db = d·scale: the same bits as the scalar (db·g)·(±1).
CK_AVX2 static void widen_iq3_s(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b));
    for (int ib = 0; ib < 8; ib++) {
        const __m256 db = _mm256_set1_ps(d * (float)ck_iq3s_scale(b, ib));
        __m256 v[4];
        bytes_f32(ck_iq3s_values(b, ib), v);
        for (int i = 0; i < 4; i++) _mm256_storeu_ps(y + 32 * ib + 8 * i, _mm256_mul_ps(v[i], db));
    }
}

// F16 and BF16 rows, 16 values per step: F16 by the F16C conversion (exact; it differs from ck_half only in
// quieting a signalling NaN), BF16 by moving its 16 bits to the top of an f32 (exact, the same bits).
CK_AVX2 static void widen_row_16bit(int bf16, const uint8_t *row, int cols, float *y) {
    int i = 0;
    for (; i + 8 <= cols; i += 8) {
        const __m128i h = _mm_loadu_si128((const __m128i *)(row + 2 * i));
        _mm256_storeu_ps(y + i, bf16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)) : _mm256_cvtph_ps(h));
    }
    for (; i < cols; i++) {
        const uint32_t bits = (uint32_t)load_u16(row + 2 * i) << 16;
        if (bf16) memcpy(y + i, &bits, 4);
        else y[i] = ck_half(load_u16(row + 2 * i));
    }
}

int ck_widen_rows_avx2(int type, const void *w, size_t row_bytes, int r0, int r1, int cols, float *out) {
    if (type == CK_F16 || type == CK_BF16) {
        for (int r = r0; r < r1; r++)
            widen_row_16bit(type == CK_BF16, (const uint8_t *)w + (size_t)r * row_bytes, cols, out + (size_t)(r - r0) * cols);
        return 1;
    }
    void (*widen)(const uint8_t *, float *);
    int bytes, block = 32;
    switch (type) {
    case CK_Q8_0: widen = widen_q8_0; bytes = 34; break;
    case CK_Q4_0: widen = widen_q4_0; bytes = 18; break;
    case CK_Q4_1: widen = widen_q4_1; bytes = 20; break;
    case CK_Q5_0: widen = widen_q5_0; bytes = 22; break;
    case CK_Q5_1: widen = widen_q5_1; bytes = 24; break;
    case CK_IQ4_NL: widen = widen_iq4_nl; bytes = 18; break;
    case CK_IQ4_XS: widen = widen_iq4_xs; bytes = 136; block = 256; break;
    case CK_IQ3_S: widen = widen_iq3_s; bytes = 110; block = 256; break;
    default: return 0;
    }
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;
        float *y = out + (size_t)(r - r0) * cols;
        for (int blk = 0; blk < cols / block; blk++) widen(row + (size_t)blk * bytes, y + (size_t)block * blk);
    }
    return 1;
}
#else
int ck_widen_rows_avx2(int type, const void *w, size_t row_bytes, int r0, int r1, int cols, float *out) {
    (void)type; (void)w; (void)row_bytes; (void)r0; (void)r1; (void)cols; (void)out;
    return 0;
}
#endif
