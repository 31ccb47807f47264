import Formats
import FuzzDriver

/// PyTorch .bin: the zip reader and the pickle machine (which must never execute anything).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInputFile(data, size, suffix: ".bin") { path in
        guard let checkpoint = try? TorchCheckpoint(path: path) else { return }
        for tensor in checkpoint.tensors.prefix(64) { _ = tensor.data.count }
    }
    return 0
}

@_cdecl("FuzzTorch_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, testOneInput)
}
