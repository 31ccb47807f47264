import Synchronization

/// Byte-level BPE (GPT-2, SmolLM2): pre-tokenize, map each piece's UTF-8 bytes to GPT-2's printable
/// characters, merge adjacent symbols by merge rank (lowest first), look the symbols up in the vocabulary.
/// Special/control tokens are matched in the text first when asked (llama.cpp's `parse_special`).
public final class ByteLevelBPE: @unchecked Sendable {
    public let tokens: [String]
    public let preTokenizer: PreTokenizer
    let ids: [String: Int]
    /// "left right" -> rank.
    let ranks: [String: Int]
    /// Tokens matched as wholes in text when `special` is set, longest first.
    let specials: [(text: [UInt8], id: Int)]
    /// Pieces already encoded (shared by threads: guarded).
    let cache = Mutex<[String: [Int]]>([:])

    public init(tokens: [String], merges: [String], specialTokenIDs: [Int], preTokenizer: PreTokenizer) {
        self.tokens = tokens
        self.preTokenizer = preTokenizer
        var ids: [String: Int] = [:]
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = i }
        self.ids = ids
        var ranks: [String: Int] = [:]
        for (i, m) in merges.enumerated() where ranks[m] == nil { ranks[m] = i }
        self.ranks = ranks
        specials = specialTokenIDs.filter { tokens.indices.contains($0) && !tokens[$0].isEmpty }
            .map { (Array(tokens[$0].utf8), $0) }
            .sorted { $0.text.count > $1.text.count }
    }

    /// Token ids of `text`; with `special`, special tokens written in the text become their ids.
    public func encode(_ text: String, special: Bool = true) -> [Int] {
        var out: [Int] = []
        for segment in special ? splitSpecials(text) : [.text(text)] {
            switch segment {
            case .special(let id): out.append(id)
            case .text(let t):
                for piece in preTokenizer.split(t) { out += bpe(piece) }
            }
        }
        return out
    }

    /// The text of `ids` (bytes joined, then UTF-8 decoded; invalid sequences become U+FFFD).
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids where tokens.indices.contains(id) {
            let t = tokens[id]
            if let b = ByteUnicode.decode(t), !specials.contains(where: { $0.id == id }) {
                bytes += b
            } else {
                bytes += Array(t.utf8)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    enum Segment { case text(String), special(Int) }

    func splitSpecials(_ text: String) -> [Segment] {
        guard !specials.isEmpty else { return [.text(text)] }
        let bytes = Array(text.utf8)
        var segments: [Segment] = []
        var start = 0, i = 0
        outer: while i < bytes.count {
            for s in specials where i + s.text.count <= bytes.count && bytes[i..<(i + s.text.count)].elementsEqual(s.text) {
                if start < i { segments.append(.text(String(decoding: bytes[start..<i], as: UTF8.self))) }
                segments.append(.special(s.id))
                i += s.text.count
                start = i
                continue outer
            }
            i += 1
        }
        if start < bytes.count { segments.append(.text(String(decoding: bytes[start...], as: UTF8.self))) }
        return segments
    }

    /// BPE of one pre-tokenized piece.
    func bpe(_ piece: String) -> [Int] {
        if let hit = cache.withLock({ $0[piece] }) { return hit }
        var symbols = ByteUnicode.encode(piece.utf8).unicodeScalars.map { String($0) }
        while symbols.count > 1 {
            var best = Int.max, at = -1
            for i in 0..<(symbols.count - 1) {
                if let r = ranks[symbols[i] + " " + symbols[i + 1]], r < best { best = r; at = i }
            }
            if at < 0 { break }
            symbols[at] += symbols[at + 1]
            symbols.remove(at: at + 1)
        }
        var out: [Int] = []
        for s in symbols {
            if let id = ids[s] {
                out.append(id)
            } else {
                // A symbol missing from the vocabulary: fall back to its single byte-characters.
                for ch in s.unicodeScalars { if let id = ids[String(ch)] { out.append(id) } }
            }
        }
        cache.withLock { if $0.count < 65_536 { $0[piece] = out } }
        return out
    }
}
