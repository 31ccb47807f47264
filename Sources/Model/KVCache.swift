/// Keys and values of every layer for the positions seen so far, so decoding a new token costs one row of
/// work. Shapes per layer: keys, values [capacity, kvHeads·headDim], in one allocation sized once;
/// overflow is an error raised by Transformer before anything is written.
public final class KVCache: @unchecked Sendable {
    public let capacity: Int
    public let width: Int
    public let layers: Int
    public private(set) var count = 0
    private let storage: UnsafeMutableBufferPointer<Float>

    public init(config: TransformerConfig, capacity: Int) {
        self.capacity = capacity
        width = config.kvWidth
        layers = config.layerCount
        storage = .allocate(capacity: 2 * layers * capacity * width)
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    /// Keys of `layer` [capacity, width].
    func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { storage.baseAddress! + (2 * layer) * capacity * width }
    /// Values of `layer` [capacity, width].
    func values(_ layer: Int) -> UnsafeMutablePointer<Float> { storage.baseAddress! + (2 * layer + 1) * capacity * width }

    /// Copies `rows` rows of k and v for `layer` to positions count..<count+rows (committed by `advance`).
    func store(layer: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, rows: Int) {
        (keys(layer) + count * width).update(from: k, count: rows * width)
        (values(layer) + count * width).update(from: v, count: rows * width)
    }

    func advance(_ rows: Int) { count += rows }

    public func reset() { count = 0 }
}
