/// The syntax tree of a split pattern: the regex subset tokenizer pre-tokenizers use (llama.cpp's tables,
/// tokenizer.json `Split` patterns): alternation, groups `(…)` `(?:…)` `(?i:…)`, lookahead `(?=…)` `(?!…)`,
/// atomic `(?>…)`, classes, `.`, `^` `$` `\b`, quantifiers `* + ? {n} {n,} {n,m}` greedy, lazy or possessive.
indirect enum PatternNode: Sendable {
    case character(CharacterClass)
    case sequence([PatternNode])
    case alternation([PatternNode])
    case repetition(PatternNode, min: Int, max: Int?, greedy: Bool, possessive: Bool)
    case lookahead(PatternNode, negated: Bool)
    case atomic(PatternNode)
    case startOfText, endOfText, wordBoundary(negated: Bool)

    /// Whether the node can match without consuming (a loop over it would not advance).
    var canBeEmpty: Bool {
        switch self {
        case .character: false
        case .sequence(let items): items.allSatisfy(\.canBeEmpty)
        case .alternation(let items): items.contains { $0.canBeEmpty }
        case let .repetition(node, min, _, _, _): min == 0 || node.canBeEmpty
        case .atomic(let node): node.canBeEmpty
        case .lookahead, .startOfText, .endOfText, .wordBoundary: true
        }
    }
}

/// Why a pattern was refused, with the character offset in the pattern.
public struct PatternError: Error, Sendable, CustomStringConvertible {
    public let pattern: String
    public let offset: Int
    public let reason: String
    public var description: String { "pattern \(pattern.debugDescription) at character \(offset): \(reason)" }
}

/// Recursive descent over the pattern's code points.
struct SplitPatternParser {
    let source: String
    let dialect: PatternDialect
    private let chars: [UInt32]
    private var pos = 0
    private var caseInsensitive = false
    private var depth = 0

    init(_ source: String, dialect: PatternDialect) {
        self.source = source
        self.dialect = dialect
        chars = source.unicodeScalars.map(\.value)
    }

    static func parse(_ source: String, dialect: PatternDialect) throws(PatternError) -> PatternNode {
        var parser = SplitPatternParser(source, dialect: dialect)
        let node = try parser.alternation()
        if parser.pos < parser.chars.count { throw parser.error("unexpected ')'") }
        return node
    }

    private func error(_ reason: String) -> PatternError { PatternError(pattern: source, offset: pos, reason: reason) }
    private var peek: UInt32? { pos < chars.count ? chars[pos] : nil }
    private func isChar(_ c: Character) -> Bool { peek == c.unicodeScalars.first!.value }

