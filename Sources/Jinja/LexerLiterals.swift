/// Number and string literals, following jinja2's `integer_re`, `float_re` and its
/// `unicode-escape` decoding of string bodies.
extension Lexer {
    /// Digits with single underscores between them (`1_000`), as Python literals allow.
    fileprivate func digitRun(from offset: Int, _ isDigit: (Unicode.Scalar) -> Bool) -> Int {
        guard let first = scalar(at: offset), isDigit(first) else { return offset }
        var cursor = offset + 1
        while let next = scalar(at: cursor) {
            if isDigit(next) {
                cursor += 1
            } else if next == "_", let after = scalar(at: cursor + 1), isDigit(after) {
                cursor += 2
            } else {
                break
            }
        }
        return cursor
    }

    mutating func lexNumber() throws(JinjaError) {
        let start = index
        let decimal: (Unicode.Scalar) -> Bool = { $0.isASCIIDigit }
        // float_re has a (?<!\.) look-behind so `foo.0.1` is attribute access, not a float.
        if scalar(at: start - 1) != ".", let end = floatLiteralEnd(from: start) {
            let text = literalText(start..<end)
            guard let value = Double(text) else { throw syntaxError("invalid float literal", at: start) }
            appendToken(.float(value), at: start)
            index = end
            return
        }
        let prefixes: [(String, Int, (Unicode.Scalar) -> Bool)] = [
            ("0b", 2, { $0 == "0" || $0 == "1" }),
            ("0o", 8, { $0.value >= 0x30 && $0.value <= 0x37 }),
            ("0x", 16, { $0.properties.isASCIIHexDigit }),
        ]
        for (prefix, radix, isDigit) in prefixes where matchesCaseInsensitive(prefix, at: start) {
            var cursor = start + 2
            if scalar(at: cursor) == "_" { cursor += 1 }
            let end = digitRun(from: cursor, isDigit)
            if end > cursor {
                guard let value = Int(literalText(cursor..<end), radix: radix) else {
                    throw syntaxError("integer literal too large", at: start)
                }
                appendToken(.integer(value), at: start)
                index = end
                return
            }
        }
        // `0(_?0)*` or `[1-9](_?\d)*`: a leading zero only continues with zeros.
        let end = source[start] == "0" ? digitRun(from: start) { $0 == "0" } : digitRun(from: start, decimal)
        guard let value = Int(literalText(start..<end)) else {
            throw syntaxError("integer literal too large", at: start)
        }
        appendToken(.integer(value), at: start)
        index = end
    }

    /// `\d+ ( (\.\d+)? e[+-]?\d+ | \.\d+ )`, case-insensitive `e`.
    private func floatLiteralEnd(from start: Int) -> Int? {
        let decimal: (Unicode.Scalar) -> Bool = { $0.isASCIIDigit }
        let integerEnd = digitRun(from: start, decimal)
        var fractionEnd: Int?
        if scalar(at: integerEnd) == ".", let digit = scalar(at: integerEnd + 1), digit.isASCIIDigit {
            fractionEnd = digitRun(from: integerEnd + 1, decimal)
        }
        let mantissaEnd = fractionEnd ?? integerEnd
        if let e = scalar(at: mantissaEnd), e == "e" || e == "E" {
            var cursor = mantissaEnd + 1
            if let sign = scalar(at: cursor), sign == "+" || sign == "-" { cursor += 1 }
            let exponentEnd = digitRun(from: cursor, decimal)
            if exponentEnd > cursor { return exponentEnd }
        }
        return fractionEnd
    }

    private func matchesCaseInsensitive(_ literal: String, at offset: Int) -> Bool {
        var cursor = offset
        for expected in literal.unicodeScalars {
            guard let actual = scalar(at: cursor), actual.properties.lowercaseMapping == String(expected) else {
                return false
            }
            cursor += 1
        }
        return true
    }

    private func literalText(_ range: Range<Int>) -> String {
        var text = ""
        for offset in range where source[offset] != "_" { text.unicodeScalars.append(source[offset]) }
        return text
    }

    mutating func lexString(quote: Unicode.Scalar) throws(JinjaError) {
        let start = index
        var cursor = start + 1
        var body: [Unicode.Scalar] = []
        while true {
            guard let current = scalar(at: cursor) else {
                throw syntaxError("unexpected char \(pythonRepr(String(quote))) at \(start)", at: start)
            }
            if current == quote { break }
            if current == "\\" {
                guard let escaped = scalar(at: cursor + 1) else {
                    throw syntaxError("unexpected char \(pythonRepr(String(quote))) at \(start)", at: start)
                }
                body.append(current)
                body.append(escaped)
                cursor += 2
            } else {
                body.append(current)
                cursor += 1
            }
        }
        let decoded = try decodePythonEscapes(body, at: start)
        appendToken(.string(decoded), at: start)
        index = cursor + 1
    }

    /// Python's `unicode-escape` codec: known escapes are decoded, unknown ones keep their backslash.
    private func decodePythonEscapes(_ body: [Unicode.Scalar], at start: Int) throws(JinjaError) -> String {
        var output = String.UnicodeScalarView()
        var pendingHighSurrogate: UInt32?
        func append(_ value: UInt32) {
            // Python keeps lone surrogates; Swift strings cannot, so pairs are joined and strays replaced.
            if let high = pendingHighSurrogate {
                pendingHighSurrogate = nil
                if (0xDC00...0xDFFF).contains(value) {
                    let combined = 0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)
                    output.append(Unicode.Scalar(combined) ?? "\u{FFFD}")
                    return
                }
                output.append("\u{FFFD}")
            }
            if (0xD800...0xDBFF).contains(value) {
                pendingHighSurrogate = value
            } else {
                output.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            }
        }
        var cursor = 0
        while cursor < body.count {
            let current = body[cursor]
            guard current == "\\", cursor + 1 < body.count else {
                append(current.value)
                cursor += 1
                continue
            }
            let escape = body[cursor + 1]
            cursor += 2
            switch escape {
            case "\n": break
            case "\\": append(0x5C)
            case "'": append(0x27)
            case "\"": append(0x22)
            case "a": append(0x07)
            case "b": append(0x08)
            case "f": append(0x0C)
            case "n": append(0x0A)
            case "r": append(0x0D)
            case "t": append(0x09)
            case "v": append(0x0B)
            case "0"..."7":
                var value = escape.value - 0x30
                var digits = 1
                while digits < 3, cursor < body.count, ("0"..."7").contains(body[cursor]) {
                    value = value * 8 + body[cursor].value - 0x30
                    cursor += 1
                    digits += 1
                }
                append(value)
            case "x", "u", "U":
                let width = escape == "x" ? 2 : escape == "u" ? 4 : 8
                guard cursor + width <= body.count,
                      let value = UInt32(String(String.UnicodeScalarView(body[cursor..<cursor + width])), radix: 16)
                else {
                    throw syntaxError("truncated \\\(escape) escape in string literal", at: start)
                }
                guard value <= 0x10FFFF else {
                    throw syntaxError("illegal Unicode character in string literal", at: start)
                }
                append(value)
                cursor += width
            case "N":
                throw syntaxError("\\N{...} escapes are not supported in string literals", at: start)
            default:
                append(0x5C)
                append(escape.value)
            }
        }
        if pendingHighSurrogate != nil { output.append("\u{FFFD}") }
        return String(output)
    }
}
