// The one table of element types: every safetensors dtype string and every ggml type id, with the
// block size (elements per block) and the bits per block. Sources: formats.md §1.2 (safetensors,
// `Dtype` enum order) and §3.1 (ggml ids, block sizes, bytes per block).

public enum DType: String, CaseIterable, Sendable, Codable {
    // Plain element types (block size 1).
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL", c64 = "C64"
    case f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case f8e4m3fnuz = "F8_E4M3FNUZ", f8e5m2fnuz = "F8_E5M2FNUZ"
    case f6e2m3 = "F6_E2M3", f6e3m2 = "F6_E3M2", f4 = "F4"
    // ggml block-quantized types.
    case q4_0 = "Q4_0", q4_1 = "Q4_1", q5_0 = "Q5_0", q5_1 = "Q5_1", q8_0 = "Q8_0", q8_1 = "Q8_1"
    case q2_K = "Q2_K", q3_K = "Q3_K", q4_K = "Q4_K", q5_K = "Q5_K", q6_K = "Q6_K", q8_K = "Q8_K"
    case iq2_xxs = "IQ2_XXS", iq2_xs = "IQ2_XS", iq3_xxs = "IQ3_XXS", iq1_s = "IQ1_S", iq4_nl = "IQ4_NL"
    case iq3_s = "IQ3_S", iq2_s = "IQ2_S", iq4_xs = "IQ4_XS", iq1_m = "IQ1_M"
    case tq1_0 = "TQ1_0", tq2_0 = "TQ2_0", mxfp4 = "MXFP4", nvfp4 = "NVFP4", q1_0 = "Q1_0", q2_0 = "Q2_0"

    /// (ggml type id or nil, safetensors rank or nil, elements per block, bits per block).
    /// The safetensors rank is the position in the Rust `Dtype` enum ("increasing alignment"); the reference
    /// writer sorts tensors by it, descending.
    private var row: (ggml: UInt32?, safetensorsRank: Int?, block: Int, bits: Int) {
        switch self {
        case .bool: (nil, 0, 1, 8)
        case .f4: (nil, 1, 1, 4)
        case .f6e2m3: (nil, 2, 1, 6)
        case .f6e3m2: (nil, 3, 1, 6)
        case .u8: (nil, 4, 1, 8)
        case .i8: (24, 5, 1, 8)
        case .f8e5m2: (nil, 6, 1, 8)
        case .f8e4m3: (nil, 7, 1, 8)
        case .f8e8m0: (nil, 8, 1, 8)
        case .f8e4m3fnuz: (nil, 9, 1, 8)
        case .f8e5m2fnuz: (nil, 10, 1, 8)
        case .i16: (25, 11, 1, 16)
        case .u16: (nil, 12, 1, 16)
        case .f16: (1, 13, 1, 16)
        case .bf16: (30, 14, 1, 16)
        case .i32: (26, 15, 1, 32)
        case .u32: (nil, 16, 1, 32)
        case .f32: (0, 17, 1, 32)
        case .c64: (nil, 18, 1, 64)
        case .f64: (28, 19, 1, 64)
        case .i64: (27, 20, 1, 64)
        case .u64: (nil, 21, 1, 64)
        case .q4_0: (2, nil, 32, 18 * 8)
        case .q4_1: (3, nil, 32, 20 * 8)
        case .q5_0: (6, nil, 32, 22 * 8)
        case .q5_1: (7, nil, 32, 24 * 8)
        case .q8_0: (8, nil, 32, 34 * 8)
        case .q8_1: (9, nil, 32, 36 * 8)   // C block_q8_1; gguf-py's (32, 40) is stale
        case .q2_K: (10, nil, 256, 84 * 8)
        case .q3_K: (11, nil, 256, 110 * 8)
        case .q4_K: (12, nil, 256, 144 * 8)
        case .q5_K: (13, nil, 256, 176 * 8)
        case .q6_K: (14, nil, 256, 210 * 8)
        case .q8_K: (15, nil, 256, 292 * 8)
        case .iq2_xxs: (16, nil, 256, 66 * 8)
        case .iq2_xs: (17, nil, 256, 74 * 8)
        case .iq3_xxs: (18, nil, 256, 98 * 8)
        case .iq1_s: (19, nil, 256, 50 * 8)
        case .iq4_nl: (20, nil, 32, 18 * 8)
        case .iq3_s: (21, nil, 256, 110 * 8)
        case .iq2_s: (22, nil, 256, 82 * 8)
        case .iq4_xs: (23, nil, 256, 136 * 8)
        case .iq1_m: (29, nil, 256, 56 * 8)
        case .tq1_0: (34, nil, 256, 54 * 8)
        case .tq2_0: (35, nil, 256, 66 * 8)
        case .mxfp4: (39, nil, 32, 17 * 8)
        case .nvfp4: (40, nil, 64, 36 * 8)
        case .q1_0: (41, nil, 128, 18 * 8)
        case .q2_0: (42, nil, 64, 18 * 8)
        }
    }

