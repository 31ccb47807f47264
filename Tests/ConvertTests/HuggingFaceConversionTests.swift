import Convert
import Foundation
import Formats
import Model
import Testing
import TestSupport

/// `ckpt convert` HF → GGUF against llama.cpp's own convert_hf_to_gguf.py (fixtures/make_convert.py): for
/// the three tiny models and four outtypes, the same metadata (keys in order, types, values) and the same
/// tensors (order, names, types, shapes, bytes); and GGUF → HF back again, bit for bit.
@Suite struct HuggingFaceConversionTests {
    static let fixtures = Repository.fixtures()
    static let expected = try? JSONFile.read(fixtures + "/convert/expected.json")

    static func temporary(_ name: String) -> String {
        Scratch.path("convert-\(name)")
    }

    /// Python's json.dumps (ensure_ascii=False) of a GGUF array, to compare with the golden's sha256.
    static func pythonJSON(_ values: [GGUFValue]) -> String {
        func string(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                default:
                    if u.value < 0x20 {
                        let hex = String(u.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else { out.unicodeScalars.append(u) }
                }
            }
            return out + "\""
        }
        let items = values.map { v -> String in
            switch v {
            case .string(let s): string(s)
            case .float32(let f): Double(f).description
            case .float64(let d): d.description
            case .bool(let b): b ? "true" : "false"
            default: v.integerValue.map(String.init) ?? "?"
            }
        }
        return "[" + items.joined(separator: ", ") + "]"
    }

    @Test(arguments: ["gpt2", "llama-gqa", "llama-tied"], ["f32", "f16", "bf16", "q8_0"])
    func matchesConvertHFToGGUF(_ model: String, outtype: String) throws {
        try compare(model: model, layout: "safetensors", key: "\(model)/\(outtype)", outtype: outtype)
    }

    /// PyTorch .bin checkpoints read by ckpt's own unpickler give llama.cpp's files too (state-dict order).
    @Test(arguments: [("gpt2", "bin"), ("llama-gqa", "bin"), ("llama-tied", "bin"), ("llama-tied", "bin-sharded")])
    func torchCheckpointsMatchConvertHFToGGUF(_ model: String, layout: String) throws {
        try compare(model: model, layout: layout, key: "\(model)@\(layout)/f32", outtype: "f32")
    }

    /// The tiny model of every family (fixtures/families, fixtures/make_families.py).
    static let families = ["llama3", "mistral", "qwen2", "qwen3", "gemma3", "phi3", "phi4", "phi3-longrope", "qwen2-yarn"]

    /// Every family of the registry (fixtures/families), same four outtypes.
    @Test(arguments: HuggingFaceConversionTests.families, ["f32", "f16", "bf16", "q8_0"])
    func familiesMatchConvertHFToGGUF(_ model: String, outtype: String) throws {
        try compare(model: model, input: Self.fixtures + "/families/\(model)", key: "families/\(model)/\(outtype)", outtype: outtype)
    }

    func compare(model: String, layout: String, key: String, outtype: String) throws {
        try compare(model: model, input: Self.fixtures + "/hf/\(model)/\(layout)", key: key, outtype: outtype)
    }

