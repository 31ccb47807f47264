import Foundation

/// The trainer's random numbers: SplitMix64, one UInt64 of state, so a checkpoint stores it exactly and a
/// resumed run draws the same numbers. (Generation keeps its own Sampler stream.)
public struct SplitMix64: Sendable, Equatable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Uniform in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(uniform() * Double(n)) }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(uniform(), Double.leastNonzeroMagnitude), u2 = uniform()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}
