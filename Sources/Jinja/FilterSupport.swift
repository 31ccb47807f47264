/// Helpers shared by the filters: jinja2's attribute getters (`attribute='a.b.0'`), sort keys
/// (case-insensitive by default) and a stable sort that can fail, since Python refuses to order
/// mismatched types.
extension Interpreter {
    /// Splits `"a.b.0"` into keys; numeric parts index lists, as jinja2's `make_attrgetter` does.
    func attributePath(_ attribute: JinjaValue) -> [JinjaValue] {
        switch attribute {
        case .string(let text):
            return PythonString.split(text, separator: ".", maxSplit: -1).map { part in
                if let index = Int(part), part.unicodeScalars.allSatisfy(\.isASCIIDigit) { return .int(index) }
                return .string(part)
            }
        default:
            return [attribute]
        }
    }

    func lookupPath(_ path: [JinjaValue], in value: JinjaValue) throws(JinjaError) -> JinjaValue {
        var current = value
        for key in path {
            if current.isUndefined { throw JinjaError.undefinedError("value is undefined") }
            current = try item(key, of: current)
        }
        return current
    }

    func sortKey(
        caseSensitive: Bool, attribute: JinjaValue?
    ) -> (JinjaValue) throws(JinjaError) -> JinjaValue {
        let path = attribute.flatMap { $0 == .none ? nil : attributePath($0) }
        return { (item: JinjaValue) throws(JinjaError) -> JinjaValue in
            let key = try path.map { p throws(JinjaError) in try self.lookupPath(p, in: item) } ?? item
            if !caseSensitive, case .string(let text) = key { return .string(PythonString.lower(text)) }
            return key
        }
    }

    /// Stable merge sort on precomputed keys (Python's `sorted(..., key=..., reverse=...)` is stable
    /// in both directions).
    func sortedValues(
        _ items: [JinjaValue], key: (JinjaValue) throws(JinjaError) -> JinjaValue, reverse: Bool
    ) throws(JinjaError) -> [JinjaValue] {
        var keyed: [(key: JinjaValue, value: JinjaValue)] = []
        keyed.reserveCapacity(items.count)
        for item in items { keyed.append((try key(item), item)) }
        func precedes(_ a: JinjaValue, _ b: JinjaValue) throws(JinjaError) -> Bool {
            reverse ? try Operators.order(b, a) < 0 : try Operators.order(a, b) < 0
        }
        var buffer = keyed
        var width = 1
        while width < keyed.count {
            var start = 0
            while start < keyed.count {
                let middle = min(start + width, keyed.count)
                let end = min(start + 2 * width, keyed.count)
                var left = start, right = middle, output = start
                while left < middle && right < end {
                    // Take from the right run only when it strictly precedes, keeping equal keys in order.
                    if try precedes(keyed[right].key, keyed[left].key) {
                        buffer[output] = keyed[right]
                        right += 1
                    } else {
                        buffer[output] = keyed[left]
                        left += 1
                    }
                    output += 1
                }
                while left < middle { buffer[output] = keyed[left]; left += 1; output += 1 }
                while right < end { buffer[output] = keyed[right]; right += 1; output += 1 }
                start += 2 * width
            }
            swap(&keyed, &buffer)
            width *= 2
        }
        return keyed.map(\.value)
    }

    func intFilter(_ value: JinjaValue, _ bound: BoundArguments) throws(JinjaError) -> JinjaValue {
        let fallback = bound[0] ?? .int(0)
        let base = try bound.int(1, default: 10)
        switch value {
        case .int: return value
        case .bool(let flag): return .int(flag ? 1 : 0)
        case .double(let real):
            guard real.isFinite, abs(real) < 9.2e18 else { return fallback }
            return .int(Int(real))
        case .string(let text):
            let trimmed = PythonString.strip(text, characters: nil, leading: true, trailing: true)
                .replacingUnderscoresInDigits()
            if let parsed = Int(trimmed.dropPrefix(for: base), radix: base) { return .int(parsed) }
            if base == 10, let real = Double(trimmed), real.isFinite, abs(real) < 9.2e18 { return .int(Int(real)) }
            return fallback
        default:
            return fallback
        }
    }

    func floatFilter(_ value: JinjaValue, _ bound: BoundArguments) throws(JinjaError) -> JinjaValue {
        let fallback = bound[0] ?? .double(0)
        switch value {
        case .double: return value
        case .int(let integer): return .double(Double(integer))
        case .bool(let flag): return .double(flag ? 1 : 0)
        case .string(let text):
            let trimmed = PythonString.strip(text, characters: nil, leading: true, trailing: true)
            switch trimmed.lowercased() {
            case "inf", "+inf", "infinity", "+infinity": return .double(.infinity)
            case "-inf", "-infinity": return .double(-.infinity)
            case "nan", "+nan", "-nan": return .double(.nan)
            default: return Double(trimmed).map { .double($0) } ?? fallback
            }
        default:
            return fallback
        }
    }

    /// jinja2's `round`: 'common' is Python's round() (half to even on the binary value),
    /// 'ceil'/'floor' round the scaled value; floats stay floats and ints stay ints for 'common'.
    func roundFilter(_ value: JinjaValue, _ bound: BoundArguments) throws(JinjaError) -> JinjaValue {
        let precision = try bound.int(0, default: 0)
        let method = try bound.string(1, default: "common")
        guard ["common", "ceil", "floor"].contains(method) else {
            throw JinjaError.typeError("method must be common, ceil or floor")
        }
        guard let number = Operators.Number(value) else {
            throw JinjaError.typeError("type \(value.typeName) doesn't define __round__ method")
        }
        if method == "common", case .integer(let integer) = number, precision >= 0 { return .int(integer) }
        let real = number.doubleValue
        var scale = 1.0
        for _ in 0..<min(abs(precision), 300) { scale *= 10 }
        let scaled = precision >= 0 ? real * scale : real / scale
        let rounded: Double
        switch method {
        case "ceil": rounded = scaled.rounded(.up)
        case "floor": rounded = scaled.rounded(.down)
        default: rounded = scaled.rounded(.toNearestOrEven)
        }
        return .double(precision >= 0 ? rounded / scale : rounded * scale)
    }
}

extension String {
    fileprivate func replacingUnderscoresInDigits() -> String {
        PythonString.replace(self, "_", "")
    }

    /// `int('0x1f', 16)` accepts the radix prefix, as Python does.
    fileprivate func dropPrefix(for base: Int) -> String {
        let lowered = lowercased()
        let prefixes = [16: "0x", 8: "0o", 2: "0b"]
        if let prefix = prefixes[base], lowered.hasPrefix(prefix) { return String(dropFirst(2)) }
        return self
    }
}
