import Formats
import Model

/// `--outtype` of ckpt convert, as convert_hf_to_gguf.py names them.
public enum ConvertOutType: String, CaseIterable, Sendable {
    case f32, f16, bf16, q8_0, auto

    /// The type 2-D weights get (auto: bf16 when the checkpoint's first tensor is bf16, else f16, as
    /// convert_hf_to_gguf.py decides).
    func weightType(firstSource: DType?) -> DType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        case .q8_0: .q8_0
        case .auto: firstSource == .bf16 ? .bf16 : .f16
        }
    }
}

/// What HF → GGUF writes, tensor by tensor, decided before any data is read: each HF tensor's slot, its
/// GGUF name and shape, the layout fixup (llama q/k row permutation with n_head for q and n_head_kv for k,
/// biases too; GPT-2 Conv1D transpose) and the output type by convert_hf_to_gguf's rules (formats.md §5.3):
/// 1-D tensors, norms, biases and position embeddings stay F32; other weights take the outtype, Q8_0
/// falling back to F16 when a row is not whole blocks. Dropped: known buffers (attn.bias, masked_bias,
/// rotary_emb.inv_freq). Anything else unknown, or a missing slot, is an error.
public struct GGUFConversionPlan {
    public struct Entry {
        public let source: RawTensor
        /// nil for a generated rotary tensor (TensorNames.ropeTensors).
        public let slot: TensorNames.Slot?
        public let layer: Int?
        public let name: String
        /// numpy order, GGUF layout.
        public let shape: [Int]
        public let target: DType
        public let fixup: TensorNames.Fixup
    }

    public let config: TransformerConfig
    public let entries: [Entry]
    public let fileType: UInt32

    public init(_ hf: HuggingFaceDirectory, outtype: ConvertOutType) throws(ConvertError) {
        let c = hf.config
        config = c
        let weightType = outtype.weightType(firstSource: hf.tensors.first?.dtype)
        fileType = switch weightType { case .f16: 1; case .bf16: 32; case .q8_0: 7; default: 0 }
        var entries: [Entry] = TensorNames.ropeTensors(c).map { tensor, values in
            let raw = RawTensor(name: tensor.rawValue, dtype: .f32, shape: [values.count],
                                data: ByteView(owned: values.withUnsafeBytes { Array($0) }))
            return Entry(source: raw, slot: nil, layer: nil, name: tensor.rawValue, shape: [values.count], target: .f32, fixup: .none)
        }
        var unknown: [String] = []
        var seen: [String: String] = [:]  // GGUF name → the HF tensor that filled it
        for tensor in hf.tensors {
            if TensorNames.isIgnorableHuggingFace(tensor.name) { continue }
            guard let (slot, layer) = TensorNames.parseHuggingFace(tensor.name, family: c.family) else {
                unknown.append(tensor.name)
                continue
            }
            // A tied model whose checkpoint still stores lm_head (PyTorch .bin files do) gets output.weight,
            // as convert_hf_to_gguf.py writes it; llama.cpp then uses it instead of the embedding.
            let fixup = TensorNames.fixup(slot, family: c.family)
            var shape = tensor.shape
            if fixup == .transpose { shape.reverse() }
            let expected = ParameterSet.shape(slot, c)
            guard shape == expected else {
                throw .unsupportedInput(path: hf.path, reason: "tensor '\(tensor.name)' has shape \(tensor.shape), the config needs \(expected)")
            }
            guard DType.weightFloats.contains(tensor.dtype) else {
                throw .unsupportedInput(path: hf.path, reason: "tensor '\(tensor.name)' is \(tensor.dtype.name); ckpt converts F32, F16 and BF16 weights")
            }
            let name = TensorNames.gguf(slot, layer: layer)
            if let first = seen[name] {
                throw .unsupportedInput(path: hf.path, reason: "tensors '\(first)' and '\(tensor.name)' both fill '\(name)'")
            }
            seen[name] = tensor.name
            entries.append(Entry(source: tensor, slot: slot, layer: layer, name: name, shape: shape,
                                 target: Self.outputType(slot: slot, name: name, shape: shape, weightType: weightType), fixup: fixup))
        }
        if !unknown.isEmpty {
            throw .unsupportedInput(path: hf.path, reason: "tensor(s) '\(unknown.prefix(8).joined(separator: "', '"))' have no place in a \(c.architecture) model")
        }
        let missing = TensorNames.expected(c).map { TensorNames.gguf($0.slot, layer: $0.layer) }.filter { seen[$0] == nil }
        if !missing.isEmpty {
            throw .unsupportedInput(path: hf.path, reason: "\(missing.count) tensor(s) missing, first '\(missing[0])'")
        }
        self.entries = entries
    }

    /// convert_hf_to_gguf's prepare_tensors choice for one tensor.
    static func outputType(slot: TensorNames.Slot?, name: String, shape: [Int], weightType: DType) -> DType {
        if shape.count <= 1 || name.hasSuffix("_norm.weight") || !name.hasSuffix(".weight") || slot == .positionEmbedding {
            return .f32
        }
        if weightType.isQuantized, (shape.last ?? 0) % weightType.blockSize != 0 { return .f16 }
        return weightType
    }

