// See include/cblas_lazy.h. libopenblas is opened once, on the first call from any thread; a machine
// without it gets a one-line error and exit status 1 at that point, not a crash.
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "include/cblas_lazy.h"

typedef void (*sgemm_fn)(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
typedef void (*sgemv_fn)(CBLAS_ORDER, CBLAS_TRANSPOSE, int, int, float, const float *, int, const float *, int,
                         float, float *, int);

static struct {
    sgemm_fn sgemm;
    sgemv_fn sgemv;
    int (*get_num_threads)(void);
    void (*set_num_threads)(int);
    char *(*get_corename)(void);
    void (*read_env)(void);
    int (*thread_shutdown)(void);
} blas;

static pthread_once_t loaded = PTHREAD_ONCE_INIT;
static volatile int opened = 0;

static void *symbol(void *library, const char *name) {
    void *f = dlsym(library, name);
    if (!f) {
        fprintf(stderr, "error: OpenBLAS has no '%s' (%s)\n", name, dlerror());
        exit(1);
    }
    return f;
}

// OpenBLAS picks its kernels from the CPU model when it loads; a build older than the CPU (Debian 12's 0.3.21
// on Sapphire Rapids) falls back to the SSE3 "Prescott" kernels, and prefill's sgemm runs 3x slower (SmolLM2 F32,
// 199 tokens: 240 tok/s against 760 with Cooperlake's). Unless OPENBLAS_CORETYPE is set, an AVX-512 CPU gets the
// kernels its instruction sets run: Cooperlake (with AVX512-BF16) or SkylakeX (AVX512 F/BW/DQ/VL). Older CPUs are
// left to OpenBLAS, which knows them. CKPT_KERNELS=avx2 (ckpt's own kernels limited to AVX2) asks for Haswell's, so
// the whole program runs as on an AVX2 host.
static void choose_core(void) {
#if defined(__x86_64__)
    if (getenv("OPENBLAS_CORETYPE")) return;
    const char *kernels = getenv("CKPT_KERNELS");
    if (kernels && strcmp(kernels, "avx2") == 0) {
        setenv("OPENBLAS_CORETYPE", "Haswell", 0);
        return;
    }
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
          && __builtin_cpu_supports("avx512vl"))) return;
    setenv("OPENBLAS_CORETYPE", __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX", 0);
#endif
}

static void load(void) {
    choose_core();
    // libopenblas.so.0 is the runtime name (Debian's libopenblas0); the unversioned name exists with -dev.
    void *library = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!library) library = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stderr, "error: cannot load OpenBLAS (libopenblas.so.0): %s; install libopenblas0 (apt-get install libopenblas-dev)\n",
                dlerror());
        exit(1);
    }
    blas.sgemm = (sgemm_fn)symbol(library, "cblas_sgemm");
    blas.sgemv = (sgemv_fn)symbol(library, "cblas_sgemv");
    blas.get_num_threads = (int (*)(void))symbol(library, "openblas_get_num_threads");
    blas.set_num_threads = (void (*)(int))symbol(library, "openblas_set_num_threads");
    blas.get_corename = (char *(*)(void))symbol(library, "openblas_get_corename");
    blas.read_env = (void (*)(void))symbol(library, "openblas_read_env");
    blas.thread_shutdown = (int (*)(void))symbol(library, "blas_thread_shutdown_");
    opened = 1;
}

#define LOADED (pthread_once(&loaded, load), &blas)

void cblas_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE transA, CBLAS_TRANSPOSE transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    LOADED->sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_sgemv(CBLAS_ORDER order, CBLAS_TRANSPOSE trans, int m, int n, float alpha, const float *a, int lda,
                 const float *x, int incx, float beta, float *y, int incy) {
    LOADED->sgemv(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

int openblas_get_num_threads(void) { return LOADED->get_num_threads(); }
void openblas_set_num_threads(int n) { LOADED->set_num_threads(n); }
char *openblas_get_corename(void) { return LOADED->get_corename(); }
void openblas_read_env(void) { LOADED->read_env(); }
int blas_thread_shutdown_(void) { return LOADED->thread_shutdown(); }
int cblas_lazy_loaded(void) { return opened; }
