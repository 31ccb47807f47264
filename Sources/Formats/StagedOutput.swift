import Dispatch
import Synchronization

/// Tensor data streamed into an AtomicOutput through two reusable staging buffers (and two growable ones for
/// whole tensors made out of order, `fillWhole`): the producer fills one (converting straight into it) while
/// a background queue writes the other. Nothing is
/// allocated per tensor: on this VM, first-touching fresh pages costs more than converting into them (an HF
/// → GGUF conversion of GPT-2 small allocated and faulted in 252 MB of per-tensor arrays before).
/// One producer thread; write errors surface on the next call or in `finish()`.
public final class StagedOutput: @unchecked Sendable {
    /// Bytes per staging buffer; `fill` takes at most this many. 1 MB pieces stay in cache between the
    /// converting thread and the writer (GPT-2 small HF → GGUF: 4 MB pieces took 15–20% longer, 512 KB 8%).
    public static let capacity = 1 << 20

    private let out: AtomicOutput
    private let buffers: [ScratchBuffer]
    private var next = 0
    private let queue = DispatchQueue(label: "ckpt.staged-output")
    private let free: DispatchSemaphore
    /// Whole views queued by `write(_: ByteView)` and not yet written.
    private let pendingViews = DispatchSemaphore(value: 2)
    /// `fillWhole`'s growable buffers: one is filled while the other is written.
    private let wholeBuffers = [ScratchBuffer(), ScratchBuffer()]
    private var nextWhole = 0
    private let freeWhole = DispatchSemaphore(value: 2)
    /// The first write error (set on the queue, read by the producer without waiting for the queue).
    private let failure = Mutex<FormatError?>(nil)
    /// Bytes handed over so far (producer side).
    public private(set) var bytesStaged = 0

    public init(_ out: AtomicOutput, buffers count: Int = 2) {
        self.out = out
        buffers = (0..<count).map { _ in ScratchBuffer(capacity: Self.capacity) }
        free = DispatchSemaphore(value: count)
    }

    // No `queue.sync {}` in deinit: every queued write holds `self`, so deinit runs only after the last of
    // them — and then on the writer's own queue, where a sync on that queue traps (scripts/soak found it: a
    // quantize into a full disk died with SIGILL and left its temporary file behind).

    /// Lets `body` write exactly `byteCount` (≤ capacity) bytes into a staging buffer, then queues them.
    /// A body that returns false produced nothing: the buffer is returned and nothing is written.
    @discardableResult
    public func fill(_ byteCount: Int, _ body: (UnsafeMutableRawPointer) -> Bool) throws(FormatError) -> Bool {
        precondition(byteCount >= 0 && byteCount <= Self.capacity, "staged piece of \(byteCount) bytes")
        return try fill(byteCount, from: free, buffer: {
            defer { next = (next + 1) % buffers.count }
            return buffers[next].pointer!
        }, body)
    }

    /// Maps both of `fillWhole`'s buffers at `byteCount` now, for a producer that knows its largest piece:
    /// growing them piece by piece mapped (and first-touched) them several times over.
    public func reserveWhole(_ byteCount: Int) {
        guard byteCount > Self.capacity else { return }
        for buffer in wholeBuffers { _ = buffer.reserve(byteCount) }
    }

    /// `fill` for pieces of any size: one above `capacity` (a whole tensor whose bytes are made out of order,
    /// such as a transpose made band by band) goes into one of two buffers that grow to the largest piece.
    @discardableResult
    public func fillWhole(_ byteCount: Int, _ body: (UnsafeMutableRawPointer) -> Bool) throws(FormatError) -> Bool {
        if byteCount <= Self.capacity { return try fill(byteCount, body) }
        return try fill(byteCount, from: freeWhole, buffer: {
            defer { nextWhole = (nextWhole + 1) % wholeBuffers.count }
            return wholeBuffers[nextWhole].reserve(byteCount)
        }, body)
    }

    /// Waits for one of the buffers `released` counts, lets `body` fill it and queues its write.
    private func fill(_ byteCount: Int, from released: DispatchSemaphore, buffer: () -> UnsafeMutableRawPointer,
                      _ body: (UnsafeMutableRawPointer) -> Bool) throws(FormatError) -> Bool {
        if let error = failure.withLock({ $0 }) { throw error }
        released.wait()
        let pointer = buffer()
        guard body(pointer) else {
            released.signal()
            return false
        }
        queueWrite(pointer, byteCount, thenSignal: released)
        return true
    }

    /// Queues the write of a filled buffer; `released` is signalled once the buffer may be filled again.
    private func queueWrite(_ buffer: UnsafeMutableRawPointer, _ byteCount: Int, thenSignal released: DispatchSemaphore) {
        bytesStaged += byteCount
        let piece = SendablePiece(pointer: buffer, count: byteCount)
        queue.async {
            defer { released.signal() }
            self.record { () throws(FormatError) in
                try self.out.writeUnbuffered(UnsafeRawBufferPointer(start: piece.pointer, count: piece.count))
            }
        }
    }

    /// Copies `bytes` through the staging buffers.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        var start = 0
        while start < bytes.count {
            let n = min(Self.capacity, bytes.count - start)
            try fill(n) { buffer in
                buffer.copyMemory(from: bytes.baseAddress! + start, byteCount: n)
                return true
            }
            start += n
        }
    }

    /// A view of at least `capacity` bytes is queued as it is (no copy; at most two wait), a smaller one is
    /// copied through the staging buffers.
    public func write(_ view: ByteView) throws(FormatError) {
        guard view.count >= Self.capacity else {
            try view.withUnsafeBytes { (raw) throws(FormatError) in try write(raw) }
            return
        }
        if let error = failure.withLock({ $0 }) { throw error }
        pendingViews.wait()
        bytesStaged += view.count
        queue.async {
            defer { self.pendingViews.signal() }
            self.record { () throws(FormatError) in
                try view.withUnsafeBytes { (raw) throws(FormatError) in try self.out.writeUnbuffered(raw) }
            }
        }
    }

    /// Zero bytes up to the next multiple of `alignment` of everything written to the file (queued after
    /// the pieces before it).
    public func pad(toAlignment alignment: Int) throws(FormatError) {
        if let error = failure.withLock({ $0 }) { throw error }
        queue.async { self.record { () throws(FormatError) in try self.out.padTo(alignment: alignment) } }
    }

    /// Queues `work` on the output itself, in order with the pieces (the GGUF header, written while the
    /// first tensors are being converted). It runs on the writer's queue: it must not share mutable state
    /// with the producer.
    public func enqueue(_ work: @escaping (AtomicOutput) throws(FormatError) -> Void) {
        let job = UncheckedJob(run: work)
        queue.async { self.record { () throws(FormatError) in try job.run(self.out) } }
    }

    private struct UncheckedJob: @unchecked Sendable {
        let run: (AtomicOutput) throws(FormatError) -> Void
    }

    /// Waits until every queued piece is written; throws the first write error.
    public func finish() throws(FormatError) {
        queue.sync {}
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Runs one queued write unless an earlier one failed; keeps the first error.
    private func record(_ write: () throws(FormatError) -> Void) {
        guard failure.withLock({ $0 }) == nil else { return }
        do { try write() } catch { failure.withLock { $0 = $0 ?? error } }
    }

    private struct SendablePiece: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        let count: Int
    }
}
