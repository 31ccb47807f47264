// Decoding products on CPUs with AVX512-VNNI (Ice Lake and later, Zen 4 and later): the weight integers as
// unsigned bytes times x as two signed bytes per value, four products per 32-bit lane per instruction
// (vpdpbusd), instead of AVX2's widening to int16 and madd. Same exactness as the AVX2 kernels: x is still a
// 16-bit integer per value, split x ≈ s·(256·a + b) with a, b signed bytes (ck_prepare_vnni), so the
// integer sums are exact and only the f32 scaling rounds.
//
// Blocks go in pairs (64 values): one 512-bit register holds the pair's weights in the order
// [block 0 values 0..15, block 1 values 0..15, block 0 values 16..31, block 1 values 16..31], the order in
// which 2×16 packed nibbles unpack, and the prepared x is stored in that order. Signed weights are made
// unsigned by an offset (q + off), taken back with the prepared per-block sums: Σ(q+off)·x − off·Σx.
#include "ck_internal.h"

#ifdef CK_X86
#define CK_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
// The per-row products are inlined into each type's row loop (ck_matvec_vnni): called through a pointer with
// x passed by value, the call and its stores were 13% of a SmolLM2 IQ4_XS decode's samples.
#define CK_VNNI_ROW CK_VNNI static inline __attribute__((always_inline))

// 64 unsigned weight bytes of a pair (pair order) times its prepared x (a then b, 64 bytes each): 16 int32
// lanes of Σ u·(256·a + b); lanes 0–3 and 8–11 belong to the first block, 4–7 and 12–15 to the second.
CK_VNNI static inline __m512i pair_isum(__m512i u, const int8_t *x8) {
    __m512i t = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, _mm512_loadu_si512((const void *)x8));
    t = _mm512_slli_epi32(t, 8);
    return _mm512_dpbusd_epi32(t, u, _mm512_loadu_si512((const void *)(x8 + 64)));
}

// acc += [s0 on the first block's lanes, s1 on the second's] · isum.
CK_VNNI static inline __m512 pair_scaled(__m512 acc, float s0, float s1, __m512i isum) {
    const __m512 s = _mm512_mask_blend_ps((__mmask16)0xF0F0, _mm512_set1_ps(s0), _mm512_set1_ps(s1));
    return _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(isum), acc);
}

// Two groups of 16 packed bytes (block 0's, block 1's) → their 64 nibbles in pair order.
CK_VNNI static inline __m512i pair_nibbles(const uint8_t *qs0, const uint8_t *qs1) {
    const __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)qs0)),
                                              _mm_loadu_si128((const __m128i *)qs1), 1);
    const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1);
    return _mm512_and_si512(both, _mm512_set1_epi8(0xF));
}

// 32 bytes of 32 consecutive values (a sub-block or a Q8_0 block) twice → pair order.
CK_VNNI static inline __m512i pair_of_runs(__m256i r0, __m256i r1) {
    const __m512i order = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    return _mm512_permutex2var_epi64(_mm512_castsi256_si512(r0), order, _mm512_castsi256_si512(r1));
}

// Bit i of qh (the fifth bit of value i) for both blocks, as a byte mask in pair order.
CK_VNNI static inline __mmask64 pair_high_bits(const uint8_t *qh0, const uint8_t *qh1) {
    uint32_t h0, h1;
    memcpy(&h0, qh0, 4);
    memcpy(&h1, qh1, 4);
    return (__mmask64)((uint64_t)(h0 & 0xFFFF) | (uint64_t)(h1 & 0xFFFF) << 16 | (uint64_t)(h0 >> 16) << 32 |
                       (uint64_t)(h1 >> 16) << 48);
}

