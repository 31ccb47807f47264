/// One position of a split pattern: a literal, `.`, `\s`, `\p{L}`, or a bracketed `[^\s\p{L}\p{N}]`.
/// It matches a code point when any item matches (ranges, categories present, categories absent), inverted
/// when `negated`. ASCII answers come from a 128-bit table built once.
struct CharacterClass: Sendable, Equatable {
    var ranges: [ClosedRange<UInt32>] = []
    /// Matches a code point having any of these bits.
    var anyOf: CodepointCategory = []
    /// Each entry matches a code point having none of its bits (`\S`, `\P{L}` inside brackets).
    var noneOf: [CodepointCategory] = []
    var negated = false
    private var asciiLow: UInt64 = 0
    private var asciiHigh: UInt64 = 0

    init(ranges: [ClosedRange<UInt32>] = [], anyOf: CodepointCategory = [], noneOf: [CodepointCategory] = [], negated: Bool = false) {
        self.ranges = ranges
        self.anyOf = anyOf
        self.noneOf = noneOf
        self.negated = negated
    }

    static func literal(_ c: UInt32) -> CharacterClass { CharacterClass(ranges: [c...c]) }

    /// Fills the ASCII table; call once the items are final.
    mutating func seal() {
        asciiLow = 0
        asciiHigh = 0
        for c in UInt32(0)..<128 where slowMatches(c, CodepointCategory.of(c)) {
            if c < 64 { asciiLow |= 1 << UInt64(c) } else { asciiHigh |= 1 << UInt64(c - 64) }
        }
    }

    @inline(__always)
    func matches(_ c: UInt32, _ category: CodepointCategory) -> Bool {
        if c < 64 { return asciiLow & (1 << UInt64(c)) != 0 }
        if c < 128 { return asciiHigh & (1 << UInt64(c - 64)) != 0 }
        return slowMatches(c, category)
    }

    func slowMatches(_ c: UInt32, _ category: CodepointCategory) -> Bool {
        var hit = !category.isDisjoint(with: anyOf)
        if !hit { hit = ranges.contains { $0.contains(c) } }
        if !hit { hit = noneOf.contains { category.isDisjoint(with: $0) } }
        return hit != negated
    }

    /// Adds the other case of each ASCII letter covered (for `(?i:…)`).
    mutating func addASCIICaseVariants() {
        var extra: [ClosedRange<UInt32>] = []
        for r in ranges {
            for c in r where c < 128 {
                if c >= 0x41 && c <= 0x5A { extra.append((c + 32)...(c + 32)) }
                if c >= 0x61 && c <= 0x7A { extra.append((c - 32)...(c - 32)) }
            }
        }
        ranges += extra
    }
}

/// Which meaning `\p{Lu}`-style sub-categories and `\d` have.
public enum PatternDialect: Sendable {
    /// As llama.cpp runs its patterns: every letter sub-category is \p{L} (it collapses them), `\d` is [0-9].
    case llamaCpp
    /// As the Rust tokenizers library (Oniguruma): exact sub-categories, `\d` is \p{Nd}.
    case unicode
}

extension CharacterClass {
    /// The category bits of a `\p{…}` name, or nil when unknown.
    static func category(named name: String, dialect: PatternDialect) -> CodepointCategory? {
        let exact: CodepointCategory? = switch name {
        case "L", "Letter": .letter
        case "Lu": .uppercaseLetter
        case "Ll": .lowercaseLetter
        case "Lt": .titlecaseLetter
        case "Lm": .modifierLetter
        case "Lo": .otherLetter
        case "M", "Mark", "Mn", "Mc", "Me": .mark
        case "N", "Number": .number
        case "Nd": .decimalNumber
        case "Nl", "No": .otherNumber
        case "P", "Punctuation", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po": .punctuation
        case "S", "Symbol", "Sm", "Sc", "Sk", "So": .symbol
        case "Z", "Zs", "Zl", "Zp": .separator
        case "C", "Cc", "Cf", "Co", "Cn", "Cs": .other
        default: nil
        }
        guard let exact else { return nil }
        if dialect == .llamaCpp && !exact.isDisjoint(with: .letter) { return .letter }
        return exact
    }
}
