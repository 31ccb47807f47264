/// The backward half of TrainingPass, layer by layer in reverse. Each step names the forward it undoes;
/// kernels accumulate, so every scratch gradient is zeroed right before the products that fill it.
extension TrainingPass {
    /// Reads the logits gradient from `logits` (overwritten by the caller, e.g. CrossEntropy), accumulates
    /// into `gradients` (its trainable slots only) and into `promptGradient` [P, E] when given.
    public func backward(gradients g: GradientSet, promptGradient: UnsafeMutablePointer<Float>? = nil) {
        let c = config, E = c.embeddingSize, F = c.feedForwardSize, N = rowCount, a = acts, w = weights
        let L = c.layerCount, qw = c.queryWidth, kw = c.kvWidth
        precondition(g.count == 0 || params != nil, "backward: weight gradients need the pass built over a ParameterSet")

        // logits = normOut · headᵀ; then the final norm. Only rows with a gradient take part in the two
        // vocabulary-wide products: prompt rows and rows that predict nothing contribute exact zeros.
        let headSlot = c.headSlot
        if !headBackwardDone { zero(a.dh, N * E) }
        for rows in headBackwardDone ? [] : rowsWithGradient() {
            Matmul.backward(dinp: a.dh + rows.lowerBound * E, dweight: g.pointer(headSlot), dbias: nil,
                            dout: a.logits + rows.lowerBound * c.vocabSize, inp: a.normOut + rows.lowerBound * E,
                            weight: w.matrix(headSlot), rows: rows.count)
        }
        zero(a.dx, N * E)
        normBackward(g, dinp: a.dx, dout: a.dh, inp: a.xIn[L], .outputNorm, .outputNormBias, nil)

        for l in stride(from: L - 1, through: 0, by: -1) {
            let b = a.layers[l]
            // Checkpointed: this layer's activations again, from its kept input (all but its output, which the
            // next layer kept, and the FFN output product that only fed it).
            if a.checkpointed { graph.layer(l, b, keys: .sequence(probs: a.probs[l]), recompute: true) }
            // xOut = xMid + post(ffnOut): dx flows to xMid unchanged, and through the MLP.
            let dffn = branchGradient(g, dout: a.dx, branch: b.ffnOut, .postFfnNorm, l)
            zero(a.dact, N * F)
            linearBackward(g, dinp: a.dact, dout: dffn, inp: b.act, .ffnDown, .ffnDownBias, l)
            zero(a.dh, N * E)
            zero(a.dpre, N * F)
            switch c.mlp {
            case .gelu:
                GELU.backward(dinp: a.dpre, dout: a.dact, inp: b.pre, count: N * F)
                linearBackward(g, dinp: a.dh, dout: a.dpre, inp: b.norm2, .ffnUp, .ffnUpBias, l)
            case .swiglu, .geglu:
                zero(a.dup, N * F)
                if c.mlp == .swiglu {
                    SwiGLU.backward(dgate: a.dpre, dup: a.dup, dout: a.dact, gate: b.pre, up: b.up, count: N * F)
                } else {
                    GeGLU.backward(dgate: a.dpre, dup: a.dup, dout: a.dact, gate: b.pre, up: b.up, count: N * F)
                }
                if c.fusedGateUp {
                    BlockGraph.merge([(UnsafePointer(a.dpre), F), (UnsafePointer(a.dup), F)], rows: N, into: a.dgateUp)
                    linearBackward(g, dinp: a.dh, dout: a.dgateUp, inp: b.norm2, .ffnUp, .ffnUpBias, l)
                } else {
                    linearBackward(g, dinp: a.dh, dout: a.dpre, inp: b.norm2, .ffnGate, .ffnGateBias, l)
                    linearBackward(g, dinp: a.dh, dout: a.dup, inp: b.norm2, .ffnUp, .ffnUpBias, l)
                }
            }
            normBackward(g, dinp: a.dx, dout: a.dh, inp: b.xMid, .ffnNorm, .ffnNormBias, l)

            // xMid = xIn + post(o(att)): dx flows to xIn unchanged, and through attention.
            let dattn = branchGradient(g, dout: a.dx, branch: b.attnOut, .postAttnNorm, l)
            zero(a.datt, N * qw)
            linearBackward(g, dinp: a.datt, dout: dattn, inp: b.att, .attnOutput, .attnOutputBias, l)
            zero(a.dq, N * qw)
            zero(a.dk, N * kw)
            zero(a.dv, N * kw)
            for (s, seg) in graph.segments.enumerated() {
                let r = seg.first, T = seg.rows
                Attention.backward(dq: a.dq + r * qw, dk: a.dk + r * kw, dv: a.dv + r * kw,
                                   dout: a.datt + r * qw, probs: a.probs[l] + graph.probStart[s],
                                   q: b.q + r * qw, k: b.k + r * kw, v: b.v + r * kw,
                                   rows: T, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, scale: c.scoreScale)
                if let table = graph.ropeTable(s, layer: l) {
                    Rope.backward(a.dq + r * qw, rows: T, heads: c.headCount, headDim: c.headDim, table: table)
                    Rope.backward(a.dk + r * kw, rows: T, heads: c.kvHeadCount, headDim: c.headDim, table: table)
                }
            }
            var dq = a.dq, dk = a.dk
            if c.qkNorm, case .rmsNorm(let eps) = c.norm {
                zero(a.dqRaw, N * qw)
                zero(a.dkRaw, N * kw)
                RMSNorm.backward(dinp: a.dqRaw, dweight: g.pointer(.attnQNorm, layer: l), dout: a.dq, inp: b.qRaw,
                                 weight: w.vector(.attnQNorm, layer: l), rows: N * c.headCount, dim: c.headDim, epsilon: eps)
                RMSNorm.backward(dinp: a.dkRaw, dweight: g.pointer(.attnKNorm, layer: l), dout: a.dk, inp: b.kRaw,
                                 weight: w.vector(.attnKNorm, layer: l), rows: N * c.kvHeadCount, dim: c.headDim, epsilon: eps)
                dq = a.dqRaw
                dk = a.dkRaw
            }
            zero(a.dh, N * E)
            if c.fusedQKV {
                BlockGraph.merge([(UnsafePointer(dq), qw), (UnsafePointer(dk), kw), (UnsafePointer(a.dv), kw)], rows: N, into: a.dqkv)
                linearBackward(g, dinp: a.dh, dout: a.dqkv, inp: b.norm1, .attnQKV, .attnQKVBias, l)
            } else {
                linearBackward(g, dinp: a.dh, dout: dq, inp: b.norm1, .attnQ, .attnQBias, l)
                linearBackward(g, dinp: a.dh, dout: dk, inp: b.norm1, .attnK, .attnKBias, l)
                linearBackward(g, dinp: a.dh, dout: a.dv, inp: b.norm1, .attnV, .attnVBias, l)
            }
            normBackward(g, dinp: a.dx, dout: a.dh, inp: b.xIn, .attnNorm, .attnNormBias, l)
        }

        // Embedding rows: token rows into the table (× the embedding scale), prompt rows into the prompt,
        // every row into its position.
        let dwte = g.pointer(.tokenEmbedding), dwpe = g.pointer(.positionEmbedding), scale = c.embeddingScale
        for (s, sequence) in sequences.enumerated() {
            var r = firstRow[s]
            if sequence.prompted {
                if let promptGradient { add(promptGradient, a.dx + r * E, count: promptRows * E) }
                r += promptRows
            }
            if let dwte {
                for id in sequence.tokens {
                    let row = dwte + id * E, d = a.dx + r * E
                    if scale == 1 { add(row, d, count: E) } else { for i in 0..<E { row[i] += d[i] * scale } }
                    r += 1
                }
            }
            if let dwpe {
                for t in 0..<rows[s] { add(dwpe + t * E, a.dx + (firstRow[s] + t) * E, count: E) }
            }
        }
    }

