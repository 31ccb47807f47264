/// Python's two string formatting mini-languages, as far as templates use them:
/// `'{} {name}'.format(...)` and `'%s: %d' % (...)`.
struct FormatSpecification {
    var fill: Unicode.Scalar = " "
    var alignment: Unicode.Scalar?
    var sign: Unicode.Scalar = "-"
    var zeroPadding = false
    var width = 0
    var precision: Int?
    var type: Unicode.Scalar?

    /// Parses `[[fill]align][sign][0][width][.precision][type]`.
    init(_ text: String) throws(JinjaError) {
        var scalars = PythonString.scalars(text)[...]
        let alignments: Set<Unicode.Scalar> = ["<", ">", "^", "="]
        if scalars.count >= 2, alignments.contains(scalars[scalars.startIndex + 1]) {
            fill = scalars.removeFirst()
            alignment = scalars.removeFirst()
        } else if let first = scalars.first, alignments.contains(first) {
            alignment = scalars.removeFirst()
        }
        if let first = scalars.first, first == "+" || first == "-" || first == " " { sign = scalars.removeFirst() }
        if scalars.first == "0" {
            zeroPadding = true
            scalars.removeFirst()
        }
        while let digit = scalars.first, digit.isASCIIDigit {
            width = width * 10 + Int(digit.value - 48)
            scalars.removeFirst()
        }
        if scalars.first == "." {
            scalars.removeFirst()
            var digits = 0
            while let digit = scalars.first, digit.isASCIIDigit {
                digits = digits * 10 + Int(digit.value - 48)
                scalars.removeFirst()
            }
            precision = digits
        }
        type = scalars.popFirst()
        guard scalars.isEmpty else { throw JinjaError.valueError("Invalid format specifier '\(text)'") }
    }

    func apply(to value: JinjaValue) throws(JinjaError) -> String {
        var body: String
        var isNumeric = false
        switch (type, value) {
        case (nil, .string(let text)), ("s", .string(let text)):
            body = precision.map { PythonString.string(text.unicodeScalars.prefix($0)) } ?? text
        case ("s", _):
            body = value.pythonString
        case (nil, _) where precision == nil:
            body = value.pythonString
            isNumeric = value.isNumber
        case ("d", .int(let integer)):
            body = String(integer)
            isNumeric = true
        case ("d", .bool(let flag)):
            body = flag ? "1" : "0"
            isNumeric = true
        case ("f", _), ("F", _), ("%", _), (nil, _):
            guard let number = Operators.Number(value)?.doubleValue else {
                throw JinjaError.valueError("Unknown format code '\(type.map(String.init) ?? "f")' for object of type '\(value.typeName)'")
            }
            body = type == "%" ? formatFixed(number * 100, precision: precision ?? 6) + "%" : formatFixed(number, precision: precision ?? 6)
            isNumeric = true
        default:
            throw JinjaError.valueError("Unknown format code '\(type.map(String.init) ?? "")' for object of type '\(value.typeName)'")
        }
        if isNumeric, sign != "-", !body.hasPrefix("-") { body = String(sign) + body }
        let length = body.unicodeScalars.count
        guard width > length else { return body }
        let padding = width - length
        let fillText = String(zeroPadding && alignment == nil ? "0" : fill)
        switch alignment ?? (isNumeric ? ">" : "<") {
        case "<": return body + String(repeating: fillText, count: padding)
        case "^":
            let left = padding / 2
            return String(repeating: fillText, count: left) + body + String(repeating: fillText, count: padding - left)
        case "=" where body.hasPrefix("-") || body.hasPrefix("+"):
            return String(body.prefix(1)) + String(repeating: fillText, count: padding) + String(body.dropFirst())
        default: return String(repeating: fillText, count: padding) + body
        }
    }
}

/// `%.2f`-style fixed notation with round-half-even on the binary value, as C's printf does.
func formatFixed(_ value: Double, precision: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<min(precision, 17) { scale *= 10 }
    let scaled = (abs(value) * scale).rounded(.toNearestOrEven)
    guard scaled < 9e18 else { return formatPythonFloat(value) }
    let digits = String(Int(scaled))
    let padded = String(repeating: "0", count: max(0, precision + 1 - digits.count)) + digits
    let integerPart = padded.dropLast(precision)
    let fraction = padded.suffix(precision)
    let sign = value < 0 || (value == 0 && value.sign == .minus) ? "-" : ""
    return sign + integerPart + (precision > 0 ? "." + fraction : "")
}

