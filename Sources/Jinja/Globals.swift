#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Global functions: jinja2's `range`, `namespace`, `dict`, plus transformers' `raise_exception` and
/// `strftime_now`. Render-context variables of the same name take precedence, as in jinja2.
enum Globals {
    static let names: Set<String> = ["range", "namespace", "dict", "raise_exception", "strftime_now"]

    /// The immutable sandbox refuses ranges longer than this (jinja2's MAX_RANGE).
    static let maximumRange = 100_000
}

extension Interpreter {
    func callGlobal(_ name: String, _ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        switch name {
        case "range":
            return try callRange(arguments)
        case "namespace":
            return makeNamespace(try dictionaryArguments(arguments, function: "namespace"))
        case "dict":
            return .object(try dictionaryArguments(arguments, function: "dict"))
        case "raise_exception":
            let message = arguments.positional.first ?? arguments.keyword.first?.1 ?? .string("")
            throw JinjaError(.raised, message.pythonString)
        case "strftime_now":
            let bound = try arguments.bind(["format"], function: "strftime_now")
            return .string(formatCurrentTime(try bound.string(0, default: "")))
        default:
            throw JinjaError.undefinedError("'\(name)' is undefined")
        }
    }

    private func callRange(_ arguments: CallArguments) throws(JinjaError) -> JinjaValue {
        guard arguments.keyword.isEmpty else { throw JinjaError.typeError("range() takes no keyword arguments") }
        var numbers: [Int] = []
        for value in arguments.positional {
            switch value {
            case .int(let number): numbers.append(number)
            case .bool(let flag): numbers.append(flag ? 1 : 0)
            default:
                throw JinjaError.typeError("'\(value.typeName)' object cannot be interpreted as an integer")
            }
        }
        let start: Int, stop: Int, step: Int
        switch numbers.count {
        case 1: (start, stop, step) = (0, numbers[0], 1)
        case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
        case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
        default: throw JinjaError.typeError("range expected at most 3 arguments, got \(numbers.count)")
        }
        guard step != 0 else { throw JinjaError.valueError("range() arg 3 must not be zero") }
        let (distance, overflow) = stop.subtractingReportingOverflow(start)
        let count = overflow ? Int.max : max(0, step > 0 ? (distance + step - 1) / step : (distance + step + 1) / step)
        guard count <= Globals.maximumRange else {
            throw JinjaError(.value,
                "Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(Globals.maximumRange)).")
        }
        return .array((0..<count).map { .int(start + $0 * step) })
    }

    /// `dict(mapping_or_pairs, **kwargs)` semantics, shared by `namespace(...)`.
    private func dictionaryArguments(_ arguments: CallArguments, function: String) throws(JinjaError) -> JinjaObject {
        guard arguments.positional.count <= 1 else {
            throw JinjaError.typeError("\(function) expected at most 1 argument, got \(arguments.positional.count)")
        }
        var object = JinjaObject()
        if let initial = arguments.positional.first {
            switch initial {
            case .object(let source):
                object = source
            case .namespace(let reference):
                object = namespaceAttributes(reference)
            default:
                for pair in try iterate(initial) {
                    let items = try iterate(pair)
                    guard items.count == 2 else {
                        throw JinjaError.valueError("dictionary update sequence element has length \(items.count); 2 is required")
                    }
                    object[JinjaObject.EntryKey(items[0]) ?? .string(items[0].pythonRepresentation)] = items[1]
                }
            }
        }
        for (key, value) in arguments.keyword { object[key] = value }
        if function == "namespace", let hidden = object.keys.first(where: { $0.hasPrefix("_") }) {
            throw JinjaError.securityError(
                "Chat templates cannot store underscore-prefixed attributes on a namespace, but got \(pythonRepr(hidden)). Please rename the attribute.")
        }
        return object
    }

    /// `datetime.now().strftime(format)` in local time (or the fixed `now`, in UTC), via the C library's strftime.
    private func formatCurrentTime(_ format: String) -> String {
        guard !format.isEmpty else { return "" }
        var clock = now.map { time_t($0) } ?? time(nil)
        var parts = tm()
        let converted = now == nil ? localtime_r(&clock, &parts) : gmtime_r(&clock, &parts)
        guard converted != nil else { return "" }
        var capacity = 256
        while capacity <= 1 << 16 {
            var buffer = [CChar](repeating: 0, count: capacity)
            let written = strftime(&buffer, capacity, format, &parts)
            if written > 0 {
                let bytes = buffer.prefix(written).map { UInt8(bitPattern: $0) }
                return String(decoding: bytes, as: UTF8.self)
            }
            capacity *= 4
        }
        return ""
    }
}
