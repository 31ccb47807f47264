import Formats

/// One config for every supported model: dimensions plus the block recipe, as data. Kernels and the block
/// graph read these fields, never an architecture name (DESIGN.md "Families: a registry, one block"); the
/// family files under Families/ are the only code that turns a config.json or GGUF keys into them.
public struct TransformerConfig: Equatable, Sendable {
    public enum Norm: Equatable, Sendable {
        case layerNorm(epsilon: Float)
        case rmsNorm(epsilon: Float)
    }

    public enum Position: Equatable, Sendable {
        /// Learned absolute position embeddings (gpt2).
        case learned
        /// Rotary embeddings (see RotaryEmbedding for layout, partial rotation and scaling).
        case rope(RotaryEmbedding)
    }

    public enum MLP: String, Equatable, Sendable {
        /// up → GELU (tanh approximation) → down.
        case gelu
        /// down(silu(gate) · up).
        case swiglu
        /// down(gelu_tanh(gate) · up) (Gemma).
        case geglu

        /// Whether the MLP has a gate projection beside up.
        public var isGated: Bool { self != .gelu }
    }

    /// The GGUF `general.architecture` of the family this config belongs to: the registry key
    /// (ModelFamilies), never compared anywhere else.
    public var architecture: String
    public var vocabSize: Int
    public var contextLength: Int
    public var embeddingSize: Int
    public var layerCount: Int
    public var feedForwardSize: Int
    public var headCount: Int
    public var kvHeadCount: Int
    /// Size of one attention head (`head_dim`, GGUF `attention.key_length`); not always embedding / heads.
    public var headDim: Int
    public var norm: Norm
    public var position: Position
    public var mlp: MLP
    /// q, k and v come from one fused projection [q | k | v] (gpt2, phi3) instead of three.
    public var fusedQKV: Bool = false
    /// Biases on the q/k/v projections (or the fused one).
    public var qkvBias: Bool = false
    /// Bias on the attention output projection.
    public var outputBias: Bool = false
    /// Biases on the MLP projections.
    public var mlpBias: Bool = false
    /// gate and up are one projection [gate | up] of 2·F rows (phi3), stored as `ffn_up`.
    public var fusedGateUp: Bool = false
    /// RMSNorm over each head of q and of k (weight [headDim]) before RoPE (qwen3, gemma3).
    public var qkNorm: Bool = false
    /// Norms on the attention and MLP outputs before they join the residual stream (gemma's sandwich).
    public var postNorms: Bool = false
    /// Token embeddings are multiplied by this (gemma: √hidden); soft-prompt rows are not.
    public var embeddingScale: Float = 1
    /// Attention scores are multiplied by this; nil is 1/√headDim.
    public var attentionScale: Float? = nil
    /// Sliding-window attention: each query of a sliding layer sees the last `window` positions (itself
    /// included). `slidingLayers[l]` says which layers; `localRope` is their rotary embedding when it differs.
    public var slidingWindow: Int = 0
    public var slidingLayers: [Bool] = []
    public var localRope: RotaryEmbedding? = nil
    /// The context the model was pretrained with before any rope scaling (Phi-3 stores it always); nil: unknown.
    public var originalContextLength: Int? = nil
    /// The output projection is the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// The weight the output product reads: the token embedding when tied, else output.weight.
    public var headSlot: TensorNames.Slot { tiedEmbeddings ? .tokenEmbedding : .output }

    public init(architecture: String, vocabSize: Int, contextLength: Int, embeddingSize: Int, layerCount: Int,
                feedForwardSize: Int, headCount: Int, kvHeadCount: Int, headDim: Int, norm: Norm, position: Position,
                mlp: MLP, tiedEmbeddings: Bool) {
        self.architecture = architecture
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
        self.tiedEmbeddings = tiedEmbeddings
    }

    /// Width of the query projection (heads × head size) and of the key/value projections.
    public var queryWidth: Int { headCount * headDim }
    public var kvWidth: Int { kvHeadCount * headDim }

    /// The scale applied to q·k.
    public var scoreScale: Float { attentionScale ?? 1 / Float(headDim).squareRoot() }

    /// Whether layer `l` attends through a sliding window.
    public func isSliding(_ layer: Int) -> Bool { slidingWindow > 0 && layer < slidingLayers.count && slidingLayers[layer] }

    /// The rotary embedding of layer `l` (nil for learned positions).
    public func rope(layer: Int) -> RotaryEmbedding? {
        guard case .rope(let rope) = position else { return nil }
        return isSliding(layer) ? (localRope ?? rope) : rope
    }

    /// Every GGUF architecture the registry knows.
    public static var supportedGGUFArchitectures: [String] { ModelFamilies.all.map(\.ggufArchitecture) }
    /// Every Hugging Face `architectures` entry the registry knows.
    public static var supportedHuggingFaceArchitectures: [String] { ModelFamilies.all.flatMap(\.huggingFaceArchitectures) }
}

/// Rotary position embedding of one layer kind. Shape conventions are Rope's.
public struct RotaryEmbedding: Equatable, Sendable {
    public enum Layout: String, Equatable, Sendable {
        /// Adjacent pairs (x[2i], x[2i+1]): llama.cpp's NORM mode; HF llama q/k rows are permuted to it.
        case adjacentPairs
        /// Halves (x[i], x[i + n/2]): llama.cpp's NEOX mode, HF's rotate_half, unpermuted rows.
        case halves
    }

    public enum Scaling: Equatable, Sendable {
        case none
        /// Positions divided by the factor (every frequency divided by it).
        case linear(factor: Float)
        /// Per-pair frequency divisors [dimensions/2] (Llama 3's rope_freqs tensor).
        case divisors([Float])
        /// Phi-3's longrope: per-pair divisors, the long ones when the context exceeds `originalContext`;
        /// cos and sin are multiplied by `attentionFactor`.
        case longrope(short: [Float], long: [Float], originalContext: Int, attentionFactor: Float)
        /// YaRN (YarnScaling): per-pair blend of original and divided frequencies, cos and sin scaled.
        case yarn(YarnScaling)
    }

    public var layout: Layout
    /// Rotated dimensions of each head (≤ headDim; the rest pass through).
    public var dimensions: Int
    public var theta: Float
    public var scaling: Scaling

    public init(layout: Layout, dimensions: Int, theta: Float, scaling: Scaling = .none) {
        self.layout = layout
        self.dimensions = dimensions
        self.theta = theta
        self.scaling = scaling
    }

    /// Divisor of each pair's frequency and the cos/sin multiplier for a context of `context` positions.
    func frequencyDivisors(context: Int) -> (divisors: [Float]?, attentionFactor: Float) {
        switch scaling {
        case .none: return (nil, 1)
        case .linear(let factor): return ([Float](repeating: factor, count: dimensions / 2), 1)
        case .divisors(let d): return (d, 1)
        case .longrope(let short, let long, let original, let factor):
            return (context > original ? long : short, factor)
        case .yarn(let yarn):
            return (yarn.divisors(dimensions: dimensions, theta: theta), yarn.resolvedAttentionFactor)
        }
    }
}
