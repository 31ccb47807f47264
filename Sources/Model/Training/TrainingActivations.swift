/// Everything one training forward pass keeps for its backward pass, over N packed rows (every sequence's
/// prompt rows, then its tokens), plus the backward scratch. Buffers hold `rows` rows (and `probRows`
/// soft-max rows); a pass over fewer uses their beginning, so one allocation serves every batch of a run
/// (TrainingWorkspace) instead of faulting in a gigabyte of fresh pages each step.
/// Per layer l (BlockGraph.LayerBuffers, shapes there): xIn (xIn[L] enters the final norm), xMid, norm1,
/// norm2, q, k, v (after RoPE), qRaw/kRaw (before the q/k norms; only with them), probs [Σ T_s², H], att,
/// attnOut and ffnOut (only with post norms: their inputs), pre (gpt2: the GELU input; gated: the gate),
/// up (gated only), act. Final: normOut [N, E], logits [N, V].
/// Checkpointed (gradient checkpointing): only each layer's input xIn is kept; every layer writes one shared
/// set of the other buffers, and backward recomputes layer l's forward from xIn[l] right before undoing it
/// (the same arithmetic, so the same bits) — about one more forward of the blocks for L−1 fewer layers of memory.
final class TrainingActivations {
    let rows: Int
    let checkpointed: Bool
    let xIn: [UnsafeMutablePointer<Float>]
    let layers: [BlockGraph.LayerBuffers]
    let probs: [UnsafeMutablePointer<Float>]
    let normOut: UnsafeMutablePointer<Float>
    /// [rows, V], made on first use: a pass whose loss goes through the chunked head never holds them.
    private(set) lazy var logits: UnsafeMutablePointer<Float> = arena.make(rows * config.vocabSize)
    /// Backward scratch: dx, dh, dbranch [N, E]; datt, dq, dqRaw [N, H·d]; dk, dv, dkRaw [N, KV·d]; dqkv
    /// [N, H·d + 2·KV·d] (fused); dgateUp [N, 2F] (fused); dact, dpre, dup [N, F].
    let dx, dh, dbranch, datt, dq, dk, dv, dqRaw, dkRaw, dqkv, dgateUp, dact, dpre, dup: UnsafeMutablePointer<Float>
    private let arena: FloatArena

    let probRows: Int
    let config: TransformerConfig

    /// Rows and soft-max entries a batch of sequences with these lengths needs.
    static func need(_ c: TransformerConfig, _ sequenceRows: [Int]) -> (rows: Int, probRows: Int) {
        (sequenceRows.reduce(0, +), sequenceRows.map { $0 * $0 }.reduce(0, +) * c.headCount)
    }

    init(config c: TransformerConfig, rows n: Int, probRows: Int, checkpointed: Bool = false) {
        config = c
        self.probRows = probRows
        self.checkpointed = checkpointed
        let E = c.embeddingSize, F = c.feedForwardSize, L = c.layerCount, qw = c.queryWidth, kw = c.kvWidth
        let gated = c.mlp.isGated
        let arena = FloatArena()
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> { arena.make(count) }
        rows = n
        let xIn = (0...L).map { _ in buffer(n * E) }
        self.xIn = xIn
        // Scratch every layer shares: fused projections, post-norm outputs, branch outputs without post norms.
        let qkv = buffer(c.fusedQKV ? n * (qw + 2 * kw) : 0), gateUp = buffer(c.fusedGateUp ? 2 * n * F : 0)
        let post = buffer(c.postNorms ? n * E : 0), branch = buffer(c.postNorms ? 0 : n * E)
        var shared: BlockGraph.LayerBuffers?
        layers = (0..<L).map { l in
            if let shared {
                var b = shared
                b.xIn = xIn[l]
                b.xOut = xIn[l + 1]
                return b
            }
            let q = buffer(n * qw), k = buffer(n * kw), act = buffer(n * F)
            let b = BlockGraph.LayerBuffers(
                xIn: xIn[l], xMid: buffer(n * E), xOut: xIn[l + 1], norm1: buffer(n * E), norm2: buffer(n * E),
                qkv: qkv, qRaw: c.qkNorm ? buffer(n * qw) : q, kRaw: c.qkNorm ? buffer(n * kw) : k,
                q: q, k: k, v: buffer(n * kw), att: buffer(n * qw),
                attnOut: c.postNorms ? buffer(n * E) : branch, gateUp: gateUp, pre: buffer(n * F),
                up: buffer(gated ? n * F : 0), act: act, ffnOut: c.postNorms ? buffer(n * E) : branch, post: post)
            if checkpointed { shared = b }
            return b
        }
        let sharedProbs = checkpointed ? buffer(probRows) : nil
        probs = (0..<L).map { _ in sharedProbs ?? buffer(probRows) }
        normOut = buffer(n * E)
        dx = buffer(n * E)
        dh = buffer(n * E)
        dbranch = buffer(c.postNorms ? n * E : 0)
        datt = buffer(n * qw)
        dq = buffer(n * qw)
        dk = buffer(n * kw)
        dv = buffer(n * kw)
        dqRaw = buffer(c.qkNorm ? n * qw : 0)
        dkRaw = buffer(c.qkNorm ? n * kw : 0)
        dqkv = buffer(c.fusedQKV ? n * (qw + 2 * kw) : 0)
        dgateUp = buffer(c.fusedGateUp ? 2 * n * F : 0)
        dact = buffer(n * F)
        dpre = buffer(n * F)
        dup = buffer(gated ? n * F : 0)
        self.arena = arena
    }

    func fits(_ c: TransformerConfig, rows n: Int, probRows p: Int, checkpointed k: Bool) -> Bool {
        c == config && n <= rows && p <= probRows && k == checkpointed
    }

    /// Bytes held (activations and scratch), for the memory report of each training mode.
    var byteCount: Int { arena.byteCount }
}

/// Reusable activation memory for a run's training passes: the largest batch seen so far stays allocated.
/// A workspace serves one pass at a time (the next pass overwrites what the previous one kept).
public final class TrainingWorkspace: @unchecked Sendable {
    var activations: TrainingActivations?
    /// Gradient checkpointing for the passes of this workspace (TrainingActivations).
    public let checkpointing: Bool
    public init(checkpointing: Bool = false) { self.checkpointing = checkpointing }

    func activations(config c: TransformerConfig, sequenceRows: [Int]) -> TrainingActivations {
        let (rows, probRows) = TrainingActivations.need(c, sequenceRows)
        if let a = activations, a.fits(c, rows: rows, probRows: probRows, checkpointed: checkpointing) { return a }
        let grown = activations.map { $0.config == c ? (max(rows, $0.rows), max(probRows, $0.probRows)) : (rows, probRows) }
            ?? (rows, probRows)
        activations = nil  // free the old buffers before the larger ones are made
        let a = TrainingActivations(config: c, rows: grown.0, probRows: grown.1, checkpointed: checkpointing)
        activations = a
        return a
    }

    /// Bytes held by the activations (0 before the first pass).
    public var byteCount: Int { activations?.byteCount ?? 0 }
}
