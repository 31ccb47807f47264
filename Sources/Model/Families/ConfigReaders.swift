import Foundation
import Formats

/// Typed access to a Hugging Face config.json for the family decoders: every value checked, every error
/// naming the file and the key. transformers 5 writes `rope_parameters` where 4.x wrote `rope_theta` +
/// `rope_scaling`; both are read.
public struct HFConfigReader: Sendable {
    public let json: JSONValue
    public let path: String

    public init(json: JSONValue, path: String) {
        self.json = json
        self.path = path
    }

    public subscript(key: String) -> JSONValue? {
        guard let v = json[key], v != .null else { return nil }
        return v
    }

    /// The first of `keys` present, as a non-negative integer.
    public func int(_ keys: String...) throws(ModelError) -> Int? { try int(keys) }

    func int(_ keys: [String]) throws(ModelError) -> Int? {
        for key in keys {
            guard let value = self[key] else { continue }
            guard let v = value.int64Value, v >= 0, v <= Int64(Int32.max) else {
                throw .invalidValue(path: path, key: key, reason: "must be a non-negative integer")
            }
            return Int(v)
        }
        return nil
    }

    public func required(_ keys: String...) throws(ModelError) -> Int {
        guard let v = try int(keys) else { throw .missingKey(path: path, key: keys[0]) }
        return v
    }

    public func float(_ key: String) -> Float? { self[key]?.doubleValue.map { Float($0) } }
    public func bool(_ key: String) -> Bool? { self[key]?.boolValue }

    /// `rope_parameters` (transformers 5) or `rope_scaling` (4.x); for families with one set per layer kind
    /// (Gemma 3), `kind` picks it (`full_attention`, `sliding_attention`).
    public func ropeParameters(kind: String? = nil) -> JSONValue? {
        let p = self["rope_parameters"] ?? self["rope_scaling"]
        if let kind, let nested = p?[kind], nested != .null { return nested }
        return p
    }

    /// rope_theta from the rope parameters or the top level.
    public func ropeTheta(kind: String? = nil, default value: Double) -> Float {
        Float(ropeParameters(kind: kind)?["rope_theta"]?.doubleValue ?? self["rope_theta"]?.doubleValue ?? value)
    }

    /// The rope scaling named by `rope_type` (or `type`): none/default, linear, llama3, longrope. Any other
    /// type is an error naming it: silently ignoring it would compute a different model.
    public func ropeScaling(kind: String? = nil, dimensions: Int, theta: Float) throws(ModelError) -> RotaryEmbedding.Scaling {
        guard let p = ropeParameters(kind: kind), p != .null else { return .none }
        let type = p["rope_type"]?.stringValue ?? p["type"]?.stringValue ?? "default"
        let key = self["rope_parameters"] != nil ? "rope_parameters" : "rope_scaling"
        func number(_ name: String) throws(ModelError) -> Double {
            guard let v = p[name]?.doubleValue else { throw .missingKey(path: path, key: "\(key).\(name)") }
            return v
        }
        switch type {
        case "default":
            return .none
        case "linear":
            return .linear(factor: Float(try number("factor")))
        case "llama3":
            let original = try number("original_max_position_embeddings")
            return .divisors(RopeScalingMath.llama3Divisors(dimensions: dimensions, theta: theta, factor: try number("factor"),
                                                            lowFrequencyFactor: try number("low_freq_factor"),
                                                            highFrequencyFactor: try number("high_freq_factor"),
                                                            originalContext: original))
        case "longrope":
            func list(_ name: String) throws(ModelError) -> [Float] {
                guard let a = p[name]?.arrayValue else { throw .missingKey(path: path, key: "\(key).\(name)") }
                var out: [Float] = []
                for v in a {
                    guard let d = v.doubleValue, d > 0 else {
                        throw .invalidValue(path: path, key: "\(key).\(name)", reason: "must hold positive numbers")
                    }
                    out.append(Float(d))
                }
                return out
            }
            let context = try int("max_position_embeddings") ?? 0
            guard let original = try int("original_max_position_embeddings")
                    ?? p["original_max_position_embeddings"]?.int64Value.map({ Int($0) }) else {
                throw .missingKey(path: path, key: "original_max_position_embeddings")
            }
            let factor = p["attention_factor"]?.doubleValue.map { Float($0) }
                ?? RopeScalingMath.longropeAttentionFactor(context: context, originalContext: original)
            return .longrope(short: try list("short_factor"), long: try list("long_factor"), originalContext: original,
                             attentionFactor: factor)
        case "yarn":
            return .yarn(try yarn(p, key: key))
        default:
            throw .invalidValue(path: path, key: "\(key).rope_type",
                                reason: "rope scaling '\(type)' is not supported (supported: default, linear, llama3, longrope, yarn)")
        }
    }
}

