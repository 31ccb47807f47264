import Formats
import FuzzDriver
import Model

/// tokenizer.model (SentencePiece ModelProto through protobuf-c), then tokenizing with it.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInputFile(data, size, suffix: ".model") { path in
        guard let model = try? SentencePieceModel(path: path) else { return }
        let tokenizer = SentencePieceBPE.load(model: model)
        _ = tokenizer.decode(tokenizer.encode("Hello wörld 👋 <s>", special: true))
    }
    return 0
}

@_cdecl("FuzzSentencePiece_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, testOneInput)
}
