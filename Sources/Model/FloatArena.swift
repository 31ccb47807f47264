/// Zeroed f32 buffers that live and die together: one forward's activations, one training pass's. Each
/// buffer holds at least one element, so an empty one still has an address.
final class FloatArena {
    private var buffers: [UnsafeMutableBufferPointer<Float>] = []

    func make(_ count: Int) -> UnsafeMutablePointer<Float> {
        let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count))
        b.initialize(repeating: 0)
        buffers.append(b)
        return b.baseAddress!
    }

    var byteCount: Int { buffers.reduce(0) { $0 + $1.count } * MemoryLayout<Float>.size }

    deinit { for b in buffers { b.deallocate() } }
}