extension HFConfigReader {
    /// transformers' yarn parameters: original_max_position_embeddings from the top level (Phi-3 style), else
    /// the rope parameters, else max_position_embeddings; factor else max / original. mscale / mscale_all_dim
    /// (DeepSeek) and truncate false are refused: GGUF cannot state them for llama.cpp.
    func yarn(_ p: JSONValue, key: String) throws(ModelError) -> YarnScaling {
        func positive(_ name: String) throws(ModelError) -> Float? {
            guard let v = p[name], v != .null else { return nil }
            guard let d = v.doubleValue, d > 0, d.isFinite else {
                throw .invalidValue(path: path, key: "\(key).\(name)", reason: "must be a positive number")
            }
            return Float(d)
        }
        for name in ["mscale", "mscale_all_dim"] where p[name] != nil && p[name] != .null {
            throw .invalidValue(path: path, key: "\(key).\(name)", reason: "yarn with mscale is not supported")
        }
        if p["truncate"]?.boolValue == false {
            throw .invalidValue(path: path, key: "\(key).truncate", reason: "yarn without truncation is not supported")
        }
        let stated = try positive("original_max_position_embeddings").map { Int($0) }
        let topLevel = try int("original_max_position_embeddings"), context = try int("max_position_embeddings")
        guard let original = topLevel ?? stated ?? context, original > 0 else {
            throw .missingKey(path: path, key: "\(key).original_max_position_embeddings")
        }
        let factor: Float
        if let f = try positive("factor") { factor = f }
        else if let context { factor = Float(context) / Float(original) }
        else { throw .missingKey(path: path, key: "\(key).factor") }
        return YarnScaling(factor: factor, originalContext: original, betaFast: try positive("beta_fast"),
                           betaSlow: try positive("beta_slow"), attentionFactor: try positive("attention_factor"))
    }
}

/// Typed access to a GGUF file's `<arch>.*` keys and its rotary tensors for the family decoders.
public struct GGUFConfigReader: @unchecked Sendable {
    public let gguf: GGUFFile
    public let architecture: String
    public var path: String { gguf.path }

    public func key(_ key: GGUFKeys.ArchKey) -> String { GGUFKeys.arch(architecture, key) }

    public func int(_ key: GGUFKeys.ArchKey) throws(ModelError) -> Int? {
        guard let value = gguf[self.key(key)] else { return nil }
        guard let v = value.integerValue, v >= 0, v <= Int64(Int32.max) else {
            throw .invalidValue(path: path, key: self.key(key), reason: "must be a non-negative integer")
        }
        return Int(v)
    }

    public func required(_ key: GGUFKeys.ArchKey) throws(ModelError) -> Int {
        guard let v = try int(key) else { throw .missingKey(path: path, key: self.key(key)) }
        return v
    }

    public func float(_ key: GGUFKeys.ArchKey) -> Float? { gguf[self.key(key)]?.doubleValue.map { Float($0) } }

    /// `{arch}.vocab_size`, else the token count.
    public func vocabSize() throws(ModelError) -> Int {
        guard let v = try int(.vocabSize) ?? gguf[GGUFKeys.tokens]?.arrayValue?.count else {
            throw .missingKey(path: path, key: GGUFKeys.tokens)
        }
        return v
    }

    public func hasTensor(_ name: String) -> Bool { gguf.tensorInfos.contains { $0.name == name } }

