import Distill
import Formats
import FuzzDriver

/// Training data: JSONL lines in Dolly or prompt/output form.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInputFile(data, size, suffix: ".jsonl") { path in
        _ = try? InstructionExample.load(path: path)
    }
    return 0
}

@_cdecl("FuzzJSONL_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, testOneInput)
}
