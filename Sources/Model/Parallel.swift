import CBLAS
import CKernels
import Dispatch
import Foundation

/// Splitting work over the machine's cores. Our own parallel regions (decoding matvecs, widening) run
/// with OpenBLAS held to one thread, so the two thread pools never fight over the same 2 cores.
public enum Parallel {
    /// Worker count: CKPT_THREADS, else the active processor count.
    public static let threads: Int = {
        if let text = environment("CKPT_THREADS"), let n = Int(text), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body` on at most `threads` × `perThread` contiguous chunks of 0..<count, each at least `minChunk`
    /// long on average, inline when one chunk suffices. More chunks than threads balance work whose speed
    /// differs between threads (whoever finishes first claims the next chunk; they shrink towards the end). The chunks run on ck_pool's spinning
    /// workers (a region costs a few microseconds there, against tens for waking Dispatch's); on Dispatch
    /// when the pool is busy with another thread's region; one after another when called from inside a chunk
    /// or with one thread. Chunk boundaries depend only on count, minChunk and the thread count.
    public static func forChunks(_ count: Int, minChunk: Int, perThread: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
        forIndexedChunks(count, minChunk: minChunk, perThread: perThread) { _, range in body(range) }
    }

    /// The same chunks, each with its index (0..<chunkCount(…)): for bodies that keep a buffer per chunk
    /// and reuse it across the chunk's items while it is in cache.
    public static func forIndexedChunks(_ count: Int, minChunk: Int, perThread: Int = 1, _ body: @Sendable (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(count, minChunk: minChunk, perThread: perThread)
        if chunks == 1 { body(0, 0..<count); return }
        // With several chunks per thread their sizes shrink linearly (chunk c ∝ chunks − c, claimed in
        // order): the last ones are small, so the thread that runs out of work waits for little.
        let guided = perThread > 1, weight = chunks * (chunks + 1) / 2
        let bound = { @Sendable (c: Int) in guided ? count * (c * (2 * chunks - c + 1) / 2) / weight : count * c / chunks }
        let range = { @Sendable (c: Int) in bound(c)..<bound(c + 1) }
        if threads == 1 {  // CKPT_THREADS=1: the same chunks, one after another, on this thread
            for c in 0..<chunks { body(c, range(c)) }
            return
        }
        let outcome = withoutActuallyEscaping(body) { body in
            var job = PoolJob(run: { body($0, range($0)) })
            return withUnsafeMutablePointer(to: &job) { job in
                ck_parallel(Int32(threads), Int32(chunks), { context, c in
                    context!.assumingMemoryBound(to: PoolJob.self).pointee.run(Int(c))
                }, job)
            }
        }
        switch outcome {
        case 0: return
        case -1: for c in 0..<chunks { body(c, range(c)) }
        default: DispatchQueue.concurrentPerform(iterations: chunks) { body($0, range($0)) }
        }
    }

    /// How many chunks forChunks and forIndexedChunks make of `count` items.
    public static func chunkCount(_ count: Int, minChunk: Int, perThread: Int = 1) -> Int {
        max(1, min(threads * perThread, count / max(1, minChunk)))
    }

    /// What ck_parallel's C callback calls: chunk index → work.
    private struct PoolJob { let run: (Int) -> Void }

    /// Pool workers spin this long after a region before they sleep: CKPT_SPIN_US, else 200 µs (covers the
    /// gaps between one token's regions; short enough not to hold a core from OpenBLAS between training's
    /// products for long).
    public static func configurePool() {
        if let text = environment("CKPT_SPIN_US"), let us = Int(text), us >= 0 {
            ck_pool_set_spin(us)
        }
    }

    /// For commands whose parallel regions alternate with other threads' work (convert: a writer thread
    /// needs a core between the regions): workers sleep right after a region unless CKPT_SPIN_US says
    /// otherwise. Spinning took 13% of GPT-2 small's HF → GGUF conversion and made it ~7% slower.
    public static func preferSleepingWorkers() {
        if environment("CKPT_SPIN_US") == nil { ck_pool_set_spin(0) }
    }

    /// One variable (getenv: ProcessInfo.environment copies the whole environment into a dictionary, which
    /// showed in every command's start-up).
    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// OpenBLAS's idle threads spin (sched_yield) for 2^28 cycles, about 0.1 s, after each product before
    /// they sleep: between the products of a training step they never sleep, and on 2 vCPUs the spinning
    /// thread takes turns with our own element-wise threads. This shortens the spin to 2^`log2Cycles` cycles
    /// (OpenBLAS reads OPENBLAS_THREAD_TIMEOUT when it loads, which is on the first BLAS call; if it is
    /// loaded already, the setting is re-read and the pool restarted). A value the user exported is kept.
    /// Call once, before any other thread uses BLAS.
    public static func shortenBLASSpin(log2Cycles: Int = 4) {
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil else { return }
        setenv("OPENBLAS_THREAD_TIMEOUT", "\(log2Cycles)", 1)
        guard cblas_lazy_loaded() != 0 else { return }
        openblas_read_env()
        _ = blas_thread_shutdown_()
    }

    /// Runs `body` with OpenBLAS limited to `n` threads, restoring the previous count afterwards.
    public static func withBLASThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let previous = openblas_get_num_threads()
        if previous != Int32(n) { openblas_set_num_threads(Int32(n)) }
        defer { if previous != Int32(n) { openblas_set_num_threads(previous) } }
        return try body()
    }
}

/// A pointer that may cross into concurrentPerform closures; the caller guarantees disjoint writes.
public struct SendablePointer<T>: @unchecked Sendable {
    public let pointer: T
    public init(_ pointer: T) { self.pointer = pointer }
}
