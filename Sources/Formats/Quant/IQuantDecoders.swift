// Decoders of the ggml types ckpt reads but does not produce: the i-quants (lattice grids of
// IQuantTables, sign tables, non-linear 4-bit values), the ternary TQ1_0/TQ2_0 and MXFP4 — ggml-quants.c's
// dequantize_row_* for one block, in its arithmetic order (products left to right in Float32).

/// A block type ckpt can decode (every BlockCodec, and the decode-only types below).
public protocol BlockDecoder {
    static var dtype: DType { get }
    static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>)
}

@inline(__always) private func gridByte(_ value: UInt64, _ j: Int) -> Float { Float(UInt8(truncatingIfNeeded: value >> (8 * UInt64(j)))) }
@inline(__always) private func gridByte(_ value: UInt32, _ j: Int) -> Float { Float(UInt8(truncatingIfNeeded: value >> (8 * UInt32(j)))) }
@inline(__always) private func sign(_ signs: UInt8, _ j: Int) -> Float { signs & IQuantTables.iq2xsMask[j] != 0 ? -1 : 1 }

extension UnsafeRawPointer {
    @inline(__always) func u16(_ offset: Int) -> UInt16 { UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    @inline(__always) func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
}

/// `{f16 d; u16 qs[32]}`: per 32 values 4 grid indices (bytes) and a u32 of 4×7 sign bits + a 4-bit scale.
public enum IQ2_XXS: BlockDecoder {
    public static let dtype = DType.iq2_xxs
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        var out = x
        for ib in 0..<8 {
            let aux1 = y.u32(2 + 8 * ib + 4)
            let db = d * (0.5 + Float(aux1 >> 28)) * 0.25
            for l in 0..<4 {
                let grid = IQuantTables.iq2xxsGrid[Int(y.byte(2 + 8 * ib + l))]
                let signs = IQuantTables.iq2xsSigns[Int((aux1 >> UInt32(7 * l)) & 127)]
                for j in 0..<8 { out[j] = db * gridByte(grid, j) * sign(signs, j) }
                out += 8
            }
        }
    }
}

/// `{f16 d; u16 qs[32]; u8 scales[8]}`: 9-bit grid index + 7-bit sign index per 8 values, 4-bit scales.
public enum IQ2_XS: BlockDecoder {
    public static let dtype = DType.iq2_xs
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        var out = x
        for ib in 0..<8 {
            let sc = y.byte(66 + ib)
            let db = [d * (0.5 + Float(sc & 0xF)) * 0.25, d * (0.5 + Float(sc >> 4)) * 0.25]
            for l in 0..<4 {
                let q = y.u16(2 + 2 * (4 * ib + l))
                let grid = IQuantTables.iq2xsGrid[Int(q & 511)]
                let signs = IQuantTables.iq2xsSigns[Int(q >> 9)]
                for j in 0..<8 { out[j] = db[l / 2] * gridByte(grid, j) * sign(signs, j) }
                out += 8
            }
        }
    }
}

/// `{f16 d; u8 qs[64] (32 grid bytes, then 32 sign bytes); u8 qh[8]; u8 scales[8]}`: 10-bit grid indices.
public enum IQ2_S: BlockDecoder {
    public static let dtype = DType.iq2_s
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        var out = x
        for ib in 0..<8 {
            let sc = y.byte(74 + ib)
            let db = [d * (0.5 + Float(sc & 0xF)) * 0.25, d * (0.5 + Float(sc >> 4)) * 0.25]
            let qh = Int(y.byte(66 + ib))
            for l in 0..<4 {
                let index = Int(y.byte(2 + 4 * ib + l)) | ((qh << (8 - 2 * l)) & 0x300)
                let grid = IQuantTables.iq2sGrid[index]
                let signs = y.byte(2 + 32 + 4 * ib + l)
                for j in 0..<8 { out[j] = db[l / 2] * gridByte(grid, j) * sign(signs, j) }
                out += 8
            }
        }
    }
}

