// Shared between the widening (ck_dequant.c, ck_widen_avx2.c) and the products (ck_matvec*.c); not exported to Swift.
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H

#include <string.h>
#include "include/ckernels.h"

// x86-64 with GCC or Clang: the AVX2+FMA+F16C kernels are compiled per function (target attribute, no
// build flags) and chosen at run time.
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define CK_X86 1
#define CK_AVX2 __attribute__((target("avx2,fma,f16c")))
#define CK_AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))
#endif

// 1 when this CPU has AVX2, FMA and F16C (cached; 0 off x86-64), as ck_uses_avx2(); a call with CK_PORTABLE
// in its type runs the portable kernels anyway. The activations follow the CPU alone (their versions differ in bits).
int ck_cpu_has_avx2(void);
// 1 when this CPU also has AVX-512F (cached): f32/f16/bf16 rows are then read 64 bytes per load.
int ck_cpu_has_avx512(void);
// 1 when CKPT_KERNELS=avx2: the AVX2 kernels only, even on an AVX-512 / VNNI CPU (A/B timings, an AVX2 host's
// kernels on this one, or to rule the wider kernels out).
int ck_kernels_limited_to_avx2(void);

// The prepared x of one VNNI product (ck_prepare_vnni), with the exact sums for the block minimums.
typedef struct { const int8_t *q; const float *scales; const float *qsums; const float *sums; } ck_x8;
// ck_matvec_vnni.c: ck_matvec's rows with the VNNI kernels; 0 (nothing done) for types it has none for.
int ck_matvec_vnni(int type, const uint8_t *w, size_t row_bytes, int r0, int r1, int k, const ck_vector *xs, int n,
                   float *out, size_t out_stride);

typedef struct {
    int type;
    int block;   // elements per block
    int bytes;   // bytes per block
    void (*widen)(const uint8_t *block, float *out);
} ck_type_info;

const ck_type_info *ck_info(int type);
float ck_half(uint16_t h);
float ck_dot_scalar(const ck_type_info *info, const uint8_t *row, const float *x, int cols);
// ck_widen_avx2.c: rows of the 32-element block types widened with AVX2 (same bits as the scalar code); 0 for other types.
int ck_widen_rows_avx2(int type, const void *w, size_t row_bytes, int r0, int r1, int cols, float *out);

// K-quant 6-bit scale and min of sub-block j from the 12 packed bytes q (ggml get_scale_min_k4).
static inline void ck_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static inline uint16_t load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

// IQ3_S {f16 d; u8 qs[64]; u8 qh[8]; u8 signs[32]; u8 scales[4]}, sub-block ib (32 values): the 9-bit grid
// index of value group g (4 values, g < 8): qs[8·ib + g] with bit g of qh[ib] as bit 8; its scale 1 + 2·nibble.
static inline int ck_iq3s_index(const uint8_t *block, int ib, int g) {
    return block[2 + 8 * ib + g] | (((block[66 + ib] >> g) & 1) << 8);
}
static inline int ck_iq3s_scale(const uint8_t *block, int ib) { return 1 + 2 * ((block[106 + ib / 2] >> (4 * (ib % 2))) & 0xF); }

#ifdef CK_X86
// How far ahead of the bytes being read to prefetch. Decoding streams every weight from memory once per
// token; the hardware prefetcher alone left half the bandwidth unused here (measured 7 → 13 GMAC/s on
// Q8_0 rows out of cache with 4 KiB). Not for f32 rows, which are pure streaming with little arithmetic:
// there the explicit prefetches got in the hardware's way (a 2-thread f32 row sweep read 21 GB/s without,
// 16 GB/s with; SmolLM2 F32 decoding 27 → 30 tok/s).
#ifndef CK_PREFETCH
#define CK_PREFETCH 4096
#endif
#define CK_PREFETCH_AT(p) _mm_prefetch((const char *)(p) + CK_PREFETCH, _MM_HINT_T0)

CK_AVX2 static inline float ck_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// The f16 at p as a float (F16C).
CK_AVX2 static inline float ck_half_f16c(const uint8_t *p) { return _cvtsh_ss(load_u16(p)); }

// ck_matvec_float.c: one f32 / f16 / bf16 row times x (wide: the AVX-512 loads); four consecutive f32 rows
// (row_bytes apart) times x into out[0..3].
float ck_dot_float_row(int type, const uint8_t *row, const float *x, int n, int wide);
void ck_dot4_f32(const uint8_t *rows, size_t row_bytes, const float *x, int n, float *out, int wide);

#include "ck_iquant_tables.h"
// IQ3_S sub-block ib's 32 values as signed bytes: its eight grid points (4 values each) gathered, negated
// where its 32 sign bits say.
CK_AVX2 static inline __m256i ck_iq3s_values(const uint8_t *row, int ib) {
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m256i spread = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    // The 9-bit indices as eight int32 (qs[8·ib + g] | bit g of qh[ib] << 8), then one gather.
    const __m256i low = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + 2 + 8 * ib)));
    const __m256i high = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(row[66 + ib]), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), _mm256_set1_epi32(1));
    const __m256i points = _mm256_i32gather_epi32((const int *)ck_iq3s_grid, _mm256_or_si256(low, _mm256_slli_epi32(high, 8)), 4);
    uint32_t bits;
    memcpy(&bits, row + 74 + 4 * ib, 4);
    const __m256i negative = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread), select), select);
    return _mm256_sub_epi8(_mm256_xor_si256(points, negative), negative);
}

// Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}, half c (128 values) as four groups of 32 unsigned 6-bit
// values (0..63, 32 above the signed value): 4 low bits from ql, 2 high bits from qh.
CK_AVX2 static inline void ck_q6k_values(const uint8_t *row, int c, __m256i q[4]) {
    const __m256i low = _mm256_set1_epi8(0xF), two = _mm256_set1_epi8(3);
    const uint8_t *ql = row + 64 * c;
    const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
    const __m256i qh = _mm256_loadu_si256((const __m256i *)(row + 128 + 32 * c));
    q[0] = _mm256_or_si256(_mm256_and_si256(l0, low), _mm256_slli_epi16(_mm256_and_si256(qh, two), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(l1, low), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4));
}
#endif

// IQ4_XS sub-block j's 6-bit scale (ls − 32 multiplies d): 4 low bits from scales_l, 2 high from scales_h.
static inline int ck_iq4xs_scale(const uint8_t *block, int j) {
    const int low = (block[4 + j / 2] >> (4 * (j % 2))) & 0xF, high = (load_u16(block + 2) >> (2 * j)) & 3;
    return (low | (high << 4)) - 32;
}

#endif
