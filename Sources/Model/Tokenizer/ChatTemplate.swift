/// The chat formats ckpt renders without a Jinja engine, recognised from the template text stored in the
/// model (`tokenizer.chat_template`, tokenizer_config.json) the way llama.cpp recognises them
/// (llama-chat.cpp): ChatML (`<|im_start|>`), Llama-2 (`[INST]`, with `<<SYS>>`), Llama-3
/// (`<|start_header_id|>` and `<|end_header_id|>`). Rendering follows the templates as transformers renders
/// them (fixtures/chat): SmolLM2's ChatML inserts a default system message when the conversation has none;
/// the leading BOS of Llama templates is left to the tokenizer.
public struct ChatTemplate: Equatable, Sendable {
    public enum Style: Equatable, Sendable {
        case chatML
        /// `systemTags`: the system message goes inside `<<SYS>>`.
        case llama2(systemTags: Bool)
        case llama3
    }

    public struct Message: Equatable, Sendable {
        public var role: String
        public var content: String
        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    public let style: Style
    /// A system message the template adds when the first message is not one (SmolLM2's ChatML).
    public let defaultSystem: String?

    public init(style: Style, defaultSystem: String? = nil) {
        self.style = style
        self.defaultSystem = defaultSystem
    }

    /// Recognises `template`; nil or an unknown template is an error naming it (callers suggest --raw).
    public init(template: String?, path: String) throws(ModelError) {
        guard let template, !template.isEmpty else { throw .unsupportedChatTemplate(path: path, excerpt: "") }
        if template.contains("<|im_start|>") {
            self.init(style: .chatML, defaultSystem: Self.literalSystemMessage(in: template))
        } else if template.contains("<|start_header_id|>") && template.contains("<|end_header_id|>") {
            self.init(style: .llama3)
        } else if template.contains("[INST]") && !template.contains("[SYSTEM_PROMPT]") && !template.contains("[AVAILABLE_TOOLS]") {
            self.init(style: .llama2(systemTags: template.contains("<<SYS>>")))
        } else {
            throw .unsupportedChatTemplate(path: path, excerpt: String(template.prefix(60)))
        }
    }

    /// The prompt text for `messages`, ending with the assistant's header when `addGenerationPrompt`.
    public func render(_ messages: [Message], addGenerationPrompt: Bool = true) -> String {
        var out = ""
        switch style {
        case .chatML:
            if let defaultSystem, messages.first?.role != "system" {
                out += "<|im_start|>system\n\(defaultSystem)<|im_end|>\n"
            }
            for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        case .llama3:
            for m in messages {
                out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(Self.trimmed(m.content))<|eot_id|>"
            }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        case let .llama2(systemTags):
            // As the Llama-2 chat template: the system message opens the first user turn; every user turn
            // after the first starts with <s> (the tokenizer adds the first BOS itself).
            var rest = messages[...]
            var system: String?
            if messages.first?.role == "system" {
                system = messages[0].content
                rest = messages.dropFirst()
            }
            for (i, m) in rest.enumerated() {
                if m.role == "user" {
                    var content = m.content
                    if i == 0, let system { content = (systemTags ? "<<SYS>>\n\(system)\n<</SYS>>\n\n" : system + "\n") + content }
                    out += (out.isEmpty ? "" : "<s>") + "[INST] " + Self.trimmed(content) + " [/INST]"
                } else if m.role == "assistant" {
                    out += " " + Self.trimmed(m.content) + " </s>"
                }
            }
        }
        return out
    }

    /// The text of `'<|im_start|>system` newline `…<|im_end|>` written as a string literal in the template
    /// (with a real newline, as SmolLM2's, or the escape \n), the Jinja escapes \n and \' undone; nil when
    /// there is none.
    static func literalSystemMessage(in template: String) -> String? {
        guard let start = template.firstRange(of: "<|im_start|>system\n") ?? template.firstRange(of: "<|im_start|>system\\n"),
              let end = template[start.upperBound...].firstRange(of: "<|im_end|>") else { return nil }
        let raw = template[start.upperBound..<end.lowerBound]
        // A Jinja expression in between means the system text is not a literal.
        if raw.contains("{{") || raw.contains("{%") || raw.contains("'") && !raw.contains("\\'") { return nil }
        return String(raw).replacing("\\n", with: "\n").replacing("\\'", with: "'")
    }

    static func trimmed(_ s: String) -> String {
        String(s.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
