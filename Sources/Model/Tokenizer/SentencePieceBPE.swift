import Formats

/// SentencePiece BPE as llama.cpp runs "llama" vocabularies (llm_tokenizer_spm): spaces become U+2581,
/// a space is put in front of the text (after a special token or at the start), UTF-8 characters are
/// merged pairwise — always the pair whose merged text is the vocabulary token with the highest score,
/// the leftmost on ties — and characters no token covers fall back to <0xXX> byte tokens.
/// Control, user-defined and unknown tokens written in the text are split out first (user-defined always,
/// the others when `special` is set), longest first.
public final class SentencePieceBPE: @unchecked Sendable {
    /// GGUF token types (formats.md §4.4).
    public enum TokenType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// Where the leading U+2581 comes from.
    public enum SpacePrefix: Sendable {
        /// Always, after a special token or at the start (llama.cpp, the sentencepiece library).
        case always
        /// Only at the very start of the text, and only when it does not already start with a space or
        /// U+2581 (transformers' Metaspace prepend_scheme "first").
        case firstUnlessLeadingSpace
        case never
    }

    public let tokens: [String]
    let scores: [Float]
    let types: [TokenType]
    let ids: [ExactString: Int]
    /// Byte value → id of its <0xXX> token (or of a token that is that byte), -1 when none.
    let byteIDs: [Int]
    let splitter: SpecialTokenSplitter
    public let spacePrefix: SpacePrefix

    public init(tokens: [String], scores: [Float], types: [TokenType], spacePrefix: SpacePrefix,
                strip: (Int) -> (lstrip: Bool, rstrip: Bool) = { _ in (false, false) }) {
        self.tokens = tokens
        self.scores = scores
        self.types = types
        self.spacePrefix = spacePrefix
        var ids: [ExactString: Int] = [:]
        for (i, t) in tokens.enumerated() where ids[ExactString(t)] == nil { ids[ExactString(t)] = i }
        self.ids = ids
        byteIDs = (0..<256).map { b in
            ids[ExactString(Self.byteTokenText(UInt8(b)))] ?? ids[ExactString(String(decoding: [UInt8(b)], as: UTF8.self))] ?? -1
        }
        splitter = SpecialTokenSplitter(tokens: tokens, types: types, strip: strip)
    }

    static func byteTokenText(_ b: UInt8) -> String {
        let hex = Array("0123456789ABCDEF")
        return "<0x\(hex[Int(b >> 4)])\(hex[Int(b & 15)])>"
    }

    public func encode(_ text: String, special: Bool = true) -> [Int] {
        var out: [Int] = []
        var afterSpecial = true
        let bytes = Array(text.utf8)
        for (index, fragment) in splitter.split(bytes, parseSpecial: special).enumerated() {
            switch fragment {
            case .token(let id):
                out.append(id)
                afterSpecial = true
            case .text(let range):
                var t = Self.escapeSpaces(bytes[range])
                let prefix = switch spacePrefix {
                case .always: afterSpecial
                case .firstUnlessLeadingSpace: index == 0 && !t.starts(with: [0xE2, 0x96, 0x81])
                case .never: false
                }
                if prefix { t.insert(contentsOf: [0xE2, 0x96, 0x81], at: 0) }
                out += merge(t)
                afterSpecial = false
            }
        }
        return out
    }

    /// The pieces of `ids` joined as llama.cpp's token_to_piece renders them (U+2581 → space, byte tokens
    /// as their byte, control tokens as their text), minus the one space the encoder put in front.
    public func decode(_ ids: [Int]) -> String {
        var bytes = pieces(ids)
        if spacePrefix != .never, bytes.first == 0x20, let first = ids.first, types.indices.contains(first),
           types[first] == .normal || types[first] == .byte {
            bytes.removeFirst()
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes of each token's piece, concatenated.
    public func pieces(_ ids: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids where tokens.indices.contains(id) {
            switch types[id] {
            case .normal: bytes += Array(tokens[id].replacing("\u{2581}", with: " ").utf8)
            case .byte: bytes.append(Self.byteValue(tokens[id]) ?? 0x3F)
            case .control, .unknown, .userDefined: bytes += Array(tokens[id].utf8)
            case .unused: break
            }
        }
        return bytes
    }

    public static func byteValue(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u.starts(with: Array("<0x".utf8)), u[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
    }

    static func escapeSpaces(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            if b == 0x20 { out += [0xE2, 0x96, 0x81] } else { out.append(b) }
        }
        return out
    }
}
