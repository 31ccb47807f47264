/// Which linear layers a `--lora-targets` list names, for one model. Accepted: the short names q, k, v, o,
/// gate, up, down; the family's own module names as PEFT's `target_modules` takes them (q_proj, qkv_proj,
/// gate_up_proj, c_attn, c_proj…: the last component of the Hugging Face name, matching every layer slot
/// that ends in it); `all-linear` (PEFT's spelling) or `all`. A family that fuses q/k/v (or gate/up) into
/// one matrix can only adapt the fused matrix whole, as PEFT does.
public enum LoRATargets {
    /// The linear slots inside a layer of this model (the ones LoRA can adapt), canonical order.
    public static func linearSlots(_ c: TransformerConfig) -> [TensorNames.Slot] {
        let linear: Set<TensorNames.Slot> = [.attnQ, .attnK, .attnV, .attnQKV, .attnOutput, .ffnGate, .ffnUp, .ffnDown]
        var seen = Set<TensorNames.Slot>()
        return TensorNames.expected(c).compactMap { slot, layer in
            guard layer != nil, linear.contains(slot), seen.insert(slot).inserted else { return nil }
            return slot
        }
    }

    /// The PEFT module name of a slot: its Hugging Face name's last component before `.weight`.
    public static func moduleName(_ slot: TensorNames.Slot, _ c: TransformerConfig) -> String? {
        guard let name = c.family.huggingFaceNames[slot] else { return nil }
        let parts = name.split(separator: ".")
        return parts.count >= 2 ? String(parts[parts.count - 2]) : nil
    }

    /// The slots `names` select; an unknown name, or part of a fused matrix, is an error naming it and
    /// listing what this family has.
    public static func resolve(_ names: [String], config c: TransformerConfig) throws(ModelError) -> [TensorNames.Slot] {
        let available = linearSlots(c)
        let modules = available.compactMap { moduleName($0, c) }
        var uniqueModules: [String] = []
        for m in modules where !uniqueModules.contains(m) { uniqueModules.append(m) }
        let help = "\(c.architecture) has " + (["q", "k", "v", "o", "gate", "up", "down"].filter { short(for: $0, c).map { !$0.isEmpty } ?? false }
            + uniqueModules + ["all-linear"]).joined(separator: ", ")
        var chosen = Set<TensorNames.Slot>(), parts: [TensorNames.Slot: Set<String>] = [:]
        for raw in names {
            let name = String(raw.filter { $0 != " " })
            if name == "all" || name == "all-linear" { chosen.formUnion(available); continue }
            if let slots = short(for: name, c), !slots.isEmpty {
                for slot in slots { chosen.insert(slot); parts[slot, default: []].insert(name) }
                continue
            }
            let matching = available.filter { moduleName($0, c) == name }
            guard !matching.isEmpty else {
                throw .invalidLoRA(option: "--lora-targets", reason: "'\(name)' is not a linear layer of this model; \(help)")
            }
            for slot in matching { chosen.insert(slot); parts[slot, default: []] = fusedParts(slot, c) }
        }
        for (slot, named) in parts {
            let whole = fusedParts(slot, c)
            guard named.isSuperset(of: whole) else {
                let module = moduleName(slot, c) ?? "\(slot)"
                throw .invalidLoRA(option: "--lora-targets",
                                   reason: "\(c.architecture) fuses \(whole.sorted().joined(separator: ", ")) into one layer (\(module)): adapt all of them or none")
            }
        }
        guard !chosen.isEmpty else { throw .invalidLoRA(option: "--lora-targets", reason: "no target layer; \(help)") }
        return available.filter(chosen.contains)
    }

    /// The slots a short name adapts in this model ([] or nil: not in this model).
    static func short(for name: String, _ c: TransformerConfig) -> [TensorNames.Slot]? {
        let available = Set(linearSlots(c))
        let candidates: [TensorNames.Slot]
        switch name {
        case "q": candidates = [.attnQ, .attnQKV]
        case "k": candidates = [.attnK, .attnQKV]
        case "v": candidates = [.attnV, .attnQKV]
        case "o": candidates = [.attnOutput]
        case "gate": candidates = c.fusedGateUp ? [.ffnUp] : [.ffnGate]
        case "up": candidates = [.ffnUp]
        case "down": candidates = [.ffnDown]
        default: return nil
        }
        return candidates.filter(available.contains)
    }

    /// The short names one slot stands for (several for a fused matrix).
    static func fusedParts(_ slot: TensorNames.Slot, _ c: TransformerConfig) -> Set<String> {
        Set(["q", "k", "v", "o", "gate", "up", "down"].filter { short(for: $0, c)?.contains(slot) ?? false })
    }
}
