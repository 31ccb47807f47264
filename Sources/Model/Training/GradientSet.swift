/// Gradients of the trainable slots of a ParameterSet, in one zeroed allocation. Freezing is the absence
/// of a slot here: backward skips the weight product of a frozen slot and allocates nothing for it, so
/// prompt tuning of a frozen model costs activation gradients only (DESIGN.md "Backward passes").
public final class GradientSet: @unchecked Sendable {
    public enum Trainable: Sendable {
        /// Every slot (full fine-tuning).
        case all
        /// No slot (soft-prompt tuning: only the prompt's gradient, held by the trainer).
        case none
        /// The listed slots.
        case slots(Set<ParameterSet.Key>)
    }

    /// Offset of each trainable slot's gradient, in the parameter set's canonical order; same shape as the slot.
    public let layout: [ParameterSet.Key: Int]
    /// Trainable keys in canonical order.
    public let keys: [ParameterSet.Key]
    public let storage: UnsafeMutableBufferPointer<Float>

    public init(_ params: ParameterSet, trainable: Trainable) {
        var layout: [ParameterSet.Key: Int] = [:], keys: [ParameterSet.Key] = []
        var total = 0
        for key in params.keys {
            switch trainable {
            case .all: break
            case .none: continue
            case .slots(let set): if !set.contains(key) { continue }
            }
            layout[key] = total
            keys.append(key)
            total += params.layout[key]!.shape.reduce(1, *)
        }
        self.layout = layout
        self.keys = keys
        storage = .allocate(capacity: max(1, total))
        storage.initialize(repeating: 0)
        count = total
    }

    /// No trainable slot, and no parameter set needed: a frozen base in any stored type (prompt or LoRA training).
    public init() {
        layout = [:]
        keys = []
        storage = .allocate(capacity: 1)
        storage.initialize(repeating: 0)
        count = 0
    }

    deinit { storage.deallocate() }

    /// Number of gradient values (0 when everything is frozen).
    public let count: Int

    /// The gradient of a slot, or nil when it is frozen (or absent from the model).
    public func pointer(_ slot: TensorNames.Slot, layer: Int? = nil) -> UnsafeMutablePointer<Float>? {
        layout[ParameterSet.Key(slot, layer)].map { storage.baseAddress! + $0 }
    }

    public func zero() { storage.update(repeating: 0) }
}
