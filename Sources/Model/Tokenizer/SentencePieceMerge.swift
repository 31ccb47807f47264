import Formats

/// The merge loop of SentencePieceBPE (llama.cpp llm_tokenizer_spm_session), on UTF-8 bytes.
extension SentencePieceBPE {
    /// A live run of bytes in a doubly linked list; `length` 0 once merged into its left neighbour.
    struct Symbol {
        var start: Int, length: Int, prev: Int, next: Int
    }

    /// A candidate merge of symbols `left` and `left`'s next, whose joined text (`size` bytes) is a token.
    struct Bigram: HeapOrdered {
        var score: Float, left: Int, right: Int, size: Int
        /// Higher score first; on a tie the leftmost.
        func isBefore(_ other: Bigram) -> Bool { score > other.score || (score == other.score && left < other.left) }
    }

    /// Token ids of one escaped text fragment.
    func merge(_ text: [UInt8]) -> [Int] {
        var symbols: [Symbol] = []
        var offset = 0
        while offset < text.count {
            let lead = text[offset]
            let length = min(ByteUnicode.sequenceLength(lead: lead), text.count - offset)
            symbols.append(Symbol(start: offset, length: length, prev: symbols.count - 1, next: symbols.count + 1))
            offset += length
        }
        if !symbols.isEmpty { symbols[symbols.count - 1].next = -1 }
        var queue = MergeHeap<Bigram>()
        func tryAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let a = symbols[left], b = symbols[right]
            let bytes = text[a.start..<(a.start + a.length + b.length)]
            guard let id = ids[ExactString(String(decoding: bytes, as: UTF8.self))], bytes.count == a.length + b.length else { return }
            queue.push(Bigram(score: scores[id], left: left, right: right, size: a.length + b.length))
        }
        for i in 1..<max(1, symbols.count) { tryAdd(i - 1, i) }
        while let top = queue.pop() {
            let left = symbols[top.left], right = symbols[top.right]
            // Stale: one side already merged away, or the pair changed since it was queued.
            if left.length == 0 || right.length == 0 || left.length + right.length != top.size { continue }
            symbols[top.left].length += right.length
            symbols[top.right].length = 0
            symbols[top.left].next = right.next
            if right.next >= 0 { symbols[right.next].prev = top.left }
            tryAdd(left.prev, top.left)
            tryAdd(top.left, right.next)
        }
        var out: [Int] = []
        var i = symbols.isEmpty ? -1 : 0
        while i >= 0 {
            let s = symbols[i]
            let bytes = text[s.start..<(s.start + s.length)]
            if let id = ids[ExactString(String(decoding: bytes, as: UTF8.self))], String(decoding: bytes, as: UTF8.self).utf8.count == bytes.count {
                out.append(id)
            } else {
                for b in bytes where byteIDs[Int(b)] >= 0 { out.append(byteIDs[Int(b)]) }
            }
            i = s.next
        }
        return out
    }
}
