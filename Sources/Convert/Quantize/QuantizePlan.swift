import Formats
import Model

/// llama-quantize's per-tensor decisions for one input file (llama-quant.cpp `llama_tensor_get_type`,
/// `llama_tensor_get_type_impl`, `tensor_type_fallback`), computed before any data is read.
public struct QuantizePlan: Sendable {
    public struct Entry: Sendable {
        public var info: GGUFFile.TensorInfo
        public var target: DType
        /// Set when the row length forced a fallback: (wanted type, type used).
        public var fallback: (wanted: DType, used: DType)?
        public var converts: Bool { info.dtype != target }
    }

    /// Tensors in llama.cpp's output order.
    public var entries: [Entry]
    public var fileTypeID: UInt32
    public var fallbackCount: Int { entries.filter { $0.fallback != nil }.count }

    /// The model facts the mixes consult.
    struct Hyper {
        var arch: String
        var layers: Int
        var gqa: Int
        var experts: Int
        var is70B: Bool

        init(_ gguf: GGUFFile) {
            let arch = gguf.architecture ?? ""
            func int(_ key: String) -> Int? { gguf["\(arch).\(key)"]?.integerValue.map { Int($0) } }
            let heads = int(GGUFKeys.ArchKey.headCount.rawValue) ?? 0
            let kvHeads = int(GGUFKeys.ArchKey.headCountKV.rawValue) ?? heads
            self.arch = arch
            layers = int(GGUFKeys.ArchKey.blockCount.rawValue) ?? 0
            gqa = kvHeads == 0 ? 0 : heads / kvHeads
            experts = int("expert_count") ?? 0
            // llama.cpp's LLM_TYPE_70B (llama-model.cpp), by the family that knows its sizes.
            is70B = experts != 8 && (ModelFamilies.gguf(arch)?.isLlamaCpp70B(layers, heads, kvHeads) ?? false)
        }
    }

    /// Counters advanced in tensor order, as `quantize_state_impl`.
    struct Counters {
        var attentionV = 0, attentionVCount = 0, ffnDown = 0, ffnDownCount = 0, ffnGate = 0, ffnUp = 0
        var tiedEmbeddings = true
    }

    public init(_ gguf: GGUFFile, options: QuantizeOptions) throws(ConvertError) {
        let hyper = Hyper(gguf)
        let ordered = gguf.tensorInfos.sorted { TensorCategory.precedes($0.name, $1.name) }
        var counters = Counters()
        for info in ordered {
            let category = TensorCategory(name: info.name)
            if category.isAttentionV { counters.attentionVCount += 1 }
            if category == .output { counters.tiedEmbeddings = false }
        }
        counters.ffnDownCount = hyper.layers
        var entries: [Entry] = []
        for info in ordered {
            entries.append(try Self.decide(info, options: options, hyper: hyper, counters: &counters))
        }
        self.entries = entries
        if options.fileType.onlyCopy {
            fileTypeID = gguf[GGUFKeys.fileType]?.integerValue.map { UInt32(truncatingIfNeeded: $0) }
                ?? LlamaFileType.guessed(from: gguf.tensorInfos.map(\.dtype))
        } else {
            fileTypeID = options.fileType.id
        }
    }

    /// llama.cpp's `tensor_requires_imatrix`: never the token embeddings or output; IQ3_XXS, IQ2_*, IQ1_* always;
    /// Q2_K only in a Q2_K_S file.
    static func requiresImatrix(_ entry: Entry, fileType: LlamaFileType) -> Bool {
        let name = entry.info.name
        if name == "token_embd.weight" || name == "output.weight" { return false }
        switch entry.target {
        case .iq3_xxs, .iq2_xxs, .iq2_xs, .iq2_s, .iq1_m, .iq1_s: return true
        case .q2_K: return fileType.name == "Q2_K_S"
        default: return false
        }
    }

    /// `ggml_n_dims`: trailing ne == 1 do not count, at least 1.
    static func dims(_ info: GGUFFile.TensorInfo) -> Int {
        var n = info.ne.count
        while n > 1 && info.ne[n - 1] == 1 { n -= 1 }
        return max(n, 1)
    }

