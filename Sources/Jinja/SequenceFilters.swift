/// Filters over sequences: selection, mapping, sorting, aggregation. Like jinja2, `map`,
/// `select*`, `reject*`, `unique`, `batch`, `slice`, `items` and `reverse` (of a list) produce
/// generators, which matters for truthiness, `length` and `tojson`.
extension Interpreter {
    func applySequenceFilter(_ name: String, to value: JinjaValue, _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        switch name {
        case "list":
            return .array(try StringMethods.listItems(value))
        case "first":
            if case .object(let object) = value { return object.keyValues.first ?? .undefined }
            return try StringMethods.listItems(value).first ?? .undefined
        case "last":
            if case .generator = value { throw JinjaError.typeError("'generator' object is not reversible") }
            if case .object(let object) = value { return object.keyValues.last ?? .undefined }
            return try StringMethods.listItems(value).last ?? .undefined
        case "reverse":
            if case .string(let text) = value { return .string(PythonString.string(text.unicodeScalars.reversed())) }
            return .generator(try StringMethods.listItems(value).reversed())
        case "join":
            let bound = try arguments.bind(["d", "attribute"], function: name)
            var items = try StringMethods.listItems(value)
            if let attribute = bound[1], attribute != .none {
                let path = attributePath(attribute)
                var mapped: [JinjaValue] = []
                for item in items { mapped.append(try lookupPath(path, in: item)) }
                items = mapped
            }
            return .string(items.map(\.pythonString).joined(separator: try bound.string(0, default: "")))
        case "items":
            switch value {
            case .undefined: return .generator([])
            case .object(let object): return .generator(object.entries.map { .tuple([$0.key, $0.value]) })
            default: throw JinjaError.typeError("Can only get item pairs from a mapping.")
            }
        case "dictsort":
            return try dictSort(value, try arguments.bind(["case_sensitive", "by", "reverse"], function: name))
        case "sort":
            let bound = try arguments.bind(["reverse", "case_sensitive", "attribute"], function: name)
            let key = sortKey(caseSensitive: bound.bool(1, default: false), attribute: bound[2])
            return .array(try sortedValues(try StringMethods.listItems(value), key: key, reverse: bound.bool(0, default: false)))
        case "unique":
            let bound = try arguments.bind(["case_sensitive", "attribute"], function: name)
            let key = sortKey(caseSensitive: bound.bool(0, default: false), attribute: bound[1])
            var seen: [JinjaValue] = []
            var result: [JinjaValue] = []
            for item in try StringMethods.listItems(value) {
                let identity = try key(item)
                if !seen.contains(where: { Operators.pythonEquals($0, identity) }) {
                    seen.append(identity)
                    result.append(item)
                }
            }
            return .generator(result)
        case "min", "max":
            let bound = try arguments.bind(["case_sensitive", "attribute"], function: name)
            let key = sortKey(caseSensitive: bound.bool(0, default: false), attribute: bound[1])
            var best: (item: JinjaValue, key: JinjaValue)?
            for item in try StringMethods.listItems(value) {
                let itemKey = try key(item)
                if let current = best {
                    let order = try Operators.order(itemKey, current.key)
                    if (name == "min" && order < 0) || (name == "max" && order > 0) { best = (item, itemKey) }
                } else {
                    best = (item, itemKey)
                }
            }
            return best?.item ?? .undefined
        case "sum":
            let bound = try arguments.bind(["attribute", "start"], function: name)
            var total = bound[1] ?? .int(0)
            let path = bound[0].flatMap { $0 == .none ? nil : attributePath($0) }
            for item in try StringMethods.listItems(value) {
                total = try Operators.binary(.add, total, path.map { p throws(JinjaError) in try lookupPath(p, in: item) } ?? item)
            }
            return total
        case "map":
            // jinja2 yields nothing for a falsy input (`none|map(...)`) instead of failing.
            guard value.isTruthy else { return .generator([]) }
            return .generator(try mapFilter(try StringMethods.listItems(value), arguments))
        case "select", "reject", "selectattr", "rejectattr":
            guard value.isTruthy else { return .generator([]) }
            return .generator(try selectFilter(name, try StringMethods.listItems(value), arguments))
        case "batch", "slice":
            return try batchOrSlice(name, value, arguments)
        case "groupby":
            return try groupBy(value, try arguments.bind(["attribute", "default", "case_sensitive"], function: name))
        default:
            if FilterCatalog.unsupported.contains(name) {
                throw JinjaError.typeError("the '\(name)' filter is not supported by this interpreter")
            }
            // Reached only for names jinja2 checks at runtime (inside `if`), see NameValidation.
            throw JinjaError(.value, "No filter named '\(name)' found.")
        }
    }

