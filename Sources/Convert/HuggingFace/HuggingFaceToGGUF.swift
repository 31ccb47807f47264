import Formats
import Model

/// HF folder → GGUF, streaming: the plan and metadata are fixed first, then each tensor is read from its
/// file (f32 pieces with pread into one reused buffer, the rest through the mapping), transformed and
/// written one at a time (peak memory: the largest tensor and a few buffers), atomically.
public enum HuggingFaceToGGUF {
    public struct Summary: Sendable {
        public var tensors = 0, bytes = 0
    }

    /// `progress(done, total, bytesWritten, bytesTotal)` after each tensor. `preTokenizer` names the
    /// byte-level BPE pre-tokenizer for llama.cpp when its hash is not in convert_hf_to_gguf's table.
    public static func convert(input: String, config: String? = nil, output: String, outtype: ConvertOutType, overwrite: Bool,
                               preTokenizer: String? = nil, progress: (Int, Int, Int, Int) -> Void = { _, _, _, _ in }) throws(ConvertError) -> Summary {
        let hf = try HuggingFaceDirectory(path: input, config: config)
        let plan = try GGUFConversionPlan(hf, outtype: outtype)
        let metadata = try GGUFMetadata.build(hf, plan: plan, preTokenizer: preTokenizer)
        let descriptors = plan.entries.map { e in
            GGUFWriter.TensorDescriptor(name: e.name, dtype: e.target, shape: e.shape,
                                        byteCount: e.shape.reduce(1, *) / e.target.blockSize * e.target.bytesPerBlock)
        }
        let total = descriptors.reduce(0) { $0 + $1.byteCount }
        var written = 0
        var failure: ConvertError?
        let source = ScratchBuffer()
        do throws(FormatError) {
            try GGUFWriter(metadata: metadata).write(to: output, overwrite: overwrite, descriptors: descriptors) { (i, out) throws(FormatError) in
                do throws(ConvertError) {
                    if i == 0 { out.reserveWhole(plan.largestTransposedBytes) }
                    try plan.write(plan.entries[i], path: input, into: out, source: source)
                    written += descriptors[i].byteCount
                    progress(i + 1, descriptors.count, written, total)
                } catch {
                    failure = error
                    throw FormatError.unencodable(path: output, what: "tensor '\(plan.entries[i].name)'", reason: "\(error)")
                }
            }
        } catch {
            throw failure ?? .format(error)
        }
        return Summary(tensors: descriptors.count, bytes: total)
    }
}
