/// Python `str` methods callable from templates (`message.content.strip()`, `'{}'.format(x)`, ...).
enum StringMethods {
    static func call(_ name: String, on text: String, _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        switch name {
        case "strip", "lstrip", "rstrip":
            let bound = try arguments.bind(["chars"], function: name)
            return .string(PythonString.strip(text, characters: try bound.optionalString(0),
                                              leading: name != "rstrip", trailing: name != "lstrip"))
        case "split", "rsplit":
            let bound = try arguments.bind(["sep", "maxsplit"], function: name)
            let separator = try bound.optionalString(0)
            if separator == "" { throw JinjaError.valueError("empty separator") }
            let maxSplit = try bound.int(1, default: -1)
            let parts = name == "split"
                ? PythonString.split(text, separator: separator, maxSplit: maxSplit)
                : PythonString.rightSplit(text, separator: separator, maxSplit: maxSplit)
            return .array(parts.map { .string($0) })
        case "splitlines":
            let bound = try arguments.bind(["keepends"], function: name)
            return .array(PythonString.splitLines(text, keepEnds: bound.bool(0, default: false)).map { .string($0) })
        case "startswith", "endswith":
            return .bool(try affixMatches(text, arguments, name: name))
        case "upper": return .string(PythonString.upper(text))
        case "lower", "casefold": return .string(PythonString.lower(text))
        case "title": return .string(PythonString.title(text))
        case "capitalize": return .string(PythonString.capitalize(text))
        case "swapcase": return .string(PythonString.swapCase(text))
        case "replace":
            let bound = try arguments.bind(["old", "new", "count"], function: name)
            return .string(PythonString.replace(text, try bound.string(0, default: ""), try bound.string(1, default: ""),
                                                count: try bound.int(2, default: -1)))
        case "find", "rfind", "index", "rindex", "count":
            return try search(name, in: text, arguments)
        case "join":
            let bound = try arguments.bind(["iterable"], function: name)
            let items = try listItems(try bound.required(0, "iterable"))
            var parts: [String] = []
            for item in items {
                guard case .string(let part) = item.withoutMarkup else {
                    throw JinjaError.typeError("sequence item \(parts.count): expected str instance, \(item.typeName) found")
                }
                parts.append(part)
            }
            return .string(parts.joined(separator: text))
        case "format":
            return .string(try BraceFormatter.format(text, arguments))
        case "center", "ljust", "rjust":
            let bound = try arguments.bind(["width", "fillchar"], function: name)
            let width = try bound.int(0, default: 0)
            let fill = try bound.string(1, default: " ")
            guard let fillScalar = fill.unicodeScalars.first, fill.unicodeScalars.count == 1 else {
                throw JinjaError.typeError("The fill character must be exactly one character long")
            }
            let padding = max(0, width - text.unicodeScalars.count)
            let pad = { (count: Int) in String(repeating: String(fillScalar), count: count) }
            switch name {
            case "center": return .string(PythonString.center(text, width: width, fill: fillScalar))
            case "ljust": return .string(text + pad(padding))
            default: return .string(pad(padding) + text)
            }
        case "zfill":
            let bound = try arguments.bind(["width"], function: name)
            var scalars = PythonString.scalars(text)
            let padding = max(0, try bound.int(0, default: 0) - scalars.count)
            let signOffset = scalars.first == "+" || scalars.first == "-" ? 1 : 0
            scalars.insert(contentsOf: [Unicode.Scalar](repeating: "0", count: padding), at: signOffset)
            return .string(PythonString.string(scalars))
        case "removeprefix", "removesuffix":
            let bound = try arguments.bind(["affix"], function: name)
            let affix = PythonString.scalars(try bound.string(0, default: ""))
            let scalars = PythonString.scalars(text)
            if name == "removeprefix", !affix.isEmpty, scalars.starts(with: affix) {
                return .string(PythonString.string(scalars.dropFirst(affix.count)))
            }
            if name == "removesuffix", !affix.isEmpty, scalars.reversed().starts(with: affix.reversed()) {
                return .string(PythonString.string(scalars.dropLast(affix.count)))
            }
            return .string(text)
        case "partition", "rpartition":
            let bound = try arguments.bind(["sep"], function: name)
            let separator = try bound.string(0, default: "")
            if separator.isEmpty { throw JinjaError.valueError("empty separator") }
            let scalars = PythonString.scalars(text), target = PythonString.scalars(separator)
            let found = name == "partition"
                ? PythonString.find(target, in: scalars) : PythonString.reverseFind(target, in: scalars)
            guard let found else {
                return name == "partition" ? .tuple([.string(text), "", ""]) : .tuple(["", "", .string(text)])
            }
            return .tuple([.string(PythonString.string(scalars[..<found])), .string(separator),
                           .string(PythonString.string(scalars[(found + target.count)...]))])
        case "expandtabs":
            let bound = try arguments.bind(["tabsize"], function: name)
            let size = try bound.int(0, default: 8)
            var result = ""
            var column = 0
            for scalar in text.unicodeScalars {
                if scalar == "\t" {
                    let spaces = size > 0 ? size - column % size : 0
                    result += String(repeating: " ", count: spaces)
                    column += spaces
                } else {
                    result.unicodeScalars.append(scalar)
                    column = scalar == "\n" || scalar == "\r" ? 0 : column + 1
                }
            }
            return .string(result)
        default:
            return .bool(try predicate(name, text))
        }
    }

