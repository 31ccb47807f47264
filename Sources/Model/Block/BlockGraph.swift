/// The transformer written once (DESIGN.md "one block"): embeddings, the layer, and the head as the config's
/// recipe says, over N rows packed sequence after sequence. Inference (prefill, KV-cache decoding) and
/// training run this same code; they differ only in where activations go (LayerBuffers: shared scratch, or
/// one set per layer kept for backward) and how attention sees keys (a KV cache, or the sequence itself
/// with its soft-max kept). TrainingPassBackward walks the same recipe in reverse.
struct BlockGraph {
    let config: TransformerConfig
    let weights: ModelWeights
    /// Per sequence: its first packed row, its row count, and the position of its first row.
    let segments: [(first: Int, rows: Int, start: Int)]
    /// Per sequence, the rotation tables of the global and the sliding layers (nil: learned positions).
    let ropeTables: [(global: Rope.Table, local: Rope.Table)?]
    /// Per sequence, where its soft-max [H, T, T] starts in a layer's kept probabilities (training).
    let probStart: [Int]
    /// LoRA adapters added to their target layers (nil: none).
    let lora: LoRAPass?
    /// Called with the input [rows, in] of every weight product (importance-matrix collection), or nil.
    var observer: Transformer.InputObserver?
    var rowCount: Int { segments.reduce(0) { $0 + $1.rows } }

    /// `contexts[s]`: the positions sequence s is run for (longrope picks its factors by it).
    init(config c: TransformerConfig, weights: ModelWeights, segments: [(first: Int, rows: Int, start: Int)], contexts: [Int],
         lora: LoRAPass? = nil) {
        config = c
        self.weights = weights
        self.lora = lora
        self.segments = segments
        ropeTables = segments.indices.map { s in
            guard case .rope(let global) = c.position else { return nil }
            let seg = segments[s], positions = seg.start..<(seg.start + seg.rows)
            let g = Rope.Table(positions: positions, rope: global, context: contexts[s])
            guard let local = c.localRope, local != global else { return (g, g) }
            return (g, Rope.Table(positions: positions, rope: local, context: contexts[s]))
        }
        probStart = segments.indices.map { s in segments[..<s].reduce(0) { $0 + $1.rows * $1.rows * c.headCount } }
    }

    /// The rotation table of sequence `s` in layer `l` (its sliding or global one), nil for learned positions.
    func ropeTable(_ s: Int, layer l: Int) -> Rope.Table? {
        ropeTables[s].map { config.isSliding(l) ? $0.local : $0.global }
    }

    /// Where one layer's forward writes. Inference points every layer at one scratch set (xIn = xMid = xOut,
    /// the residual updated in place); training gives each layer its own. Shapes: x*, norm*, attnOut,
    /// ffnOut, post [N, E]; qRaw, q, att [N, H·d]; kRaw, k, v [N, KV·d]; qkv [N, H·d + 2·KV·d] (fused only);
    /// gateUp [N, 2F] (fused only); pre (gate, or the GELU input), up, act [N, F]. qRaw/kRaw (before the
    /// q/k norms) equal q/k when the recipe has none; `post` is scratch for the post-norm outputs.
    struct LayerBuffers {
        var xIn, xMid, xOut, norm1, norm2: UnsafeMutablePointer<Float>
        var qkv, qRaw, kRaw, q, k, v, att, attnOut: UnsafeMutablePointer<Float>
        var gateUp, pre, up, act, ffnOut, post: UnsafeMutablePointer<Float>
    }

    /// How attention finds its keys: each sequence's KV cache (rows appended at cache.count), or the
    /// sequence's own k/v rows with the soft-max kept in `probs` [Σ T_s², H] for backward.
    enum KeySource {
        case caches([KVCache])
        case sequence(probs: UnsafeMutablePointer<Float>)
    }

    // MARK: embeddings

