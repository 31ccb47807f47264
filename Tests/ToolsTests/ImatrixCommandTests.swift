import Convert
import Foundation
import Formats
import Testing
import TestSupport

/// `ckpt imatrix` against llama.cpp's llama-imatrix (fixtures/make_imatrix.py): the tiny llama3 family model, the
/// same calibration text, 4 chunks of 32 tokens. Same entries (every weight of the blocks) and token counts,
/// sums within 1e-5 of each entry's largest (5.3e-7 measured: activations differ by float rounding); the GGUF
/// form ckpt writes is llama.cpp's byte for byte; the legacy .dat form reads to the same column weights.
@Suite struct ImatrixCommandTests {
    let cli = CommandLineTests()
    static let folder = CommandLineTests.root + "/fixtures/imatrix"

    func model() throws -> String {
        let path = TinyModel.temporaryPath("llama3-f32.gguf")
        let r = try cli.run(["convert", CommandLineTests.root + "/fixtures/families/llama3", path, "--outtype", "f32"])
        #expect(r.code == 0, "\(r.stderr)")
        return path
    }

    @Test func matchesLlamaImatrix() throws {
        let out = TinyModel.temporaryPath("imatrix.gguf")
        let r = try cli.run(["imatrix", try model(), "--data", Self.folder + "/calibration.txt", "-o", out, "--ctx", "32", "--chunks", "4"])
        #expect(r.code == 0, "\(r.stderr)")
        let ours = try ImportanceMatrix.read(path: out), theirs = try ImportanceMatrix.read(path: Self.folder + "/imatrix.gguf")
        #expect(ours.entries.keys.sorted() == theirs.entries.keys.sorted())
        #expect(ours.entries.count == 2 * 7)
        #expect(ours.chunkCount == theirs.chunkCount && ours.chunkSize == theirs.chunkSize && ours.chunkCount == 4)
        for (name, want) in theirs.entries {
            let got = try #require(ours.entries[name])
            #expect(got.counts == want.counts, "\(name): counts \(got.counts) vs \(want.counts)")
            let scale = want.sums.map(abs).max()!
            let diff = zip(got.sums, want.sums).map { abs($0 - $1) }.max()!
            #expect(got.sums.count == want.sums.count && diff <= 1e-5 * scale, "\(name): \(diff / scale)")
        }
    }

    @Test func writesLlamaCppsBytes() throws {
        let theirs = try ImportanceMatrix.read(path: Self.folder + "/imatrix.gguf")
        #expect(theirs.datasets == ["calibration.txt"])
        let path = TinyModel.temporaryPath("rewritten.gguf")
        try theirs.write(to: path, overwrite: false)
        #expect(FileManager.default.contents(atPath: path) == FileManager.default.contents(atPath: Self.folder + "/imatrix.gguf"))
    }

    @Test func legacyFileGivesTheSameColumnWeights() throws {
        let gguf = try ImportanceMatrix.read(path: Self.folder + "/imatrix.gguf")
        let dat = try ImportanceMatrix.read(path: Self.folder + "/imatrix.dat")
        #expect(dat.isLegacy && dat.chunkCount == 4 && dat.datasets == ["calibration.txt"])
        #expect(dat.entries.keys.sorted() == gguf.entries.keys.sorted())
        for name in gguf.entries.keys {
            let a = try #require(gguf.columnWeights(name)), b = try #require(dat.columnWeights(name))
            let scale = a.map(abs).max()!
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 * scale }, "\(name)")
        }
    }

    @Test func badFilesAreOneLine() throws {
        // A NaN sum: the entry and the column are named.
        var m = try ImportanceMatrix.read(path: Self.folder + "/imatrix.gguf")
        m.entries["blk.1.ffn_down.weight"]!.sums[5] = .nan
        let nan = TinyModel.temporaryPath("nan.gguf")
        try m.write(to: nan, overwrite: false)
        #expect(throws: ConvertError.invalidImatrix(path: nan, reason: "'blk.1.ffn_down.weight' has nan at column 5")) {
            try ImportanceMatrix.read(path: nan)
        }
        // A truncated legacy file: the offset is named.
        let dat = try #require(FileManager.default.contents(atPath: Self.folder + "/imatrix.dat"))
        let cut = TinyModel.temporaryPath("cut.dat")
        try dat.prefix(200).write(to: URL(fileURLWithPath: cut))
        let error = #expect(throws: ConvertError.self) { try ImportanceMatrix.read(path: cut) }
        #expect(error?.description.contains("offset") == true && error?.description.contains(cut) == true, "\(String(describing: error))")
        // A model GGUF is not an imatrix.
        let notOne = #expect(throws: ConvertError.self) { try ImportanceMatrix.read(path: try model()) }
        #expect(notOne?.description.contains("general.type is 'model', not 'imatrix'") == true, "\(String(describing: notOne))")
    }
}

