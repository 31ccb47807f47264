/// A 1-based location in the template source; columns count Unicode scalars like Python counts characters.
struct SourcePosition: Sendable, Equatable {
    var line: Int
    var column: Int
}

/// The lexer's output. Template text outside tags is `text`; inside `{{ }}` and `{% %}` the
/// expression tokens follow jinja2's lexer (keywords such as `and`, `if`, `in` are plain names).
enum TokenKind: Sendable, Equatable {
    case text(String)
    case variableBegin
    case variableEnd
    case blockBegin
    case blockEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case symbol(String)
    case endOfInput
}

struct Token: Sendable {
    var kind: TokenKind
    var position: SourcePosition

    /// How the token is quoted in syntax error messages, mirroring jinja2's `describe_token`.
    var displayName: String {
        switch kind {
        case .text: return "template data"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .name(let name): return name
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .symbol(let symbol): return symbol
        case .endOfInput: return "end of template"
        }
    }

    func isName(_ name: String) -> Bool {
        if case .name(let value) = kind { return value == name }
        return false
    }

    func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(let value) = kind { return value == symbol }
        return false
    }
}