    /// Rows of x [N, E]: each sequence's prefixRows[s] prefix rows (a soft prompt, written by
    /// `copyPrefix(s, destination)`), then its token rows × embeddingScale, plus learned positions.
    func embed(into x: UnsafeMutablePointer<Float>, tokens: [[Int]], prefixRows: [Int], scratch: UnsafeMutablePointer<Float>,
               copyPrefix: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let c = config, E = c.embeddingSize, wte = weights.matrix(.tokenEmbedding)
        for (s, seg) in segments.enumerated() {
            let P = prefixRows[s]
            if P > 0 { copyPrefix(s, x + seg.first * E) }
            for (t, id) in tokens[s].enumerated() {
                let row = x + (seg.first + P + t) * E
                wte.widenRows(id..<(id + 1), into: row)
                if c.embeddingScale != 1 { for i in 0..<E { row[i] *= c.embeddingScale } }
            }
            if c.position == .learned {
                let wpe = weights.matrix(.positionEmbedding)
                for t in 0..<seg.rows {
                    let row = x + (seg.first + t) * E, pos = seg.start + t
                    wpe.widenRows(pos..<(pos + 1), into: scratch)
                    for i in 0..<E { row[i] += scratch[i] }
                }
            }
        }
    }

    // MARK: one layer

    /// `recompute`: backward's second forward of a checkpointed layer. Its output is the next layer's kept input
    /// and backward reads neither it nor the FFN's output (unless a post-norm needs that one), so the FFN's
    /// output product — a quarter of a llama block's products — and the residual are skipped.
    func layer(_ l: Int, _ b: LayerBuffers, keys: KeySource, recompute: Bool = false) {
        let c = config, N = rowCount, F = c.feedForwardSize
        let qw = c.queryWidth, kw = c.kvWidth
        norm(b.norm1, b.xIn, .attnNorm, .attnNormBias, l, rows: N)
        if c.fusedQKV {
            linear(b.norm1, l, [(b.qkv, .attnQKV, .attnQKVBias)])
            Self.split(b.qkv, rows: N, into: [(b.qRaw, qw), (b.kRaw, kw), (b.v, kw)])
        } else {
            linear(b.norm1, l, [(b.qRaw, .attnQ, .attnQBias), (b.kRaw, .attnK, .attnKBias), (b.v, .attnV, .attnVBias)])
        }
        if c.qkNorm, case .rmsNorm(let eps) = c.norm {
            RMSNorm.forward(out: b.q, inp: b.qRaw, weight: weights.vector(.attnQNorm, layer: l), rows: N * c.headCount,
                            dim: c.headDim, epsilon: eps)
            RMSNorm.forward(out: b.k, inp: b.kRaw, weight: weights.vector(.attnKNorm, layer: l), rows: N * c.kvHeadCount,
                            dim: c.headDim, epsilon: eps)
        }
        let window = c.isSliding(l) ? c.slidingWindow : 0
        for (s, seg) in segments.enumerated() {
            let r = seg.first, T = seg.rows
            if let table = ropeTable(s, layer: l) {
                Rope.forward(b.q + r * qw, rows: T, heads: c.headCount, headDim: c.headDim, table: table)
                Rope.forward(b.k + r * kw, rows: T, heads: c.kvHeadCount, headDim: c.headDim, table: table)
            }
            switch keys {
            case .caches(let caches):
                let cache = caches[s]
                cache.store(layer: l, k: b.k + r * kw, v: b.v + r * kw, rows: T)
                Attention.forward(out: b.att + r * qw, q: b.q + r * qw, k: cache.keys(l), v: cache.values(l), rows: T,
                                  start: cache.count, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
                                  scale: c.scoreScale, window: window)
            case .sequence(let probs):
                Attention.forward(out: b.att + r * qw, probs: probs + probStart[s], q: b.q + r * qw, k: b.k + r * kw,
                                  v: b.v + r * kw, rows: T, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
                                  scale: c.scoreScale, window: window)
            }
        }
        linear(b.att, l, [(b.attnOut, .attnOutput, .attnOutputBias)])
        residual(b.xMid, b.xIn, b.attnOut, post: .postAttnNorm, scratch: b.post, l)

        norm(b.norm2, b.xMid, .ffnNorm, .ffnNormBias, l, rows: N)
        switch (c.mlp, c.fusedGateUp) {
        case (.gelu, _):
            linear(b.norm2, l, [(b.pre, .ffnUp, .ffnUpBias)])
            GELU.forward(out: b.act, inp: b.pre, count: N * F)
        case (_, true):
            linear(b.norm2, l, [(b.gateUp, .ffnUp, .ffnUpBias)])
            Self.split(b.gateUp, rows: N, into: [(b.pre, F), (b.up, F)])
        case (_, false):
            linear(b.norm2, l, [(b.up, .ffnUp, .ffnUpBias), (b.pre, .ffnGate, .ffnGateBias)])
        }
        if c.mlp == .swiglu { SwiGLU.forward(out: b.act, gate: b.pre, up: b.up, count: N * F) }
        if c.mlp == .geglu { GeGLU.forward(out: b.act, gate: b.pre, up: b.up, count: N * F) }
        if recompute && !c.postNorms { return }
        linear(b.act, l, [(b.ffnOut, .ffnDown, .ffnDownBias)])
        residual(b.xOut, b.xMid, b.ffnOut, post: .postFfnNorm, scratch: b.post, l)
    }

