/// Python `str` algorithms on Unicode scalars (Python indexes strings by code point, Swift by
/// grapheme cluster, so everything here works on scalar arrays).
enum PythonString {
    typealias Scalars = [Unicode.Scalar]

    static func scalars(_ text: String) -> Scalars { Array(text.unicodeScalars) }

    static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// First index of `needle` in `haystack[start..<end]`, like `str.find`.
    static func find(_ needle: Scalars, in haystack: Scalars, from start: Int = 0, to end: Int? = nil) -> Int? {
        let limit = min(end ?? haystack.count, haystack.count)
        let first = max(0, start)
        guard needle.count <= limit - first else { return nil }
        if needle.isEmpty { return first }
        var index = first
        while index + needle.count <= limit {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    static func find(_ needle: String, in haystack: String) -> Int? {
        find(scalars(needle), in: scalars(haystack))
    }

    static func reverseFind(_ needle: Scalars, in haystack: Scalars, from start: Int = 0, to end: Int? = nil) -> Int? {
        let limit = min(end ?? haystack.count, haystack.count)
        let first = max(0, start)
        guard needle.count <= limit - first else { return nil }
        var index = limit - needle.count
        while index >= first {
            if haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index -= 1
        }
        return nil
    }

    /// Non-overlapping occurrences, like `str.count`.
    static func count(_ needle: Scalars, in haystack: Scalars, from start: Int = 0, to end: Int? = nil) -> Int {
        let limit = min(end ?? haystack.count, haystack.count)
        if needle.isEmpty { return max(0, limit - max(0, start)) + 1 }
        var total = 0
        var index = start
        while let found = find(needle, in: haystack, from: index, to: limit) {
            total += 1
            index = found + needle.count
        }
        return total
    }

    static func replace(_ text: String, _ old: String, _ new: String, count maximum: Int = -1) -> String {
        let source = scalars(text), target = scalars(old), replacement = scalars(new)
        var result: Scalars = []
        var replaced = 0
        if target.isEmpty {
            // Python inserts the replacement between every character and at both ends.
            for scalar in source {
                if maximum < 0 || replaced < maximum { result += replacement; replaced += 1 }
                result.append(scalar)
            }
            if maximum < 0 || replaced < maximum { result += replacement }
            return string(result)
        }
        var index = 0
        while maximum < 0 || replaced < maximum, let found = find(target, in: source, from: index) {
            result += source[index..<found]
            result += replacement
            index = found + target.count
            replaced += 1
        }
        result += source[index...]
        return string(result)
    }

    static func strip(_ text: String, characters: String?, leading: Bool, trailing: Bool) -> String {
        let source = scalars(text)
        let set = characters.map { Set($0.unicodeScalars) }
        func removable(_ scalar: Unicode.Scalar) -> Bool { set?.contains(scalar) ?? scalar.isPythonWhitespace }
        var start = 0
        var end = source.count
        if leading { while start < end, removable(source[start]) { start += 1 } }
        if trailing { while end > start, removable(source[end - 1]) { end -= 1 } }
        return string(source[start..<end])
    }

    /// `str.split(sep, maxsplit)`; without a separator, runs of whitespace split and ends are dropped.
    static func split(_ text: String, separator: String?, maxSplit: Int) -> [String] {
        let source = scalars(text)
        guard let separator else {
            var parts: [String] = []
            var index = 0
            while index < source.count {
                while index < source.count, source[index].isPythonWhitespace { index += 1 }
                guard index < source.count else { break }
                if maxSplit >= 0 && parts.count == maxSplit {
                    var end = source.count
                    while end > index, source[end - 1].isPythonWhitespace { end -= 1 }
                    parts.append(string(source[index..<end]))
                    return parts
                }
                let start = index
                while index < source.count, !source[index].isPythonWhitespace { index += 1 }
                parts.append(string(source[start..<index]))
            }
            return parts
        }
        let target = scalars(separator)
        var parts: [String] = []
        var index = 0
        while maxSplit < 0 || parts.count < maxSplit, let found = find(target, in: source, from: index) {
            parts.append(string(source[index..<found]))
            index = found + target.count
        }
        parts.append(string(source[index...]))
        return parts
    }

    /// `str.rsplit(sep, maxsplit)`: like split but counting splits from the right.
    static func rightSplit(_ text: String, separator: String?, maxSplit: Int) -> [String] {
        if maxSplit < 0 { return split(text, separator: separator, maxSplit: -1) }
        let reversedText = string(scalars(text).reversed())
        let reversedSeparator = separator.map { string(scalars($0).reversed()) }
        return split(reversedText, separator: reversedSeparator, maxSplit: maxSplit)
            .map { string(scalars($0).reversed()) }
            .reversed()
    }

    static func splitLines(_ text: String, keepEnds: Bool) -> [String] {
        let source = scalars(text)
        var lines: [String] = []
        var start = 0
        var index = 0
        while index < source.count {
            let scalar = source[index]
            guard scalar.isPythonLineBreak else {
                index += 1
                continue
            }
            var end = index + 1
            if scalar == "\r", end < source.count, source[end] == "\n" { end += 1 }
            lines.append(string(source[start..<(keepEnds ? end : index)]))
            start = end
            index = end
        }
        if start < source.count { lines.append(string(source[start...])) }
        return lines
    }

    static func title(_ text: String) -> String {
        var result = ""
        var previousIsCased = false
        for scalar in text.unicodeScalars {
            if scalar.isPythonUpper || scalar.isPythonTitle {
                result += previousIsCased ? scalar.pythonLowercased : String(scalar)
            } else if scalar.isPythonLower {
                result += previousIsCased ? String(scalar) : scalar.pythonTitlecased
            } else {
                result.unicodeScalars.append(scalar)
            }
            previousIsCased = scalar.isPythonCased
        }
        return result
    }

    static func capitalize(_ text: String) -> String {
        var result = ""
        for (index, scalar) in text.unicodeScalars.enumerated() {
            result += index == 0 ? scalar.pythonTitlecased : scalar.pythonLowercased
        }
        return result
    }

    static func swapCase(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.isPythonUpper { result += scalar.pythonLowercased } else if scalar.isPythonLower {
                result += scalar.pythonUppercased
            } else { result.unicodeScalars.append(scalar) }
        }
        return result
    }

    static func upper(_ text: String) -> String { text.uppercased() }
    static func lower(_ text: String) -> String { text.lowercased() }

    /// `str.center(width, fill)`, splitting odd padding with CPython's formula
    /// `left = pad / 2 + (pad & width & 1)`.
    static func center(_ text: String, width: Int, fill: Unicode.Scalar = " ") -> String {
        let length = text.unicodeScalars.count
        guard width > length else { return text }
        let padding = width - length
        let left = padding / 2 + (padding & width & 1)
        return String(repeating: String(fill), count: left) + text + String(repeating: String(fill), count: padding - left)
    }
}