    /// The gradient of a branch output (attention or MLP, before the residual add): dout itself, or with
    /// post norms its backward through that norm (into dbranch, the norm's weight gradient accumulated).
    func branchGradient(_ g: GradientSet, dout: UnsafeMutablePointer<Float>, branch: UnsafePointer<Float>,
                        _ post: TensorNames.Slot, _ layer: Int) -> UnsafeMutablePointer<Float> {
        guard config.postNorms else { return dout }
        zero(acts.dbranch, rowCount * config.embeddingSize)
        normBackward(g, dinp: acts.dbranch, dout: dout, inp: branch, post, nil, layer)
        return acts.dbranch
    }

    /// Per sequence, the rows from its first to its last row whose logits gradient is not all zeros (found
    /// by scanning in from both ends; a sequence whose rows are all zero gives none).
    func rowsWithGradient() -> [Range<Int>] {
        let V = config.vocabSize
        func live(_ r: Int) -> Bool {
            let row = UnsafeRawPointer(acts.logits + r * V).assumingMemoryBound(to: UInt32.self)
            for i in 0..<V where row[i] & 0x7FFF_FFFF != 0 { return true }  // ±0 is no gradient
            return false
        }
        var ranges: [Range<Int>] = []
        for s in sequences.indices {
            var first = firstRow[s], end = firstRow[s] + rows[s]
            while first < end && !live(first) { first += 1 }
            while end > first && !live(end - 1) { end -= 1 }
            if first < end { ranges.append(first..<end) }
        }
        return ranges
    }

    /// Accumulates the norm's input gradient into dinp and its weight/bias gradients into `g`.
    func normBackward(_ g: GradientSet, dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
                      _ weight: TensorNames.Slot, _ bias: TensorNames.Slot?, _ layer: Int?) {
        let c = config
        switch c.norm {
        case .rmsNorm(let eps):
            RMSNorm.backward(dinp: dinp, dweight: g.pointer(weight, layer: layer), dout: dout, inp: inp,
                             weight: weights.vector(weight, layer: layer), rows: rowCount, dim: c.embeddingSize, epsilon: eps)
        case .layerNorm(let eps):
            LayerNorm.backward(dinp: dinp, dweight: g.pointer(weight, layer: layer), dbias: g.pointer(bias!, layer: layer),
                               dout: dout, inp: inp, weight: weights.vector(weight, layer: layer),
                               rows: rowCount, dim: c.embeddingSize, epsilon: eps)
        }
    }

    /// The backward of `linear`: dinp += dout·W, and the slot's weight/bias gradients when trainable, and
    /// its LoRA adapter's.
    func linearBackward(_ g: GradientSet, dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                        inp: UnsafePointer<Float>, _ weight: TensorNames.Slot, _ bias: TensorNames.Slot, _ layer: Int) {
        Matmul.backward(dinp: dinp, dweight: g.pointer(weight, layer: layer), dbias: g.pointer(bias, layer: layer),
                        dout: dout, inp: inp, weight: weights.matrix(weight, layer: layer), rows: rowCount)
        graph.lora?.backward(dinp: dinp, dout: dout, inp: inp, ParameterSet.Key(weight, layer))
    }

    func zero(_ x: UnsafeMutablePointer<Float>, _ count: Int) { x.update(repeating: 0, count: count) }

    func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }
}
