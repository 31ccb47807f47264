#include <cblas.h>

// OpenBLAS internals exported by libopenblas 0.3.x (not in cblas.h): re-reading the OPENBLAS_* environment
// and stopping the thread pool, which the next product starts again with the re-read settings.
// Parallel.shortenBLASSpin uses them once at start-up.
void openblas_read_env(void);
int blas_thread_shutdown_(void);