// The unsigned weights of a pair of legacy blocks at p0, p1 (p1 may repeat p0 for an odd last block: its x is 0).
CK_VNNI static inline __m512i pair_q8_0(const uint8_t *p0, const uint8_t *p1) {
    const __m512i q = pair_of_runs(_mm256_loadu_si256((const __m256i *)(p0 + 2)), _mm256_loadu_si256((const __m256i *)(p1 + 2)));
    return _mm512_xor_si512(q, _mm512_set1_epi8((char)0x80));  // q + 128
}
CK_VNNI static inline __m512i pair_q4_0(const uint8_t *p0, const uint8_t *p1) { return pair_nibbles(p0 + 2, p1 + 2); }
CK_VNNI static inline __m512i pair_q4_1(const uint8_t *p0, const uint8_t *p1) { return pair_nibbles(p0 + 4, p1 + 4); }
CK_VNNI static inline __m512i pair_q5_0(const uint8_t *p0, const uint8_t *p1) {
    const __m512i q = pair_nibbles(p0 + 6, p1 + 6);
    return _mm512_mask_add_epi8(q, pair_high_bits(p0 + 2, p1 + 2), q, _mm512_set1_epi8(16));
}
CK_VNNI static inline __m512i pair_q5_1(const uint8_t *p0, const uint8_t *p1) {
    const __m512i q = pair_nibbles(p0 + 8, p1 + 8);
    return _mm512_mask_add_epi8(q, pair_high_bits(p0 + 4, p1 + 4), q, _mm512_set1_epi8(16));
}
// IQ4 indices → the non-linear values + 128 (unsigned).
CK_VNNI static inline __m512i iq4_unsigned_table(void) {
    const __m128i t = _mm_xor_si128(_mm_loadu_si128((const __m128i *)ck_iq4nl_values), _mm_set1_epi8((char)0x80));
    return _mm512_broadcast_i32x4(t);
}
CK_VNNI static inline __m512i pair_iq4_nl(const uint8_t *p0, const uint8_t *p1) {
    return _mm512_shuffle_epi8(iq4_unsigned_table(), pair_nibbles(p0 + 2, p1 + 2));
}

// The f16 fields at p0 and p1 as [f0, f1, 0, 0].
CK_VNNI static inline __m128 halves2(const uint8_t *p0, const uint8_t *p1) {
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int)(load_u16(p0) | (uint32_t)load_u16(p1) << 16)));
}
// Two consecutive floats as [v0, v1, 0, 0].
CK_VNNI static inline __m128 floats2(const float *v) { return _mm_castpd_ps(_mm_load_sd((const double *)v)); }

// [s0 ×4, s1 ×4, s0 ×4, s1 ×4] from [s0, s1, ·, ·]: a pair's scales over its lanes (see pair_isum).
CK_VNNI static inline __m512 pair_spread(__m128 s01) {
    return _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0), _mm512_castps128_ps512(s01));
}

// One pair of legacy blocks at p0, p1 with x pair b: acc += scales · Σ u·x; off += d·qsums; mins += m·sums.
// For an odd last block p1 = p0, and `one` (128-bit loads of one value, lane 1 zero) keeps the partner out.
#define CK_VNNI_LEGACY_PAIR(PAIR, OFF, HAS_MIN, p0, p1, b, one)                                           \
    do {                                                                                               \
        __m128 d = halves2(p0, p1);                                                                    \
        if (one) d = _mm_blend_ps(d, _mm_setzero_ps(), 2);                                             \
        const __m128 xs = one ? _mm_load_ss(x.scales + b) : floats2(x.scales + b);                     \
        acc = _mm512_fmadd_ps(pair_spread(_mm_mul_ps(d, xs)), _mm512_cvtepi32_ps(pair_isum(PAIR(p0, p1), x.q + 64 * b)), acc); \
        if (OFF) off = _mm_fmadd_ps(d, one ? _mm_load_ss(x.qsums + b) : floats2(x.qsums + b), off);   \
        if (HAS_MIN) {                                                                                 \
            __m128 m = halves2(p0 + 2, p1 + 2);                                                        \
            if (one) m = _mm_blend_ps(m, _mm_setzero_ps(), 2);                                         \
            mins = _mm_fmadd_ps(m, one ? _mm_load_ss(x.sums + b) : floats2(x.sums + b), mins);         \
        }                                                                                              \
    } while (0)

