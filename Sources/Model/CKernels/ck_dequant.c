// Scalar widening of ggml blocks to f32, in ggml's arithmetic order. Used for prefill (widen a matrix,
// then sgemm) and as the portable fallback of ck_matvec. Tests compare it bit for bit with the Swift codecs.
#include <math.h>
#include "ck_internal.h"
#include "ck_iquant_tables.h"

#pragma STDC FP_CONTRACT OFF

float ck_half(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: value = mant × 2^-24; normalize so bit 10 is the implicit one
            exp = 113;
            while (!(mant & 0x400)) { mant <<= 1; exp--; }
            bits = sign | (exp << 23) | ((mant & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000 | (mant << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint32_t load_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void dq_q4_0(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b));
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)((qs[j] & 0xF) - 8) * d;
        y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
    }
}

static void dq_q4_1(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b)), m = ck_half(load_u16(b + 2));
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)(qs[j] & 0xF) * d + m;
        y[j + 16] = (float)(qs[j] >> 4) * d + m;
    }
}

static void dq_q5_0(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b));
    const uint32_t qh = load_u32(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
        y[j] = (float)(((qs[j] & 0xF) | h0) - 16) * d;
        y[j + 16] = (float)(((qs[j] >> 4) | h1) - 16) * d;
    }
}

static void dq_q5_1(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b)), m = ck_half(load_u16(b + 2));
    const uint32_t qh = load_u32(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
        y[j] = (float)((qs[j] & 0xF) | h0) * d + m;
        y[j + 16] = (float)((qs[j] >> 4) | h1) * d + m;
    }
}

static void dq_q8_0(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b));
    const int8_t *qs = (const int8_t *)(b + 2);
    for (int j = 0; j < 32; j++) y[j] = (float)qs[j] * d;
}

static void dq_q4_k(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b)), dmin = ck_half(load_u16(b + 2));
    const uint8_t *scales = b + 4, *q = b + 16;
    for (int c = 0; c < 4; c++, q += 32, y += 64) {
        uint8_t s1, m1, s2, m2;
        ck_scale_min_k4(2 * c, scales, &s1, &m1);
        ck_scale_min_k4(2 * c + 1, scales, &s2, &m2);
        const float d1 = d * s1, n1 = dmin * m1, d2 = d * s2, n2 = dmin * m2;
        for (int l = 0; l < 32; l++) y[l] = d1 * (q[l] & 0xF) - n1;
        for (int l = 0; l < 32; l++) y[32 + l] = d2 * (q[l] >> 4) - n2;
    }
}

static void dq_q5_k(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b)), dmin = ck_half(load_u16(b + 2));
    const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
    uint8_t u1 = 1, u2 = 2;
    for (int c = 0; c < 4; c++, ql += 32, y += 64, u1 <<= 2, u2 <<= 2) {
        uint8_t s1, m1, s2, m2;
        ck_scale_min_k4(2 * c, scales, &s1, &m1);
        ck_scale_min_k4(2 * c + 1, scales, &s2, &m2);
        const float d1 = d * s1, n1 = dmin * m1, d2 = d * s2, n2 = dmin * m2;
        for (int l = 0; l < 32; l++) y[l] = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - n1;
        for (int l = 0; l < 32; l++) y[32 + l] = d2 * ((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - n2;
    }
}

static void dq_q6_k(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b + 208));
    for (int c = 0; c < 2; c++) {
        const uint8_t *ql = b + 64 * c, *qh = b + 128 + 32 * c;
        const int8_t *sc = (const int8_t *)(b + 192 + 8 * c);
        float *out = y + 128 * c;
        for (int l = 0; l < 32; l++) {
            const int s = l / 16;
            const int q1 = (int)((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
            const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            out[l] = d * sc[s] * q1;
            out[l + 32] = d * sc[s + 2] * q2;
            out[l + 64] = d * sc[s + 4] * q3;
            out[l + 96] = d * sc[s + 6] * q4;
        }
    }
}

// IQ4_NL {f16 d; u8 qs[16]}: low nibbles are elements 0..15, high 16..31, each a kvalues_iq4nl index.
static void dq_iq4_nl(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b));
    for (int j = 0; j < 16; j++) {
        y[j] = d * ck_iq4nl_values[b[2 + j] & 0xF];
        y[j + 16] = d * ck_iq4nl_values[b[2 + j] >> 4];
    }
}

// IQ4_XS {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}: 8 sub-blocks of 32 at d·(ls − 32), as IQ4_NL.
static void dq_iq4_xs(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b));
    for (int ib = 0; ib < 8; ib++) {
        const float dl = d * ck_iq4xs_scale(b, ib);
        const uint8_t *qs = b + 8 + 16 * ib;
        for (int j = 0; j < 16; j++) {
            y[32 * ib + j] = dl * ck_iq4nl_values[qs[j] & 0xF];
            y[32 * ib + j + 16] = dl * ck_iq4nl_values[qs[j] >> 4];
        }
    }
}

