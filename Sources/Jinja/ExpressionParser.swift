/// Expressions, with jinja2's precedence from loosest to tightest:
/// `x if c else y` < `or` < `and` < `not` < comparisons/`in` < `+ -` < `~` < `* / // %` < `**`
/// < unary `- +` < postfix (`.a`, `[i]`, `(...)`, `|filter`, `is test`).
extension Parser {
    mutating func parseExpression(allowsConditional: Bool = true) throws(JinjaError) -> Expression {
        allowsConditional ? try parseConditional() : try parseOr()
    }

    /// jinja2's `parse_tuple`: `a, b` without brackets is a tuple; used for output, `set` values,
    /// `for` iterables and parenthesised expressions.
    mutating func parseTuple(
        allowsConditional: Bool = true, extraEndNames: Set<String> = [], explicitParentheses: Bool = false
    ) throws(JinjaError) -> Expression {
        let position = current.position
        var items: [Expression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectSymbol(",") }
            if isTupleEnd(extraEndNames: extraEndNames) { break }
            items.append(try parseExpression(allowsConditional: allowsConditional))
            if current.isSymbol(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses {
                throw error("Expected an expression, got '\(current.displayName)'")
            }
        }
        return Expression(kind: .tuple(items), position: position)
    }

    func isTupleEnd(extraEndNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd: return true
        case .symbol(")"): return true
        case .name(let name): return extraEndNames.contains(name)
        default: return false
        }
    }

    private mutating func parseConditional() throws(JinjaError) -> Expression {
        try nested { (parser: inout Parser) throws(JinjaError) in
            var result = try parser.parseOr()
            while parser.skipName("if") {
                let condition = try parser.parseOr()
                var otherwise: Expression?
                if parser.skipName("else") { otherwise = try parser.parseConditional() }
                result = try parser.checked(Expression(
                    kind: .conditional(condition: condition, then: result, otherwise: otherwise), position: result.position))
            }
            return result
        }
    }

    private mutating func parseOr() throws(JinjaError) -> Expression {
        var left = try parseAnd()
        while skipName("or") {
            let right = try parseAnd()
            left = try checked(Expression(kind: .or(left, right), position: left.position))
        }
        return left
    }

    private mutating func parseAnd() throws(JinjaError) -> Expression {
        var left = try parseNot()
        while skipName("and") {
            let right = try parseNot()
            left = try checked(Expression(kind: .and(left, right), position: left.position))
        }
        return left
    }

    private mutating func parseNot() throws(JinjaError) -> Expression {
        let position = current.position
        if skipName("not") {
            let operand = try nested { (parser: inout Parser) throws(JinjaError) in try parser.parseNot() }
            return Expression(kind: .unary(.not, operand), position: position)
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(JinjaError) -> Expression {
        let left = try parseAdditive()
        var comparisons: [Comparison] = []
        while true {
            let comparisonOperator: ComparisonOperator
            if case .symbol(let symbol) = current.kind, let found = ComparisonOperator(rawValue: symbol),
               found != .contains, found != .notContains {
                comparisonOperator = found
                advance()
            } else if current.isName("in") {
                comparisonOperator = .contains
                advance()
            } else if current.isName("not"), peek().isName("in") {
                comparisonOperator = .notContains
                advance()
                advance()
            } else {
                break
            }
            comparisons.append(Comparison(comparisonOperator: comparisonOperator, operand: try parseAdditive()))
        }
        if comparisons.isEmpty { return left }
        return try checked(Expression(kind: .compare(left, comparisons), position: left.position))
    }

    private mutating func parseAdditive() throws(JinjaError) -> Expression {
        var left = try parseConcatenation()
        while true {
            let binaryOperator: BinaryOperator
            if current.isSymbol("+") { binaryOperator = .add } else if current.isSymbol("-") {
                binaryOperator = .subtract
            } else { break }
            advance()
            let right = try parseConcatenation()
            left = try checked(Expression(kind: .binary(binaryOperator, left, right), position: left.position))
        }
        return left
    }

    private mutating func parseConcatenation() throws(JinjaError) -> Expression {
        var left = try parseMultiplicative()
        while skipSymbol("~") {
            let right = try parseMultiplicative()
            left = try checked(Expression(kind: .binary(.concatenate, left, right), position: left.position))
        }
        return left
    }

    private mutating func parseMultiplicative() throws(JinjaError) -> Expression {
        var left = try parsePower()
        while case .symbol(let symbol) = current.kind,
              let binaryOperator = BinaryOperator(rawValue: symbol),
              [.multiply, .divide, .floorDivide, .modulo].contains(binaryOperator) {
            advance()
            let right = try parsePower()
            left = try checked(Expression(kind: .binary(binaryOperator, left, right), position: left.position))
        }
        return left
    }

    /// jinja2 parses `**` left-associatively (`2 ** 3 ** 2` is 64), unlike Python.
    private mutating func parsePower() throws(JinjaError) -> Expression {
        var left = try parseUnary()
        while skipSymbol("**") {
            let right = try parseUnary()
            left = try checked(Expression(kind: .binary(.power, left, right), position: left.position))
        }
        return left
    }

    mutating func parseUnary(allowsFilters: Bool = true) throws(JinjaError) -> Expression {
        try nested { (parser: inout Parser) throws(JinjaError) in
            let position = parser.current.position
            var node: Expression
            if parser.skipSymbol("-") {
                node = Expression(kind: .unary(.negate, try parser.parseUnary(allowsFilters: false)), position: position)
            } else if parser.skipSymbol("+") {
                node = Expression(kind: .unary(.plus, try parser.parseUnary(allowsFilters: false)), position: position)
            } else {
                node = try parser.parsePrimary()
            }
            node = try parser.parsePostfix(node)
            if allowsFilters { node = try parser.parseFilterAndTests(node) }
            return try parser.checked(node)
        }
    }

    private mutating func parsePrimary() throws(JinjaError) -> Expression {
        let token = current
        switch token.kind {
        case .name(let name):
            advance()
            switch name {
            case "true", "True": return Expression(kind: .literal(.bool(true)), position: token.position)
            case "false", "False": return Expression(kind: .literal(.bool(false)), position: token.position)
            case "none", "None": return Expression(kind: .literal(.none), position: token.position)
            default: return Expression(kind: .variable(name), position: token.position)
            }
        case .string(var text):
            advance()
            // Adjacent string literals concatenate, as in Python.
            while case .string(let next) = current.kind {
                text += next
                advance()
            }
            return Expression(kind: .literal(.string(text)), position: token.position)
        case .integer(let value):
            advance()
            return Expression(kind: .literal(.int(value)), position: token.position)
        case .float(let value):
            advance()
            return Expression(kind: .literal(.double(value)), position: token.position)
        case .symbol("("):
            advance()
            let inner = try parseTuple(explicitParentheses: true)
            try expectSymbol(")")
            return inner
        case .symbol("["):
            return try parseList()
        case .symbol("{"):
            return try parseDictionary()
        default:
            throw error("unexpected '\(token.displayName)'")
        }
    }

    private mutating func parseList() throws(JinjaError) -> Expression {
        let position = current.position
        try expectSymbol("[")
        var items: [Expression] = []
        while !current.isSymbol("]") {
            if !items.isEmpty { try expectSymbol(",") }
            if current.isSymbol("]") { break }
            items.append(try parseExpression())
        }
        try expectSymbol("]")
        return Expression(kind: .list(items), position: position)
    }

    private mutating func parseDictionary() throws(JinjaError) -> Expression {
        let position = current.position
        try expectSymbol("{")
        var entries: [DictionaryEntry] = []
        while !current.isSymbol("}") {
            if !entries.isEmpty { try expectSymbol(",") }
            if current.isSymbol("}") { break }
            let key = try parseExpression()
            try expectSymbol(":")
            entries.append(DictionaryEntry(key: key, value: try parseExpression()))
        }
        try expectSymbol("}")
        return Expression(kind: .dictionary(entries), position: position)
    }
}
