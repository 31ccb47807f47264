import Model

/// P trainable vectors of the model's width, prepended to the input embeddings of a frozen model
/// (promptkd.md §2). Shapes: values, gradient [P, E].
public final class SoftPrompt: @unchecked Sendable {
    /// How the vectors start, as PEFT's `prompt_tuning_init` names them.
    public enum Initialization: Sendable, Equatable {
        /// Embedding rows of the text's tokens, tiled or truncated to P (TEXT).
        case text(String)
        /// Embedding rows of P random vocabulary ids (SAMPLE_VOCAB).
        case vocabulary
        /// N(0, 1), nn.Embedding's default (RANDOM).
        case random

        public var peftName: String {
            switch self {
            case .text: "TEXT"
            case .vocabulary: "SAMPLE_VOCAB"
            case .random: "RANDOM"
            }
        }
    }

    public let rows: Int, dim: Int
    public let values: UnsafeMutableBufferPointer<Float>
    public let gradient: UnsafeMutableBufferPointer<Float>

    public init(rows: Int, dim: Int) {
        self.rows = rows
        self.dim = dim
        values = .allocate(capacity: rows * dim)
        values.initialize(repeating: 0)
        gradient = .allocate(capacity: rows * dim)
        gradient.initialize(repeating: 0)
    }

    deinit {
        values.deallocate()
        gradient.deallocate()
    }

    /// The token ids TEXT init copies: the tokenizer's default call (BOS in front when the model adds one,
    /// as `tokenizer(text)` does), repeated to at least P and cut to P.
    public static func initTokens(text: String, rows: Int, tokenizer: any Tokenizer, bos: Int?) -> [Int] {
        let ids = (bos.map { [$0] } ?? []) + tokenizer.encode(text, special: false)
        guard !ids.isEmpty else { return [] }
        let repeats = (rows + ids.count - 1) / ids.count
        return Array(Array(repeating: ids, count: repeats).joined().prefix(rows))
    }

    /// A prompt for `params`' embedding table, initialized as asked; `rng` draws VOCAB ids and RANDOM values.
    public static func make(rows: Int, params: ParameterSet, initialization: Initialization, tokenizer: any Tokenizer,
                            bos: Int?, rng: inout SplitMix64) throws(DistillError) -> SoftPrompt {
        try make(rows: rows, weights: ModelWeights(params), initialization: initialization, tokenizer: tokenizer, bos: bos, rng: &rng)
    }

    /// The same from weights in any stored type (embedding rows widened with ggml's arithmetic).
    public static func make(rows: Int, weights: ModelWeights, initialization: Initialization, tokenizer: any Tokenizer,
                            bos: Int?, rng: inout SplitMix64) throws(DistillError) -> SoftPrompt {
        let c = weights.config, E = c.embeddingSize
        guard rows > 0 else { throw .invalidOption(name: "--prompt-len", reason: "must be at least 1") }
        let prompt = SoftPrompt(rows: rows, dim: E)
        let table = weights.matrix(.tokenEmbedding)
        func copyRow(_ id: Int, to r: Int) { table.widenRows(id..<(id + 1), into: prompt.values.baseAddress! + r * E) }
        switch initialization {
        case .text(let text):
            let ids = initTokens(text: text, rows: rows, tokenizer: tokenizer, bos: bos)
            guard ids.count == rows else { throw .invalidOption(name: "--prompt-init", reason: "the text has no tokens") }
            for (r, id) in ids.enumerated() { copyRow(id, to: r) }
        case .vocabulary:
            for r in 0..<rows {
                copyRow(rng.below(c.vocabSize), to: r)
            }
        case .random:
            for i in 0..<(rows * E) { prompt.values[i] = rng.normal() }
        }
        return prompt
    }

    /// The optimizer's view: weight decay on the prompt is optional (PromptKD decays it).
    public func region(decay: Bool) -> ParameterRegion {
        ParameterRegion(name: PEFTPromptAdapter.tensorName, values: values.baseAddress!, gradient: gradient.baseAddress!,
                        count: rows * dim, decay: decay)
    }
}
