/// Serializes `JSONValue`. Compact output escapes exactly as serde_json does (only '"', '\\' and control
/// characters; non-ASCII kept raw), which the safetensors header must match byte for byte.
public enum JSONWriter {
    public static func compact(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, indent: nil, level: 0, asciiOnly: false)
        return out
    }

    /// Indented with `indent` spaces, ", " free (Python `json.dumps(indent=N)` style separators).
    /// `asciiOnly` escapes non-ASCII as `\\uXXXX` like Python's default `ensure_ascii=True`.
    public static func pretty(_ value: JSONValue, indent: Int = 2, asciiOnly: Bool = false) -> String {
        var out = ""
        write(value, into: &out, indent: indent, level: 0, asciiOnly: asciiOnly)
        return out
    }

    public static func quoted(_ s: String, asciiOnly: Bool = false) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            case _ where asciiOnly && scalar.value > 0x7E:
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func write(_ value: JSONValue, into out: inout String, indent: Int?, level: Int, asciiOnly: Bool) {
        func newline(_ level: Int) {
            if let indent { out += "\n" + String(repeating: " ", count: indent * level) }
        }
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let text): out += text
        case .string(let s): out += quoted(s, asciiOnly: asciiOnly)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                newline(level + 1)
                write(item, into: &out, indent: indent, level: level + 1, asciiOnly: asciiOnly)
            }
            newline(level)
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (k, (key, item)) in members.enumerated() {
                if k > 0 { out += "," }
                newline(level + 1)
                out += quoted(key, asciiOnly: asciiOnly) + (indent == nil ? ":" : ": ")
                write(item, into: &out, indent: indent, level: level + 1, asciiOnly: asciiOnly)
            }
            newline(level)
            out += "}"
        }
    }
}
