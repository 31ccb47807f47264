/// Evaluation of expression nodes. Errors get the position of the innermost failing node.
extension Interpreter {
    func evaluate(_ expression: Expression) throws(JinjaError) -> JinjaValue {
        do {
            return try evaluateNode(expression)
        } catch {
            throw error.located(at: expression.position)
        }
    }

    private func evaluateNode(_ expression: Expression) throws(JinjaError) -> JinjaValue {
        switch expression.kind {
        case .literal(let value):
            return value
        case .variable(let name):
            return lookup(name)
        case .list(let items):
            var values: [JinjaValue] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try evaluate(item)) }
            return .array(values)
        case .tuple(let items):
            var values: [JinjaValue] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try evaluate(item)) }
            return .tuple(values)
        case .dictionary(let entries):
            var object = JinjaObject()
            for entry in entries {
                let key = try evaluate(entry.key)
                object[JinjaObject.EntryKey(key) ?? .string(key.pythonRepresentation)] = try evaluate(entry.value)
            }
            return .object(object)
        case .attribute(let base, let name):
            let value = try evaluate(base)
            if value.isUndefined { throw undefinedError(for: base) }
            return attribute(name, of: value)
        case .item(let base, let key):
            let value = try evaluate(base)
            if value.isUndefined { throw undefinedError(for: base) }
            return try item(try evaluate(key), of: value)
        case .slice(let base, let start, let stop, let step):
            let value = try evaluate(base)
            if value.isUndefined { throw undefinedError(for: base) }
            return try slice(value, start: try evaluateOptional(start), stop: try evaluateOptional(stop),
                             step: try evaluateOptional(step))
        case .call:
            return try evaluateCall(expression, extraKeywordArguments: [])
        case .filter(let base, let name, let arguments):
            let value = try evaluate(base)
            return try applyFilter(name, to: value, try evaluateArguments(arguments))
        case .test(let base, let name, let arguments, let negated):
            let value = try evaluate(base)
            let result = try applyTest(name, to: value, try evaluateArguments(arguments))
            return .bool(result != negated)
        case .unary(let unaryOperator, let operand):
            let value = try evaluate(operand)
            if unaryOperator != .not && value.isUndefined { throw undefinedError(for: operand) }
            return try Operators.unary(unaryOperator, value)
        case .binary(let binaryOperator, let left, let right):
            let leftValue = try evaluate(left)
            let rightValue = try evaluate(right)
            // Name the undefined operand the way jinja2 does ("'x' is undefined").
            if binaryOperator != .concatenate {
                if leftValue.isUndefined { throw undefinedError(for: left) }
                if rightValue.isUndefined { throw undefinedError(for: right) }
            }
            let result = try Operators.binary(binaryOperator, leftValue, rightValue)
            if case .string(let text) = result { try checkBuiltSize(text) }
            if let items = result.sequenceItems, items.count > limits.maxOutputBytes {
                throw JinjaError(.limit, "output exceeds \(limits.maxOutputBytes) bytes")
            }
            return result
        case .and(let left, let right):
            let value = try evaluate(left)
            return value.isTruthy ? try evaluate(right) : value
        case .or(let left, let right):
            let value = try evaluate(left)
            return value.isTruthy ? value : try evaluate(right)
        case .compare(let left, let comparisons):
            // Python chains `a < b < c` as `a < b and b < c`, evaluating each operand once.
            var current = try evaluate(left)
            for comparison in comparisons {
                let next = try evaluate(comparison.operand)
                guard try Operators.compare(comparison.comparisonOperator, current, next) else {
                    return .bool(false)
                }
                current = next
            }
            return .bool(true)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            guard let otherwise else { return .undefined }
            return try evaluate(otherwise)
        }
    }

    private func evaluateOptional(_ expression: Expression?) throws(JinjaError) -> JinjaValue? {
        guard let expression else { return nil }
        return try evaluate(expression)
    }

    /// jinja2 reports the undefined name (`'x' is undefined`) or the missing attribute.
    func undefinedError(for expression: Expression) -> JinjaError {
        switch expression.kind {
        case .variable(let name):
            return JinjaError(.undefined, "'\(name)' is undefined", at: expression.position)
        case .attribute(_, let name):
            return JinjaError(.undefined, "'\(name)' is undefined", at: expression.position)
        default:
            return JinjaError(.undefined, "value is undefined", at: expression.position)
        }
    }

    func evaluateArguments(_ arguments: [Argument]) throws(JinjaError) -> CallArguments {
        var result = CallArguments()
        for argument in arguments {
            let value = try evaluate(argument.value)
            switch argument.kind {
            case .positional:
                result.positional.append(value)
            case .keyword(let name):
                result.keyword.append((name, value))
            case .unpackedSequence:
                result.positional.append(contentsOf: try iterate(value))
            case .unpackedMapping:
                guard case .object(let object) = value else {
                    throw JinjaError.typeError("argument after ** must be a mapping, not \(value.typeName)")
                }
                for (key, item) in object { result.keyword.append((key, item)) }
            }
        }
        return result
    }

    /// Calls `expression` (a `.call` node); call blocks pass their `caller` as an extra keyword.
    func evaluateCall(
        _ expression: Expression, extraKeywordArguments: [(String, JinjaValue)]
    ) throws(JinjaError) -> JinjaValue {
        guard case .call(let calleeExpression, let argumentExpressions) = expression.kind else {
            return try evaluate(expression)
        }
        let callee = try evaluate(calleeExpression)
        var arguments = try evaluateArguments(argumentExpressions)
        arguments.keyword.append(contentsOf: extraKeywordArguments)
        switch callee {
        case .callable(let callable):
            do {
                return try call(callable, arguments)
            } catch {
                throw error.located(at: expression.position)
            }
        case .undefined:
            throw undefinedError(for: calleeExpression)
        default:
            throw JinjaError(.type, "'\(callee.typeName)' object is not callable", at: expression.position)
        }
    }
}
