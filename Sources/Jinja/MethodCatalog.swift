/// Which Python methods a value exposes to templates. Methods that mutate lists and dicts exist
/// (so `messages.append` is found) but the immutable sandbox refuses to call them.
enum MethodCatalog {
    static let stringMethods: Set<String> = [
        "capitalize", "casefold", "center", "count", "endswith", "find", "format", "index", "isalnum", "isalpha",
        "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace",
        "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix",
        "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines",
        "startswith", "strip", "swapcase", "title", "upper", "zfill", "expandtabs",
    ]
    static let dictionaryMethods: Set<String> = ["get", "items", "keys", "values", "copy"]
    static let unsafeDictionaryMethods: Set<String> = ["clear", "pop", "popitem", "setdefault", "update"]
    static let listMethods: Set<String> = ["index", "count", "copy"]
    static let unsafeListMethods: Set<String> = ["append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove"]

    static func method(named name: String, on value: JinjaValue) -> JinjaValue? {
        let safe: Set<String>
        let unsafe: Set<String>
        switch value {
        case .string:
            safe = stringMethods
            unsafe = []
        case .object:
            safe = dictionaryMethods
            unsafe = unsafeDictionaryMethods
        case .array:
            safe = listMethods
            unsafe = unsafeListMethods
        case .tuple:
            safe = ["index", "count"]
            unsafe = []
        default:
            return nil
        }
        if safe.contains(name) { return .callable(JinjaCallable(kind: .method(receiver: value, name: name))) }
        if unsafe.contains(name) {
            return .callable(JinjaCallable(kind: .unsafeMethod(typeName: value.typeName, name: name)))
        }
        return nil
    }
}

extension Interpreter {
    func callMethod(_ name: String, on receiver: JinjaValue, _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        switch receiver {
        case .string(let text):
            return try StringMethods.call(name, on: text, arguments)
        case .object(let object):
            return try callDictionaryMethod(name, on: object, arguments)
        case .array(let items), .tuple(let items):
            return try callListMethod(name, on: items, arguments)
        default:
            throw JinjaError.typeError("'\(receiver.typeName)' object has no attribute '\(name)'")
        }
    }

    private func callDictionaryMethod(_ name: String, on object: JinjaObject, _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        switch name {
        case "get":
            let bound = try arguments.bind(["key", "default"], function: "get")
            let key = try bound.required(0, "key")
            guard let objectKey = JinjaObject.EntryKey(key) else { return bound[1] ?? .none }
            return object[objectKey] ?? bound[1] ?? .none
        case "items":
            _ = try arguments.bind([], function: "items")
            return .array(object.entries.map { .tuple([$0.key, $0.value]) })
        case "keys":
            _ = try arguments.bind([], function: "keys")
            return .array(object.keyValues)
        case "values":
            _ = try arguments.bind([], function: "values")
            return .array(object.values)
        case "copy":
            return .object(object)
        default:
            throw JinjaError.typeError("'dict' object has no attribute '\(name)'")
        }
    }

    private func callListMethod(_ name: String, on items: [JinjaValue], _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        switch name {
        case "index":
            let bound = try arguments.bind(["value", "start", "stop"], function: "index")
            let needle = try bound.required(0, "value")
            let indices = PythonSlice.indices(
                count: items.count, start: try bound.int(1, default: 0), stop: try bound.int(2, default: items.count), step: 1)
            for index in indices where Operators.pythonEquals(items[index], needle) { return .int(index) }
            throw JinjaError.valueError("\(needle.pythonRepresentation) is not in list")
        case "count":
            let bound = try arguments.bind(["value"], function: "count")
            let needle = try bound.required(0, "value")
            return .int(items.filter { Operators.pythonEquals($0, needle) }.count)
        case "copy":
            return .array(items)
        default:
            throw JinjaError.typeError("'list' object has no attribute '\(name)'")
        }
    }
}