/// `{f16 d; u8 qs[96]}`: 64 grid bytes (4 values each), then per 32 values a u32 of 4×7 sign bits + scale.
public enum IQ3_XXS: BlockDecoder {
    public static let dtype = DType.iq3_xxs
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        var out = x
        for ib in 0..<8 {
            let aux = y.u32(2 + 64 + 4 * ib)
            let db = d * (0.5 + Float(aux >> 28)) * 0.5
            for l in 0..<4 {
                let signs = IQuantTables.iq2xsSigns[Int((aux >> UInt32(7 * l)) & 127)]
                let g1 = IQuantTables.iq3xxsGrid[Int(y.byte(2 + 8 * ib + 2 * l))]
                let g2 = IQuantTables.iq3xxsGrid[Int(y.byte(2 + 8 * ib + 2 * l + 1))]
                for j in 0..<4 {
                    out[j] = db * gridByte(g1, j) * sign(signs, j)
                    out[j + 4] = db * gridByte(g2, j) * sign(signs, j + 4)
                }
                out += 8
            }
        }
    }
}

/// `{f16 d; u8 qs[64]; u8 qh[8]; u8 signs[32]; u8 scales[4]}`: 9-bit grid indices, odd 4-bit scales.
public enum IQ3_S: BlockDecoder {
    public static let dtype = DType.iq3_s
    static let qsOffset = 2, qhOffset = 66, signsOffset = 74, scalesOffset = 106
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        var out = x, qs = qsOffset, qh = qhOffset, signs = signsOffset
        for ib in stride(from: 0, to: 8, by: 2) {
            let sc = y.byte(scalesOffset + ib / 2)
            let dbs = [d * Float(1 + 2 * Int(sc & 0xF)), d * Float(1 + 2 * Int(sc >> 4))]
            for half in 0..<2 {
                let h = Int(y.byte(qh + half)), db = dbs[half]
                for l in 0..<4 {
                    let g1 = IQuantTables.iq3sGrid[Int(y.byte(qs + 2 * l)) | ((h << (8 - 2 * l)) & 256)]
                    let g2 = IQuantTables.iq3sGrid[Int(y.byte(qs + 2 * l + 1)) | ((h << (7 - 2 * l)) & 256)]
                    let s = y.byte(signs + l)
                    for j in 0..<4 {
                        out[j] = db * gridByte(g1, j) * sign(s, j)
                        out[j + 4] = db * gridByte(g2, j) * sign(s, j + 4)
                    }
                    out += 8
                }
                qs += 8
                signs += 4
            }
            qh += 2
        }
    }
}

/// `{f16 d; u8 qs[32]; u16 qh[8]}`: 11-bit indices into the ±1/0 grid, a 3-bit scale and a shift sign.
public enum IQ1_S: BlockDecoder {
    public static let dtype = DType.iq1_s
    static let delta: Float = 0.125
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        var out = x
        for ib in 0..<8 {
            let qh = Int(y.u16(34 + 2 * ib))
            let dl = d * Float(2 * ((qh >> 12) & 7) + 1)
            let delta: Float = qh & 0x8000 != 0 ? -Self.delta : Self.delta
            for l in 0..<4 {
                let grid = IQuantTables.iq1sGrid[Int(y.byte(2 + 4 * ib + l)) | (((qh >> (3 * l)) & 7) << 8)]
                for j in 0..<8 { out[j] = dl * (Float(Int8(truncatingIfNeeded: grid >> (8 * UInt64(j)))) + delta) }
                out += 8
            }
        }
    }
}

/// `{u8 qs[32]; u8 qh[16]; u8 scales[8]}`: IQ1_S's grid with 3-bit scales per 16 values and the f16 block
/// scale spread over the top nibbles of the four u16 scale words.
public enum IQ1_M: BlockDecoder {
    public static let dtype = DType.iq1_m
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let sc = (0..<4).map { Int(y.u16(48 + 2 * $0)) }
        let bits = UInt16((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000))
        let d = Half.toFloat(bits)
        var out = x
        for ib in 0..<8 {
            let s = sc[ib / 2]
            let dl1 = d * Float(2 * ((s >> (6 * (ib % 2))) & 7) + 1)
            let dl2 = d * Float(2 * ((s >> (6 * (ib % 2) + 3)) & 7) + 1)
            let qs = 4 * ib, qh0 = Int(y.byte(32 + 2 * ib)), qh1 = Int(y.byte(32 + 2 * ib + 1))
            let idx = [Int(y.byte(qs)) | ((qh0 << 8) & 0x700), Int(y.byte(qs + 1)) | ((qh0 << 4) & 0x700),
                       Int(y.byte(qs + 2)) | ((qh1 << 8) & 0x700), Int(y.byte(qs + 3)) | ((qh1 << 4) & 0x700)]
            let delta: [Float] = [qh0 & 0x08 != 0 ? -0.125 : 0.125, qh0 & 0x80 != 0 ? -0.125 : 0.125,
                                  qh1 & 0x08 != 0 ? -0.125 : 0.125, qh1 & 0x80 != 0 ? -0.125 : 0.125]
            for l in 0..<4 {
                let grid = IQuantTables.iq1sGrid[idx[l]], dl = l < 2 ? dl1 : dl2
                for j in 0..<8 { out[j] = dl * (Float(Int8(truncatingIfNeeded: grid >> (8 * UInt64(j)))) + delta[l]) }
                out += 8
            }
        }
    }
}

