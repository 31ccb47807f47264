/// Renders a `CheckpointSummary` as text for people and as JSON (schema `ckpt.inspect/1`, documented in
/// README.md) for programs.
public enum SummaryReport {
    public static let schema = "ckpt.inspect/1"

    public static func json(_ s: CheckpointSummary) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("schema", .string(schema)),
            ("path", .string(s.path)),
            ("format", .string(s.format.rawValue)),
            ("version", s.version.map { .int($0) } ?? .null),
            ("architecture", s.architecture.map { .string($0) } ?? .null),
            ("file_size", .int(s.fileSize)),
            ("files", .array(s.files.map { .string($0) })),
            ("parameter_count", .int(s.parameterCount)),
            ("tensor_count", .int(s.tensorCount)),
            ("tensor_bytes", .int(s.tensorBytes)),
            ("bits_per_weight", .double(s.bitsPerWeight)),
            ("dtypes", .array(s.dtypeStats.map { d in
                .object([("dtype", .string(d.dtype.name)), ("tensors", .int(d.tensors)),
                         ("parameters", .int(d.parameters)), ("bytes", .int(d.bytes)),
                         ("bits_per_weight", .double(d.bitsPerWeight))])
            })),
            ("alignment", s.alignment.map { .int($0) } ?? .null),
            ("data_offset", s.dataOffset.map { .int($0) } ?? .null),
        ]
        if let t = s.tokenizer {
            members.append(("tokenizer", .object([
                ("model", .string(t.model)),
                ("pre", t.pre.map { .string($0) } ?? .null),
                ("vocab_size", .int(t.vocabSize)),
                ("merges", t.mergeCount.map { .int($0) } ?? .null),
                ("special", .object(t.specialIDs.map { ($0.0, .int($0.1)) })),
                ("add_bos", t.addBOS.map { .bool($0) } ?? .null),
            ])))
        } else {
            members.append(("tokenizer", .null))
        }
        members.append(("chat_template", .bool(s.chatTemplateLength != nil)))
        members.append(("metadata", .array(s.metadata.map { m in
            var item: [(String, JSONValue)] = [("key", .string(m.key)), ("type", .string(m.type))]
            if let e = m.elementType { item.append(("element_type", .string(e))) }
            if let c = m.count { item.append(("count", .int(c))) }
            item.append(("value", m.value))
            if m.elementType != nil { item.append(("truncated", .bool(m.truncated))) }
            return .object(item)
        })))
        members.append(("tensors", .array(s.tensors.map { t in
            var item: [(String, JSONValue)] = [
                ("name", .string(t.name)), ("shape", .array(t.shape.map { .int($0) })),
                ("dtype", .string(t.dtype.name)), ("offset", .int(t.offset)), ("bytes", .int(t.bytes)),
            ]
            if let f = t.file { item.append(("file", .string(f))) }
            return .object(item)
        })))
        return .object(members)
    }

    /// Summary first, then metadata (arrays abbreviated unless the summary was read in full), then tensors
    /// when asked.
    public static func text(_ s: CheckpointSummary, showTensors: Bool) -> String {
        var lines: [String] = []
        func row(_ label: String, _ value: String) { lines.append(label.padding(14) + value) }
        row("format", s.format.rawValue + (s.version.map { " v\($0)" } ?? ""))
        row("architecture", s.architecture ?? "unknown")
        row("parameters", "\(millions(s.parameterCount)) (\(grouped(s.parameterCount)))")
        row("tensors", "\(s.tensorCount)")
        row("file size", "\(mebibytes(s.fileSize)) (\(grouped(s.fileSize)) bytes)" + (s.files.count > 1 ? " in \(s.files.count) files" : ""))
        let stats = s.dtypeStats
        for (i, d) in stats.enumerated() {
            row(i == 0 ? "dtypes" : "", "\(d.dtype.name) × \(d.tensors): \(millions(d.parameters)) params, \(fixed(d.bitsPerWeight)) bits/weight")
        }
        row("", "overall \(fixed(s.bitsPerWeight)) bits/weight")
        if let t = s.tokenizer {
            var text = t.model + (t.pre.map { " (pre \($0))" } ?? "") + ", \(t.vocabSize) tokens"
            if let m = t.mergeCount { text += ", \(m) merges" }
            for (name, id) in t.specialIDs { text += ", \(name) \(id)" }
            if let b = t.addBOS { text += ", add_bos \(b)" }
            row("tokenizer", text)
        } else {
            row("tokenizer", "none")
        }
        row("chat template", s.chatTemplateLength.map { "yes (\($0) bytes)" } ?? "no")
        if let a = s.alignment, let d = s.dataOffset { row("layout", "alignment \(a), tensor data at offset \(d)") }
        lines.append("")
        lines.append("metadata (\(s.metadata.count) keys)")
        for m in s.metadata {
            let type = m.elementType.map { "\(m.type)[\($0)] × \(m.count ?? 0)" } ?? m.type
            var value = JSONWriter.compact(m.value)
            if m.truncated { value = String(value.dropLast()) + ", …]" }
            if value.count > 160 { value = String(value.prefix(157)) + "…" }
            lines.append("  " + m.key.padding(44) + " " + type.padding(24) + " " + value)
        }
        if showTensors {
            lines.append("")
            lines.append("tensors (\(s.tensorCount))")
            lines.append("  " + "name".padding(44) + " " + "shape".padding(18) + " " + "dtype".padding(8) + " " + "offset".padding(12) + " bytes")
            for t in s.tensors {
                let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]"
                lines.append("  " + t.name.padding(44) + " " + shape.padding(18) + " " + t.dtype.name.padding(8) + " "
                             + String(t.offset).padding(12) + " \(t.bytes)" + (t.file.map { "  \($0)" } ?? ""))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func grouped(_ n: UInt64) -> String {
        var digits = Array(String(n))
        var i = digits.count - 3
        while i > 0 { digits.insert(",", at: i); i -= 3 }
        return String(digits)
    }

    static func fixed(_ x: Double, _ places: Int = 2) -> String {
        let scale = pow10(places)
        let r = (x * scale).rounded() / scale
        var text = String(r)
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            text += String(repeating: "0", count: max(0, places - decimals))
        } else {
            text += "." + String(repeating: "0", count: places)
        }
        return text
    }

    static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 10 } }
    static func millions(_ n: UInt64) -> String { fixed(Double(n) / 1e6) + " M" }
    static func mebibytes(_ n: UInt64) -> String { fixed(Double(n) / 1_048_576) + " MiB" }
}

extension String {
    /// Left-aligned in a column of `width` characters (never truncated).
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
