/// The parsed form of a template. Every node records where it came from so runtime errors can
/// report a line and column.
struct Expression: Sendable {
    var kind: ExpressionKind
    var position: SourcePosition
    /// Height of this subtree. Long operator chains (`a ~ b ~ c ...`) build deep left-leaning
    /// trees without parser recursion, so the parser caps this too: evaluation recurses on it.
    let depth: Int

    init(kind: ExpressionKind, position: SourcePosition) {
        self.kind = kind
        self.position = position
        self.depth = 1 + kind.children.reduce(0) { max($0, $1.depth) }
    }
}

extension ExpressionKind {
    var children: [Expression] {
        switch self {
        case .literal, .variable: return []
        case .list(let items), .tuple(let items): return items
        case .dictionary(let entries): return entries.flatMap { [$0.key, $0.value] }
        case .attribute(let base, _): return [base]
        case .item(let base, let key): return [base, key]
        case .slice(let base, let start, let stop, let step): return [base] + [start, stop, step].compactMap { $0 }
        case .call(let callee, let arguments): return [callee] + arguments.map(\.value)
        case .filter(let base, _, let arguments), .test(let base, _, let arguments, _):
            return [base] + arguments.map(\.value)
        case .unary(_, let operand): return [operand]
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right): return [left, right]
        case .compare(let left, let comparisons): return [left] + comparisons.map(\.operand)
        case .conditional(let condition, let then, let otherwise): return [condition, then] + (otherwise.map { [$0] } ?? [])
        }
    }
}

/// One argument at a call site: positional, `name=value`, `*sequence` or `**mapping`.
struct Argument: Sendable {
    enum Kind: Sendable { case positional, keyword(String), unpackedSequence, unpackedMapping }
    var kind: Kind
    var value: Expression
}

struct DictionaryEntry: Sendable {
    var key: Expression
    var value: Expression
}

struct Comparison: Sendable {
    var comparisonOperator: ComparisonOperator
    var operand: Expression
}

enum ComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case contains = "in", notContains = "not in"
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
    case concatenate = "~"
}

enum UnaryOperator: String, Sendable {
    case not, negate = "-", plus = "+"
}

indirect enum ExpressionKind: Sendable {
    case literal(JinjaValue)
    case variable(String)
    case list([Expression])
    /// Tuples evaluate to lists: this interpreter does not distinguish the two.
    case tuple([Expression])
    case dictionary([DictionaryEntry])
    /// `a.b`: attribute first, then item (jinja2's `getattr`).
    case attribute(Expression, String)
    /// `a[b]`: item first, then attribute (jinja2's `getitem`).
    case item(Expression, Expression)
    case slice(Expression, start: Expression?, stop: Expression?, step: Expression?)
    case call(Expression, [Argument])
    case filter(Expression, name: String, arguments: [Argument])
    case test(Expression, name: String, arguments: [Argument], negated: Bool)
    case unary(UnaryOperator, Expression)
    case binary(BinaryOperator, Expression, Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case compare(Expression, [Comparison])
    /// `a if b else c`; without `else` the result is undefined when the condition is false.
    case conditional(condition: Expression, then: Expression, otherwise: Expression?)
}

/// Where `set`, `for` and `with` store values.
indirect enum AssignmentTarget: Sendable {
    case name(String)
    case tuple([AssignmentTarget])
    /// `ns.attribute`, only valid when `ns` is a namespace.
    case namespaceAttribute(namespace: String, attribute: String)
}

struct FilterApplication: Sendable {
    var name: String
    var arguments: [Argument]
    var position: SourcePosition
}

struct Statement: Sendable {
    var kind: StatementKind
    var position: SourcePosition
}

struct ConditionalBranch: Sendable {
    var condition: Expression
    var body: [Statement]
}

struct ForLoop: Sendable {
    var target: AssignmentTarget
    var iterable: Expression
    var filter: Expression?
    var body: [Statement]
    var elseBody: [Statement]
    var isRecursive: Bool
}

struct MacroParameter: Sendable {
    var name: String
    var defaultValue: Expression?
}

/// A `{% macro %}` (or the body of a `{% call %}` block, which jinja2 compiles as a macro named `caller`).
struct MacroDefinition: Sendable {
    var name: String
    var parameters: [MacroParameter]
    var body: [Statement]
    var position: SourcePosition
    /// Extra positional/keyword arguments are only accepted when the body mentions `varargs`/`kwargs`.
    var acceptsVarargs: Bool
    var acceptsKeywordArguments: Bool
}

indirect enum StatementKind: Sendable {
    case text(String)
    case output(Expression)
    case conditional([ConditionalBranch], elseBody: [Statement])
    case forLoop(ForLoop)
    case assign(AssignmentTarget, Expression)
    case assignBlock(AssignmentTarget, filters: [FilterApplication], body: [Statement])
    case macro(MacroDefinition)
    case callBlock(call: Expression, caller: MacroDefinition)
    case filterBlock([FilterApplication], body: [Statement])
    case with([(AssignmentTarget, Expression)], body: [Statement])
    /// A body rendered in its own scope, like jinja2's CallBlock for `{% generation %}`.
    case scoped([Statement])
    case breakLoop
    case continueLoop
}
