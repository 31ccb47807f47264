import Formats
import Testing

/// The DType table against gguf-py's constants, and the f16/bf16 encoders against numpy / gguf-py
/// (fixtures/make_codecs.py).
@Suite struct DTypeAndCodecTests {
    @Test func ggmlTableMatchesGGUFPy() throws {
        let types = try #require(try Fixtures.json("../codecs/ggml_types.json").arrayValue)
        #expect(types.count >= 30)
        for t in types {
            let name = try #require(t["name"]?.stringValue)
            let id = try #require(t["id"]?.uint64Value)
            let dtype = try #require(DType(ggmlID: UInt32(id)), "ggml id \(id) (\(name)) missing")
            #expect(dtype.name == name)
            #expect(UInt64(dtype.blockSize) == t["block_size"]?.uint64Value, "\(name)")
            #expect(UInt64(dtype.bytesPerBlock) == t["bytes_per_block"]?.uint64Value, "\(name)")
        }
        // Removed ids are rejected, Q8_1 uses ggml's 36-byte block (gguf-py's 40 is stale).
        for removed: UInt32 in [4, 5, 31, 32, 33, 36, 37, 38, 43, 1000] { #expect(DType(ggmlID: removed) == nil) }
        #expect(DType.q8_1.bytesPerBlock == 36)
    }

    @Test func safetensorsNamesAreExact() {
        #expect(DType(safetensorsName: "F32") == .f32)
        #expect(DType(safetensorsName: "f32") == nil)
        #expect(DType(safetensorsName: "Q4_0") == nil)
        #expect(DType.allCases.filter(\.isSafetensors).count == 22)
    }

    @Test func f16EncodeMatchesNumpyRoundToNearestEven() throws {
        let golden = try Fixtures.json("../codecs/codecs.json")
        let input = try #require(golden["f32_bits"]?.arrayValue).compactMap(\.uint64Value)
        let want = try #require(golden["f16_bits"]?.arrayValue).compactMap(\.uint64Value)
        #expect(input.count == want.count && input.count > 100)
        for (bits, expected) in zip(input, want) {
            let got = Half.fromFloat(Float(bitPattern: UInt32(bits)))
            #expect(UInt64(got) == expected, "f32 bits \(String(bits, radix: 16))")
        }
    }

    @Test func bf16EncodeMatchesGGUFPy() throws {
        let golden = try Fixtures.json("../codecs/codecs.json")
        let input = try #require(golden["bf16_input_f32_bits"]?.arrayValue).compactMap(\.uint64Value)
        let want = try #require(golden["bf16_bits"]?.arrayValue).compactMap(\.uint64Value)
        #expect(input.count == want.count && input.count > 100)
        for (bits, expected) in zip(input, want) {
            #expect(UInt64(BFloat16.fromFloat(Float(bitPattern: UInt32(bits)))) == expected, "f32 bits \(String(bits, radix: 16))")
        }
    }

    /// ggml's fp32 -> fp16 maps every NaN to sign | 0x7E00 (formats.md §3.2).
    @Test func f16NaNFollowsGGML() {
        #expect(Half.fromFloat(Float(bitPattern: 0x7FC0_0000)) == 0x7E00)
        #expect(Half.fromFloat(Float(bitPattern: 0xFF80_0001)) == 0xFE00)
        #expect(Half.toFloat(0x0001) == Float(bitPattern: 0x3380_0000))  // smallest subnormal, 2^-24
    }

    @Test func integerCodecsRoundTrip() throws {
        let values: [Float] = [-128, -1, 0, 1, 127]
        for dtype in [DType.i8, .i16, .i32, .i64] {
            let bytes = try #require(ElementCodec.encode(values, as: dtype))
            #expect(bytes.count == values.count * dtype.bytesPerBlock)
            #expect(bytes.withUnsafeBytes { ElementCodec.decode($0, as: dtype) } == values)
        }
        #expect(ElementCodec.encode([300, -5], as: .u8) == [255, 0])
        #expect(ElementCodec.decode(UnsafeRawBufferPointer(start: nil, count: 0), as: .q4_0) == nil)
    }

    @Test func byteCountsAreChecked() {
        #expect(DType.q4_0.byteCount(elements: 64, rowLength: 32) == 36)
        #expect(DType.q4_0.byteCount(elements: 33, rowLength: 33) == nil)
        #expect(DType.f4.byteCount(elements: 3, rowLength: 3) == nil)
        #expect(DType.f32.byteCount(elements: UInt64.max / 2, rowLength: 1) == nil)
        #expect(elementCount([1 << 40, 1 << 40]) == nil)
    }
}