    public var ggmlID: UInt32? { row.ggml }
    public var isSafetensors: Bool { row.safetensorsRank != nil }
    public var safetensorsRank: Int? { row.safetensorsRank }
    /// Elements per block (1 for plain types).
    public var blockSize: Int { row.block }
    /// Bits per block: 32 for F32, 4 for F4, 144 (18 bytes) for Q4_0.
    public var bitsPerBlock: Int { row.bits }
    /// Bytes per block where that is whole (every ggml type and every byte-aligned plain type).
    public var bytesPerBlock: Int { row.bits / 8 }
    public var isQuantized: Bool { row.block > 1 }
    /// The float types weights are stored, converted and exported in (f32, f16, bf16): every reader widens
    /// them exactly, and they are the ones a Hugging Face export and row-wise streaming take.
    public static let weightFloats: Set<DType> = [.f32, .f16, .bf16]
    /// Storage cost per weight, for summaries (Q4_1: 5.0).
    public var bitsPerWeight: Double { Double(row.bits) / Double(row.block) }

    public var name: String { rawValue }

    /// ggml type by id; removed ids (4, 5, 31-33, 36-38) and unknown ids give nil.
    public init?(ggmlID: UInt32) {
        guard let match = DType.byGGMLID[ggmlID] else { return nil }
        self = match
    }

    /// safetensors dtype by its exact string ("F32", "BF16", ...); ggml-only names give nil.
    public init?(safetensorsName: String) {
        guard let match = DType(rawValue: safetensorsName), match.isSafetensors else { return nil }
        self = match
    }

    private static let byGGMLID: [UInt32: DType] = {
        var table: [UInt32: DType] = [:]
        for type in DType.allCases { if let id = type.ggmlID { table[id] = type } }
        return table
    }()

    /// Bytes for `elements` elements laid out in rows of `rowLength` (the innermost dimension), with
    /// overflow checks; nil when a row is not a whole number of blocks, a sub-byte total is not whole,
    /// or the arithmetic overflows.
    public func byteCount(elements: UInt64, rowLength: UInt64) -> UInt64? {
        let block = UInt64(blockSize)
        if block > 1 && rowLength % block != 0 { return nil }
        let (bits, overflow) = (elements / block).multipliedReportingOverflow(by: UInt64(bitsPerBlock))
        guard !overflow, bits % 8 == 0 else { return nil }
        return bits / 8
    }
}

/// Product of dimensions with overflow detection (nil on overflow).
public func elementCount<S: Sequence>(_ shape: S) -> UInt64? where S.Element == UInt64 {
    var total: UInt64 = 1
    for dim in shape {
        let (product, overflow) = total.multipliedReportingOverflow(by: dim)
        if overflow { return nil }
        total = product
    }
    return total
}
