import Formats

extension ChatTemplate {
    /// The GGUF's `tokenizer.chat_template` (or the named variant `tokenizer.chat_template.NAME`), with the
    /// texts of its BOS and EOS tokens.
    public init(gguf: GGUFFile, name: String? = nil) throws(ModelError) {
        let key = name.map { GGUFKeys.chatTemplate(named: $0) } ?? GGUFKeys.chatTemplate
        let tokens = (try? gguf[GGUFKeys.tokens]?.arrayValue?.stringValues()) ?? []
        func text(_ idKey: String) -> String {
            guard let id = gguf[idKey]?.integerValue, id >= 0, id < tokens.count else { return "" }
            return tokens[Int(id)]
        }
        try self.init(template: gguf[key]?.stringValue, bos: text(GGUFKeys.bosTokenID),
                      eos: text(GGUFKeys.eosTokenID), path: gguf.path)
    }

    /// The named templates a GGUF carries besides the default (`tokenizer.chat_templates` lists them).
    public static func variantNames(gguf: GGUFFile) -> [String] {
        (try? gguf[GGUFKeys.chatTemplateNames]?.arrayValue?.stringValues()) ?? []
    }
}
