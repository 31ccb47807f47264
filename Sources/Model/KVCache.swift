/// Keys and values of every layer for the positions seen so far, so decoding a new token costs one row of
/// work. Shapes per layer: keys, values [capacity, kvHeads·headDim]. Sized once; overflow is an error.
public final class KVCache {
    public let capacity: Int
    public let width: Int
    public private(set) var count = 0
    var keys: [[Float]]
    var values: [[Float]]

    public init(config: TransformerConfig, capacity: Int) {
        self.capacity = capacity
        width = config.kvWidth
        keys = Array(repeating: [Float](repeating: 0, count: capacity * config.kvWidth), count: config.layerCount)
        values = keys
    }

    /// Appends `rows` rows of k and v for `layer` at positions count..<count+rows (committed by `advance`).
    func store(layer: Int, k: [Float], v: [Float], rows: Int) {
        let start = count * width
        keys[layer].replaceSubrange(start..<(start + rows * width), with: k.prefix(rows * width))
        values[layer].replaceSubrange(start..<(start + rows * width), with: v.prefix(rows * width))
    }

    func advance(_ rows: Int) { count += rows }

    public func reset() { count = 0 }
}
