/// An insertion-ordered dictionary: Python dicts keep insertion order, and `tojson`, `items()` and
/// printing must reproduce it. Keys are strings as far as callers are concerned; templates may
/// also build dicts with integer keys (`{0: 'a', 100: 'b'}`), which keep their integer identity
/// internally so lookups, `dictsort` and printing behave as in Python.
public struct JinjaObject: Sendable, Equatable, Sequence {
    /// A hashable dict key. Python treats `1`, `1.0` and `True` as the same key, so all map to `.integer`.
    enum EntryKey: Hashable, Sendable {
        case string(String)
        case integer(Int)

        /// nil for values Python could not hash (lists, dicts) or this type does not model.
        init?(_ value: JinjaValue) {
            switch value {
            case .string(let text), .markup(let text): self = .string(text)
            case .int(let number): self = .integer(number)
            case .bool(let flag): self = .integer(flag ? 1 : 0)
            case .double(let real):
                guard real.isFinite, real == real.rounded(.towardZero), abs(real) < 9e18 else { return nil }
                self = .integer(Int(real))
            default: return nil
            }
        }

        var value: JinjaValue {
            switch self {
            case .string(let text): return .string(text)
            case .integer(let number): return .int(number)
            }
        }

        /// `str(key)`, which is also how `json.dumps` writes non-string keys.
        var text: String {
            switch self {
            case .string(let text): return text
            case .integer(let number): return String(number)
            }
        }
    }

    private var order: [EntryKey] = []
    private var storage: [EntryKey: JinjaValue] = [:]

    public init() {}

    public init(_ pairs: [(String, JinjaValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral pairs: (String, JinjaValue)...) {
        self.init(pairs)
    }

    public var count: Int { order.count }
    public var isEmpty: Bool { order.isEmpty }

    /// The keys in insertion order, as strings (integer keys are written in decimal).
    public var keys: [String] { order.map(\.text) }

    public var values: [JinjaValue] { order.map { storage[$0] ?? .undefined } }

    /// Setting an existing key keeps its original position, as in Python.
    public subscript(key: String) -> JinjaValue? {
        get { storage[.string(key)] }
        set { self[EntryKey.string(key)] = newValue }
    }

    subscript(key: EntryKey) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { order.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                order.removeAll { $0 == key }
            }
        }
    }

    /// Keys as template values (`for k in dict`, `dict|list`, `dict|first`).
    var keyValues: [JinjaValue] { order.map(\.value) }

    /// Key/value pairs with keys as template values (`items()`, `dictsort`, printing).
    var entries: [(key: JinjaValue, value: JinjaValue)] {
        order.map { ($0.value, storage[$0] ?? .undefined) }
    }

    public func makeIterator() -> AnyIterator<(key: String, value: JinjaValue)> {
        var index = 0
        let order = self.order
        let storage = self.storage
        return AnyIterator {
            guard index < order.count else { return nil }
            defer { index += 1 }
            return (order[index].text, storage[order[index]] ?? .undefined)
        }
    }

    /// Python dict equality ignores order.
    public static func == (lhs: JinjaObject, rhs: JinjaObject) -> Bool {
        lhs.storage == rhs.storage
    }
}

extension JinjaObject: ExpressibleByDictionaryLiteral {}
