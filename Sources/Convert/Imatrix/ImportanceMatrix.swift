import Formats
import Foundation

/// An importance matrix as llama-imatrix writes it (tools/imatrix/imatrix.cpp) and llama-quantize reads it
/// (common/imatrix-loader.cpp): per weight W [out, in] used as W·x, the per-column sums Σ x_j² over every row x
/// it multiplied (`sums`, in × matrices; one matrix for dense weights) and the number of those rows per matrix
/// (`counts`). The quantizer weighs column j by sums[j] / count.
/// GGUF form: general.type "imatrix", imatrix.datasets (strings), imatrix.chunk_count and imatrix.chunk_size
/// (u32), then per weight, in sorted name order, `<name>.in_sum2` F32 [matrices, in] and `<name>.counts` F32
/// [matrices, 1] (numpy order; [in] and [1] for a dense weight, as ggml drops trailing 1s). Legacy `.dat` form (read only): i32 entry count; per entry i32 name length, the name, i32
/// ncall, i32 nval, nval f32 values = (sum / count) · ncall; then optionally i32 chunk count, i32 length and the
/// dataset name.
public struct ImportanceMatrix: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var sums: [Float]
        public var counts: [Float]
        public init(sums: [Float], counts: [Float]) {
            self.sums = sums
            self.counts = counts
        }
        /// Columns of one matrix.
        public var columns: Int { counts.isEmpty ? 0 : sums.count / counts.count }
    }

    public var entries: [String: Entry]
    public var datasets: [String]
    public var chunkCount: Int
    public var chunkSize: Int
    /// Read from a legacy `.dat` file: `counts` hold ncall and `sums` the averaged values times ncall.
    public var isLegacy = false

    public init(entries: [String: Entry] = [:], datasets: [String] = [], chunkCount: Int = 0, chunkSize: Int = 0) {
        self.entries = entries
        self.datasets = datasets
        self.chunkCount = chunkCount
        self.chunkSize = chunkSize
    }

    static let sumsSuffix = ".in_sum2", countsSuffix = ".counts"

    /// The per-column weights llama-quantize gives the codecs for `name` (sums / count; 1 where a matrix saw
    /// no row; legacy: values / ncall), nil without an entry.
    public func columnWeights(_ name: String) -> [Float]? {
        guard let e = entries[name], !e.counts.isEmpty else { return nil }
        if isLegacy {
            let ncall = e.counts[0]
            return ncall > 0 ? e.sums.map { $0 / ncall } : e.sums
        }
        let n = e.columns
        var out = [Float](repeating: 1, count: e.sums.count)
        for (m, count) in e.counts.enumerated() where count > 0 {
            for i in 0..<n { out[m * n + i] = e.sums[m * n + i] / count }
        }
        return out
    }

    /// llama-quantize's --exclude-weights then --include-weights: entries whose name contains an excluded
    /// string are dropped, then (when any is given) only those containing an included string are kept.
    public func filtered(include: [String], exclude: [String]) -> ImportanceMatrix {
        var m = self
        m.entries = entries.filter { entry in
            !exclude.contains { entry.key.contains($0) } && (include.isEmpty || include.contains { entry.key.contains($0) })
        }
        return m
    }

    /// Writes the GGUF form atomically.
    public func write(to path: String, overwrite: Bool) throws(ConvertError) {
        let metadata: [(key: String, value: GGUFValue)] = [
            (GGUFKeys.type, .string("imatrix")),
            ("imatrix.datasets", .array(.strings(datasets))),
            ("imatrix.chunk_count", .uint32(UInt32(clamping: chunkCount))),
            ("imatrix.chunk_size", .uint32(UInt32(clamping: chunkSize))),
        ]
        var tensors: [RawTensor] = []
        for name in entries.keys.sorted() {
            let e = entries[name]!
            guard !e.sums.isEmpty, !e.counts.isEmpty else { continue }
            // ggml writes n_dims without trailing 1s: a dense entry is [in] and [1], experts [n, in] and [n, 1].
            let dense = e.counts.count == 1
            for (suffix, values, shape) in [(Self.sumsSuffix, e.sums, dense ? [e.columns] : [e.counts.count, e.columns]),
                                            (Self.countsSuffix, e.counts, dense ? [1] : [e.counts.count, 1])] {
                tensors.append(RawTensor(name: name + suffix, dtype: .f32, shape: shape,
                                         data: ByteView(owned: values.withUnsafeBytes { Array($0) })))
            }
        }
        do { try GGUFWriter(metadata: metadata, tensors: tensors).write(to: path, overwrite: overwrite) } catch { throw .format(error) }
    }

    /// Reads either form (GGUF by its magic, else legacy), checking every value is finite and non-negative.
    public static func read(path: String) throws(ConvertError) -> ImportanceMatrix {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .format(error) }
        let matrix = file.bytes.count >= 4 && Array(file.bytes[0..<4]) == GGUFKeys.magic
            ? try readGGUF(file) : try readLegacy(file)
        for name in matrix.entries.keys.sorted() {
            let e = matrix.entries[name]!
            if let i = e.sums.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                throw .invalidImatrix(path: path, reason: "'\(name)' has \(e.sums[i]) at column \(i % max(1, e.columns))")
            }
            if let c = e.counts.first(where: { !$0.isFinite || $0 < 0 }) {
                throw .invalidImatrix(path: path, reason: "'\(name)' has a count of \(c)")
            }
        }
        return matrix
    }

    static func readGGUF(_ file: MappedFile) throws(ConvertError) -> ImportanceMatrix {
        let gguf: GGUFFile
        do { gguf = try GGUFFile(file: file) } catch { throw .format(error) }
        let path = file.path
        guard gguf[GGUFKeys.type]?.stringValue == "imatrix" else {
            throw .invalidImatrix(path: path, reason: "general.type is \(gguf[GGUFKeys.type]?.stringValue.map { "'\($0)'" } ?? "missing"), not 'imatrix'")
        }
        var m = ImportanceMatrix()
        m.datasets = ((try? gguf["imatrix.datasets"]?.arrayValue?.stringValues()) ?? nil) ?? []
        m.chunkCount = Int(gguf["imatrix.chunk_count"]?.integerValue ?? 0)
        m.chunkSize = Int(gguf["imatrix.chunk_size"]?.integerValue ?? 0)
        var halves: [String: (sums: GGUFFile.TensorInfo?, counts: GGUFFile.TensorInfo?)] = [:]
        for info in gguf.tensorInfos {
            if info.name.hasSuffix(sumsSuffix) {
                halves[String(info.name.dropLast(sumsSuffix.count)), default: (nil, nil)].sums = info
            } else if info.name.hasSuffix(countsSuffix) {
                halves[String(info.name.dropLast(countsSuffix.count)), default: (nil, nil)].counts = info
            }
        }
        for (name, pair) in halves {
            guard let s = pair.sums, let c = pair.counts else {
                throw .invalidImatrix(path: path, reason: "'\(name)' has \(pair.sums == nil ? "counts without in_sum2" : "in_sum2 without counts")")
            }
            guard s.dtype == .f32, c.dtype == .f32 else { throw .invalidImatrix(path: path, reason: "'\(name)': in_sum2 and counts must be F32") }
            let matrices = Int(c.elementCount)
            guard matrices > 0, Int(s.elementCount) % matrices == 0 else {
                throw .invalidImatrix(path: path, reason: "'\(name)': \(s.elementCount) sums are not whole rows of \(matrices) matrices")
            }
            func floats(_ info: GGUFFile.TensorInfo) -> [Float] {
                gguf.tensor(info).data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            }
            m.entries[name] = Entry(sums: floats(s), counts: floats(c).map { Float(lroundf($0)) })
        }
        return m
    }

    static func readLegacy(_ file: MappedFile) throws(ConvertError) -> ImportanceMatrix {
        var reader = ByteReader(file)
        var m = ImportanceMatrix()
        m.isLegacy = true
        // Shapes the file cannot have are one-line errors with their offset; a short file is FormatError.truncated.
        func bad(_ reason: String) -> ConvertError { .invalidImatrix(path: file.path, reason: reason + " (offset \(reader.offset))") }
        do {
            let n = try reader.read(Int32.self, "entry count")
            guard n > 0 else { throw bad("no entry (count \(n))") }
            for i in 0..<Int(n) {
                let length = try reader.read(Int32.self, "name length of entry \(i)")
                guard length > 0, length < 1 << 16 else { throw bad("entry \(i) has a name of \(length) bytes") }
                let name = try reader.readUTF8(UInt64(length), "name of entry \(i)")
                let ncall = try reader.read(Int32.self, "ncall of '\(name)'")
                let nval = try reader.read(Int32.self, "value count of '\(name)'")
                guard nval > 0 else { throw bad("'\(name)' has \(nval) values") }
                try reader.require(UInt64(nval) * 4, "values of '\(name)'")
                var sums: [Float] = []
                sums.reserveCapacity(Int(nval))
                for _ in 0..<Int(nval) { sums.append(try reader.readFloat("a value of '\(name)'")) }
                m.entries[name] = Entry(sums: sums, counts: [Float(ncall)])
            }
            if reader.remaining >= 4 {
                m.chunkCount = Int(try reader.read(Int32.self, "chunk count"))
                if reader.remaining >= 4 {
                    let length = try reader.read(Int32.self, "dataset name length")
                    if length > 0, Int(length) <= reader.remaining {
                        m.datasets = [try reader.readUTF8(UInt64(length), "dataset name")]
                    }
                }
            }
        } catch let error as ConvertError {
            throw error
        } catch let error as FormatError {
            throw .format(error)
        } catch {
            throw .invalidImatrix(path: file.path, reason: "\(error)")
        }
        return m
    }
}
