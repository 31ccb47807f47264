/// A PyTorch `torch.save` state dict (pytorch_model.bin), read without executing its pickle: the zip
/// archive's data.pkl is interpreted by PickleMachine, and each tensor becomes a RawTensor that views its
/// storage entry (contiguous tensors, the usual case) or an owned copy gathered through its strides.
/// Legacy non-zip files and big-endian archives get a clear error.
public struct TorchCheckpoint: Sendable {
    public let path: String
    public let tensors: [RawTensor]

    public init(path: String) throws(FormatError) {
        self.path = path
        let file = try MappedFile(path: path)
        let head = Array(file.bytes.prefix(4))
        guard head == [0x50, 0x4B, 0x03, 0x04] else {
            if head.first == 0x80 {
                throw .unrecognizedFormat(path: path, reason: "a legacy (pre-1.6, non-zip) torch.save file; load and re-save it with torch.save to get the zip format")
            }
            throw .badMagic(path: path, found: head.map { String($0, radix: 16) }.joined(separator: " "))
        }
        let zip = try ZipArchive(file: file)
        guard let first = zip.entries.first, let slash = first.name.firstIndex(of: "/") else {
            throw .invalidArchive(path: path, entry: "", offset: 0, reason: "empty archive")
        }
        let prefix = String(first.name[...slash])
        if let order = zip.entry(named: prefix + "byteorder"),
           String(decoding: try zip.data(order).array, as: UTF8.self) == "big" {
            throw .bigEndian(path: path)
        }
        guard let pickleEntry = zip.entry(named: prefix + "data.pkl") else {
            throw .invalidArchive(path: path, entry: prefix + "data.pkl", offset: 0, reason: "missing")
        }
        let pickle = try zip.data(pickleEntry)
        let root: PickleMachine.PickleValue = try pickle.withUnsafeBytes { (raw) throws(FormatError) in
            var machine = PickleMachine(raw, path: path)
            return try machine.run()
        }
        guard case .dict(var dict) = root else {
            throw .invalidPickle(path: path, offset: 0, reason: "the pickled object is not a state dict")
        }
        // A checkpoint holding {"state_dict": {...}} is read as the inner dict.
        if dict.items.count == 1, case .string("state_dict") = dict.items[0].0, case .dict(let inner) = dict.items[0].1 { dict = inner }
        var tensors: [RawTensor] = []
        var storages: [String: ByteView] = [:]
        for (key, value) in dict.items {
            guard case .string(let name) = key else { continue }
            guard case .tensor(let t) = value else { continue }  // non-tensor entries (e.g. step counters) are skipped
            let entryName = prefix + "data/" + t.storage.key
            if storages[t.storage.key] == nil {
                guard let entry = zip.entry(named: entryName) else {
                    throw .invalidArchive(path: path, entry: entryName, offset: 0, reason: "tensor '\(name)' names a storage the archive lacks")
                }
                storages[t.storage.key] = try zip.data(entry)
            }
            tensors.append(try Self.tensor(name, t, storage: storages[t.storage.key]!, path: path))
        }
        self.tensors = tensors
    }

    /// The tensor's bytes: a view when its strides are row-major, else gathered element by element.
    static func tensor(_ name: String, _ t: PickleMachine.Tensor, storage: ByteView, path: String) throws(FormatError) -> RawTensor {
        let size = t.dtype.bytesPerBlock
        let count = t.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        // The furthest element the strides reach must lie inside the storage entry.
        var last = t.offset
        for (n, s) in zip(t.shape, t.strides) where n > 0 { last += (n - 1) * s }
        guard count < Int.max / max(size, 1), t.offset >= 0, count == 0 || (last + 1) * size <= storage.count else {
            throw .invalidOffsets(path: path, tensor: name, begin: UInt64(max(0, t.offset * size)), end: UInt64(max(0, last + 1) * size),
                                  expectedBegin: 0, offset: 0)
        }
        var contiguous = true, expected = 1
        for (n, s) in zip(t.shape, t.strides).reversed() where n > 1 {
            if s != expected { contiguous = false }
            expected *= n
        }
        if contiguous {
            let start = t.offset * size
            return RawTensor(name: name, dtype: t.dtype, shape: t.shape, data: storage.slice(start..<(start + count * size)))
        }
        var out = [UInt8](repeating: 0, count: count * size)
        storage.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                var index = [Int](repeating: 0, count: t.shape.count)
                for e in 0..<count {
                    var element = t.offset
                    for d in index.indices { element += index[d] * t.strides[d] }
                    dst.baseAddress!.advanced(by: e * size).copyMemory(from: src.baseAddress!.advanced(by: element * size), byteCount: size)
                    var d = index.count - 1
                    while d >= 0 {
                        index[d] += 1
                        if index[d] < t.shape[d] { break }
                        index[d] = 0
                        d -= 1
                    }
                }
            }
        }
        return RawTensor(name: name, dtype: t.dtype, shape: t.shape, data: ByteView(owned: out))
    }
}