    func compare(model: String, input: String, key: String, outtype: String) throws {
        let golden = try #require(Self.expected?["models"]?[key])
        let out = Self.temporary("\(model).gguf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        _ = try HuggingFaceToGGUF.convert(input: input, output: out,
                                          outtype: try #require(ConvertOutType(rawValue: outtype)), overwrite: false)
        let gguf = try GGUFFile(path: out)
        let want = try #require(golden["metadata"]?.arrayValue)
        #expect(gguf.metadata.map(\.key) == want.compactMap { $0["key"]?.stringValue }, "\(model) \(outtype): key order")
        for (entry, kv) in zip(want, gguf.metadata) {
            let key = kv.key
            #expect(kv.value.type.name == entry["type"]?.stringValue, "\(key) type")
            switch kv.value {
            case .array(let a):
                let json = Self.pythonJSON(try a.values())
                #expect(Int(entry["count"]?.uint64Value ?? 0) == a.count && SHA256Digest.hex(Array(json.utf8)) == entry["sha256"]?.stringValue,
                        "\(model) \(outtype): \(key)")
            case .string(let s): #expect(s == entry["value"]?.stringValue, "\(key)")
            case .bool(let b): #expect(b == entry["value"]?.boolValue, "\(key)")
            case .float32(let f): #expect(Double(f) == entry["value"]?.doubleValue, "\(key)")
            default: #expect(kv.value.integerValue == entry["value"]?.int64Value, "\(key)")
            }
        }
        let tensors = try #require(golden["tensors"]?.arrayValue)
        #expect(gguf.tensorInfos.map(\.name) == tensors.compactMap { $0["name"]?.stringValue }, "\(model) \(outtype): tensor order")
        for (info, t) in zip(gguf.tensorInfos, tensors) {
            #expect(info.dtype.name == t["type"]?.stringValue && info.shape == (t["shape"]?.arrayValue ?? []).compactMap { $0.uint64Value }.map { Int($0) },
                    "\(info.name)")
            #expect(SHA256Digest.hex(gguf.tensor(info).data.array) == t["sha256"]?.stringValue, "\(model) \(outtype): \(info.name) bytes")
        }
    }

    @Test(arguments: ["gpt2", "llama-gqa", "llama-tied"], ["safetensors", "sharded"])
    func roundTripIsBitIdentical(_ model: String, layout: String) throws {
        let source = Self.fixtures + "/hf/\(model)/\(layout)"
        let gguf = Self.temporary("\(model).gguf"), back = Self.temporary("\(model)-hf")
        defer { for p in [gguf, back] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try HuggingFaceToGGUF.convert(input: source, output: gguf, outtype: .f32, overwrite: false)
        try GGUFToHuggingFace.convert(input: gguf, output: back, overwrite: false, maxShardSize: 40_000)
        let original = try HuggingFaceDirectory(path: source), copy = try HuggingFaceDirectory(path: back)
        let a = Dictionary(uniqueKeysWithValues: original.tensors.map { ($0.name, $0) })
        let b = Dictionary(uniqueKeysWithValues: copy.tensors.map { ($0.name, $0) })
        #expect(Set(a.keys) == Set(b.keys))
        for (name, t) in a {
            #expect(b[name]?.shape == t.shape && b[name]?.dtype == t.dtype && b[name]?.data.array == t.data.array, "\(name)")
        }
        #expect(copy.config == original.config)
        if let spm = original.sentencePiece {  // SentencePiece vocabularies come back as tokenizer.model
            let back = try #require(copy.sentencePiece)
            #expect(back.pieces == spm.pieces && back.addDummyPrefix == spm.addDummyPrefix && back.byteFallback == spm.byteFallback)
        }
        #expect(FileManager.default.fileExists(atPath: back + "/" + ShardedSafetensors.indexFileName), "40 kB shards")
        for key in ["bos_token", "eos_token", "chat_template"] {
            #expect(copy.tokenizerConfig?[key] == original.tokenizerConfig?[key] || key == "chat_template" && original.chatTemplate == copy.chatTemplate, "\(key)")
        }
    }

    /// HF → GGUF → HF for every family: the same tensors bit for bit (llama q/k permuted and back, Gemma's
    /// norms +1 and back, within the rounding of w + 1 − 1, fused projections kept) and the same config,
    /// except what GGUF does not keep of Gemma 3: query_pre_attn_scalar (llama.cpp uses head_dim: the
    /// fixture's 24 comes back as 16) and layer_types (llama.cpp's fixed 5 local : 1 global pattern).
    @Test(arguments: HuggingFaceConversionTests.families)
    func familiesRoundTrip(_ model: String) throws {
        let source = Self.fixtures + "/families/\(model)"
        let gguf = Self.temporary("\(model).gguf"), back = Self.temporary("\(model)-hf")
        defer { for p in [gguf, back] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try HuggingFaceToGGUF.convert(input: source, output: gguf, outtype: .f32, overwrite: false)
        try GGUFToHuggingFace.convert(input: gguf, output: back, overwrite: false, maxShardSize: 1 << 30)
        let original = try HuggingFaceDirectory(path: source), copy = try HuggingFaceDirectory(path: back)
        let a = Dictionary(uniqueKeysWithValues: original.tensors.map { ($0.name, $0) })
        let b = Dictionary(uniqueKeysWithValues: copy.tensors.map { ($0.name, $0) })
        #expect(Set(a.keys) == Set(b.keys), "\(model)")
        for (name, t) in a {
            let (slot, _) = try #require(TensorNames.parseHuggingFace(name, family: original.config.family))
            if TensorNames.fixup(slot, family: original.config.family) == .addOne {
                let x = try Quantization.dequantize(t, path: name), y = try Quantization.dequantize(try #require(b[name]), path: name)
                #expect(x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= Float.ulpOfOne }, "\(model) \(name)")
                continue
            }
            #expect(b[name]?.shape == t.shape && b[name]?.dtype == t.dtype && b[name]?.data.array == t.data.array, "\(model) \(name)")
        }
        var want = original.config
        if model == "gemma3" {
            want.attentionScale = 1 / Float(want.headDim).squareRoot()
            want.slidingLayers = (0..<want.layerCount).map { $0 % 6 < 5 }
        }
        #expect(copy.config == want, "\(model)")
    }

    /// A config that contradicts the weights names the tensor, the shape found and the shape needed; a missing
    /// q_norm names the first missing GGUF tensor; nothing is written.
    @Test func configContradictingTheWeightsIsNamed() throws {
        let folder = Self.temporary("qwen3")
        try FileManager.default.copyItem(atPath: Self.fixtures + "/families/qwen3", toPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let configPath = folder + "/config.json"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "\"head_dim\": 16", with: "\"head_dim\": 8").write(toFile: configPath, atomically: true, encoding: .utf8)
        let out = folder + "/out.gguf"
        #expect {
            _ = try HuggingFaceToGGUF.convert(input: folder, output: out, outtype: .f32, overwrite: false)
        } throws: { "\($0)".contains("tensor 'model.layers.0.self_attn.k_norm.weight' has shape [16], the config needs [8]") }
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let weights = try SafetensorsFile(path: folder + "/model.safetensors").tensors.filter { !$0.name.contains("q_norm") }
        try SafetensorsWriter.write(weights, to: folder + "/model.safetensors", overwrite: true)
        #expect {
            _ = try HuggingFaceToGGUF.convert(input: folder, output: out, outtype: .f32, overwrite: false)
        } throws: { "\($0)".contains("2 tensor(s) missing, first 'blk.0.attn_q_norm.weight'") }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// Named chat templates (chat_template.jinja + additional_chat_templates/NAME.jinja, as transformers 5
    /// saves them) become gguf-py's keys — tokenizer.chat_template.NAME, tokenizer.chat_templates, then the
    /// default — and come back as tokenizer_config.json's list of {name, template}, which converts to the
    /// same keys again.
    @Test func namedChatTemplatesTravelBothWays() throws {
        let folder = Self.temporary("qwen2-templates")
        try FileManager.default.copyItem(atPath: Self.fixtures + "/families/qwen2", toPath: folder)
        let gguf = folder + ".gguf", back = folder + "-hf", again = folder + "-again.gguf"
        defer { for p in [folder, gguf, back, again] { try? FileManager.default.removeItem(atPath: p) } }
        try FileManager.default.createDirectory(atPath: folder + "/additional_chat_templates", withIntermediateDirectories: true)
        let toolUse = "{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}{% if tools %}tools{% endif %}"
        try toolUse.write(toFile: folder + "/additional_chat_templates/tool_use.jinja", atomically: true, encoding: .utf8)
        let main = try String(contentsOfFile: folder + "/chat_template.jinja", encoding: .utf8)
        _ = try HuggingFaceToGGUF.convert(input: folder, output: gguf, outtype: .f32, overwrite: false)
        func templateKeys(_ path: String) throws -> [String] {
            try GGUFFile(path: path).metadata.map(\.key).filter { $0.hasPrefix("tokenizer.chat_template") }
        }
        #expect(try templateKeys(gguf) == ["tokenizer.chat_template.tool_use", "tokenizer.chat_templates", "tokenizer.chat_template"])
        let file = try GGUFFile(path: gguf)
        #expect(file["tokenizer.chat_template.tool_use"]?.stringValue == toolUse && file["tokenizer.chat_template"]?.stringValue == main)
        #expect(try file["tokenizer.chat_templates"]?.arrayValue?.stringValues() == ["tool_use"])
        #expect(try ChatTemplate(gguf: file, name: "tool_use").render([.init(role: "user", content: "hi")]) == "[user] hi")
        try GGUFToHuggingFace.convert(input: gguf, output: back, overwrite: false, maxShardSize: 1 << 30)
        let list = try JSONFile.read(back + "/tokenizer_config.json")["chat_template"]?.arrayValue ?? []
        #expect(list.map { $0["name"]?.stringValue ?? "" } == ["default", "tool_use"])
        #expect(list.map { $0["template"]?.stringValue ?? "" } == [main, toolUse])
        _ = try HuggingFaceToGGUF.convert(input: back, output: again, outtype: .f32, overwrite: false)
        let copy = try GGUFFile(path: again)
        #expect(try templateKeys(again) == templateKeys(gguf))
        #expect(copy["tokenizer.chat_template.tool_use"]?.stringValue == toolUse && copy["tokenizer.chat_template"]?.stringValue == main)
    }

    /// Two spellings of one weight (GPT-2's with and without `transformer.`) are refused, both named.
    @Test func weightFilledTwiceIsRefused() throws {
        let folder = Self.temporary("gpt2-twice")
        try FileManager.default.copyItem(atPath: Self.fixtures + "/hf/gpt2/safetensors", toPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tensors = try SafetensorsFile(path: folder + "/model.safetensors").tensors
        let wte = try #require(tensors.first { $0.name == "transformer.wte.weight" })
        // A copy of the bytes: the writer would store a tensor sharing them as an alias, not twice.
        try SafetensorsWriter.write(tensors + [RawTensor(name: "wte.weight", dtype: wte.dtype, shape: wte.shape, data: ByteView(owned: wte.data.array))],
                                    to: folder + "/model.safetensors", overwrite: true)
        let out = folder + "/out.gguf"
        #expect {
            _ = try HuggingFaceToGGUF.convert(input: folder, output: out, outtype: .f32, overwrite: false)
        } throws: { "\($0)".contains("tensors 'transformer.wte.weight' and 'wte.weight' both fill 'token_embd.weight'") }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func unsupportedArchitectureIsRefusedBeforeWriting() throws {
        let folder = Self.temporary("mamba")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var config = try String(contentsOfFile: Self.fixtures + "/hf/llama-gqa/safetensors/config.json", encoding: .utf8)
        config = config.replacingOccurrences(of: "LlamaForCausalLM", with: "MambaForCausalLM")
            .replacingOccurrences(of: "\"llama\"", with: "\"mamba\"")
        try config.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        let out = folder + "/out.gguf"
        #expect {
            _ = try HuggingFaceToGGUF.convert(input: folder, output: out, outtype: .f32, overwrite: false)
        } throws: { error in
            "\(error)".contains("architecture 'MambaForCausalLM' is not supported (supported: "
                                 + TransformerConfig.supportedHuggingFaceArchitectures.joined(separator: ", ") + ")")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func bareWeightsFileWithConfigEqualsTheFolder() throws {
        let folder = Self.fixtures + "/hf/llama-gqa/safetensors"
        let a = Self.temporary("folder.gguf"), b = Self.temporary("bare.gguf")
        defer { for p in [a, b] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try HuggingFaceToGGUF.convert(input: folder, output: a, outtype: .f16, overwrite: false)
        _ = try HuggingFaceToGGUF.convert(input: folder + "/model.safetensors", config: folder + "/config.json", output: b,
                                          outtype: .f16, overwrite: false)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
        #expect(throws: ConvertError.self) {
            _ = try HuggingFaceToGGUF.convert(input: folder + "/model.safetensors", output: b, outtype: .f16, overwrite: true)
        }
    }

    @Test func existingOutputNeedsForce() throws {
        let out = Self.temporary("exists.gguf")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: out))
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(throws: ConvertError.self) {
            _ = try HuggingFaceToGGUF.convert(input: Self.fixtures + "/hf/gpt2/safetensors", output: out, outtype: .f32, overwrite: false)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data([1, 2, 3]))
    }

    /// A token id far past vocab_size (a lying tokenizer.json) is refused with the file and token named, no
    /// output written, and nothing sized by it allocated.
    @Test func tokenIdFarPastTheVocabularyIsRefused() throws {
        let fixture = Self.fixtures + "/hf/gpt2/safetensors", folder = Self.temporary("lying-id")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture) {
            try FileManager.default.copyItem(atPath: fixture + "/" + name, toPath: folder + "/" + name)
        }
        var tokenizer = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/tokenizer.json"))) as! [String: Any]
        var added = tokenizer["added_tokens"] as? [[String: Any]] ?? []
        added.append(["id": 9_000_000_000_000, "content": "<huge>", "special": true])
        tokenizer["added_tokens"] = added
        try FileManager.default.removeItem(atPath: folder + "/tokenizer.json")
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: URL(fileURLWithPath: folder + "/tokenizer.json"))
        let out = folder + "/out.gguf"
        #expect {
            _ = try HuggingFaceToGGUF.convert(input: folder, output: out, outtype: .f32, overwrite: false)
        } throws: { error in
            "\(error)".contains("tokenizer.json") && "\(error)".contains("token '<huge>' has id 9000000000000")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
