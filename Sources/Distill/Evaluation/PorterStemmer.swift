/// The Porter stemmer as NLTK runs it by default (mode NLTK_EXTENSIONS), which Google's rouge_score uses:
/// the paper's five steps plus NLTK's irregular forms, its Step 1a/1b `ies`/`ied` rules, the Step 1c
/// consonant condition, Step 2's `alli`/`fulli`/`logi` rules and `bli → ble`, and the two-letter cvc case.
/// Works on lower-case ASCII words (rouge's tokens); tested word by word against nltk 3.10.4.
public enum PorterStemmer {
    static let irregular: [String: String] = [
        "skies": "sky", "sky": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
        "innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing",
        "cannings": "canning", "canning": "canning", "howe": "howe", "proceed": "proceed", "exceed": "exceed",
        "succeed": "succeed",
    ]

    public static func stem(_ word: String) -> String {
        if let form = irregular[word] { return form }
        guard word.count > 2 else { return word }
        var w = Array(word.utf8)
        w = step1a(w)
        w = step1b(w)
        w = step1c(w)
        w = step2(w)
        w = step3(w)
        w = step4(w)
        w = step5a(w)
        w = step5b(w)
        return String(decoding: w, as: UTF8.self)
    }

    typealias Word = [UInt8]

    static func isVowel(_ c: UInt8) -> Bool { c == 97 || c == 101 || c == 105 || c == 111 || c == 117 }  // a e i o u

    /// Consonant flags left to right: y is a consonant at the start or after a vowel.
    static func consonants(_ w: Word) -> [Bool] {
        var flags: [Bool] = []
        flags.reserveCapacity(w.count)
        for (i, c) in w.enumerated() {
            if isVowel(c) { flags.append(false) } else if c == 121 { flags.append(i == 0 ? true : !flags[i - 1]) } else { flags.append(true) }
        }
        return flags
    }

    static func isConsonant(_ w: Word, _ i: Int) -> Bool { consonants(Array(w[...i]))[i] }

    /// m in [C](VC){m}[V].
    static func measure(_ stem: Word) -> Int {
        let f = consonants(stem)
        var m = 0
        for i in 1..<max(1, f.count) where !f[i - 1] && f[i] { m += 1 }
        return m
    }

    static func containsVowel(_ stem: Word) -> Bool { consonants(stem).contains(false) }

    static func endsDoubleConsonant(_ w: Word) -> Bool {
        w.count >= 2 && w[w.count - 1] == w[w.count - 2] && isConsonant(w, w.count - 1)
    }

    /// *o: ends consonant-vowel-consonant, the last not w, x or y; NLTK adds two-letter vowel-consonant words.
    static func endsCVC(_ w: Word) -> Bool {
        let n = w.count
        if n >= 3 {
            let f = consonants(w)
            if f[n - 3] && !f[n - 2] && f[n - 1] && ![119, 120, 121].contains(w[n - 1]) { return true }
        }
        if n == 2 {
            let f = consonants(w)
            return !f[0] && f[1]
        }
        return false
    }

    static func ends(_ w: Word, _ suffix: String) -> Bool {
        let s = Array(suffix.utf8)
        return w.count >= s.count && Array(w[(w.count - s.count)...]) == s
    }

    static func replacing(_ w: Word, _ suffix: String, _ replacement: String) -> Word {
        Array(w[..<(w.count - suffix.utf8.count)]) + Array(replacement.utf8)
    }

    enum Condition {
        case none, positiveMeasure, measureAbove1, ionRule, custom((Word) -> Bool)
        func holds(_ stem: Word) -> Bool {
            switch self {
            case .none: return true
            case .positiveMeasure: return measure(stem) > 0
            case .measureAbove1: return measure(stem) > 1
            case .ionRule: return measure(stem) > 1 && (stem.last == 115 || stem.last == 116)  // s, t
            case .custom(let f): return f(stem)
            }
        }
    }

    /// NLTK's _apply_rule_list: the first rule whose suffix matches decides (applied or word unchanged);
    /// the suffix "*d" means a double consonant.
    static func apply(_ w: Word, _ rules: [(String, String, Condition)]) -> Word {
        for (suffix, replacement, condition) in rules {
            if suffix == "*d" {
                guard endsDoubleConsonant(w) else { continue }
                let stem = Array(w[..<(w.count - 2)])
                return condition.holds(stem) ? stem + Array(replacement.utf8) : w
            }
            if ends(w, suffix) {
                let stem = replacing(w, suffix, "")
                return condition.holds(stem) ? stem + Array(replacement.utf8) : w
            }
        }
        return w
    }