// Legacy 32-value blocks: SIZE bytes, value = d·(u − OFF) [+ m for types with a minimum, at offset 2]. Scales,
// offsets and minimums of a pair are taken two at a time in 128-bit registers (scalar f16 conversions and
// broadcasts per block had cost more than the products).
#define CK_VNNI_LEGACY_DOT(NAME, SIZE, PAIR, OFF, HAS_MIN)                                              \
    CK_VNNI_ROW float NAME(const uint8_t *row, ck_x8 x, int n) {                                       \
        __m512 acc = _mm512_setzero_ps();                                                              \
        __m128 off = _mm_setzero_ps(), mins = _mm_setzero_ps();                                        \
        const int nb = n / 32;                                                                         \
        int b = 0;                                                                                     \
        for (; b + 2 <= nb; b += 2) {                                                                  \
            const uint8_t *p0 = row + (size_t)b * SIZE, *p1 = p0 + SIZE;                               \
            CK_PREFETCH_VNNI(p0);                                                                      \
            CK_VNNI_LEGACY_PAIR(PAIR, OFF, HAS_MIN, p0, p1, b, 0);                                     \
        }                                                                                              \
        if (b < nb) {                                                                                  \
            const uint8_t *p0 = row + (size_t)b * SIZE;                                                \
            CK_VNNI_LEGACY_PAIR(PAIR, OFF, HAS_MIN, p0, p0, b, 1);                                     \
        }                                                                                              \
        const __m128 tail = _mm_sub_ps(mins, _mm_mul_ps(_mm_set1_ps((float)(OFF)), off));             \
        return _mm512_reduce_add_ps(acc) + _mm_cvtss_f32(tail) + _mm_cvtss_f32(_mm_movehdup_ps(tail)); \
    }
#define CK_PREFETCH_VNNI(p) _mm_prefetch((const char *)(p) + 4096, _MM_HINT_T0)

CK_VNNI_LEGACY_DOT(vnni_q8_0, 34, pair_q8_0, 128, 0)
CK_VNNI_LEGACY_DOT(vnni_q4_0, 18, pair_q4_0, 8, 0)
CK_VNNI_LEGACY_DOT(vnni_q4_1, 20, pair_q4_1, 0, 1)
CK_VNNI_LEGACY_DOT(vnni_q5_0, 22, pair_q5_0, 16, 0)
CK_VNNI_LEGACY_DOT(vnni_q5_1, 24, pair_q5_1, 0, 1)
CK_VNNI_LEGACY_DOT(vnni_iq4_nl, 18, pair_iq4_nl, 128, 0)

// Superblocks of 8 sub-blocks of 32 (4 pairs): the 8 sub-block scales are computed at once as an f32 vector
// (times x's scales), and pair c takes its two by one permute.
CK_VNNI static inline __m512 superblock_pair_scales(__m256 s8, int c) {
    const __m512i spread = _mm512_add_epi32(_mm512_set_epi32(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0), _mm512_set1_epi32(2 * c));
    return _mm512_permutexvar_ps(spread, _mm512_castps256_ps512(s8));
}
CK_VNNI static inline uint32_t load_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

// IQ4_XS {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}: sub-block j at d·(ls_j − 32), ls_j from nibble j
// of scales_l and bits 2j, 2j+1 of scales_h; sub-blocks ib, ib+1 are 32 consecutive bytes of indices.
CK_VNNI_ROW float vnni_iq4_xs(const uint8_t *row, ck_x8 x, int n) {
    __m512 acc = _mm512_setzero_ps();
    __m256 off = _mm256_setzero_ps();
    const __m512i table = iq4_unsigned_table();
    const __m256i nibble_shift = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28), pair_shift = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for (int b = 0; b < n / 256; b++, row += 136) {
        CK_PREFETCH_VNNI(row);
        const __m256i low = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)load_u32(row + 4)), nibble_shift), _mm256_set1_epi32(0xF));
        const __m256i high = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(load_u16(row + 2)), pair_shift), _mm256_set1_epi32(3));
        const __m256i ls = _mm256_sub_epi32(_mm256_or_si256(low, _mm256_slli_epi32(high, 4)), _mm256_set1_epi32(32));
        const __m256 dl = _mm256_mul_ps(_mm256_set1_ps(ck_half_f16c(row)), _mm256_cvtepi32_ps(ls));  // d·(ls − 32) per sub-block
        const __m256 s8 = _mm256_mul_ps(dl, _mm256_loadu_ps(x.scales + 8 * b));
        off = _mm256_fmadd_ps(dl, _mm256_loadu_ps(x.qsums + 8 * b), off);
        for (int c = 0; c < 4; c++) {
            const uint8_t *qs = row + 8 + 32 * c;
            const __m512i u = _mm512_shuffle_epi8(table, pair_nibbles(qs, qs + 16));
            acc = _mm512_fmadd_ps(superblock_pair_scales(s8, c), _mm512_cvtepi32_ps(pair_isum(u, x.q + 64 * (8 * b + 2 * c))), acc);
        }
    }
    return _mm512_reduce_add_ps(acc) - 128.0f * ck_hsum(off);
}

