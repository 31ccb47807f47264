/// Python's notion of character classes (str.isspace, str.isdigit, ...), which jinja2 inherits for
/// whitespace control, `trim`, `split()` and the string predicate methods. Swift's own properties
/// differ at the edges (e.g. U+001C..U+001F count as whitespace in Python), hence these helpers.
extension Unicode.Scalar {
    /// `str.isspace()`: bidirectional class WS/B/S or category Zs.
    var isPythonWhitespace: Bool {
        switch value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Line boundaries recognised by `str.splitlines()`.
    var isPythonLineBreak: Bool {
        switch value {
        case 0x0A...0x0D, 0x1C...0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    var isPythonAlpha: Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    var isPythonDecimal: Bool { properties.numericType == .decimal }

    var isPythonDigit: Bool {
        properties.numericType == .decimal || properties.numericType == .digit
    }

    var isPythonNumeric: Bool { properties.numericType != nil }

    var isPythonAlnum: Bool { isPythonAlpha || isPythonNumeric }

    /// A "cased" character in Python's sense: it has an upper, lower or title case form of its own.
    var isPythonCased: Bool {
        properties.isLowercase || properties.isUppercase || properties.generalCategory == .titlecaseLetter
    }

    var isPythonUpper: Bool { properties.isUppercase }
    var isPythonLower: Bool { properties.isLowercase }
    var isPythonTitle: Bool { properties.generalCategory == .titlecaseLetter }

    /// Identifier characters accepted by jinja2's lexer (Python identifiers).
    var isIdentifierStart: Bool { self == "_" || properties.isXIDStart }
    var isIdentifierContinue: Bool { self == "_" || properties.isXIDContinue }

    var isASCIIDigit: Bool { value >= 0x30 && value <= 0x39 }

    /// `str.isprintable()`, which decides whether `repr()` escapes a character.
    var isPythonPrintable: Bool {
        if value == 0x20 { return true }
        switch properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }
}

/// Case mapping of single scalars, as Python's str.upper()/lower()/title() apply per character.
extension Unicode.Scalar {
    var pythonUppercased: String { properties.uppercaseMapping }
    var pythonLowercased: String { properties.lowercaseMapping }
    var pythonTitlecased: String { properties.titlecaseMapping }
}
