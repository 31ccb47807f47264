import Formats
import Testing

/// Truncating or bit-flipping a valid file anywhere gives a thrown FormatError or a file that still
/// parses; never a crash, a hang or a giant allocation. Parsed survivors are read fully (metadata arrays
/// decoded, every tensor view touched) to catch bad views.
@Suite struct CorruptionTests {
    static func exercise(_ bytes: [UInt8], format: String, folder: String, name: String) throws {
        let path = folder + "/" + name
        try Fixtures.writeFile(path, bytes)
        do {
            if format == "gguf" {
                let gguf = try GGUFFile(path: path)
                for entry in gguf.metadata { if case .array(let a) = entry.value { _ = try a.values() } }
                for info in gguf.tensorInfos { _ = gguf.tensor(info).data.array.count }
            } else {
                let st = try SafetensorsFile(path: path)
                for tensor in st.tensors { _ = tensor.data.array.count }
            }
            _ = try CheckpointSummary.read(path, arrayLimit: nil)
        } catch {
            // Any FormatError is an acceptable outcome; the test is that we get here at all.
            #expect(!error.description.isEmpty)
        }
    }

    @Test(arguments: [("gguf/all_types.gguf", "gguf"), ("safetensors/all_dtypes.safetensors", "safetensors"),
                      ("gguf/align64.gguf", "gguf"), ("safetensors/with_metadata.safetensors", "safetensors")])
    func everyTruncation(_ file: String, _ format: String) throws {
        let original = try Fixtures.bytes(file)
        let folder = try Fixtures.temporaryFolder()
        // Every prefix through the headers, then every 13th one through the data.
        var lengths = Array(0..<min(original.count, 3000))
        lengths += stride(from: 3000, to: original.count, by: 13)
        for n in lengths {
            try Self.exercise(Array(original.prefix(n)), format: format, folder: folder, name: "cut-\(n)")
        }
    }

    @Test(arguments: [("gguf/all_types.gguf", "gguf"), ("safetensors/all_dtypes.safetensors", "safetensors")])
    func bitFlips(_ file: String, _ format: String) throws {
        let original = try Fixtures.bytes(file)
        let folder = try Fixtures.temporaryFolder()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        // Each header byte once with a random bit, then random bytes anywhere with several flips.
        let header = min(original.count, 3000)
        for i in 0..<header {
            var bytes = original
            bytes[i] ^= UInt8(1 << (next() % 8))
            try Self.exercise(bytes, format: format, folder: folder, name: "flip-\(i)")
        }
        for k in 0..<300 {
            var bytes = original
            for _ in 0..<4 { bytes[Int(next() % UInt64(header))] ^= UInt8(truncatingIfNeeded: next() | 1) }
            try Self.exercise(bytes, format: format, folder: folder, name: "multi-\(k)")
        }
    }
}
