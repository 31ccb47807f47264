import Formats

/// All weights of one model in one f32 allocation, with a named view per (slot, layer). The layout is
/// GGUF's (q/k rows permuted, Linear weights [out, in]); TensorNames.expected decides which slots exist.
public final class ParameterSet: @unchecked Sendable {
    public struct Key: Hashable, Sendable {
        public var slot: TensorNames.Slot
        public var layer: Int?
        public init(_ slot: TensorNames.Slot, _ layer: Int?) {
            self.slot = slot
            self.layer = layer
        }
    }

    public let config: TransformerConfig
    /// Every parameter, contiguous; owned by this object (stable address for the kernels).
    public let storage: UnsafeMutableBufferPointer<Float>
    /// Offset and numpy-order shape of each slot.
    public let layout: [Key: (offset: Int, shape: [Int])]
    /// Slots in their canonical order.
    public let keys: [Key]

    public init(config: TransformerConfig) {
        self.config = config
        var layout: [Key: (offset: Int, shape: [Int])] = [:]
        var keys: [Key] = []
        var total = 0
        for (slot, layer) in TensorNames.expected(config) {
            let key = Key(slot, layer)
            let shape = Self.shape(slot, config)
            layout[key] = (total, shape)
            keys.append(key)
            total += shape.reduce(1, *)
        }
        self.layout = layout
        self.keys = keys
        storage = .allocate(capacity: total)
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    /// numpy-order shape of a slot (GGUF layout).
    public static func shape(_ slot: TensorNames.Slot, _ c: TransformerConfig) -> [Int] {
        let e = c.embeddingSize, f = c.feedForwardSize, up = c.fusedGateUp ? 2 * f : f
        switch slot {
        case .tokenEmbedding, .output: return [c.vocabSize, e]
        case .positionEmbedding: return [c.contextLength, e]
        case .outputNorm, .outputNormBias, .attnNorm, .attnNormBias, .ffnNorm, .ffnNormBias, .attnOutputBias, .ffnDownBias,
             .postAttnNorm, .postFfnNorm:
            return [e]
        case .attnQNorm, .attnKNorm: return [c.headDim]
        case .attnQ: return [c.queryWidth, e]
        case .attnQBias: return [c.queryWidth]
        case .attnK, .attnV: return [c.kvWidth, e]
        case .attnKBias, .attnVBias: return [c.kvWidth]
        case .attnQKV: return [c.queryWidth + 2 * c.kvWidth, e]
        case .attnQKVBias: return [c.queryWidth + 2 * c.kvWidth]
        case .attnOutput: return [e, c.queryWidth]
        case .ffnGate: return [f, e]
        case .ffnUp: return [up, e]
        case .ffnGateBias: return [f]
        case .ffnUpBias: return [up]
        case .ffnDown: return [e, f]
        }
    }

    public var count: Int { storage.count }

    /// Parameters of a model of config `c` (what `ParameterSet(config: c).count` holds, without allocating).
    public static func count(for c: TransformerConfig) -> Int {
        TensorNames.expected(c).reduce(0) { $0 + shape($1.0, c).reduce(1, *) }
    }

    public func contains(_ slot: TensorNames.Slot, layer: Int? = nil) -> Bool { layout[Key(slot, layer)] != nil }

    /// Pointer to a slot, valid while `self` is alive. Asking for a slot the config lacks is a programming
    /// error (callers check `contains` or the config first).
    public func pointer(_ slot: TensorNames.Slot, layer: Int? = nil) -> UnsafeMutablePointer<Float> {
        guard let entry = layout[Key(slot, layer)] else {
            preconditionFailure("ParameterSet has no \(slot) for layer \(String(describing: layer)); check contains() first")
        }
        return storage.baseAddress! + entry.offset
    }

    /// Copies `values` into a slot (the loader's single write per slot).
    func fill(_ key: Key, with values: UnsafeBufferPointer<Float>) {
        let entry = layout[key]!
        (storage.baseAddress! + entry.offset).update(from: values.baseAddress!, count: values.count)
    }
}
