/// Calling callable values: macros (and `caller`), globals, bound methods and `loop.cycle`.
extension Interpreter {
    func call(_ callable: JinjaCallable, _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        switch callable.kind {
        case .macro(let definition, let captured):
            return try callMacro(definition, captured: captured, arguments)
        case .global(let name):
            return try callGlobal(name, arguments.withoutMarkup)
        case .method(let receiver, let name):
            return try callMethod(name, on: receiver.withoutMarkup, arguments.withoutMarkup)
        case .unsafeMethod(let typeName, let name):
            throw JinjaError.securityError("access to attribute '\(name)' of '\(typeName)' object is unsafe.")
        case .loopCycle(let index0):
            guard !arguments.positional.isEmpty else { throw JinjaError.typeError("no items for cycling given") }
            return arguments.positional[index0 % arguments.positional.count]
        }
    }

    /// jinja2's `Macro.__call__`: positional then keyword binding, defaults evaluated in the macro's
    /// own scope, missing parameters undefined, extras only if the body uses `varargs`/`kwargs`.
    private func callMacro(
        _ definition: MacroDefinition, captured: [String: JinjaValue], _ arguments: CallArguments
    ) throws(JinjaError) -> JinjaValue {
        var locals = captured
        let parameters = definition.parameters
        var provided = [Bool](repeating: false, count: parameters.count)
        for (index, value) in arguments.positional.enumerated() where index < parameters.count {
            locals[parameters[index].name] = value
            provided[index] = true
        }
        var extraKeywords = JinjaObject()
        for (name, value) in arguments.keyword {
            if let index = parameters.firstIndex(where: { $0.name == name }) {
                if provided[index] {
                    throw JinjaError.typeError("macro '\(definition.name)' got multiple values for argument '\(name)'")
                }
                locals[name] = value
                provided[index] = true
            } else if name == "caller" {
                locals["caller"] = value
            } else {
                extraKeywords[name] = value
            }
        }
        let extraPositional = Array(arguments.positional.dropFirst(parameters.count))
        if !extraPositional.isEmpty && !definition.acceptsVarargs {
            throw JinjaError.typeError(
                "macro '\(definition.name)' takes not more than \(parameters.count) argument(s)")
        }
        if let unexpected = extraKeywords.keys.first, !definition.acceptsKeywordArguments {
            throw JinjaError.typeError("macro '\(definition.name)' takes no keyword argument '\(unexpected)'")
        }
        locals["varargs"] = .tuple(extraPositional)
        locals["kwargs"] = .object(extraKeywords)

        try enterCall()
        defer { exitCall() }
        let savedFrames = frames
        frames = [frames[0], locals]
        defer { frames = savedFrames }
        for (index, parameter) in parameters.enumerated() where !provided[index] {
            if let defaultValue = parameter.defaultValue {
                assign(parameter.name, try evaluate(defaultValue))
            } else {
                assign(parameter.name, .undefined)
            }
        }
        let text = try capture { () throws(JinjaError) in _ = try execute(definition.body) }
        return .string(text)
    }
}
