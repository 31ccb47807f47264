import Foundation
import Formats
import Model
import Testing
import TestSupport

/// Config decoding from HF config.json (transformers' keys and defaults, formats.md §9) and from GGUF keys.
@Suite struct TransformerConfigTests {
    func hf(_ text: String) throws -> TransformerConfig {
        try TransformerConfig(huggingFace: JSONParser.parse(Array(text.utf8)), path: "config.json")
    }

    /// SmolLM2-135M-Instruct's config.json values (GQA 9/3, tied, rope 1e5).
    @Test func llamaWithGQAAndTiedEmbeddings() throws {
        let c = try hf(#"{"architectures": ["LlamaForCausalLM"], "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "rope_theta": 100000, "tie_word_embeddings": true, "vocab_size": 49152}"#)
        #expect(c.family == .llama && c.headCount == 9 && c.kvHeadCount == 3 && c.headDim == 64)
        #expect(c.position == .rope(RotaryEmbedding(layout: .adjacentPairs, dimensions: 64, theta: 100_000)))
        #expect(c.norm == .rmsNorm(epsilon: 1e-5) && c.mlp == .swiglu)
        #expect(c.tiedEmbeddings && !c.qkvBias && !c.outputBias && c.queryWidth == 576 && c.kvWidth == 192)
        let slots = TensorNames.expected(c)
        #expect(slots.count == 2 + 30 * 9)  // token_embd, output_norm; 9 per layer; no output.weight (tied)
    }

    /// transformers v5 moves rope_theta into rope_parameters; head_dim may be explicit; defaults apply.
    @Test func llamaRopeParametersAndDefaults() throws {
        let c = try hf(#"{"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "head_dim": 32, "max_position_embeddings": 128, "vocab_size": 100, "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}, "attention_bias": true, "num_key_value_heads": null}"#)
        #expect(c.position == .rope(RotaryEmbedding(layout: .adjacentPairs, dimensions: 32, theta: 500_000)))
        #expect(c.headDim == 32 && c.kvHeadCount == 4)
        #expect(c.norm == .rmsNorm(epsilon: 1e-6) && c.qkvBias && c.outputBias && !c.tiedEmbeddings)
        #expect(TensorNames.expected(c).contains { $0.slot == .attnQBias })
        #expect(TensorNames.expected(c).contains { $0.slot == .output })
    }

    /// Hub GPT-2 configs: n_positions (n_ctx as fallback), n_inner null -> 4·n_embd, tied.
    @Test func gpt2() throws {
        let c = try hf(#"{"architectures": ["GPT2LMHeadModel"], "n_embd": 768, "n_head": 12, "n_layer": 12, "n_ctx": 1024, "n_inner": null, "vocab_size": 50257, "layer_norm_epsilon": 1e-05}"#)
        #expect(c.family == .gpt2 && c.contextLength == 1024 && c.feedForwardSize == 3072 && c.headDim == 64)
        #expect(c.position == .learned && c.norm == .layerNorm(epsilon: 1e-5) && c.mlp == .gelu && c.tiedEmbeddings)
        let slots = TensorNames.expected(c).map(\.slot)
        #expect(slots.contains(.positionEmbedding) && slots.contains(.attnQKV) && !slots.contains(.attnQ) && !slots.contains(.output))
    }

    @Test func refusals() throws {
        #expect(throws: ModelError.unsupportedArchitecture(path: "config.json", found: "MambaForCausalLM",
                                                           supported: TransformerConfig.supportedHuggingFaceArchitectures)) {
            try hf(#"{"architectures": ["MambaForCausalLM"]}"#)
        }
        #expect(throws: ModelError.missingKey(path: "config.json", key: "hidden_size")) {
            try hf(#"{"architectures": ["LlamaForCausalLM"], "vocab_size": 10}"#)
        }
        #expect(throws: ModelError.invalidValue(path: "config.json", key: "kv head count", reason: "3 must divide the head count 4")) {
            try hf(#"{"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 3, "max_position_embeddings": 128, "vocab_size": 100}"#)
        }
        #expect(throws: ModelError.invalidValue(path: "config.json", key: "hidden_size", reason: "must be a non-negative integer")) {
            try hf(#"{"architectures": ["LlamaForCausalLM"], "hidden_size": -64}"#)
        }
    }

    /// The GGUF keys llama.cpp writes for SmolLM2 give the same config as its config.json.
    @Test func fromGGUFKeys() throws {
        let path = Scratch.path("config.gguf")
        let norm = RawTensor(name: "output_norm.weight", dtype: .f32, shape: [576], data: ByteView(owned: [UInt8](repeating: 0, count: 576 * 4)))
        try GGUFWriter(metadata: [
            ("general.architecture", .string("llama")), ("llama.block_count", .uint32(30)),
            ("llama.context_length", .uint32(8192)), ("llama.embedding_length", .uint32(576)),
            ("llama.feed_forward_length", .uint32(1536)), ("llama.attention.head_count", .uint32(9)),
            ("llama.attention.head_count_kv", .uint32(3)), ("llama.rope.freq_base", .float32(100_000)),
            ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)), ("llama.vocab_size", .uint32(49152)),
            ("llama.rope.dimension_count", .uint32(64)),
        ], tensors: [norm]).write(to: path)
        let c = try TransformerConfig(gguf: GGUFFile(path: path))
        let reference = try hf(#"{"architectures": ["LlamaForCausalLM"], "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "rope_theta": 100000, "tie_word_embeddings": true, "vocab_size": 49152}"#)
        #expect(c == reference)
    }
}
