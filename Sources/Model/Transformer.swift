import Foundation

/// Forward orchestration only: one sequence, logits for every new position, keys and values kept in a
/// KVCache. Kernels do the math; the config's enums pick them (no architecture names here). Batches of
/// several sequences and backward arrive with the Model and Training issues.
public struct Transformer {
    public let params: ParameterSet
    public var config: TransformerConfig { params.config }

    public init(_ params: ParameterSet) { self.params = params }

    /// Logits [tokens.count, vocab], row-major, for a sequence seen whole.
    public func logits(_ tokens: [Int]) throws(ModelError) -> [Float] {
        try forward(tokens, cache: KVCache(config: config, capacity: tokens.count))
    }

    /// Logits for `tokens` at positions cache.count..., attending to everything cached; the cache then
    /// holds these tokens too. Prefill is one call with the prompt, decoding one call per token.
    public func forward(_ tokens: [Int], cache: KVCache) throws(ModelError) -> [Float] {
        let c = config, T = tokens.count, E = c.embeddingSize, start = cache.count
        guard T > 0 else { return [] }
        guard start + T <= cache.capacity else {
            throw .invalidValue(path: "input", key: "length", reason: "\(start + T) positions exceed the cache of \(cache.capacity)")
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= c.vocabSize }) {
            throw .invalidValue(path: "input", key: "token", reason: "\(bad) is outside the vocabulary of \(c.vocabSize)")
        }
        if start + T > c.contextLength {
            throw .invalidValue(path: "input", key: "length", reason: "\(start + T) tokens exceed the context of \(c.contextLength)")
        }
        let p = params
        var x = [Float](repeating: 0, count: T * E)
        var h = x
        let qkvWidth = c.queryWidth + 2 * c.kvWidth
        var q = [Float](repeating: 0, count: T * c.queryWidth)
        var k = [Float](repeating: 0, count: T * c.kvWidth), v = k
        var qkv = [Float](repeating: 0, count: T * qkvWidth)
        var att = q
        var gate = [Float](repeating: 0, count: T * c.feedForwardSize), up = gate, act = gate
        var logits = [Float](repeating: 0, count: T * c.vocabSize)

        // Embeddings (+ learned positions).
        let wte = p.pointer(.tokenEmbedding)
        for (t, id) in tokens.enumerated() {
            for i in 0..<E { x[t * E + i] = wte[id * E + i] }
            if c.position == .learned {
                let wpe = p.pointer(.positionEmbedding)
                for i in 0..<E { x[t * E + i] += wpe[(start + t) * E + i] }
            }
        }
        func norm(_ out: inout [Float], _ inp: [Float], _ weight: TensorNames.Slot, _ bias: TensorNames.Slot, _ layer: Int?) {
            switch c.norm {
            case .rmsNorm(let eps):
                RMSNorm.forward(out: &out, inp: inp, weight: p.pointer(weight, layer: layer), rows: T, dim: E, epsilon: eps)
            case .layerNorm(let eps):
                LayerNorm.forward(out: &out, inp: inp, weight: p.pointer(weight, layer: layer),
                                  bias: p.pointer(bias, layer: layer), rows: T, dim: E, epsilon: eps)
            }
        }
        func linear(_ out: inout [Float], _ inp: [Float], _ weight: TensorNames.Slot, _ bias: TensorNames.Slot?, _ layer: Int,
                    inDim: Int, outDim: Int) {
            let b = bias.flatMap { p.contains($0, layer: layer) ? p.pointer($0, layer: layer) : nil }
            Matmul.forward(out: &out, inp: inp, weight: p.pointer(weight, layer: layer), bias: b, rows: T, inDim: inDim, outDim: outDim)
        }

        for l in 0..<c.layerCount {
            norm(&h, x, .attnNorm, .attnNormBias, l)
            if c.family == .gpt2 {
                linear(&qkv, h, .attnQKV, .attnQKVBias, l, inDim: E, outDim: qkvWidth)
                for t in 0..<T {
                    for i in 0..<c.queryWidth { q[t * c.queryWidth + i] = qkv[t * qkvWidth + i] }
                    for i in 0..<c.kvWidth {
                        k[t * c.kvWidth + i] = qkv[t * qkvWidth + c.queryWidth + i]
                        v[t * c.kvWidth + i] = qkv[t * qkvWidth + c.queryWidth + c.kvWidth + i]
                    }
                }
            } else {
                linear(&q, h, .attnQ, .attnQBias, l, inDim: E, outDim: c.queryWidth)
                linear(&k, h, .attnK, .attnKBias, l, inDim: E, outDim: c.kvWidth)
                linear(&v, h, .attnV, .attnVBias, l, inDim: E, outDim: c.kvWidth)
            }
            if case .rope(let theta) = c.position {
                Rope.forward(&q, rows: T, heads: c.headCount, headDim: c.headDim, theta: theta, start: start)
                Rope.forward(&k, rows: T, heads: c.kvHeadCount, headDim: c.headDim, theta: theta, start: start)
            }
            cache.store(layer: l, k: k, v: v, rows: T)
            Attention.forward(out: &att, q: q, k: cache.keys[l], v: cache.values[l], rows: T, start: start,
                              heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
            linear(&h, att, .attnOutput, .attnOutputBias, l, inDim: c.queryWidth, outDim: E)
            for i in 0..<(T * E) { x[i] += h[i] }

            norm(&h, x, .ffnNorm, .ffnNormBias, l)
            linear(&up, h, .ffnUp, .ffnUpBias, l, inDim: E, outDim: c.feedForwardSize)
            switch c.mlp {
            case .swiglu:
                linear(&gate, h, .ffnGate, .ffnGateBias, l, inDim: E, outDim: c.feedForwardSize)
                SwiGLU.forward(out: &act, gate: gate, up: up, count: T * c.feedForwardSize)
            case .gelu:
                act = up
                GELU.forward(&act, count: T * c.feedForwardSize)
            }
            linear(&h, act, .ffnDown, .ffnDownBias, l, inDim: c.feedForwardSize, outDim: E)
            for i in 0..<(T * E) { x[i] += h[i] }
        }
        cache.advance(T)
        norm(&h, x, .outputNorm, .outputNormBias, nil)
        let head = p.pointer(c.tiedEmbeddings ? .tokenEmbedding : .output)
        Matmul.forward(out: &logits, inp: h, weight: head, bias: nil, rows: T, inDim: E, outDim: c.vocabSize)
        return logits
    }
}
