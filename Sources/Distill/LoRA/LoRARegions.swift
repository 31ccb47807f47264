import Model

extension LoRASettings {
    /// One line for a run's resume fingerprint: rank, alpha, dropout, scaling and targets.
    var fingerprint: String {
        "r \(rank) alpha \(alpha) dropout \(dropout)\(rsLoRA ? " rslora" : "") targets \(targets.map(\.rawValue).joined(separator: ","))"
    }
}

extension ParameterRegion {
    /// Every A and B of the adapters with its gradient, in storage order, named as in a GGUF LoRA adapter
    /// (`blk.N.attn_q.weight.lora_a`); all decayed (they are matrices, as PEFT's one parameter group has them).
    public static func regions(_ adapters: LoRAAdapters) -> [ParameterRegion] {
        let r = adapters.settings.rank
        return adapters.keys.flatMap { key -> [ParameterRegion] in
            let e = adapters.layout[key]!, names = LoRAAdapters.ggufNames(key)
            return [ParameterRegion(name: names.a, values: adapters.a(key), gradient: adapters.gradientA(key), count: r * e.inDim, decay: true),
                    ParameterRegion(name: names.b, values: adapters.b(key), gradient: adapters.gradientB(key), count: e.outDim * r, decay: true)]
        }
    }
}
