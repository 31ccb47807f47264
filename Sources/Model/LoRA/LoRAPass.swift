import CBLAS

/// LoRA inside one forward (and, in training, its backward): after a target's base product,
/// out += scale · (drop(x)·Aᵀ)·Bᵀ, as PEFT's lora.Linear computes it (dropout on the adapter's input only).
/// Shapes: x [N, in], A [r, in], t = drop(x)·Aᵀ [N, r], B [out, r], out [N, out].
/// Training keeps each target's t for backward; the dropped input is not kept but drawn again from its
/// seed (LoRADropout), so dropout costs no memory per layer.
final class LoRAPass {
    let adapters: LoRAAdapters
    let rows: Int
    /// Set while training with dropout > 0: the step's masks come from it (nil: no dropout, as in eval).
    let dropoutSeed: UInt64?
    private let kept: [ParameterSet.Key: UnsafeMutablePointer<Float>]
    private let t, dt, x, dx: UnsafeMutablePointer<Float>
    private let arena = FloatArena()

    /// `keep`: hold each target's t for backward (training); otherwise one scratch t serves every target.
    init(adapters: LoRAAdapters, rows: Int, keep: Bool, dropoutSeed: UInt64?) {
        self.adapters = adapters
        self.rows = rows
        self.dropoutSeed = adapters.settings.dropout > 0 ? dropoutSeed : nil
        let r = adapters.settings.rank
        let widest = adapters.layout.values.map(\.inDim).max() ?? 0
        var kept: [ParameterSet.Key: UnsafeMutablePointer<Float>] = [:]
        if keep { for key in adapters.keys { kept[key] = arena.make(rows * r) } }
        self.kept = kept
        t = arena.make(keep ? 0 : rows * r)
        dt = arena.make(keep ? rows * r : 0)
        let dropping = self.dropoutSeed != nil
        x = arena.make(dropping ? rows * widest : 0)
        dx = arena.make(dropping && keep ? rows * widest : 0)
    }

    var byteCount: Int { arena.byteCount }

    /// out [N, out] += the adapter's product on inp [N, in]; nothing when the key has no adapter.
    func forward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ key: ParameterSet.Key) {
        guard let e = adapters.layout[key] else { return }
        let n = Int32(rows), r = Int32(adapters.settings.rank), i = Int32(e.inDim), o = Int32(e.outDim)
        let input = dropped(inp, key, e)
        let t = kept[key] ?? self.t
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, r, i, 1, input, i, adapters.a(key), i, 0, t, r)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, o, r, adapters.settings.scale, t, r, adapters.b(key), r, 1, out, o)
    }

    /// Backward of `forward` (training passes only): dB += scale·doutᵀ·t, dt = scale·dout·B,
    /// dA += dtᵀ·drop(x), dinp += drop'(dt·A).
    func backward(dinp: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, _ key: ParameterSet.Key) {
        guard let e = adapters.layout[key], let t = kept[key] else { return }
        let n = Int32(rows), r = Int32(adapters.settings.rank), i = Int32(e.inDim), o = Int32(e.outDim)
        let scale = adapters.settings.scale
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, r, n, scale, dout, o, t, r, 1, adapters.gradientB(key), r)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, r, o, scale, dout, o, adapters.b(key), r, 0, dt, r)
        let input = dropped(inp, key, e)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, i, n, 1, dt, r, input, i, 1, adapters.gradientA(key), i)
        guard let dinp else { return }
        if let seed = dropoutSeed {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, i, r, 1, dt, r, adapters.a(key), i, 0, dx, i)
            LoRADropout.accumulate(dinp, dx, count: rows * e.inDim, seed: seed, stream: stream(key), p: adapters.settings.dropout)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, i, r, 1, dt, r, adapters.a(key), i, 1, dinp, i)
        }
    }

    /// inp itself, or its dropped copy in scratch (the same mask in forward and backward).
    private func dropped(_ inp: UnsafePointer<Float>, _ key: ParameterSet.Key, _ e: LoRAAdapters.Entry) -> UnsafePointer<Float> {
        guard let seed = dropoutSeed else { return inp }
        LoRADropout.apply(x, inp, count: rows * e.inDim, seed: seed, stream: stream(key), p: adapters.settings.dropout)
        return UnsafePointer(x)
    }

    /// Each adapter draws its own mask (PEFT has one Dropout module per target).
    private func stream(_ key: ParameterSet.Key) -> UInt64 {
        UInt64(adapters.keys.firstIndex(of: key) ?? 0)
    }
}

/// Inverted dropout with masks that are a pure function of (seed, stream, element): element j of stream s
/// is kept when the top 24 bits of SplitMix64's finalizer on seed ⊕ (s·φ) + j, as a fraction, are ≥ p;
/// kept values are multiplied by 1 / (1 − p) (torch's Dropout convention).
enum LoRADropout {
    static func keep(seed: UInt64, stream: UInt64, index: Int, p: Float) -> Bool {
        var z = (seed ^ (stream &* 0x9E37_79B9_7F4A_7C15)) &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 24) >= p
    }

    /// out = drop(x).
    static func apply(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, seed: UInt64, stream: UInt64, p: Float) {
        let inverse = 1 / (1 - p)
        for j in 0..<count { out[j] = keep(seed: seed, stream: stream, index: j, p: p) ? x[j] * inverse : 0 }
    }

    /// dinp += drop'(d): the kept elements of d × 1 / (1 − p).
    static func accumulate(_ dinp: UnsafeMutablePointer<Float>, _ d: UnsafePointer<Float>, count: Int, seed: UInt64, stream: UInt64, p: Float) {
        let inverse = 1 / (1 - p)
        for j in 0..<count where keep(seed: seed, stream: stream, index: j, p: p) { dinp[j] += d[j] * inverse }
    }
}

/// Small dense products of the adapters outside a pass.
public enum LoRAMath {
    /// W [out, in] += scale · B [out, r] · A [r, in].
    public static func addProduct(_ w: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ a: UnsafePointer<Float>,
                                  outDim: Int, rank: Int, inDim: Int, scale: Float) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outDim), Int32(inDim), Int32(rank), scale,
                    b, Int32(rank), a, Int32(inDim), 1, w, Int32(inDim))
    }
}
