import Formats
import Testing
import TestSupport

/// Writer rules that go beyond byte-identity with one reference file: HF sharding, tied tensors,
/// atomic writes.
@Suite struct WriterBehaviourTests {
    func tensor(_ name: String, _ count: Int, _ dtype: DType = .f32, fill: UInt8 = 1) -> RawTensor {
        RawTensor(name: name, dtype: dtype, shape: [count],
                  data: ByteView(owned: [UInt8](repeating: fill, count: count * dtype.bytesPerBlock)))
    }

    /// huggingface_hub: a new shard when the next tensor would pass the limit; an oversized tensor alone.
    @Test func shardPlanFollowsHuggingFace() {
        let tensors = [tensor("a", 10), tensor("b", 10), tensor("c", 40), tensor("d", 5), tensor("e", 5)]
        let plan = SafetensorsSharding.plan(tensors, maxShardSize: 100)
        #expect(plan.map { $0.map(\.name) } == [["a", "b"], ["c"], ["d", "e"]])
        #expect(SafetensorsSharding.shardName(1, of: 3) == "model-00002-of-00003.safetensors")
    }

    @Test func shardedWriteReadsBackAsOneMap() throws {
        let folder = try Fixtures.temporaryFolder()
        let tensors = (0..<5).map { tensor("layer.\($0).weight", 10 + $0, fill: UInt8($0)) }
        let names = try SafetensorsSharding.write(tensors, folder: folder, maxShardSize: 100)
        #expect(names.last == "model.safetensors.index.json")
        #expect(names.count == 4)
        let back = try ShardedSafetensors(indexPath: folder + "/model.safetensors.index.json")
        #expect(back.tensors.map(\.name) == tensors.map(\.name))
        #expect(back.tensors.map { $0.data.array } == tensors.map { $0.data.array })
        #expect(back.indexMetadata?["total_size"]?.uint64Value == UInt64(tensors.reduce(0) { $0 + $1.byteCount }))
    }

    /// Tied weights (same storage) are stored once under the first name; the alias goes to metadata,
    /// as safetensors' convert.py records it.
    @Test func tiedTensorsWrittenOnce() throws {
        let shared = ByteView(owned: [UInt8](repeating: 7, count: 16))
        let embed = RawTensor(name: "model.embed_tokens.weight", dtype: .f32, shape: [2, 2], data: shared)
        let head = RawTensor(name: "lm_head.weight", dtype: .f32, shape: [2, 2], data: shared)
        let other = tensor("norm.weight", 2)
        let out = try Fixtures.temporaryFolder() + "/tied.safetensors"
        try SafetensorsWriter.write([embed, head, other], to: out)
        let back = try SafetensorsFile(path: out)
        #expect(back.entries.map(\.name).sorted() == ["lm_head.weight", "norm.weight"])
        #expect(back.metadata?.first { $0.0 == "model.embed_tokens.weight" }?.1 == "lm_head.weight")
        #expect(back.metadata?.first?.0 == "format")
    }

    @Test func failedWriteLeavesNothing() throws {
        let folder = try Fixtures.temporaryFolder()
        let bad = RawTensor(name: "q", dtype: .q4_0, shape: [32], data: ByteView(owned: [UInt8](repeating: 0, count: 18)))
        let error = formatError { try SafetensorsWriter.write([bad], to: folder + "/x.safetensors") }
        #expect(error?.kind == "unencodable")
        let wrongSize = RawTensor(name: "t", dtype: .f32, shape: [3], data: ByteView(owned: [1, 2, 3]))
        #expect(formatError { try GGUFWriter(tensors: [wrongSize]).write(to: folder + "/x.gguf") }?.kind == "unencodable")
        let longName = tensor(String(repeating: "n", count: 64), 1)
        #expect(formatError { try GGUFWriter(tensors: [longName]).write(to: folder + "/y.gguf") }?.kind == "invalidTensorInfo")
        #expect(try FileList.entries(folder).isEmpty)
    }
}

import Foundation
enum FileList {
    static func entries(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder)
    }
}

/// A writer killed with -9 never removes its temporary file; the next write to the same output removes the
/// temporaries of processes that no longer run, and leaves those of running ones (a concurrent writer).
@Suite struct StaleTemporaryTests {
    @Test func deadWritersTemporariesAreRemoved() throws {
        let folder = Scratch.path("stale")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A process that has exited: its pid is free (reaped by waitUntilExit).
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let stale = folder + "/.out.gguf.tmp-\(dead)-AbCdEf", live = folder + "/.out.gguf.tmp-\(getpid())-GhIjKl"
        let other = folder + "/.other.gguf.tmp-\(dead)-MnOpQr"
        for path in [stale, live, other] { FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3])) }
        let out = try AtomicOutput(path: folder + "/out.gguf")
        try out.write([1, 2, 3, 4])
        try out.commit()
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live) && FileManager.default.fileExists(atPath: other))
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/out.gguf")) == Data([1, 2, 3, 4]))
    }
}
