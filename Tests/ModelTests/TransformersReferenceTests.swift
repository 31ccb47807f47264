import Foundation
import Formats
import Model
import Testing
import TestSupport

/// The forward pass against transformers itself (fixtures/make_hf.py: tiny random gpt2, llama with GQA
/// and untied embeddings, llama with tied embeddings; torch 2.15, transformers 5.24, eager attention).
/// Logits agree within 1e-4 of the logit scale; the padded batch (left padding, attention mask,
/// position ids from the mask) agrees on every real position when run as one packed batch.
@Suite struct TransformersReferenceTests {
    static let root = Repository.fixtures("hf")
    static let expected: JSONValue? = try? JSONFile.read(root + "/expected.json")
    static let models = ["gpt2", "llama-gqa", "llama-tied"]

    static func ints(_ value: JSONValue?) -> [Int] { (value?.arrayValue ?? []).compactMap { $0.uint64Value }.map { Int($0) } }

    static func worst(_ got: [Float], _ want: [Float]) -> Float {
        guard got.count == want.count else { return .infinity }
        let scale = want.map(abs).max() ?? 1
        return (zip(got, want).map { abs($0 - $1) }.max() ?? .infinity) / scale
    }

    @Test(arguments: models, ["safetensors", "sharded"])
    func logitsMatchTransformers(_ name: String, layout: String) throws {
        let model = try #require(Self.expected?["models"]?[name], "no golden for \(name)")
        let params = try ParameterSet.load(huggingFaceDirectory: Self.root + "/\(name)/\(layout)")
        let tokens = Self.ints(model["token_ids"])
        let got = try Transformer(params).logits(tokens)
        let want = Hex.floats(model["logits"]?.stringValue ?? "")
        #expect(Self.worst(got, want) <= 1e-4, "\(name)/\(layout): max |Δ| / scale \(Self.worst(got, want))")
    }

    @Test(arguments: models)
    func paddedBatchMatchesTransformers(_ name: String) throws {
        let model = try #require(Self.expected?["models"]?[name])
        let batch = try #require(model["padded_batch"])
        let transformer = Transformer(try ParameterSet.load(huggingFaceDirectory: Self.root + "/\(name)/safetensors"))
        let ids = try #require(batch["input_ids"]?.arrayValue).map { Self.ints($0) }
        let masks = try #require(batch["attention_mask"]?.arrayValue).map { Self.ints($0) }
        // The mask selects each sequence's real tokens; packing them is the batch without padded rows.
        let sequences = zip(ids, masks).map { row, mask in zip(row, mask).filter { $0.1 == 1 }.map(\.0) }
        let got = try transformer.logits(batch: sequences)
        let rows = try #require(batch["rows"]?.arrayValue)
        #expect(got.count == rows.count)
        for (s, row) in rows.enumerated() {
            let want = Hex.floats(row["logits"]?.stringValue ?? "")
            #expect(Self.worst(got[s], want) <= 1e-4, "\(name) row \(s): \(Self.worst(got[s], want))")
            // And packed equals alone.
            let alone = try transformer.logits(sequences[s])
            #expect(zip(alone, got[s]).allSatisfy { abs($0 - $1) <= 1e-5 })
        }
        // Only the last rows (what sampling needs): the same values as the last row of each sequence.
        let caches = sequences.map { KVCache(config: transformer.config, capacity: $0.count) }
        let last = try transformer.forward(batch: zip(sequences, caches).map { .init(tokens: $0, cache: $1) }, logits: .last)
        let V = transformer.config.vocabSize
        #expect(last.map(\.count) == sequences.map { _ in V })
        #expect(caches.map(\.count) == sequences.map(\.count))
        for s in sequences.indices {
            #expect(zip(last[s], got[s].suffix(V)).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(name) sequence \(s)")
        }
    }

    /// Index of the largest of the last `V` values.
    static func argmaxOfLastRow(_ logits: [Float], _ V: Int) -> Int {
        let row = Array(logits.suffix(V))
        var best = 0
        for i in row.indices where row[i] > row[best] { best = i }
        return best
    }

    @Test(arguments: ["gpt2", "llama-gqa"])
    func batchedDecodingEqualsSeparateDecoding(_ name: String) throws {
        let transformer = Transformer(try ParameterSet.load(huggingFaceDirectory: Self.root + "/\(name)/safetensors"))
        let V = transformer.config.vocabSize
        let prompts: [[Int]] = [[1, 300, 7, 44, 268], [2, 129, 319]]
        let caches = prompts.map { _ in KVCache(config: transformer.config, capacity: 12) }
        var segments: [Transformer.Segment] = []
        for s in prompts.indices { segments.append(Transformer.Segment(tokens: prompts[s], cache: caches[s])) }
        var last = try transformer.forward(batch: segments)
        var histories = prompts
        for _ in 0..<4 {  // greedy, both sequences one token per step in one batch
            segments = []
            for s in histories.indices {
                let next = Self.argmaxOfLastRow(last[s], V)
                histories[s].append(next)
                segments.append(Transformer.Segment(tokens: [next], cache: caches[s]))
            }
            last = try transformer.forward(batch: segments)
        }
        for s in histories.indices {
            let tail = Array(try transformer.logits(histories[s]).suffix(V))
            let diff = zip(tail, last[s]).map { abs($0 - $1) }.max() ?? .infinity
            #expect(diff <= 1e-5, "\(name) sequence \(s): \(diff)")
        }
    }
}
