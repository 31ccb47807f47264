/// Activations of one forward pass over N packed rows, allocated once per call and freed with it.
/// Shapes: x, h [N, E] (residual stream, scratch); q, att [N, H·d]; k, v [N, KV·d]; qkv [N, H·d + 2·KV·d]
/// (gpt2's fused projection); gate, up, act [N, F]; logits [N, vocab].
final class ForwardBuffers {
    let rows: Int, embedding: Int, queryWidth: Int, kvWidth: Int
    let x, h, q, k, v, qkv, att, gate, up, act, logits: UnsafeMutablePointer<Float>
    private let arena: FloatArena

    init(config c: TransformerConfig, rows n: Int) {
        rows = n
        embedding = c.embeddingSize
        queryWidth = c.queryWidth
        kvWidth = c.kvWidth
        let arena = FloatArena()
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> { arena.make(count) }
        x = buffer(n * c.embeddingSize)
        h = buffer(n * c.embeddingSize)
        q = buffer(n * c.queryWidth)
        k = buffer(n * c.kvWidth)
        v = buffer(n * c.kvWidth)
        qkv = buffer(c.family == .gpt2 ? n * (c.queryWidth + 2 * c.kvWidth) : 0)
        att = buffer(n * c.queryWidth)
        gate = buffer(c.mlp == .swiglu ? n * c.feedForwardSize : 0)
        up = buffer(c.mlp == .swiglu ? n * c.feedForwardSize : 0)
        act = buffer(n * c.feedForwardSize)
        logits = buffer(n * c.vocabSize)
        self.arena = arena
    }

    /// qkv rows [q | k | v] → q, k, v.
    func splitQKV() {
        let width = queryWidth + 2 * kvWidth
        for t in 0..<rows {
            let row = qkv + t * width
            (q + t * queryWidth).update(from: row, count: queryWidth)
            (k + t * kvWidth).update(from: row + queryWidth, count: kvWidth)
            (v + t * kvWidth).update(from: row + queryWidth + kvWidth, count: kvWidth)
        }
    }

    /// x += h over all rows.
    func addResidual() {
        for i in 0..<(rows * embedding) { x[i] += h[i] }
    }
}
