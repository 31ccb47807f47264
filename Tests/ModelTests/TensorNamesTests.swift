import Foundation
import Formats
import Model
import Testing
import TestSupport

/// TensorNames against gguf-py's TensorNameMap, and RowLayout's q/k permutation against
/// convert_hf_to_gguf's numpy code (fixtures/make_names.py).
@Suite struct TensorNamesTests {
    static func fixture(_ name: String) throws -> JSONValue { try Repository.json("names/" + name) }

    @Test(arguments: [ModelFamily.llama, .gpt2])
    func huggingFaceNamesMapLikeGGUFPy(_ family: ModelFamily) throws {
        let rows = try #require(try Self.fixture("tensor_names.json")[family.ggufArchitecture]?.arrayValue)
        #expect(rows.count > 20)
        for row in rows {
            let pair = row.arrayValue ?? []
            let hf = try #require(pair.first?.stringValue)
            let expected = pair.last?.stringValue
            if let expected {
                let parsed = try #require(TensorNames.parseHuggingFace(hf, family: family), "\(hf) not parsed")
                #expect(TensorNames.gguf(parsed.slot, layer: parsed.layer) == expected, "\(hf)")
                #expect(TensorNames.parseGGUF(expected)?.slot == parsed.slot)
                // And back: the slot's HF name is the input (without GPT-2's optional prefix).
                let back = TensorNames.huggingFace(parsed.slot, layer: parsed.layer, family: family)
                #expect(back == hf || "transformer." + (back ?? "") == hf, "\(hf)")
            } else {
                #expect(TensorNames.parseHuggingFace(hf, family: family) == nil, "\(hf)")
                #expect(TensorNames.isIgnorableHuggingFace(hf), "\(hf) should be a known buffer")
            }
        }
    }

    @Test func fixupsAreDeclared() {
        #expect(TensorNames.fixup(.attnQ, family: .llama) == .permuteHeads(kv: false))
        #expect(TensorNames.fixup(.attnKBias, family: .llama) == .permuteHeads(kv: true))
        #expect(TensorNames.fixup(.attnV, family: .llama) == .none)
        #expect(TensorNames.fixup(.attnQKV, family: .gpt2) == .transpose)
        #expect(TensorNames.fixup(.attnQKVBias, family: .gpt2) == .none)
        #expect(TensorNames.fixup(.ffnDown, family: .gpt2) == .transpose)
        #expect(TensorNames.parseGGUF("blk.12.ffn_down.weight")?.layer == 12)
        #expect(TensorNames.parseGGUF("blk.x.ffn_down.weight") == nil)
        #expect(TensorNames.parseGGUF("blk..ffn_down.weight") == nil)
    }

