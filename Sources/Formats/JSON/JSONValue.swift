/// A JSON document that keeps object key order and numbers as written: safetensors headers need exact
/// 64-bit offsets and duplicate-key detection, which Foundation's JSONSerialization gives neither.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's text as written (e.g. "16", "-1.5e-3"), so integers up to 2^64-1 stay exact.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Keys in document order; the parser rejects duplicates.
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    /// Shortest text that reads back to the same Double; NaN and infinities have no JSON form and become null.
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number(value.description) : .null
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: [(String, JSONValue)]? { if case .object(let o) = self { o } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }

    /// A non-negative integer written without fraction or exponent, within UInt64.
    public var uint64Value: UInt64? {
        guard case .number(let text) = self else { return nil }
        return UInt64(text)
    }

    public var int64Value: Int64? {
        guard case .number(let text) = self else { return nil }
        return Int64(text)
    }

    public var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }
}
