import Formats
import Testing

/// Files written by the Python `safetensors` library (fixtures/make_formats.py), read by us and compared
/// with the reference reader's view in `<file>.expected.json`; then written back by our writer and
/// compared byte for byte.
@Suite struct SafetensorsReferenceTests {
    static let files = ["all_dtypes", "extra_dtypes", "with_metadata", "unpadded_header", "unsorted_keys"]
    /// Files the library wrote itself (the others are hand-packed variants it accepts).
    static let libraryWritten = ["all_dtypes", "extra_dtypes", "with_metadata"]

    @Test(arguments: files)
    func readsLikeTheReference(_ name: String) throws {
        let rel = "safetensors/\(name).safetensors"
        let file = try SafetensorsFile(path: Fixtures.path(rel))
        let expected = try Fixtures.json(rel + ".expected.json")
        #expect(file.headerSize == expected["header_size"]?.uint64Value)
        #expect(UInt64(file.dataStart) == expected["data_start"]?.uint64Value)
        if let meta = expected["metadata"]?.objectValue {
            #expect(file.metadata?.map(\.0) == meta.map(\.0))
            #expect(file.metadata?.map(\.1) == meta.map { $0.1.stringValue ?? "" })
        } else {
            #expect(file.metadata == nil)
        }
        let tensors = try #require(expected["tensors"]?.arrayValue)
        #expect(file.entries.count == tensors.count)
        for (entry, want) in zip(file.entries, tensors) {
            #expect(entry.name == want["name"]?.stringValue)
            #expect(entry.dtype.rawValue == want["dtype"]?.stringValue)
            #expect(entry.shape.map { UInt64($0) } == want["shape"]?.arrayValue?.compactMap(\.uint64Value))
            #expect([entry.begin, entry.end] == want["data_offsets"]?.arrayValue?.compactMap(\.uint64Value))
            #expect(SHA256Digest.hex(file.tensor(entry).data.array) == want["sha256"]?.stringValue, "\(entry.name)")
        }
    }

    @Test(arguments: libraryWritten)
    func writerIsByteIdentical(_ name: String) throws {
        let rel = "safetensors/\(name).safetensors"
        let file = try SafetensorsFile(path: Fixtures.path(rel))
        let folder = try Fixtures.temporaryFolder()
        let out = folder + "/out.safetensors"
        try SafetensorsWriter.write(file.tensors, to: out, metadata: file.metadata)
        #expect(try Fixtures.readFile(out) == Fixtures.bytes(rel))
    }

    /// Element decoding is bit-exact with numpy's widening (F16 NaN payloads and subnormals, BF16 `<< 16`,
    /// F32 signalling NaNs untouched); encoding the widened values gives back the stored bytes.
    @Test(arguments: files)
    func elementCodecsMatchNumpy(_ name: String) throws {
        let rel = "safetensors/\(name).safetensors"
        let file = try SafetensorsFile(path: Fixtures.path(rel))
        let expected = try #require(try Fixtures.json(rel + ".expected.json")["tensors"]?.arrayValue)
        for (entry, want) in zip(file.entries, expected) {
            let tensor = file.tensor(entry)
            if let bits = want["values_f32_bits"]?.arrayValue?.compactMap(\.uint64Value) {
                let decoded = try #require(tensor.data.withUnsafeBytes { ElementCodec.decode($0, as: entry.dtype) })
                #expect(decoded.map { UInt64($0.bitPattern) } == bits, "\(entry.name)")
                if decoded.allSatisfy({ !$0.isNaN }) || entry.dtype == .f32 {
                    #expect(ElementCodec.encode(decoded, as: entry.dtype) == tensor.data.array, "\(entry.name) re-encode")
                }
            }
            if let bits = want["values_f64_bits"]?.arrayValue?.compactMap(\.uint64Value) {
                let raw = tensor.data.array
                let doubles = (0..<raw.count / 8).map { i in
                    (0..<8).reduce(UInt64(0)) { $0 | UInt64(raw[i * 8 + $1]) << (8 * UInt64($1)) }
                }
                #expect(doubles == bits)
            }
        }
    }

    @Test func shardedCheckpointIsOneLogicalMap() throws {
        let sharded = try ShardedSafetensors(indexPath: Fixtures.path("safetensors/sharded/model.safetensors.index.json"))
        let expected = try Fixtures.json("safetensors/sharded/expected.json")
        let tensors = try #require(expected["tensors"]?.arrayValue)
        #expect(sharded.tensors.map(\.name) == tensors.compactMap { $0["name"]?.stringValue })
        for (tensor, want) in zip(sharded.tensors, tensors) {
            #expect(tensor.dtype.rawValue == want["dtype"]?.stringValue)
            #expect(tensor.shape.map { UInt64($0) } == want["shape"]?.arrayValue?.compactMap(\.uint64Value))
            #expect(SHA256Digest.hex(tensor.data.array) == want["sha256"]?.stringValue)
        }
        #expect(UInt64(sharded.totalSize) == expected["total_size"]?.uint64Value)
    }

    /// Our index text for the same shard assignment is byte-identical to HF's `json.dumps(indent=2, sort_keys=True)`.
    @Test func shardIndexIsByteIdentical() throws {
        let sharded = try ShardedSafetensors(indexPath: Fixtures.path("safetensors/sharded/model.safetensors.index.json"))
        let text = SafetensorsSharding.indexText(sharded.shards.map(\.tensors))
        #expect(Array(text.utf8) == (try Fixtures.bytes("safetensors/sharded/model.safetensors.index.json")))
    }

    @Test(arguments: [
        ("sharded_missing_shard", "missingShard"),
        ("sharded_missing_tensor", "tensorMissingFromShard"),
        ("sharded_unlisted", "tensorNotInIndex"),
    ])
    func shardProblemsAreNamed(_ folder: String, _ kind: String) throws {
        let error = formatError { _ = try ShardedSafetensors(indexPath: Fixtures.path("safetensors/\(folder)/model.safetensors.index.json")) }
        #expect(error?.kind == kind, "\(String(describing: error))")
    }
}
