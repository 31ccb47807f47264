import Formats
import FuzzDriver
import Model

/// tokenizer.json: the pipeline (normalizer, pre-tokenizer patterns, BPE, added tokens), then tokenizing,
/// decoding, and the pre-tokenizer's naming hash.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let json = try? JSONParser.parse(bytes(data, size)),
          let tokenizer = try? Tokenizers.load(tokenizerJSON: json, path: "tokenizer.json") else { return 0 }
    _ = tokenizer.decode(tokenizer.encode("Hello  wörld 12345 'll\n\n👋 <|im_start|>", special: true))
    _ = try? PreTokenizerIdentity.identify(tokenizerJSON: json, path: "tokenizer.json")
    return 0
}

@_cdecl("FuzzTokenizerJSON_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, testOneInput)
}