    private func mapFilter(_ items: [JinjaValue], _ arguments: CallArguments) throws(JinjaError) -> [JinjaValue] {
        if let attribute = arguments.keyword.first(where: { $0.0 == "attribute" })?.1 {
            let fallback = arguments.keyword.first(where: { $0.0 == "default" })?.1
            let path = attributePath(attribute)
            var result: [JinjaValue] = []
            for item in items {
                let found = try lookupPath(path, in: item)
                result.append(found.isUndefined ? (fallback ?? found) : found)
            }
            return result
        }
        guard case .string(let filterName)? = arguments.positional.first else {
            throw JinjaError.typeError("map requires a filter argument")
        }
        guard FilterCatalog.names.contains(filterName) else {
            throw JinjaError(.value, "No filter named '\(filterName)'.")
        }
        let rest = CallArguments(positional: Array(arguments.positional.dropFirst()), keyword: arguments.keyword)
        var result: [JinjaValue] = []
        for item in items { result.append(try applyFilter(filterName, to: item, rest)) }
        return result
    }

    private func selectFilter(_ name: String, _ items: [JinjaValue], _ arguments: CallArguments) throws(JinjaError) -> [JinjaValue] {
        var positional = arguments.positional
        var path: [JinjaValue]?
        if name.hasSuffix("attr") {
            guard !positional.isEmpty else { throw JinjaError.typeError("\(name) requires an attribute name") }
            path = attributePath(positional.removeFirst())
        }
        var testName: String?
        if !positional.isEmpty {
            guard case .string(let given) = positional.removeFirst() else {
                throw JinjaError.typeError("test name must be a string")
            }
            guard TestCatalog.names.contains(given) else { throw JinjaError(.value, "No test named '\(given)'.") }
            testName = given
        }
        let testArguments = CallArguments(positional: positional, keyword: arguments.keyword)
        let keepMatches = name.hasPrefix("select")
        var result: [JinjaValue] = []
        for item in items {
            let subject = try path.map { p throws(JinjaError) in try lookupPath(p, in: item) } ?? item
            let matches = try testName.map { t throws(JinjaError) in try applyTest(t, to: subject, testArguments) } ?? subject.isTruthy
            if matches == keepMatches { result.append(item) }
        }
        return result
    }

    private func dictSort(_ value: JinjaValue, _ bound: BoundArguments) throws(JinjaError) -> JinjaValue {
        guard case .object(let object) = value else {
            throw JinjaError.typeError("You can only sort by either \"key\" or \"value\"")
        }
        let byValue: Bool
        switch try bound.string(1, default: "key") {
        case "key": byValue = false
        case "value": byValue = true
        default: throw JinjaError.valueError("You can only sort by either \"key\" or \"value\"")
        }
        let caseSensitive = bound.bool(0, default: false)
        let pairs: [JinjaValue] = object.entries.map { .tuple([$0.key, $0.value]) }
        let sorted = try sortedValues(pairs, key: { pair throws(JinjaError) in
            guard let parts = pair.sequenceItems, parts.count == 2 else { return pair }
            let chosen = byValue ? parts[1] : parts[0]
            if !caseSensitive, case .string(let text) = chosen { return .string(PythonString.lower(text)) }
            return chosen
        }, reverse: bound.bool(2, default: false))
        return .array(sorted)
    }

    private func batchOrSlice(_ name: String, _ value: JinjaValue, _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        let bound = try arguments.bind([name == "batch" ? "linecount" : "slices", "fill_with"], function: name)
        let size = try bound.int(0, default: 1)
        guard size > 0 else { throw JinjaError.valueError("\(name) size must be positive") }
        let items = try StringMethods.listItems(value)
        let fill = bound[1].flatMap { $0 == .none ? nil : $0 }
        var groups: [JinjaValue] = []
        if name == "batch" {
            var start = 0
            while start < items.count {
                var group = Array(items[start..<min(start + size, items.count)])
                if let fill, group.count < size { group += Array(repeating: fill, count: size - group.count) }
                groups.append(.array(group))
                start += size
            }
        } else {
            let perSlice = items.count / size
            let withExtra = items.count % size
            var offset = 0
            for index in 0..<size {
                let count = perSlice + (index < withExtra ? 1 : 0)
                var group = Array(items[offset..<offset + count])
                offset += count
                if let fill, index >= withExtra, withExtra > 0 { group.append(fill) }
                groups.append(.array(group))
            }
        }
        return .generator(groups)
    }

    private func groupBy(_ value: JinjaValue, _ bound: BoundArguments) throws(JinjaError) -> JinjaValue {
        let path = attributePath(try bound.required(0, "attribute"))
        let fallback = bound[1]
        let caseSensitive = bound.bool(2, default: false)
        let key = { (item: JinjaValue) throws(JinjaError) -> JinjaValue in
            var found = try self.lookupPath(path, in: item)
            if found.isUndefined, let fallback { found = fallback }
            if !caseSensitive, case .string(let text) = found { return .string(PythonString.lower(text)) }
            return found
        }
        var groups: [(key: JinjaValue, items: [JinjaValue])] = []
        for item in try sortedValues(try StringMethods.listItems(value), key: key, reverse: false) {
            let itemKey = try key(item)
            if let last = groups.last, Operators.pythonEquals(last.key, itemKey) {
                groups[groups.count - 1].items.append(item)
            } else {
                groups.append((itemKey, [item]))
            }
        }
        return .array(groups.map { .tuple([$0.key, .array($0.items)]) })
    }
}
