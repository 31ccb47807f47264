/// What the allowlisted globals mean when a state-dict pickle "calls" them: descriptions are built, nothing
/// of Python's runs. Persistent ids name storages: ('storage', StorageClass, key, location, element count).
extension PickleMachine {
    func int(_ v: PickleValue, _ what: String) throws(FormatError) -> Int {
        guard case .int(let i) = v, let n = Int(exactly: i) else { throw fail("\(what) is not an integer") }
        return n
    }

    func ints(_ v: PickleValue, _ what: String) throws(FormatError) -> [Int] {
        guard case .tuple(let items) = v else { throw fail("\(what) is not a tuple") }
        var out: [Int] = []
        for item in items { out.append(try int(item, what)) }
        return out
    }

    func persistent(_ pid: PickleValue) throws(FormatError) -> PickleValue {
        guard case .tuple(let t) = pid, t.count >= 5, case .string("storage") = t[0], case .global(let type) = t[1],
              case .string(let key) = t[2] else { throw fail("a persistent id that is not ('storage', class, key, location, size)") }
        guard let dtype = Self.storageTypes[type] else { throw fail("storage class '\(type)' is not a tensor storage ckpt reads") }
        let count = try int(t[4], "storage size")
        guard count >= 0, key.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter || $0 == "_") }) else {
            throw fail("storage key '\(key)' or size \(count)")
        }
        return .storage(Storage(dtype: dtype, key: key, count: count))
    }

    func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws(FormatError) -> PickleValue {
        guard case .global(let name) = callable, case .tuple(let args) = arguments else { throw fail("REDUCE of something that is not an allowlisted function") }
        switch name {
        case "collections.OrderedDict":
            return .dict(DictBox())
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3":
            guard args.count >= 4, case .storage(let storage) = args[0] else { throw fail("\(name) without a storage") }
            var dtype = storage.dtype
            if name.hasSuffix("v3") {
                guard args.count >= 7, case .global(let d) = args[6], let t = Self.dtypes[d] else { throw fail("\(name) without a dtype") }
                dtype = t
            }
            let shape = try ints(args[2], "size"), strides = try ints(args[3], "stride")
            guard shape.count == strides.count, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
                throw fail("size \(shape) and stride \(strides) do not match")
            }
            return .tensor(Tensor(storage: storage, offset: try int(args[1], "storage offset"), shape: shape, strides: strides, dtype: dtype))
        case "torch._utils._rebuild_parameter", "torch.nn.parameter.Parameter":
            guard let first = args.first, case .tensor = first else { throw fail("\(name) without a tensor") }
            return first
        case "torch._tensor._rebuild_from_type_v2":
            guard args.count >= 3 else { throw fail("\(name) needs (function, type, arguments)") }
            return try reduce(args[0], args[2])
        case "_codecs.encode":
            guard case .string(let s) = args.first else { throw fail("_codecs.encode without a string") }
            return .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        default:
            throw fail("'\(name)' is allowlisted as a value, not as something to call")
        }
    }
}