    /// out = inp + (post-norm of) branch; out may be inp (in place).
    private func residual(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ branch: UnsafeMutablePointer<Float>,
                          post: TensorNames.Slot, scratch: UnsafeMutablePointer<Float>, _ l: Int) {
        let n = rowCount * config.embeddingSize
        var add = UnsafePointer(branch)
        if config.postNorms {
            norm(scratch, branch, post, nil, l, rows: rowCount)
            add = UnsafePointer(scratch)
        }
        for i in 0..<n { out[i] = inp[i] + add[i] }
    }

    // MARK: head

    /// Final norm of `rows` rows of x into h, then logits [rows, V] = h · headᵀ.
    func head(logits: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>, rows: Int) {
        norm(h, x, .outputNorm, .outputNormBias, nil, rows: rows)
        headProduct(logits: logits, h: h, rows: rows)
    }

    /// logits [rows, V] = h · headᵀ from the final norm's output h.
    func headProduct(logits: UnsafeMutablePointer<Float>, h: UnsafePointer<Float>, rows: Int) {
        let head = weights.matrix(config.headSlot)
        observer?(ParameterSet.Key(config.headSlot, nil), h, rows, head.cols)
        Matmul.forward(group: [(logits, head, nil)], inp: h, rows: rows)
    }

    // MARK: helpers shared with backward

    func norm(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: TensorNames.Slot,
              _ bias: TensorNames.Slot?, _ layer: Int?, rows n: Int) {
        let E = config.embeddingSize
        switch config.norm {
        case .rmsNorm(let eps):
            RMSNorm.forward(out: out, inp: inp, weight: weights.vector(weight, layer: layer), rows: n, dim: E, epsilon: eps)
        case .layerNorm(let eps):
            LayerNorm.forward(out: out, inp: inp, weight: weights.vector(weight, layer: layer),
                              bias: weights.vector(bias!, layer: layer), rows: n, dim: E, epsilon: eps)
        }
    }

    /// Linear layers sharing one input run as one group (one parallel pass when decoding); a bias the
    /// model lacks is skipped; a LoRA adapter on a layer adds its product after the base one.
    func linear(_ inp: UnsafePointer<Float>, _ layer: Int,
                _ outputs: [(UnsafeMutablePointer<Float>, TensorNames.Slot, TensorNames.Slot)]) {
        let w = weights
        if let observer { for (_, weight, _) in outputs { observer(ParameterSet.Key(weight, layer), inp, rowCount, w.matrix(weight, layer: layer).cols) } }
        Matmul.forward(group: outputs.map { out, weight, bias in
            (out, w.matrix(weight, layer: layer), w.contains(bias, layer: layer) ? w.vector(bias, layer: layer) : nil)
        }, inp: inp, rows: rowCount)
        if let lora { for (out, weight, _) in outputs { lora.forward(out, inp, ParameterSet.Key(weight, layer)) } }
    }

    /// Rows [a | b | …] of `fused` → separate buffers of the given widths (fused qkv, fused gate-up).
    static func split(_ fused: UnsafePointer<Float>, rows: Int, into parts: [(UnsafeMutablePointer<Float>, Int)]) {
        let width = parts.reduce(0) { $0 + $1.1 }
        for t in 0..<rows {
            var offset = 0
            for (out, w) in parts {
                (out + t * w).update(from: fused + t * width + offset, count: w)
                offset += w
            }
        }
    }

    /// Backward of `split`: separate gradients → rows of the fused gradient.
    static func merge(_ parts: [(UnsafePointer<Float>, Int)], rows: Int, into fused: UnsafeMutablePointer<Float>) {
        let width = parts.reduce(0) { $0 + $1.1 }
        for t in 0..<rows {
            var offset = 0
            for (inp, w) in parts {
                (fused + t * width + offset).update(from: inp + t * w, count: w)
                offset += w
            }
        }
    }
}