    /// Embeddings are tied when the file has no `output.weight` (llama.cpp's fallback).
    public var tiedEmbeddings: Bool { !hasTensor(TensorNames.gguf(.output, layer: nil)) }

    /// A rotary tensor's values (f32 or f16 as stored), nil when absent.
    public func ropeTensor(_ tensor: TensorNames.RopeTensor) throws(ModelError) -> [Float]? {
        guard let raw = gguf.tensor(named: tensor.rawValue) else { return nil }
        do { return try Quantization.dequantize(raw, path: path) } catch { throw .format(error) }
    }

    /// Which layers slide, as llama.cpp's load_swa_pattern reads `attention.sliding_window_pattern`: a bool
    /// per layer, or a period n (layer l slides when l mod n < n − 1; absent: `default`).
    public func slidingPattern(layers: Int, default period: Int) throws(ModelError) -> [Bool] {
        let key = GGUFKeys.arch(architecture, .slidingWindowPattern)
        if let array = gguf[key]?.arrayValue {
            let values: [GGUFValue]
            do { values = try array.values() } catch { throw .format(error) }
            let flags = values.compactMap(\.boolValue)
            guard flags.count == layers else {
                throw .invalidValue(path: path, key: key, reason: "\(values.count) entries for \(layers) layers")
            }
            return flags
        }
        let n = try int(.slidingWindowPattern) ?? period
        return (0..<layers).map { n > 0 && $0 % n < n - 1 }
    }

    /// The rope scaling of the keys llama.cpp reads: `rope.scaling.type` linear (with its factor), the
    /// `rope_freqs` divisors, or the longrope factor tensors. Other types are named errors.
    public func ropeScaling(dimensions: Int) throws(ModelError) -> RotaryEmbedding.Scaling {
        if let long = try ropeTensor(.longFactors), let short = try ropeTensor(.shortFactors) {
            let context = try required(.contextLength)
            let original = try int(.ropeScalingOriginalContext) ?? context
            let factor = float(.ropeScalingAttnFactor)
                ?? RopeScalingMath.longropeAttentionFactor(context: context, originalContext: original)
            return .longrope(short: short, long: long, originalContext: original, attentionFactor: factor)
        }
        if let divisors = try ropeTensor(.frequencies) { return .divisors(divisors) }
        switch gguf[key(.ropeScalingType)]?.stringValue ?? "none" {
        case "none": return .none
        case "linear":
            let factor = float(.ropeScalingFactor) ?? 1
            return factor == 1 ? .none : .linear(factor: factor)
        case "yarn":
            // llama.cpp reads the factor, the original context and rope.scaling.attn_factor; the yarn_beta_* /
            // yarn_attn_factor keys convert_hf_to_gguf copies from config.json are read here as the model's.
            guard let factor = float(.ropeScalingFactor), factor > 0 else {
                throw .missingKey(path: path, key: key(.ropeScalingFactor))
            }
            if let logMultiplier = float(.ropeScalingYarnLogMultiplier), logMultiplier != 0 {
                throw .invalidValue(path: path, key: key(.ropeScalingYarnLogMultiplier),
                                    reason: "yarn with a log multiplier (mscale) is not supported")
            }
            let original: Int
            if let stated = try int(.ropeScalingOriginalContext) { original = stated } else { original = try required(.contextLength) }
            var yarn = YarnScaling(factor: factor, originalContext: original,
                                   betaFast: float(.ropeScalingYarnBetaFast), betaSlow: float(.ropeScalingYarnBetaSlow),
                                   attentionFactor: float(.ropeScalingYarnAttnFactor))
            if let extra = float(.ropeScalingAttnFactor) { yarn.attentionFactor = yarn.resolvedAttentionFactor * extra }
            return .yarn(yarn)
        case let other:
            throw .invalidValue(path: path, key: key(.ropeScalingType),
                                reason: "rope scaling '\(other)' is not supported (supported: none, linear, yarn, and the rope_freqs / rope_factors tensors)")
        }
    }
}

