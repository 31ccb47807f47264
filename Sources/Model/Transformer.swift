/// Forward orchestration only. Kernels do the math; the config's enums pick them (no architecture names
/// here). A batch is a list of segments, one per sequence, packed row after row: every linear layer runs
/// once over all rows (one sgemm, or one matvec pass when decoding), while positions, the KV cache and
/// attention stay within each segment — the packed equivalent of a padding mask, with no padded rows.
public struct Transformer: Sendable {
    public let weights: ModelWeights
    /// A LoRA adapter applied on the fly (unmerged), or nil.
    public let lora: LoRAAdapters?
    public var config: TransformerConfig { weights.config }

    /// Over f32 parameters (training, HF checkpoints).
    public init(_ params: ParameterSet, lora: LoRAAdapters? = nil) {
        weights = ModelWeights(params)
        self.lora = lora
    }

    /// Over weights as stored (a GGUF file's quantized blocks).
    public init(weights: ModelWeights, lora: LoRAAdapters? = nil) {
        self.weights = weights
        self.lora = lora
    }

    /// One sequence's part of a batch: its new tokens, and the cache holding what it has seen so far
    /// (positions continue from cache.count). `prefix` [P, E] are input embeddings that come before the
    /// tokens (a soft prompt, as PEFT prepends it): they take the first P positions and get logits rows too.
    public struct Segment {
        public var tokens: [Int]
        public var cache: KVCache
        public var prefix: [Float]
        public init(tokens: [Int], cache: KVCache, prefix: [Float] = []) {
            self.tokens = tokens
            self.cache = cache
            self.prefix = prefix
        }
    }

    /// Logits [tokens.count, vocab], row-major, for a sequence seen whole.
    public func logits(_ tokens: [Int]) throws(ModelError) -> [Float] {
        try forward(tokens, cache: KVCache(config: config, capacity: tokens.count))
    }

    /// Logits of each sequence seen whole, computed as one batch (equal to `logits` of each, ≤ 1e-5).
    public func logits(batch: [[Int]]) throws(ModelError) -> [[Float]] {
        try forward(batch: batch.map { Segment(tokens: $0, cache: KVCache(config: config, capacity: $0.count)) })
    }

    /// Logits for `tokens` at positions cache.count..., attending to everything cached; the cache then
    /// holds these tokens too. Prefill is one call with the prompt, decoding one call per token.
    public func forward(_ tokens: [Int], cache: KVCache) throws(ModelError) -> [Float] {
        try forward(batch: [Segment(tokens: tokens, cache: cache)])[0]
    }

    /// Sees the input x [rows, in] of each weight product W·x as the forward makes it (key: W's slot and layer;
    /// the output head's input too): what an importance matrix sums.
    public typealias InputObserver = (ParameterSet.Key, UnsafePointer<Float>, _ rows: Int, _ columns: Int) -> Void

    /// Which rows of each segment get logits: all of them, or only the last (prefill before sampling: the
    /// output head is a fifth of a small model's work per row, and llama.cpp skips it the same way).
    public enum LogitRows: Sendable { case all, last }

    /// Logits [prefix rows + tokens, vocab] for every segment ([1, vocab] with `.last`); each cache then
    /// holds its segment's rows.
    public func forward(batch: [Segment], logits wanted: LogitRows = .all, observer: InputObserver? = nil) throws(ModelError) -> [[Float]] {
        try validate(batch)
        let c = config, E = c.embeddingSize, V = c.vocabSize
        let rows = batch.map { $0.prefix.count / E + $0.tokens.count }, N = rows.reduce(0, +)
        guard N > 0 else { return batch.map { _ in [] } }
        let firstRow = rows.indices.map { rows[..<$0].reduce(0, +) }
        let lastOnly = wanted == .last && N > batch.count
        let b = ForwardBuffers(config: c, rows: N, logitRows: lastOnly ? batch.count : N)
        var graph = BlockGraph(config: c, weights: weights,
                               segments: batch.indices.map { (firstRow[$0], rows[$0], batch[$0].cache.count) },
                               contexts: batch.map(\.cache.capacity),
                               lora: lora.map { LoRAPass(adapters: $0, rows: N, keep: false, dropoutSeed: nil) })
        graph.observer = observer
        graph.embed(into: b.x, tokens: batch.map(\.tokens), prefixRows: batch.map { $0.prefix.count / E }, scratch: b.h) { s, row in
            batch[s].prefix.withUnsafeBufferPointer { row.update(from: $0.baseAddress!, count: $0.count) }
        }
        for l in 0..<c.layerCount { graph.layer(l, b.layer, keys: .caches(batch.map(\.cache))) }
        for (s, segment) in batch.enumerated() { segment.cache.advance(rows[s]) }
        if lastOnly {
            // Gather each segment's last row, then norm and head over those rows only (the output head is a
            // fifth of a small model's work per row; llama.cpp skips it the same way).
            for s in batch.indices { (b.branch + s * E).update(from: b.x + (firstRow[s] + rows[s] - 1) * E, count: E) }
            graph.head(logits: b.logits, x: b.branch, h: b.h, rows: batch.count)
            return batch.indices.map { s in Array(UnsafeBufferPointer(start: b.logits + s * V, count: V)) }
        }
        graph.head(logits: b.logits, x: b.x, h: b.h, rows: N)
        return rows.indices.map { s in Array(UnsafeBufferPointer(start: b.logits + firstRow[s] * V, count: rows[s] * V)) }
    }

    /// Everything that could go wrong is checked before any cache is written.
    private func validate(_ batch: [Segment]) throws(ModelError) {
        let c = config
        if let lora, lora.config != c {
            throw .invalidLoRA(option: "adapter", reason: "made for another model configuration")
        }
        for (s, segment) in batch.enumerated() {
            guard segment.prefix.count % c.embeddingSize == 0 else {
                throw .invalidValue(path: "input", key: "prefix", reason: "\(segment.prefix.count) values are not whole rows of \(c.embeddingSize)")
            }
            let T = segment.prefix.count / c.embeddingSize + segment.tokens.count, start = segment.cache.count
            guard start + T <= segment.cache.capacity else {
                throw .invalidValue(path: "input", key: "length", reason: "\(start + T) positions exceed the cache of \(segment.cache.capacity)")
            }
            if let bad = segment.tokens.first(where: { $0 < 0 || $0 >= c.vocabSize }) {
                throw .invalidValue(path: "input", key: "token", reason: "\(bad) is outside the vocabulary of \(c.vocabSize)")
            }
            if start + T > c.contextLength {
                throw .invalidValue(path: "input", key: "length", reason: "\(start + T) tokens exceed the context of \(c.contextLength)")
            }
            guard segment.cache.width == c.kvWidth, segment.cache.layers == c.layerCount else {
                throw .invalidValue(path: "input", key: "cache", reason: "the cache was made for another model")
            }
            if batch[..<s].contains(where: { $0.cache === segment.cache }) {
                throw .invalidValue(path: "input", key: "cache", reason: "two sequences of one batch share a cache")
            }
        }
    }
}
