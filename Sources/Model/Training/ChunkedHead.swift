/// The output layer and cross-entropy of a training pass, a chunk of target rows at a time, so that no
/// [rows, V] logits table is ever held (SmolLM2, batch 4 × 256: 201 MB; a 152k vocabulary: 622 MB) and rows
/// that predict nothing (prompt tokens, prompt rows) get no logits at all. Per chunk of C target rows:
/// h [C, E] gathered from the final norm's output, logits [C, V] = h · Wᵀ, their loss and scaled gradient in
/// place (CrossEntropy), then dh [C, E] = dlogits · W scattered back, and W's gradient when it trains.
extension TrainingPass {
    /// Logit floats one chunk may hold (64 MB); at least 16 rows, so products stay on sgemm. Smaller chunks cost
    /// time: each streams the whole head matrix (and widens it when quantized) — SmolLM2 LoRA step, 1024 rows:
    /// 170-row chunks ~8% slower than the whole table, 341-row chunks within the run-to-run noise (~3%).
    static let headChunkFloats = 1 << 24

    /// Σ over target rows (targets[r] ≥ 0) of −log softmax(logits_r)[target]. With `backward`, also the head's
    /// backward for the gradient scale·(softmax − onehot): acts.dh is filled and `backward(gradients:)` then
    /// starts below the head; `gradients` receives the head weight's gradient when that slot trains.
    /// `chunkRows` replaces the 64 MB budget's row count (tests, the benchmark).
    public func headCrossEntropy(targets: [Int], scale: Float, gradients g: GradientSet? = nil, backward: Bool = true,
                                 chunkRows: Int? = nil) -> Double {
        precondition(targets.count == rowCount, "headCrossEntropy: one target per row")
        let c = config, E = c.embeddingSize, V = c.vocabSize
        let slot = c.headSlot
        let head = weights.matrix(slot)
        let rows = targets.indices.filter { targets[$0] >= 0 }
        let chunk = max(1, min(rows.count, chunkRows ?? max(16, Self.headChunkFloats / V)))
        let h = UnsafeMutablePointer<Float>.allocate(capacity: chunk * E)
        let dh = UnsafeMutablePointer<Float>.allocate(capacity: chunk * E)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: chunk * V)
        defer { h.deallocate(); dh.deallocate(); logits.deallocate() }
        if backward { acts.dh.update(repeating: 0, count: rowCount * E) }
        var total: Double = 0
        for start in stride(from: 0, to: rows.count, by: chunk) {
            let part = rows[start..<min(rows.count, start + chunk)], n = part.count
            for (i, r) in part.enumerated() { (h + i * E).update(from: acts.normOut + r * E, count: E) }
            Matmul.forward(out: logits, inp: h, weight: head, bias: nil, rows: n)
            guard backward else {
                for (i, r) in part.enumerated() { total += CrossEntropy.loss(logits + i * V, target: targets[r], vocab: V) }
                continue
            }
            total += CrossEntropy.lossAndGradient(logits, targets: part.map { targets[$0] }, vocab: V, scale: scale)
            dh.update(repeating: 0, count: n * E)
            Matmul.backward(dinp: dh, dweight: g?.pointer(slot), dbias: nil, dout: logits, inp: h, weight: head, rows: n)
            for (i, r) in part.enumerated() { (acts.dh + r * E).update(from: dh + i * E, count: E) }
        }
        headBackwardDone = backward
        return total
    }
}
