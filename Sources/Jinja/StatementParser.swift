/// The `{% ... %}` statements transformers' environment understands: jinja2's built-ins, the
/// `loopcontrols` extension (break/continue) and transformers' `{% generation %}` extension.
extension Parser {
    /// Parses one statement after `{%`; leaves the parser on the closing `%}`.
    mutating func parseStatement() throws(JinjaError) -> Statement? {
        let token = current
        guard case .name(let keyword) = token.kind else {
            throw error("tag name expected")
        }
        advance()
        let kind: StatementKind
        switch keyword {
        case "if": kind = try parseIf()
        case "for": kind = try parseFor()
        case "set": kind = try parseSet()
        case "macro": kind = try parseMacro()
        case "call": kind = try parseCallBlock()
        case "filter": kind = try parseFilterBlock()
        case "with": kind = try parseWith()
        case "generation":
            kind = .scoped(try parseBlockBody("generation", until: ["endgeneration"]))
            advance()
        case "break", "continue":
            guard loopDepth > 0 else { throw error("'\(keyword)' outside loop", at: token) }
            kind = keyword == "break" ? .breakLoop : .continueLoop
        default:
            if let endNames = expectedEndNames.last, !endNames.isEmpty {
                throw error(unclosedBlockMessage(expecting: endNames, unexpected: keyword), at: token)
            }
            throw error("Encountered unknown tag '\(keyword)'.", at: token)
        }
        return Statement(kind: kind, position: token.position)
    }

    private mutating func parseIf() throws(JinjaError) -> StatementKind {
        var branches: [ConditionalBranch] = []
        var elseBody: [Statement] = []
        var condition = try parseTuple(allowsConditional: false)
        while true {
            let body = try parseBlockBody("if", until: ["elif", "else", "endif"])
            branches.append(ConditionalBranch(condition: condition, body: body))
            if skipName("elif") {
                condition = try parseTuple(allowsConditional: false)
                continue
            }
            if skipName("else") {
                elseBody = try parseBlockBody("if", until: ["endif"])
            }
            advance() // endif
            return .conditional(branches, elseBody: elseBody)
        }
    }

    private mutating func parseFor() throws(JinjaError) -> StatementKind {
        let target = try parseAssignmentTarget(extraEndNames: ["in"], allowsNamespace: false)
        guard skipName("in") else { throw error("expected 'in', got '\(current.displayName)'") }
        let iterable = try parseTuple(allowsConditional: false, extraEndNames: ["recursive"])
        var filter: Expression?
        if skipName("if") { filter = try parseExpression() }
        let isRecursive = skipName("recursive")
        loopDepth += 1
        let body = try parseBlockBody("for", until: ["endfor", "else"])
        loopDepth -= 1
        var elseBody: [Statement] = []
        if skipName("else") {
            elseBody = try parseBlockBody("for", until: ["endfor"])
        }
        advance() // endfor
        return .forLoop(ForLoop(target: target, iterable: iterable, filter: filter, body: body,
                                elseBody: elseBody, isRecursive: isRecursive))
    }

    private mutating func parseSet() throws(JinjaError) -> StatementKind {
        let target = try parseAssignmentTarget(extraEndNames: [], allowsNamespace: true)
        if skipSymbol("=") {
            return .assign(target, try parseTuple())
        }
        let filters = try parseFilterChain(startsInline: false)
        let body = try parseBlockBody("set", until: ["endset"])
        advance() // endset
        return .assignBlock(target, filters: filters, body: body)
    }

    private mutating func parseMacro() throws(JinjaError) -> StatementKind {
        let position = current.position
        let name = try expectName()
        let parameters = try parseMacroSignature()
        let definition = try parseMacroBody(name: name, parameters: parameters, position: position,
                                            block: "macro", endName: "endmacro")
        return .macro(definition)
    }

