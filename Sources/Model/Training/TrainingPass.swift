/// One training step's forward and backward over a batch of whole sequences (positions from 0, no cache),
/// packed row after row as in `Transformer.forward(batch:)`. A sequence may start with the P rows of a soft
/// prompt: they replace token embeddings, take positions 0..<P (as PEFT does) and their logits are ignored.
/// The forward keeps its activations (TrainingActivations); backward turns the logits gradient, written by
/// the caller into `logits`, into gradients of the trainable slots and of the prompt.
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

    public let params: ParameterSet
    public let sequences: [Sequence]
    /// Rows of the soft prompt (P), 0 when no sequence is prompted.
    public let promptRows: Int
    /// Rows of each sequence (prompt + tokens) and where each starts in the packed batch.
    public let rows: [Int], firstRow: [Int]
    let acts: TrainingActivations
    let ropeTables: [Rope.Table?]
    var config: TransformerConfig { params.config }

    /// `workspace`: activation memory reused across passes (a fresh one when nil).
    public init(params: ParameterSet, sequences: [Sequence], promptRows: Int = 0,
                workspace: TrainingWorkspace? = nil) throws(ModelError) {
        let c = params.config
        for (s, sequence) in sequences.enumerated() {
            let length = sequence.tokens.count + (sequence.prompted ? promptRows : 0)
            if let bad = sequence.tokens.first(where: { $0 < 0 || $0 >= c.vocabSize }) {
                throw .invalidValue(path: "batch", key: "sequence \(s)", reason: "token \(bad) is outside the vocabulary of \(c.vocabSize)")
            }
            guard length > 0, length <= c.contextLength else {
                throw .invalidValue(path: "batch", key: "sequence \(s)", reason: "\(length) positions, the model takes 1...\(c.contextLength)")
            }
        }
        self.params = params
        self.sequences = sequences
        self.promptRows = promptRows
        let rows = sequences.map { $0.tokens.count + ($0.prompted ? promptRows : 0) }
        self.rows = rows
        rowCount = rows.reduce(0, +)
        firstRow = rows.indices.map { i in rows[..<i].reduce(0, +) }
        acts = (workspace ?? TrainingWorkspace()).activations(config: c, sequenceRows: rows)
        ropeTables = rows.map { T in
            guard case .rope(let theta) = c.position else { return nil }
            return Rope.Table(positions: 0..<T, headDim: c.headDim, theta: theta)
        }
    }

    /// Packed rows of all sequences.
    public let rowCount: Int
    /// Logits [rowCount, V] after `forward`; the caller overwrites them with their gradient before `backward`.
    public var logits: UnsafeMutablePointer<Float> { acts.logits }
    /// Bytes of activations and backward scratch this batch holds.
    public var activationBytes: Int { acts.byteCount }

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
        let c = config, E = c.embeddingSize, N = rowCount, a = acts, p = params
        precondition(promptRows == 0 || prompt != nil || !sequences.contains(where: \.prompted), "forward: prompted batch without a prompt")
        // Embeddings (+ learned positions).
        let wte = p.pointer(.tokenEmbedding)
        for (s, sequence) in sequences.enumerated() {
            var r = firstRow[s]
            if sequence.prompted, let prompt {
                (a.xIn[0] + r * E).update(from: prompt, count: promptRows * E)
                r += promptRows
            }
            for id in sequence.tokens {
                (a.xIn[0] + r * E).update(from: wte + id * E, count: E)
                r += 1
            }
            if c.position == .learned {
                let wpe = p.pointer(.positionEmbedding)
                for t in 0..<rows[s] {
                    let row = a.xIn[0] + (firstRow[s] + t) * E, pos = wpe + t * E
                    for i in 0..<E { row[i] += pos[i] }
                }
            }
        }
        for l in 0..<c.layerCount {
            norm(out: a.norm1[l], inp: a.xIn[l], .attnNorm, .attnNormBias, l)
            if c.family == .gpt2 {
                linear(out: a.dqkv, inp: a.norm1[l], .attnQKV, .attnQKVBias, l)
                split(qkv: a.dqkv, q: a.q[l], k: a.k[l], v: a.v[l])
            } else {
                linear(out: a.q[l], inp: a.norm1[l], .attnQ, .attnQBias, l)
                linear(out: a.k[l], inp: a.norm1[l], .attnK, .attnKBias, l)
                linear(out: a.v[l], inp: a.norm1[l], .attnV, .attnVBias, l)
            }
            var probOffset = 0
            for s in sequences.indices {
                let r = firstRow[s], T = rows[s]
                if let table = ropeTables[s] {
                    Rope.forward(a.q[l] + r * c.queryWidth, rows: T, heads: c.headCount, headDim: c.headDim, table: table)
                    Rope.forward(a.k[l] + r * c.kvWidth, rows: T, heads: c.kvHeadCount, headDim: c.headDim, table: table)
                }
                Attention.forward(out: a.att[l] + r * c.queryWidth, probs: a.probs[l] + probOffset,
                                  q: a.q[l] + r * c.queryWidth, k: a.k[l] + r * c.kvWidth, v: a.v[l] + r * c.kvWidth,
                                  rows: T, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
                probOffset += T * T * c.headCount
            }
            linear(out: a.xMid[l], inp: a.att[l], .attnOutput, .attnOutputBias, l)
            add(a.xMid[l], a.xIn[l], count: N * E)

            norm(out: a.norm2[l], inp: a.xMid[l], .ffnNorm, .ffnNormBias, l)
            let F = c.feedForwardSize
            switch c.mlp {
            case .swiglu:
                linear(out: a.pre[l], inp: a.norm2[l], .ffnGate, .ffnGateBias, l)
                linear(out: a.up[l], inp: a.norm2[l], .ffnUp, .ffnUpBias, l)
                SwiGLU.forward(out: a.act[l], gate: a.pre[l], up: a.up[l], count: N * F)
            case .gelu:
                linear(out: a.pre[l], inp: a.norm2[l], .ffnUp, .ffnUpBias, l)
                GELU.forward(out: a.act[l], inp: a.pre[l], count: N * F)
            }
            linear(out: a.xIn[l + 1], inp: a.act[l], .ffnDown, .ffnDownBias, l)
            add(a.xIn[l + 1], a.xMid[l], count: N * E)
        }
        norm(out: a.normOut, inp: a.xIn[c.layerCount], .outputNorm, .outputNormBias, nil)
        let head = p.pointer(c.tiedEmbeddings ? .tokenEmbedding : .output)
        Matmul.forward(out: a.logits, inp: a.normOut, weight: head, bias: nil, rows: N, inDim: E, outDim: c.vocabSize)
        return a.logits
    }

    // MARK: helpers shared with backward

    func norm(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, _ weight: TensorNames.Slot,
              _ bias: TensorNames.Slot, _ layer: Int?) {
        let c = config
        switch c.norm {
        case .rmsNorm(let eps):
            RMSNorm.forward(out: out, inp: inp, weight: params.pointer(weight, layer: layer), rows: rowCount,
                            dim: c.embeddingSize, epsilon: eps)
        case .layerNorm(let eps):
            LayerNorm.forward(out: out, inp: inp, weight: params.pointer(weight, layer: layer),
                              bias: params.pointer(bias, layer: layer), rows: rowCount, dim: c.embeddingSize, epsilon: eps)
        }
    }

    /// out = inp · Wᵀ (+ bias when the model has it), W [outDim, inDim] from the slot's shape.
    func linear(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, _ weight: TensorNames.Slot,
                _ bias: TensorNames.Slot, _ layer: Int) {
        let shape = params.layout[ParameterSet.Key(weight, layer)]!.shape
        let b = params.contains(bias, layer: layer) ? UnsafePointer(params.pointer(bias, layer: layer)) : nil
        Matmul.forward(out: out, inp: inp, weight: params.pointer(weight, layer: layer), bias: b,
                       rows: rowCount, inDim: shape[1], outDim: shape[0])
    }

    /// qkv rows [q | k | v] → q, k, v (gpt2's fused projection); `merge` is its backward.
    func split(qkv: UnsafePointer<Float>, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>,
               v: UnsafeMutablePointer<Float>) {
        let qw = config.queryWidth, kw = config.kvWidth, width = qw + 2 * kw
        for t in 0..<rowCount {
            let row = qkv + t * width
            (q + t * qw).update(from: row, count: qw)
            (k + t * kw).update(from: row + qw, count: kw)
            (v + t * kw).update(from: row + qw + kw, count: kw)
        }
    }

    func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }
}