/// The formulas behind the rope scalings, shared by the HF decoder and conversion.
public enum RopeScalingMath {
    /// Llama 3.1's per-pair frequency divisors, as convert_hf_to_gguf writes `rope_freqs.weight`: with
    /// wavelength w = 2π/f, w < C/h keeps f (1), w > C/l divides by the factor s, between them
    /// smooth = (C/w − l)/(h − l) and the divisor is 1 / ((1 − smooth)/s + smooth). Every step in float32 with
    /// the Python scalars rounded to float32, as torch evaluates the converter's tensor expressions.
    public static func llama3Divisors(dimensions: Int, theta: Float, factor: Double, lowFrequencyFactor l: Double,
                                      highFrequencyFactor h: Double, originalContext c: Double) -> [Float] {
        let lowWavelength = c / l, highWavelength = c / h
        return stride(from: 0, to: dimensions, by: 2).map { i in
            let exponent = Float(i) / Float(dimensions)
            let frequency = 1 / Float(pow(Double(theta), Double(exponent)))
            let wavelength = Float(2 * Double.pi) / frequency
            if Double(wavelength) < highWavelength { return 1 }
            if Double(wavelength) > lowWavelength { return Float(factor) }
            let smooth = (Float(c) / wavelength - Float(l)) / Float(h - l)
            return 1 / ((1 - smooth) / Float(factor) + smooth)
        }
    }

    /// The llama3 parameters behind per-pair divisors (GGUF → config.json), with low_freq_factor 1 as in every
    /// Llama 3.x release. A smoothed pair i gives s_i = (1/d_i − 1/F)/(1 − 1/F) = (C/w_i − 1)/(h − 1): two of
    /// them fix C and h, one fixes C with h = 4 (Meta's value), none leaves C the smallest power of two
    /// between the kept and the divided wavelengths. nil when the divisors are not of that shape.
    public static func llama3Parameters(divisors: [Float], dimensions: Int, theta: Float)
        -> (factor: Double, low: Double, high: Double, originalContext: Int)? {
        guard let top = divisors.max(), top > 1, divisors.allSatisfy({ $0 >= 1 }) else { return nil }
        let factor = Double(top)
        let wavelengths = stride(from: 0, to: dimensions, by: 2).map { i in
            Double(Float(2 * Double.pi) / (1 / Float(pow(Double(theta), Double(Float(i) / Float(dimensions))))))
        }
        guard wavelengths.count == divisors.count else { return nil }
        let smooth = divisors.indices.filter { divisors[$0] > 1 && divisors[$0] < top }
            .map { (w: wavelengths[$0], s: (1 / Double(divisors[$0]) - 1 / factor) / (1 - 1 / factor)) }
        var context: Double, high: Double = 4
        if smooth.count >= 2 {
            let (a, b) = (smooth.first!, smooth.last!)
            // C/w − s·k = 1 for both pairs, k = h − 1.
            let det = -(1 / a.w) * b.s + (1 / b.w) * a.s
            guard det != 0 else { return nil }
            context = (-b.s + a.s) / det
            high = 1 + ((1 / a.w) - (1 / b.w)) / det
        } else if let p = smooth.first {
            context = p.w * (1 + p.s * (high - 1))
        } else {
            let kept = divisors.indices.filter { divisors[$0] == 1 }.map { wavelengths[$0] }.max() ?? 0
            let divided = divisors.indices.filter { divisors[$0] == top }.map { wavelengths[$0] }.min() ?? .infinity
            context = 1
            while context <= high * kept || context < 2 { context *= 2 }
            guard context < divided else { return nil }
        }
        high = (high * 64).rounded() / 64
        guard context.isFinite, context >= 1, high > 1 else { return nil }
        return (factor, 1, high, Int(context.rounded()))
    }

    /// Phi-3's longrope attention factor when the config gives none: √(1 + ln(s)/ln(C)) with
    /// s = context / original context C, 1 when s ≤ 1.
    public static func longropeAttentionFactor(context: Int, originalContext: Int) -> Float {
        guard originalContext > 1, context > originalContext else { return 1 }
        let s = Double(context) / Double(originalContext)
        return Float((1 + log(s) / log(Double(originalContext))).squareRoot())
    }
}