/// `ckpt quantize --imatrix` on the command line: an imatrix for another model (no name in common, or a column
/// count that differs) is one line, exit 1, and no output file.
@Suite struct QuantizeImatrixCommandTests {
    let cli = CommandLineTests()

    @Test func imatrixForAnotherModelIsRefused() throws {
        let model = try ImatrixCommandTests().model()
        let imatrix = ImatrixCommandTests.folder + "/imatrix.gguf"
        let ok = TinyModel.temporaryPath("q-ok.gguf")
        let good = try cli.run(["quantize", model, ok, "Q4_0", "--imatrix", imatrix])
        #expect(good.code == 0 && FileManager.default.fileExists(atPath: ok), "\(good.stderr)")
        let other = TinyModel.temporaryPath("q-other.gguf")
        func refused(_ m: ImportanceMatrix, _ message: String) throws {
            let path = TinyModel.temporaryPath("bad-imatrix.gguf")
            try m.write(to: path, overwrite: false)
            let r = try cli.run(["quantize", model, other, "Q4_0", "--imatrix", path])
            let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error") }
            #expect(r.code == 1 && errors.count == 1 && errors[0].hasPrefix("error: imatrix: " + message), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: other))
        }
        let m = try ImportanceMatrix.read(path: imatrix)
        // No name in common: entries of another model's tensors.
        var renamed = m
        renamed.entries = Dictionary(uniqueKeysWithValues: m.entries.map { ("model.layers." + $0.key, $0.value) })
        try refused(renamed, "no entry names a tensor of")
        // Same names, other widths.
        var narrow = m
        narrow.entries["blk.0.attn_q.weight"] = .init(sums: [1, 2, 3], counts: [1])
        try refused(narrow, "'blk.0.attn_q.weight' has 3 columns, the tensor 32")
    }
}

/// `--export TYPE --export-imatrix` (finetune, distill): the trained model's importance matrix on the training data
/// is written to RUN/imatrix.gguf and the export quantized with it — the same file `ckpt quantize --imatrix`
/// makes from them; --export-imatrix without --export is refused before training.
@Suite struct ExportImatrixTests {
    let cli = CommandLineTests()

    @Test func finetuneExportsWithItsOwnImatrix() throws {
        let model = TinyModel.temporaryPath("tiny.gguf"), data = try TrainingCommandTests.dataFile()
        try TinyModel.write(to: model)
        let run = TinyModel.temporaryPath("export-imatrix")
        let r = try cli.run(["finetune", model, "--data", data, "--out", run, "--steps", "2", "--batch-size", "2",
                             "--export", "Q4_0", "--export-imatrix"])
        #expect(r.code == 0, "\(r.stderr)")
        let matrix = try ImportanceMatrix.read(path: run + "/imatrix.gguf")
        #expect(matrix.entries.count == 2 * 7 && matrix.entries.values.allSatisfy { $0.counts[0] > 0 })
        let exported = try GGUFFile(path: run + "/model-Q4_0.gguf")
        #expect(exported["quantize.imatrix.file"]?.stringValue == run + "/imatrix.gguf")
        let again = TinyModel.temporaryPath("again.gguf")
        #expect(try cli.run(["quantize", run + "/model.gguf", again, "Q4_0", "--imatrix", run + "/imatrix.gguf"]).code == 0)
        #expect(FileManager.default.contents(atPath: again) == FileManager.default.contents(atPath: run + "/model-Q4_0.gguf"))

        let refused = try cli.run(["finetune", model, "--data", data, "--out", TinyModel.temporaryPath("refused"), "--steps", "1",
                                   "--export-imatrix"])
        #expect(refused.code == 1 && refused.stderr == "error: --export-imatrix needs --export TYPE\n", "\(refused.stderr)")
    }
}
