import ArgumentParser
import Convert
import Foundation
import Formats
import Model

struct ChatTemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-template",
        abstract: "Render a chat template for a conversation, as transformers' apply_chat_template (jinja2) renders it.",
        discussion: """
            MODEL_OR_JINJA is a GGUF model (its tokenizer.chat_template and BOS/EOS texts), a Hugging Face folder \
            (tokenizer_config.json or chat_template.jinja) or a .jinja file. --messages is a JSON array of \
            messages, or an object with "messages" (and "tools").
            """)

    @Argument(help: "A GGUF model, a Hugging Face folder, or a Jinja template file.")
    var modelOrJinja: String
    @Option(help: "The conversation: a JSON array of {role, content, ...} messages, or {\"messages\": [...], \"tools\": [...]}.")
    var messages: String
    @Flag(help: "End with the assistant's header (add_generation_prompt).")
    var addGenerationPrompt = false
    @Option(help: "bos_token's text (default: the model's).")
    var bos: String?
    @Option(help: "eos_token's text (default: the model's).")
    var eos: String?
    @Option(help: "A named template variant (tokenizer.chat_template.NAME, e.g. tool_use).")
    var name: String?

    func run() throws {
        let template = try load()
        let conversation = try JSONFile.read(messages)
        let list = conversation.arrayValue != nil ? conversation : conversation["messages"]
        guard let list, list.arrayValue != nil else {
            throw ToolError(message: "chat-template: \(messages) is neither a JSON array of messages nor an object with \"messages\"", hint: nil)
        }
        let tools = conversation["tools"].flatMap { $0 == .null ? nil : $0 }
        Stdout.write(try template.render(messages: list, addGenerationPrompt: addGenerationPrompt, tools: tools))
    }

    func load() throws -> ChatTemplate {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: modelOrJinja, isDirectory: &isFolder)
        guard exists else { throw ToolError(message: "chat-template: \(modelOrJinja) does not exist", hint: nil) }
        if isFolder.boolValue { return try folderTemplate(modelOrJinja) }
        if modelOrJinja.hasSuffix(".gguf") || (try? CheckpointFormat.detect(modelOrJinja)) == .gguf {
            let gguf = try GGUFFile(path: modelOrJinja)
            let t = try ChatTemplate(gguf: gguf, name: name)
            return try ChatTemplate(template: t.source, bos: bos ?? t.bosToken, eos: eos ?? t.eosToken, path: modelOrJinja)
        }
        let text = try Self.readText(modelOrJinja)
        return try ChatTemplate(template: text, bos: bos ?? "", eos: eos ?? "", path: modelOrJinja)
    }

    /// The folder's template (as conversion reads it: tokenizer_config.json, chat_template.jinja and
    /// additional_chat_templates/, chat_template.json), BOS/EOS texts from tokenizer_config.json.
    func folderTemplate(_ folder: String) throws -> ChatTemplate {
        let configPath = folder + "/tokenizer_config.json"
        let config = FileManager.default.fileExists(atPath: configPath) ? try JSONFile.read(configPath) : JSONValue.object([])
        func token(_ key: String) -> String { HuggingFaceDirectory.tokenText(config, key) ?? "" }
        let wanted = name ?? "default"
        let source = try HuggingFaceDirectory.chatTemplates(folder: folder, tokenizerConfig: config).first { $0.name == wanted }?.template
        return try ChatTemplate(template: source, bos: bos ?? token("bos_token"), eos: eos ?? token("eos_token"), path: folder)
    }

    static func readText(_ path: String) throws -> String {
        let file = try MappedFile(path: path)
        return withExtendedLifetime(file) { String(decoding: file.bytes, as: UTF8.self) }
    }
}
