/// One training step's forward and backward over a batch of whole sequences (positions from 0, no cache),
/// packed row after row as in `Transformer.forward(batch:)`. A sequence may start with the P rows of a soft
/// prompt: they replace token embeddings, take positions 0..<P (as PEFT does) and their logits are ignored.
/// The forward keeps its activations (TrainingActivations); backward turns the logits gradient, written by
/// the caller into `logits`, into gradients of the trainable slots and of the prompt.
/// The weights are read as a ModelWeights: views of a ParameterSet (whose slots can train), or a frozen
/// base as stored, e.g. a quantized GGUF (QLoRA: only prompts and LoRA adapters train, backward widens
/// slices of the stored blocks and never holds an f32 copy of the base).
public final class TrainingPass {
    public struct Sequence: Sendable {
        public var tokens: [Int]
        /// Whether the soft prompt's rows come first.
        public var prompted: Bool
        public init(tokens: [Int], prompted: Bool = false) {
            self.tokens = tokens
            self.prompted = prompted
        }
    }

    /// The weights every product reads.
    public let weights: ModelWeights
    /// The trainable parameter set behind `weights`; nil for a frozen stored base.
    public let params: ParameterSet?
    public let sequences: [Sequence]
    /// Rows of the soft prompt (P), 0 when no sequence is prompted.
    public let promptRows: Int
    /// Rows of each sequence (prompt + tokens) and where each starts in the packed batch.
    public let rows: [Int], firstRow: [Int]
    let acts: TrainingActivations
    /// The block graph over these sequences (positions from 0), shared with backward.
    let graph: BlockGraph
    /// Set by `headCrossEntropy`: the head's backward is done (acts.dh holds its input gradient).
    var headBackwardDone = false
    public var config: TransformerConfig { weights.config }

    /// Training over the slots of `params` (GradientSet chooses which train).
    public convenience init(params: ParameterSet, sequences: [Sequence], promptRows: Int = 0, workspace: TrainingWorkspace? = nil,
                            lora: LoRAAdapters? = nil, loraDropoutSeed: UInt64? = nil) throws(ModelError) {
        try self.init(weights: ModelWeights(params), params: params, sequences: sequences, promptRows: promptRows,
                      workspace: workspace, lora: lora, loraDropoutSeed: loraDropoutSeed)
    }

    /// `weights`: what the products read; `params`: the ParameterSet they view, when the weights can train
    /// (nil: frozen, any stored type). `workspace`: activation memory reused across passes (a fresh one when nil). `lora`: adapters added
    /// to their layers, whose gradients backward accumulates (into `lora.gradients`); `loraDropoutSeed`
    /// draws this pass's dropout masks (nil: no dropout, as in evaluation).
    public init(weights: ModelWeights, params: ParameterSet? = nil, sequences: [Sequence], promptRows: Int = 0,
                workspace: TrainingWorkspace? = nil, lora: LoRAAdapters? = nil, loraDropoutSeed: UInt64? = nil) throws(ModelError) {
        let c = weights.config
        for (s, sequence) in sequences.enumerated() {
            let length = sequence.tokens.count + (sequence.prompted ? promptRows : 0)
            if let bad = sequence.tokens.first(where: { $0 < 0 || $0 >= c.vocabSize }) {
                throw .invalidValue(path: "batch", key: "sequence \(s)", reason: "token \(bad) is outside the vocabulary of \(c.vocabSize)")
            }
            guard length > 0, length <= c.contextLength else {
                throw .invalidValue(path: "batch", key: "sequence \(s)", reason: "\(length) positions, the model takes 1...\(c.contextLength)")
            }
        }
        self.weights = weights
        self.params = params
        self.sequences = sequences
        self.promptRows = promptRows
        let rows = sequences.map { $0.tokens.count + ($0.prompted ? promptRows : 0) }
        self.rows = rows
        rowCount = rows.reduce(0, +)
        let firstRow = rows.indices.map { i in rows[..<i].reduce(0, +) }
        self.firstRow = firstRow
        acts = (workspace ?? TrainingWorkspace()).activations(config: c, sequenceRows: rows)
        if let lora, lora.config != c {
            throw .invalidLoRA(option: "adapter", reason: "made for another model configuration")
        }
        graph = BlockGraph(config: c, weights: weights,
                           segments: rows.indices.map { (firstRow[$0], rows[$0], 0) }, contexts: rows,
                           lora: lora.map { [rowCount] in LoRAPass(adapters: $0, rows: rowCount, keep: true, dropoutSeed: loraDropoutSeed) })
    }

    /// Packed rows of all sequences.
    public let rowCount: Int
    /// Logits [rowCount, V] after `forward`; the caller overwrites them with their gradient before `backward`.
    public var logits: UnsafeMutablePointer<Float> { acts.logits }
    /// Bytes of activations and backward scratch this batch holds.
    public var activationBytes: Int { acts.byteCount + (graph.lora?.byteCount ?? 0) }

    /// Row of token `t` of sequence `s` in the packed batch (after its prompt rows).
    public func row(sequence s: Int, token t: Int) -> Int {
        firstRow[s] + (sequences[s].prompted ? promptRows : 0) + t
    }

    /// Per packed row, the token it predicts, or −1: row of token t predicts token t+1 when
    /// `isTarget[s][t+1]` (the masked-token convention of promptkd.md §6); prompt rows and last rows predict nothing.
    public func targets(isTarget: [[Bool]]) -> [Int] {
        var out = [Int](repeating: -1, count: rowCount)
        for (s, sequence) in sequences.enumerated() {
            for t in 0..<(sequence.tokens.count - 1) where isTarget[s][t + 1] {
                out[row(sequence: s, token: t)] = sequence.tokens[t + 1]
            }
        }
        return out
    }

    /// Forward over the batch; `prompt` [P, E] is read for prompted sequences. Returns the logits buffer.
    @discardableResult
    public func forward(prompt: UnsafePointer<Float>? = nil) -> UnsafeMutablePointer<Float> {
        forwardHidden(prompt: prompt)
        graph.headProduct(logits: acts.logits, h: acts.normOut, rows: rowCount)
        return acts.logits
    }

    /// Forward up to the final norm's output [rowCount, E] (no logits): what `headCrossEntropy` takes.
    public func forwardHidden(prompt: UnsafePointer<Float>? = nil) {
        let c = config, E = c.embeddingSize, a = acts
        precondition(promptRows == 0 || prompt != nil || !sequences.contains(where: \.prompted), "forward: prompted batch without a prompt")
        graph.embed(into: a.xIn[0], tokens: sequences.map(\.tokens),
                    prefixRows: sequences.map { $0.prompted ? promptRows : 0 }, scratch: a.normOut) { _, row in
            row.update(from: prompt!, count: promptRows * E)
        }
        for l in 0..<c.layerCount { graph.layer(l, a.layers[l], keys: .sequence(probs: a.probs[l])) }
        graph.norm(a.normOut, a.xIn[c.layerCount], .outputNorm, .outputNormBias, nil, rows: rowCount)
    }

    /// The final norm's output [rowCount, E] after `forwardHidden` (fault injection, tests).
    public var hidden: UnsafeMutablePointer<Float> { acts.normOut }
}