    /// Writes the stored bytes of `entry` in GGUF layout and its target type into `out`. F32 sources without
    /// a layout fixup (the bulk of a checkpoint) are read with pread (not through the mapping) into small
    /// slots of `source` and encoded into `out`'s staging buffers a piece at a time; GPT-2's f32 Conv1D
    /// weights are read the same way a band of rows at a time and transposed into a whole-tensor buffer
    /// (`streamTransposed`); the rest go through `data`, whose source pages are released once read.
    public func write(_ entry: Entry, path: String, into out: StagedOutput, source: ScratchBuffer) throws(ConvertError) {
        do {
            if entry.source.dtype == .f32, entry.fixup == .none, try streamNarrowed(entry, into: out, source: source) { return }
            if entry.source.dtype == .f32, entry.fixup == .transpose, try streamTransposed(entry, into: out, source: source) { return }
            defer { entry.source.data.releasePages() }
            try out.write(data(entry, path: path))
        } catch let error as FormatError {
            throw .format(error)
        } catch let error as ConvertError {
            throw error
        } catch {
            throw .unsupportedInput(path: path, reason: "\(error)")
        }
    }

    /// The stored bytes of `entry` in GGUF layout and its target type, whole: f32 sources rearranged straight
    /// from the mapping, the rest widened first; then the encoding.
    func data(_ entry: Entry, path: String) throws(ConvertError) -> ByteView {
        let arranged: [UInt8]?
        if entry.source.dtype == .f32 {
            arranged = entry.source.data.withUnsafeBytes {
                RowLayout.apply(entry.fixup, $0, shape: entry.source.shape, elementSize: 4, config: config, toGGUF: true)
            }
        } else {
            let values: [Float]
            do { values = try Quantization.dequantize(entry.source, path: path) } catch { throw .format(error) }
            arranged = values.withUnsafeBytes {
                RowLayout.apply(entry.fixup, $0, shape: entry.source.shape, elementSize: 4, config: config, toGGUF: true)
            }
        }
        guard let arranged else {
            throw .unsupportedInput(path: path, reason: "tensor '\(entry.source.name)' of shape \(entry.source.shape) does not fit its layout change")
        }
        if entry.target == .f32 { return ByteView(owned: arranged) }
        guard let encoded = arranged.withUnsafeBytes({ Quantization.quantize($0.bindMemory(to: Float.self), as: entry.target, threads: 2) }) else {
            throw .unsupportedInput(path: path, reason: "tensor '\(entry.source.name)' cannot be written as \(entry.target.name)")
        }
        return ByteView(owned: encoded)
    }
}

extension GGUFConversionPlan {
    /// Pieces read at most this many source bytes (and write at most StagedOutput.capacity): small enough
    /// to stay in cache between the read and the encoding.
    static let sliceBytes = 4 << 20

    /// Copies `range` of `view` to `destination`, the threads each reading a part: the kernel's page-cache
    /// copy is half the CPU time of a conversion's reading, and one thread doing it all left the other idle.
    static func read(_ view: ByteView, _ range: Range<Int>, to destination: UnsafeMutableRawPointer) {
        let page = 4096, pages = (range.count + page - 1) / page
        let shared = SendablePointer(destination)
        Parallel.forChunks(pages, minChunk: 64, perThread: 4) { part in
            let start = range.lowerBound + part.lowerBound * page, end = min(range.upperBound, range.lowerBound + part.upperBound * page)
            view.copyBytes(start..<end, to: shared.pointer + (start - range.lowerBound))
        }
    }

    /// Output bytes of the largest tensor `streamTransposed` makes whole (0 when none).
    public var largestTransposedBytes: Int {
        entries.filter { $0.fixup == .transpose && $0.source.dtype == .f32 }
            .map { $0.shape.reduce(1, *) * $0.target.bytesPerBlock / $0.target.blockSize }.max() ?? 0
    }

    /// Floats each thread reads and narrows at a time (64 KB, from L2).
    static let narrowStep = 16_384

    /// Scratch floats `readNarrowed` needs: one step per chunk.
    static var narrowScratchCount: Int { Parallel.chunkCount(.max, minChunk: 1, perThread: 4) * narrowStep }

    /// The f32 values at `range` of `view` narrowed to `target` (f16 or bf16) into `out`, through `scratch`
    /// (`narrowScratchCount` floats): each chunk of steps reads 64 KB at a time into its own slot, which
    /// stays in L2, and narrows it from there (one slot per chunk, not a fresh region per step: the copies
    /// then land in cache instead of evicting it).
    static func readNarrowed(_ view: ByteView, _ range: Range<Int>, as target: DType, through scratch: UnsafeMutablePointer<Float>,
                             into out: UnsafeMutableRawPointer) {
        let count = range.count / 4, step = narrowStep
        let shared = SendablePointer((scratch: scratch, out: out))
        Parallel.forIndexedChunks((count + step - 1) / step, minChunk: 1, perThread: 4) { chunk, steps in
            let slot = shared.pointer.scratch + chunk * step
            for start in stride(from: steps.lowerBound * step, to: min(count, steps.upperBound * step), by: step) {
                let n = min(step, count - start)
                view.copyBytes((range.lowerBound + start * 4)..<(range.lowerBound + (start + n) * 4), to: UnsafeMutableRawPointer(slot))
                _ = FloatRows.narrow(slot, count: n, to: target, into: shared.pointer.out + start * 2)
            }
        }
    }

