/// Python's `json.dumps`, which transformers' `tojson` filter calls with `ensure_ascii=False` by
/// default. Output must match byte for byte: `", "`/`": "` separators, `repr()` floats, key order.
struct JSONSerializer {
    var ensureASCII = false
    /// nil: single line; otherwise the text for one indentation level.
    var indent: String?
    var itemSeparator = ", "
    var keySeparator = ": "
    var sortKeys = false

    /// Reads `tojson`'s keyword and positional options: (ensure_ascii, indent, separators, sort_keys).
    init(_ bound: BoundArguments) throws(JinjaError) {
        ensureASCII = bound.bool(0, default: false)
        switch bound[1] {
        case nil, .none?: indent = nil
        case .int(let width)?: indent = String(repeating: " ", count: max(0, width))
        case .string(let text)?: indent = text
        case let other?: throw JinjaError.typeError("indent must be an int or a string, not \(other.typeName)")
        }
        itemSeparator = indent == nil ? ", " : ","
        if let separators = bound[2], separators != .none {
            guard let pair = separators.sequenceItems, pair.count == 2,
                  case .string(let item) = pair[0], case .string(let key) = pair[1] else {
                throw JinjaError.valueError("separators must be a pair of strings")
            }
            itemSeparator = item
            keySeparator = key
        }
        sortKeys = bound.bool(3, default: false)
    }

    func serialize(_ value: JinjaValue) throws(JinjaError) -> String {
        var output = ""
        try write(value, into: &output, level: 0)
        return output
    }

    private func write(_ value: JinjaValue, into output: inout String, level: Int) throws(JinjaError) {
        switch value {
        case .none: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += String(number)
        case .double(let number):
            if number.isNaN { output += "NaN" } else if number.isInfinite {
                output += number < 0 ? "-Infinity" : "Infinity"
            } else { output += formatPythonFloat(number) }
        case .string(let text), .markup(let text): writeString(text, into: &output)
        case .array(let items), .tuple(let items):
            guard !items.isEmpty else {
                output += "[]"
                return
            }
            output += "["
            for (index, item) in items.enumerated() {
                output += index == 0 ? newline(level + 1) : itemSeparator + newline(level + 1)
                try write(item, into: &output, level: level + 1)
            }
            output += newline(level) + "]"
        case .object(let object):
            guard !object.isEmpty else {
                output += "{}"
                return
            }
            var entries = object.entries.map { (key: $0.key.pythonString, value: $0.value) }
            if sortKeys { entries.sort { Operators.orderStrings($0.key, $1.key) < 0 } }
            output += "{"
            for (index, entry) in entries.enumerated() {
                output += index == 0 ? newline(level + 1) : itemSeparator + newline(level + 1)
                writeString(entry.key, into: &output)
                output += keySeparator
                try write(entry.value, into: &output, level: level + 1)
            }
            output += newline(level) + "}"
        case .undefined, .callable, .namespace, .generator:
            throw JinjaError.typeError("Object of type \(value.typeName) is not JSON serializable")
        }
    }

    private func newline(_ level: Int) -> String {
        guard let indent else { return "" }
        return "\n" + String(repeating: indent, count: level)
    }

    private func writeString(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        let offset = scalar.value - 0x10000
                        output += "\\u" + hexDigits(0xD800 + (offset >> 10), width: 4)
                        output += "\\u" + hexDigits(0xDC00 + (offset & 0x3FF), width: 4)
                    } else {
                        output += "\\u" + hexDigits(scalar.value, width: 4)
                    }
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}
