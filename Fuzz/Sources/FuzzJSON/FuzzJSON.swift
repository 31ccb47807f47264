import Formats
import FuzzDriver
import Model

/// The strict JSON reader, and config.json decoded into a model config (every family's keys).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let json = try? JSONParser.parse(bytes(data, size)) else { return 0 }
    _ = JSONWriter.compact(json)
    _ = try? TransformerConfig(huggingFace: json, path: "config.json")
    return 0
}

@_cdecl("FuzzJSON_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, testOneInput)
}
