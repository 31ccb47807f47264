import Formats

/// The merge loop of BPETokenizer on one piece: symbols in a linked list, candidate pairs in a heap ordered
/// by (rank, left position), a popped pair skipped when either side changed since it was queued (llama.cpp
/// llm_tokenizer_bpe_session, the same order as tokenizers' BPE::merge_word).
extension BPETokenizer {
    /// Ids of `piece` (UTF-8 text, before byte encoding).
    func mergePiece(_ piece: [UInt8]) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(piece.count)
        if options.byteEncode {
            for b in piece { symbols.append(byteSymbols[Int(b)]) }
            if options.ignoreMerges, symbols.count > 1, let whole = symbolIDs[ExactString(symbolText(symbols))], Int(whole) < tokens.count {
                return [whole]
            }
        } else {
            if options.ignoreMerges, let whole = symbolIDs[ExactString(String(decoding: piece, as: UTF8.self))], Int(whole) < tokens.count {
                return [whole]
            }
            // gemma4: a piece of newlines only is looked up whole (llama.cpp #21343).
            if options.escapeWhitespace, piece.allSatisfy({ $0 == 0x0A }),
               let whole = symbolIDs[ExactString(String(decoding: piece, as: UTF8.self))], Int(whole) < tokens.count {
                return [whole]
            }
            var i = 0
            while i < piece.count {
                let length = min(ByteUnicode.sequenceLength(lead: piece[i]), piece.count - i)
                let text = String(decoding: piece[i..<(i + length)], as: UTF8.self)
                // A character that is no symbol keeps its bytes as a negative marker: -(offset + 1) … never merges.
                symbols.append(symbolIDs[ExactString(text)] ?? Int32(-1 - i))
                i += length
            }
        }
        let merged = symbols.count < 2 ? symbols : merge(symbols)
        var out: [Int32] = []
        out.reserveCapacity(merged.count)
        for s in merged {
            if s >= 0 && Int(s) < tokens.count {
                out.append(s)
                continue
            }
            // Not a token: its bytes one by one (byte-level: the one-byte texts; otherwise <0xXX>).
            let bytes: [UInt8]
            if s >= 0 {
                bytes = Array(symbolTexts[Int(s)].utf8)
            } else {
                // One character that is no symbol (it never merges).
                let start = Int(-1 - s)
                let end = start + min(ByteUnicode.sequenceLength(lead: piece[start]), piece.count - start)
                bytes = Array(piece[start..<end])
            }
            for b in bytes where byteFallback[Int(b)] >= 0 { out.append(byteFallback[Int(b)]) }
        }
        return out
    }

    func symbolText(_ symbols: [Int32]) -> String {
        var s = ""
        for id in symbols { s += symbolTexts[Int(id)] }
        return s
    }

    /// Applies merges until none applies.
    func merge(_ initial: [Int32]) -> [Int32] {
        var symbol = initial
        let n = initial.count
        var next = (0..<n).map { $0 + 1 }
        var prev = (0..<n).map { $0 - 1 }
        next[n - 1] = -1
        var alive = [Bool](repeating: true, count: n)
        // (rank, left, left symbol, right symbol): stale entries are recognised by their symbols.
        var heap = MergeHeap<CandidatePair>()
        func consider(_ left: Int) {
            guard left >= 0, next[left] >= 0 else { return }
            let a = symbol[left], b = symbol[next[left]]
            guard a >= 0, b >= 0, let m = merges[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))] else { return }
            heap.push(CandidatePair(rank: Int32(truncatingIfNeeded: m >> 32), left: Int32(left), a: a, b: b))
        }
        for i in 0..<(n - 1) { consider(i) }
        while let top = heap.pop() {
            let left = Int(top.left)
            guard alive[left], symbol[left] == top.a, next[left] >= 0, symbol[next[left]] == top.b else { continue }
            let right = next[left]
            guard let m = merges[UInt64(UInt32(top.a)) << 32 | UInt64(UInt32(top.b))] else { continue }
            symbol[left] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            alive[right] = false
            next[left] = next[right]
            if next[right] >= 0 { prev[next[right]] = left }
            consider(prev[left])
            consider(left)
        }
        var out: [Int32] = []
        var i = 0
        while i >= 0 {
            out.append(symbol[i])
            i = next[i]
        }
        return out
    }
}

/// A candidate merge of the symbol at `left` with the next: stale once either symbol changed.
struct CandidatePair: HeapOrdered {
    var rank: Int32, left: Int32, a: Int32, b: Int32
    /// Lowest rank first; on a tie the leftmost.
    func isBefore(_ o: CandidatePair) -> Bool { rank < o.rank || (rank == o.rank && left < o.left) }
}
