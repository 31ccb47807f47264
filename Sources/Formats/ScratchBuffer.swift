#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reusable buffer whose pages are mapped when it is allocated or grown, for streaming code that fills
/// it again and again (staging buffers, source pieces read with pread). On this VM first-touching fresh
/// pages one fault at a time costs more than the work done in them; on Linux one MAP_POPULATE call maps
/// them all (4 MB by page faults took ~3 ms here). Elsewhere the buffer is touched once.
public final class ScratchBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutableRawPointer?
    public private(set) var capacity = 0
    private var mapped = false

    public init(capacity: Int = 0) {
        if capacity > 0 { _ = reserve(capacity) }
    }

    deinit { free() }

    /// At least `bytes` bytes; growing drops the old contents.
    public func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
        if let pointer, bytes <= capacity { return pointer }
        free()
        let size = max(bytes, 1)
        #if os(Linux)
        if let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0), p != MAP_FAILED {
            (pointer, capacity, mapped) = (p, size, true)
            return p
        }
        #endif
        let p = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        (pointer, capacity, mapped) = (p, size, false)
        return p
    }

    private func free() {
        guard let p = pointer else { return }
        #if os(Linux)
        if mapped { munmap(p, capacity) } else { p.deallocate() }
        #else
        p.deallocate()
        #endif
        (pointer, capacity) = (nil, 0)
    }
}
