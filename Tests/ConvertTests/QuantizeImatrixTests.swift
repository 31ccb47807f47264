import Convert
import Foundation
import Formats
import Testing
import TestSupport

/// `ckpt quantize --imatrix` against llama.cpp's llama-quantize with the same importance matrix
/// (fixtures/make_quantize_imatrix.py: the synthetic model of QuantizeAgainstLlamaCppTests, a synthetic imatrix,
/// the path "imatrix_synthetic.gguf" as given to the tool): byte-identical files for every type ckpt quantizes
/// with column weights (and Q8_0, which ignores them), and with --include-weights or --exclude-weights.
@Suite(.serialized) struct QuantizeImatrixTests {
    static let golden: JSONValue? = try? Repository.json("quants/quantize_imatrix.json")
    static let imatrixPath = "imatrix_synthetic.gguf"

    static func run(_ key: String, _ entry: JSONValue) throws {
        var options = QuantizeOptions(fileType: try #require(LlamaFileType.named(entry["type"]?.stringValue ?? "")))
        options.threads = 2
        let flags = (entry["flags"]?.arrayValue ?? []).compactMap(\.stringValue)
        func values(_ flag: String) -> [String] { flags.indices.filter { flags[$0] == flag }.map { flags[$0 + 1] } }
        let matrix = try ImportanceMatrix.read(path: Repository.fixtures("quants/" + imatrixPath))
            .filtered(include: values("--include-weights"), exclude: values("--exclude-weights"))
        options.imatrix = (matrix, imatrixPath)
        let out = Scratch.path("qi-\(key).gguf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try GGUFQuantizer.run(input: QuantizeAgainstLlamaCppTests.modelPath, output: out, options: options) { _ in }
        try QuantizeAgainstLlamaCppTests.expectSame(out, as: entry, key)
    }

    static let keys: [String] = ((golden?["types"]?.objectValue ?? []) + (golden?["variants"]?.objectValue ?? [])).map(\.0)

    @Test func goldensAreLoaded() { #expect(Self.keys.count == 25) }

    @Test(arguments: keys)
    func sameFileAsLlamaQuantize(_ key: String) throws {
        let entry = try #require(Self.golden?["types"]?[key] ?? Self.golden?["variants"]?[key])
        try Self.run(key, entry)
    }
}
