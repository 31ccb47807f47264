/// Built-in filters. Names are checked at parse time (jinja2 rejects unknown filters when it
/// compiles a template); filters jinja2 has but this interpreter lacks fail when used.
enum FilterCatalog {
    static let implemented: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "first", "float", "forceescape", "format", "groupby", "indent", "int", "items", "join", "last",
        "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round",
        "safe", "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim",
        "truncate", "unique", "upper", "wordcount",
    ]
    /// jinja2 built-ins accepted by the parser but not implemented (see README of the report).
    static let unsupported: Set<String> = [
        "filesizeformat", "pprint", "random", "urlencode", "urlize", "wordwrap", "xmlattr",
    ]
    static let names = implemented.union(unsupported)
}

extension Interpreter {
    func applyFilter(_ name: String, to markedValue: JinjaValue, _ markedArguments: CallArguments) throws(JinjaError) -> JinjaValue {
        switch name {
        case "safe":
            return markedValue.isMarkup ? markedValue : .markup(markedValue.pythonString)
        case "escape", "e":
            return markedValue.isMarkup ? markedValue : .markup(markupEscape(markedValue.pythonString))
        case "forceescape":
            return .markup(markupEscape(markedValue.pythonString))
        case "string":
            return markedValue.isMarkup ? markedValue : .string(markedValue.pythonString)
        default:
            break
        }
        let value = markedValue.withoutMarkup
        let arguments = markedArguments.withoutMarkup
        let result = try applyPlainFilter(name, to: value, arguments)
        // Filters that go through markupsafe's str methods keep the Markup type.
        if markedValue.isMarkup, ["upper", "lower", "title", "capitalize", "trim", "indent", "center"].contains(name),
           case .string(let text) = result {
            return .markup(text)
        }
        return result
    }

    private func applyPlainFilter(_ name: String, to value: JinjaValue, _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        switch name {
        case "default", "d":
            let bound = try arguments.bind(["default_value", "boolean"], function: name)
            let useDefault = value.isUndefined || (bound.bool(1, default: false) && !value.isTruthy)
            return useDefault ? (bound[0] ?? .string("")) : value
        case "length", "count":
            _ = try arguments.bind([], function: name)
            return .int(try length(of: value))
        case "tojson":
            let bound = try arguments.bind(["ensure_ascii", "indent", "separators", "sort_keys"], function: name)
            return .string(try JSONSerializer(bound).serialize(value))
        case "upper": return .string(PythonString.upper(value.pythonString))
        case "lower": return .string(PythonString.lower(value.pythonString))
        case "title": return .string(titleFilter(value.pythonString))
        case "capitalize": return .string(PythonString.capitalize(value.pythonString))
        case "trim":
            let bound = try arguments.bind(["chars"], function: name)
            return .string(PythonString.strip(value.pythonString, characters: try bound.optionalString(0),
                                              leading: true, trailing: true))
        case "replace":
            let bound = try arguments.bind(["old", "new", "count"], function: name)
            let count: Int
            if case .none? = bound[2] { count = -1 } else { count = try bound.int(2, default: -1) }
            return .string(PythonString.replace(value.pythonString, try bound.required(0, "old").pythonString,
                                                try bound.required(1, "new").pythonString, count: count))
        case "indent":
            return .string(try indentFilter(value.pythonString, try arguments.bind(["width", "first", "blank"], function: name)))
        case "center":
            let bound = try arguments.bind(["width"], function: name)
            return .string(PythonString.center(value.pythonString, width: try bound.int(0, default: 80)))
        case "wordcount":
            return .int(wordCount(value.pythonString))
        case "truncate":
            return .string(try truncateFilter(value.pythonString,
                                              try arguments.bind(["length", "killwords", "end", "leeway"], function: name)))
        case "striptags":
            return .string(stripTags(value.pythonString))
        case "format":
            let template = value.pythonString
            if !arguments.keyword.isEmpty {
                return .string(try PercentFormatter.format(template, .object(JinjaObject(arguments.keyword))))
            }
            return .string(try PercentFormatter.format(template, .tuple(arguments.positional)))
        case "int":
            return try intFilter(value, try arguments.bind(["default", "base"], function: name))
        case "float":
            return try floatFilter(value, try arguments.bind(["default"], function: name))
        case "abs":
            guard let number = Operators.Number(value) else {
                throw JinjaError.typeError("bad operand type for abs(): '\(value.typeName)'")
            }
            switch number {
            case .integer(let integer):
                guard integer != Int.min else { throw JinjaError.valueError("integer overflow") }
                return .int(abs(integer))
            case .real(let real): return .double(abs(real))
            }
        case "round":
            return try roundFilter(value, try arguments.bind(["precision", "method"], function: name))
        case "attr":
            let bound = try arguments.bind(["name"], function: name)
            let attribute = try bound.string(0, default: "")
            if let method = MethodCatalog.method(named: attribute, on: value) { return method }
            if case .namespace(let reference) = value { return namespaceAttributes(reference)[attribute] ?? .undefined }
            return .undefined
        default:
            return try applySequenceFilter(name, to: value, arguments)
        }
    }

