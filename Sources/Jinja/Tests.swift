/// The `is` tests of jinja2 3.1, with Python's type distinctions (bool is a number but not an
/// integer; undefined is iterable; generators are iterable but not sequences).
enum TestCatalog {
    static let names: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped", "even", "false",
        "filter", "float", "ge", ">=", "gt", "greaterthan", ">", "in", "integer", "iterable", "le", "<=", "lower",
        "lt", "lessthan", "<", "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string",
        "test", "true", "undefined", "upper",
    ]
}

extension Interpreter {
    func applyTest(_ name: String, to markedValue: JinjaValue, _ markedArguments: CallArguments) throws(JinjaError) -> Bool {
        let value = markedValue.withoutMarkup
        let arguments = markedArguments.withoutMarkup
        switch name {
        case "defined": return !isUndefinedLike(value)
        case "undefined": return isUndefinedLike(value)
        case "none": return value == .none
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": return value == .bool(true)
        case "false": return value == .bool(false)
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": return value.isNumber
        case "string": return value.stringValue != nil
        case "mapping": if case .object = value { return true } else { return false }
        case "iterable":
            switch value {
            case .undefined, .string, .array, .tuple, .object, .generator: return true
            default: return false
            }
        case "sequence":
            switch value {
            case .undefined, .string, .array, .tuple, .object: return true
            default: return false
            }
        case "callable":
            if case .callable = value { return true }
            return false
        case "escaped": return false
        case "lower":
            let text = value.pythonString
            return try StringMethods.call("islower", on: text, CallArguments()) == .bool(true)
        case "upper":
            let text = value.pythonString
            return try StringMethods.call("isupper", on: text, CallArguments()) == .bool(true)
        case "filter", "test":
            guard case .string(let target) = value else { return false }
            return name == "filter" ? FilterCatalog.implemented.contains(target) : TestCatalog.names.contains(target)
        case "odd", "even":
            guard case .integer(let integer)? = Operators.Number(value) else {
                throw JinjaError.typeError("unsupported operand type(s) for %: '\(value.typeName)' and 'int'")
            }
            return (integer % 2 != 0) == (name == "odd")
        case "divisibleby":
            let bound = try arguments.bind(["num"], function: name)
            let remainder = try Operators.binary(.modulo, value, try bound.required(0, "num"))
            return Operators.pythonEquals(remainder, .int(0))
        case "sameas":
            let bound = try arguments.bind(["other"], function: name)
            return isSameObject(value, try bound.required(0, "other"))
        case "in":
            let bound = try arguments.bind(["seq"], function: name)
            return try Operators.contains(try bound.required(0, "seq"), value)
        default:
            let comparisons: [String: ComparisonOperator] = [
                "eq": .equal, "equalto": .equal, "==": .equal, "ne": .notEqual, "!=": .notEqual,
                "lt": .less, "lessthan": .less, "<": .less, "le": .lessOrEqual, "<=": .lessOrEqual,
                "gt": .greater, "greaterthan": .greater, ">": .greater, "ge": .greaterOrEqual, ">=": .greaterOrEqual,
            ]
            guard let comparison = comparisons[name] else { throw JinjaError.valueError("No test named '\(name)' found.") }
            let bound = try arguments.bind(["other"], function: name)
            return try Operators.compare(comparison, value, try bound.required(0, "other"))
        }
    }

    /// The sandbox hands out an undefined object for unsafe methods; `is defined` sees it as undefined.
    private func isUndefinedLike(_ value: JinjaValue) -> Bool {
        if value.isUndefined { return true }
        if case .callable(let callable) = value, case .unsafeMethod = callable.kind { return true }
        return false
    }

    /// Python's `is`: singletons compare by value; containers are never provably the same object here.
    private func isSameObject(_ left: JinjaValue, _ right: JinjaValue) -> Bool {
        switch (left, right) {
        case (.none, .none), (.undefined, .undefined): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b && (-5...256).contains(a)
        case (.string(let a), .string(let b)): return a == b
        case (.namespace(let a), .namespace(let b)): return a == b
        default: return false
        }
    }
}
