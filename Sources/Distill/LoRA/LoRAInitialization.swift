import Model

extension LoRAAdapters {
    /// PEFT's default initialization (`init_lora_weights=True`): A from kaiming_uniform_(a=√5), i.e. uniform in
    /// ±1/√in, and B zero, so a new adapter leaves the model unchanged. Draws from `rng` in storage order.
    public func initializeAsPEFT(rng: inout SplitMix64) {
        let r = settings.rank
        for key in keys {
            let e = layout[key]!, bound = 1 / Double(e.inDim).squareRoot(), a = self.a(key)
            for i in 0..<(r * e.inDim) { a[i] = Float((2 * rng.uniform() - 1) * bound) }
            self.b(key).update(repeating: 0, count: e.outDim * r)
        }
    }
}