    static func decide(_ info: GGUFFile.TensorInfo, options: QuantizeOptions, hyper: Hyper,
                       counters: inout Counters) throws(ConvertError) -> Entry {
        let category = TensorCategory(name: info.name)
        let allowed = TensorCategory.allowsQuantization(name: info.name, dims: dims(info),
                                                        quantizeOutput: options.quantizeOutputTensor,
                                                        onlyCopy: options.fileType.onlyCopy)
        guard allowed else { return Entry(info: info, target: info.dtype) }
        if let t = options.tokenEmbeddingType, category == .tokenEmbedding { return Entry(info: info, target: t) }
        if let t = options.outputTensorType, category == .output { return Entry(info: info, target: t) }
        let defaultType = options.fileType.defaultType
        guard defaultType.isQuantized else { return Entry(info: info, target: defaultType) }
        var target = defaultType
        var manual = false
        if let match = options.tensorTypes.first(where: { $0.matches(info.name) }) {
            target = match.dtype
            manual = true
        }
        if !manual && !options.pure {
            target = mix(target, info: info, category: category, options: options, hyper: hyper, counters: &counters)
        }
        return try fallback(info, target)
    }

    /// `use_more_bits`: the first and last eighth of the layers and every third one between get more bits.
    static func useMoreBits(_ i: Int, _ n: Int) -> Bool {
        i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2
    }

    /// The K-mix and output rules of `llama_tensor_get_type_impl` for the file types in the menu.
    static func mix(_ start: DType, info: GGUFFile.TensorInfo, category: TensorCategory, options: QuantizeOptions,
                    hyper: Hyper, counters: inout Counters) -> DType {
        var new = start
        let ftype = options.fileType.name
        if category == .output || (counters.tiedEmbeddings && category == .tokenEmbedding) {
            if let t = options.outputTensorType {
                new = t
            } else if ftype == "MXFP4_MOE" {
                new = .q8_0
            } else if hyper.arch == "falcon" || Int(info.ne[0]) % new.blockSize != 0 {
                new = .q8_0
            } else if ["IQ2_XS", "IQ2_S", "IQ2_M", "IQ3_XXS"].contains(ftype) {
                new = .q5_K
            } else if new != .q8_0 {
                new = .q6_K
            }
        } else if ftype == "MXFP4_MOE" {
            new = .q8_0  // MXFP4 goes to MoE expert tensors (3-D) only; ckpt's dense families have none
        } else if category == .tokenEmbedding {
            if let t = options.tokenEmbeddingType {
                new = t
            } else if ftype == "TQ1_0" || ftype == "TQ2_0" {
                new = .q4_K
            } else if ftype == "IQ2_XS" {
                new = .q2_K
            } else if ["IQ2_S", "IQ2_M", "IQ3_XXS"].contains(ftype) {
                new = .iq3_s
            }
        } else if ["IQ2_XS", "IQ2_S", "IQ2_M"].contains(ftype) {
            new = twoBitMix(new, category: category, wide: ftype != "IQ2_XS", hyper: hyper, counters: &counters)
        } else if category.isAttentionV {
            switch ftype {
            case "Q2_K": new = hyper.gqa >= 4 ? .q4_K : .q3_K
            case "Q3_K_M": new = counters.attentionV < 2 ? .q5_K : .q4_K
            case "Q3_K_L": new = .q5_K
            // (a `where` clause binds only to the last pattern of a case: one case per name)
            case "Q4_K_M" where useMoreBits(counters.attentionV, counters.attentionVCount): new = .q6_K
            case "Q5_K_M" where useMoreBits(counters.attentionV, counters.attentionVCount): new = .q6_K
            case "Q4_K_S" where counters.attentionV < 4: new = .q5_K
            case "IQ4_NL" where hyper.gqa >= 4, "IQ4_XS" where hyper.gqa >= 4: new = .q5_K
            case "IQ3_S" where hyper.gqa >= 4, "IQ3_XS" where hyper.gqa >= 4: new = .q4_K
            case "IQ3_M": new = .q4_K
            case "IQ3_XXS": new = hyper.gqa >= 4 ? .q4_K : options.imatrix == nil ? .iq3_s : .iq3_xxs
            default: break
            }
            if hyper.is70B && (new == .q3_K || new == .q4_K) { new = .q5_K }
            if hyper.experts == 8 { new = .q8_0 }
            counters.attentionV += 1
        } else if category == .attentionK {
            if hyper.experts == 8 {
                new = .q8_0
            } else if ftype == "IQ3_XS" {
                new = .iq3_xxs
            } else if ftype == "IQ3_XXS" {
                new = .iq2_s
            }
        } else if category == .attentionQ {
            if ftype == "IQ3_XS" { new = .iq3_xxs } else if ftype == "IQ3_XXS" { new = .iq2_s }
        } else if category == .ffnGate || category == .ffnUp {
            // IQ3_XS: the middle three quarters of the layers' gate and up projections get IQ3_XXS (n_ffn_* = n_layer).
            let i = category == .ffnGate ? counters.ffnGate : counters.ffnUp, n = counters.ffnDownCount
            if ftype == "IQ3_XS" && i >= n / 8 && i < 7 * n / 8 { new = .iq3_xxs }
            if category == .ffnGate { counters.ffnGate += 1 } else { counters.ffnUp += 1 }
        } else if category == .ffnDown {
            let (i, n) = (counters.ffnDown, counters.ffnDownCount)
            let falcon = hyper.arch == "falcon"
            switch ftype {
            case "Q2_K": new = .q3_K
            case "IQ3_XXS" where options.imatrix == nil: new = i < n / 8 ? .q4_K : .q3_K
            case "Q3_K_M": new = i < n / 16 ? .q5_K : (!falcon || useMoreBits(i, n)) ? .q4_K : .q3_K
            case "Q3_K_L": new = falcon ? .q4_K : .q5_K
            case "Q4_K_M":
                if falcon {
                    new = i < n / 16 ? .q6_K : useMoreBits(i, n) ? .q5_K : .q4_K
                } else if useMoreBits(i, n) {
                    new = .q6_K
                }
            case "Q5_K_M" where useMoreBits(i, n): new = .q6_K
            case "Q4_K_S" where !falcon && i < n / 8: new = .q5_K
            // With an imatrix, llama.cpp guards the first eighth of ffn_down in Q4_0/Q5_0 with the _1 types.
            case "Q4_0" where options.imatrix != nil && i < n / 8: new = .q4_1
            case "Q5_0" where options.imatrix != nil && i < n / 8: new = .q5_1
            case "IQ4_NL" where options.imatrix == nil && i < n / 8, "IQ4_XS" where options.imatrix == nil && i < n / 8: new = .q5_K
            case "IQ3_M" where i < n / 8 || (hyper.experts == 8 && useMoreBits(i, n)): new = .q4_K
            default: break
            }
            counters.ffnDown += 1
        } else if category == .attentionOutput {
            if hyper.arch != "falcon" {
                if hyper.experts == 8 {
                    if ["Q2_K", "Q3_K_S", "Q3_K_M", "Q4_K_S", "Q4_K_M", "IQ4_NL", "IQ4_XS", "IQ3_XS", "IQ3_XXS", "IQ3_S", "IQ3_M"].contains(ftype) { new = .q5_K }
                } else {
                    switch ftype {
                    case "Q2_K": new = .q3_K
                    case "IQ3_XXS": new = .iq3_s
                    case "Q3_K_M", "IQ3_M": new = .q4_K
                    case "Q3_K_L": new = .q5_K
                    default: break
                    }
                }
            } else if ftype == "Q3_K_L" {
                new = .q4_K
            }
        }
        return new
    }