    private mutating func alternation() throws(PatternError) -> PatternNode {
        depth += 1
        defer { depth -= 1 }
        if depth > 100 { throw error("groups nested more than 100 deep") }
        var branches = [try sequence()]
        while isChar("|") {
            pos += 1
            branches.append(try sequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func sequence() throws(PatternError) -> PatternNode {
        var items: [PatternNode] = []
        while let c = peek, c != 0x7C /* | */, c != 0x29 /* ) */ {
            let atom = try atom()
            items.append(try quantified(atom))
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func quantified(_ atom: PatternNode) throws(PatternError) -> PatternNode {
        guard let c = peek else { return atom }
        var minimum = 0, maximum: Int? = nil
        switch c {
        case 0x2A: pos += 1  // *
        case 0x2B: minimum = 1; pos += 1  // +
        case 0x3F: maximum = 1; pos += 1  // ?
        case 0x7B:  // {n} {n,} {n,m}; a brace that is not a count is a literal (as Oniguruma)
            guard let (lo, hi, length) = braceCount() else { return atom }
            minimum = lo
            maximum = hi
            pos += length
        default: return atom
        }
        if let maximum, maximum < minimum { throw error("count {\(minimum),\(maximum)} is backwards") }
        if minimum > 1000 || (maximum ?? 0) > 1000 { throw error("counts above 1000 are not supported") }
        var greedy = true, possessive = false
        if isChar("?") { greedy = false; pos += 1 } else if isChar("+") { possessive = true; pos += 1 }
        return .repetition(atom, min: minimum, max: maximum, greedy: greedy, possessive: possessive)
    }

    /// `{n}`, `{n,}` or `{n,m}` at `pos`: the bounds and the length of the text.
    private func braceCount() -> (Int, Int?, Int)? {
        var i = pos + 1
        func number() -> Int? {
            var value: Int?
            while i < chars.count, chars[i] >= 0x30, chars[i] <= 0x39, (value ?? 0) < 100_000 {
                value = (value ?? 0) * 10 + Int(chars[i] - 0x30)
                i += 1
            }
            return value
        }
        guard let lo = number() else { return nil }
        var hi: Int? = lo
        if i < chars.count, chars[i] == 0x2C {
            i += 1
            hi = number()
        }
        guard i < chars.count, chars[i] == 0x7D else { return nil }
        return (lo, hi, i + 1 - pos)
    }

    private mutating func atom() throws(PatternError) -> PatternNode {
        guard let c = peek else { throw error("pattern ends early") }
        pos += 1
        switch c {
        case 0x28: return try group()
        case 0x5B: return .character(try bracket())
        case 0x2E: return .character(sealed(CharacterClass(ranges: [0x0A...0x0A], negated: true)))  // .
        case 0x5E: return .startOfText
        case 0x24: return .endOfText
        case 0x5C:
            if isChar("b") { pos += 1; return .wordBoundary(negated: false) }
            if isChar("B") { pos += 1; return .wordBoundary(negated: true) }
            if isChar("A") { pos += 1; return .startOfText }
            if isChar("z") { pos += 1; return .endOfText }
            return .character(sealed(try escape()))
        case 0x2A, 0x2B, 0x3F: pos -= 1; throw error("nothing to repeat")
        default: return .character(sealed(literal(c)))
        }
    }

    private func literal(_ c: UInt32) -> CharacterClass {
        var cls = CharacterClass.literal(c)
        if caseInsensitive { cls.addASCIICaseVariants() }
        return cls
    }

    private func sealed(_ cls: CharacterClass) -> CharacterClass {
        var cls = cls
        cls.seal()
        return cls
    }

    private mutating func group() throws(PatternError) -> PatternNode {
        let saved = caseInsensitive
        defer { caseInsensitive = saved }
        var kind = 0  // 0 plain, 1 lookahead, 2 negative lookahead, 3 atomic
        if isChar("?") {
            pos += 1
            guard let c = peek else { throw error("pattern ends early") }
            pos += 1
            switch c {
            case 0x3A: break  // (?:
            case 0x3D: kind = 1  // (?=
            case 0x21: kind = 2  // (?!
            case 0x3E: kind = 3  // (?>
            case 0x69:  // (?i: or (?i)
                caseInsensitive = true
                if isChar(")") { pos += 1; return .sequence([]) }
                guard isChar(":") else { throw error("only the flag groups (?i:…) and (?i) are supported") }
                pos += 1
            case 0x3C: throw error("lookbehind is not supported")
            default: pos -= 1; throw error("unknown group syntax")
            }
        }
        let body = try alternation()
        guard isChar(")") else { throw error("missing ')'") }
        pos += 1
        switch kind {
        case 1: return .lookahead(body, negated: false)
        case 2: return .lookahead(body, negated: true)
        case 3: return .atomic(body)
        default: return body
        }
    }

    /// `[…]` after the `[`.
    private mutating func bracket() throws(PatternError) -> CharacterClass {
        var cls = CharacterClass()
        if isChar("^") { cls.negated = true; pos += 1 }
        var first = true
        while true {
            guard let c = peek else { throw error("missing ']'") }
            if c == 0x5D && !first { pos += 1; break }  // ] (a leading ] is literal)
            first = false
            pos += 1
            var low: UInt32
            if c == 0x5C {
                let item = try escape()
                // A shorthand (\s, \p{L}) joins the class as is; an escaped single character may start a range.
                guard item.ranges.count == 1, item.anyOf.isEmpty, item.noneOf.isEmpty, !item.negated,
                      item.ranges[0].count == 1 else {
                    try merge(item, into: &cls)
                    continue
                }
                low = item.ranges[0].lowerBound
            } else if c == 0x5B, isChar(":") {
                throw error("POSIX classes [:name:] are not supported")
            } else {
                low = c
            }
            // A range a-z (a '-' before ']' is literal).
            if isChar("-"), pos + 1 < chars.count, chars[pos + 1] != 0x5D {
                pos += 1
                var high = chars[pos]
                pos += 1
                if high == 0x5C {
                    let item = try escape()
                    guard item.ranges.count == 1, item.ranges[0].count == 1 else { throw error("a range cannot end in a class") }
                    high = item.ranges[0].lowerBound
                }
                guard low <= high else { throw error("range is backwards") }
                cls.ranges.append(low...high)
            } else {
                cls.ranges.append(low...low)
            }
        }
        if caseInsensitive { cls.addASCIICaseVariants() }
        cls.seal()
        return cls
    }

    /// Joins a shorthand to a bracket class; a negated one (\S, \P{L}) becomes a "has none of" item.
    private func merge(_ item: CharacterClass, into cls: inout CharacterClass) throws(PatternError) {
        if item.negated {
            guard item.ranges.isEmpty, item.noneOf.isEmpty else { throw error("this negated shorthand is not supported inside [...]") }
            cls.noneOf.append(item.anyOf)
        } else {
            cls.ranges += item.ranges
            cls.anyOf.formUnion(item.anyOf)
            cls.noneOf += item.noneOf
        }
    }

    /// The escape after a backslash.
    private mutating func escape() throws(PatternError) -> CharacterClass {
        guard let c = peek else { throw error("pattern ends in a backslash") }
        pos += 1
        switch c {
        case 0x73: return CharacterClass(anyOf: .whitespace)  // \s
        case 0x53: return CharacterClass(anyOf: .whitespace, negated: true)  // \S
        case 0x64: return digits(negated: false)  // \d
        case 0x44: return digits(negated: true)  // \D
        case 0x77: return CharacterClass(ranges: [0x5F...0x5F], anyOf: [.letter, .mark, .decimalNumber])  // \w
        case 0x57: return CharacterClass(ranges: [0x5F...0x5F], anyOf: [.letter, .mark, .decimalNumber], negated: true)
        case 0x70, 0x50:  // \p{…} \P{…}
            guard isChar("{"), let close = chars[pos...].firstIndex(of: 0x7D) else { throw error("expected \\p{name}") }
            let name = String(String.UnicodeScalarView(chars[(pos + 1)..<close].compactMap(Unicode.Scalar.init)))
            guard let bits = CharacterClass.category(named: name, dialect: dialect) else {
                // At the backslash, two characters before the brace.
                throw PatternError(pattern: source, offset: pos - 2, reason: "unknown Unicode category \\p{\(name)}")
            }
            pos = close + 1
            return CharacterClass(anyOf: bits, negated: c == 0x50)
        case 0x6E: return .literal(0x0A)
        case 0x72: return .literal(0x0D)
        case 0x74: return .literal(0x09)
        case 0x66: return .literal(0x0C)
        case 0x76: return .literal(0x0B)
        case 0x30: return .literal(0)
        case 0x78, 0x75:  // \xhh, \x{h…}, \uhhhh
            return .literal(try hexEscape(braces: c == 0x78 && isChar("{"), digits: c == 0x78 ? 2 : 4))
        default:
            if (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) {
                pos -= 1
                throw error("unknown escape")
            }
            return literal(c)
        }
    }

    private func digits(negated: Bool) -> CharacterClass {
        dialect == .llamaCpp ? CharacterClass(ranges: [0x30...0x39], negated: negated)
            : CharacterClass(anyOf: .decimalNumber, negated: negated)
    }

    private mutating func hexEscape(braces: Bool, digits count: Int) throws(PatternError) -> UInt32 {
        if braces { pos += 1 }
        var value: UInt32 = 0, n = 0
        while let c = peek, let d = Self.hexValue(c), braces ? n < 8 : n < count {
            value = value * 16 + d
            n += 1
            pos += 1
        }
        if braces {
            guard isChar("}") else { throw error("expected '}'") }
            pos += 1
        }
        guard n > 0, value <= 0x10FFFF else { throw error("bad hexadecimal escape") }
        return value
    }

    private static func hexValue(_ c: UInt32) -> UInt32? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
