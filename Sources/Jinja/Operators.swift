#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Python semantics for the operators templates use: numeric tower (bool < int < float), floor
/// division and modulo, sequence concatenation/repetition, and comparisons.
enum Operators {
    /// A number as Python sees it; bools take part in arithmetic as 0 and 1.
    enum Number {
        case integer(Int)
        case real(Double)

        init?(_ value: JinjaValue) {
            switch value {
            case .bool(let flag): self = .integer(flag ? 1 : 0)
            case .int(let number): self = .integer(number)
            case .double(let number): self = .real(number)
            default: return nil
            }
        }

        var doubleValue: Double {
            switch self {
            case .integer(let number): return Double(number)
            case .real(let number): return number
            }
        }
    }

    static func unary(_ unaryOperator: UnaryOperator, _ markedValue: JinjaValue) throws(JinjaError) -> JinjaValue {
        let value = markedValue.withoutMarkup
        switch unaryOperator {
        case .not:
            return .bool(!value.isTruthy)
        case .negate, .plus:
            if value.isUndefined { throw JinjaError.undefinedError("value is undefined") }
            guard let number = Number(value) else {
                throw JinjaError.typeError("bad operand type for unary \(unaryOperator.rawValue): '\(value.typeName)'")
            }
            switch (number, unaryOperator) {
            case (.integer(let integer), .negate):
                let (result, overflow) = Int(0).subtractingReportingOverflow(integer)
                if overflow { throw JinjaError.valueError("integer overflow") }
                return .int(result)
            case (.integer(let integer), _): return .int(integer)
            case (.real(let real), .negate): return .double(-real)
            case (.real(let real), _): return .double(real)
            }
        }
    }

    static func binary(_ binaryOperator: BinaryOperator, _ markedLeft: JinjaValue, _ markedRight: JinjaValue) throws(JinjaError) -> JinjaValue {
        if binaryOperator == .concatenate {
            return .string(markedLeft.pythonString + markedRight.pythonString)
        }
        if markedLeft.isMarkup || markedRight.isMarkup, let result = try markupArithmetic(binaryOperator, markedLeft, markedRight) {
            return result
        }
        let left = markedLeft.withoutMarkup, right = markedRight.withoutMarkup
        if left.isUndefined || right.isUndefined {
            throw JinjaError.undefinedError("value is undefined")
        }
        if let leftNumber = Number(left), let rightNumber = Number(right) {
            return try arithmetic(binaryOperator, leftNumber, rightNumber)
        }
        switch (binaryOperator, left, right) {
        case (.add, .string(let a), .string(let b)):
            return .string(a + b)
        case (.add, .array(let a), .array(let b)):
            return .array(a + b)
        case (.add, .tuple(let a), .tuple(let b)):
            return .tuple(a + b)
        case (.multiply, .string(let text), _), (.multiply, _, .string(let text)):
            guard case .integer(let count)? = Number(left.stringValue == nil ? left : right) else { break }
            return .string(String(repeating: text, count: max(0, count)))
        case (.multiply, .array(let items), _), (.multiply, _, .array(let items)):
            guard case .integer(let count)? = Number(left.isArrayValue ? right : left) else { break }
            return .array(repeatArray(items, count: count))
        case (.multiply, .tuple(let items), _), (.multiply, _, .tuple(let items)):
            guard case .integer(let count)? = Number(left.sequenceItems != nil ? right : left) else { break }
            return .tuple(repeatArray(items, count: count))
        case (.modulo, .string(let format), _):
            return .string(try PercentFormatter.format(format, right))
        default:
            break
        }
        if binaryOperator == .add, case .string = left {
            throw JinjaError.typeError("can only concatenate str (not \"\(right.typeName)\") to str")
        }
        if binaryOperator == .add, left.sequenceItems != nil {
            throw JinjaError.typeError("can only concatenate \(left.typeName) (not \"\(right.typeName)\") to \(left.typeName)")
        }
        throw JinjaError.typeError(
            "unsupported operand type(s) for \(binaryOperator.rawValue): '\(left.typeName)' and '\(right.typeName)'")
    }

    /// Markup's `__add__`/`__radd__` escape the plain-string side; `*` and `%` keep the result Markup.
    private static func markupArithmetic(_ binaryOperator: BinaryOperator, _ left: JinjaValue, _ right: JinjaValue) throws(JinjaError) -> JinjaValue? {
        func escaped(_ value: JinjaValue) -> String? {
            switch value {
            case .markup(let text): return text
            case .string(let text): return markupEscape(text)
            default: return nil
            }
        }
        switch binaryOperator {
        case .add:
            guard let a = escaped(left), let b = escaped(right) else { return nil }
            return .markup(a + b)
        case .multiply:
            guard case .string(let text) = try binary(.multiply, left.withoutMarkup, right.withoutMarkup) else { return nil }
            return .markup(text)
        case .modulo:
            guard case .markup(let format) = left else { return nil }
            let arguments: JinjaValue
            switch right {
            case .tuple(let items): arguments = .tuple(items.map { .markup(escaped($0) ?? markupEscape($0.pythonString)) })
            default: arguments = .markup(escaped(right) ?? markupEscape(right.pythonString))
            }
            return .markup(try PercentFormatter.format(format, arguments))
        default:
            return nil
        }
    }