    /// The rules of the 2-bit file types (IQ2_XS; `wide`: IQ2_S and IQ2_M), which replace the per-category ones:
    /// attn_v, the first eighth of ffn_down and attn_output get more bits (IQ3_S when wide, else Q2_K).
    static func twoBitMix(_ start: DType, category: TensorCategory, wide: Bool, hyper: Hyper, counters: inout Counters) -> DType {
        var new = start
        if category.isAttentionV {
            new = hyper.gqa >= 4 || hyper.experts >= 4 ? .q4_K : wide ? .iq3_s : .q2_K
            counters.attentionV += 1
        } else if hyper.experts == 8 && category == .attentionK {
            new = .q4_K
        } else if category == .ffnDown {
            if counters.ffnDown < counters.ffnDownCount / 8 { new = wide ? .iq3_s : .q2_K }
            counters.ffnDown += 1
        } else if category == .attentionOutput {
            if hyper.experts == 8 { new = .q5_K } else if wide { new = .iq3_s }
        }
        return new
    }

    /// `tensor_type_fallback`: a row that is not whole blocks of the target moves to a 32-block type,
    /// then to F16 when even that does not fit.
    static func fallback(_ info: GGUFFile.TensorInfo, _ target: DType) throws(ConvertError) -> Entry {
        let columns = Int(info.ne[0])
        guard columns % target.blockSize != 0 else { return Entry(info: info, target: target) }
        var used: DType
        switch target {
        case .iq1_s, .iq1_m, .iq2_xxs, .iq2_xs, .iq2_s, .iq3_xxs, .iq3_s, .iq4_xs: used = .iq4_nl
        case .q2_0, .q2_K, .q3_K, .tq1_0, .tq2_0: used = .q4_0
        case .q4_K: used = .q5_0
        case .q5_K: used = .q5_1
        case .q6_K: used = .q8_0
        default:
            guard target.blockSize <= 32 else {
                throw .noFallback(tensor: info.name, dtype: target.name, rowLength: columns)
            }
            used = target
        }
        if columns % used.blockSize != 0 { used = .f16 }
        return Entry(info: info, target: used, fallback: (target, used))
    }
}
