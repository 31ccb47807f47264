// The CBLAS calls Model makes, and the OpenBLAS extras it uses, resolved from libopenblas when first
// called (cblas_lazy.c). Linking libopenblas directly ran its load-time set-up (CPU detection, a thread
// pool, ~6 ms here) in every ckpt process, including the many that never multiply a matrix (convert,
// inspect, tokenize). Names and enum values are those of cblas.h, so callers read as plain CBLAS.
#ifndef CBLAS_LAZY_H
#define CBLAS_LAZY_H

// Hidden: the executable must not export these names. libopenblas, opened later, would bind its own
// references to them (openblas_read_env runs in its constructor) to these forwarders instead.
#pragma GCC visibility push(hidden)

typedef enum { CblasRowMajor = 101, CblasColMajor = 102 } CBLAS_ORDER;
typedef enum { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 } CBLAS_TRANSPOSE;

void cblas_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE transA, CBLAS_TRANSPOSE transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void cblas_sgemv(CBLAS_ORDER order, CBLAS_TRANSPOSE trans, int m, int n, float alpha, const float *a, int lda,
                 const float *x, int incx, float beta, float *y, int incy);

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);
char *openblas_get_corename(void);
// OpenBLAS internals exported by libopenblas 0.3.x (not in cblas.h): re-reading the OPENBLAS_* environment
// and stopping the thread pool, which the next product starts again with the re-read settings.
// Parallel.shortenBLASSpin uses them once at start-up.
void openblas_read_env(void);
int blas_thread_shutdown_(void);

/// Whether libopenblas has been opened yet (settings exported before then are read when it loads).
int cblas_lazy_loaded(void);

#pragma GCC visibility pop

#endif
