import CBLAS
import CKernels
import Foundation

/// The output layer and cross-entropy of a training pass, in tiles of target rows × vocabulary slices, so that
/// neither a [rows, V] logits table (SmolLM2, batch 4 × 256: 201 MB; a 152k vocabulary: 622 MB) nor a widened
/// copy of a quantized head is ever held, and rows that predict nothing (prompt tokens, prompt rows) get no
/// logits at all. Per chunk of C target rows, h [C, E] gathered from the final norm's output:
/// 1. for each slice of S vocabulary rows: logits [C, S] = h · W[slice]ᵀ, folded into each row's running max
///    and Σexp (an online log-sum-exp, in Double) and its target's logit: the loss;
/// 2. backward: for each slice again, the logits recomputed and turned into scale·(softmax − onehot) with the
///    row's final max and sum, dh [C, E] += dlogits · W[slice], and W[slice]'s gradient when the head trains.
/// A frozen head (LoRA, QLoRA, prompt tuning) folds step 2 into step 1 instead (`frozenHeadPass`): 2 products per
/// slice instead of 3. A stored-quantized head (QLoRA) is widened one slice at a time (S × E floats), once per
/// chunk when frozen, twice when it trains.
extension TrainingPass {
    /// Vocabulary rows per slice: logits [C, 4096] and a widened slice of 4096 × E floats (9 MB for SmolLM2).
    static let headSliceRows = 4096
    /// Logit floats one tile may hold (16 MB): C = 1024 rows with 4096-row slices; at least 16 rows.
    static let headTileFloats = 1 << 22

    /// Σ over target rows (targets[r] ≥ 0) of −log softmax(logits_r)[target]. With `backward`, also the head's
    /// backward for the gradient scale·(softmax − onehot): acts.dh is filled and `backward(gradients:)` then
    /// starts below the head; `gradients` receives the head weight's gradient when that slot trains.
    /// `chunkRows` and `sliceRows` replace the budgets' tile shape (tests, the benchmark).
    public func headCrossEntropy(targets: [Int], scale: Float, gradients g: GradientSet? = nil, backward: Bool = true,
                                 chunkRows: Int? = nil, sliceRows: Int? = nil) -> Double {
        precondition(targets.count == rowCount, "headCrossEntropy: one target per row")
        let c = config, E = c.embeddingSize, V = c.vocabSize
        let slot = c.headSlot
        let head = weights.matrix(slot)
        let rows = targets.indices.filter { targets[$0] >= 0 }
        let S = max(1, min(V, sliceRows ?? Self.headSliceRows))
        let chunk = max(1, min(rows.count, chunkRows ?? max(16, Self.headTileFloats / S)))
        let h = UnsafeMutablePointer<Float>.allocate(capacity: chunk * E)
        let dh = UnsafeMutablePointer<Float>.allocate(capacity: chunk * E)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: chunk * S)
        let widened = head.floats == nil ? UnsafeMutablePointer<Float>.allocate(capacity: S * E) : nil
        let stats = UnsafeMutablePointer<RowStatistics>.allocate(capacity: chunk)
        defer { h.deallocate(); dh.deallocate(); logits.deallocate(); widened?.deallocate(); stats.deallocate() }
        if backward { acts.dh.update(repeating: 0, count: rowCount * E) }
        let headGradient = backward ? g?.pointer(slot) : nil
        let frozen = backward && headGradient == nil  // dh in the loss pass itself (frozenHeadPass)
        /// W[v0 ..< v0 + n] as f32 rows: the head itself, or the slice widened into the scratch.
        func slice(_ v0: Int, _ n: Int) -> UnsafePointer<Float> {
            if let floats = head.floats { return floats + v0 * E }
            Matmul.widen(head, v0..<(v0 + n), into: widened!)
            return UnsafePointer(widened!)
        }
        var total: Double = 0
        for start in stride(from: 0, to: rows.count, by: chunk) {
            let part = Array(rows[start..<min(rows.count, start + chunk)]), n = part.count
            for (i, r) in part.enumerated() {
                (h + i * E).update(from: acts.normOut + r * E, count: E)
                stats[i] = RowStatistics(target: targets[r])
            }
            if frozen {
                total += frozenHeadPass(h: h, dh: dh, logits: logits, stats: stats, rows: n, scale: scale, sliceRows: S, slice: slice)
            } else {
                // 1. The loss: every slice folded into the rows' running log-sum-exp.
                for v0 in stride(from: 0, to: V, by: S) {
                    let width = min(S, V - v0)
                    Self.sliceLogits(logits, h: h, slice: slice(v0, width), rows: n, width: width, dim: E)
                    let shared = SendablePointer((stats, logits))
                    Parallel.forChunks(n, minChunk: 8) { range in
                        for i in range { shared.pointer.0[i].fold(shared.pointer.1 + i * width, first: v0, count: width) }
                    }
                }
                for i in 0..<n { total += stats[i].loss }
                if backward {
                    // 2. The gradient, slice by slice, from the rows' final max and sum.
                    dh.update(repeating: 0, count: n * E)
                    for v0 in stride(from: 0, to: V, by: S) {
                        let width = min(S, V - v0)
                        let w = slice(v0, width)
                        Self.sliceLogits(logits, h: h, slice: w, rows: n, width: width, dim: E)
                        let shared = SendablePointer((stats, logits))
                        Parallel.forChunks(n, minChunk: 8) { range in
                            for i in range { shared.pointer.0[i].gradient(shared.pointer.1 + i * width, first: v0, count: width, scale: scale) }
                        }
                        // dh [n, E] += dlogits [n, width] · W[slice] [width, E]
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(E), Int32(width),
                                    1, logits, Int32(width), w, Int32(E), 1, dh, Int32(E))
                        if let headGradient {
                            // dW[slice] [width, E] += dlogitsᵀ [width, n] · h [n, E]
                            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(width), Int32(E), Int32(n),
                                        1, logits, Int32(width), h, Int32(E), 1, headGradient + v0 * E, Int32(E))
                        }
                    }
                }
            }
            if backward { for (i, r) in part.enumerated() { (acts.dh + r * E).update(from: dh + i * E, count: E) } }
        }
        headBackwardDone = backward
        return total
    }

    /// logits [rows, width] = h [rows, dim] · W[slice] [width, dim]ᵀ.
    private static func sliceLogits(_ logits: UnsafeMutablePointer<Float>, h: UnsafePointer<Float>, slice w: UnsafePointer<Float>,
                                    rows n: Int, width: Int, dim E: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(width), Int32(E), 1, h, Int32(E), w, Int32(E), 0, logits, Int32(width))
    }

    /// The loss and dh [n, E] of one chunk in a single pass over the slices, for a head that does not train:
    /// dh = scale·(Σ_v softmax(l)_v · W_v − W_target), accumulated the way flash attention accumulates its
    /// output — acc [n, E] += exp(l − m) [n, S] · W[slice] [S, E], a row's acc rescaled by exp(m_old − m_new)
    /// when its running max grows, divided by its Σexp at the end. Returns the chunk's summed loss.
    private func frozenHeadPass(h: UnsafeMutablePointer<Float>, dh: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>,
                                stats: UnsafeMutablePointer<RowStatistics>, rows n: Int, scale: Float, sliceRows S: Int,
                                slice: (Int, Int) -> UnsafePointer<Float>) -> Double {
        let E = config.embeddingSize, V = config.vocabSize
        let targetRows = UnsafeMutablePointer<Float>.allocate(capacity: n * E)  // W[target] of each row
        defer { targetRows.deallocate() }
        dh.update(repeating: 0, count: n * E)
        for v0 in stride(from: 0, to: V, by: S) {
            let width = min(S, V - v0)
            let w = slice(v0, width)
            Self.sliceLogits(logits, h: h, slice: w, rows: n, width: width, dim: E)
            let shared = SendablePointer((stats, logits, dh, targetRows, w))
            Parallel.forChunks(n, minChunk: 8) { range in
                let (stats, logits, acc, targetRows, w) = shared.pointer
                for i in range {
                    let rescale = stats[i].fold(logits + i * width, first: v0, count: width)
                    if rescale != 1 { for e in 0..<E { acc[i * E + e] *= rescale } }
                    let t = stats[i].target - v0
                    if t >= 0 && t < width { (targetRows + i * E).update(from: w + t * E, count: E) }
                }
            }
            // acc [n, E] += exp(l − m) [n, width] · W[slice] [width, E]
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(E), Int32(width),
                        1, logits, Int32(width), w, Int32(E), 1, dh, Int32(E))
        }
        var total: Double = 0
        for i in 0..<n {
            total += stats[i].loss
            let p = Float(Double(scale) / stats[i].sum)
            for e in 0..<E { dh[i * E + e] = p * dh[i * E + e] - scale * targetRows[i * E + e] }
        }
        return total
    }
}

