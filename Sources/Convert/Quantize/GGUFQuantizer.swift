#if canImport(Glibc)
import Glibc
#endif
import Formats

/// Runs a `QuantizePlan` the way llama-quantize does: tensors in llama.cpp's order, unchanged tensors
/// copied byte for byte, converted tensors widened to f32 (exactly, for F16/BF16), checked for NaN/Inf,
/// quantized with the reference codecs, written one at a time (peak memory: one tensor) to a temporary
/// file renamed into place at the end.
public enum GGUFQuantizer {
    public enum Event {
        /// Printed while planning, before any tensor: a row length forced another type.
        case fallback(tensor: String, columns: Int, wanted: DType, used: DType)
        /// One tensor done: `to` is nil when it was copied unchanged.
        case tensor(index: Int, count: Int, name: String, ne: [UInt64], from: DType, to: DType?,
                    inBytes: Int, outBytes: Int)
    }

    public struct Summary: Sendable {
        public var inputBytes = 0
        public var outputBytes = 0
        public var elementCount = 0
        public var fallbacks = 0
        public var tensorCount = 0
    }

    /// Keys llama.cpp sets anew (moved to the end) or drops.
    static let replacedKeys: Set<String> = [GGUFKeys.quantizationVersion, GGUFKeys.fileType,
                                            "split.no", "split.count", "split.tensors.count"]
    /// GGML_QNT_VERSION.
    public static let quantizationVersion: UInt32 = 2

    @discardableResult
    public static func run(input: String, output: String, options: QuantizeOptions, overwrite: Bool = false,
                           dryRun: Bool = false, report: (Event) -> Void) throws(ConvertError) -> Summary {
        let gguf: GGUFFile
        do { gguf = try GGUFFile(file: MappedFile(path: input, populate: !dryRun)) } catch { throw .format(error) }
        if !dryRun, let a = realpath(input, nil) {
            defer { free(a) }
            if let b = realpath(output, nil) {
                defer { free(b) }
                if strcmp(a, b) == 0 { throw .sameInputAndOutput(path: output) }
            }
        }
        let plan = try QuantizePlan(gguf, options: options)
        if let (matrix, path) = options.imatrix, !matrix.entries.isEmpty {
            // llama-quantize skips entries it does not find; an imatrix none of whose names is a tensor here was
            // made for another model, and quantizing "with" it would silently be quantizing without.
            let names = Set(plan.entries.map(\.info.name))
            if !matrix.entries.keys.contains(where: names.contains) {
                throw .invalidImatrix(path: path, reason: "no entry names a tensor of '\(input)' (first: '\(matrix.entries.keys.sorted()[0])'): made for another model?")
            }
        }
        // tensor_requires_imatrix: the lowest-bit i-quants (and Q2_K in Q2_K_S) only with a matrix entry.
        if !dryRun {
            for entry in plan.entries where entry.converts && QuantizePlan.requiresImatrix(entry, fileType: options.fileType) {
                guard let (matrix, _) = options.imatrix, matrix.entries[entry.info.name] != nil else {
                    throw .imatrixRequired(tensor: entry.info.name, dtype: entry.target.ggmlName)
                }
            }
        }
        for entry in plan.entries {
            if let f = entry.fallback {
                report(.fallback(tensor: entry.info.name, columns: Int(entry.info.ne[0]), wanted: f.wanted, used: f.used))
            }
        }
        var metadata = gguf.metadata.filter { !replacedKeys.contains($0.key) }.map { ($0.key, $0.value) }
        metadata.append((GGUFKeys.quantizationVersion, .uint32(quantizationVersion)))
        metadata.append((GGUFKeys.fileType, .uint32(plan.fileTypeID)))
        if let (matrix, path) = options.imatrix {
            // llama-quantize's overrides, in its order (strings cut at 127 bytes as its fixed buffers do).
            var keys: [(String, GGUFValue)] = [("quantize.imatrix.file", .string(String(decoding: Array(path.utf8.prefix(127)), as: UTF8.self)))]
            if let first = matrix.datasets.first {
                keys.append(("quantize.imatrix.dataset", .string(String(decoding: Array(first.utf8.prefix(127)), as: UTF8.self))))
            }
            keys.append(("quantize.imatrix.entries_count", .uint32(UInt32(matrix.entries.count))))
            if matrix.chunkCount > 0 { keys.append(("quantize.imatrix.chunks_count", .uint32(UInt32(matrix.chunkCount)))) }
            let names = Set(keys.map(\.0))
            metadata = metadata.filter { !names.contains($0.0) } + keys
        }
        let writer = GGUFWriter(metadata: metadata.map { (key: $0.0, value: $0.1) })
        let descriptors = plan.entries.map { entry -> GGUFWriter.TensorDescriptor in
            let ne = entry.info.ne.prefix(QuantizePlan.dims(entry.info))
            let rows = Int(entry.info.elementCount) / entry.target.blockSize
            return GGUFWriter.TensorDescriptor(name: entry.info.name, dtype: entry.target,
                                               shape: ne.reversed().map { Int($0) }, byteCount: rows * entry.target.bytesPerBlock)
        }
        var summary = Summary(tensorCount: plan.entries.count)
        summary.fallbacks = plan.fallbackCount
        for (i, entry) in plan.entries.enumerated() {
            summary.inputBytes += Int(entry.info.byteCount)
            summary.outputBytes += descriptors[i].byteCount
            summary.elementCount += Int(entry.info.elementCount)
        }
        if dryRun {
            for (i, entry) in plan.entries.enumerated() {
                report(.tensor(index: i + 1, count: plan.entries.count, name: entry.info.name, ne: entry.info.ne,
                               from: entry.info.dtype, to: entry.converts ? entry.target : nil,
                               inBytes: Int(entry.info.byteCount), outBytes: descriptors[i].byteCount))
            }
            return summary
        }
        var failure: ConvertError?
        do throws(FormatError) {
            try writer.write(to: output, overwrite: overwrite, descriptors: descriptors) { (i) throws(FormatError) -> ByteView in
                let entry = plan.entries[i]
                do throws(ConvertError) {
                    let bytes = try convert(entry, in: gguf, options: options)
                    report(.tensor(index: i + 1, count: plan.entries.count, name: entry.info.name, ne: entry.info.ne,
                                   from: entry.info.dtype, to: entry.converts ? entry.target : nil,
                                   inBytes: Int(entry.info.byteCount), outBytes: bytes.count))
                    return bytes
                } catch {
                    failure = error
                    // Abort the write; the temporary file is removed, nothing appears under the final name.
                    throw .io(path: output, reason: "aborted")
                }
            }
        } catch {
            throw failure ?? .format(error)
        }
        return summary
    }

