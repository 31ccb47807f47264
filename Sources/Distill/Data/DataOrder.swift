/// Which examples each batch takes: every epoch is a fresh permutation drawn from (seed, epoch), so the
/// position in the data is two integers that a checkpoint stores and a resumed run continues from.
public struct DataOrder: Sendable, Equatable {
    public struct Cursor: Sendable, Equatable {
        public var epoch: Int
        public var position: Int
        public init(epoch: Int = 0, position: Int = 0) {
            self.epoch = epoch
            self.position = position
        }
    }

    public let count: Int
    public let seed: UInt64
    public var cursor: Cursor
    private var order: [Int]

    public init(count: Int, seed: UInt64, cursor: Cursor = Cursor()) {
        self.count = count
        self.seed = seed
        self.cursor = cursor
        order = Self.permutation(count: count, seed: seed, epoch: cursor.epoch)
    }

    /// Fisher–Yates over 0..<count with a generator seeded by (seed, epoch).
    public static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03))
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        }
        return order
    }

    /// The next `size` example indices, continuing into the next epoch when this one runs out.
    public mutating func next(_ size: Int) -> [Int] {
        var batch: [Int] = []
        while batch.count < size {
            if cursor.position == count {
                cursor = Cursor(epoch: cursor.epoch + 1, position: 0)
                order = Self.permutation(count: count, seed: seed, epoch: cursor.epoch)
            }
            batch.append(order[cursor.position])
            cursor.position += 1
        }
        return batch
    }
}
