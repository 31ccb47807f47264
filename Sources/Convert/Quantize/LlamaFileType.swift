import Formats

/// llama-quantize's type menu: name -> `general.file_type` (llama_ftype) and the default tensor type.
/// The one table of file types (formats.md §4.2, llama.cpp tools/quantize and llama_ftype_get_default_type).
public struct LlamaFileType: Sendable, Equatable {
    public var name: String
    /// `general.file_type` value.
    public var id: UInt32
    /// The type every quantizable tensor gets before the mix rules and fallbacks.
    public var defaultType: DType
    /// COPY: every tensor is copied as is.
    public var onlyCopy: Bool = false

    /// In llama-quantize's order; aliases (Q3_K = Q3_K_M, ...) resolve to the same id.
    public static let menu: [LlamaFileType] = [
        .init(name: "Q4_0", id: 2, defaultType: .q4_0),
        .init(name: "Q4_1", id: 3, defaultType: .q4_1),
        .init(name: "Q5_0", id: 8, defaultType: .q5_0),
        .init(name: "Q5_1", id: 9, defaultType: .q5_1),
        .init(name: "Q2_K", id: 10, defaultType: .q2_K),
        .init(name: "Q3_K_S", id: 11, defaultType: .q3_K),
        .init(name: "Q3_K_M", id: 12, defaultType: .q3_K),
        .init(name: "Q3_K_L", id: 13, defaultType: .q3_K),
        .init(name: "Q4_K_S", id: 14, defaultType: .q4_K),
        .init(name: "Q4_K_M", id: 15, defaultType: .q4_K),
        .init(name: "Q5_K_S", id: 16, defaultType: .q5_K),
        .init(name: "Q5_K_M", id: 17, defaultType: .q5_K),
        .init(name: "Q6_K", id: 18, defaultType: .q6_K),
        .init(name: "IQ4_NL", id: 25, defaultType: .iq4_nl),
        .init(name: "IQ4_XS", id: 30, defaultType: .iq4_xs),
        .init(name: "IQ3_XS", id: 22, defaultType: .iq3_s),
        .init(name: "IQ3_S", id: 26, defaultType: .iq3_s),
        .init(name: "IQ3_M", id: 27, defaultType: .iq3_s),
        .init(name: "IQ3_XXS", id: 23, defaultType: .iq3_xxs),
        .init(name: "IQ2_XS", id: 20, defaultType: .iq2_xs),
        .init(name: "IQ2_S", id: 28, defaultType: .iq2_xs),
        .init(name: "IQ2_M", id: 29, defaultType: .iq2_s),
        .init(name: "TQ1_0", id: 36, defaultType: .tq1_0),
        .init(name: "TQ2_0", id: 37, defaultType: .tq2_0),
        .init(name: "MXFP4_MOE", id: 38, defaultType: .mxfp4),
        .init(name: "Q8_0", id: 7, defaultType: .q8_0),
        .init(name: "F16", id: 1, defaultType: .f16),
        .init(name: "BF16", id: 32, defaultType: .bf16),
        .init(name: "F32", id: 0, defaultType: .f32),
        .init(name: "COPY", id: 0, defaultType: .f32, onlyCopy: true),
    ]

    static let aliases = ["Q3_K": "Q3_K_M", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M"]

    /// Case-insensitive lookup by name (or by llama_ftype number, as llama-quantize accepts).
    public static func named(_ text: String) -> LlamaFileType? {
        let upper = text.uppercased()
        let name = aliases[upper] ?? upper
        if let match = menu.first(where: { $0.name == name }) { return match }
        if let number = UInt32(text) { return menu.first { $0.id == number && !$0.onlyCopy } }
        return nil
    }

    public var isQuantized: Bool { defaultType.isQuantized }

    /// The file type llama.cpp guesses for a file without `general.file_type`: from the most common
    /// tensor type, with the GUESSED flag (1024).
    public static func guessed(from types: [DType]) -> UInt32 {
        var counts: [DType: Int] = [:]
        for t in types { counts[t, default: 0] += 1 }
        let common = counts.max { ($0.value, $1.key.rawValue) < ($1.value, $0.key.rawValue) }?.key ?? .f32
        let id = menu.first { $0.defaultType == common && !$0.onlyCopy }?.id ?? 0
        return id | 1024
    }
}

extension DType {
    /// ggml's `ggml_type_name`: "f32", "q4_0", "q4_K", "bf16" (lower case, the K suffix upper case).
    public var ggmlName: String {
        let lower = rawValue.lowercased()
        return lower.hasSuffix("_k") ? String(lower.dropLast()) + "K" : lower
    }

    /// A ggml type by its `ggml_type_name`, compared case-insensitively as llama-quantize does.
    public init?(ggmlName: String) {
        guard let match = DType.allCases.first(where: { $0.ggmlID != nil && $0.rawValue.lowercased() == ggmlName.lowercased() })
        else { return nil }
        self = match
    }
}
