import Formats
import Foundation
import Model

/// One instruction/response pair, from a JSONL line in Dolly form (`instruction`, `context`, `response`)
/// or in the processed form (`prompt`, `output`; `output` may be a list of references, the first is
/// trained on), or MiniLLM's processed Dolly files (`instruction`, `input`, `prompt`, `output`). Dolly lines are rendered with the Alpaca-style template of promptkd.md §6.
public struct InstructionExample: Equatable, Sendable {
    /// The full prompt text the model sees (template applied).
    public var prompt: String
    /// The reference responses (one for training data; test sets may hold several).
    public var references: [String]
    public var response: String { references.first ?? "" }
    /// What a chat template gets as the user's message: the instruction, then the input after a blank line
    /// (Dolly form), or the processed prompt as it is.
    public var userMessage: String
    /// Special tokens written in `prompt` are parsed: true once a chat template wrote them.
    public var parseSpecial = false

    public init(prompt: String, references: [String], userMessage: String? = nil) {
        self.prompt = prompt
        self.references = references
        self.userMessage = userMessage ?? prompt
    }

    /// The example with its prompt rendered by the model's own chat template (one user message, the
    /// assistant's header after it), instead of the Dolly template of the PromptKD protocol; the template's
    /// leading BOS dropped when the tokenizer adds one.
    public func formatted(with template: ChatTemplate, bosAdded: Bool) throws(DistillError) -> InstructionExample {
        var copy = self
        do throws(ModelError) {
            let text = try template.render([.init(role: "user", content: userMessage)], addGenerationPrompt: true)
            copy.prompt = bosAdded ? template.droppingLeadingBOS(text) : text
        } catch {
            throw .model(error)
        }
        copy.parseSpecial = true
        return copy
    }

    /// MiniLLM's `tools/process_data_dolly.py` template (non-Qwen), with and without an input.
    public static func template(instruction: String, context: String) -> String {
        if context.isEmpty {
            return "Below is an instruction that describes a task. Write a response that appropriately completes the request."
                + "\n\n### Instruction:\n\(instruction)\n\n### Response:\n"
        }
        return "Below is an instruction that describes a task, paired with an input that provides further context. "
            + "Write a response that appropriately completes the request.\n\n### Instruction:\n\(instruction)"
            + "\n\n### Input:\n\(context)\n\n### Response:\n"
    }

    /// Reads a JSONL file; every malformed line is an error naming its number. Blank lines are skipped.
    public static func load(path: String) throws(DistillError) -> [InstructionExample] {
        let data: [UInt8]
        do {
            let file = try MappedFile(path: path)
            data = withExtendedLifetime(file) { Array(file.bytes) }
        } catch {
            throw .format(error)
        }
        var examples: [InstructionExample] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let value: JSONValue
            do { value = try JSONParser.parse(Array(line)) } catch {
                throw .malformedData(path: path, line: lineNumber, reason: "not JSON: \(error.reason) at byte \(error.offset)")
            }
            examples.append(try example(value, path: path, line: lineNumber))
        }
        guard !examples.isEmpty else { throw .emptyData(path: path, reason: "the file has no lines") }
        return examples
    }

    static func example(_ value: JSONValue, path: String, line: Int) throws(DistillError) -> InstructionExample {
        func string(_ key: String) throws(DistillError) -> String? {
            guard let field = value[key] else { return nil }
            guard let text = field.stringValue else {
                throw .malformedData(path: path, line: line, reason: "'\(key)' is not a string")
            }
            return text
        }
        guard value.objectValue != nil else { throw .malformedData(path: path, line: line, reason: "not a JSON object") }
        /// `output`: one reference or a list of them.
        func outputs() throws(DistillError) -> [String] {
            if let output = value["output"], let list = output.arrayValue {
                let references = list.compactMap(\.stringValue)
                guard !references.isEmpty, references.count == list.count else {
                    throw .malformedData(path: path, line: line, reason: "'output' must be a string or a non-empty list of strings")
                }
                return references
            }
            guard let output = try string("output") else {
                throw .malformedData(path: path, line: line, reason: "processed form needs 'output' next to 'prompt'")
            }
            return [output]
        }
        if let instruction = try string("instruction"), value["response"] == nil, value["output"] != nil {
            // MiniLLM's processed Dolly (tools/process_data_dolly.py): instruction, input, prompt (the template
            // already applied) and output; the prompt is rendered here when the line lacks it.
            let context = try string("input") ?? ""
            let prompt = try string("prompt") ?? template(instruction: instruction, context: context)
            return InstructionExample(prompt: prompt, references: try outputs(), userMessage: context.isEmpty ? instruction : instruction + "\n\n" + context)
        }
        if let instruction = try string("instruction") {
            guard let response = try string("response") else {
                throw .malformedData(path: path, line: line, reason: "Dolly form needs 'response' next to 'instruction'")
            }
            let context = try string("context") ?? ""
            return InstructionExample(prompt: template(instruction: instruction, context: context), references: [response],
                                      userMessage: context.isEmpty ? instruction : instruction + "\n\n" + context)
        }
        if let prompt = try string("prompt") {
            return InstructionExample(prompt: prompt, references: try outputs())
        }
        throw .malformedData(path: path, line: line, reason: "expected 'instruction'/'response' (Dolly) or 'prompt'/'output'")
    }
}
