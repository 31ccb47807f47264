import Formats
import Jinja

/// A model's own chat template (`tokenizer.chat_template`, tokenizer_config.json, chat_template.jinja),
/// rendered by the Jinja interpreter the way transformers' apply_chat_template renders it with jinja2:
/// `messages`, `add_generation_prompt`, `bos_token`, `eos_token`, `tools` (None unless given), plus any
/// extra variables. The text includes whatever the template writes (a leading BOS too: callers whose
/// tokenizer adds BOS drop it, `droppingLeadingBOS`).
public struct ChatTemplate: Sendable {
    public struct Message: Equatable, Sendable {
        public var role: String
        public var content: String
        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    public let source: String
    public let bosToken: String
    public let eosToken: String
    let path: String
    let template: JinjaTemplate

    /// Parses `template`; none (or empty) and syntax errors are errors naming `path` (syntax: line, column).
    public init(template: String?, bos: String = "", eos: String = "", path: String) throws(ModelError) {
        guard let template, !template.isEmpty else { throw .unsupportedChatTemplate(path: path, excerpt: "") }
        source = template
        bosToken = bos
        eosToken = eos
        self.path = path
        do throws(JinjaError) {
            self.template = try JinjaTemplate(template)
        } catch {
            throw .chatTemplate(path: path, reason: error.description)
        }
    }

    /// The prompt text for plain role/content messages.
    public func render(_ messages: [Message], addGenerationPrompt: Bool = true) throws(ModelError) -> String {
        let json = messages.map { JSONValue.object([("role", .string($0.role)), ("content", .string($0.content))]) }
        return try render(messages: .array(json), addGenerationPrompt: addGenerationPrompt)
    }

    /// The prompt text for messages given as JSON (tool calls and all), with optional `tools` and extra
    /// template variables; `now` fixes `strftime_now` (seconds since 1970, UTC). A template that raises,
    /// loops or writes without bound is an error naming `path`.
    public func render(messages: JSONValue, addGenerationPrompt: Bool, tools: JSONValue? = nil,
                       extra: [(String, JSONValue)] = [], now: Int? = nil) throws(ModelError) -> String {
        var context: [String: JinjaValue] = [
            "messages": JinjaValue(json: messages), "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken), "eos_token": .string(eosToken),
            "tools": tools.map { JinjaValue(json: $0) } ?? .none, "documents": .none,
        ]
        for (key, value) in extra { context[key] = JinjaValue(json: value) }
        do throws(JinjaError) {
            return try template.render(context, now: now)
        } catch {
            throw .chatTemplate(path: path, reason: error.isRaisedByTemplate ? "the template raised: \(error.message)" : error.description)
        }
    }

    /// `text` without the BOS text the template wrote first, for tokenizers that add BOS themselves.
    public func droppingLeadingBOS(_ text: String) -> String {
        guard !bosToken.isEmpty, text.hasPrefix(bosToken) else { return text }
        return String(text.dropFirst(bosToken.count))
    }
}

extension JinjaValue {
    /// JSON as the template sees Python's json.loads result: objects keep their key order.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(JinjaValue.init(json:)))
        case .object(let members): self = .object(JinjaObject(members.map { ($0.0, JinjaValue(json: $0.1)) }))
        case .number(let text):
            // As json.loads: a fraction or exponent makes a float.
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let i = Int(text) { self = .int(i) } else {
                self = .double(Double(text) ?? 0)
            }
        }
    }
}
