/// Forward orchestration only. Kernels do the math; the config's enums pick them (no architecture names
/// here). A batch is a list of segments, one per sequence, packed row after row: every linear layer runs
/// once over all rows (one sgemm, or one matvec pass when decoding), while positions, the KV cache and
/// attention stay within each segment — the packed equivalent of a padding mask, with no padded rows.
public struct Transformer: Sendable {
    public let weights: ModelWeights
    public var config: TransformerConfig { weights.config }

    /// Over f32 parameters (training, HF checkpoints).
    public init(_ params: ParameterSet) { weights = ModelWeights(params) }

    /// Over weights as stored (a GGUF file's quantized blocks).
    public init(weights: ModelWeights) { self.weights = weights }

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

    /// Which rows of each segment get logits: all of them, or only the last (prefill before sampling: the
    /// output head is a fifth of a small model's work per row, and llama.cpp skips it the same way).
    public enum LogitRows: Sendable { case all, last }

    /// Logits [prefix rows + tokens, vocab] for every segment ([1, vocab] with `.last`); each cache then
    /// holds its segment's rows.
    public func forward(batch: [Segment], logits wanted: LogitRows = .all) throws(ModelError) -> [[Float]] {
        try validate(batch)
        let c = config, E = c.embeddingSize
        let rows = batch.map { $0.prefix.count / E + $0.tokens.count }, N = rows.reduce(0, +)
        guard N > 0 else { return batch.map { _ in [] } }
        let firstRow = rows.indices.map { rows[..<$0].reduce(0, +) }
        let b = ForwardBuffers(config: c, rows: N)
        let p = weights

        // Embeddings (+ learned positions), row by row from the stored (possibly quantized) tables.
        let wte = p.matrix(.tokenEmbedding)
        for (s, segment) in batch.enumerated() {
            let P = segment.prefix.count / E
            if P > 0 {
                segment.prefix.withUnsafeBufferPointer { (b.x + firstRow[s] * E).update(from: $0.baseAddress!, count: P * E) }
            }
            for t in 0..<rows[s] {
                let row = b.x + (firstRow[s] + t) * E
                if t >= P { wte.widenRows(segment.tokens[t - P]..<(segment.tokens[t - P] + 1), into: row) }
                if c.position == .learned {
                    let pos = segment.cache.count + t
                    p.matrix(.positionEmbedding).widenRows(pos..<(pos + 1), into: b.h)
                    for i in 0..<E { row[i] += b.h[i] }
                }
            }
        }
        func norm(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: TensorNames.Slot,
                  _ bias: TensorNames.Slot, _ layer: Int?, rows n: Int) {
            switch c.norm {
            case .rmsNorm(let eps):
                RMSNorm.forward(out: out, inp: inp, weight: p.vector(weight, layer: layer), rows: n, dim: E, epsilon: eps)
            case .layerNorm(let eps):
                LayerNorm.forward(out: out, inp: inp, weight: p.vector(weight, layer: layer),
                                  bias: p.vector(bias, layer: layer), rows: n, dim: E, epsilon: eps)
            }
        }
        // Linear layers sharing one input run as one group (one parallel pass when decoding).
        func linear(_ inp: UnsafePointer<Float>, _ layer: Int,
                    _ outputs: [(UnsafeMutablePointer<Float>, TensorNames.Slot, TensorNames.Slot?)]) {
            Matmul.forward(group: outputs.map { out, weight, bias in
                (out, p.matrix(weight, layer: layer), bias.flatMap { p.contains($0, layer: layer) ? p.vector($0, layer: layer) : nil })
            }, inp: inp, rows: N)
        }

        // Rotation angles once per sequence, shared by every layer.
        let ropeTables: [Rope.Table?] = batch.map { segment in
            guard case .rope(let theta) = c.position else { return nil }
            let start = segment.cache.count
            return Rope.Table(positions: start..<(start + segment.prefix.count / c.embeddingSize + segment.tokens.count),
                              headDim: c.headDim, theta: theta)
        }
        for l in 0..<c.layerCount {
            norm(b.h, b.x, .attnNorm, .attnNormBias, l, rows: N)
            if c.family == .gpt2 {
                linear(b.h, l, [(b.qkv, .attnQKV, .attnQKVBias)])
                b.splitQKV()
            } else {
                linear(b.h, l, [(b.q, .attnQ, .attnQBias), (b.k, .attnK, .attnKBias), (b.v, .attnV, .attnVBias)])
            }
            for (s, segment) in batch.enumerated() {
                let r = firstRow[s], T = rows[s], start = segment.cache.count
                if let table = ropeTables[s] {
                    Rope.forward(b.q + r * c.queryWidth, rows: T, heads: c.headCount, headDim: c.headDim, table: table)
                    Rope.forward(b.k + r * c.kvWidth, rows: T, heads: c.kvHeadCount, headDim: c.headDim, table: table)
                }
                segment.cache.store(layer: l, k: b.k + r * c.kvWidth, v: b.v + r * c.kvWidth, rows: T)
                Attention.forward(out: b.att + r * c.queryWidth, q: b.q + r * c.queryWidth, k: segment.cache.keys(l),
                                  v: segment.cache.values(l), rows: T, start: start,
                                  heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
            }
            linear(b.att, l, [(b.h, .attnOutput, .attnOutputBias)])
            b.addResidual()

            norm(b.h, b.x, .ffnNorm, .ffnNormBias, l, rows: N)
            switch c.mlp {
            case .swiglu:
                linear(b.h, l, [(b.up, .ffnUp, .ffnUpBias), (b.gate, .ffnGate, .ffnGateBias)])
                SwiGLU.forward(out: b.act, gate: b.gate, up: b.up, count: N * c.feedForwardSize)
            case .gelu:
                linear(b.h, l, [(b.act, .ffnUp, .ffnUpBias)])
                GELU.forward(b.act, count: N * c.feedForwardSize)
            }
            linear(b.act, l, [(b.h, .ffnDown, .ffnDownBias)])
            b.addResidual()
        }
        for (s, segment) in batch.enumerated() { segment.cache.advance(rows[s]) }
        let head = p.matrix(c.tiedEmbeddings ? .tokenEmbedding : .output), V = c.vocabSize
        if wanted == .last && N > batch.count {
            // Gather each segment's last row, then norm and head over those rows only.
            for s in batch.indices { (b.h + s * E).update(from: b.x + (firstRow[s] + rows[s] - 1) * E, count: E) }
            b.x.update(from: b.h, count: batch.count * E)
            norm(b.h, b.x, .outputNorm, .outputNormBias, nil, rows: batch.count)
            Matmul.forward(group: [(b.logits, head, nil)], inp: b.h, rows: batch.count)
            return batch.indices.map { s in Array(UnsafeBufferPointer(start: b.logits + s * V, count: V)) }
        }
        norm(b.h, b.x, .outputNorm, .outputNormBias, nil, rows: N)
        Matmul.forward(group: [(b.logits, head, nil)], inp: b.h, rows: N)
        return rows.indices.map { s in Array(UnsafeBufferPointer(start: b.logits + firstRow[s] * V, count: rows[s] * V)) }
    }

    /// Everything that could go wrong is checked before any cache is written.
    private func validate(_ batch: [Segment]) throws(ModelError) {
        let c = config
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