    /// `str.isdigit()`, `str.isupper()`, ...: all are false for the empty string.
    private static func predicate(_ name: String, _ text: String) throws(JinjaError) -> Bool {
        let scalars = text.unicodeScalars
        switch name {
        case "isascii": return scalars.allSatisfy { $0.isASCII }
        case "isprintable": return scalars.allSatisfy { $0.isPythonPrintable }
        default: break
        }
        guard !scalars.isEmpty else { return false }
        switch name {
        case "isalnum": return scalars.allSatisfy { $0.isPythonAlnum }
        case "isalpha": return scalars.allSatisfy { $0.isPythonAlpha }
        case "isdecimal": return scalars.allSatisfy { $0.isPythonDecimal }
        case "isdigit": return scalars.allSatisfy { $0.isPythonDigit }
        case "isnumeric": return scalars.allSatisfy { $0.isPythonNumeric }
        case "isspace": return scalars.allSatisfy { $0.isPythonWhitespace }
        case "isidentifier":
            guard let first = scalars.first, first.isIdentifierStart else { return false }
            return scalars.allSatisfy { $0.isIdentifierContinue }
        case "islower":
            return scalars.contains { $0.isPythonCased } && !scalars.contains { $0.isPythonUpper || $0.isPythonTitle }
        case "isupper":
            return scalars.contains { $0.isPythonCased } && !scalars.contains { $0.isPythonLower || $0.isPythonTitle }
        case "istitle":
            return PythonString.title(text) == text && scalars.contains { $0.isPythonCased }
        default:
            throw JinjaError.typeError("'str' object has no attribute '\(name)'")
        }
    }

    private static func affixMatches(_ text: String, _ arguments: CallArguments, name: String) throws(JinjaError) -> Bool {
        let bound = try arguments.bind(["prefix", "start", "end"], function: name)
        let affixValue = try bound.required(0, "prefix")
        let scalars = PythonString.scalars(text)
        let window = PythonSlice.indices(count: scalars.count, start: try bound.int(1, default: 0),
                                         stop: try bound.int(2, default: scalars.count), step: 1)
        let region = window.first.map { first in Array(scalars[first...(window.last ?? first)]) } ?? []
        var candidates: [String] = []
        switch affixValue {
        case .string(let affix): candidates = [affix]
        case .array(let items), .tuple(let items):
            for item in items {
                guard case .string(let affix) = item.withoutMarkup else {
                    throw JinjaError.typeError("tuple for \(name) must only contain str, not \(item.typeName)")
                }
                candidates.append(affix)
            }
        default:
            throw JinjaError.typeError("\(name) first arg must be str or a tuple of str, not \(affixValue.typeName)")
        }
        return candidates.contains { candidate in
            let affix = PythonString.scalars(candidate)
            return name == "startswith" ? region.starts(with: affix) : region.reversed().starts(with: affix.reversed())
        }
    }

    private static func search(_ name: String, in text: String, _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        let bound = try arguments.bind(["sub", "start", "end"], function: name)
        let needle = PythonString.scalars(try bound.string(0, default: ""))
        let scalars = PythonString.scalars(text)
        // Negative start/end count from the end, as in slices.
        let window = { (value: Int, fallback: Int) -> Int in value < 0 ? max(0, value + scalars.count) : min(value, scalars.count) }
        let start = window(try bound.int(1, default: 0), 0)
        let end = window(try bound.int(2, default: scalars.count), scalars.count)
        if name == "count" { return .int(start > end ? 0 : PythonString.count(needle, in: scalars, from: start, to: end)) }
        let found = name.hasPrefix("r")
            ? PythonString.reverseFind(needle, in: scalars, from: start, to: end)
            : PythonString.find(needle, in: scalars, from: start, to: end)
        if let found { return .int(found) }
        if name.hasSuffix("index") { throw JinjaError.valueError("substring not found") }
        return .int(-1)
    }

    static func listItems(_ value: JinjaValue) throws(JinjaError) -> [JinjaValue] {
        switch value.withoutMarkup {
        case .array(let items), .tuple(let items), .generator(let items): return items
        case .object(let object): return object.keyValues
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw JinjaError.typeError("'\(value.typeName)' object is not iterable")
        }
    }
}