/// One target row's soft-max over the vocabulary, built a slice at a time: the running max m, Σexp(l − m) in
/// Double (rescaled when m grows), and the target's logit.
struct RowStatistics {
    let target: Int
    var maxLogit = -Float.infinity
    var sum: Double = 0
    var targetLogit: Float = 0

    init(target: Int) { self.target = target }

    var loss: Double { log(sum) + Double(maxLogit) - Double(targetLogit) }

    /// Folds logits l[0 ..< count] of vocabulary rows first ..< first + count in: l becomes exp(l − m) at the
    /// new running max m. Returns the factor exp(m_old − m) by which the earlier sums shrank (1 if m stayed).
    @discardableResult
    mutating func fold(_ l: UnsafeMutablePointer<Float>, first: Int, count: Int) -> Float {
        if target >= first && target < first + count { targetLogit = l[target - first] }
        var sliceMax = -Float.infinity
        for j in 0..<count { sliceMax = max(sliceMax, l[j]) }
        let m = max(maxLogit, sliceMax)
        var rescale: Float = 1
        if m > maxLogit {
            let factor = maxLogit == -.infinity ? 0 : exp(Double(maxLogit) - Double(m))
            sum *= factor
            rescale = Float(factor)
            maxLogit = m
        }
        sum += ck_exp_shifted(l, Int64(count), maxLogit)
        return rescale
    }

    /// Overwrites logits l[0 ..< count] (vocabulary rows first ..< first + count) with scale·(p − onehot).
    func gradient(_ l: UnsafeMutablePointer<Float>, first: Int, count: Int, scale: Float) {
        let t = target - first, here = t >= 0 && t < count
        _ = ck_exp_shifted(l, Int64(count), maxLogit)
        let targetProbability = here ? Double(l[t]) / sum : 0
        let inv = Float(1 / sum)
        for j in 0..<count { l[j] = l[j] * inv * scale }
        if here { l[t] = Float(targetProbability - 1) * scale }
    }
}