    @Test func permutationMatchesConvertHfToGGUF() throws {
        let cases = try #require(try Self.fixture("permute.json").arrayValue)
        #expect(cases.count == 8)
        for c in cases {
            let heads = Int(c["which"]?.stringValue == "k" ? c["kv_heads"]!.uint64Value! : c["heads"]!.uint64Value!)
            let rows = Int(try #require(c["rows"]?.uint64Value))
            for (hfKey, ggufKey) in [("hf", "gguf"), ("hf_bias", "gguf_bias")] {
                let hf = Hex.decode(c[hfKey]?.stringValue ?? ""), gguf = Hex.decode(c[ggufKey]?.stringValue ?? "")
                let forward = hf.withUnsafeBytes { RowLayout.permuteHeads($0, rows: rows, heads: heads, inverse: false) }
                #expect(forward == gguf, "\(hfKey) heads \(heads) rows \(rows)")
                let back = gguf.withUnsafeBytes { RowLayout.permuteHeads($0, rows: rows, heads: heads, inverse: true) }
                #expect(back == hf)
            }
        }
        #expect([UInt8](repeating: 0, count: 12).withUnsafeBytes { RowLayout.permuteHeads($0, rows: 3, heads: 1, inverse: false) } == nil)
    }

    @Test func transposeSwapsAxes() {
        // [2, 3] of 2-byte elements: a b c / d e f  ->  a d / b e / c f
        let m: [UInt8] = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
        let t = m.withUnsafeBytes { RowLayout.transpose($0, rows: 2, cols: 3, elementSize: 2) }
        #expect(t == [1, 1, 4, 4, 2, 2, 5, 5, 3, 3, 6, 6])
    }

    /// RowLayout's fused transpose-and-narrow equals transposing element by element and converting each
    /// value with the per-element codecs, for partial tiles, split across threads, and rounding edge cases.
    @Test(arguments: [(70, 300), (768, 33), (1, 5), (64, 256)])
    func fusedTransposeNarrowEqualsElementwise(_ rows: Int, _ cols: Int) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let edge: [Float] = [65520, -65504, 1e-8, 6.1e-5, 5.96e-8, 0, -0, 1.0009765625, .infinity, .nan, -.nan, Float(bitPattern: 0x7F80_0001)]
        let src: [Float] = (0..<(rows * cols)).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return i % 37 == 0 ? edge[(i / 37) % edge.count] : Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1e5
        }
        for dtype in [DType.f32, .f16, .bf16] {
            let size = dtype.bytesPerBlock
            var expected = [UInt8](repeating: 0, count: rows * cols * size)
            for r in 0..<rows {
                for c in 0..<cols {
                    let v = src[r * cols + c], at = (c * rows + r) * size
                    let bits: [UInt8] = switch dtype {
                    case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
                    case .f16: withUnsafeBytes(of: Half.fromFloat(v).littleEndian) { Array($0) }
                    default: withUnsafeBytes(of: BFloat16.fromFloat(v).littleEndian) { Array($0) }
                    }
                    expected.replaceSubrange(at..<(at + size), with: bits)
                }
            }
            var out = [UInt8](repeating: 0xAA, count: rows * cols * size)
            let ok = src.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBytes { RowLayout.transpose(s.baseAddress!, rows: rows, cols: cols, to: dtype, into: $0.baseAddress!) }
            }
            #expect(ok && out == expected, "\(dtype.name) [\(rows), \(cols)]")
        }
        var small = [UInt8](repeating: 0, count: rows * cols * 8)
        #expect(!src.withUnsafeBufferPointer { s in small.withUnsafeMutableBytes { RowLayout.transpose(s.baseAddress!, rows: rows, cols: cols, to: .q8_0, into: $0.baseAddress!) } })
    }
}


/// Name matching over UTF-8 bytes: what a pattern's `{N}` accepts.
@Suite struct TensorNameMatchingTests {
    @Test(arguments: [
        ("h.0.attn.c_attn.weight", 0), ("transformer.h.11.attn.c_attn.weight", 11), ("h.007.attn.c_attn.weight", 7),
    ])
    func layerNumbersAreDecimalDigits(_ name: String, _ layer: Int) {
        let parsed = TensorNames.parseHuggingFace(name, family: .gpt2)
        #expect(parsed?.layer == layer)
        #expect(parsed.map { TensorNames.gguf($0.slot, layer: $0.layer) } == "blk.\(layer).attn_qkv.weight")
    }

    @Test(arguments: ["h..attn.c_attn.weight", "h.1a.attn.c_attn.weight", "h.-1.attn.c_attn.weight", "h.١.attn.c_attn.weight",
                      "h.99999999999999999999.attn.c_attn.weight", "x.1.attn.c_attn.weight", "h.1.attn.c_attn.weigh"])
    func otherNamesDoNotMatch(_ name: String) {
        #expect(TensorNames.parseHuggingFace(name, family: .gpt2) == nil)
    }

    @Test func globalNamesMatchExactly() {
        let parsed = TensorNames.parseHuggingFace("wte.weight", family: .gpt2)
        #expect(parsed != nil && parsed?.layer == nil)
        #expect(parsed.map { TensorNames.gguf($0.slot, layer: nil) } == "token_embd.weight")
        #expect(TensorNames.parseHuggingFace("wte.weights", family: .gpt2) == nil)
        #expect(TensorNames.parseGGUF("blk.3.ffn_up.weight")?.layer == 3)
    }
}
