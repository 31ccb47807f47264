/// Splitting text into pieces before BPE, as llama.cpp's pre-tokenizers do (llama-vocab.cpp): `gpt2` uses
/// GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;
/// `smollm` first isolates every \p{N} character, then applies the GPT-2 pattern to each piece.
/// Hand-written like llama.cpp's `unicode_regex_split_custom_gpt2` (no regex engine).
public enum PreTokenizer: String, Sendable {
    case gpt2 = "gpt-2"
    case smollm

    /// Pieces of `text`, in order; their concatenation is `text`.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        switch self {
        case .gpt2:
            return Self.gpt2Pattern(scalars[...]).map { String(String.UnicodeScalarView($0)) }
        case .smollm:
            var out: [String] = []
            var start = 0
            for (i, s) in scalars.enumerated() where Self.isNumber(s) {
                if start < i { out += Self.gpt2Pattern(scalars[start..<i]).map { String(String.UnicodeScalarView($0)) } }
                out.append(String(s))
                start = i + 1
            }
            if start < scalars.count {
                out += Self.gpt2Pattern(scalars[start...]).map { String(String.UnicodeScalarView($0)) }
            }
            return out
        }
    }

    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }

    /// The GPT-2 pattern over a run of scalars.
    static func gpt2Pattern(_ text: ArraySlice<Unicode.Scalar>) -> [ArraySlice<Unicode.Scalar>] {
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        var pos = text.startIndex
        let end = text.endIndex
        func at(_ i: Int) -> Unicode.Scalar? { i < end ? text[i] : nil }
        while pos < end {
            let c = text[pos]
            // Contractions: 's 't 'm 'd 're 've 'll (case-sensitive, as the pattern).
            if c == "'", let n = at(pos + 1) {
                if "stmd".unicodeScalars.contains(n) {
                    pieces.append(text[pos..<(pos + 2)]); pos += 2; continue
                }
                if let n2 = at(pos + 2), (n == "r" && n2 == "e") || (n == "v" && n2 == "e") || (n == "l" && n2 == "l") {
                    pieces.append(text[pos..<(pos + 3)]); pos += 3; continue
                }
            }
            // Optional single space, then letters / numbers / other non-space symbols.
            let lead = c == " " ? 1 : 0
            if let first = at(pos + lead) {
                let run: ((Unicode.Scalar) -> Bool)?
                if isLetter(first) {
                    run = isLetter
                } else if isNumber(first) {
                    run = isNumber
                } else if !isSpace(first) {
                    run = { !isSpace($0) && !isLetter($0) && !isNumber($0) }
                } else {
                    run = nil
                }
                if let run {
                    var i = pos + lead
                    while let s = at(i), run(s) { i += 1 }
                    pieces.append(text[pos..<i]); pos = i; continue
                }
            }
            // Whitespace: \s+(?!\S) leaves the last space to the word that follows; \s+ takes the rest.
            var i = pos
            while let s = at(i), isSpace(s) { i += 1 }
            let count = i - pos
            if count > 1 && i < end {
                pieces.append(text[pos..<(i - 1)]); pos = i - 1
            } else {
                pieces.append(text[pos..<i]); pos = i
            }
        }
        return pieces
    }
}
