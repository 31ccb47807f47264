import Formats
import Foundation
import Model

/// Collects an importance matrix the way llama-imatrix does (compute_imatrix / collect_imatrix) over the
/// chunks perplexity cuts too (Perplexity.chunks: `context` tokens each, the first replaced by BOS when the
/// vocabulary adds one), each run from an empty cache; for every product of a weight in the blocks (`blk.*`, and output.weight with `includeOutput`), the
/// per-column Σ x_j² of its inputs, accumulated in f32 row after row, and the rows counted. Products over
/// fewer than 16 rows are skipped, as llama.cpp does.
public struct ImatrixCollector {
    public let transformer: Transformer
    public let context: Int
    public let includeOutput: Bool

    public init(transformer: Transformer, context: Int, includeOutput: Bool = false) {
        self.transformer = transformer
        self.context = context
        self.includeOutput = includeOutput
    }

    /// Runs every chunk (progress after each) and returns the matrix; `dataset` names the data in the file.
    public func collect(_ chunks: [[Int]], dataset: String, progress: (Int) -> Void = { _ in }) throws(ModelError) -> ImportanceMatrix {
        var sums: [String: [Float]] = [:], counts: [String: Int] = [:]
        let includeOutput = includeOutput
        let observer: Transformer.InputObserver = { key, x, rows, columns in
            guard rows >= 16, key.layer != nil || (includeOutput && key.slot == .output) else { return }
            let name = TensorNames.gguf(key.slot, layer: key.layer)
            var acc = sums[name] ?? [Float](repeating: 0, count: columns)
            acc.withUnsafeMutableBufferPointer { a in
                for r in 0..<rows {
                    let row = x + r * columns
                    for j in 0..<columns { a[j] += row[j] * row[j] }
                }
            }
            sums[name] = acc
            counts[name, default: 0] += rows
        }
        for (i, chunk) in chunks.enumerated() {
            let cache = KVCache(config: transformer.config, capacity: chunk.count)
            _ = try transformer.forward(batch: [.init(tokens: chunk, cache: cache)], logits: includeOutput ? .all : .last, observer: observer)
            progress(i + 1)
        }
        var m = ImportanceMatrix(datasets: [dataset], chunkCount: chunks.count, chunkSize: context)
        for (name, values) in sums { m.entries[name] = .init(sums: values, counts: [Float(counts[name]!)]) }
        return m
    }
}
