import Formats
import Foundation

/// Named f32 buffers to and from one safetensors file: how checkpoints store weights, prompts and
/// optimizer moments bit-exactly. Writing streams one tensor at a time through SafetensorsStreaming.
enum TensorFile {
    struct Entry {
        var name: String
        var values: UnsafeMutablePointer<Float>
        var count: Int
    }

    static func write(_ entries: [Entry], folder: String, fileName: String) throws(DistillError) {
        let descriptors = entries.map { TensorDescriptor(name: $0.name, dtype: .f32, shape: [$0.count], byteCount: 4 * $0.count) }
        do {
            try SafetensorsStreaming.write(descriptors, folder: folder, maxShardSize: Int.max, overwrite: true, fileName: fileName) { i in
                ByteView(owned: Array(UnsafeRawBufferPointer(start: entries[i].values, count: 4 * entries[i].count)))
            }
        } catch { throw .format(error) }
    }

    /// Fills every entry from the tensor of the same name; a missing tensor or another size is an error.
    static func read(_ entries: [Entry], path: String) throws(DistillError) {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch { throw .format(error) }
        let tensors = Dictionary(file.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for entry in entries {
            guard let tensor = tensors[entry.name] else {
                throw .invalidCheckpoint(path: path, reason: "no tensor '\(entry.name)'")
            }
            guard tensor.dtype == .f32, tensor.elementCount == entry.count else {
                throw .invalidCheckpoint(path: path, reason: "'\(entry.name)' is \(tensor.dtype.rawValue) \(tensor.shape), expected F32 [\(entry.count)]")
            }
            tensor.data.withUnsafeBytes { raw in
                UnsafeMutableRawPointer(entry.values).copyMemory(from: raw.baseAddress!, byteCount: 4 * entry.count)
            }
        }
    }
}
