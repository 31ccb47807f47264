import Model

/// A test switch that puts a NaN (or an infinity) into a training step on purpose, to prove that divergence
/// is caught and named wherever it starts and that the last good checkpoint survives it. The CLI reads it
/// from CKPT_INJECT_FAULT=SITE:STEP[:inf] (SITE: weights, activations or gradients; STEP: the 1-based step).
public struct FaultInjection: Sendable, Equatable {
    public enum Site: String, Sendable, CaseIterable {
        /// The first value of every trained weight tensor, before the step's forward.
        case weights
        /// The first logit of every row of the trained model's output, after its forward.
        case activations
        /// The first value of every optimizer region's gradient, after the backward.
        case gradients
    }

    public var site: Site
    public var step: Int
    public var value: Float

    public init(site: Site, step: Int, value: Float = .nan) {
        self.site = site
        self.step = step
        self.value = value
    }

    /// Parses SITE:STEP[:inf|:nan]; nil for anything else (the caller names the variable in its error).
    public init?(_ text: String) {
        let parts = text.split(separator: ":").map(String.init)
        guard (2...3).contains(parts.count), let site = Site(rawValue: parts[0]), let step = Int(parts[1]), step > 0 else { return nil }
        var value = Float.nan
        if parts.count == 3 {
            switch parts[2] {
            case "nan": value = .nan
            case "inf": value = .infinity
            default: return nil
            }
        }
        self.init(site: site, step: step, value: value)
    }

    /// Whether this fault belongs at `site` of step `step` (1-based).
    func fires(_ site: Site, step: Int) -> Bool { self.site == site && self.step == step }

    func corrupt(_ params: ParameterSet) {
        for entry in params.layout.values { params.storage[entry.offset] = value }
    }

    /// `rows` rows of `vocab` logits.
    func corrupt(logits: UnsafeMutablePointer<Float>, rows: Int, vocab: Int) {
        for r in 0..<rows { logits[r * vocab] = value }
    }

    func corrupt(_ regions: [ParameterRegion]) {
        for region in regions where region.count > 0 { region.gradient[0] = value }
    }
}

extension Optional where Wrapped == FaultInjection {
    /// Applies `body` when the fault is set for `site` at `step`.
    func inject(_ site: FaultInjection.Site, step: Int, _ body: (FaultInjection) -> Void) {
        if let fault = self, fault.fires(site, step: step) { body(fault) }
    }
}