    /// Python's `len()`; undefined has length 0, generators have none.
    func length(of value: JinjaValue) throws(JinjaError) -> Int {
        switch value {
        case .undefined: return 0
        case .string(let text): return text.unicodeScalars.count
        case .array(let items), .tuple(let items): return items.count
        case .object(let object): return object.count
        default: throw JinjaError.typeError("object of type '\(value.typeName)' has no len()")
        }
    }

    /// jinja2's `title` filter: capitalises the start of every word, where words begin after
    /// whitespace, `-`, or an opening bracket (it is not Python's str.title()).
    private func titleFilter(_ text: String) -> String {
        var result = ""
        var atWordStart = true
        for scalar in text.unicodeScalars {
            let isSeparator = scalar.isPythonWhitespace || "-([{<".unicodeScalars.contains(scalar)
            if isSeparator {
                result.unicodeScalars.append(scalar)
                atWordStart = true
            } else if atWordStart {
                result += scalar.pythonUppercased
                atWordStart = false
            } else {
                result += scalar.pythonLowercased
            }
        }
        return result
    }

    private func indentFilter(_ text: String, _ bound: BoundArguments) throws(JinjaError) -> String {
        let indentation: String
        if case .string(let custom)? = bound[0] { indentation = custom } else {
            indentation = String(repeating: " ", count: try bound.int(0, default: 4))
        }
        // jinja2 appends a newline before splitlines() so a trailing newline survives.
        let lines = PythonString.splitLines(text + "\n", keepEnds: false)
        var result: String
        if bound.bool(2, default: false) {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                result += "\n" + rest.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        if bound.bool(1, default: false) { result = indentation + result }
        return result
    }

    private func wordCount(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            let isWordCharacter = scalar.isPythonAlnum || scalar == "_"
            if isWordCharacter && !inWord { count += 1 }
            inWord = isWordCharacter
        }
        return count
    }

    private func truncateFilter(_ text: String, _ bound: BoundArguments) throws(JinjaError) -> String {
        let length = try bound.int(0, default: 255)
        let killWords = bound.bool(1, default: false)
        let end = try bound.string(2, default: "...")
        let leeway = try bound.int(3, default: 5)
        let scalars = PythonString.scalars(text)
        if scalars.count <= length + leeway { return text }
        let keep = PythonString.string(scalars.prefix(max(0, length - end.unicodeScalars.count)))
        if killWords { return keep + end }
        return (PythonString.rightSplit(keep, separator: " ", maxSplit: 1).first ?? "") + end
    }

    /// markupsafe's `striptags`: drop comments and tags, collapse whitespace, unescape entities.
    private func stripTags(_ text: String) -> String {
        var scalars = PythonString.scalars(text)
        var output: [Unicode.Scalar] = []
        var index = 0
        while index < scalars.count {
            if scalars[index] == "<", index + 3 < scalars.count, PythonString.string(scalars[index..<index + 4]) == "<!--",
               let end = PythonString.find(PythonString.scalars("-->"), in: scalars, from: index + 4) {
                index = end + 3
            } else if scalars[index] == "<", let end = scalars[index...].firstIndex(of: ">") {
                index = end + 1
            } else {
                output.append(scalars[index])
                index += 1
            }
        }
        scalars = output
        let collapsed = PythonString.split(PythonString.string(scalars), separator: nil, maxSplit: -1).joined(separator: " ")
        return collapsed
            .replacingEntity("&lt;", with: "<").replacingEntity("&gt;", with: ">")
            .replacingEntity("&#34;", with: "\"").replacingEntity("&#39;", with: "'")
            .replacingEntity("&quot;", with: "\"").replacingEntity("&amp;", with: "&")
    }
}

extension String {
    fileprivate func replacingEntity(_ entity: String, with replacement: String) -> String {
        PythonString.replace(self, entity, replacement)
    }
}

/// markupsafe's `escape`: the five HTML-special characters, with numeric entities for quotes.
func markupEscape(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&#34;"
        case "'": result += "&#39;"
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result
}
