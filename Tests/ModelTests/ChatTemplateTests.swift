import Foundation
import Formats
import Model
import Testing
import TestSupport

/// Chat rendering against jinja2 rendering the real templates as transformers does, BOS included (fixtures/chat,
/// fixtures/make_chat.py), and the tiny HF tokenizer's ChatML conversation ids (fixtures/hf).
@Suite struct ChatTemplateTests {
    static let fixtures = Repository.fixtures()

    @Test(arguments: ["smollm2", "llama3", "llama2"])
    func rendersAsJinja(_ name: String) throws {
        let golden = try #require(try JSONFile.read(Self.fixtures + "/chat/expected.json")["templates"]?[name])
        let template = try ChatTemplate(template: golden["template"]?.stringValue, bos: golden["bos_token"]?.stringValue ?? "",
                                        eos: golden["eos_token"]?.stringValue ?? "", path: name)
        for c in try #require(golden["cases"]?.arrayValue) {
            let messages = (c["messages"]?.arrayValue ?? []).map {
                ChatTemplate.Message(role: $0["role"]?.stringValue ?? "", content: $0["content"]?.stringValue ?? "")
            }
            let want = c["text"]?.stringValue ?? ""
            let got = try template.render(messages, addGenerationPrompt: c["add_generation_prompt"]?.boolValue ?? false)
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
        let text = try template.render(messages)
        #expect(text == chat["text"]?.stringValue)
        let tokenizer = try BPETokenizer.load(tokenizerJSON: JSONFile.read(Self.fixtures + "/hf/gpt2/safetensors/tokenizer.json"),
                                              path: "tokenizer.json")
        #expect(tokenizer.encode(text) == (chat["ids"]?.arrayValue ?? []).compactMap { $0.uint64Value }.map { Int($0) })
    }

    @Test func unknownOrMissingTemplatesAreNamedErrors() {
        #expect(throws: ModelError.unsupportedChatTemplate(path: "m.gguf", excerpt: "")) {
            try ChatTemplate(template: nil, path: "m.gguf")
        }
        // A syntax error: where (line, column; trim_blocks took the newline) and what jinja2 would have expected.
        #expect(throws: ModelError.chatTemplate(path: "m.gguf", reason: "line 1, column 39: unexpected end of template (expected 'endfor' or 'else') (innermost open block: 'for')")) {
            try ChatTemplate(template: "{{ bos_token }}{% for m in messages %}\n", path: "m.gguf")
        }
    }
}
