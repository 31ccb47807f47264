import Foundation
import Formats
import Testing

/// `ckpt inspect`'s summary: format detected by content, counts from headers, the JSON schema.
@Suite struct InspectTests {
    @Test func ggufSummaryAgreesWithTheGolden() throws {
        let s = try CheckpointSummary.read(Fixtures.path("gguf/all_types.gguf"))
        let expected = try Fixtures.json("gguf/all_types.gguf.expected.json")
        #expect(s.format == .gguf)
        #expect(s.version == 3)
        #expect(s.architecture == "llama")
        #expect(UInt64(s.tensorCount) == expected["tensor_count"]?.uint64Value)
        #expect(s.fileSize == expected["file_size"]?.uint64Value)
        let tensors = try #require(expected["tensors"]?.arrayValue)
        let params = tensors.reduce(UInt64(0)) { acc, t in
            acc + (t["shape"]?.arrayValue?.compactMap(\.uint64Value).reduce(1, *) ?? 0)
        }
        #expect(s.parameterCount == params)
        #expect(s.tensorBytes == tensors.reduce(UInt64(0)) { $0 + ($1["n_bytes"]?.uint64Value ?? 0) })
        #expect(s.dtypeStats.reduce(0) { $0 + $1.tensors } == s.tensorCount)
        // Arrays are abbreviated to the limit unless read in full.
        let short = try CheckpointSummary.read(Fixtures.path("gguf/all_types.gguf"), arrayLimit: 2)
        let long = short.metadata.filter { ($0.count ?? 0) > 2 }
        #expect(long.count >= 5)
        #expect(long.allSatisfy { $0.truncated && $0.value.arrayValue?.count == 2 })
        let full = try CheckpointSummary.read(Fixtures.path("gguf/all_types.gguf"), arrayLimit: nil)
        #expect(full.metadata.allSatisfy { !$0.truncated })
    }

    /// A GGUF named .safetensors and a safetensors named .gguf are still recognized by content.
    @Test func detectsByContentNotExtension() throws {
        let folder = try Fixtures.temporaryFolder()
        try Fixtures.writeFile(folder + "/looks.safetensors", Fixtures.bytes("gguf/align8.gguf"))
        try Fixtures.writeFile(folder + "/looks.gguf", Fixtures.bytes("safetensors/with_metadata.safetensors"))
        #expect(try CheckpointFormat.detect(folder + "/looks.safetensors") == .gguf)
        #expect(try CheckpointFormat.detect(folder + "/looks.gguf") == .safetensors)
        #expect(try CheckpointFormat.detect(Fixtures.path("safetensors/sharded/model.safetensors.index.json")) == .shardedSafetensors)
        try Fixtures.writeFile(folder + "/text.bin", Array("hello world, not a checkpoint".utf8))
        #expect(formatError { _ = try CheckpointFormat.detect(folder + "/text.bin") }?.kind == "unrecognizedFormat")
        #expect(formatError { _ = try CheckpointFormat.detect(folder) }?.kind == "unrecognizedFormat")
    }

    @Test func huggingFaceDirectory() throws {
        let folder = try Fixtures.temporaryFolder()
        for name in ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                     "model-00003-of-00003.safetensors", "model.safetensors.index.json"] {
            try Fixtures.writeFile(folder + "/" + name, Fixtures.bytes("safetensors/sharded/" + name))
        }
        try Fixtures.writeFile(folder + "/config.json", Array(#"{"architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2}"#.utf8))
        try Fixtures.writeFile(folder + "/tokenizer_config.json", Array(#"{"chat_template": "{{ x }}", "add_bos_token": false}"#.utf8))
        try Fixtures.writeFile(folder + "/tokenizer.json", Array(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}, "added_tokens": [{"id": 1}, {"id": 2}]}"#.utf8))
        let s = try CheckpointSummary.read(folder)
        #expect(s.format == .huggingFaceDirectory)
        #expect(s.architecture == "LlamaForCausalLM")
        #expect(s.files.count == 3)
        let expected = try Fixtures.json("safetensors/sharded/expected.json")
        #expect(s.tensors.map(\.name) == expected["tensors"]?.arrayValue?.compactMap { $0["name"]?.stringValue })
        #expect(s.chatTemplateLength == 7)
        #expect(s.tokenizer?.vocabSize == 3)
        #expect(s.tokenizer?.mergeCount == 1)
        #expect(s.tokenizer?.specialIDs.map(\.0) == ["bos", "eos"])
        #expect(s.tensors.allSatisfy { $0.file != nil })
    }

    /// The JSON schema's top-level keys and their order are part of the documented contract (README).
    @Test func jsonSchemaIsStable() throws {
        let s = try CheckpointSummary.read(Fixtures.path("gguf/align64.gguf"))
        let json = SummaryReport.json(s)
        #expect(json.objectValue?.map(\.0) == [
            "schema", "path", "format", "version", "architecture", "file_size", "files", "parameter_count",
            "tensor_count", "tensor_bytes", "bits_per_weight", "dtypes", "alignment", "data_offset", "tokenizer",
            "chat_template", "metadata", "tensors",
        ])
        #expect(json["schema"]?.stringValue == "ckpt.inspect/1")
        #expect(json["alignment"]?.uint64Value == 64)
        let text = JSONWriter.pretty(json)
        #expect(try JSONParser.parse(Array(text.utf8)) == json)
        let tensor = try #require(json["tensors"]?.arrayValue?.first)
        #expect(tensor.objectValue?.map(\.0) == ["name", "shape", "dtype", "offset", "bytes"])
    }

    @Test func textSummaryComesFirst() throws {
        let s = try CheckpointSummary.read(Fixtures.path("gguf/all_types.gguf"), arrayLimit: 2)
        let text = SummaryReport.text(s, showTensors: true)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "format        gguf v3")
        #expect(lines.contains { $0.hasPrefix("tensors (36)") })
        #expect(lines.contains { $0.contains("…") })
    }
}
