/// A value as a template sees it: the JSON-like types transformers passes in, plus the runtime-only
/// kinds jinja2 has (callables, namespaces, lazy generators).
public indirect enum JinjaValue: Sendable, Equatable {
    case undefined
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    case object(JinjaObject)
    /// Macros, globals such as `range`, and bound methods like `'a,b'.split`.
    case callable(JinjaCallable)
    /// A `namespace(...)` object; its attributes live in the render that created it, because
    /// `{% set ns.x = ... %}` must be visible through every reference to it.
    case namespace(JinjaNamespaceReference)
    /// What jinja2's `map`, `select`, `selectattr`, ... return: a generator, which is always truthy,
    /// has no length and cannot be serialised by `tojson`.
    case generator([JinjaValue])
    /// markupsafe's `Markup`, produced by `safe` and `escape`: a string that escapes whatever
    /// plain string is `+`-ed to it (`'<b>'|safe + '<'` gives `<b>&lt;`).
    case markup(String)
    /// A Python tuple (`(a, b)`, `varargs`, `items()` pairs): a list that prints as `(a, b)`,
    /// is never equal to a list, and counts as several arguments to `%`.
    case tuple([JinjaValue])
}

/// Opaque handle to a namespace created during one render.
public struct JinjaNamespaceReference: Sendable, Equatable {
    let identifier: Int
}

/// Opaque callable value; only the interpreter can create and call these.
public struct JinjaCallable: Sendable, Equatable {
    enum Kind: Sendable {
        case macro(MacroDefinition, captured: [String: JinjaValue])
        case global(String)
        case method(receiver: JinjaValue, name: String)
        /// A mutating method (`list.append`, `dict.update`, ...) the immutable sandbox refuses to call.
        case unsafeMethod(typeName: String, name: String)
        case loopCycle(index0: Int)
    }

    let kind: Kind

    var displayName: String {
        switch kind {
        case .macro(let definition, _): return definition.name
        case .global(let name): return name
        case .method(_, let name): return name
        case .unsafeMethod(_, let name): return name
        case .loopCycle: return "cycle"
        }
    }

    public static func == (lhs: JinjaCallable, rhs: JinjaCallable) -> Bool {
        switch (lhs.kind, rhs.kind) {
        case (.macro(let left, _), .macro(let right, _)):
            return left.name == right.name && left.position == right.position
        case (.global(let left), .global(let right)):
            return left == right
        case (.method(let leftReceiver, let left), .method(let rightReceiver, let right)):
            return left == right && leftReceiver == rightReceiver
        default:
            return false
        }
    }
}

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JinjaValue)...) { self = .object(JinjaObject(elements)) }
    public init(nilLiteral: ()) { self = .none }
}

extension JinjaValue {
    /// Python truthiness, which `if`, `and`, `or`, `not` and `default(..., true)` use.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let value): return value
        case .int(let value): return value != 0
        case .double(let value): return value != 0
        case .string(let value), .markup(let value): return !value.isEmpty
        case .array(let items), .tuple(let items): return !items.isEmpty
        case .object(let object): return !object.isEmpty
        case .callable, .namespace, .generator: return true
        }
    }

    /// The Python type name, used in error messages the way Python words them.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .tuple: return "tuple"
        case .object: return "dict"
        case .callable(let callable):
            if case .macro = callable.kind { return "Macro" }
            return "builtin_function_or_method"
        case .namespace: return "Namespace"
        case .generator: return "generator"
        case .markup: return "Markup"
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    var isNumber: Bool {
        switch self {
        case .bool, .int, .double: return true
        default: return false
        }
    }

    var stringValue: String? {
        switch self {
        case .string(let value), .markup(let value): return value
        default: return nil
        }
    }

    /// Markup behaves as a plain string everywhere except `+`, `*`, `%` and a few filters; other
    /// code paths see it through this normalisation.
    var withoutMarkup: JinjaValue {
        if case .markup(let text) = self { return .string(text) }
        return self
    }

    /// The items of a list or tuple.
    var sequenceItems: [JinjaValue]? {
        switch self {
        case .array(let items), .tuple(let items): return items
        default: return nil
        }
    }

    var isMarkup: Bool {
        if case .markup = self { return true }
        return false
    }
}
