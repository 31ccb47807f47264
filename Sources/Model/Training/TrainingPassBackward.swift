/// The backward half of TrainingPass, layer by layer in reverse. Each step names the forward it undoes;
/// kernels accumulate, so every scratch gradient is zeroed right before the products that fill it.
extension TrainingPass {
    /// Reads the logits gradient from `logits` (overwritten by the caller, e.g. CrossEntropy), accumulates
    /// into `gradients` (its trainable slots only) and into `promptGradient` [P, E] when given.
    public func backward(gradients g: GradientSet, promptGradient: UnsafeMutablePointer<Float>? = nil) {
        let c = config, E = c.embeddingSize, F = c.feedForwardSize, N = rowCount, a = acts, p = params
        let L = c.layerCount

        // logits = normOut · headᵀ; then the final norm. Only rows with a gradient take part in the two
        // vocabulary-wide products: prompt rows and rows that predict nothing contribute exact zeros.
        let headSlot: TensorNames.Slot = c.tiedEmbeddings ? .tokenEmbedding : .output
        zero(a.dh, N * E)
        for rows in rowsWithGradient() {
            Matmul.backward(dinp: a.dh + rows.lowerBound * E, dweight: g.pointer(headSlot), dbias: nil,
                            dout: a.logits + rows.lowerBound * c.vocabSize, inp: a.normOut + rows.lowerBound * E,
                            weight: p.pointer(headSlot), rows: rows.count, inDim: E, outDim: c.vocabSize)
        }
        zero(a.dx, N * E)
        normBackward(g, dout: a.dh, inp: a.xIn[L], .outputNorm, .outputNormBias, nil)

        for l in stride(from: L - 1, through: 0, by: -1) {
            // xIn[l+1] = xMid + down(act): dx flows to xMid unchanged, and through the MLP.
            zero(a.dact, N * F)
            linearBackward(g, dinp: a.dact, dout: a.dx, inp: a.act[l], .ffnDown, .ffnDownBias, l)
            zero(a.dh, N * E)
            switch c.mlp {
            case .swiglu:
                zero(a.dpre, N * F)
                zero(a.dup, N * F)
                SwiGLU.backward(dgate: a.dpre, dup: a.dup, dout: a.dact, gate: a.pre[l], up: a.up[l], count: N * F)
                linearBackward(g, dinp: a.dh, dout: a.dpre, inp: a.norm2[l], .ffnGate, .ffnGateBias, l)
                linearBackward(g, dinp: a.dh, dout: a.dup, inp: a.norm2[l], .ffnUp, .ffnUpBias, l)
            case .gelu:
                zero(a.dpre, N * F)
                GELU.backward(dinp: a.dpre, dout: a.dact, inp: a.pre[l], count: N * F)
                linearBackward(g, dinp: a.dh, dout: a.dpre, inp: a.norm2[l], .ffnUp, .ffnUpBias, l)
            }
            normBackward(g, dout: a.dh, inp: a.xMid[l], .ffnNorm, .ffnNormBias, l)

            // xMid = xIn + o(att): dx flows to xIn unchanged, and through attention.
            zero(a.datt, N * c.queryWidth)
            linearBackward(g, dinp: a.datt, dout: a.dx, inp: a.att[l], .attnOutput, .attnOutputBias, l)
            zero(a.dq, N * c.queryWidth)
            zero(a.dk, N * c.kvWidth)
            zero(a.dv, N * c.kvWidth)
            var probOffset = 0
            for s in sequences.indices {
                let r = firstRow[s], T = rows[s]
                Attention.backward(dq: a.dq + r * c.queryWidth, dk: a.dk + r * c.kvWidth, dv: a.dv + r * c.kvWidth,
                                   dout: a.datt + r * c.queryWidth, probs: a.probs[l] + probOffset,
                                   q: a.q[l] + r * c.queryWidth, k: a.k[l] + r * c.kvWidth, v: a.v[l] + r * c.kvWidth,
                                   rows: T, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
                probOffset += T * T * c.headCount
                if let table = ropeTables[s] {
                    Rope.backward(a.dq + r * c.queryWidth, rows: T, heads: c.headCount, headDim: c.headDim, table: table)
                    Rope.backward(a.dk + r * c.kvWidth, rows: T, heads: c.kvHeadCount, headDim: c.headDim, table: table)
                }
            }
            zero(a.dh, N * E)
            if c.family == .gpt2 {
                merge(dq: a.dq, dk: a.dk, dv: a.dv, into: a.dqkv)
                linearBackward(g, dinp: a.dh, dout: a.dqkv, inp: a.norm1[l], .attnQKV, .attnQKVBias, l)
            } else {
                linearBackward(g, dinp: a.dh, dout: a.dq, inp: a.norm1[l], .attnQ, .attnQBias, l)
                linearBackward(g, dinp: a.dh, dout: a.dk, inp: a.norm1[l], .attnK, .attnKBias, l)
                linearBackward(g, dinp: a.dh, dout: a.dv, inp: a.norm1[l], .attnV, .attnVBias, l)
            }
            normBackward(g, dout: a.dh, inp: a.xIn[l], .attnNorm, .attnNormBias, l)
        }

        // Embedding rows: token rows into the table, prompt rows into the prompt, every row into its position.
        let dwte = g.pointer(.tokenEmbedding), dwpe = g.pointer(.positionEmbedding)
        for (s, sequence) in sequences.enumerated() {
            var r = firstRow[s]
            if sequence.prompted {
                if let promptGradient { add(promptGradient, a.dx + r * E, count: promptRows * E) }
                r += promptRows
            }
            if let dwte {
                for id in sequence.tokens {
                    add(dwte + id * E, a.dx + r * E, count: E)
                    r += 1
                }
            }
            if let dwpe {
                for t in 0..<rows[s] { add(dwpe + t * E, a.dx + (firstRow[s] + t) * E, count: E) }
            }
        }
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

    /// Accumulates the norm's input gradient into dx and its weight/bias gradients into `g`.
    func normBackward(_ g: GradientSet, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
                      _ weight: TensorNames.Slot, _ bias: TensorNames.Slot, _ layer: Int?) {
        let c = config
        switch c.norm {
        case .rmsNorm(let eps):
            RMSNorm.backward(dinp: acts.dx, dweight: g.pointer(weight, layer: layer), dout: dout, inp: inp,
                             weight: params.pointer(weight, layer: layer), rows: rowCount, dim: c.embeddingSize, epsilon: eps)
        case .layerNorm(let eps):
            LayerNorm.backward(dinp: acts.dx, dweight: g.pointer(weight, layer: layer), dbias: g.pointer(bias, layer: layer),
                               dout: dout, inp: inp, weight: params.pointer(weight, layer: layer),
                               rows: rowCount, dim: c.embeddingSize, epsilon: eps)
        }
    }

    /// The backward of `linear`: dinp += dout·W, and the slot's weight/bias gradients when trainable.
    func linearBackward(_ g: GradientSet, dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                        inp: UnsafePointer<Float>, _ weight: TensorNames.Slot, _ bias: TensorNames.Slot, _ layer: Int) {
        let shape = params.layout[ParameterSet.Key(weight, layer)]!.shape
        Matmul.backward(dinp: dinp, dweight: g.pointer(weight, layer: layer), dbias: g.pointer(bias, layer: layer),
                        dout: dout, inp: inp, weight: params.pointer(weight, layer: layer),
                        rows: rowCount, inDim: shape[1], outDim: shape[0])
    }

    /// Backward of `split`: dq, dk, dv → dqkv rows [dq | dk | dv].
    func merge(dq: UnsafePointer<Float>, dk: UnsafePointer<Float>, dv: UnsafePointer<Float>, into dqkv: UnsafeMutablePointer<Float>) {
        let qw = config.queryWidth, kw = config.kvWidth, width = qw + 2 * kw
        for t in 0..<rowCount {
            let row = dqkv + t * width
            row.update(from: dq + t * qw, count: qw)
            (row + qw).update(from: dk + t * kw, count: kw)
            (row + qw + kw).update(from: dv + t * kw, count: kw)
        }
    }

    func zero(_ x: UnsafeMutablePointer<Float>, _ count: Int) { x.update(repeating: 0, count: count) }
}
