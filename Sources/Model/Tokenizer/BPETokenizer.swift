import Formats
import Foundation
import Synchronization

/// BPE as llama.cpp runs "gpt2"-model vocabularies (llm_tokenizer_bpe_session) and tokenizers runs BPE
/// models: special tokens cut out (SpecialTokenSplitter), the text pre-tokenized (PreTokenizer), each piece
/// turned into symbols — its bytes as GPT-2's printable characters, or its UTF-8 characters when
/// `byteEncode` is off — merged by rank (lowest first, leftmost on ties), and each symbol looked up; a
/// symbol that is not a token falls back to its bytes.
///
/// Symbols are ids: vocabulary tokens keep theirs, merge parts and results that are not tokens get ids past
/// the vocabulary, so merging compares integers (the merge table maps a pair to its rank and result).
public final class BPETokenizer: @unchecked Sendable {
    public let tokens: [String]
    public let preTokenizer: PreTokenizer
    public let options: BPEOptions
    let types: [SentencePieceBPE.TokenType]
    let splitter: SpecialTokenSplitter
    /// Token text → id (the first id holding it); extra symbols past `tokens.count`.
    let symbolIDs: [ExactString: Int32]
    let symbolTexts: [String]
    /// left << 32 | right → rank << 32 | merged symbol.
    let merges: [UInt64: UInt64]
    /// Byte → the symbol of its GPT-2 character (byteEncode) or of its `<0xXX>` token; -1 when none.
    let byteSymbols: [Int32]
    /// Byte → the token llama.cpp falls back to for it: the one-byte text (byteEncode) or `<0xXX>`.
    let byteFallback: [Int32]
    /// Pieces already encoded, in 16 locked stripes chosen by the piece's hash (threads rarely meet).
    let cache: [PieceCacheStripe] = (0..<16).map { _ in PieceCacheStripe() }

