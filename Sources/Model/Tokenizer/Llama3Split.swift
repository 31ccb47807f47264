/// Llama 3's pattern (and Qwen2's, which takes one digit at a time) without a regex engine, as llama.cpp's
/// unicode_regex_split_custom_llama3 / _qwen2 do:
/// `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|`
/// ` ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` — the same pieces as SplitPattern on it, several
/// times faster (this split is most of tokenizing for these families).
enum Llama3Split {
    static func pieces(_ text: PatternText, _ range: Range<Int>, maxDigits: Int, into out: inout [Range<Int>]) {
        let end = range.upperBound
        let cps = text.codepoints, cats = text.categories
        @inline(__always) func isNewline(_ i: Int) -> Bool { cps[i] == 0x0A || cps[i] == 0x0D }
        @inline(__always) func letter(_ i: Int) -> Bool { i < end && !cats[i].isDisjoint(with: .letter) }
        @inline(__always) func number(_ i: Int) -> Bool { i < end && !cats[i].isDisjoint(with: .number) }
        @inline(__always) func space(_ i: Int) -> Bool { i < end && cats[i].contains(.whitespace) }
        @inline(__always) func lower(_ i: Int) -> UInt32 { i < end && cps[i] < 0x80 ? cps[i] | 0x20 : 0 }
        var pos = range.lowerBound
        while pos < end {
            // 's 't 'm 'd 're 've 'll, either case.
            if cps[pos] == 0x27 && pos + 1 < end {
                let a = lower(pos + 1), b = lower(pos + 2)
                if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { out.append(pos..<(pos + 2)); pos += 2; continue }
                if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) {
                    out.append(pos..<(pos + 3)); pos += 3; continue
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            let leadsLetters = !isNewline(pos) && !letter(pos) && !number(pos) && letter(pos + 1)
            if letter(pos) || leadsLetters {
                var i = pos + 1
                while letter(i) { i += 1 }
                out.append(pos..<i); pos = i; continue
            }
            // \p{N}{1,maxDigits}
            if number(pos) {
                var i = pos + 1
                while i - pos < maxDigits && number(i) { i += 1 }
                out.append(pos..<i); pos = i; continue
            }
            //  ?[^\s\p{L}\p{N}]+[\r\n]*
            let lead = cps[pos] == 0x20 ? 1 : 0
            if pos + lead < end && !space(pos + lead) && !letter(pos + lead) && !number(pos + lead) {
                var i = pos + lead + 1
                while i < end && !space(i) && !letter(i) && !number(i) { i += 1 }
                while i < end && isNewline(i) { i += 1 }
                out.append(pos..<i); pos = i; continue
            }
            // Whitespace run: \s*[\r\n]+ up to its last newline; else \s+(?!\S) leaves the last space to what
            // follows; else \s+.
            var runEnd = pos
            var lastNewline = -1
            while space(runEnd) {
                if isNewline(runEnd) { lastNewline = runEnd }
                runEnd += 1
            }
            if lastNewline >= 0 {
                out.append(pos..<(lastNewline + 1)); pos = lastNewline + 1; continue
            }
            if runEnd - pos > 1 && runEnd < end {
                out.append(pos..<(runEnd - 1)); pos = runEnd - 1; continue
            }
            out.append(pos..<max(runEnd, pos + 1)); pos = max(runEnd, pos + 1)
        }
    }
}
