import Foundation
import Formats
import Testing

/// `ckpt quantize` as users run it: bad input is one `error:` line (plus a `hint:` where one helps), exit 1,
/// and no output file, partial or not.
@Suite struct QuantizeCommandTests {
    let cli = CommandLineTests()

    /// A two-tensor llama-ish F32 GGUF; `poison` puts a NaN or an infinity at element 70 of the weight.
    static func model(_ folder: String, poison: Float? = nil, columns: Int = 64) throws -> String {
        var weight = (0..<(columns * 4)).map { Float($0 % 13) / 13 - 0.5 }
        if let poison { weight[70] = poison }
        let norm = [Float](repeating: 1, count: columns)
        func raw(_ name: String, _ v: [Float], _ shape: [Int]) -> RawTensor {
            RawTensor(name: name, dtype: .f32, shape: shape, data: ByteView(owned: v.withUnsafeBytes { Array($0) }))
        }
        let path = folder + "/in.gguf"
        try GGUFWriter(metadata: [("general.architecture", .string("llama")), ("llama.block_count", .uint32(1))],
                       tensors: [raw("blk.0.attn_norm.weight", norm, [columns]), raw("blk.0.ffn_up.weight", weight, [4, columns])])
            .write(to: path, overwrite: true)
        return path
    }

    static func folder() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    func entries(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    @Test func quantizesAndPrintsProgress() throws {
        let dir = try Self.folder()
        let input = try Self.model(dir)
        let r = try cli.run(["quantize", input, dir + "/out.gguf", "q8_0"])
        #expect(r.code == 0)
        #expect(r.stderr.contains("[   2/   2] blk.0.ffn_up.weight"))
        #expect(r.stderr.contains("converting to q8_0 .. size ="))
        let out = try GGUFFile(path: dir + "/out.gguf")
        #expect(out.tensorInfos.map(\.dtype) == [.f32, .q8_0])
        #expect(out[GGUFKeys.fileType] == .uint32(7))
        #expect(out[GGUFKeys.quantizationVersion] == .uint32(2))
    }

    @Test func unknownTypePrintsTheMenu() throws {
        let dir = try Self.folder()
        let r = try cli.run(["quantize", try Self.model(dir), dir + "/out.gguf", "Q9_X"])
        #expect(r.code == 1)
        #expect(r.stderr.hasPrefix("error: quantize: unknown type 'Q9_X'; the types are Q4_0, Q4_1"))
        #expect(r.stderr.contains("Q4_K_M") && r.stderr.contains("COPY"))
        #expect(try entries(dir) == ["in.gguf"])
    }

    @Test(arguments: [Float.nan, -.infinity])
    func nonFiniteWeightsNameTensorAndBlock(_ poison: Float) throws {
        let dir = try Self.folder()
        let r = try cli.run(["quantize", try Self.model(dir, poison: poison), dir + "/out.gguf", "Q4_0"])
        #expect(r.code == 1)
        let value = poison.isNaN ? "nan" : "inf"
        #expect(r.stderr.contains("error: quantize: tensor 'blk.0.ffn_up.weight' has invalid data: found \(value) value at block 70"))
        #expect(try entries(dir) == ["in.gguf"])  // no partial output, no temporary left behind
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let dir = try Self.folder()
        let input = try Self.model(dir)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/out.gguf"))
        let r = try cli.run(["quantize", input, dir + "/out.gguf", "Q8_0"])
        #expect(r.code == 1)
        #expect(r.stderr.contains("already exists"))
        #expect(r.stderr.contains("hint: pass --force"))
        #expect(try String(contentsOfFile: dir + "/out.gguf", encoding: .utf8) == "keep")
        #expect(try cli.run(["quantize", input, dir + "/out.gguf", "Q8_0", "--force"]).code == 0)
    }

    @Test func requantizingNeedsTheFlag() throws {
        let dir = try Self.folder()
        let input = try Self.model(dir)
        #expect(try cli.run(["quantize", input, dir + "/q8.gguf", "Q8_0"]).code == 0)
        let r = try cli.run(["quantize", dir + "/q8.gguf", dir + "/q4.gguf", "Q4_0"])
        #expect(r.code == 1)
        #expect(r.stderr.contains("requantizing from q8_0 is disabled"))
        #expect(r.stderr.contains("hint: pass --allow-requantize"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/q4.gguf"))
        #expect(try cli.run(["quantize", dir + "/q8.gguf", dir + "/q4.gguf", "Q4_0", "--allow-requantize"]).code == 0)
    }

    @Test func unwritableDestinations() throws {
        let dir = try Self.folder()
        let input = try Self.model(dir)
        for out in [dir + "/missing/out.gguf", "/proc/ckpt-out.gguf"] {
            let r = try cli.run(["quantize", input, out, "Q8_0"])
            #expect(r.code == 1, "\(out)")
            #expect(r.stderr.contains("\nerror: \(out): cannot create a temporary file"), "\(out)")
        }
        let same = try cli.run(["quantize", input, input, "Q8_0", "--force"])
        #expect(same.code == 1)
        #expect(same.stderr.contains("the output is the input file"))
    }

    /// A type with 256-element blocks and no fallback on rows of 64 (via --tensor-type) is an error.
    @Test func noFallbackForTheRowLength() throws {
        let dir = try Self.folder()
        let r = try cli.run(["quantize", try Self.model(dir), dir + "/out.gguf", "Q4_0", "--tensor-type", "ffn_up=q8_K"])
        #expect(r.code == 1)
        #expect(r.stderr.contains("tensor 'blk.0.ffn_up.weight' has rows of 64 elements"))
        #expect(try entries(dir) == ["in.gguf"])
    }

    @Test func dryRunWritesNothing() throws {
        let dir = try Self.folder()
        let r = try cli.run(["quantize", try Self.model(dir), dir + "/out.gguf", "Q4_K_M", "--dry-run"])
        #expect(r.code == 0)
        // Rows of 64 are not whole Q4_K blocks: the fallback warning, then the planned size.
        #expect(r.stderr.contains("not divisible by 256 (required for type    q4_K) -> falling back to    q5_0"))
        #expect(r.stderr.contains("(q5_0)"))
        #expect(try entries(dir) == ["in.gguf"])
    }
}
