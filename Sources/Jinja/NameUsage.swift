/// Whether a macro body refers to a name. jinja2 decides at compile time whether a macro accepts
/// extra arguments (`varargs`/`kwargs`) or a `caller` by looking for these names in its body.
extension Array where Element == Statement {
    func mentions(_ name: String) -> Bool {
        contains { $0.mentions(name) }
    }
}

extension Statement {
    func mentions(_ name: String) -> Bool {
        switch kind {
        case .text, .breakLoop, .continueLoop:
            return false
        case .output(let expression):
            return expression.mentions(name)
        case .conditional(let branches, let elseBody):
            return branches.contains { $0.condition.mentions(name) || $0.body.mentions(name) } || elseBody.mentions(name)
        case .forLoop(let loop):
            return loop.iterable.mentions(name) || (loop.filter?.mentions(name) ?? false)
                || loop.body.mentions(name) || loop.elseBody.mentions(name)
        case .assign(_, let value):
            return value.mentions(name)
        case .assignBlock(_, let filters, let body):
            return filters.contains { $0.arguments.mentions(name) } || body.mentions(name)
        case .macro(let definition):
            // Nested macros see the outer macro's names through their closure.
            return definition.body.mentions(name) || definition.parameters.contains { $0.defaultValue?.mentions(name) ?? false }
        case .callBlock(let call, let caller):
            return call.mentions(name) || caller.body.mentions(name)
        case .filterBlock(let filters, let body):
            return filters.contains { $0.arguments.mentions(name) } || body.mentions(name)
        case .with(let assignments, let body):
            return assignments.contains { $0.1.mentions(name) } || body.mentions(name)
        case .scoped(let body):
            return body.mentions(name)
        }
    }
}

extension Array where Element == Argument {
    func mentions(_ name: String) -> Bool {
        contains { $0.value.mentions(name) }
    }
}

extension Expression {
    func mentions(_ name: String) -> Bool {
        switch kind {
        case .literal: return false
        case .variable(let variable): return variable == name
        case .list(let items), .tuple(let items): return items.contains { $0.mentions(name) }
        case .dictionary(let entries): return entries.contains { $0.key.mentions(name) || $0.value.mentions(name) }
        case .attribute(let base, _): return base.mentions(name)
        case .item(let base, let key): return base.mentions(name) || key.mentions(name)
        case .slice(let base, let start, let stop, let step):
            return base.mentions(name) || [start, stop, step].contains { $0?.mentions(name) ?? false }
        case .call(let callee, let arguments): return callee.mentions(name) || arguments.mentions(name)
        case .filter(let base, _, let arguments), .test(let base, _, let arguments, _):
            return base.mentions(name) || arguments.mentions(name)
        case .unary(_, let operand): return operand.mentions(name)
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right):
            return left.mentions(name) || right.mentions(name)
        case .compare(let left, let comparisons):
            return left.mentions(name) || comparisons.contains { $0.operand.mentions(name) }
        case .conditional(let condition, let then, let otherwise):
            return condition.mentions(name) || then.mentions(name) || (otherwise?.mentions(name) ?? false)
        }
    }
}
