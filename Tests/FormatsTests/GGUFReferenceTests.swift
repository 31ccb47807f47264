import Formats
import Testing

/// Files written by gguf-py's GGUFWriter, read by us and compared with gguf-py's GGUFReader view in
/// `<file>.expected.json`; then written back by our GGUFWriter and compared byte for byte.
@Suite struct GGUFReferenceTests {
    static let files = ["all_types", "align64", "align8", "no_tensors", "v2"]

    @Test(arguments: files)
    func readsLikeGGUFPy(_ name: String) throws {
        let rel = "gguf/\(name).gguf"
        let gguf = try GGUFFile(path: Fixtures.path(rel))
        let expected = try Fixtures.json(rel + ".expected.json")
        #expect(UInt64(gguf.version) == expected["version"]?.uint64Value)
        #expect(UInt64(gguf.alignment) == expected["alignment"]?.uint64Value)
        if !gguf.tensorInfos.isEmpty { #expect(UInt64(gguf.dataOffset) == expected["data_offset"]?.uint64Value) }
        let metadata = try #require(expected["metadata"]?.arrayValue)
        #expect(gguf.metadata.count == metadata.count)
        for (entry, want) in zip(gguf.metadata, metadata) {
            #expect(entry.key == want["key"]?.stringValue)
            #expect(entry.value.type.name == want["type"]?.stringValue, "\(entry.key)")
            try expectValue(entry.value, equals: want, key: entry.key)
        }
        let tensors = try #require(expected["tensors"]?.arrayValue)
        #expect(gguf.tensorInfos.count == tensors.count)
        for (info, want) in zip(gguf.tensorInfos, tensors) {
            #expect(info.name == want["name"]?.stringValue)
            #expect(info.dtype.name == want["type"]?.stringValue, "\(info.name)")
            #expect(UInt64(info.dtype.ggmlID ?? 999) == want["type_id"]?.uint64Value)
            #expect(info.shape.map { UInt64($0) } == want["shape"]?.arrayValue?.compactMap(\.uint64Value), "\(info.name)")
            #expect(info.ne == want["ne"]?.arrayValue?.compactMap(\.uint64Value))
            #expect(info.offset == want["offset"]?.uint64Value)
            #expect(info.byteCount == want["n_bytes"]?.uint64Value, "\(info.name)")
            let tensor = gguf.tensor(info)
            #expect(SHA256Digest.hex(tensor.data.array) == want["sha256"]?.stringValue, "\(info.name)")
            if let bits = want["values_f32_bits"]?.arrayValue?.compactMap(\.uint64Value) {
                let decoded = try #require(tensor.data.withUnsafeBytes { ElementCodec.decode($0, as: info.dtype) })
                #expect(decoded.map { UInt64($0.bitPattern) } == bits, "\(info.name)")
            }
        }
    }

    /// Scalars compare exactly (floats by bit pattern when the golden gives `bits`); arrays element-wise.
    func expectValue(_ value: GGUFValue, equals want: JSONValue, key: String) throws {
        if case .array(let array) = value {
            #expect(array.elementType.name == want["element_type"]?.stringValue, "\(key)")
            let values = try array.values()
            if let bits = want["bits"]?.arrayValue?.compactMap(\.uint64Value) {
                #expect(values.map(floatBits) == bits, "\(key)")
            } else {
                let items = try #require(want["value"]?.arrayValue)
                #expect(values.count == items.count, "\(key)")
                for (v, w) in zip(values, items) { expectScalar(v, w, key) }
            }
        } else if let bits = want["bits"]?.uint64Value {
            #expect(floatBits(value) == bits, "\(key)")
        } else {
            expectScalar(value, try #require(want["value"]), key)
        }
    }

    func floatBits(_ value: GGUFValue) -> UInt64? {
        switch value {
        case .float32(let f): UInt64(f.bitPattern)
        case .float64(let d): d.bitPattern
        default: nil
        }
    }

    func expectScalar(_ value: GGUFValue, _ want: JSONValue, _ key: String) {
        switch value {
        case .string(let s): #expect(s == want.stringValue, "\(key)")
        case .bool(let b): #expect(b == want.boolValue, "\(key)")
        case .uint64(let u): #expect(u == want.uint64Value, "\(key)")
        default: #expect(value.integerValue == want.int64Value, "\(key)")
        }
    }

    @Test(arguments: ["all_types", "align64", "align8", "no_tensors"])
    func writerIsByteIdentical(_ name: String) throws {
        let rel = "gguf/\(name).gguf"
        let gguf = try GGUFFile(path: Fixtures.path(rel))
        let writer = GGUFWriter(metadata: gguf.metadata.map { ($0.key, $0.value) },
                                tensors: gguf.tensorInfos.map(gguf.tensor))
        let out = try Fixtures.temporaryFolder() + "/out.gguf"
        try writer.write(to: out)
        #expect(try Fixtures.readFile(out) == Fixtures.bytes(rel))
    }

    /// The writer from values built in memory (not views of a read file) gives gguf-py's bytes too.
    @Test func writerFromBuiltValues() throws {
        let gguf = try GGUFFile(path: Fixtures.path("gguf/all_types.gguf"))
        let rebuilt: [(key: String, value: GGUFValue)] = try gguf.metadata.map { entry in
            if case .array(let a) = entry.value { return (entry.key, .array(GGUFArray(a.elementType, try a.values()))) }
            return (entry.key, entry.value)
        }
        let tensors = gguf.tensorInfos.map { info in
            let t = gguf.tensor(info)
            return RawTensor(name: t.name, dtype: t.dtype, shape: t.shape, data: ByteView(owned: t.data.array))
        }
        let out = try Fixtures.temporaryFolder() + "/built.gguf"
        try GGUFWriter(metadata: rebuilt, tensors: tensors).write(to: out)
        #expect(try Fixtures.readFile(out) == Fixtures.bytes("gguf/all_types.gguf"))
    }

    @Test func refusesToOverwrite() throws {
        let out = try Fixtures.temporaryFolder() + "/exists.gguf"
        try Fixtures.writeFile(out, [1, 2, 3])
        let error = formatError { try GGUFWriter().write(to: out) }
        #expect(error?.kind == "io")
        #expect(try Fixtures.readFile(out) == [1, 2, 3])
    }
}
