/// Splits template source into tokens the way jinja2's lexer does under transformers' settings
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`). Whitespace control is
/// applied here, so the parser only sees the final template text.
struct Lexer {
    let source: [Unicode.Scalar]
    private let lineStarts: [Int]
    var index = 0
    var tokens: [Token] = []
    /// jinja2's `line_starting`: whether the previous match ended with a newline, which lets
    /// `lstrip_blocks` strip indentation before a tag that has no newline of its own in front.
    private var lineStarting = true
    /// Open brackets inside a tag; while any is open, `}}` and `%}` are not tag ends (e.g. `{{ {'a': {}} }}`).
    private var openBrackets: [Unicode.Scalar] = []

    init(_ text: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        // jinja2 normalises \r\n and \r to \n everywhere (newline_sequence) before lexing.
        var iterator = text.unicodeScalars.makeIterator()
        var pending = iterator.next()
        while let scalar = pending {
            pending = iterator.next()
            if scalar == "\r" {
                scalars.append("\n")
                if pending == "\n" { pending = iterator.next() }
            } else {
                scalars.append(scalar)
            }
        }
        // keep_trailing_newline=False drops exactly one final newline.
        if scalars.last == "\n" { scalars.removeLast() }
        source = scalars
        var starts = [0]
        for (offset, scalar) in scalars.enumerated() where scalar == "\n" { starts.append(offset + 1) }
        lineStarts = starts
    }

    static func tokenize(_ text: String) throws(JinjaError) -> [Token] {
        var lexer = Lexer(text)
        try lexer.run()
        return lexer.tokens
    }

    // MARK: - Positions

    func position(of offset: Int) -> SourcePosition {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return SourcePosition(line: low + 1, column: offset - lineStarts[low] + 1)
    }

    func scalar(at offset: Int) -> Unicode.Scalar? {
        offset >= 0 && offset < source.count ? source[offset] : nil
    }

    private func matches(_ literal: String, at offset: Int) -> Bool {
        var cursor = offset
        for expected in literal.unicodeScalars {
            guard scalar(at: cursor) == expected else { return false }
            cursor += 1
        }
        return true
    }

    private func skipWhitespace(from offset: Int) -> Int {
        var cursor = offset
        while let scalar = scalar(at: cursor), scalar.isPythonWhitespace { cursor += 1 }
        return cursor
    }

    private func string(_ range: Range<Int>) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: source[range])
        return String(result)
    }

    func syntaxError(_ message: String, at offset: Int) -> JinjaError {
        JinjaError(.syntax, message, at: position(of: offset))
    }

    // MARK: - Template data and tags

    private mutating func run() throws(JinjaError) {
        while index < source.count {
            guard let tagStart = nextTagStart(from: index) else {
                emitText(index..<source.count, at: index)
                index = source.count
                break
            }
            let opener = source[tagStart + 1]
            let sign = scalar(at: tagStart + 2).flatMap { $0 == "-" || $0 == "+" ? $0 : nil }
            let rawEnd = opener == "%" ? rawBlockOpeningEnd(at: tagStart) : nil
            let text = strippedText(index..<tagStart, sign: sign, isVariable: opener == "{")
            emitText(text, at: index)
            let afterOpener = tagStart + 2 + (sign == nil ? 0 : 1)
            if let rawEnd {
                index = rawEnd
                lineStarting = scalar(at: rawEnd - 1) == "\n"
                try lexRawBody(openedAt: tagStart)
            } else if opener == "#" {
                try skipComment(from: afterOpener, openedAt: tagStart)
            } else {
                let isBlock = opener == "%"
                tokens.append(Token(kind: isBlock ? .blockBegin : .variableBegin, position: position(of: tagStart)))
                index = afterOpener
                try lexTagContents(isBlock: isBlock, openedAt: tagStart)
            }
        }
        tokens.append(Token(kind: .endOfInput, position: position(of: source.count)))
    }

    private func nextTagStart(from offset: Int) -> Int? {
        var cursor = offset
        while cursor + 1 < source.count {
            if source[cursor] == "{" {
                let next = source[cursor + 1]
                if next == "{" || next == "%" || next == "#" { return cursor }
            }
            cursor += 1
        }
        return nil
    }

    /// Applies `{%-` (strip all whitespace before the tag) or `lstrip_blocks` (strip the indentation
    /// of a line that holds only the block/comment tag) to the data in front of a tag.
    private func strippedText(_ range: Range<Int>, sign: Unicode.Scalar?, isVariable: Bool) -> Range<Int> {
        if sign == "-" {
            var end = range.upperBound
            while end > range.lowerBound, source[end - 1].isPythonWhitespace { end -= 1 }
            return range.lowerBound..<end
        }
        guard sign != "+", !isVariable else { return range }
        var lineStart = range.upperBound
        while lineStart > range.lowerBound, source[lineStart - 1] != "\n" { lineStart -= 1 }
        let followsNewline = lineStart > range.lowerBound
        guard followsNewline || lineStarting, lineStart < range.upperBound else { return range }
        for offset in lineStart..<range.upperBound where !source[offset].isPythonWhitespace { return range }
        return range.lowerBound..<lineStart
    }

    mutating func appendToken(_ kind: TokenKind, at offset: Int) {
        tokens.append(Token(kind: kind, position: position(of: offset)))
    }

    private mutating func emitText(_ range: Range<Int>, at offset: Int) {
        guard !range.isEmpty else { return }
        tokens.append(Token(kind: .text(string(range)), position: position(of: range.lowerBound)))
    }

    /// `{% raw %}` (with optional `-`/`+` and spaces) opens a raw block; returns the offset after it.
    /// Note jinja2 applies no trim_blocks newline removal after the opening raw tag.
    private func rawBlockOpeningEnd(at tagStart: Int) -> Int? {
        var cursor = tagStart + 2
        if let sign = scalar(at: cursor), sign == "-" || sign == "+" { cursor += 1 }
        cursor = skipWhitespace(from: cursor)
        guard matches("raw", at: cursor) else { return nil }
        cursor = skipWhitespace(from: cursor + 3)
        if matches("-%}", at: cursor) { return skipWhitespace(from: cursor + 3) }
        if matches("%}", at: cursor) { return cursor + 2 }
        return nil
    }

    private mutating func lexRawBody(openedAt tagStart: Int) throws(JinjaError) {
        var cursor = index
        while cursor < source.count {
            if matches("{%", at: cursor) {
                var probe = cursor + 2
                let sign = scalar(at: probe).flatMap { $0 == "-" || $0 == "+" ? $0 : nil }
                if sign != nil { probe += 1 }
                probe = skipWhitespace(from: probe)
                if matches("endraw", at: probe) {
                    probe = skipWhitespace(from: probe + 6)
                    if let end = tagEnd(at: probe, closer: "%}", trimsNewline: true) {
                        emitText(strippedText(index..<cursor, sign: sign, isVariable: false), at: index)
                        index = end
                        lineStarting = scalar(at: end - 1) == "\n"
                        return
                    }
                }
            }
            cursor += 1
        }
        throw syntaxError("Missing end of raw directive", at: tagStart)
    }

    /// Matches `+%}`, `-%}` plus following whitespace, or `%}` plus one newline (trim_blocks).
    private func tagEnd(at offset: Int, closer: String, trimsNewline: Bool) -> Int? {
        let length = closer.unicodeScalars.count
        if matches("+" + closer, at: offset) { return offset + 1 + length }
        if matches("-" + closer, at: offset) { return skipWhitespace(from: offset + 1 + length) }
        if matches(closer, at: offset) {
            let end = offset + length
            return trimsNewline && scalar(at: end) == "\n" ? end + 1 : end
        }
        return nil
    }

    private mutating func skipComment(from offset: Int, openedAt tagStart: Int) throws(JinjaError) {
        var cursor = offset
        while cursor < source.count {
            if let end = tagEnd(at: cursor, closer: "#}", trimsNewline: true) {
                index = end
                lineStarting = scalar(at: end - 1) == "\n"
                return
            }
            cursor += 1
        }
        throw syntaxError("Missing end of comment tag", at: tagStart)
    }

    // MARK: - Inside {{ }} and {% %}

    private mutating func lexTagContents(isBlock: Bool, openedAt tagStart: Int) throws(JinjaError) {
        openBrackets.removeAll()
        while true {
            guard index < source.count else {
                let expected = isBlock ? "end of statement block" : "end of print statement"
                throw syntaxError("unexpected end of template, expected '\(expected)'.", at: source.count)
            }
            if openBrackets.isEmpty {
                let end = isBlock
                    ? tagEnd(at: index, closer: "%}", trimsNewline: true)
                    : tagEnd(at: index, closer: "}}", trimsNewline: false)
                if let end {
                    tokens.append(Token(kind: isBlock ? .blockEnd : .variableEnd, position: position(of: index)))
                    index = end
                    lineStarting = scalar(at: end - 1) == "\n"
                    return
                }
            }
            let current = source[index]
            if current.isPythonWhitespace {
                index += 1
            } else if current.isASCIIDigit {
                try lexNumber()
            } else if current.isIdentifierStart {
                let start = index
                while let next = scalar(at: index), next.isIdentifierContinue { index += 1 }
                tokens.append(Token(kind: .name(string(start..<index)), position: position(of: start)))
            } else if current == "'" || current == "\"" {
                try lexString(quote: current)
            } else {
                try lexSymbol()
            }
        }
    }

    private static let twoCharacterSymbols: Set<String> = ["//", "**", "==", "!=", ">=", "<="]
    private static let oneCharacterSymbols: Set<Unicode.Scalar> = [
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";",
    ]

    private mutating func lexSymbol() throws(JinjaError) {
        let start = index
        if let next = scalar(at: index + 1) {
            let pair = String(source[index]) + String(next)
            if Lexer.twoCharacterSymbols.contains(pair) {
                tokens.append(Token(kind: .symbol(pair), position: position(of: start)))
                index += 2
                return
            }
        }
        let current = source[index]
        guard Lexer.oneCharacterSymbols.contains(current) else {
            throw syntaxError("unexpected char \(pythonRepr(String(current))) at \(index)", at: index)
        }
        switch current {
        case "(": openBrackets.append(")")
        case "[": openBrackets.append("]")
        case "{": openBrackets.append("}")
        case ")", "]", "}":
            guard let expected = openBrackets.popLast() else {
                throw syntaxError("unexpected '\(current)'", at: index)
            }
            if expected != current {
                throw syntaxError("unexpected '\(current)', expected '\(expected)'", at: index)
            }
        default: break
        }
        tokens.append(Token(kind: .symbol(String(current)), position: position(of: start)))
        index += 1
    }
}
