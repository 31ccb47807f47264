import Distill
import Formats
import Foundation
import Model
import Testing
import TestSupport

/// JSONL instruction data: the bundled dataset, the MiniLLM template (promptkd.md §6), tokenization with
/// the loss on response + EOS only, and line-numbered errors for malformed input.
@Suite struct InstructionDataTests {
    static let data = TorchTrainingStepTests.fixtures + "/data"

    static func temporary(_ text: String) throws -> String {
        let path = Scratch.path("data.jsonl")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let error as DistillError { return error.description } catch { return "\(error)" }
        return "no error"
    }

    @Test func bundledDatasetSplits() throws {
        let counts = try ["train", "dev", "test"].map { try InstructionExample.load(path: Self.data + "/\($0).jsonl").count }
        #expect(counts == [320, 40, 40])
        // Every line is Dolly form with the category field, and at least six categories are in train.
        let text = try String(contentsOfFile: Self.data + "/train.jsonl", encoding: .utf8)
        let categories = Set(text.split(separator: "\n").compactMap { line in
            (try? JSONParser.parse(Array(line.utf8)))?["category"]?.stringValue
        })
        #expect(categories.count >= 6, "\(categories)")
    }

    @Test func templateIsMiniLLMs() {
        #expect(InstructionExample.template(instruction: "Name a color.", context: "") ==
            "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName a color.\n\n### Response:\n")
        #expect(InstructionExample.template(instruction: "Summarize.", context: "Text.") ==
            "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nSummarize.\n\n### Input:\nText.\n\n### Response:\n")
    }

    @Test func bothFormsAndReferenceLists() throws {
        let path = try Self.temporary("""
            {"instruction": "Say hi.", "context": "", "response": "Hi."}

            {"prompt": "P: ", "output": "one"}
            {"prompt": "Q: ", "output": ["a", "b"]}
            """)
        let examples = try InstructionExample.load(path: path)
        #expect(examples.map(\.references) == [["Hi."], ["one"], ["a", "b"]])
        #expect(examples[1].prompt == "P: ")
        #expect(examples[0].prompt.hasSuffix("### Instruction:\nSay hi.\n\n### Response:\n"))
    }

    /// MiniLLM's processed Dolly lines (tools/process_data_dolly.py: instruction, input, prompt, output): the
    /// prompt as written, or the template rendered from instruction and input when a line lacks it.
    @Test func miniLLMProcessedForm() throws {
        let rendered = InstructionExample.template(instruction: "Sum up.", context: "Some text.")
        let path = try Self.temporary("""
            {"instruction": "Name a color.", "input": "", "prompt": "PROMPT AS WRITTEN", "output": "Red."}
            {"instruction": "Sum up.", "input": "Some text.", "output": ["A.", "B."]}
            """)
        let examples = try InstructionExample.load(path: path)
        #expect(examples.map(\.prompt) == ["PROMPT AS WRITTEN", rendered])
        #expect(examples.map(\.references) == [["Red."], ["A.", "B."]])
        #expect(examples.map(\.userMessage) == ["Name a color.", "Sum up.\n\nSome text."])
        #expect(Self.message { _ = try InstructionExample.load(path: try Self.temporary("{\"instruction\": \"a\", \"output\": 3}")) }
            .contains("line 1: 'output' is not a string"))
    }

    @Test func malformedLinesAreNamed() throws {
        let cases: [(String, String)] = [
            ("{\"instruction\": \"a\", \"response\": \"b\"}\n{\"instruction\": \"a\"", "data: line 2: not JSON"),
            ("{\"instruction\": \"a\"}", "data: line 1: Dolly form needs 'response' next to 'instruction'"),
            ("{\"prompt\": 3, \"output\": \"x\"}", "data: line 1: 'prompt' is not a string"),
            ("[1, 2]", "data: line 1: not a JSON object"),
            ("{\"text\": \"x\"}", "data: line 1: expected 'instruction'/'response' (Dolly) or 'prompt'/'output'"),
            ("{\"prompt\": \"p\", \"output\": []}", "data: line 1: 'output' must be a string or a non-empty list of strings"),
            ("\n\n", "data: no usable example: the file has no lines"),
        ]
        for (text, want) in cases {
            let path = try Self.temporary(text)
            let got = Self.message { _ = try InstructionExample.load(path: path) }
            #expect(got.hasPrefix(want) && got.hasSuffix("(\(path))"), "\(got)")
        }
    }

    @Test func tokenizedLikeMiniLLM() throws {
        let folder = TorchTrainingStepTests.fixtures + "/hf/gpt2/safetensors"
        let tokenizer = try Tokenizers.load(tokenizerJSON: JSONFile.read(folder + "/tokenizer.json"), path: folder)
        let examples = [InstructionExample(prompt: "the pieces ", references: ["map to ids"]),
                        InstructionExample(prompt: String(repeating: "a tokenizer splits ", count: 20), references: ["x"]),
                        InstructionExample(prompt: "ids ", references: [String(repeating: "in the vocabulary ", count: 10)])]
        let set = try TokenizedDataset(examples, path: "mem", tokenizer: tokenizer, eos: 0, maxPromptLength: 40, maxLength: 30)
        #expect(set.skippedLongPrompts == 1)
        #expect(set.truncated == 1)
        let first = set.examples[0]
        let prompt = tokenizer.encode("the pieces ", special: false), full = tokenizer.encode("the pieces map to ids", special: false)
        #expect(first.tokens == prompt + full.dropFirst(prompt.count) + [0])
        #expect(first.promptLength == prompt.count)
        #expect(first.isTarget == first.tokens.indices.map { $0 >= prompt.count })
        #expect(set.examples[1].tokens.count == 30)
        let allLong = Self.message {
            _ = try TokenizedDataset([examples[1]], path: "mem", tokenizer: tokenizer, eos: 0, maxPromptLength: 40, maxLength: 30)
        }
        #expect(allLong == "data: no usable example: all 1 prompt(s) are longer than --max-prompt-length 40 (mem)")
    }

    /// --chat-template: the instruction and its input as one user message through the model's own template
    /// equals jinja2's rendering of that conversation (fixtures/chat, SmolLM2's ChatML template with its
    /// default system message), and the template's special tokens become their ids.
    @Test func chatTemplateFormatsTheInstruction() throws {
        let golden = try #require(try JSONFile.read(TorchTrainingStepTests.fixtures + "/chat/expected.json")["templates"]?["smollm2"])
        let template = try ChatTemplate(template: golden["template"]?.stringValue, bos: golden["bos_token"]?.stringValue ?? "",
                                        eos: golden["eos_token"]?.stringValue ?? "", path: "smollm2")
        let userOnly = try #require(golden["cases"]?.arrayValue?.first {
            $0["messages"]?.arrayValue?.count == 1 && $0["add_generation_prompt"]?.boolValue == true
        })
        let content = userOnly["messages"]?.arrayValue?.first?["content"]?.stringValue ?? ""
        let path = try Self.temporary(#"{"instruction": "\#(content)", "context": "", "response": "ok"}"#)
        let example = try #require(try InstructionExample.load(path: path).first)
        let chat = try example.formatted(with: template, bosAdded: false)
        #expect(chat.prompt == userOnly["text"]?.stringValue && chat.parseSpecial && !example.parseSpecial)
        let withInput = try Self.temporary(#"{"instruction": "Sum up.", "context": "Two lines.", "response": "ok"}"#)
        #expect(try InstructionExample.load(path: withInput).first?.userMessage == "Sum up.\n\nTwo lines.")
    }
}
