import Model

/// The pre-training term of DistiLLM, ImitKD and MiniLLM (promptkd.md §8: "plus 1.0 × LM CE on OpenWebText"):
/// after each micro-batch's distillation loss, the student also learns next-token cross-entropy on `batchSize`
/// consecutive chunks of a plain text (`--lm-data`, read in order and wrapping around), weighted by
/// `lmCoefficient`. Its gradients add to the step's. MiniLLM's reference mixes in a teacher term on that text
/// too (0.5 CE + 0.5 FKL); here it is the cross-entropy alone, for every method.
public struct LanguageModelingData: Sendable {
    public var tokens: [Int]
    public var path: String
    public init(tokens: [Int], path: String) throws(DistillError) {
        guard tokens.count >= 2 else { throw .emptyData(path: path, reason: "the text has fewer than 2 tokens") }
        self.tokens = tokens
        self.path = path
    }
}

extension Distiller {
    /// The next `batchSize` chunks of `lmLength` + 1 tokens from the cursor (each chunk trains `lmLength`
    /// predictions), advancing it.
    func nextLanguageModelingChunks() -> [[Int]] {
        guard let lm = languageModeling else { return [] }
        let length = min(options.lmLength + 1, lm.tokens.count)
        return (0..<options.batchSize).map { _ in
            let chunk = (0..<length).map { lm.tokens[(lmCursor + $0) % lm.tokens.count] }
            lmCursor = (lmCursor + length) % lm.tokens.count
            return chunk
        }
    }

    /// One micro-batch's LM term: forward, cross-entropy of every next token, backward into the student's
    /// gradients (divided by the micro-batches like the distillation loss). Returns the mean cross-entropy.
    func languageModelingStep(timer: inout PhaseTimer) throws(DistillError) -> Double {
        let chunks = nextLanguageModelingChunks()
        guard !chunks.isEmpty else { return 0 }
        timer.start()
        defer { timer.stop("time_lm") }
        let batch = Batch(sequences: chunks, isTarget: chunks.map { c in c.indices.map { $0 > 0 } })
        let pass = try makePass(student, chunks, prompted: false, workspace: studentWorkspace, training: true)
        pass.forward()
        let w = options.lmCoefficient
        let losses = try Self.applyLoss(pass, batch, vocab: student.config.vocabSize, share: options.accumulation) { s, t in
            [(.crossEntropy, .token(chunks[s][t + 1]), w)]
        }
        guard losses[0].isFinite else {
            throw .diverged(step: step + 1, quantity: "the language-modelling loss", value: Float(losses[0]), lastCheckpoint: lastCheckpoint)
        }
        pass.backward(gradients: studentGradients)
        return losses[0]
    }
}