// IQ3_S: per sub-block of 32, eight grid points of four values (bytes 2l + 1) at d·scale, signs from 32 bits.
static void dq_iq3_s(const uint8_t *b, float *y) {
    const float d = ck_half(load_u16(b));
    for (int ib = 0; ib < 8; ib++) {
        const float db = d * (float)ck_iq3s_scale(b, ib);
        for (int g = 0; g < 8; g++) {
            const uint32_t point = ck_iq3s_grid[ck_iq3s_index(b, ib, g)];
            const uint8_t signs = b[74 + 4 * ib + g / 2];
            for (int j = 0; j < 4; j++) {
                const int bit = 4 * (g % 2) + j;
                y[32 * ib + 4 * g + j] = db * (float)((point >> (8 * j)) & 0xFF) * ((signs >> bit) & 1 ? -1.f : 1.f);
            }
        }
    }
}

static void dq_f32(const uint8_t *b, float *y) { memcpy(y, b, 4); }
static void dq_f16(const uint8_t *b, float *y) { *y = ck_half(load_u16(b)); }
static void dq_bf16(const uint8_t *b, float *y) {
    const uint32_t bits = (uint32_t)load_u16(b) << 16;
    memcpy(y, &bits, 4);
}

// The one table of what this target knows: block size, bytes per block, widening function.
const ck_type_info *ck_info(int type) {
    static const ck_type_info table[] = {
        {CK_F32, 1, 4, dq_f32},      {CK_F16, 1, 2, dq_f16},      {CK_BF16, 1, 2, dq_bf16},
        {CK_Q4_0, 32, 18, dq_q4_0},  {CK_Q4_1, 32, 20, dq_q4_1},  {CK_Q5_0, 32, 22, dq_q5_0},
        {CK_Q5_1, 32, 24, dq_q5_1},  {CK_Q8_0, 32, 34, dq_q8_0},  {CK_Q4_K, 256, 144, dq_q4_k},
        {CK_Q5_K, 256, 176, dq_q5_k}, {CK_Q6_K, 256, 210, dq_q6_k}, {CK_IQ4_NL, 32, 18, dq_iq4_nl},
        {CK_IQ4_XS, 256, 136, dq_iq4_xs}, {CK_IQ3_S, 256, 110, dq_iq3_s},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].type == type) return &table[i];
    return NULL;
}

int ck_supports(int type) { return ck_info(type) != NULL; }

void ck_dequantize_rows(int type, const void *w, size_t row_bytes, int r0, int r1, int cols, float *out) {
    const int portable = type & CK_PORTABLE;
    type &= ~(CK_PORTABLE | CK_AVX2_ONLY);
    const ck_type_info *info = ck_info(type);
    if (!info) return;
    if (type == CK_F32) {
        for (int r = r0; r < r1; r++) memcpy(out + (size_t)(r - r0) * cols, (const uint8_t *)w + r * row_bytes, cols * 4);
        return;
    }
    if (!portable && ck_uses_avx2() && ck_widen_rows_avx2(type, w, row_bytes, r0, r1, cols, out)) return;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;
        float *y = out + (size_t)(r - r0) * cols;
        for (int b = 0; b < cols / info->block; b++) info->widen(row + (size_t)b * info->bytes, y + (size_t)b * info->block);
    }
}

void ck_prepare(const float *x, int cols, int16_t *q, float *scales, float *sums) {
    for (int b = 0; b < cols / 32; b++) {
        const float *xb = x + 32 * b;
        float amax = 0, s = 0;
        for (int j = 0; j < 32; j++) {
            const float a = xb[j] < 0 ? -xb[j] : xb[j];
            amax = a > amax ? a : amax;
            s += xb[j];
        }
        const float inv = amax > 0 ? 32767.0f / amax : 0;
        for (int j = 0; j < 32; j++) q[32 * b + j] = (int16_t)lrintf(xb[j] * inv);
        scales[b] = amax / 32767.0f;
        sums[b] = s;
    }
}

void ck_prepare_vnni(const float *x, int cols, int8_t *q8, float *scales, float *qsums) {
    const int blocks = cols / 32;
    if (blocks % 2) memset(q8 + 64 * (blocks - 1), 0, 128);  // the odd last block's partner: zeros
    for (int blk = 0; blk < blocks; blk++) {
        const float *xb = x + 32 * blk;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fabsf(xb[j]) > amax ? fabsf(xb[j]) : amax;
        // 32639 = 127·256 + 127: the largest |q| whose high byte a = (q − b) / 256 stays a signed byte.
        const float inv = amax > 0 ? 32639.0f / amax : 0;
        int8_t *a = q8 + 128 * (blk / 2), *b = a + 64;
        long total = 0;
        for (int j = 0; j < 32; j++) {
            const int q = (int)lrintf(xb[j] * inv), at = 16 * (blk % 2) + (j < 16 ? j : 16 + j);
            const int8_t low = (int8_t)(q & 0xFF);
            b[at] = low;
            a[at] = (int8_t)((q - low) / 256);
            total += q;
        }
        scales[blk] = amax / 32639.0f;
        qsums[blk] = scales[blk] * (float)total;
    }
}

// Portable row product: widen a block, multiply-add in f32 (used when AVX2 is missing).
float ck_dot_scalar(const ck_type_info *info, const uint8_t *row, const float *x, int cols) {
    float tmp[256], acc = 0;
    for (int b = 0; b < cols / info->block; b++) {
        info->widen(row + (size_t)b * info->bytes, tmp);
        const float *xb = x + (size_t)b * info->block;
        for (int j = 0; j < info->block; j++) acc += tmp[j] * xb[j];
    }
    return acc;
}
