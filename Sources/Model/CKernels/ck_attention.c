// Attention of one decoding row of one head. OpenBLAS's sgemv splits a product of a few hundred positions
// across its own threads, and waking them for each of the 2 × heads × layers products per token cost more
// than the products (decode 57 → 68 tok/s with 200 cached positions when held to one thread). The rows are
// a few hundred × 64 floats: plain loops in the cache are enough.
#include <math.h>
#include "ck_internal.h"

static float dot_scalar(const float *a, const float *b, int d) {
    float s = 0;
    for (int i = 0; i < d; i++) s += a[i] * b[i];
    return s;
}

// out = Σ_s p[s] · v_s.
static void mix_scalar(const float *v, size_t stride, int positions, int d, const float *p, float *out) {
    for (int i = 0; i < d; i++) out[i] = 0;
    for (int s = 0; s < positions; s++) {
        const float *row = v + (size_t)s * stride;
        for (int i = 0; i < d; i++) out[i] += p[s] * row[i];
    }
}

#ifdef CK_X86
CK_AVX2 static float dot_avx2(const float *a, const float *b, int d) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= d; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i < d; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(_mm256_add_ps(acc0, acc1)), _mm256_extractf128_ps(_mm256_add_ps(acc0, acc1), 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// d a multiple of 8. The output is built 32 lanes at a time (four accumulators) in one pass over v.
CK_AVX2 static void mix_avx2(const float *v, size_t stride, int positions, int d, const float *p, float *out) {
    int i = 0;
    for (; i + 32 <= d; i += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int s = 0; s < positions; s++) {
            const __m256 w = _mm256_set1_ps(p[s]);
            const float *row = v + (size_t)s * stride + i;
            a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(row), a0);
            a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(row + 8), a1);
            a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(row + 16), a2);
            a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(row + 24), a3);
        }
        _mm256_storeu_ps(out + i, a0);
        _mm256_storeu_ps(out + i + 8, a1);
        _mm256_storeu_ps(out + i + 16, a2);
        _mm256_storeu_ps(out + i + 24, a3);
    }
    for (; i < d; i += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int s = 0; s < positions; s++)
            acc = _mm256_fmadd_ps(_mm256_set1_ps(p[s]), _mm256_loadu_ps(v + (size_t)s * stride + i), acc);
        _mm256_storeu_ps(out + i, acc);
    }
}
#endif

// Scores, soft-max in place (the probabilities stay in `scores`), then the weighted sum of v; the two
// products by AVX2 when the CPU has it and d is a multiple of 8.
void ck_attend_row(const float *q, const float *k, const float *v, size_t stride, int positions, int d, float scale,
                   float *scores, float *out) {
    float (*dot)(const float *, const float *, int) = dot_scalar;
    void (*mix)(const float *, size_t, int, int, const float *, float *) = mix_scalar;
#ifdef CK_X86
    if (ck_cpu_has_avx2() && d % 8 == 0) {
        dot = dot_avx2;
        mix = mix_avx2;
    }
#endif
    float top = -INFINITY;
    for (int s = 0; s < positions; s++) {
        scores[s] = scale * dot(q, k + (size_t)s * stride, d);
        if (scores[s] > top) top = scores[s];
    }
    const float inv = (float)(1 / ck_exp_shifted(scores, positions, top));
    for (int s = 0; s < positions; s++) scores[s] *= inv;
    mix(v, stride, positions, d, scores, out);
}
