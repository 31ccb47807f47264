import Foundation

/// Learning rate per optimizer step, as transformers' schedulers compute it: step k (1-based) uses
/// base · factor(k − 1), so with warmup W the first step's rate is 0 and step W+1 reaches the base.
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Shape: String, Sendable, Equatable, CaseIterable {
        /// Linear warmup, then constant (get_constant_schedule_with_warmup).
        case constant
        /// Linear warmup, then half a cosine down to 0 at the last step (get_cosine_schedule_with_warmup).
        case cosine
        /// Linear warmup, then linear down to 0 (get_linear_schedule_with_warmup).
        case linear
    }

    public var shape: Shape
    public var base: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(shape: Shape, base: Double, warmupSteps: Int, totalSteps: Int) {
        self.shape = shape
        self.base = base
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The rate of optimizer step `step` (1-based).
    public func rate(step: Int) -> Double {
        let s = step - 1
        if s < warmupSteps { return base * Double(s) / Double(max(1, warmupSteps)) }
        switch shape {
        case .constant:
            return base
        case .cosine:
            let progress = Double(s - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
            return base * max(0, 0.5 * (1 + cos(Double.pi * progress)))
        case .linear:
            return base * max(0, Double(totalSteps - s) / Double(max(1, totalSteps - warmupSteps)))
        }
    }
}
