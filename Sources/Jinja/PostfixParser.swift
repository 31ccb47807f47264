/// Postfix syntax: attribute and item access, slices, calls, `|filter` and `is test`.
/// Filter and test names are checked afterwards by `NameValidation`.
extension Parser {
    mutating func parsePostfix(_ base: Expression) throws(JinjaError) -> Expression {
        var node = base
        while true {
            let token = current
            if skipSymbol(".") {
                switch current.kind {
                case .name(let name):
                    advance()
                    node = Expression(kind: .attribute(node, name), position: token.position)
                case .integer(let value):
                    advance()
                    let key = Expression(kind: .literal(.int(value)), position: token.position)
                    node = Expression(kind: .item(node, key), position: token.position)
                default:
                    throw error("expected name or number")
                }
            } else if skipSymbol("[") {
                var subscripts: [Expression] = []
                while !current.isSymbol("]") {
                    if !subscripts.isEmpty { try expectSymbol(",") }
                    subscripts.append(try parseSubscript(of: node))
                }
                try expectSymbol("]")
                if subscripts.count == 1, case .slice = subscripts[0].kind {
                    node = subscripts[0]
                } else {
                    let key = subscripts.count == 1
                        ? subscripts[0] : Expression(kind: .tuple(subscripts), position: token.position)
                    node = Expression(kind: .item(node, key), position: token.position)
                }
            } else if current.isSymbol("(") {
                // Calls report errors at the start of the callee (`raise_exception(...)`).
                node = Expression(kind: .call(node, try parseCallArguments()), position: node.position)
            } else {
                return node
            }
            node = try checked(node)
        }
    }

    /// One subscript inside `[...]`: an expression, or a slice `start:stop:step` with optional parts.
    private mutating func parseSubscript(of base: Expression) throws(JinjaError) -> Expression {
        let position = current.position
        var start: Expression?
        if !current.isSymbol(":") {
            let expression = try parseExpression()
            guard current.isSymbol(":") else { return expression }
            start = expression
        }
        advance() // first ':'
        var stop: Expression?
        if !current.isSymbol(":"), !current.isSymbol("]"), !current.isSymbol(",") {
            stop = try parseExpression()
        }
        var step: Expression?
        if skipSymbol(":"), !current.isSymbol("]"), !current.isSymbol(",") {
            step = try parseExpression()
        }
        return Expression(kind: .slice(base, start: start, stop: stop, step: step), position: position)
    }

    mutating func parseCallArguments() throws(JinjaError) -> [Argument] {
        try expectSymbol("(")
        var arguments: [Argument] = []
        var sawKeyword = false
        while !current.isSymbol(")") {
            if !arguments.isEmpty {
                try expectSymbol(",")
                if current.isSymbol(")") { break }
            }
            if skipSymbol("*") {
                arguments.append(Argument(kind: .unpackedSequence, value: try parseExpression()))
            } else if skipSymbol("**") {
                arguments.append(Argument(kind: .unpackedMapping, value: try parseExpression()))
            } else if case .name(let name) = current.kind, peek().isSymbol("=") {
                advance()
                advance()
                arguments.append(Argument(kind: .keyword(name), value: try parseExpression()))
                sawKeyword = true
            } else {
                if sawKeyword { throw error("Invalid argument syntax") }
                arguments.append(Argument(kind: .positional, value: try parseExpression()))
            }
        }
        try expectSymbol(")")
        return arguments
    }

    mutating func parseFilterAndTests(_ base: Expression) throws(JinjaError) -> Expression {
        var node = base
        while true {
            if current.isSymbol("|") {
                for filter in try parseFilterChain(startsInline: false) {
                    node = try checked(Expression(kind: .filter(node, name: filter.name, arguments: filter.arguments),
                                                  position: filter.position))
                }
            } else if current.isName("is") {
                node = try parseTest(node)
            } else if current.isSymbol("(") {
                node = Expression(kind: .call(node, try parseCallArguments()), position: node.position)
            } else {
                return node
            }
            node = try checked(node)
        }
    }

    /// `| name(args) | name ...`; `startsInline` for `{% filter upper %}` where the first `|` is absent.
    mutating func parseFilterChain(startsInline: Bool) throws(JinjaError) -> [FilterApplication] {
        var filters: [FilterApplication] = []
        var inline = startsInline
        while inline || current.isSymbol("|") {
            if !inline { advance() }
            inline = false
            let token = current
            let name = try parseDottedName()
            let arguments = current.isSymbol("(") ? try parseCallArguments() : []
            filters.append(FilterApplication(name: name, arguments: arguments, position: token.position))
        }
        return filters
    }

    private mutating func parseDottedName() throws(JinjaError) -> String {
        var name = try expectName()
        while current.isSymbol("."), case .name(let part) = peek().kind {
            advance()
            advance()
            name += "." + part
        }
        return name
    }

    private mutating func parseTest(_ base: Expression) throws(JinjaError) -> Expression {
        let position = current.position
        advance() // is
        let negated = skipName("not")
        let name = try parseDottedName()
        var arguments: [Argument] = []
        if current.isSymbol("(") {
            arguments = try parseCallArguments()
        } else if startsBareTestArgument {
            if current.isName("is") { throw error("You cannot chain multiple tests with is") }
            // `x is divisibleby 3`, `x is sameas none`: one primary expression without parentheses.
            let argument = try parseUnary(allowsFilters: false)
            arguments = [Argument(kind: .positional, value: argument)]
        }
        return Expression(kind: .test(base, name: name, arguments: arguments, negated: negated), position: position)
    }

    private var startsBareTestArgument: Bool {
        switch current.kind {
        case .name(let name): return !["else", "or", "and"].contains(name)
        case .string, .integer, .float: return true
        case .symbol(let symbol): return symbol == "(" || symbol == "[" || symbol == "{"
        default: return false
        }
    }
}
