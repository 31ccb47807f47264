import Distill
import Foundation
import Formats
import Testing

/// `ckpt eval` on the tiny model: seeds are reproducible, the reported ROUGE-L is the mean of the answers'
/// scores it wrote, a teacher adds KL and agreement (0 and 100% against itself), and a teacher with another
/// vocabulary is refused naming both sizes and the first different token.
@Suite struct EvalCommandTests {
    let cli = CommandLineTests()

    @Test func reportsWhatItWrote() throws {
        let model = TinyModel.temporaryPath("tiny.gguf"), data = try TrainingCommandTests.dataFile()
        try TinyModel.write(to: model)
        let predictions = TinyModel.temporaryPath("pred.jsonl")
        let args = ["eval", model, "--data", data, "--seeds", "3,4", "--max-new-tokens", "8", "--json", "--teacher", model]
        let r = try cli.run(args + ["--predictions-out", predictions])
        #expect(r.code == 0, "\(r.stderr)")
        let result = try JSONParser.parse(Array(r.stdout.utf8))
        let again = try JSONParser.parse(Array(try cli.run(args).stdout.utf8))
        #expect(result == again)
        #expect(result["examples"]?.uint64Value == 9 && result["per_seed"]?.arrayValue?.count == 2)
        #expect(abs((result["kl_to_teacher"]?.doubleValue ?? 1)) < 1e-9 && result["top1_agreement"]?.doubleValue == 1)
        let lines = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n")
        let scores = try lines.map { line -> Double in
            let v = try JSONParser.parse(Array(line.utf8))
            return RougeL.best(prediction: v["prediction"]?.stringValue ?? "", references: (v["references"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
        let firstSeed = result["per_seed"]?.arrayValue?.first?["rougeL"]?.doubleValue ?? -1
        #expect(abs(100 * scores.reduce(0, +) / Double(scores.count) - firstSeed) < 1e-9)
    }

    @Test func teacherWithAnotherVocabularyIsRefused() throws {
        let model = TinyModel.temporaryPath("tiny.gguf"), other = TinyModel.temporaryPath("other.gguf")
        try TinyModel.write(to: model)
        try TinyModel.write(to: other) { metadata, _ in
            let i = metadata.firstIndex { $0.key == "tokenizer.ggml.tokens" }!
            if case .array(let a) = metadata[i].value, var tokens = try? a.stringValues() {
                tokens[5] = "changed"
                metadata[i].value = .array(.strings(tokens))
            }
        }
        let r = try cli.run(["eval", model, "--data", try TrainingCommandTests.dataFile(), "--teacher", other])
        #expect(r.code == 1)
        #expect(r.stderr.hasPrefix("error: vocabularies differ: 320 tokens (\(model)) vs 320 tokens (\(other)); first difference at id 5: "), "\(r.stderr)")
    }
}
