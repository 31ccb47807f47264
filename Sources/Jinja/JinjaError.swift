/// Every failure the interpreter reports: syntax errors found while parsing, and runtime errors
/// (undefined access, type errors, template-raised errors, exceeded limits) found while rendering.
public struct JinjaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The template source could not be parsed (jinja2's TemplateSyntaxError/TemplateAssertionError).
        case syntax
        /// An undefined value was used in a way jinja2's default `Undefined` refuses (attribute, call, arithmetic).
        case undefined
        /// An operation was applied to values of the wrong type (Python's TypeError).
        case type
        /// A value was of the right type but unacceptable (Python's ValueError, ZeroDivisionError, ...).
        case value
        /// The template itself called `raise_exception(message)`.
        case raised
        /// A resource limit from `JinjaLimits` was exceeded.
        case limit
        /// The immutable sandbox refused an operation (e.g. `list.append`).
        case security
    }

    public var kind: Kind
    /// The bare message; for `raise_exception('msg')` it is exactly `msg`.
    public var message: String
    /// 1-based line of the offending token, when known.
    public var line: Int?
    /// 1-based column (in Unicode scalars) of the offending token, when known.
    public var column: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    /// True when the error comes from the template's own `raise_exception(...)`.
    public var isRaisedByTemplate: Bool { kind == .raised }

    public var description: String {
        guard let line else { return message }
        if let column { return "line \(line), column \(column): \(message)" }
        return "line \(line): \(message)"
    }

    init(_ kind: Kind, _ message: String, at position: SourcePosition) {
        self.init(kind, message, line: position.line, column: position.column)
    }

    /// Runtime helpers throw without knowing where they were called from; the evaluator attaches the
    /// position of the innermost node that failed, and outer nodes keep it.
    func located(at position: SourcePosition) -> JinjaError {
        guard line == nil else { return self }
        var copy = self
        copy.line = position.line
        copy.column = position.column
        return copy
    }
}

/// Shorthands used throughout the runtime, named after the Python exceptions jinja2 would raise.
extension JinjaError {
    static func typeError(_ message: String) -> JinjaError { JinjaError(.type, message) }
    static func valueError(_ message: String) -> JinjaError { JinjaError(.value, message) }
    static func undefinedError(_ message: String) -> JinjaError { JinjaError(.undefined, message) }
    static func securityError(_ message: String) -> JinjaError { JinjaError(.security, message) }
}
