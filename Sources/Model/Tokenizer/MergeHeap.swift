/// What a merge queue orders by: `isBefore` is "pops first".
protocol HeapOrdered {
    func isBefore(_ other: Self) -> Bool
}

/// A binary heap, the element that is before all others on top: the merge queues of SentencePieceBPE
/// (best score, leftmost) and BPETokenizer (lowest rank, leftmost).
struct MergeHeap<Element: HeapOrdered> {
    private var items: [Element] = []

    mutating func push(_ item: Element) {
        items.append(item)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].isBefore(items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count && items[l].isBefore(items[best]) { best = l }
                if r < items.count && items[r].isBefore(items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return top
    }
}
