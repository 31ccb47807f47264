import Formats
import FuzzDriver
import Jinja
import Model

/// Chat templates: the Jinja lexer, parser and interpreter on a conversation, within tight limits.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let source = String(decoding: bytes(data, size), as: UTF8.self)
    guard let template = try? JinjaTemplate(source) else { return 0 }
    let messages: JinjaValue = .array([
        .object(JinjaObject([("role", .string("system")), ("content", .string("Be brief."))])),
        .object(JinjaObject([("role", .string("user")), ("content", .string("Hi 👋"))])),
    ])
    _ = try? template.render(["messages": messages, "add_generation_prompt": .bool(true), "bos_token": .string("<s>"),
                              "eos_token": .string("</s>")],
                             limits: JinjaLimits(maxOutputBytes: 1 << 20, maxLoopIterations: 100_000, maxCallDepth: 64), now: 0)
    return 0
}

@_cdecl("FuzzJinja_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, testOneInput)
}
