/// ROUGE-L as Google's rouge_score computes it with `use_stemmer=True` (promptkd.md §6): tokens are the
/// lower-cased text with every run of characters outside [a-z0-9] turned into a space, split on
/// whitespace, Porter-stemmed when longer than 3 characters, empty tokens dropped; the score is the
/// sentence-level LCS: P = LCS/|prediction|, R = LCS/|reference|, F = 2PR/(P+R) (0 when either is empty).
public enum RougeL {
    public struct Score: Equatable, Sendable {
        public var precision: Double, recall: Double, fmeasure: Double
    }

    public static func tokenize(_ text: String) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        func flush() {
            guard !current.isEmpty else { return }
            let word = String(decoding: current, as: UTF8.self)
            words.append(current.count > 3 ? PorterStemmer.stem(word) : word)
            current.removeAll(keepingCapacity: true)
        }
        // Python's str.lower() is Unicode-aware (the Kelvin sign becomes 'k'); after it only a-z and 0-9 count.
        for scalar in text.lowercased().unicodeScalars {
            if (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") {
                current.append(UInt8(scalar.value))
            } else {
                flush()
            }
        }
        flush()
        return words.filter { !$0.isEmpty }
    }

    /// Length of the longest common subsequence (one row of the table at a time).
    static func lcs(_ a: [String], _ b: [String]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var previous = [Int](repeating: 0, count: b.count + 1), row = previous
        for x in a {
            for (j, y) in b.enumerated() {
                row[j + 1] = x == y ? previous[j] + 1 : max(previous[j + 1], row[j])
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }

    public static func score(prediction: String, reference: String) -> Score {
        let p = tokenize(prediction), r = tokenize(reference)
        guard !p.isEmpty, !r.isEmpty else { return Score(precision: 0, recall: 0, fmeasure: 0) }
        let common = Double(lcs(r, p))
        let precision = common / Double(p.count), recall = common / Double(r.count)
        let f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        return Score(precision: precision, recall: recall, fmeasure: f)
    }

    /// The best F-measure over several references (MiniLLM's rouge_metric takes the max).
    public static func best(prediction: String, references: [String]) -> Double {
        references.map { score(prediction: prediction, reference: $0).fmeasure }.max() ?? 0
    }
}

/// Exact match after the normalization of MiniLLM's rouge_metric.py (from Super-NaturalInstructions: SQuAD
/// v1.1's, without removing articles): lower case, ASCII punctuation removed, whitespace collapsed; true when
/// any reference matches.
public enum ExactMatch {
    public static func normalize(_ text: String) -> String {
        let lowered = text.lowercased()
        let noPunctuation = String(lowered.unicodeScalars.filter { !asciiPunctuation.contains($0) }.map(Character.init))
        return noPunctuation.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    static let asciiPunctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

    public static func matches(prediction: String, references: [String]) -> Bool {
        let p = normalize(prediction)
        return references.contains { normalize($0) == p }
    }
}
