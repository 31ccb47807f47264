import Foundation
import Formats
import Model
import Testing

/// Chat rendering against jinja2 rendering the real templates as transformers does (fixtures/chat,
/// fixtures/make_chat.py), and the tiny HF tokenizer's ChatML conversation ids (fixtures/hf).
@Suite struct ChatTemplateTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures").path

    @Test(arguments: ["smollm2", "llama3", "llama2"])
    func rendersAsJinja(_ name: String) throws {
        let golden = try #require(try JSONFile.read(Self.fixtures + "/chat/expected.json")["templates"]?[name])
        let template = try ChatTemplate(template: golden["template"]?.stringValue, path: name)
        let bos = golden["bos_token"]?.stringValue ?? ""
        for c in try #require(golden["cases"]?.arrayValue) {
            let messages = (c["messages"]?.arrayValue ?? []).map {
                ChatTemplate.Message(role: $0["role"]?.stringValue ?? "", content: $0["content"]?.stringValue ?? "")
            }
            var want = c["text"]?.stringValue ?? ""
            // The Llama templates write BOS into the text; ckpt leaves it to the tokenizer.
            if name != "smollm2", want.hasPrefix(bos) { want.removeFirst(bos.count) }
            let got = template.render(messages, addGenerationPrompt: c["add_generation_prompt"]?.boolValue ?? false)
            #expect(got == want, "\(name): \(messages.map(\.role))")
        }
    }

    @Test func tinyTokenizerConversation() throws {
        let config = try JSONFile.read(Self.fixtures + "/hf/gpt2/safetensors/tokenizer_config.json")
        let template = try ChatTemplate(template: config["chat_template"]?.stringValue, path: "tokenizer_config.json")
        let chat = try #require(try JSONFile.read(Self.fixtures + "/hf/tokenizer_expected.json")["chat"])
        let messages = (chat["messages"]?.arrayValue ?? []).map {
            ChatTemplate.Message(role: $0["role"]?.stringValue ?? "", content: $0["content"]?.stringValue ?? "")
        }
        let text = template.render(messages)
        #expect(text == chat["text"]?.stringValue)
        let tokenizer = try BPETokenizer.load(tokenizerJSON: JSONFile.read(Self.fixtures + "/hf/gpt2/safetensors/tokenizer.json"),
                                              path: "tokenizer.json")
        #expect(tokenizer.encode(text) == (chat["ids"]?.arrayValue ?? []).compactMap { $0.uint64Value }.map { Int($0) })
    }

    @Test func unknownOrMissingTemplatesAreNamedErrors() {
        #expect(throws: ModelError.unsupportedChatTemplate(path: "m.gguf", excerpt: "")) {
            try ChatTemplate(template: nil, path: "m.gguf")
        }
        #expect(throws: ModelError.unsupportedChatTemplate(path: "m.gguf", excerpt: "{{ bos_token }}{% for m in messages %}")) {
            try ChatTemplate(template: "{{ bos_token }}{% for m in messages %}", path: "m.gguf")
        }
    }
}
