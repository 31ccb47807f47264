/// Recursive-descent parser mirroring jinja2's `Parser`: template data, `{{ }}` output and `{% %}`
/// statements become `Statement`s; expressions follow jinja2's precedence (see ExpressionParser.swift).
struct Parser {
    /// Deeply nested input must produce an error, not a stack overflow.
    static let maximumNestingDepth = 200
    /// Cap on expression tree height (see `Expression.depth`).
    static let maximumExpressionDepth = 400

    let tokens: [Token]
    var index = 0
    var nestingDepth = 0
    /// `break`/`continue` are only valid inside a `for` body (and not across a macro boundary).
    var loopDepth = 0
    /// Names of the blocks currently open, innermost last, for "expected 'endif'" style messages.
    var openBlocks: [String] = []
    /// End tags the enclosing bodies are waiting for, innermost last, to word "unknown tag" errors.
    var expectedEndNames: [Set<String>] = []

    init(tokens: [Token]) {
        self.tokens = tokens
    }

    static func parse(_ source: String) throws(JinjaError) -> [Statement] {
        var parser = Parser(tokens: try Lexer.tokenize(source))
        let body = try parser.parseBody(until: [])
        guard case .endOfInput = parser.current.kind else {
            throw parser.error("unexpected '\(parser.current.displayName)'")
        }
        try NameValidation.check(body, soft: false)
        return body
    }

    // MARK: - Token access

    var current: Token { tokens[min(index, tokens.count - 1)] }

    func peek(_ distance: Int = 1) -> Token { tokens[min(index + distance, tokens.count - 1)] }

    mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    func error(_ message: String, at token: Token? = nil) -> JinjaError {
        JinjaError(.syntax, message, at: (token ?? current).position)
    }

    mutating func skipSymbol(_ symbol: String) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        advance()
        return true
    }

    mutating func skipName(_ name: String) -> Bool {
        guard current.isName(name) else { return false }
        advance()
        return true
    }

    mutating func expectSymbol(_ symbol: String) throws(JinjaError) {
        guard skipSymbol(symbol) else {
            throw error("expected token '\(symbol)', got '\(current.displayName)'")
        }
    }

    mutating func expectName() throws(JinjaError) -> String {
        guard case .name(let name) = current.kind else {
            throw error("expected token 'name', got '\(current.displayName)'")
        }
        advance()
        return name
    }

    mutating func expectBlockEnd() throws(JinjaError) {
        guard case .blockEnd = current.kind else {
            throw error("expected token 'end of statement block', got '\(current.displayName)'")
        }
        advance()
    }

    /// Counts one level of nesting for the duration of `body`, failing past the cap.
    mutating func nested<Result>(_ body: (inout Parser) throws(JinjaError) -> Result) throws(JinjaError) -> Result {
        guard nestingDepth < Parser.maximumNestingDepth else {
            throw error("template nesting exceeds \(Parser.maximumNestingDepth) levels")
        }
        nestingDepth += 1
        defer { nestingDepth -= 1 }
        return try body(&self)
    }

    /// Rejects expression trees too tall to evaluate safely.
    func checked(_ expression: Expression) throws(JinjaError) -> Expression {
        guard expression.depth <= Parser.maximumExpressionDepth else {
            throw JinjaError(.syntax, "expression nesting exceeds \(Parser.maximumExpressionDepth) levels", at: expression.position)
        }
        return expression
    }

    // MARK: - Template body

    /// jinja2's `subparse`: collects statements until a block tag whose name is in `endNames`;
    /// leaves the parser on that name (inside the still-open `{%`).
    mutating func parseBody(until endNames: Set<String>) throws(JinjaError) -> [Statement] {
        var body: [Statement] = []
        expectedEndNames.append(endNames)
        defer { expectedEndNames.removeLast() }
        while true {
            let token = current
            switch token.kind {
            case .text(let text):
                body.append(Statement(kind: .text(text), position: token.position))
                advance()
            case .variableBegin:
                advance()
                let expression = try parseTuple()
                guard case .variableEnd = current.kind else {
                    throw error("expected token 'end of print statement', got '\(current.displayName)'")
                }
                advance()
                body.append(Statement(kind: .output(expression), position: token.position))
            case .blockBegin:
                advance()
                if case .name(let name) = current.kind, endNames.contains(name) { return body }
                let statement = try nested { (parser: inout Parser) throws(JinjaError) in
                    try parser.parseStatement()
                }
                if let statement { body.append(statement) }
                try expectBlockEnd()
            case .endOfInput:
                if endNames.isEmpty { return body }
                throw error(unclosedBlockMessage(expecting: endNames, unexpected: nil))
            default:
                throw error("unexpected '\(token.displayName)'")
            }
        }
    }

    func unclosedBlockMessage(expecting endNames: Set<String>, unexpected: String?) -> String {
        let expected = endNames.sorted { lhs, rhs in
            // The block's own end tag first ("expected 'endif'" reads better than "'elif'").
            lhs.hasPrefix("end") != rhs.hasPrefix("end") ? lhs.hasPrefix("end") : lhs < rhs
        }.map { "'\($0)'" }.joined(separator: " or ")
        let innermost = openBlocks.last.map { " (innermost open block: '\($0)')" } ?? ""
        if let unexpected { return "unexpected '\(unexpected)' (expected \(expected))\(innermost)" }
        return "unexpected end of template (expected \(expected))\(innermost)"
    }

    /// Parses a block body, then consumes the end tag name (`drop_needle` in jinja2).
    mutating func parseBlockBody(_ block: String, until endNames: Set<String>) throws(JinjaError) -> [Statement] {
        // jinja2 tolerates a colon before `%}` (`{% for x in y: %}`).
        _ = skipSymbol(":")
        try expectBlockEnd()
        openBlocks.append(block)
        defer { openBlocks.removeLast() }
        return try parseBody(until: endNames)
    }
}