    /// F32 rows encoded a piece of whole rows at a time; false (nothing written) when the rows are not whole
    /// blocks of the target.
    func streamNarrowed(_ entry: Entry, into out: StagedOutput, source: ScratchBuffer) throws(FormatError) -> Bool {
        let count = entry.shape.reduce(1, *), rowLength = entry.shape.last ?? 1, target = entry.target
        guard count % target.blockSize == 0, rowLength % target.blockSize == 0, count > 0 else { return false }
        let rowOut = rowLength / target.blockSize * target.bytesPerBlock
        guard rowOut <= StagedOutput.capacity else { return false }
        let rowsPerPiece = max(1, min(Self.sliceBytes / (rowLength * 4), StagedOutput.capacity / rowOut))
        let rows = count / rowLength
        // f16/bf16 narrow through per-chunk 64 KB slots; quantized targets need a piece's floats.
        let narrows = target == .f16 || target == .bf16
        let floats = source.reserve((narrows ? Self.narrowScratchCount : min(rows, rowsPerPiece) * rowLength) * 4)
            .assumingMemoryBound(to: Float.self)
        let data = entry.source.data
        for row in stride(from: 0, to: rows, by: rowsPerPiece) {
            let end = min(rows, row + rowsPerPiece), bytes = (row * rowLength * 4)..<(end * rowLength * 4)
            try out.fill((end - row) * rowOut) { buffer in
                switch target {
                case .f32:
                    Self.read(data, bytes, to: buffer)
                    return true
                case .f16, .bf16:
                    Self.readNarrowed(data, bytes, as: target, through: floats, into: buffer)
                    return true
                default:
                    Self.read(data, bytes, to: UnsafeMutableRawPointer(floats))
                    return Quantization.quantize(UnsafeBufferPointer(start: floats, count: (end - row) * rowLength), as: target,
                                                 threads: 2, into: buffer)
                }
            }
        }
        return true
    }

    /// An f32 Conv1D weight [rows, cols] transposed and narrowed to its target type band by band: each
    /// thread reads a band of source rows (a contiguous ≤ ~256 KB range) into its own buffer, which stays in
    /// L2, and transposes it from there into the band's columns of the whole output tensor. (Reading the
    /// whole source first and transposing it a piece of output rows at a time read every value back from
    /// L3 or memory in short strided runs: the transposes were 28% of a GPT-2 small conversion's CPU time.)
    /// False for other targets.
    func streamTransposed(_ entry: Entry, into out: StagedOutput, source: ScratchBuffer) throws(FormatError) -> Bool {
        let shape = entry.source.shape
        guard shape.count == 2, shape[0] > 0, shape[1] > 0, DType.weightFloats.contains(entry.target) else { return false }
        let (rows, cols) = (shape[0], shape[1]), size = entry.target.bytesPerBlock
        guard entry.source.data.count == rows * cols * 4 else { return false }
        let bandRows = Self.bandRows(cols: cols), bands = (rows + bandRows - 1) / bandRows
        let bandBytes = bandRows * cols * 4
        let chunks = Parallel.chunkCount(bands, minChunk: 1, perThread: 4)
        let slots = SendablePointer(source.reserve(chunks * bandBytes))
        let data = entry.source.data, target = entry.target
        return try out.fillWhole(rows * cols * size) { buffer in
            let output = SendablePointer(buffer)
            Parallel.forIndexedChunks(bands, minChunk: 1, perThread: 4) { chunk, range in
                let slot = slots.pointer + chunk * bandBytes
                for band in range {
                    let r0 = band * bandRows, r1 = min(rows, r0 + bandRows)
                    data.copyBytes((r0 * cols * 4)..<(r1 * cols * 4), to: slot)
                    _ = FloatRows.transposeNarrow(slot.assumingMemoryBound(to: Float.self), rows: r1 - r0, cols: cols, columns: 0..<cols,
                                                  to: target, into: output.pointer + r0 * size, outputStride: rows)
                }
            }
            return true
        }
    }

    /// Source rows per transposed band: 32, 16 or 8, the most whose band stays within ~256 KB of L2. A
    /// power of two, so that each output row's part of a band is whole 16-byte stores within its lines
    /// (24 rows, 48 bytes of f16 straddling lines, was ~15% slower for GPT-2's 2304-column c_attn).
    static func bandRows(cols: Int) -> Int {
        [32, 16].first { $0 * cols * 4 <= 256 << 10 } ?? 8
    }
}
