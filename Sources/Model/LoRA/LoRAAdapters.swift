/// The adapter matrices of one LoRA run: for every layer and target slot an A [rank, in] and a B [out, rank]
/// (PEFT's lora_A.weight / lora_B.weight), all in one f32 allocation, layer after layer, target after
/// target, A before B; B's rows in ckpt's (GGUF) row order, like the base weight they add to (llama's
/// q/k rows permuted). Gradients, when trained, in a second allocation of the same layout.
public final class LoRAAdapters: @unchecked Sendable {
    public typealias Key = ParameterSet.Key
    public struct Entry: Sendable {
        public var a: Int, b: Int
        public var inDim: Int, outDim: Int
    }

    public let config: TransformerConfig
    public let settings: LoRASettings
    /// Keys in storage order.
    public let keys: [Key]
    public let layout: [Key: Entry]
    public let values: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>
    public var count: Int { values.count }

    /// Zeroed A and B for every layer × target (the caller initializes A: PEFT draws it uniform in ±1/√in).
    public init(config c: TransformerConfig, settings: LoRASettings) throws(ModelError) {
        try settings.validate()
        let available = Set(LoRATargets.linearSlots(c))
        if let missing = settings.targets.first(where: { !available.contains($0) }) {
            throw .invalidLoRA(option: "--lora-targets", reason: "\(c.architecture) has no \(missing) layer")
        }
        config = c
        self.settings = settings
        var keys: [Key] = [], layout: [Key: Entry] = [:], total = 0
        let r = settings.rank
        for l in 0..<c.layerCount {
            for slot in settings.targets {
                let shape = ParameterSet.shape(slot, c), key = Key(slot, l)
                layout[key] = Entry(a: total, b: total + r * shape[1], inDim: shape[1], outDim: shape[0])
                total += r * (shape[0] + shape[1])
                keys.append(key)
            }
        }
        self.keys = keys
        self.layout = layout
        values = .allocate(capacity: max(1, total))
        values.initialize(repeating: 0)
        gradients = .allocate(capacity: max(1, total))
        gradients.initialize(repeating: 0)
    }

    deinit {
        values.deallocate()
        gradients.deallocate()
    }

    /// A [rank, in] of a key.
    public func a(_ key: Key) -> UnsafeMutablePointer<Float> { values.baseAddress! + layout[key]!.a }
    /// B [out, rank] of a key.
    public func b(_ key: Key) -> UnsafeMutablePointer<Float> { values.baseAddress! + layout[key]!.b }
    public func gradientA(_ key: Key) -> UnsafeMutablePointer<Float> { gradients.baseAddress! + layout[key]!.a }
    public func gradientB(_ key: Key) -> UnsafeMutablePointer<Float> { gradients.baseAddress! + layout[key]!.b }

    public func zeroGradients() { gradients.update(repeating: 0) }

    /// The GGUF LoRA adapter names of a key's matrices (convert_lora_to_gguf: `<base name>.lora_a` / `.lora_b`).
    public static func ggufNames(_ key: Key) -> (a: String, b: String) {
        let base = TensorNames.gguf(key.slot, layer: key.layer)
        return (base + ".lora_a", base + ".lora_b")
    }

    /// The merge: every target weight of `params` (this adapter's model) W [out, in] += scale · B·A.
    public func merge(into params: ParameterSet) {
        for key in keys {
            let e = layout[key]!
            LoRAMath.addProduct(params.pointer(key.slot, layer: key.layer), b(key), a(key), outDim: e.outDim,
                                rank: settings.rank, inDim: e.inDim, scale: settings.scale)
        }
    }
}