    private mutating func parseMacroSignature() throws(JinjaError) -> [MacroParameter] {
        try expectSymbol("(")
        var parameters: [MacroParameter] = []
        while !current.isSymbol(")") {
            if !parameters.isEmpty { try expectSymbol(",") }
            let name = try expectName()
            var defaultValue: Expression?
            if skipSymbol("=") { defaultValue = try parseExpression() }
            parameters.append(MacroParameter(name: name, defaultValue: defaultValue))
        }
        try expectSymbol(")")
        return parameters
    }

    private mutating func parseMacroBody(
        name: String, parameters: [MacroParameter], position: SourcePosition, block: String, endName: String
    ) throws(JinjaError) -> MacroDefinition {
        // A macro body is its own function: loop controls do not reach an enclosing for.
        let savedLoopDepth = loopDepth
        loopDepth = 0
        let body = try parseBlockBody(block, until: [endName])
        loopDepth = savedLoopDepth
        advance() // end tag name
        return MacroDefinition(
            name: name, parameters: parameters, body: body, position: position,
            acceptsVarargs: body.mentions("varargs"), acceptsKeywordArguments: body.mentions("kwargs"))
    }

    private mutating func parseCallBlock() throws(JinjaError) -> StatementKind {
        let position = current.position
        let parameters = current.isSymbol("(") ? try parseMacroSignature() : []
        let call = try parseExpression()
        guard case .call = call.kind else { throw error("expected call", at: tokens[index - 1]) }
        let caller = try parseMacroBody(name: "caller", parameters: parameters, position: position,
                                        block: "call", endName: "endcall")
        return .callBlock(call: call, caller: caller)
    }

    private mutating func parseFilterBlock() throws(JinjaError) -> StatementKind {
        let filters = try parseFilterChain(startsInline: true)
        let body = try parseBlockBody("filter", until: ["endfilter"])
        advance() // endfilter
        return .filterBlock(filters, body: body)
    }

    private mutating func parseWith() throws(JinjaError) -> StatementKind {
        var assignments: [(AssignmentTarget, Expression)] = []
        while !isBlockEnd {
            if !assignments.isEmpty { try expectSymbol(",") }
            let target = try parseAssignmentTarget(extraEndNames: [], allowsNamespace: false)
            try expectSymbol("=")
            assignments.append((target, try parseExpression()))
        }
        let body = try parseBlockBody("with", until: ["endwith"])
        advance() // endwith
        return .with(assignments, body: body)
    }

    var isBlockEnd: Bool {
        if case .blockEnd = current.kind { return true }
        return false
    }

    /// jinja2's `parse_assign_target`: a name, `ns.attr` (set only), or a tuple of names.
    mutating func parseAssignmentTarget(
        extraEndNames: Set<String>, allowsNamespace: Bool
    ) throws(JinjaError) -> AssignmentTarget {
        if allowsNamespace, case .name(let namespace) = current.kind, peek().isSymbol(".") {
            advance()
            advance()
            let attribute = try expectName()
            return .namespaceAttribute(namespace: namespace, attribute: attribute)
        }
        var targets: [AssignmentTarget] = []
        var isTuple = false
        while true {
            if !targets.isEmpty { try expectSymbol(",") }
            if isTupleEnd(extraEndNames: extraEndNames) { break }
            targets.append(try parseSingleTarget(extraEndNames: extraEndNames))
            if current.isSymbol(",") { isTuple = true } else { break }
        }
        if !isTuple, let only = targets.first { return only }
        guard !targets.isEmpty else { throw error("can't assign to '\(current.displayName)'") }
        return .tuple(targets)
    }

    private mutating func parseSingleTarget(extraEndNames: Set<String>) throws(JinjaError) -> AssignmentTarget {
        if skipSymbol("(") {
            let inner = try parseAssignmentTarget(extraEndNames: extraEndNames, allowsNamespace: false)
            try expectSymbol(")")
            return inner
        }
        guard case .name(let name) = current.kind else {
            throw error("can't assign to '\(current.displayName)'")
        }
        if ["true", "false", "none", "True", "False", "None"].contains(name) {
            throw error("can't assign to '\(name)'")
        }
        advance()
        return .name(name)
    }
}
