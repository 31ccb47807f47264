@testable import Formats
import Testing

/// The paired scale searches (KQuantSolversFast) against the literal ports of ggml's make_qx_quants and
/// make_qkx2_quants, on thousands of random sub-blocks of varied scale, sign mix, zeros and outliers.
@Suite struct QuantFastPathTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
    }

    static func block(_ k: Int, _ n: Int, _ rng: inout Rng) -> [Float] {
        var x = (0..<n).map { _ in rng.next() }
        switch k % 6 {
        case 0: x = x.map { $0 * 0.01 }
        case 1: x = x.map { abs($0) + 0.1 }                  // all positive: min clamps to 0
        case 2: x[Int(rng.next() * 10 + 5) % n] = 40         // one outlier
        case 3: x = x.map { $0 < 0 ? 0 : $0 }                // many exact zeros
        case 4: x = x.map { ($0 * 64).rounded() / 64 }       // on the quantization grid: ties
        default: break
        }
        return x
    }

    @Test func qxFastEqualsScalar() {
        var rng = Rng(state: 1)
        for k in 0..<3000 {
            let x = Self.block(k, 16, &rng)
            var a = [Int8](repeating: 0, count: 16), b = a
            let sa = x.withUnsafeBufferPointer { KQuantSolvers.qx(16, 32, $0.baseAddress!, &a) }
            let sb = x.withUnsafeBufferPointer { KQuantSolvers.qxFast(16, 32, $0.baseAddress!, &b) }
            #expect(sa.bitPattern == sb.bitPattern && a == b, "block \(k)")
            if sa.bitPattern != sb.bitPattern || a != b { return }
        }
    }

    @Test(arguments: [(16, Int32(3), Float(-0.5), Float(0.1), 15, true), (32, 15, -1.0, 0.1, 20, false),
                      (32, 31, -0.5, 0.1, 15, false)])
    func qkx2FastEqualsScalar(_ p: (Int, Int32, Float, Float, Int, Bool)) {
        let (n, nmax, rmin, rdelta, nstep, mad) = p
        var rng = Rng(state: UInt64(n) &* 77 &+ UInt64(nmax))
        for k in 0..<3000 {
            let x = Self.block(k, n, &rng)
            let w = x.map { abs($0) + 0.05 }
            var la = [UInt8](repeating: 0, count: n), lb = la
            var auxA = [UInt8](repeating: 0, count: n), auxB = [UInt8](repeating: 0, count: 4 * n)
            var minA: Float = 0, minB: Float = 0
            let sa = x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
                KQuantSolvers.qkx2(n, nmax, xp.baseAddress!, wp.baseAddress!, &la, &minA, &auxA,
                                   rmin: rmin, rdelta: rdelta, nstep: nstep, useMad: mad) } }
            let sb = x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
                KQuantSolvers.qkx2Fast(n, nmax, xp.baseAddress!, wp.baseAddress!, &lb, &minB, &auxB,
                                       rmin: rmin, rdelta: rdelta, nstep: nstep, useMad: mad) } }
            let same = sa.bitPattern == sb.bitPattern && minA.bitPattern == minB.bitPattern && la == lb
            #expect(same, "n \(n) nmax \(nmax) block \(k)")
            if !same { return }
        }
    }

    /// The F16/BF16/F32 row fast paths give the per-element codecs' bits.
    @Test(arguments: [DType.f16, .bf16, .f32])
    func floatRowsEqualCodecs(_ dtype: DType) {
        var rng = Rng(state: 5)
        let values = (0..<1000).map { _ in rng.next() * 1000 }
        let bytes = values.withUnsafeBufferPointer { Quantization.quantize($0, as: dtype) }!
        let fast = bytes.withUnsafeBytes { Quantization.dequantize($0, as: dtype, count: values.count) }!
        let codec = BlockCodecs.codec(for: dtype)!
        var slow = [Float](repeating: 0, count: values.count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<values.count { codec.dequantize(raw.baseAddress! + i * dtype.bytesPerBlock, into: &slow[i]) }
        }
        #expect(fast.map(\.bitPattern) == slow.map(\.bitPattern))
        var withNaN = values
        withNaN[777] = .nan
        #expect(withNaN.withUnsafeBufferPointer { FloatRows.firstNonFinite($0) } == 777)
        withNaN[3] = -.infinity
        #expect(withNaN.withUnsafeBufferPointer { FloatRows.firstNonFinite($0) } == 3)
        #expect(values.withUnsafeBufferPointer { FloatRows.firstNonFinite($0) } == nil)
    }
}
