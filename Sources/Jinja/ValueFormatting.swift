/// Python's `str()` and `repr()` of template values: `{{ x }}` prints `str(x)`, and containers print
/// the `repr()` of their items (`['a', 1]`, `{'k': None}`).
extension JinjaValue {
    /// `str(value)`; an undefined value prints as the empty string.
    var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let value), .markup(let value): return value
        default: return pythonRepresentation
        }
    }

    var pythonRepresentation: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let value): return value ? "True" : "False"
        case .int(let value): return String(value)
        case .double(let value): return formatPythonFloat(value)
        case .string(let value): return pythonRepr(value)
        case .array(let items):
            return "[" + items.map(\.pythonRepresentation).joined(separator: ", ") + "]"
        case .tuple(let items):
            if items.count == 1 { return "(" + items[0].pythonRepresentation + ",)" }
            return "(" + items.map(\.pythonRepresentation).joined(separator: ", ") + ")"
        case .object(let object):
            let pairs = object.entries.map { $0.key.pythonRepresentation + ": " + $0.value.pythonRepresentation }
            return "{" + pairs.joined(separator: ", ") + "}"
        case .callable(let callable):
            if case .macro = callable.kind { return "<Macro '\(callable.displayName)'>" }
            return "<built-in method \(callable.displayName)>"
        case .namespace: return "<Namespace>"
        case .generator: return "<generator object>"
        case .markup(let value): return "Markup(" + pythonRepr(value) + ")"
        }
    }
}

/// `repr(float)`: Swift's shortest round-trip description agrees with Python's, including the
/// switch to exponent notation (1e-05, 1e+16) and `inf`/`nan`.
func formatPythonFloat(_ value: Double) -> String {
    value.description
}

/// `repr(str)`: single quotes unless the text contains `'` and no `"`; non-printable characters escaped.
func pythonRepr(_ text: String) -> String {
    let hasSingle = text.unicodeScalars.contains("'")
    let hasDouble = text.unicodeScalars.contains("\"")
    let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
    var output = String.UnicodeScalarView()
    output.append(quote)
    for scalar in text.unicodeScalars {
        switch scalar {
        case quote, "\\":
            output.append("\\")
            output.append(scalar)
        case "\n": output.append(contentsOf: "\\n".unicodeScalars)
        case "\r": output.append(contentsOf: "\\r".unicodeScalars)
        case "\t": output.append(contentsOf: "\\t".unicodeScalars)
        default:
            if scalar.isPythonPrintable {
                output.append(scalar)
            } else if scalar.value < 0x100 {
                output.append(contentsOf: ("\\x" + hexDigits(scalar.value, width: 2)).unicodeScalars)
            } else if scalar.value < 0x10000 {
                output.append(contentsOf: ("\\u" + hexDigits(scalar.value, width: 4)).unicodeScalars)
            } else {
                output.append(contentsOf: ("\\U" + hexDigits(scalar.value, width: 8)).unicodeScalars)
            }
        }
    }
    output.append(quote)
    return String(output)
}

func hexDigits(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

extension JinjaValue: CustomStringConvertible {
    /// Python's `str()` of the value, i.e. what `{{ value }}` prints.
    public var description: String { pythonString }
}
