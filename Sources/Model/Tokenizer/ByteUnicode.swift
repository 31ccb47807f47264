/// GPT-2's byte <-> printable character table (formats.md §9.3 `bytes_char`): bytes 0x21-0x7E, 0xA1-0xAC and
/// 0xAE-0xFF map to the same code point; the other 68 bytes map, in increasing order, to U+0100 + n
/// (space -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A). Byte-level BPE vocabularies are written in these characters.
enum ByteUnicode {
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 0x100
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// The length of a UTF-8 sequence from its lead byte's high nibble, as llama.cpp's unicode_len_utf8
    /// (a stray continuation byte counts as one): how both BPE merge loops cut text into characters.
    static func sequenceLength(lead: UInt8) -> Int { [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4][Int(lead >> 4)] }

    /// nil when a character is outside the table (not a byte-level token).
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        for s in token.unicodeScalars {
            guard let b = scalarToByte[s.value] else { return nil }
            out.append(b)
        }
        return out
    }
}
