/// Activations of one inference forward pass over N packed rows, allocated once per call and freed with it,
/// shared by every layer (BlockGraph.LayerBuffers with the residual stream updated in place).
/// Shapes: x, h, branch [N, E] (residual stream, norm output, attention/MLP output); q, att [N, H·d];
/// k, v [N, KV·d]; qRaw [N, H·d], kRaw [N, KV·d] (before q/k norms; only with them); qkv [N, H·d + 2·KV·d]
/// (fused projection only); gateUp [N, 2F] (fused only); gate, up, act [N, F]; logits [N, vocab].
final class ForwardBuffers {
    let x, h, branch, logits: UnsafeMutablePointer<Float>
    let layer: BlockGraph.LayerBuffers
    private let arena: FloatArena

    init(config c: TransformerConfig, rows n: Int, logitRows: Int) {
        let arena = FloatArena()
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> { arena.make(count) }
        let E = c.embeddingSize, F = c.feedForwardSize
        x = buffer(n * E)
        h = buffer(n * E)
        branch = buffer(n * E)
        let q = buffer(n * c.queryWidth), k = buffer(n * c.kvWidth)
        let gate = buffer(c.mlp.isGated ? n * F : 0), act = buffer(n * F)
        layer = BlockGraph.LayerBuffers(
            xIn: x, xMid: x, xOut: x, norm1: h, norm2: h,
            qkv: buffer(c.fusedQKV ? n * (c.queryWidth + 2 * c.kvWidth) : 0),
            qRaw: c.qkNorm ? buffer(n * c.queryWidth) : q, kRaw: c.qkNorm ? buffer(n * c.kvWidth) : k,
            q: q, k: k, v: buffer(n * c.kvWidth), att: buffer(n * c.queryWidth), attnOut: branch,
            gateUp: buffer(c.fusedGateUp ? 2 * n * F : 0), pre: c.mlp.isGated ? gate : act,
            up: buffer(c.mlp.isGated ? n * F : 0), act: act, ffnOut: branch, post: h)
        logits = buffer(logitRows * c.vocabSize)
        self.arena = arena
    }
}
