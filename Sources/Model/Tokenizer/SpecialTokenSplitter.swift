/// Cuts special tokens written in the text out before the model's own algorithm runs, with llama.cpp's
/// rule (tokenizer_st_partition): special tokens are taken longest first, each splitting every text
/// fragment left at all of its non-overlapping occurrences, left to right. Control and unknown tokens are
/// cut only when special tokens are parsed; user-defined ones always. A token marked `rstrip` (`lstrip`)
/// swallows the whitespace after (before) it.
///
/// Done in one pass: a trie finds every occurrence of every special token, then occurrences are claimed
/// in the order llama.cpp would find them (token by token, longest first; left to right), skipping any
/// that overlaps one already claimed — the same cuts as splitting fragment lists token by token.
struct SpecialTokenSplitter: Sendable {
    struct Special: Sendable {
        var bytes: [UInt8]
        var id: Int
        /// Cut even when special tokens are not parsed (user-defined tokens).
        var alwaysParsed: Bool
        var lstrip = false
        var rstrip = false
    }

    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int)
    }

    /// Longest first; equal lengths by id.
    let specials: [Special]
    /// Root: first byte → node (0: none). Other edges: node << 8 | byte → node.
    private let root: [Int32]
    private let edges: [Int: Int32]
    /// Node → index in `specials` of the token ending there, -1 when none.
    private let terminal: [Int32]

    init(_ specials: [Special]) {
        let sorted = specials.filter { !$0.bytes.isEmpty }
            .sorted { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        self.specials = sorted
        var root = [Int32](repeating: 0, count: 256)
        var edges: [Int: Int32] = [:]
        var terminal: [Int32] = [-1]  // node 0 is the root
        for (index, special) in sorted.enumerated() {
            var node: Int32 = 0
            for (depth, byte) in special.bytes.enumerated() {
                let existing = depth == 0 ? root[Int(byte)] : edges[Int(node) << 8 | Int(byte)] ?? 0
                if existing != 0 {
                    node = existing
                } else {
                    terminal.append(-1)
                    let fresh = Int32(terminal.count - 1)
                    if depth == 0 { root[Int(byte)] = fresh } else { edges[Int(node) << 8 | Int(byte)] = fresh }
                    node = fresh
                }
            }
            if terminal[Int(node)] < 0 { terminal[Int(node)] = Int32(index) }
        }
        self.root = root
        self.edges = edges
        self.terminal = terminal
    }

    /// The special tokens of a vocabulary: control, user-defined (always cut) and unknown tokens, with
    /// llama.cpp's per-token strip attributes.
    init(tokens: [String], types: [SentencePieceBPE.TokenType], strip: (Int) -> (lstrip: Bool, rstrip: Bool)) {
        let special: Set<SentencePieceBPE.TokenType> = [.control, .userDefined, .unknown]
        self.init(types.indices.filter { special.contains(types[$0]) }.map { i in
            let (l, r) = strip(i)
            return Special(bytes: Array(tokens[i].utf8), id: i, alwaysParsed: types[i] == .userDefined, lstrip: l, rstrip: r)
        })
    }

    /// The fragments of `bytes`: text ranges and token ids, in order.
    func split(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        if bytes.isEmpty { return [] }
        // Every occurrence: (special index, start).
        var found: [(Int32, Int)] = []
        bytes.withUnsafeBufferPointer { text in
            for start in 0..<text.count {
                var node = root[Int(text[start])]
                var i = start + 1
                while node != 0 {
                    let t = terminal[Int(node)]
                    if t >= 0 && (parseSpecial || specials[Int(t)].alwaysParsed) { found.append((t, start)) }
                    guard i < text.count else { break }
                    node = edges[Int(node) << 8 | Int(text[i])] ?? 0
                    i += 1
                }
            }
        }
        if found.isEmpty { return [.text(0..<bytes.count)] }
        found.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        // 0 free, 1 removed (stripped whitespace), 2 inside a claimed token.
        var state = [UInt8](repeating: 0, count: bytes.count)
        var starts: [Int: Int] = [:]  // start → special index
        for (index, start) in found {
            let special = specials[Int(index)]
            let end = start + special.bytes.count
            guard !state[start..<end].contains(where: { $0 != 0 }) else { continue }
            for i in start..<end { state[i] = 2 }
            starts[start] = Int(index)
            if special.rstrip {
                var i = end
                while i < bytes.count, state[i] == 0, Self.isSpace(bytes[i]) { state[i] = 1; i += 1 }
            }
            if special.lstrip {
                var i = start - 1
                while i >= 0, state[i] == 0, Self.isSpace(bytes[i]) { state[i] = 1; i -= 1 }
            }
        }
        var fragments: [Fragment] = []
        var i = 0, textStart = -1
        while i < bytes.count {
            if state[i] == 0 {
                if textStart < 0 { textStart = i }
                i += 1
                continue
            }
            if textStart >= 0 { fragments.append(.text(textStart..<i)); textStart = -1 }
            if state[i] == 2, let index = starts[i] {
                fragments.append(.token(specials[index].id))
                i += specials[index].bytes.count
            } else {
                i += 1
            }
        }
        if textStart >= 0 { fragments.append(.text(textStart..<bytes.count)) }
        return fragments
    }

    /// C's isspace in the C locale.
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
}