/// `{f16 d; u8 qs[16]}`: 4-bit indices into the non-linear values kvalues_iq4nl.
public enum IQ4_NL: BlockDecoder {
    public static let dtype = DType.iq4_nl
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0)
        for j in 0..<16 {
            let q = y.byte(2 + j)
            x[j] = d * Float(IQuantTables.iq4nlValues[Int(q & 0xF)])
            x[j + 16] = d * Float(IQuantTables.iq4nlValues[Int(q >> 4)])
        }
    }
}

/// `{f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}`: IQ4_NL's values with 6-bit scales per 32.
public enum IQ4_XS: BlockDecoder {
    public static let dtype = DType.iq4_xs
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 0), scalesH = Int(y.u16(2))
        var out = x
        for ib in 0..<8 {
            let ls = ((Int(y.byte(4 + ib / 2)) >> (4 * (ib % 2))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4)
            let dl = d * Float(ls - 32)
            for j in 0..<16 {
                let q = y.byte(8 + 16 * ib + j)
                out[j] = dl * Float(IQuantTables.iq4nlValues[Int(q & 0xF)])
                out[j + 16] = dl * Float(IQuantTables.iq4nlValues[Int(q >> 4)])
            }
            out += 32
        }
    }
}

/// `{u8 qs[48]; u8 qh[4]; f16 d}`: ternary values packed five per byte (base 3), four per qh byte.
public enum TQ1_0: BlockDecoder {
    public static let dtype = DType.tq1_0
    static let pow3: [UInt8] = [1, 3, 9, 27, 81, 243]
    @inline(__always) static func trit(_ byte: UInt8, _ n: Int) -> Float {
        let q = byte &* pow3[n]
        return Float(Int16((UInt16(q) * 3) >> 8) - 1)
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 52)
        var out = x
        for (start, width) in [(0, 32), (32, 16)] {
            for n in 0..<5 {
                for m in 0..<width { out[m] = trit(y.byte(start + m), n) * d }
                out += width
            }
        }
        for n in 0..<4 {
            for j in 0..<4 { out[j] = trit(y.byte(48 + j), n) * d }
            out += 4
        }
    }
}

/// `{u8 qs[64]; f16 d}`: ternary values as 2-bit codes minus 1.
public enum TQ2_0: BlockDecoder {
    public static let dtype = DType.tq2_0
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = y.loadHalf(at: 64)
        var out = x
        for j in stride(from: 0, to: 64, by: 32) {
            for l in 0..<4 {
                for m in 0..<32 { out[m] = Float(Int8((y.byte(j + m) >> UInt8(l * 2)) & 3) - 1) * d }
                out += 32
            }
        }
    }
}

/// `{u8 e; u8 qs[16]}`: E2M1 values (doubled, kvalues_fp4) times half the E8M0 scale.
public enum MXFP4: BlockDecoder {
    public static let dtype = DType.mxfp4
    /// ggml_e8m0_to_fp32_half: 2^(e − 128), with the two smallest exponents as denormal bit patterns.
    static func halfScale(_ e: UInt8) -> Float {
        Float(bitPattern: e < 2 ? UInt32(0x0020_0000) << UInt32(e) : UInt32(e - 1) << 23)
    }
    public static func dequantize(_ y: UnsafeRawPointer, into x: UnsafeMutablePointer<Float>) {
        let d = halfScale(y.byte(0))
        for j in 0..<16 {
            let q = y.byte(1 + j)
            x[j] = Float(IQuantTables.fp4Values[Int(q & 0x0F)]) * d
            x[j + 16] = Float(IQuantTables.fp4Values[Int(q >> 4)]) * d
        }
    }
}
