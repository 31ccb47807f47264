import Distill
import Formats
import Foundation
import Testing

/// ROUGE-L and its Porter stemmer against Google's rouge_score 0.1.2 and nltk 3.10.4
/// (fixtures/make_rouge.py): 3025 words stemmed identically, and 354 prediction/reference sets with the same
/// tokens and precision/recall/F within 1e-6, best over references included; plus exact match.
@Suite struct RougeTests {
    static let expected: JSONValue? = try? JSONFile.read(TorchTrainingStepTests.fixtures + "/rouge/expected.json")

    @Test func stemsEqualNLTK() throws {
        let stems = try #require(Self.expected?["stems"]?.objectValue)
        #expect(stems.count > 3000)
        var wrong: [String] = []
        for (word, stem) in stems where PorterStemmer.stem(word) != stem.stringValue {
            wrong.append("\(word): \(PorterStemmer.stem(word)) vs \(stem.stringValue ?? "?")")
        }
        #expect(wrong.isEmpty, "\(wrong.count) differ: \(wrong.prefix(20))")
    }

    @Test func scoresEqualRougeScore() throws {
        let pairs = try #require(Self.expected?["pairs"]?.arrayValue)
        #expect(pairs.count >= 300)
        for pair in pairs {
            let prediction = pair["prediction"]?.stringValue ?? ""
            let references = (pair["references"]?.arrayValue ?? []).compactMap(\.stringValue)
            let tokens = (pair["tokens"]?.arrayValue ?? []).compactMap(\.stringValue)
            #expect(RougeL.tokenize(prediction) == tokens, "tokens of \(prediction)")
            for (reference, want) in zip(references, pair["scores"]?.arrayValue ?? []) {
                let w = (want.arrayValue ?? []).compactMap(\.doubleValue)
                let got = RougeL.score(prediction: prediction, reference: reference)
                #expect(abs(got.precision - w[0]) <= 1e-6 && abs(got.recall - w[1]) <= 1e-6 && abs(got.fmeasure - w[2]) <= 1e-6,
                        "\(prediction) | \(reference): \(got) vs \(w)")
            }
            #expect(abs(RougeL.best(prediction: prediction, references: references) - (pair["best"]?.doubleValue ?? -1)) <= 1e-6)
        }
    }

    @Test func exactMatchNormalizes() {
        #expect(ExactMatch.matches(prediction: "  Red, blue!  ", references: ["red blue"]))
        #expect(ExactMatch.matches(prediction: "The answer", references: ["x", "the   ANSWER."]))
        #expect(!ExactMatch.matches(prediction: "an answer", references: ["answer"]))
    }
}
