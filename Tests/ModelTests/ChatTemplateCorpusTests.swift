import Foundation
import Formats
import Model
import Testing
import TestSupport

/// llama.cpp's corpus of real chat templates (70 files; scripts/fetch-test-data) rendered by ckpt's Jinja
/// interpreter equal jinja2's renderings under transformers' settings byte for byte (sha256 and length,
/// fixtures/make_chat_templates.py), for 12 tool-free cases and 4 with tool calls; where jinja2 raises,
/// ckpt raises too (with raise_exception's own message).
@Suite struct ChatTemplateCorpusTests {
    static let expected: JSONValue = (try? Repository.json("chat_templates/expected.json")) ?? .null

    static let names: [String] = (expected["templates"]?.objectValue ?? []).map(\.0)
    /// The fixture's fixed strftime_now: 2026-01-15 12:00:00.
    static let now = 1_768_478_400

    @Test func corpusIsComplete() {
        #expect(Self.names.count == 70)
    }

    @Test(arguments: names)
    func rendersLikeJinja2(_ name: String) throws {
        let entry = try #require(Self.expected["templates"]?[name])
        let file = try TestData.path("llama.cpp/templates/" + name)
        let source = try String(contentsOfFile: file, encoding: .utf8)
        #expect(SHA256Digest.hex(Array(source.utf8)) == entry["sha256"]?.stringValue, "not the corpus the goldens were made from")
        for (set, casesKey) in [("plain", "cases"), ("tools", "tool_cases")] {
            for (caseName, want) in entry[set]?.objectValue ?? [] {
                let context = try #require(Self.expected[casesKey]?[caseName])
                var got: Result<String, ModelError>
                do throws(ModelError) {
                    let template = try ChatTemplate(template: source, bos: "<s>", eos: "</s>", path: name)
                    got = .success(try template.render(messages: context["messages"] ?? .array([]),
                                                       addGenerationPrompt: context["add_generation_prompt"]?.boolValue ?? false,
                                                       tools: context["tools"].flatMap { $0 == .null ? nil : $0 }, now: Self.now))
                } catch {
                    got = .failure(error)
                }
                let label = "\(name) \(set) \(caseName)"
                switch got {
                case .success(let text):
                    #expect(want["ok"]?.boolValue == true, "\(label): jinja2 raised \(want["type"]?.stringValue ?? "")")
                    if want["ok"]?.boolValue == true {
                        #expect(SHA256Digest.hex(Array(text.utf8)) == want["sha256"]?.stringValue
                                && text.utf8.count == want["length"]?.int64Value.map(Int.init), "\(label): \(text.prefix(200).debugDescription)")
                    }
                case .failure(let error):
                    #expect(want["ok"]?.boolValue == false, "\(label): \(error)")
                    if let message = want["message"]?.stringValue {
                        #expect("\(error)".contains("the template raised: \(message)"), "\(label): \(error)")
                    }
                }
            }
        }
    }
}
