import Formats

/// The weights a Transformer reads: every slot of TensorNames.expected(config) as a WeightMatrix
/// (norms and biases are 1-row f32 matrices). Either views of a ParameterSet (training, HF checkpoints) or
/// of a mapped GGUF file whose quantized blocks stay as stored, so a Q4_1 model decodes from ~100 MB
/// instead of widening to 540 MB of f32.
public final class ModelWeights: @unchecked Sendable {
    public typealias Key = ParameterSet.Key
    public let config: TransformerConfig
    private let slots: [Key: WeightMatrix]
    /// Keeps the memory behind the views alive: a ParameterSet or a MappedFile.
    private let owner: AnyObject
    /// f32 copies made at load (vectors stored in other types, matrices of types without kernels).
    private let widened: [UnsafeMutableBufferPointer<Float>]

    /// Views of every slot of `params` (which this object keeps alive).
    public init(_ params: ParameterSet) {
        config = params.config
        var slots: [Key: WeightMatrix] = [:]
        for key in params.keys {
            let shape = params.layout[key]!.shape
            slots[key] = WeightMatrix(f32: params.pointer(key.slot, layer: key.layer),
                                      rows: shape.count == 2 ? shape[0] : 1, cols: shape.last ?? 1)
        }
        self.slots = slots
        owner = params
        widened = []
    }

    private init(config: TransformerConfig, slots: [Key: WeightMatrix], owner: AnyObject, widened: [UnsafeMutableBufferPointer<Float>]) {
        self.config = config
        self.slots = slots
        self.owner = owner
        self.widened = widened
    }

    deinit { for buffer in widened { buffer.deallocate() } }

    /// From a GGUF file, strictly (every slot once, right shapes, leftovers named). Matrices whose type has
    /// kernels are used in place; anything else is widened to f32 bit-exactly with ggml.
    public static func load(gguf: GGUFFile) throws(ModelError) -> ModelWeights {
        let config = try TransformerConfig(gguf: gguf)
        let expected = TensorNames.expected(config).map { Key($0.0, $0.1) }
        let wanted = Set(expected)
        var slots: [Key: WeightMatrix] = [:]
        var widened: [UnsafeMutableBufferPointer<Float>] = []
        var unknown: [String] = []
        var failure: ModelError?
        defer { if failure != nil { for buffer in widened { buffer.deallocate() } } }
        do throws(ModelError) {
            for info in gguf.tensorInfos where !TensorNames.isRopeData(info.name) {
                guard let (slot, layer) = TensorNames.parseGGUF(info.name), wanted.contains(Key(slot, layer)) else {
                    unknown.append(info.name)
                    continue
                }
                let key = Key(slot, layer)
                try ParameterSet.checkShape(key, info.shape, config: config, name: info.name, path: gguf.path)
                let shape = ParameterSet.shape(slot, config)
                let rows = shape.count == 2 ? shape[0] : 1, cols = shape.last ?? 1
                let base = gguf.file.bytes.baseAddress! + gguf.dataOffset + Int(info.offset)
                let aligned = Int(bitPattern: base) % 4 == 0
                if shape.count == 2, aligned || info.dtype != .f32,
                   let view = WeightMatrix(dtype: info.dtype, base: base, rows: rows, cols: cols) {
                    slots[key] = view
                } else if info.dtype == .f32 && aligned {
                    slots[key] = WeightMatrix(f32: base.assumingMemoryBound(to: Float.self), rows: rows, cols: cols)
                } else {
                    let values: [Float]
                    do { values = try Quantization.dequantize(gguf.tensor(info), path: gguf.path, threads: Parallel.threads) } catch {
                        throw .format(error)
                    }
                    let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
                    _ = buffer.initialize(from: values)
                    widened.append(buffer)
                    slots[key] = WeightMatrix(f32: UnsafePointer(buffer.baseAddress!), rows: rows, cols: cols)
                }
            }
            try ParameterSet.checkComplete(expected: expected, filled: Set(slots.keys), unknown: unknown, path: gguf.path)
        } catch {
            failure = error
            throw error
        }
        return ModelWeights(config: config, slots: slots, owner: gguf.file, widened: widened)
    }

    public func contains(_ slot: TensorNames.Slot, layer: Int? = nil) -> Bool { slots[Key(slot, layer)] != nil }

    /// A slot's matrix. Asking for a slot the config lacks is a programming error (check `contains`).
    public func matrix(_ slot: TensorNames.Slot, layer: Int? = nil) -> WeightMatrix {
        guard let matrix = slots[Key(slot, layer)] else {
            preconditionFailure("ModelWeights has no \(slot) for layer \(String(describing: layer))")
        }
        return matrix
    }

    /// A norm weight or bias (always f32 after loading).
    public func vector(_ slot: TensorNames.Slot, layer: Int? = nil) -> UnsafePointer<Float> {
        matrix(slot, layer: layer).floats!
    }

    /// The first NaN or infinity of any slot, as (slot, element index, value), reading stored blocks a few
    /// rows at a time with ggml's dequantization (bounded scratch whatever the type).
    public func firstNonFinite() -> (key: Key, element: Int, value: Float)? {
        for key in TensorNames.expected(config).map({ Key($0.0, $0.1) }) {
            guard let m = slots[key] else { continue }
            let chunk = max(1, min(m.rows, (1 << 16) / max(1, m.cols)))
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: chunk * m.cols)
            defer { scratch.deallocate() }
            var start = 0
            while start < m.rows {
                let end = min(m.rows, start + chunk)
                let values: UnsafePointer<Float>
                if let floats = m.floats { values = floats + start * m.cols } else {
                    m.widenRows(start..<end, into: scratch)
                    values = UnsafePointer(scratch)
                }
                for i in 0..<((end - start) * m.cols) where !values[i].isFinite {
                    return (key, start * m.cols + i, values[i])
                }
                start = end
            }
        }
        return nil
    }

    /// Bytes of weights held in their stored form plus f32 copies (for reports).
    public var byteCount: Int {
        slots.values.reduce(0) { $0 + $1.rows * $1.rowBytes }
    }
}
