/// `a.b`, `a[b]` and `a[x:y:z]` with jinja2's sandboxed lookup rules: `.` tries the Python attribute
/// (a method such as `items`) before the key, `[]` tries the key first; anything missing is undefined.
extension Interpreter {
    func attribute(_ name: String, of markedValue: JinjaValue) -> JinjaValue {
        let value = markedValue.withoutMarkup
        if let method = MethodCatalog.method(named: name, on: value) { return method }
        switch value {
        case .object(let object):
            return object[name] ?? .undefined
        case .namespace(let reference):
            return namespaceAttributes(reference)[name] ?? .undefined
        default:
            return .undefined
        }
    }

    func item(_ markedKey: JinjaValue, of markedValue: JinjaValue) throws(JinjaError) -> JinjaValue {
        let value = markedValue.withoutMarkup
        let key = markedKey.withoutMarkup
        switch (value, key) {
        case (.object(let object), _):
            if let objectKey = JinjaObject.EntryKey(key), let found = object[objectKey] { return found }
        case (.array(let items), _), (.tuple(let items), _):
            if let index = integerIndex(key), let position = normalizedIndex(index, count: items.count) {
                return items[position]
            }
        case (.string(let text), _):
            if let index = integerIndex(key) {
                let scalars = Array(text.unicodeScalars)
                if let position = normalizedIndex(index, count: scalars.count) {
                    return .string(String(scalars[position]))
                }
            }
        default:
            break
        }
        // jinja2 falls back to the attribute of that name when the item lookup fails.
        if case .string(let name) = key { return attribute(name, of: value) }
        return .undefined
    }

    private func integerIndex(_ key: JinjaValue) -> Int? {
        switch key {
        case .int(let index): return index
        case .bool(let flag): return flag ? 1 : 0
        default: return nil
        }
    }

    private func normalizedIndex(_ index: Int, count: Int) -> Int? {
        let position = index < 0 ? index + count : index
        return position >= 0 && position < count ? position : nil
    }

    func slice(_ value: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?) throws(JinjaError) -> JinjaValue {
        func bound(_ part: JinjaValue?) throws(JinjaError) -> Int? {
            switch part {
            case nil, .none?: return nil
            case .int(let number)?: return number
            case .bool(let flag)?: return flag ? 1 : 0
            case let other?:
                throw JinjaError.typeError("slice indices must be integers or None or have an __index__ method (got '\(other.typeName)')")
            }
        }
        let startIndex = try bound(start)
        let stopIndex = try bound(stop)
        let stepSize = try bound(step) ?? 1
        guard stepSize != 0 else { throw JinjaError.valueError("slice step cannot be zero") }
        switch value.withoutMarkup {
        case .array(let items):
            let indices = PythonSlice.indices(count: items.count, start: startIndex, stop: stopIndex, step: stepSize)
            return .array(indices.map { items[$0] })
        case .tuple(let items):
            let indices = PythonSlice.indices(count: items.count, start: startIndex, stop: stopIndex, step: stepSize)
            return .tuple(indices.map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            let indices = PythonSlice.indices(count: scalars.count, start: startIndex, stop: stopIndex, step: stepSize)
            var result = String.UnicodeScalarView()
            for index in indices { result.append(scalars[index]) }
            return .string(String(result))
        default:
            // jinja2 turns the TypeError of an unsliceable value into an undefined result.
            return .undefined
        }
    }
}

/// Python's `slice.indices()`: clamps start/stop to the sequence and lists the selected positions.
enum PythonSlice {
    static func indices(count: Int, start: Int?, stop: Int?, step: Int) -> [Int] {
        func clamp(_ value: Int?, defaultValue: Int, lower: Int, upper: Int) -> Int {
            guard var value else { return defaultValue }
            if value < 0 { value += count }
            return min(max(value, lower), upper)
        }
        var result: [Int] = []
        if step > 0 {
            let first = clamp(start, defaultValue: 0, lower: 0, upper: count)
            let end = clamp(stop, defaultValue: count, lower: 0, upper: count)
            var index = first
            while index < end {
                result.append(index)
                index += step
            }
        } else {
            let first = clamp(start, defaultValue: count - 1, lower: -1, upper: count - 1)
            let end = clamp(stop, defaultValue: -1, lower: -1, upper: count - 1)
            var index = first
            while index > end {
                result.append(index)
                index += step
            }
        }
        return result
    }
}
