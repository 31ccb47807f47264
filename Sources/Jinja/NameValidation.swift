/// jinja2 rejects unknown filter and test names when it compiles a template, except inside `if`
/// statements and `x if c else y` expressions (its "soft frames"), where the lookup is deferred
/// to runtime so templates can guard optional filters. This walk reproduces that rule.
enum NameValidation {
    static func check(_ statements: [Statement], soft: Bool) throws(JinjaError) {
        for statement in statements { try check(statement, soft: soft) }
    }

    private static func check(_ statement: Statement, soft: Bool) throws(JinjaError) {
        switch statement.kind {
        case .text, .breakLoop, .continueLoop:
            return
        case .output(let expression), .assign(_, let expression):
            try check(expression, soft: soft)
        case .conditional(let branches, let elseBody):
            for branch in branches {
                try check(branch.condition, soft: true)
                try check(branch.body, soft: true)
            }
            try check(elseBody, soft: true)
        case .forLoop(let loop):
            // The iterable belongs to the enclosing frame; the body and loop filter get a new one.
            try check(loop.iterable, soft: soft)
            if let filter = loop.filter { try check(filter, soft: false) }
            try check(loop.body, soft: false)
            try check(loop.elseBody, soft: false)
        case .assignBlock(_, let filters, let body), .filterBlock(let filters, let body):
            try check(filters)
            try check(body, soft: false)
        case .macro(let definition):
            try check(definition, soft: false)
        case .callBlock(let call, let caller):
            try check(call, soft: soft)
            try check(caller, soft: false)
        case .with(let assignments, let body):
            for (_, value) in assignments { try check(value, soft: soft) }
            try check(body, soft: false)
        case .scoped(let body):
            try check(body, soft: false)
        }
    }

    private static func check(_ definition: MacroDefinition, soft: Bool) throws(JinjaError) {
        for parameter in definition.parameters {
            if let defaultValue = parameter.defaultValue { try check(defaultValue, soft: soft) }
        }
        try check(definition.body, soft: soft)
    }

    private static func check(_ filters: [FilterApplication]) throws(JinjaError) {
        for filter in filters {
            if !FilterCatalog.names.contains(filter.name) {
                throw JinjaError(.syntax, "No filter named '\(filter.name)'.", at: filter.position)
            }
            try check(filter.arguments, soft: false)
        }
    }

    private static func check(_ arguments: [Argument], soft: Bool) throws(JinjaError) {
        for argument in arguments { try check(argument.value, soft: soft) }
    }

    private static func check(_ expression: Expression, soft: Bool) throws(JinjaError) {
        switch expression.kind {
        case .literal, .variable:
            return
        case .list(let items), .tuple(let items):
            for item in items { try check(item, soft: soft) }
        case .dictionary(let entries):
            for entry in entries {
                try check(entry.key, soft: soft)
                try check(entry.value, soft: soft)
            }
        case .attribute(let base, _):
            try check(base, soft: soft)
        case .item(let base, let key):
            try check(base, soft: soft)
            try check(key, soft: soft)
        case .slice(let base, let start, let stop, let step):
            try check(base, soft: soft)
            for part in [start, stop, step] { if let part { try check(part, soft: soft) } }
        case .call(let callee, let arguments):
            try check(callee, soft: soft)
            try check(arguments, soft: soft)
        case .filter(let base, let name, let arguments):
            if !soft && !FilterCatalog.names.contains(name) {
                throw JinjaError(.syntax, "No filter named '\(name)'.", at: expression.position)
            }
            try check(base, soft: soft)
            try check(arguments, soft: soft)
        case .test(let base, let name, let arguments, _):
            if !soft && !TestCatalog.names.contains(name) {
                throw JinjaError(.syntax, "No test named '\(name)'.", at: expression.position)
            }
            try check(base, soft: soft)
            try check(arguments, soft: soft)
        case .unary(_, let operand):
            try check(operand, soft: soft)
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right):
            try check(left, soft: soft)
            try check(right, soft: soft)
        case .compare(let left, let comparisons):
            try check(left, soft: soft)
            for comparison in comparisons { try check(comparison.operand, soft: soft) }
        case .conditional(let condition, let then, let otherwise):
            try check(condition, soft: true)
            try check(then, soft: true)
            if let otherwise { try check(otherwise, soft: true) }
        }
    }
}
