#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only. Views (`ByteView`) keep the mapping alive, so a tensor read from a
/// multi-GB checkpoint costs no copy and no resident memory until its bytes are touched.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    // nil for an empty file: mmap of zero bytes is an error on Linux.
    private let base: UnsafeRawPointer?
    /// Kept open for `ByteView.copyBytes` (pread); −1 for an empty file.
    private let descriptor: Int32

    /// `populate` pre-faults the whole mapping in one call (MAP_POPULATE), as llama.cpp does for files it
    /// will read through: far fewer page faults than touching 4 KB pages one by one. Off for header reads.
    public init(path: String, populate: Bool = false) throws(FormatError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: "cannot open: \(Self.errnoText())") }
        var keep = false
        defer { if !keep { close(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: path, reason: "cannot stat: \(Self.errnoText())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, reason: "not a regular file") }
        count = Int(info.st_size)
        if count == 0 {
            base = nil
            descriptor = -1
            return
        }
        #if os(Linux)
        let flags = MAP_PRIVATE | (populate ? MAP_POPULATE : 0)
        #else
        let flags = MAP_PRIVATE
        #endif
        let mapped = mmap(nil, count, PROT_READ, flags, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw .io(path: path, reason: "cannot mmap \(count) bytes: \(Self.errnoText())")
        }
        base = UnsafeRawPointer(mapped)
        descriptor = fd
        keep = true
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
        if descriptor >= 0 { close(descriptor) }
    }

    /// Copies `count` bytes at file offset `offset` (inside the file) to `destination` with pread: the
    /// kernel copies from the page cache, this process maps nothing (populating and dropping GPT-2
    /// small's 498 MB of page-table entries cost more than the copy) and the bytes arrive in cache. What
    /// pread cannot deliver (a file shortened since it was mapped) is copied from the mapping.
    func copy(offset: Int, count: Int, to destination: UnsafeMutableRawPointer) {
        precondition(offset >= 0 && count >= 0 && offset + count <= self.count, "MappedFile.copy outside the file")
        var done = 0
        while done < count {
            let n = pread(descriptor, destination + done, count - done, off_t(offset + done))
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        if done < count, let base { (destination + done).copyMemory(from: base + offset + done, byteCount: count - done) }
    }

    /// The whole mapping. Valid only while `self` is alive: prefer `view(_:)` outside this module.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// A bounds-checked view; `what` names the thing being read for the error message.
    public func view(_ range: Range<Int>, what: String) throws(FormatError) -> ByteView {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw .truncated(path: path, what: what, offset: range.lowerBound,
                             needed: range.count, available: max(0, count - range.lowerBound))
        }
        return ByteView(file: self, range: range)
    }

    public static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Read-only bytes that are either a slice of a mapped file or an owned buffer.
/// Holding a `ByteView` keeps its `MappedFile` mapped.
public struct ByteView: @unchecked Sendable {
    private enum Storage {
        case mapped(MappedFile)
        case owned([UInt8])
    }
    private let storage: Storage
    /// Byte range within the mapped file (or within the owned array).
    public let range: Range<Int>

    init(file: MappedFile, range: Range<Int>) {
        storage = .mapped(file)
        self.range = range
    }

    public init(owned bytes: [UInt8]) {
        storage = .owned(bytes)
        range = 0..<bytes.count
    }

    public var count: Int { range.count }

    /// A size without bytes, for planning layouts before the data exists (SafetensorsStreaming). Reading
    /// its bytes gives nothing; only `count` is meaningful.
    init(size: Int) {
        storage = .owned([])
        range = 0..<size
    }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        switch storage {
        case .mapped(let file):
            let all = file.bytes
            let slice = UnsafeRawBufferPointer(rebasing: all[range])
            return try withExtendedLifetime(file) { () throws(E) -> R in try body(slice) }
        case .owned(let array):
            // Fully qualified to pick the typed-throws overload on Array.
            var result: Result<R, E>!
            array.withUnsafeBytes { raw in
                do throws(E) { result = .success(try body(raw)) } catch { result = .failure(error) }
            }
            return try result.get()
        }
    }

    /// Copies the bytes of `range` (relative to this view) to `destination`: from a mapped file with pread
    /// (MappedFile.copy), owned bytes with memcpy. For streaming readers that touch each byte once.
    public func copyBytes(_ range: Range<Int>, to destination: UnsafeMutableRawPointer) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "ByteView.copyBytes out of bounds")
        switch storage {
        case .mapped(let file):
            file.copy(offset: self.range.lowerBound + range.lowerBound, count: range.count, to: destination)
        case .owned(let array):
            // A size-only view (init(size:)) holds no bytes: nothing to copy.
            let start = self.range.lowerBound + range.lowerBound, n = min(range.count, max(0, array.count - start))
            guard n > 0 else { return }
            array.withUnsafeBytes { raw in destination.copyMemory(from: raw.baseAddress! + start, byteCount: n) }
        }
    }

    /// Drops the pages of `range` (bytes relative to this view; default all) from the process's memory
    /// once a streaming reader is done with them: the mapping is a read-only file mapping, so a later read
    /// simply faults them in again. Keeps a converter's resident memory at a few tensors, not the whole file.
    public func releasePages(_ range: Range<Int>? = nil) {
        guard case .mapped(let file) = storage, let base = file.bytes.baseAddress else { return }
        let r = range ?? 0..<count
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (self.range.lowerBound + r.lowerBound) / page * page
        let end = min(file.count, (self.range.lowerBound + r.upperBound + page - 1) / page * page)
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    /// The sub-range `r` (relative to this view) as a view of the same storage; `r` must lie inside.
    public func slice(_ r: Range<Int>) -> ByteView {
        precondition(r.lowerBound >= 0 && r.upperBound <= count, "ByteView.slice out of bounds")
        switch storage {
        case .mapped(let file): return ByteView(file: file, range: (range.lowerBound + r.lowerBound)..<(range.lowerBound + r.upperBound))
        case .owned(let array): return ByteView(owned: Array(array[(range.lowerBound + r.lowerBound)..<(range.lowerBound + r.upperBound)]))
        }
    }

    /// A copy of the bytes (for small things: tests, headers).
    public var array: [UInt8] { withUnsafeBytes { Array($0) } }
}
