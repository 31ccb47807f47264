// Scalar helpers shared by the ggml block codecs, with C semantics (formats.md §3.3, ggml-quants.c):
// every expression is evaluated in Float32 left to right, never fused, and float -> int conversions
// behave as x86's cvttss2si (truncation; out-of-range and NaN give Int32.min) instead of trapping.

/// GROUP_MAX_EPS in ggml-quants.c: below this a group counts as all zero.
@usableFromInline let groupMaxEps: Float = 1e-15

/// ggml's `nearest_int`: round half to even via the 1.5·2^23 trick (exact for |f| < 2^22).
@inlinable @inline(__always)
func nearestInt(_ f: Float) -> Int32 {
    let v = f + 12_582_912.0
    return Int32(bitPattern: v.bitPattern & 0x007F_FFFF) &- 0x0040_0000
}

/// C's float -> int conversion on x86-64 (cvttss2si): truncation toward zero, 0x80000000 when the value
/// is NaN or out of range. Swift's `Int32(_:)` would trap instead.
@inlinable @inline(__always)
func cTruncate(_ f: Float) -> Int32 {
    guard f > -2_147_483_904.0 && f < 2_147_483_648.0 else { return Int32.min }  // NaN fails both
    return Int32(f)
}

/// C's `(int8_t)` / `(uint8_t)` of a float: via a 32-bit truncation, then the low byte.
@inlinable @inline(__always)
func cInt8(_ f: Float) -> Int8 { Int8(truncatingIfNeeded: cTruncate(f)) }

@inlinable @inline(__always)
func cUInt8(_ f: Float) -> UInt8 { UInt8(truncatingIfNeeded: cTruncate(f)) }

/// C's `roundf`: half away from zero.
@inlinable @inline(__always)
func cRound(_ f: Float) -> Float { f.rounded(.toNearestOrAwayFromZero) }

extension UnsafeMutableRawPointer {
    /// Stores `value` as ggml fp16 (round to nearest even) at byte `offset`.
    @inlinable @inline(__always)
    func storeHalf(_ value: Float, at offset: Int) {
        storeBytes(of: Half.fromFloat(value).littleEndian, toByteOffset: offset, as: UInt16.self)
    }
}

extension UnsafeRawPointer {
    @inlinable @inline(__always)
    func loadHalf(at offset: Int) -> Float {
        Half.toFloat(UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    @inlinable @inline(__always)
    func byte(_ offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }
}
