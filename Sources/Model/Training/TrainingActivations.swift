/// Everything one training forward pass keeps for its backward pass, over N packed rows (every sequence's
/// prompt rows, then its tokens), plus the backward scratch. Buffers hold `rows` rows (and `probRows`
/// soft-max rows); a pass over fewer uses their beginning, so one allocation serves every batch of a run
/// (TrainingWorkspace) instead of faulting in a gigabyte of fresh pages each step.
/// Per layer l: xIn [N, E] (the residual stream entering the layer; xIn[L] enters the final norm),
/// xMid [N, E] (after the attention residual), norm1/norm2 [N, E] (norm outputs), q [N, H·d], k, v
/// [N, KV·d] (after RoPE), probs [Σ T_s², H] (soft-max per sequence), att [N, H·d], pre [N, F] (gpt2: the
/// GELU input; llama: gate), up [N, F] (llama only), act [N, F]. Final: normOut [N, E], logits [N, V].
final class TrainingActivations {
    let rows: Int
    let xIn: [UnsafeMutablePointer<Float>]
    let xMid, norm1, norm2, q, k, v, probs, att, pre, up, act: [UnsafeMutablePointer<Float>]
    let normOut, logits: UnsafeMutablePointer<Float>
    /// Backward scratch: dx, dh [N, E]; datt, dq [N, H·d]; dk, dv [N, KV·d]; dqkv [N, H·d + 2·KV·d] (gpt2);
    /// dact, dpre, dup [N, F].
    let dx, dh, datt, dq, dk, dv, dqkv, dact, dpre, dup: UnsafeMutablePointer<Float>
    private let arena: FloatArena

    let probRows: Int
    let config: TransformerConfig

    /// Rows and soft-max entries a batch of sequences with these lengths needs.
    static func need(_ c: TransformerConfig, _ sequenceRows: [Int]) -> (rows: Int, probRows: Int) {
        (sequenceRows.reduce(0, +), sequenceRows.map { $0 * $0 }.reduce(0, +) * c.headCount)
    }

    init(config c: TransformerConfig, rows n: Int, probRows: Int) {
        config = c
        self.probRows = probRows
        let E = c.embeddingSize, F = c.feedForwardSize, L = c.layerCount
        let swiglu = c.mlp == .swiglu
        let arena = FloatArena()
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> { arena.make(count) }
        func perLayer(_ count: Int, layers: Int = L) -> [UnsafeMutablePointer<Float>] { (0..<layers).map { _ in buffer(count) } }
        rows = n
        xIn = perLayer(n * E, layers: L + 1)
        xMid = perLayer(n * E)
        norm1 = perLayer(n * E)
        norm2 = perLayer(n * E)
        q = perLayer(n * c.queryWidth)
        k = perLayer(n * c.kvWidth)
        v = perLayer(n * c.kvWidth)
        probs = perLayer(probRows)
        att = perLayer(n * c.queryWidth)
        pre = perLayer(n * F)
        up = perLayer(swiglu ? n * F : 0)
        act = perLayer(n * F)
        normOut = buffer(n * E)
        logits = buffer(n * c.vocabSize)
        dx = buffer(n * E)
        dh = buffer(n * E)
        datt = buffer(n * c.queryWidth)
        dq = buffer(n * c.queryWidth)
        dk = buffer(n * c.kvWidth)
        dv = buffer(n * c.kvWidth)
        dqkv = buffer(c.family == .gpt2 ? n * (c.queryWidth + 2 * c.kvWidth) : 0)
        dact = buffer(n * F)
        dpre = buffer(n * F)
        dup = buffer(swiglu ? n * F : 0)
        self.arena = arena
    }

    func fits(_ c: TransformerConfig, rows n: Int, probRows p: Int) -> Bool { c == config && n <= rows && p <= probRows }

    /// Bytes held (activations and scratch), for the memory report of each training mode.
    var byteCount: Int { arena.byteCount }
}

/// Reusable activation memory for a run's training passes: the largest batch seen so far stays allocated.
/// A workspace serves one pass at a time (the next pass overwrites what the previous one kept).
public final class TrainingWorkspace: @unchecked Sendable {
    var activations: TrainingActivations?
    public init() {}

    func activations(config c: TransformerConfig, sequenceRows: [Int]) -> TrainingActivations {
        let (rows, probRows) = TrainingActivations.need(c, sequenceRows)
        if let a = activations, a.fits(c, rows: rows, probRows: probRows) { return a }
        let grown = activations.map { $0.config == c ? (max(rows, $0.rows), max(probRows, $0.probRows)) : (rows, probRows) }
            ?? (rows, probRows)
        activations = nil  // free the old buffers before the larger ones are made
        let a = TrainingActivations(config: c, rows: grown.0, probRows: grown.1)
        activations = a
        return a
    }

    /// Bytes held by the activations (0 before the first pass).
    public var byteCount: Int { activations?.byteCount ?? 0 }
}
