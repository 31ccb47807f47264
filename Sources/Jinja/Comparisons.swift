/// Python equality, ordering and membership. Strings compare by code point (not by Swift's
/// canonical equivalence), numbers compare across int/float/bool, and mismatched types refuse
/// ordering with a TypeError like Python 3.
extension Operators {
    static func compare(_ comparisonOperator: ComparisonOperator, _ markedLeft: JinjaValue, _ markedRight: JinjaValue) throws(JinjaError) -> Bool {
        let left = markedLeft.withoutMarkup, right = markedRight.withoutMarkup
        switch comparisonOperator {
        case .equal: return pythonEquals(left, right)
        case .notEqual: return !pythonEquals(left, right)
        case .contains: return try contains(right, left)
        case .notContains: return try !contains(right, left)
        case .less: return try order(left, right, comparisonOperator) < 0
        case .lessOrEqual: return try order(left, right, comparisonOperator) <= 0
        case .greater: return try order(left, right, comparisonOperator) > 0
        case .greaterOrEqual: return try order(left, right, comparisonOperator) >= 0
        }
    }

    static func pythonEquals(_ markedLeft: JinjaValue, _ markedRight: JinjaValue) -> Bool {
        let left = markedLeft.withoutMarkup, right = markedRight.withoutMarkup
        if let a = Number(left), let b = Number(right) {
            switch (a, b) {
            case (.integer(let x), .integer(let y)): return x == y
            default: return a.doubleValue == b.doubleValue
            }
        }
        switch (left, right) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)), (.tuple(let a), .tuple(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { pythonEquals($0, $1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a.entries {
                guard let objectKey = JinjaObject.EntryKey(key), let other = b[objectKey], pythonEquals(value, other) else {
                    return false
                }
            }
            return true
        case (.namespace(let a), .namespace(let b)): return a == b
        case (.callable(let a), .callable(let b)): return a == b
        default: return false
        }
    }

    /// -1, 0 or 1 for Python's `<`; throws where Python 3 refuses to order the two types.
    static func order(_ markedLeft: JinjaValue, _ markedRight: JinjaValue, _ comparisonOperator: ComparisonOperator = .less) throws(JinjaError) -> Int {
        let left = markedLeft.withoutMarkup, right = markedRight.withoutMarkup
        if left.isUndefined || right.isUndefined { throw JinjaError.undefinedError("value is undefined") }
        if let a = Number(left), let b = Number(right) {
            if case .integer(let x) = a, case .integer(let y) = b { return x < y ? -1 : x > y ? 1 : 0 }
            let x = a.doubleValue, y = b.doubleValue
            return x < y ? -1 : x > y ? 1 : 0
        }
        switch (left, right) {
        case (.string(let a), .string(let b)):
            return orderStrings(a, b)
        case (.array(let a), .array(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) where !pythonEquals(x, y) {
                return try order(x, y, comparisonOperator)
            }
            return a.count < b.count ? -1 : a.count > b.count ? 1 : 0
        default:
            throw JinjaError.typeError(
                "'\(comparisonOperator.rawValue)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'")
        }
    }

    static func orderStrings(_ a: String, _ b: String) -> Int {
        var left = a.unicodeScalars.makeIterator()
        var right = b.unicodeScalars.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?):
                if x != y { return x.value < y.value ? -1 : 1 }
            }
        }
    }

    /// Python's `needle in container`.
    static func contains(_ markedContainer: JinjaValue, _ markedNeedle: JinjaValue) throws(JinjaError) -> Bool {
        let container = markedContainer.withoutMarkup, needle = markedNeedle.withoutMarkup
        switch container {
        case .undefined:
            return false
        case .string(let text):
            guard case .string(let part) = needle else {
                throw JinjaError.typeError("'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return part.isEmpty || PythonString.find(part, in: text) != nil
        case .array(let items), .tuple(let items), .generator(let items):
            return items.contains { pythonEquals($0, needle) }
        case .object(let object):
            guard let key = JinjaObject.EntryKey(needle) else { return false }
            return object[key] != nil
        default:
            throw JinjaError.typeError("argument of type '\(container.typeName)' is not iterable")
        }
    }
}
