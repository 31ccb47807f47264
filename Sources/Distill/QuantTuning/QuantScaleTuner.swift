import Foundation
import Formats
import Model

/// Teacher-aware quantization of a GGUF (quantization-plus.md): start from an ordinary quantization and
/// learn the fp16 block scales (d, and the K-quants' dmin / Q4_1's m; BlockScales) by gradient descent on
/// KL(teacher ‖ quantized model) over calibration sequences, the codes and integer sub-block scales fixed.
/// Each learnable field is d = d₀·(1 + u) with u trained by AdamW (a relative step, the same for tiny and large
/// scales); the forward always decodes the blocks with the fields rounded to fp16 (straight-through), so what
/// trains is exactly what llama.cpp will compute. Optionally the F32 norm weights learn too. The result is the
/// quantized file with only those bytes changed: the same type, the same layout, nothing new for llama.cpp.
public final class QuantScaleTuner {
    public struct Options: Sendable {
        public var learningRate = 1e-3
        /// Learning rate of the F32 norm weights; 0 keeps them fixed.
        public var normLearningRate = 0.0
        public init() {}
    }

    /// One quantized weight: its blocks (a private copy being edited), the starting fields and u, v.
    final class Tensor {
        let key: ParameterSet.Key, name: String, dtype: DType, blocks: Int, fileOffset: Int
        let bytes: UnsafeMutableRawBufferPointer
        let start: UnsafeMutableBufferPointer<Float>     // [blocks, 2]: d₀, m₀
        let relative: UnsafeMutableBufferPointer<Float>  // [blocks, 2]: u, v
        let gradient: UnsafeMutableBufferPointer<Float>  // [blocks, 2]

