/// 64-bit FNV-1a: a cheap, well-spread hash of a few bytes, computed once where a key is looked up many times
/// (JSON object keys while checking for duplicates, tokenizer pieces in the BPE cache).
public enum FNV1a {
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