    /// One tensor's output bytes.
    static func convert(_ entry: QuantizePlan.Entry, in gguf: GGUFFile, options: QuantizeOptions) throws(ConvertError) -> ByteView {
        let tensor = gguf.tensor(entry.info)
        let isFloat = DType.weightFloats.contains(tensor.dtype)
        if entry.converts && tensor.dtype.isQuantized && !options.allowRequantize {
            throw .requantizeDisabled(path: gguf.path, tensor: tensor.name, dtype: tensor.dtype.ggmlName)
        }
        guard entry.converts || isFloat else { return tensor.data }
        do {
            return try FloatRows.withFloats(tensor, path: gguf.path, threads: options.threads) { values throws -> ByteView in
                if let bad = FloatRows.firstNonFinite(values) {
                    throw ConvertError.nonFinite(path: gguf.path, tensor: tensor.name, element: bad,
                                                 value: values[bad].isNaN ? "nan" : "inf")
                }
                guard entry.converts else { return tensor.data }
                if let weights = try columnWeights(entry, options: options, path: gguf.path) {
                    return ByteView(owned: try weighted(values, weights, entry, path: gguf.path, threads: options.threads))
                }
                guard let encoded = Quantization.quantize(values, as: entry.target, threads: options.threads) else {
                    throw ConvertError.format(.unsupportedType(
                        path: gguf.path, tensor: tensor.name, dtype: entry.target.name,
                        reason: "ckpt quantizes to F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K to Q6_K"))
                }
                return ByteView(owned: encoded)
            }
        } catch let error as ConvertError {
            throw error
        } catch let error as FormatError {
            throw .format(error)
        } catch {
            throw .unsupportedInput(path: gguf.path, reason: "\(error)")
        }
    }
}