// Q4_K {f16 d, dmin; u8 scales[12]; u8 qs[128]} and Q5_K {f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}:
// value = d·s·q − dmin·m with 6-bit s, m per sub-block (ck_scale_min_k4, here for all 8 at once on 32-bit
// words); sub-blocks 2c and 2c+1 are the low and high nibbles of the same 32 bytes; Q5_K's fifth bit of value
// j of sub-block i is bit i of qh[j].
CK_VNNI_ROW float vnni_q45_k(const uint8_t *row, ck_x8 x, int n, int five) {
    __m512 acc = _mm512_setzero_ps();
    __m256 mins = _mm256_setzero_ps();
    const __m256i low = _mm256_set1_epi8(0xF), sixteen = _mm256_set1_epi8(16);
    const int size = five ? 176 : 144;
    for (int b = 0; b < n / 256; b++, row += size) {
        const uint32_t w0 = load_u32(row + 4), w1 = load_u32(row + 8), w2 = load_u32(row + 12);
        const uint32_t scales_lo = w0 & 0x3F3F3F3F, mins_lo = w1 & 0x3F3F3F3F;
        const uint32_t scales_hi = (w2 & 0x0F0F0F0F) | (((w0 >> 6) & 0x03030303) << 4);
        const uint32_t mins_hi = ((w2 >> 4) & 0x0F0F0F0F) | (((w1 >> 6) & 0x03030303) << 4);
        const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_setr_epi32((int)scales_lo, (int)scales_hi, 0, 0)));
        const __m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_setr_epi32((int)mins_lo, (int)mins_hi, 0, 0)));
        const __m256 s8 = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(ck_half_f16c(row)), sc), _mm256_loadu_ps(x.scales + 8 * b));
        mins = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(ck_half_f16c(row + 2)), mn), _mm256_loadu_ps(x.sums + 8 * b), mins);
        const __m256i qh = five ? _mm256_loadu_si256((const __m256i *)(row + 16)) : _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const uint8_t *qs = row + (five ? 48 : 16) + 32 * c;
            CK_PREFETCH_VNNI(qs);
            const __m256i q = _mm256_loadu_si256((const __m256i *)qs);
            __m256i lo = _mm256_and_si256(q, low), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
            if (five) {
                lo = _mm256_mask_add_epi8(lo, _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(1 << (2 * c)))), lo, sixteen);
                hi = _mm256_mask_add_epi8(hi, _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(2 << (2 * c)))), hi, sixteen);
            }
            acc = _mm512_fmadd_ps(superblock_pair_scales(s8, c), _mm512_cvtepi32_ps(pair_isum(pair_of_runs(lo, hi), x.q + 64 * (8 * b + 2 * c))), acc);
        }
    }
    return _mm512_reduce_add_ps(acc) - ck_hsum(mins);
}
CK_VNNI_ROW float vnni_q4_k(const uint8_t *row, ck_x8 x, int n) { return vnni_q45_k(row, x, n, 0); }
CK_VNNI_ROW float vnni_q5_k(const uint8_t *row, ck_x8 x, int n) { return vnni_q45_k(row, x, n, 1); }

// Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}: 16 sub-blocks of 16 at d·sc·(q − 32), q from 4 low
// bits (ql) and 2 high bits (qh), in two halves of 128 values of four 32-value groups each. The sub-block
// scales differ within a 32-value block, so the offset is taken off each lane in integers (Σ 32·x per lane).
CK_VNNI_ROW float vnni_q6_k(const uint8_t *row, ck_x8 x, int n) {
    __m512 acc = _mm512_setzero_ps();
    const __m512i thirty_two = _mm512_set1_epi8(32);
    // Lanes of pair (k, k+1) of a half: sub-block scales 2k, 2k+2, 2k+1, 2k+3, four lanes each.
    const __m512i by_lane = _mm512_set_epi32(3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0);
    for (int b = 0; b < n / 256; b++, row += 210) {
        const float d = ck_half_f16c(row + 208);
        for (int k = 0; k < 210; k += 64) CK_PREFETCH_VNNI(row + k);
        for (int c = 0; c < 2; c++) {
            const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(row + 192 + 8 * c)))));
            __m256i q[4];
            ck_q6k_values(row, c, q);
            for (int k = 0; k < 4; k += 2) {
                const int sb = 8 * b + 4 * c + k;  // the pair's first 32-value block of x
                const int8_t *x8 = x.q + 64 * sb;
                const __m512i isum = _mm512_sub_epi32(pair_isum(pair_of_runs(q[k], q[k + 1]), x8), pair_isum(thirty_two, x8));
                const __m512 s = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_add_epi32(by_lane, _mm512_set1_epi32(2 * k)), _mm512_castps256_ps512(sc)),
                                               pair_spread(floats2(x.scales + sb)));
                acc = _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(isum), acc);
            }
        }
    }
    return _mm512_reduce_add_ps(acc);
}

