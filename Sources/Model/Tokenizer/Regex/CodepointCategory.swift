/// Unicode general-category bits of a code point, as pre-tokenizer patterns ask for them (`\p{L}`, `\s`…).
/// llama.cpp derives the same bits from its own tables (unicode-data.cpp): letters, numbers, punctuation,
/// marks, symbols, separators, other, and White_Space apart from the category.
public struct CodepointCategory: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let uppercaseLetter = Self(rawValue: 1 << 0)
    public static let lowercaseLetter = Self(rawValue: 1 << 1)
    public static let titlecaseLetter = Self(rawValue: 1 << 2)
    public static let modifierLetter = Self(rawValue: 1 << 3)
    public static let otherLetter = Self(rawValue: 1 << 4)
    public static let mark = Self(rawValue: 1 << 5)
    public static let decimalNumber = Self(rawValue: 1 << 6)
    public static let otherNumber = Self(rawValue: 1 << 7)  // Nl and No
    public static let punctuation = Self(rawValue: 1 << 8)
    public static let symbol = Self(rawValue: 1 << 9)
    public static let separator = Self(rawValue: 1 << 10)
    public static let other = Self(rawValue: 1 << 11)
    /// The White_Space property (not a category: U+0009..U+000D are Cc, U+0020 is Zs).
    public static let whitespace = Self(rawValue: 1 << 12)

    public static let letter: Self = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter]
    public static let number: Self = [.decimalNumber, .otherNumber]

    /// The bits of `scalar`; the Basic Multilingual Plane comes from a table built once.
    @inline(__always)
    public static func of(_ scalar: UInt32) -> Self {
        scalar < 0x10000 ? Self(rawValue: UInt32(bmp[Int(scalar)])) : compute(scalar)
    }

    /// 64 Ki entries of 16 bits: 128 KiB, about 5 ms to build on first use.
    static let bmp: [UInt16] = (0..<0x10000).map { UInt16(compute(UInt32($0)).rawValue) }

    static func compute(_ value: UInt32) -> Self {
        guard let scalar = Unicode.Scalar(value) else { return .other }  // surrogates
        var bits: Self
        switch scalar.properties.generalCategory {
        case .uppercaseLetter: bits = .uppercaseLetter
        case .lowercaseLetter: bits = .lowercaseLetter
        case .titlecaseLetter: bits = .titlecaseLetter
        case .modifierLetter: bits = .modifierLetter
        case .otherLetter: bits = .otherLetter
        case .nonspacingMark, .spacingMark, .enclosingMark: bits = .mark
        case .decimalNumber: bits = .decimalNumber
        case .letterNumber, .otherNumber: bits = .otherNumber
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: bits = .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: bits = .symbol
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: bits = .separator
        default: bits = .other
        }
        if scalar.properties.isWhitespace { bits.insert(.whitespace) }
        return bits
    }
}