    static func step1a(_ w: Word) -> Word {
        if ends(w, "ies") && w.count == 4 { return replacing(w, "ies", "ie") }
        return apply(w, [("sses", "ss", .none), ("ies", "i", .none), ("ss", "ss", .none), ("s", "", .none)])
    }

    static func step1b(_ w: Word) -> Word {
        if ends(w, "ied") { return replacing(w, "ied", w.count == 4 ? "ie" : "i") }
        if ends(w, "eed") {
            let stem = replacing(w, "eed", "")
            return measure(stem) > 0 ? stem + Array("ee".utf8) : w
        }
        var stem: Word?
        for suffix in ["ed", "ing"] where ends(w, suffix) {
            let candidate = replacing(w, suffix, "")
            if containsVowel(candidate) { stem = candidate; break }
        }
        guard let s = stem else { return w }
        let last = s.last.map { String(UnicodeScalar($0)) } ?? ""
        return apply(s, [("at", "ate", .none), ("bl", "ble", .none), ("iz", "ize", .none),
                         ("*d", last, .custom { _ in !["l", "s", "z"].contains(last) }),
                         ("", "e", .custom { measure($0) == 1 && endsCVC($0) })])
    }

    static func step1c(_ w: Word) -> Word {
        apply(w, [("y", "i", .custom { $0.count > 1 && isConsonant($0, $0.count - 1) })])
    }

    static func step2(_ w: Word) -> Word {
        if ends(w, "alli") && measure(replacing(w, "alli", "")) > 0 { return step2(replacing(w, "alli", "al")) }
        let rules: [(String, String, Condition)] = [
            ("ational", "ate", .positiveMeasure), ("tional", "tion", .positiveMeasure), ("enci", "ence", .positiveMeasure),
            ("anci", "ance", .positiveMeasure), ("izer", "ize", .positiveMeasure), ("bli", "ble", .positiveMeasure),
            ("alli", "al", .positiveMeasure), ("entli", "ent", .positiveMeasure), ("eli", "e", .positiveMeasure),
            ("ousli", "ous", .positiveMeasure), ("ization", "ize", .positiveMeasure), ("ation", "ate", .positiveMeasure),
            ("ator", "ate", .positiveMeasure), ("alism", "al", .positiveMeasure), ("iveness", "ive", .positiveMeasure),
            ("fulness", "ful", .positiveMeasure), ("ousness", "ous", .positiveMeasure), ("aliti", "al", .positiveMeasure),
            ("iviti", "ive", .positiveMeasure), ("biliti", "ble", .positiveMeasure), ("fulli", "ful", .positiveMeasure),
            // NLTK tests the measure of the word without its last three letters ("logi" → "log").
            ("logi", "log", .custom { _ in measure(Array(w[..<(w.count - 3)])) > 0 }),
        ]
        return apply(w, rules)
    }

    static func step3(_ w: Word) -> Word {
        apply(w, [("icate", "ic", .positiveMeasure), ("ative", "", .positiveMeasure), ("alize", "al", .positiveMeasure),
                  ("iciti", "ic", .positiveMeasure), ("ical", "ic", .positiveMeasure), ("ful", "", .positiveMeasure),
                  ("ness", "", .positiveMeasure)])
    }

    static func step4(_ w: Word) -> Word {
        apply(w, ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent"].map { ($0, "", .measureAbove1) }
            + [("ion", "", .ionRule)]
            + ["ou", "ism", "ate", "iti", "ous", "ive", "ize"].map { ($0, "", .measureAbove1) })
    }

    static func step5a(_ w: Word) -> Word {
        guard w.last == 101 else { return w }  // e
        let stem = Array(w.dropLast())
        let m = measure(stem)
        if m > 1 || (m == 1 && !endsCVC(stem)) { return stem }
        return w
    }

    static func step5b(_ w: Word) -> Word {
        apply(w, [("ll", "l", .custom { _ in measure(Array(w.dropLast())) > 1 })])
    }
}
