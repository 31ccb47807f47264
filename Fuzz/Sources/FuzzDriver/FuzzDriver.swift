#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer's entry (compiler-rt, linked by -sanitize=fuzzer): runs the fuzzing loop around `callback`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// Each target's `NAME_main` (what SwiftPM calls an executable's main) hands its arguments to libFuzzer.
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, callback)
}

/// The input as bytes.
public func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// The input as a file, for parsers that map files (GGUF, safetensors, .bin, tokenizer.model): one file in
/// /dev/shm per process, rewritten for each input.
public func withInputFile(_ data: UnsafePointer<UInt8>?, _ size: Int, suffix: String, _ body: (String) -> Void) {
    let path = "/dev/shm/ckpt-fuzz-\(getpid())\(suffix)"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return }
    var done = 0
    while done < size, let data {
        let n = write(fd, data + done, size - done)
        if n <= 0 { break }
        done += n
    }
    close(fd)
    body(path)
    unlink(path)
}
