/// Evaluated call-site arguments, and their binding to Python-style signatures for the
/// built-in filters, tests, globals and methods.
struct CallArguments {
    var positional: [JinjaValue] = []
    var keyword: [(String, JinjaValue)] = []

    init(positional: [JinjaValue] = [], keyword: [(String, JinjaValue)] = []) {
        self.positional = positional
        self.keyword = keyword
    }

    var isEmpty: Bool { positional.isEmpty && keyword.isEmpty }

    var withoutMarkup: CallArguments {
        CallArguments(positional: positional.map(\.withoutMarkup), keyword: keyword.map { ($0.0, $0.1.withoutMarkup) })
    }

    /// Matches arguments to `parameters` by position, then by name, as Python would; returns one
    /// slot per parameter (nil where the caller gave nothing, so the callee applies its default).
    func bind(_ parameters: [String], function: String) throws(JinjaError) -> BoundArguments {
        if positional.count > parameters.count {
            throw JinjaError.typeError(
                "\(function)() takes at most \(parameters.count) argument(s) (\(positional.count) given)")
        }
        var slots = [JinjaValue?](repeating: nil, count: parameters.count)
        for (index, value) in positional.enumerated() { slots[index] = value }
        for (name, value) in keyword {
            guard let index = parameters.firstIndex(of: name) else {
                throw JinjaError.typeError("\(function)() got an unexpected keyword argument '\(name)'")
            }
            if slots[index] != nil {
                throw JinjaError.typeError("\(function)() got multiple values for argument '\(name)'")
            }
            slots[index] = value
        }
        return BoundArguments(function: function, slots: slots)
    }
}

struct BoundArguments {
    let function: String
    let slots: [JinjaValue?]

    subscript(index: Int) -> JinjaValue? { slots[index] }

    func int(_ index: Int, default fallback: Int) throws(JinjaError) -> Int {
        guard let value = slots[index] else { return fallback }
        switch value {
        case .int(let number): return number
        case .bool(let flag): return flag ? 1 : 0
        default: throw JinjaError.typeError("\(function)(): expected an integer, got '\(value.typeName)'")
        }
    }

    func bool(_ index: Int, default fallback: Bool) -> Bool {
        guard let value = slots[index] else { return fallback }
        return value.isTruthy
    }

    func string(_ index: Int, default fallback: String) throws(JinjaError) -> String {
        guard let value = slots[index] else { return fallback }
        guard case .string(let text) = value else {
            throw JinjaError.typeError("\(function)(): expected a string, got '\(value.typeName)'")
        }
        return text
    }

    /// An optional string parameter where Python accepts `None` as "not given".
    func optionalString(_ index: Int) throws(JinjaError) -> String? {
        guard let value = slots[index] else { return nil }
        switch value {
        case .none: return nil
        case .string(let text): return text
        default: throw JinjaError.typeError("\(function)(): expected a string or None, got '\(value.typeName)'")
        }
    }

    func required(_ index: Int, _ name: String) throws(JinjaError) -> JinjaValue {
        guard let value = slots[index] else {
            throw JinjaError.typeError("\(function)() missing required argument: '\(name)'")
        }
        return value
    }
}
