import Foundation
import Formats
import Model
import TestSupport

/// A tiny GGUF model for the command-line tests, made from the transformers checkpoint in
/// fixtures/hf/llama-gqa (weights through Model's HF loader, GGUF names from TensorNames) with its byte-level
/// BPE vocabulary and ChatML template from tokenizer.json / tokenizer_config.json. `edit` may change the
/// metadata or tensors to make bad inputs.
enum TinyModel {
    static let hf = CommandLineTests.root + "/fixtures/hf/llama-gqa/safetensors"

    static func write(to path: String, template: Bool = true,
                      edit: (inout [(key: String, value: GGUFValue)], inout [RawTensor]) -> Void = { _, _ in }) throws {
        let params = try ParameterSet.load(huggingFaceDirectory: hf)
        let c = params.config
        var tensors: [RawTensor] = params.keys.map { key in
            let (offset, shape) = params.layout[key]!
            let count = shape.reduce(1, *)
            let bytes = Array(UnsafeRawBufferPointer(start: params.storage.baseAddress! + offset, count: count * 4))
            return RawTensor(name: TensorNames.gguf(key.slot, layer: key.layer), dtype: .f32, shape: shape, data: ByteView(owned: bytes))
        }
        let tokenizer = try JSONFile.read(hf + "/tokenizer.json")
        let vocab = tokenizer["model"]?["vocab"]?.objectValue ?? []
        var tokens = [String](repeating: "", count: c.vocabSize)
        for (text, id) in vocab { tokens[Int(id.int64Value ?? 0)] = text }
        var types = [GGUFValue](repeating: .int32(1), count: c.vocabSize)
        for added in tokenizer["added_tokens"]?.arrayValue ?? [] {
            let id = Int(added["id"]?.int64Value ?? 0)
            tokens[id] = added["content"]?.stringValue ?? ""
            types[id] = .int32(3)
        }
        let merges = (tokenizer["model"]?["merges"]?.arrayValue ?? []).map { m -> GGUFValue in
            let parts = m.arrayValue?.compactMap(\.stringValue) ?? (m.stringValue.map { [$0] } ?? [])
            return .string(parts.joined(separator: " "))
        }
        var metadata: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string("llama")), ("llama.context_length", .uint32(UInt32(c.contextLength))),
            ("llama.embedding_length", .uint32(UInt32(c.embeddingSize))), ("llama.block_count", .uint32(UInt32(c.layerCount))),
            ("llama.feed_forward_length", .uint32(UInt32(c.feedForwardSize))),
            ("llama.attention.head_count", .uint32(UInt32(c.headCount))),
            ("llama.attention.head_count_kv", .uint32(UInt32(c.kvHeadCount))),
            ("llama.rope.freq_base", .float32(10_000)), ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt-2")),
            ("tokenizer.ggml.tokens", .array(GGUFArray(.string, tokens.map { .string($0) }))),
            ("tokenizer.ggml.token_type", .array(GGUFArray(.int32, types))),
            ("tokenizer.ggml.merges", .array(GGUFArray(.string, merges))),
            ("tokenizer.ggml.bos_token_id", .uint32(1)), ("tokenizer.ggml.eos_token_id", .uint32(2)),
        ]
        if template, let text = try JSONFile.read(hf + "/../../gpt2/safetensors/tokenizer_config.json")["chat_template"]?.stringValue {
            metadata.append(("tokenizer.chat_template", .string(text)))
        }
        edit(&metadata, &tensors)
        try GGUFWriter(metadata: metadata, tensors: tensors).write(to: path, overwrite: true)
    }

    /// The tiny model with token 7 renamed: the same sizes, another vocabulary (refused wherever one is shared).
    static func writeWithOtherVocabulary(to path: String) throws {
        try write(to: path) { metadata, _ in
            let i = metadata.firstIndex { $0.key == "tokenizer.ggml.tokens" }!
            if case .array(let a) = metadata[i].value, var tokens = try? a.stringValues() {
                tokens[7] = "changed"
                metadata[i].value = .array(.strings(tokens))
            }
        }
    }

    static func temporaryPath(_ name: String) -> String {
        Scratch.path("tools-\(name)")
    }
}