    /// `merges` as GGUF stores them ("left right", split at the first space after the first byte);
    /// `types` as GGUF token types (control, user-defined and unknown tokens are cut out of text).
    public init(tokens: [String], merges: [String], types: [SentencePieceBPE.TokenType], preTokenizer: PreTokenizer,
                options: BPEOptions, strip: (Int) -> (lstrip: Bool, rstrip: Bool) = { _ in (false, false) }) {
        self.tokens = tokens
        self.preTokenizer = preTokenizer
        self.options = options
        let types = types.count == tokens.count ? types : [SentencePieceBPE.TokenType](repeating: .normal, count: tokens.count)
        self.types = types
        var ids: [ExactString: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[ExactString(t)] == nil { ids[ExactString(t)] = Int32(i) }
        var texts = tokens
        func symbol(_ text: String) -> Int32 {
            if let id = ids[ExactString(text)] { return id }
            texts.append(text)
            ids[ExactString(text)] = Int32(texts.count - 1)
            return Int32(texts.count - 1)
        }
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            let utf8 = Array(merge.utf8)
            guard utf8.count > 1, let space = utf8[1...].firstIndex(of: 0x20) else { continue }
            let left = String(decoding: utf8[..<space], as: UTF8.self)
            let right = String(decoding: utf8[(space + 1)...], as: UTF8.self)
            let key = UInt64(UInt32(symbol(left))) << 32 | UInt64(UInt32(symbol(right)))
            if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(UInt32(symbol(left + right))) }
        }
        self.merges = table
        byteSymbols = (0..<256).map { b in
            options.byteEncode ? symbol(String(ByteUnicode.byteToScalar[b])) : ids[ExactString(SentencePieceBPE.byteTokenText(UInt8(b)))] ?? -1
        }
        byteFallback = (0..<256).map { b in
            let text = options.byteEncode ? String(decoding: [UInt8(b)], as: UTF8.self) : SentencePieceBPE.byteTokenText(UInt8(b))
            // A lone byte ≥ 0x80 is not valid UTF-8: llama.cpp finds no token for it.
            return b >= 0x80 && options.byteEncode ? -1 : (ids[ExactString(text)].flatMap { Int($0) < tokens.count ? $0 : nil } ?? -1)
        }
        symbolIDs = ids
        symbolTexts = texts
        splitter = SpecialTokenSplitter(tokens: tokens, types: types, strip: strip)
    }

    /// Token ids of `text`; with `special`, control tokens written in the text become their ids.
    public func encode(_ text: String, special: Bool = true) -> [Int] {
        let bytes = Array(text.utf8)
        var out: [Int] = []
        out.reserveCapacity(bytes.count / 3)
        for fragment in splitter.split(bytes, parseSpecial: special) {
            switch fragment {
            case .token(let id): out.append(id)
            case .text(let range): encodeText(bytes[range], into: &out)
            }
        }
        return out
    }

    func encodeText(_ bytes: ArraySlice<UInt8>, into out: inout [Int]) {
        var text = String(decoding: bytes, as: UTF8.self)
        if options.nfc && !Self.isNFCStable(text) { text = text.precomposedStringWithCanonicalMapping }
        if options.escapeWhitespace { text = text.replacing(" ", with: "\u{2581}") }
        let prepared = CodepointText(text)
        var piece: [UInt8] = []
        for range in preTokenizer.pieces(prepared) {
            piece.removeAll(keepingCapacity: true)
            prepared.utf8(range, into: &piece)
            for id in encodePiece(piece) { out.append(Int(id)) }
        }
    }

    /// True when NFC cannot change `text`: every scalar is below U+0300 (no combining marks, no
    /// decompositions that compose differently) or in blocks without decompositions or combining behaviour
    /// (CJK unified ideographs, kana, Hangul syllables, emoji). Foundation's NFC is the slow part otherwise.
    static func isNFCStable(_ text: String) -> Bool {
        for s in text.unicodeScalars {
            let v = s.value
            if v < 0x300 || (0x3041...0x3096).contains(v) || (0x30A1...0x30FA).contains(v) || (0x4E00...0x9FFF).contains(v)
                || (0xAC00...0xD7A3).contains(v) || (0x1F300...0x1FAFF).contains(v) { continue }
            return false
        }
        return true
    }

    /// The ids of one pre-tokenized piece (UTF-8), cached.
    func encodePiece(_ piece: [UInt8]) -> [Int32] {
        guard piece.count <= 256 else { return mergePiece(piece) }
        let key = PieceKey(piece)
        let stripe = cache[Int(key.hash & 15)]
        if let hit = stripe.entries.withLock({ $0[key] }) { return hit }
        let ids = mergePiece(piece)
        stripe.entries.withLock { if $0.count < 1 << 13 { $0[key] = ids } }
        return ids
    }

    /// The text of `ids`: byte-level tokens back to their bytes, U+2581 to spaces and `<0xXX>` to its byte
    /// when not byte-encoded, special tokens as their text; invalid UTF-8 becomes U+FFFD.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids where tokens.indices.contains(id) {
            let t = tokens[id]
            switch types[id] {
            case .control, .userDefined, .unknown:
                bytes += Array(t.utf8)
            case .byte where !options.byteEncode:
                bytes.append(SentencePieceBPE.byteValue(t) ?? 0x3F)
            case .unused:
                break
            default:
                if options.byteEncode, let b = ByteUnicode.decode(t) {
                    bytes += b
                } else {
                    bytes += Array((options.escapeWhitespace ? t.replacing("\u{2581}", with: " ") : t).utf8)
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

final class PieceCacheStripe: Sendable {
    let entries = Mutex<[PieceKey: [Int32]]>([:])
}

/// A piece's bytes with their FNV-1a hash, computed once: it picks the cache stripe and is the dictionary's
/// hash (one word to hash instead of the bytes).
struct PieceKey: Hashable {
    let bytes: [UInt8]
    let hash: UInt64

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        hash = FNV1a.hash(bytes)
    }

    static func == (a: Self, b: Self) -> Bool { a.hash == b.hash && a.bytes == b.bytes }
    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