    private static func repeatArray(_ items: [JinjaValue], count: Int) -> [JinjaValue] {
        guard count > 0, !items.isEmpty else { return [] }
        var result: [JinjaValue] = []
        result.reserveCapacity(items.count * min(count, 1 << 20))
        for _ in 0..<count { result.append(contentsOf: items) }
        return result
    }

    private static func arithmetic(_ binaryOperator: BinaryOperator, _ left: Number, _ right: Number) throws(JinjaError) -> JinjaValue {
        if case .integer(let a) = left, case .integer(let b) = right {
            return try integerArithmetic(binaryOperator, a, b)
        }
        let a = left.doubleValue
        let b = right.doubleValue
        switch binaryOperator {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide:
            guard b != 0 else { throw JinjaError.valueError("float division by zero") }
            return .double(a / b)
        case .floorDivide:
            guard b != 0 else { throw JinjaError.valueError("float floor division by zero") }
            return .double(pythonFloatModulo(a, b).quotient)
        case .modulo:
            guard b != 0 else { throw JinjaError.valueError("float modulo") }
            return .double(pythonFloatModulo(a, b).remainder)
        case .power:
            if a == 0 && b < 0 { throw JinjaError.valueError("0.0 cannot be raised to a negative power") }
            return .double(power(a, b))
        case .concatenate:
            return .string("")
        }
    }

    private static func integerArithmetic(_ binaryOperator: BinaryOperator, _ a: Int, _ b: Int) throws(JinjaError) -> JinjaValue {
        func checked(_ result: (partialValue: Int, overflow: Bool)) throws(JinjaError) -> JinjaValue {
            if result.overflow { throw JinjaError.valueError("integer overflow") }
            return .int(result.partialValue)
        }
        switch binaryOperator {
        case .add: return try checked(a.addingReportingOverflow(b))
        case .subtract: return try checked(a.subtractingReportingOverflow(b))
        case .multiply: return try checked(a.multipliedReportingOverflow(by: b))
        case .divide:
            guard b != 0 else { throw JinjaError.valueError("division by zero") }
            return .double(Double(a) / Double(b))
        case .floorDivide, .modulo:
            guard b != 0 else { throw JinjaError.valueError("integer division or modulo by zero") }
            if a == Int.min && b == -1 { throw JinjaError.valueError("integer overflow") }
            var quotient = a / b
            var remainder = a % b
            // Python rounds the quotient toward negative infinity; the remainder takes the divisor's sign.
            if remainder != 0 && ((remainder < 0) != (b < 0)) {
                quotient -= 1
                remainder += b
            }
            return .int(binaryOperator == .floorDivide ? quotient : remainder)
        case .power:
            if b < 0 {
                if a == 0 { throw JinjaError.valueError("0.0 cannot be raised to a negative power") }
                return .double(power(Double(a), Double(b)))
            }
            var result = 1
            var base = a
            var exponent = b
            while exponent > 0 {
                if exponent & 1 == 1 {
                    let (product, overflow) = result.multipliedReportingOverflow(by: base)
                    if overflow { throw JinjaError.valueError("integer overflow") }
                    result = product
                }
                exponent >>= 1
                if exponent > 0 {
                    let (square, overflow) = base.multipliedReportingOverflow(by: base)
                    if overflow { throw JinjaError.valueError("integer overflow") }
                    base = square
                }
            }
            return .int(result)
        case .concatenate:
            return .string("")
        }
    }

    /// Python's float `divmod`: the remainder has the sign of the divisor.
    static func pythonFloatModulo(_ a: Double, _ b: Double) -> (quotient: Double, remainder: Double) {
        var remainder = a.truncatingRemainder(dividingBy: b)
        var quotient = (a - remainder) / b
        if remainder != 0 && ((b < 0) != (remainder < 0)) {
            remainder += b
            quotient -= 1
        }
        if remainder == 0 { remainder = b < 0 ? -0.0 : 0.0 }
        let floored = quotient.rounded(.down)
        if quotient - floored > 0.5 { quotient = floored + 1 } else { quotient = floored }
        return (quotient, remainder)
    }

    /// Real exponentiation via the C library, which is what CPython's float `**` uses.
    static func power(_ base: Double, _ exponent: Double) -> Double {
        pow(base, exponent)
    }
}

extension JinjaValue {
    var isArrayValue: Bool {
        if case .array = self { return true }
        return false
    }
}
