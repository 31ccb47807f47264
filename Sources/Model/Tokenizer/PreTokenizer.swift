/// Splitting text into pieces before BPE, as llama.cpp's pre-tokenizers (llama-vocab.cpp, unicode.cpp)
/// and tokenizers' `Split`/`ByteLevel`/`Digits` do: a list of steps, each splitting every piece the step
/// before left, keeping the text between matches as pieces. Names and patterns: PreTokenizerTable.swift.
public struct PreTokenizer: Sendable {
    public enum Step: Sendable {
        /// Matches and the text between them become pieces (llama.cpp's regex split; tokenizers' Isolated).
        case isolate(SplitPattern)
        /// Matches are dropped, the text between them kept (tokenizers' Removed, e.g. Whitespace splits).
        case remove(SplitPattern)
        /// GPT-2's pattern, hand-written like llama.cpp's unicode_regex_split_custom_gpt2: the same pieces
        /// as `.isolate` of it, several times faster.
        case gpt2
        /// Llama 3's pattern (maxDigits 3) or Qwen2's (1), hand-written (Llama3Split).
        case llama3(maxDigits: Int)
        /// Runs of '\n' and runs of everything else (llama.cpp's custom split for gemma4's `[^\n]+|[\n]+`).
        case newlineRuns
    }

    public let name: String
    public let steps: [Step]

    public init(name: String, steps: [Step]) {
        self.name = name
        self.steps = steps
    }

    /// Pieces of `text`, in order; their concatenation is `text` unless a step removes matches.
    public func split(_ text: String) -> [String] {
        let prepared = CodepointText(text)
        return pieces(prepared).map { prepared.string($0) }
    }

    /// Ranges of `text.codepoints`, in order.
    func pieces(_ text: CodepointText) -> [Range<Int>] {
        var ranges = text.codepoints.isEmpty ? [] : [0..<text.codepoints.count]
        text.codepoints.withUnsafeBufferPointer { cps in
            text.categories.withUnsafeBufferPointer { cats in
                let view = PatternText(codepoints: cps, categories: cats)
                for step in steps {
                    switch step {
                    case .isolate(let pattern): ranges = pattern.split(view, ranges)
                    case .remove(let pattern): ranges = pattern.split(view, ranges, keepMatches: false)
                    case .gpt2: ranges = ranges.flatMap { GPT2Split.pieces(view, $0) }
                    case .newlineRuns: ranges = ranges.flatMap { Self.newlineRuns(view, $0) }
                    case .llama3(let maxDigits):
                        var out: [Range<Int>] = []
                        out.reserveCapacity(ranges.count + text.codepoints.count / 3)
                        for range in ranges { Llama3Split.pieces(view, range, maxDigits: maxDigits, into: &out) }
                        ranges = out
                    }
                }
            }
        }
        return ranges
    }

    static func newlineRuns(_ text: PatternText, _ range: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = range.lowerBound
        while start < range.upperBound {
            let newline = text.codepoints[start] == 0x0A
            var end = start + 1
            while end < range.upperBound && (text.codepoints[end] == 0x0A) == newline { end += 1 }
            out.append(start..<end)
            start = end
        }
        return out
    }
}

/// Text as code points with their categories (computed once, shared by every step).
struct CodepointText {
    let codepoints: [UInt32]
    let categories: [CodepointCategory]

    init(_ text: String) {
        var cps: [UInt32] = []
        cps.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars { cps.append(s.value) }
        codepoints = cps
        categories = cps.map(CodepointCategory.of)
    }

    /// The UTF-8 bytes of a range.
    func utf8(_ range: Range<Int>, into out: inout [UInt8]) {
        for i in range {
            let c = codepoints[i]
            switch c {
            case 0..<0x80: out.append(UInt8(c))
            case 0x80..<0x800:
                out.append(UInt8(0xC0 | (c >> 6)))
                out.append(UInt8(0x80 | (c & 0x3F)))
            case 0x800..<0x10000:
                out.append(UInt8(0xE0 | (c >> 12)))
                out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (c & 0x3F)))
            default:
                out.append(UInt8(0xF0 | (c >> 18)))
                out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
                out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (c & 0x3F)))
            }
        }
    }

    func string(_ range: Range<Int>) -> String {
        var bytes: [UInt8] = []
        utf8(range, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` without
/// a regex engine.
enum GPT2Split {
    static func pieces(_ text: PatternText, _ range: Range<Int>) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var pos = range.lowerBound
        let end = range.upperBound
        func cat(_ i: Int) -> CodepointCategory? { i < end ? text.categories[i] : nil }
        func cp(_ i: Int) -> UInt32 { i < end ? text.codepoints[i] : 0xFFFF_FFFF }
        let other: CodepointCategory = [.letter, .number, .whitespace]
        while pos < end {
            // Contractions: 's 't 'm 'd 're 've 'll (case-sensitive, as the pattern).
            if cp(pos) == 0x27 {
                let n = cp(pos + 1), n2 = cp(pos + 2)
                if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 {
                    pieces.append(pos..<(pos + 2)); pos += 2; continue
                }
                if (n == 0x72 && n2 == 0x65) || (n == 0x76 && n2 == 0x65) || (n == 0x6C && n2 == 0x6C) {
                    pieces.append(pos..<(pos + 3)); pos += 3; continue
                }
            }
            // Optional single space, then letters / numbers / other non-space symbols.
            let lead = cp(pos) == 0x20 ? 1 : 0
            if let first = cat(pos + lead) {
                let run: CodepointCategory?
                if !first.isDisjoint(with: .letter) {
                    run = .letter
                } else if !first.isDisjoint(with: .number) {
                    run = .number
                } else if !first.contains(.whitespace) {
                    run = nil
                    var i = pos + lead
                    while let c = cat(i), c.isDisjoint(with: other) { i += 1 }
                    pieces.append(pos..<i); pos = i; continue
                } else {
                    run = []
                }
                if let run, !run.isEmpty {
                    var i = pos + lead
                    while let c = cat(i), !c.isDisjoint(with: run) { i += 1 }
                    pieces.append(pos..<i); pos = i; continue
                }
            }
            // Whitespace: \s+(?!\S) leaves the last space to the word that follows; \s+ takes the rest.
            var i = pos
            while let c = cat(i), c.contains(.whitespace) { i += 1 }
            if i - pos > 1 && i < end {
                pieces.append(pos..<(i - 1)); pos = i - 1
            } else {
                pieces.append(pos..<i); pos = i
            }
        }
        return pieces
    }
}