enum BraceFormatter {
    static func format(_ template: String, _ arguments: CallArguments) throws(JinjaError) -> String {
        let scalars = PythonString.scalars(template)
        var output = ""
        var automaticIndex = 0
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "}" {
                guard index + 1 < scalars.count, scalars[index + 1] == "}" else {
                    throw JinjaError.valueError("Single '}' encountered in format string")
                }
                output += "}"
                index += 2
                continue
            }
            guard scalar == "{" else {
                output.unicodeScalars.append(scalar)
                index += 1
                continue
            }
            if index + 1 < scalars.count, scalars[index + 1] == "{" {
                output += "{"
                index += 2
                continue
            }
            guard let close = scalars[index...].firstIndex(of: "}") else {
                throw JinjaError.valueError("Single '{' encountered in format string")
            }
            let field = PythonString.string(scalars[(index + 1)..<close])
            index = close + 1
            var name = field
            var specification = ""
            if let colon = field.firstIndex(of: ":") {
                name = String(field[..<colon])
                specification = String(field[field.index(after: colon)...])
            }
            var conversion: Character?
            if let bang = name.firstIndex(of: "!") {
                conversion = name[name.index(after: bang)...].first
                name = String(name[..<bang])
            }
            var value: JinjaValue
            if name.isEmpty {
                guard automaticIndex < arguments.positional.count else {
                    throw JinjaError(.value, "Replacement index \(automaticIndex) out of range for positional args tuple")
                }
                value = arguments.positional[automaticIndex]
                automaticIndex += 1
            } else if let position = Int(name) {
                guard position >= 0, position < arguments.positional.count else {
                    throw JinjaError(.value, "Replacement index \(position) out of range for positional args tuple")
                }
                value = arguments.positional[position]
            } else if let found = arguments.keyword.first(where: { $0.0 == name }) {
                value = found.1
            } else {
                throw JinjaError(.value, "KeyError: \(pythonRepr(name))")
            }
            if conversion == "r" { value = .string(value.pythonRepresentation) }
            if conversion == "s" { value = .string(value.pythonString) }
            output += try FormatSpecification(specification).apply(to: value)
        }
        return output
    }
}

enum PercentFormatter {
    static func format(_ template: String, _ argument: JinjaValue) throws(JinjaError) -> String {
        var values: [JinjaValue]
        if case .tuple(let items) = argument { values = items } else { values = [argument] }
        let mapping: JinjaObject? = { if case .object(let object) = argument { return object } else { return nil } }()
        let scalars = PythonString.scalars(template)
        var output = ""
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "%" else {
                output.unicodeScalars.append(scalars[index])
                index += 1
                continue
            }
            index += 1
            var key: String?
            if index < scalars.count, scalars[index] == "(" {
                guard let close = scalars[index...].firstIndex(of: ")") else {
                    throw JinjaError.valueError("incomplete format key")
                }
                key = PythonString.string(scalars[(index + 1)..<close])
                index = close + 1
            }
            var flags = ""
            while index < scalars.count, "-+ 0#".unicodeScalars.contains(scalars[index]) {
                flags.unicodeScalars.append(scalars[index])
                index += 1
            }
            var width = ""
            while index < scalars.count, scalars[index].isASCIIDigit || scalars[index] == "." {
                width.unicodeScalars.append(scalars[index])
                index += 1
            }
            guard index < scalars.count else { throw JinjaError.valueError("incomplete format") }
            let type = scalars[index]
            index += 1
            if type == "%" {
                output += "%"
                continue
            }
            let value: JinjaValue
            if let key {
                guard let found = mapping?[key] else { throw JinjaError(.value, "KeyError: \(pythonRepr(key))") }
                value = found
            } else {
                guard !values.isEmpty else { throw JinjaError.typeError("not enough arguments for format string") }
                value = values.removeFirst()
            }
            let alignment = flags.contains("-") ? "<" : ""
            let zero = flags.contains("0") && !flags.contains("-") ? "0" : ""
            let sign = flags.contains("+") ? "+" : flags.contains(" ") ? " " : ""
            switch type {
            case "s": output += try FormatSpecification(alignment + width).apply(to: .string(value.pythonString))
            case "r": output += try FormatSpecification(alignment + width).apply(to: .string(value.pythonRepresentation))
            case "d", "i":
                guard let number = Operators.Number(value) else {
                    throw JinjaError.typeError("%\(type) format: a real number is required, not \(value.typeName)")
                }
                let integer: Int
                switch number {
                case .integer(let whole): integer = whole
                case .real(let real): integer = real.isFinite ? Int(real) : 0
                }
                output += try FormatSpecification(alignment + sign + zero + width + "d").apply(to: .int(integer))
            case "f", "F":
                output += try FormatSpecification(alignment + sign + zero + width + "f").apply(to: value)
            default:
                throw JinjaError.valueError("unsupported format character '\(type)'")
            }
        }
        if mapping == nil && !values.isEmpty, case .tuple = argument {
            throw JinjaError.typeError("not all arguments converted during string formatting")
        }
        return output
    }
}
