import Formats
import FuzzDriver

/// safetensors: header JSON, dtypes, offsets; the tensors' bytes read; a shard index as JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInputFile(data, size, suffix: ".safetensors") { path in
        guard let file = try? SafetensorsFile(path: path) else { return }
        for tensor in file.tensors.prefix(64) { _ = tensor.data.count }
    }
    return 0
}

@_cdecl("FuzzSafetensors_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, testOneInput)
}
