/// How a statement list finished: normally, or unwinding to the nearest loop.
enum ControlFlow {
    case proceed
    case breakLoop
    case continueLoop
}

extension Interpreter {
    func execute(_ statements: [Statement]) throws(JinjaError) -> ControlFlow {
        for statement in statements {
            let flow: ControlFlow
            do {
                flow = try execute(statement)
            } catch {
                throw error.located(at: statement.position)
            }
            if case .proceed = flow { continue }
            return flow
        }
        return .proceed
    }

    private func execute(_ statement: Statement) throws(JinjaError) -> ControlFlow {
        switch statement.kind {
        case .text(let text):
            try write(text)
        case .output(let expression):
            try write(try evaluate(expression).pythonString)
        case .conditional(let branches, let elseBody):
            for branch in branches where try evaluate(branch.condition).isTruthy {
                return try execute(branch.body)
            }
            return try execute(elseBody)
        case .forLoop(let loop):
            try executeLoop(loop)
        case .assign(let target, let expression):
            try bind(target, to: try evaluate(expression))
        case .assignBlock(let target, let filters, let body):
            var value = JinjaValue.string(try capture { () throws(JinjaError) in _ = try execute(body) })
            value = try applyFilters(filters, to: value)
            try bind(target, to: value)
        case .macro(let definition):
            assign(definition.name, .callable(JinjaCallable(kind: .macro(definition, captured: capturedVariables()))))
        case .callBlock(let call, let callerDefinition):
            let caller = JinjaValue.callable(JinjaCallable(kind: .macro(callerDefinition, captured: capturedVariables())))
            try write(try evaluateCall(call, extraKeywordArguments: [("caller", caller)]).pythonString)
        case .filterBlock(let filters, let body):
            let text = try withScope { () throws(JinjaError) in
                try capture { () throws(JinjaError) in _ = try execute(body) }
            }
            try write(try applyFilters(filters, to: .string(text)).pythonString)
        case .with(let assignments, let body):
            var values: [(AssignmentTarget, JinjaValue)] = []
            for (target, expression) in assignments { values.append((target, try evaluate(expression))) }
            return try withScope { () throws(JinjaError) in
                for (target, value) in values { try bind(target, to: value) }
                return try execute(body)
            }
        case .scoped(let body):
            return try withScope { () throws(JinjaError) in try execute(body) }
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .proceed
    }

    private func applyFilters(_ filters: [FilterApplication], to value: JinjaValue) throws(JinjaError) -> JinjaValue {
        var result = value
        for filter in filters {
            do {
                let arguments = try evaluateArguments(filter.arguments)
                result = try applyFilter(filter.name, to: result, arguments)
            } catch {
                throw error.located(at: filter.position)
            }
        }
        return result
    }

    /// Stores a value into a `set`/`for`/`with` target, unpacking tuples like Python.
    func bind(_ target: AssignmentTarget, to value: JinjaValue) throws(JinjaError) {
        switch target {
        case .name(let name):
            assign(name, value)
        case .tuple(let targets):
            let items = try iterate(value)
            if items.count > targets.count {
                throw JinjaError.valueError("too many values to unpack (expected \(targets.count))")
            }
            if items.count < targets.count {
                throw JinjaError.valueError("not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            for (inner, item) in zip(targets, items) { try bind(inner, to: item) }
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let reference) = lookup(name) else {
                throw JinjaError(.type, "cannot assign attribute on non-namespace object")
            }
            try setNamespaceAttribute(reference, attribute, value)
        }
    }

    private func executeLoop(_ loop: ForLoop) throws(JinjaError) {
        if loop.isRecursive {
            throw JinjaError(.value, "recursive for loops ('for ... recursive' with loop(...)) are not supported")
        }
        var items = try iterate(try evaluate(loop.iterable))
        if let filter = loop.filter {
            var kept: [JinjaValue] = []
            for item in items {
                try countLoopIteration()
                let keep = try withScope { () throws(JinjaError) in
                    try bind(loop.target, to: item)
                    return try evaluate(filter).isTruthy
                }
                if keep { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try withScope { () throws(JinjaError) in try execute(loop.elseBody) }
            return
        }
        for (index, item) in items.enumerated() {
            try countLoopIteration()
            let flow = try withScope(["loop": loopVariable(index: index, items: items)]) { () throws(JinjaError) in
                try bind(loop.target, to: item)
                return try execute(loop.body)
            }
            if case .breakLoop = flow { break }
        }
    }

    /// jinja2's `LoopContext`, exposed as an object with the same attribute names.
    private func loopVariable(index: Int, items: [JinjaValue]) -> JinjaValue {
        let count = items.count
        var loop = JinjaObject()
        loop["index"] = .int(index + 1)
        loop["index0"] = .int(index)
        loop["revindex"] = .int(count - index)
        loop["revindex0"] = .int(count - index - 1)
        loop["first"] = .bool(index == 0)
        loop["last"] = .bool(index == count - 1)
        loop["length"] = .int(count)
        loop["depth"] = .int(1)
        loop["depth0"] = .int(0)
        loop["previtem"] = index > 0 ? items[index - 1] : .undefined
        loop["nextitem"] = index + 1 < count ? items[index + 1] : .undefined
        loop["cycle"] = .callable(JinjaCallable(kind: .loopCycle(index0: index)))
        return .object(loop)
    }

    /// What `for` iterates: list items, dict keys, string characters; undefined iterates as empty.
    func iterate(_ value: JinjaValue) throws(JinjaError) -> [JinjaValue] {
        switch value.withoutMarkup {
        case .undefined: return []
        case .array(let items), .tuple(let items), .generator(let items): return items
        case .object(let object): return object.keyValues
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        default: throw JinjaError.typeError("'\(value.typeName)' object is not iterable")
        }
    }
}
