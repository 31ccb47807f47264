// A small persistent thread pool for short parallel regions. Decoding one token runs ~120 regions of
// 30–100 µs each (one per group of matrix products); waking a sleeping Dispatch worker for each cost about a
// third of the decode time on this 2-vCPU VM. Here the workers spin (pause) for a while after each region
// before they sleep, so the next region of the same token finds them awake, as ggml's threads do.
//
// One region at a time: chunks are claimed from a shared counter by the caller and the workers; the caller
// returns when every chunk has finished. A region started while another runs (another thread) or from inside
// a chunk is refused, and the caller runs it another way.
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "include/ckernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define CK_PAUSE() __builtin_ia32_pause()
#else
#define CK_PAUSE() ((void)0)
#endif

static struct {
    pthread_mutex_t owner;  // held by the caller of the running region
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
    atomic_uint generation;  // bumped when a region starts
    atomic_int sleepers;
    // (region << 32) | next chunk to claim: a claim names its region, so a worker still finishing one
    // region can never take a chunk of the next (see run_chunks).
    atomic_ullong claim;
    atomic_int done;         // chunks finished
    atomic_int chunks;
    _Atomic(ck_task) task;
    _Atomic(void *) context;
    int workers;             // started so far (only grows; guarded by owner)
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static _Thread_local int inside_chunk;
static atomic_long spin_ns = 200000;

void ck_pool_set_spin(long microseconds) { atomic_store(&spin_ns, microseconds * 1000); }

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

// Claims and runs chunks of `region` until none is left. A claim is a compare-and-swap on (region, next
// chunk): with a plain counter reset per region, a worker late out of one region could add to the counter
// before the reset yet read the next region's chunk count, run a chunk twice and count it in the new
// region's `done`, which then let the caller return while a chunk still used its closure (seen as a
// "closure argument was escaped" trap in training). A claim that names the region also sees that region's
// task, context and count (written before the claim word).
static void run_chunks(unsigned region) {
    for (;;) {
        unsigned long long current = atomic_load(&pool.claim);
        int c;
        do {
            if ((unsigned)(current >> 32) != region) return;
            c = (int)(current & 0xffffffffu);
            if (c >= atomic_load_explicit(&pool.chunks, memory_order_relaxed)) return;
        } while (!atomic_compare_exchange_weak(&pool.claim, &current, current + 1));
        atomic_load_explicit(&pool.task, memory_order_relaxed)(atomic_load_explicit(&pool.context, memory_order_relaxed), c);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

static void *worker(void *unused) {
    (void)unused;
    inside_chunk = 1;
    unsigned seen = atomic_load(&pool.generation);
    for (;;) {
        unsigned g;
        const long start = now_ns();
        for (int spins = 1; (g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen; spins++) {
            CK_PAUSE();
            if (spins % 128 == 0 && now_ns() - start > atomic_load_explicit(&spin_ns, memory_order_relaxed)) {
                // Sleep. The caller bumps generation before it reads sleepers; this thread counts itself
                // before it reads generation: one of the two sees the other (sequentially consistent).
                pthread_mutex_lock(&pool.sleep_lock);
                atomic_fetch_add(&pool.sleepers, 1);
                while ((g = atomic_load(&pool.generation)) == seen) pthread_cond_wait(&pool.wake, &pool.sleep_lock);
                atomic_fetch_sub(&pool.sleepers, 1);
                pthread_mutex_unlock(&pool.sleep_lock);
                break;
            }
        }
        seen = g;
        run_chunks(g);
    }
    return NULL;
}

int ck_parallel(int threads, int chunks, ck_task task, void *context) {
    if (inside_chunk) return -1;
    if (pthread_mutex_trylock(&pool.owner) != 0) return 1;
    while (pool.workers < threads - 1) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attr, worker, NULL);
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.workers++;
    }
    if (pool.workers == 0) {
        pthread_mutex_unlock(&pool.owner);
        return 1;
    }
    atomic_store_explicit(&pool.task, task, memory_order_relaxed);
    atomic_store_explicit(&pool.context, context, memory_order_relaxed);
    atomic_store_explicit(&pool.chunks, chunks, memory_order_relaxed);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    const unsigned region = atomic_load(&pool.generation) + 1;  // only the owner changes it
    atomic_store(&pool.claim, (unsigned long long)region << 32);
    atomic_store(&pool.generation, region);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.sleep_lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.sleep_lock);
    }
    inside_chunk = 1;
    run_chunks(region);
    inside_chunk = 0;
    // The other chunks are being run: spin briefly, then give the CPU away between checks.
    for (int spins = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < chunks; spins++) {
        if (spins < 20000) CK_PAUSE(); else sched_yield();
    }
    pthread_mutex_unlock(&pool.owner);
    return 0;
}
