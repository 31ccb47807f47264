import CPlatform
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file written under a temporary name in its destination folder, flushed, then renamed into place:
/// a crash, an error or Ctrl-C never leaves a half-written checkpoint under the final name. Like llama.cpp's
/// tools, safetensors and `cp`, the data is not fsynced before the rename (the rename is atomic for any
/// process failure; ext4 flushes a renamed-over file's data before the rename commits). CKPT_FSYNC=1 syncs
/// each file before it is renamed, for durability across power loss at the price of waiting for the disk.
/// Writes are buffered; `commit()` publishes, `deinit` without `commit()` removes the temporary file.
/// Not thread-safe: one thread (or one serial queue) at a time.
public final class AtomicOutput: @unchecked Sendable {
    public let path: String
    public let temporaryPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private static let bufferLimit = 4 << 20
    public private(set) var bytesWritten: UInt64 = 0
    private var committed = false
    /// CKPT_FSYNC=1: fsync before the rename.
    static let syncsBeforeRename = getenv("CKPT_FSYNC").map { String(cString: $0) == "1" } ?? false

    /// Refuses an existing destination unless `overwrite` is set.
    public init(path: String, overwrite: Bool = false) throws(FormatError) {
        self.path = path
        if !overwrite && access(path, F_OK) == 0 {
            throw .io(path: path, reason: "already exists (use --force to overwrite)")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let folder = parts.dropLast().joined(separator: "/")
        let base = parts.last.map(String.init) ?? "out"
        Self.removeLeftovers(in: folder.isEmpty ? "." : folder, prefix: ".\(base).tmp-")
        // The writer's process id is in the name, so a later writer can tell a dead process's leftovers.
        var template = Array(((folder.isEmpty ? "" : folder + "/") + ".\(base).tmp-\(getpid())-XXXXXX").utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io(path: path, reason: "cannot create a temporary file: \(MappedFile.errnoText())") }
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        fchmod(fd, 0o644)
    }

    /// Removes the entries of `folder` named `prefix` + a process id (+ "-…") whose process no longer runs:
    /// what a writer killed with -9 left (files, or staging folders); those of running processes stay.
    public static func removeLeftovers(in folder: String, prefix: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard let pid = Int32(digits), pid > 0, rest.dropFirst(digits.count).first.map({ $0 == "-" }) ?? true else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: folder + "/" + name) }
        }
    }

    deinit { discard() }

    /// Closes and removes the temporary file now (a write that failed), unless committed. Idempotent. The
    /// writers call it on their error paths rather than leaving it to deinit, which can run after the process
    /// exited when the last reference is a block still being released on a writer's queue.
    public func discard() {
        guard !committed else { return }
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(temporaryPath)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        if buffer.count + bytes.count > Self.bufferLimit { try flush() }
        if bytes.count >= Self.bufferLimit {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        bytesWritten += UInt64(bytes.count)
    }

    /// Allocates the file's blocks up front when its final size is known (Linux fallocate, keeping the size;
    /// ignored where the file system cannot): the writes then fill allocated blocks instead of reserving them
    /// page by page (a 252 MB GGUF wrote in 0.057 s instead of 0.084 s here).
    public func reserve(_ byteCount: Int) {
        if byteCount > 0 { _ = cplatform_reserve(fd, Int64(byteCount)) }
    }

    /// Writes `bytes` straight to the file (after what is buffered), without copying them into the buffer.
    public func writeUnbuffered(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        try flush()
        try writeAll(bytes)
        bytesWritten += UInt64(bytes.count)
    }

    public func write(_ bytes: [UInt8]) throws(FormatError) {
        var failure: FormatError?
        bytes.withUnsafeBytes { raw in
            do throws(FormatError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public func write(_ view: ByteView) throws(FormatError) {
        try view.withUnsafeBytes { (raw) throws(FormatError) in try write(raw) }
    }

    public func writeZeros(_ count: Int) throws(FormatError) {
        try write([UInt8](repeating: 0, count: count))
    }

    /// Zero bytes up to the next multiple of `alignment` (GGUF padding).
    public func padTo(alignment: Int) throws(FormatError) {
        let rest = Int(bytesWritten % UInt64(alignment))
        if rest != 0 { try writeZeros(alignment - rest) }
    }

    private func flush() throws(FormatError) {
        var failure: FormatError?
        buffer.withUnsafeBytes { raw in
            do throws(FormatError) { try writeAll(raw) } catch { failure = error }
        }
        if let failure { throw failure }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .io(path: temporaryPath, reason: "write failed: \(MappedFile.errnoText())") }
            done += n
        }
    }

    /// Flushes (and with CKPT_FSYNC=1 syncs) the temporary file, then renames it to `path`.
    public func commit() throws(FormatError) {
        try flush()
        guard !Self.syncsBeforeRename || fsync(fd) == 0 else { throw .io(path: temporaryPath, reason: "fsync failed: \(MappedFile.errnoText())") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            throw .io(path: path, reason: "cannot rename from \(temporaryPath): \(MappedFile.errnoText())")
        }
        committed = true
    }
}
