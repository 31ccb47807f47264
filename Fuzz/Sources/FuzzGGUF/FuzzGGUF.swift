import Formats
import FuzzDriver
import Model

/// GGUF: header, metadata, tensor infos, then every tensor decoded to f32 (every ggml block type).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInputFile(data, size, suffix: ".gguf") { path in
        guard let file = try? GGUFFile(path: path) else { return }
        for info in file.tensorInfos.prefix(64) {
            _ = try? Quantization.dequantize(file.tensor(info), path: path, threads: 1)
        }
        _ = try? TransformerConfig(gguf: file)
    }
    return 0
}

@_cdecl("FuzzGGUF_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, testOneInput)
}
