/// One ggml block type: the only place that knows its layout. `quantize` reads `DType.blockSize` floats
/// and writes `DType.bytesPerBlock` bytes, exactly as ggml's `quantize_row_*_ref` does for one block;
/// `dequantize` is ggml's `dequantize_row_*` for one block.
public protocol BlockCodec: BlockDecoder {
    static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer)
}

/// The codec table: ggml type -> block codec. Types without a codec (IQ*, TQ*, MXFP4, ...) are refused
/// by name, never decoded into garbage.
public enum BlockCodecs {
    public static func codec(for dtype: DType) -> (any BlockCodec.Type)? {
        switch dtype {
        case .f32: F32Codec.self
        case .f16: F16Codec.self
        case .bf16: BF16Codec.self
        case .q4_0: Q4_0.self
        case .q4_1: Q4_1.self
        case .q5_0: Q5_0.self
        case .q5_1: Q5_1.self
        case .q8_0: Q8_0.self
        case .q2_K: Q2_K.self
        case .q3_K: Q3_K.self
        case .q4_K: Q4_K.self
        case .q5_K: Q5_K.self
        case .q6_K: Q6_K.self
        case .iq4_nl: IQ4_NL.self
        case .iq4_xs: IQ4_XS.self
        case .tq1_0: TQ1_0.self
        case .tq2_0: TQ2_0.self
        case .mxfp4: MXFP4.self
        case .iq3_s: IQ3_S.self
        case .iq3_xxs: IQ3_XXS.self
        case .iq2_s: IQ2_S.self
        default: nil
        }
    }

    /// The decoder of a type: every codec, and the types ckpt reads but does not write (i-quants, TQ1_0,
    /// TQ2_0, MXFP4); nil for the rest (NVFP4, Q8_K, …).
    public static func decoder(for dtype: DType) -> (any BlockDecoder.Type)? {
        if let codec = codec(for: dtype) { return codec }
        switch dtype {
        case .iq2_xxs: return IQ2_XXS.self
        case .iq2_xs: return IQ2_XS.self
        case .iq2_s: return IQ2_S.self
        case .iq3_xxs: return IQ3_XXS.self
        case .iq3_s: return IQ3_S.self
        case .iq1_s: return IQ1_S.self
        case .iq1_m: return IQ1_M.self
        case .iq4_nl: return IQ4_NL.self
        case .iq4_xs: return IQ4_XS.self
        case .tq1_0: return TQ1_0.self
        case .tq2_0: return TQ2_0.self
        case .mxfp4: return MXFP4.self
        default: return nil
        }
    }

    /// Types `quantize` can produce (the ggml reference quantizers ckpt reproduces bit for bit).
    public static let quantizable: [DType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0,
                                              .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs, .tq1_0, .tq2_0, .mxfp4, .iq3_s, .iq3_xxs, .iq2_s]
}

/// F32, F16 and BF16 as one-element blocks, so every conversion goes through the same row machinery.
public enum F32Codec: BlockCodec {
    public static let dtype = DType.f32
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        y.storeBytes(of: x[0].bitPattern.littleEndian, as: UInt32.self)
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        x[0] = Float(bitPattern: UInt32(littleEndian: y.loadUnaligned(as: UInt32.self)))
    }
}

public enum F16Codec: BlockCodec {
    public static let dtype = DType.f16
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        y.storeHalf(x[0], at: 0)
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        x[0] = y.loadHalf(at: 0)
    }
}

public enum BF16Codec: BlockCodec {
    public static let dtype = DType.bf16
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        y.storeBytes(of: BFloat16.fromFloat(x[0]).littleEndian, as: UInt16.self)
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        x[0] = BFloat16.toFloat(UInt16(littleEndian: y.loadUnaligned(as: UInt16.self)))
    }
}
