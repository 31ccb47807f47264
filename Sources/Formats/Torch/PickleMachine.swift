/// A pickle interpreter for PyTorch state dicts that executes nothing (formats.md §6.3–6.4): it knows only
/// the opcodes torch.save's protocol-2 pickles use, and resolves only allowlisted globals (OrderedDict, the
/// tensor/parameter rebuild functions, storage classes, dtypes, `_codecs.encode`) to descriptions it
/// builds itself. Any other global (os.system, posix.system, builtins.eval, subprocess.*) is refused at the
/// GLOBAL opcode that names it, before anything could be called.
struct PickleMachine {
    final class ListBox { var items: [PickleValue] = [] }
    final class DictBox { var items: [(PickleValue, PickleValue)] = [] }

    struct Storage { let dtype: DType; let key: String; let count: Int }
    struct Tensor {
        let storage: Storage
        let offset: Int, shape: [Int], strides: [Int]
        let dtype: DType
    }

    indirect enum PickleValue {
        case none, bool(Bool), int(Int64), float(Double), string(String), bytes([UInt8])
        case tuple([PickleValue]), list(ListBox), dict(DictBox)
        case global(String)
        case storage(Storage), tensor(Tensor)
        case mark
    }

    static let storageTypes: [String: DType] = [
        "torch.FloatStorage": .f32, "torch.HalfStorage": .f16, "torch.BFloat16Storage": .bf16, "torch.DoubleStorage": .f64,
        "torch.LongStorage": .i64, "torch.IntStorage": .i32, "torch.ShortStorage": .i16, "torch.CharStorage": .i8,
        "torch.ByteStorage": .u8, "torch.BoolStorage": .bool, "torch.UntypedStorage": .u8,
    ]
    static let dtypes: [String: DType] = [
        "torch.float32": .f32, "torch.float16": .f16, "torch.bfloat16": .bf16, "torch.float64": .f64, "torch.int64": .i64,
        "torch.int32": .i32, "torch.int16": .i16, "torch.int8": .i8, "torch.uint8": .u8, "torch.bool": .bool,
        "torch.float8_e4m3fn": .f8e4m3, "torch.float8_e5m2": .f8e5m2,
    ]
    static let functions: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter", "torch._tensor._rebuild_from_type_v2", "_codecs.encode",
        "torch.nn.parameter.Parameter", "torch.Tensor",
    ]
    static func isAllowed(_ name: String) -> Bool { functions.contains(name) || storageTypes[name] != nil || dtypes[name] != nil }

    let bytes: UnsafeRawBufferPointer
    let path: String
    var position = 0
    var stack: [PickleValue] = []
    var memo: [Int: PickleValue] = [:]
    /// Memo entries are bounded: a lying index cannot make the dictionary grow without limit.
    static let maxMemo = 1 << 24

    init(_ bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    func fail(_ reason: String) -> FormatError { .invalidPickle(path: path, offset: position, reason: reason) }

    mutating func byte() throws(FormatError) -> UInt8 {
        guard position < bytes.count else { throw fail("the stream ends without STOP") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func take(_ n: Int) throws(FormatError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - position else { throw fail("\(n) bytes announced, \(bytes.count - position) remain") }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    mutating func uint(_ n: Int) throws(FormatError) -> UInt64 {
        let b = try take(n)
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        return v
    }

    mutating func line() throws(FormatError) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("GLOBAL without a newline") }
        defer { position = end + 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
    }

    mutating func pop() throws(FormatError) -> PickleValue {
        guard let v = stack.popLast() else { throw fail("the stack is empty") }
        return v
    }

    /// Values down to the last MARK (removed).
    mutating func popMark() throws(FormatError) -> [PickleValue] {
        guard let m = stack.lastIndex(where: { if case .mark = $0 { true } else { false } }) else { throw fail("no MARK") }
        let items = Array(stack[(m + 1)...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func global(_ name: String) throws(FormatError) -> PickleValue {
        guard Self.isAllowed(name) else { throw .unsafePickle(path: path, global: name, offset: position) }
        return .global(name)
    }

    /// Runs to STOP and returns the object.
    mutating func run() throws(FormatError) -> PickleValue {
        while true {
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                    // PROTO
            case 0x95: _ = try take(8)                                   // FRAME
            case 0x2E: return try pop()                                  // STOP
            case 0x63: stack.append(try global("\(try line()).\(try line())"))  // GLOBAL
            case 0x93:                                                   // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw fail("STACK_GLOBAL without strings") }
                stack.append(try global("\(module).\(name)"))
            case 0x28: stack.append(.mark)
            case 0x4E: stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4A: stack.append(.int(Int64(Int32(truncatingIfNeeded: try uint(4)))))
            case 0x4B: stack.append(.int(Int64(try byte())))
            case 0x4D: stack.append(.int(Int64(try uint(2))))
            case 0x8A:                                                   // LONG1
                let n = Int(try byte())
                guard n <= 8 else { throw fail("integer of \(n) bytes") }
                let raw = try uint(n)
                let shift = UInt64(64 - 8 * n)
                stack.append(.int(n == 0 ? 0 : Int64(bitPattern: raw << shift) >> Int64(shift)))
            case 0x47:                                                   // BINFLOAT, big-endian
                let b = try take(8)
                var v: UInt64 = 0
                for x in b { v = v << 8 | UInt64(x) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x58: stack.append(.string(String(decoding: try take(Int(try uint(4))), as: UTF8.self)))
            case 0x8C: stack.append(.string(String(decoding: try take(Int(try byte())), as: UTF8.self)))
            case 0x55: stack.append(.string(String(decoding: try take(Int(try byte())), as: UTF8.self)))
            case 0x54: stack.append(.string(String(decoding: try take(Int(try uint(4))), as: UTF8.self)))
            case 0x43: stack.append(.bytes(Array(try take(Int(try byte())))))
            case 0x42: stack.append(.bytes(Array(try take(Int(try uint(4))))))
            case 0x29: stack.append(.tuple([]))
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case 0x74: stack.append(.tuple(try popMark()))
            case 0x5D: stack.append(.list(ListBox()))
            case 0x7D: stack.append(.dict(DictBox()))
            case 0x8F: stack.append(.list(ListBox()))                    // EMPTY_SET: items kept as a list
            case 0x61: let v = try pop(); try append([v])
            case 0x65: try append(try popMark())
            case 0x73: let v = try pop(), k = try pop(); try setItems([k, v])
            case 0x75: try setItems(try popMark())
            case 0x71: try put(Int(try byte()))
            case 0x72: try put(Int(try uint(4)))
            case 0x94: try put(memo.count)                               // MEMOIZE
            case 0x68: try get(Int(try byte()))
            case 0x6A: try get(Int(try uint(4)))
            case 0x51: stack.append(try persistent(try pop()))           // BINPERSID
            case 0x52: let args = try pop(), f = try pop(); stack.append(try reduce(f, args))
            case 0x81: let args = try pop(), cls = try pop(); stack.append(try reduce(cls, args))  // NEWOBJ
            case 0x62: _ = try pop()                                     // BUILD: state of dicts/tensors ignored
                guard let top = stack.last else { throw fail("BUILD on an empty stack") }
                switch top {
                case .dict, .tensor: break
                default: throw fail("BUILD on something that is not a dict or tensor")
                }
            default:
                position -= 1
                throw fail("opcode 0x\(String(op, radix: 16)) is not one a state dict uses")
            }
        }
    }

    mutating func append(_ values: [PickleValue]) throws(FormatError) {
        guard case .list(let box) = stack.last else { throw fail("APPEND to something that is not a list") }
        box.items += values
    }

    mutating func setItems(_ flat: [PickleValue]) throws(FormatError) {
        guard case .dict(let box) = stack.last, flat.count % 2 == 0 else { throw fail("SETITEM(S) on something that is not a dict") }
        for i in stride(from: 0, to: flat.count, by: 2) { box.items.append((flat[i], flat[i + 1])) }
    }

    mutating func put(_ index: Int) throws(FormatError) {
        guard let top = stack.last, index >= 0, index < Self.maxMemo else { throw fail("memo index \(index)") }
        memo[index] = top
    }

    mutating func get(_ index: Int) throws(FormatError) {
        guard let v = memo[index] else { throw fail("memo index \(index) was never stored") }
        stack.append(v)
    }
}
