import Formats

/// One config for every supported model: dimensions plus enums for what differs between families.
/// Kernels read these fields, never an architecture name (DESIGN.md "One transformer, config-driven").
public struct TransformerConfig: Equatable, Sendable {
    public enum Norm: Equatable, Sendable {
        case layerNorm(epsilon: Float)
        case rmsNorm(epsilon: Float)
    }

    public enum Position: Equatable, Sendable {
        /// Learned absolute position embeddings (gpt2).
        case learned
        /// Rotary embeddings on adjacent pairs of each head (llama.cpp's NORM mode, GGUF row order).
        case rope(theta: Float)
    }

    public enum MLP: Equatable, Sendable {
        /// up → GELU (tanh approximation) → down.
        case gelu
        /// down(silu(gate) · up).
        case swiglu
    }

    /// Which name table and layout the family uses (TensorNames).
    public enum Family: String, Equatable, Sendable, CaseIterable {
        case llama, gpt2
    }

    public var family: Family
    public var vocabSize: Int
    public var contextLength: Int
    public var embeddingSize: Int
    public var layerCount: Int
    public var feedForwardSize: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var norm: Norm
    public var position: Position
    public var mlp: MLP
    /// Biases on the q/k/v/output projections.
    public var attentionBias: Bool
    /// Biases on the MLP projections.
    public var mlpBias: Bool
    /// The output projection is the token embedding matrix.
    public var tiedEmbeddings: Bool

    public init(family: Family, vocabSize: Int, contextLength: Int, embeddingSize: Int, layerCount: Int,
                feedForwardSize: Int, headCount: Int, kvHeadCount: Int, headDim: Int, norm: Norm, position: Position,
                mlp: MLP, attentionBias: Bool, mlpBias: Bool, tiedEmbeddings: Bool) {
        self.family = family
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.embeddingSize = embeddingSize
        self.layerCount = layerCount
        self.feedForwardSize = feedForwardSize
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.norm = norm
        self.position = position
        self.mlp = mlp
        self.attentionBias = attentionBias
        self.mlpBias = mlpBias
        self.tiedEmbeddings = tiedEmbeddings
    }

    /// Width of the query projection (heads × head size) and of the key/value projections.
    public var queryWidth: Int { headCount * headDim }
    public var kvWidth: Int { kvHeadCount * headDim }

    public static let supportedHuggingFaceArchitectures = ["LlamaForCausalLM", "GPT2LMHeadModel"]
    public static let supportedGGUFArchitectures = ["llama", "gpt2"]
}