// IQ3_S {f16 d; u8 qs[64]; u8 qh[8]; u8 signs[32]; u8 scales[4]}: sub-block j at d·(1 + 2·nibble j of scales),
// its values signed bytes (ck_iq3s_values), made unsigned by + 128.
CK_VNNI_ROW float vnni_iq3_s(const uint8_t *row, ck_x8 x, int n) {
    __m512 acc = _mm512_setzero_ps();
    __m256 off = _mm256_setzero_ps();
    const __m256i nibble_shift = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    const __m512i plus128 = _mm512_set1_epi8((char)0x80);
    for (int b = 0; b < n / 256; b++, row += 110) {
        CK_PREFETCH_VNNI(row);
        const __m256i nib = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)load_u32(row + 106)), nibble_shift), _mm256_set1_epi32(0xF));
        const __m256i ls = _mm256_add_epi32(_mm256_slli_epi32(nib, 1), _mm256_set1_epi32(1));
        const __m256 dl = _mm256_mul_ps(_mm256_set1_ps(ck_half_f16c(row)), _mm256_cvtepi32_ps(ls));
        const __m256 s8 = _mm256_mul_ps(dl, _mm256_loadu_ps(x.scales + 8 * b));
        off = _mm256_fmadd_ps(dl, _mm256_loadu_ps(x.qsums + 8 * b), off);
        for (int c = 0; c < 4; c++) {
            const __m512i u = _mm512_xor_si512(pair_of_runs(ck_iq3s_values(row, 2 * c), ck_iq3s_values(row, 2 * c + 1)), plus128);
            acc = _mm512_fmadd_ps(superblock_pair_scales(s8, c), _mm512_cvtepi32_ps(pair_isum(u, x.q + 64 * (8 * b + 2 * c))), acc);
        }
    }
    return _mm512_reduce_add_ps(acc) - 128.0f * ck_hsum(off);
}

CK_VNNI int ck_matvec_vnni(int type, const uint8_t *w, size_t row_bytes, int r0, int r1, int k, const ck_vector *xs, int n,
                   float *out, size_t out_stride) {
#define CK_VNNI_ROWS(DOT)                                                                                   \
    for (int r = r0; r < r1; r++) {                                                                     \
        const uint8_t *row = w + (size_t)r * row_bytes;                                                 \
        for (int j = 0; j < k; j++) {                                                                   \
            const ck_x8 x = {xs[j].q8, xs[j].scales8, xs[j].qsums8, xs[j].sums};                        \
            out[(size_t)j * out_stride + (size_t)(r - r0)] = DOT(row, x, n);                            \
        }                                                                                               \
    }                                                                                                   \
    break
    switch (type) {
    case CK_Q8_0: CK_VNNI_ROWS(vnni_q8_0);
    case CK_Q4_0: CK_VNNI_ROWS(vnni_q4_0);
    case CK_Q4_1: CK_VNNI_ROWS(vnni_q4_1);
    case CK_Q5_0: CK_VNNI_ROWS(vnni_q5_0);
    case CK_Q5_1: CK_VNNI_ROWS(vnni_q5_1);
    case CK_IQ4_NL: CK_VNNI_ROWS(vnni_iq4_nl);
    case CK_IQ4_XS: CK_VNNI_ROWS(vnni_iq4_xs);
    case CK_Q4_K: CK_VNNI_ROWS(vnni_q4_k);
    case CK_Q5_K: CK_VNNI_ROWS(vnni_q5_k);
    case CK_Q6_K: CK_VNNI_ROWS(vnni_q6_k);
    case CK_IQ3_S: CK_VNNI_ROWS(vnni_iq3_s);
    default: return 0;
    }
#undef CK_VNNI_ROWS
    return 1;
}
#endif

int ck_cpu_has_vnni(void) {
#ifdef CK_X86
    static int cached = -1;
    if (cached < 0) {
        cached = ck_cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") && !ck_kernels_limited_to_avx2();
    }
    return cached;
#else
    return 0;
#endif
}