        init(key: ParameterSet.Key, info: GGUFFile.TensorInfo, gguf: GGUFFile) {
            self.key = key
            name = info.name
            dtype = info.dtype
            blocks = Int(info.elementCount) / info.dtype.blockSize
            fileOffset = gguf.dataOffset + Int(info.offset)
            bytes = .allocate(byteCount: blocks * dtype.bytesPerBlock, alignment: 16)
            bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: gguf.file.bytes[fileOffset..<(fileOffset + bytes.count)]))
            start = .allocate(capacity: 2 * blocks)
            relative = .allocate(capacity: 2 * blocks)
            gradient = .allocate(capacity: 2 * blocks)
            relative.update(repeating: 0)
            gradient.update(repeating: 0)
            for b in 0..<blocks {
                let (d, m) = BlockScales.read(UnsafeRawPointer(bytes.baseAddress! + b * dtype.bytesPerBlock), dtype)
                start[2 * b] = d
                start[2 * b + 1] = m
            }
        }

        deinit {
            bytes.deallocate()
            start.deallocate()
            relative.deallocate()
            gradient.deallocate()
        }
    }

    public let options: Options
    public let quantized: GGUFFile
    public let params: ParameterSet
    let teacher: ModelWeights
    let tensors: [Tensor]
    let gradients: GradientSet
    let optimizer: AdamW
    let normOptimizer: AdamW?
    /// The F32 vectors (norm weights) that --tune-norms-lr moves; empty when they stay.
    let normKeys: [ParameterSet.Key]
    let workspace = TrainingWorkspace()
    public private(set) var step = 0

    /// `quantized`: the plain quantization; `teacher`: the model whose distribution the result should match.
    public init(quantized: GGUFFile, teacher: ModelWeights, options: Options) throws(DistillError) {
        self.options = options
        self.quantized = quantized
        self.teacher = teacher
        let params: ParameterSet
        do { params = try ParameterSet.load(gguf: quantized, threads: Parallel.threads) } catch { throw .model(error) }
        self.params = params
        guard params.config.vocabSize == teacher.config.vocabSize else {
            throw .invalidOption(name: "--teacher", reason: "vocabulary of \(teacher.config.vocabSize), the model has \(params.config.vocabSize)")
        }
        var tensors: [Tensor] = []
        for info in quantized.tensorInfos where BlockScales.fields(info.dtype) != nil {
            guard let (slot, layer) = TensorNames.parseGGUF(info.name), params.contains(slot, layer: layer) else { continue }
            tensors.append(Tensor(key: .init(slot, layer), info: info, gguf: quantized))
        }
        guard !tensors.isEmpty else {
            throw .invalidOption(name: "TYPE", reason: "no tensor of '\(quantized.path)' has block scales to tune (F32/F16 or unsupported types)")
        }
        self.tensors = tensors
        let tunedKeys = Set(tensors.map(\.key))
        let norms = params.keys.filter { ParameterSet.shape($0.slot, params.config).count == 1 && !tunedKeys.contains($0) }
        normKeys = options.normLearningRate > 0 ? norms : []
        gradients = GradientSet(params, trainable: .all)
        optimizer = AdamW(regions: tensors.map { ParameterRegion(name: $0.name, values: $0.relative.baseAddress!, gradient: $0.gradient.baseAddress!,
                                                                 count: $0.relative.count, decay: false) },
                          options: .init(weightDecay: 0))
        normOptimizer = !normKeys.isEmpty
            ? AdamW(regions: ParameterRegion.regions(params, gradients).filter { r in norms.contains { TensorNames.gguf($0.slot, layer: $0.layer) == r.name } },
                    options: .init(weightDecay: 0))
            : nil
    }

    /// Learnable fields (d and m of every block) and how many weights they scale.
    public var fieldCount: Int { tensors.reduce(0) { $0 + 2 * $1.blocks } }
    public var tunedTensorCount: Int { tensors.count }

    /// One step on `sequences`: KL(teacher ‖ model) at every position (predicting the next token), back to
    /// the block fields, one AdamW update, the blocks re-encoded and decoded again. Returns the mean KL
    /// before the update.
    public func step(_ sequences: [[Int]]) throws(DistillError) -> Double {
        let (pass, kl) = try forwardKL(sequences)
        guard kl.isFinite else { throw .diverged(step: step + 1, quantity: "the KL to the teacher", value: Float(kl), lastCheckpoint: nil) }
        gradients.zero()
        pass.backward(gradients: gradients)
        chainToFields()
        optimizer.update(lr: options.learningRate)
        normOptimizer?.update(lr: options.normLearningRate)
        reencode()
        step += 1
        return kl
    }

    /// The mean KL(teacher ‖ model) over `sequences` as the fields stand (held-out data: nothing moves).
    public func meanKL(_ sequences: [[Int]], batchSize: Int) throws(DistillError) -> Double {
        var total = 0.0, positions = 0
        for start in stride(from: 0, to: sequences.count, by: max(1, batchSize)) {
            let part = Array(sequences[start..<min(sequences.count, start + batchSize)])
            let n = part.reduce(0) { $0 + max(0, $1.count - 1) }
            total += try forwardKL(part).kl * Double(n)
            positions += n
        }
        return total / Double(max(1, positions))
    }

    /// The training forward of the current fields on `sequences` and its mean KL to the teacher (the loss's
    /// gradient left in the pass for backward).
    private func forwardKL(_ sequences: [[Int]]) throws(DistillError) -> (pass: TrainingPass, kl: Double) {
        let V = params.config.vocabSize
        let teacherLogits: LogitsTable
        do { teacherLogits = LogitsTable(try Transformer(weights: teacher).logits(batch: sequences), vocab: V) } catch { throw .model(error) }
        let pass: TrainingPass
        do {
            pass = try TrainingPass(weights: ModelWeights(params), params: params, sequences: sequences.map { .init(tokens: $0, prompted: false) },
                                    workspace: workspace)
        } catch { throw .model(error) }
        pass.forward()
        let batch = Distiller.Batch(sequences: sequences, isTarget: sequences.map { s in s.indices.map { $0 > 0 } })
        let losses = try Distiller.applyLoss(pass, batch, vocab: V) { s, t in [(.forwardKL, .logits(teacherLogits.row(s, t)), 1)] }
        return (pass, losses[0])
    }

    /// The fields and tuned norms of the best held-out KL so far (`remember`), put back by `restoreRemembered`
    /// before writing: tuning too long fits the calibration data (EXPERIMENTS.md, Q4_K_M at 200 steps).
    private var remembered: (fields: [[Float]], norms: [ParameterSet.Key: [Float]])?

    public func remember() {
        let norms = Dictionary(uniqueKeysWithValues: normKeys.map { key in
            (key, Array(UnsafeBufferPointer(start: params.pointer(key.slot, layer: key.layer), count: params.layout[key]!.shape.reduce(1, *))))
        })
        remembered = (tensors.map { Array($0.relative) }, norms)
    }

    public func restoreRemembered() {
        guard let remembered else { return }
        for (t, fields) in zip(tensors, remembered.fields) { _ = t.relative.update(fromContentsOf: fields) }
        for (key, values) in remembered.norms { params.pointer(key.slot, layer: key.layer).update(from: values, count: values.count) }
        reencode()
    }


    /// ∂L/∂u = d₀·Σ ∂L/∂w_i·a_i and ∂L/∂v = m₀·Σ ∂L/∂w_i·b_i per block (a, b: BlockScales.basis).
    func chainToFields() {
        for t in tensors {
            let g = gradients.pointer(t.key.slot, layer: t.key.layer)!, bs = t.dtype.blockSize, size = t.dtype.bytesPerBlock
            let shared = SendablePointer((t: t, g: g))
            Parallel.forChunks(t.blocks, minChunk: 64) { range in
                let (t, g) = shared.pointer
                let a = UnsafeMutablePointer<Float>.allocate(capacity: bs), b = UnsafeMutablePointer<Float>.allocate(capacity: bs)
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
                defer { a.deallocate(); b.deallocate(); scratch.deallocate() }
                for k in range {
                    BlockScales.basis(UnsafeRawPointer(t.bytes.baseAddress! + k * size), t.dtype, a: a, b: b, scratch: scratch)
                    var ga = 0.0, gb = 0.0
                    for i in 0..<bs {
                        ga += Double(g[k * bs + i]) * Double(a[i])
                        gb += Double(g[k * bs + i]) * Double(b[i])
                    }
                    t.gradient[2 * k] = Float(ga) * t.start[2 * k]
                    t.gradient[2 * k + 1] = Float(gb) * t.start[2 * k + 1]
                }
            }
        }
    }

    /// Every block's fields from d₀·(1 + u), m₀·(1 + v) (fp16), and its weights decoded into `params`.
    func reencode() {
        for t in tensors {
            let w = params.pointer(t.key.slot, layer: t.key.layer), bs = t.dtype.blockSize, size = t.dtype.bytesPerBlock
            let decoder = BlockCodecs.decoder(for: t.dtype)!
            let shared = SendablePointer((t: t, w: w))
            Parallel.forChunks(t.blocks, minChunk: 64) { range in
                let (t, w) = shared.pointer
                for k in range {
                    let block = t.bytes.baseAddress! + k * size
                    BlockScales.write(block, t.dtype, d: t.start[2 * k] * (1 + t.relative[2 * k]), m: t.start[2 * k + 1] * (1 + t.relative[2 * k + 1]))
                    decoder.dequantize(UnsafeRawPointer(block), into: w + k * bs)
                }
            }
        }
    }

    /// The quantized file with the tuned blocks (and norms) in place of the originals, atomically.
    public func write(to path: String, overwrite: Bool) throws(DistillError) {
        var bytes = Array(quantized.file.bytes)
        for t in tensors {
            bytes.withUnsafeMutableBytes { ($0.baseAddress! + t.fileOffset).copyMemory(from: t.bytes.baseAddress!, byteCount: t.bytes.count) }
        }
        if normOptimizer != nil {
            for info in quantized.tensorInfos where info.dtype == .f32 {
                guard let (slot, layer) = TensorNames.parseGGUF(info.name), params.contains(slot, layer: layer),
                      ParameterSet.shape(slot, params.config).count == 1 else { continue }
                let offset = quantized.dataOffset + Int(info.offset), count = Int(info.elementCount)
                bytes.withUnsafeMutableBytes { ($0.baseAddress! + offset).copyMemory(from: params.pointer(slot, layer: layer), byteCount: 4 * count) }
            }
        }
        do {
            let out = try AtomicOutput(path: path, overwrite: overwrite)
            try out.write(bytes)
            try out.commit()
        } catch { throw .format(error) }
    }

    /// How far the fields moved: the mean and largest |u|, |v| over blocks with a nonzero field.
    public var movement: (mean: Double, max: Double) {
        var sum = 0.0, count = 0, largest = 0.0
        for t in tensors {
            for i in 0..<t.relative.count where t.start[i] != 0 {
                sum += abs(Double(t.relative[i]))
                largest = max(largest, abs(Double(t.relative[i])))
                count += 1
            }
        }
        return (sum / Double(max(1, count)), largest)
    }
}
