import ArgumentParser
import Distill
import Formats
import Foundation
import Model

struct Student: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "student",
        abstract: "Make a student model from a teacher.", subcommands: [StudentInit.self])
}

struct StudentInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "A layer-dropped student: the teacher's embeddings, chosen blocks and head, its tokenizer.",
        discussion: """
            --layers 0,3,6,… or ranges (0-11,24-29) keeps those blocks (renumbered in order); --keep-every K keeps \
            0, K, 2K, …. Dropping a contiguous middle stretch hurts far less than every other block (SmolLM2: \
            0-11,24-29 has perplexity 580 on GPL-3 at ctx 128, every other block 538,000; the teacher 25). Tensors \
            are copied as stored; the output is a normal GGUF (train it with finetune or distill).
            """)

    @Option(name: .customLong("from"), help: "The teacher GGUF.")
    var teacher: String
    @Option(help: "Blocks to keep, comma-separated, increasing.")
    var layers: String?
    @Option(help: "Keep every K-th block starting at 0.")
    var keepEvery: Int?
    @Option(help: "Instead of dropping blocks: a fresh student from this HF config.json (vocab_size must be the teacher's).")
    var config: String?
    @Option(help: "Seed of the fresh initialization.")
    var seed: UInt64 = 10
    @Option(help: "Output GGUF.")
    var out: String
    @Flag(help: "Overwrite the output.")
    var force = false

    func validate() throws {
        guard [layers != nil, keepEvery != nil, config != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --layers, --keep-every and --config")
        }
        if let keepEvery, keepEvery < 1 { throw ValidationError("--keep-every must be at least 1") }
    }

    func run() throws {
        let gguf = try GGUFFile(file: MappedFile(path: teacher))
        let teacherConfig = try TransformerConfig(gguf: gguf)
        if let config {
            let c = try TransformerConfig(huggingFace: JSONFile.read(config), path: config)
            try FreshStudent.write(teacher: gguf, config: c, seed: seed, to: out, overwrite: force)
            let count = ParameterSet.count(for: c)
            Stdout.write("student: fresh \(c.architecture), \(c.layerCount) layers, \(count) parameters -> \(out)\n")
            return
        }
        let kept: [Int]
        if let layers {
            kept = try layers.split(separator: ",").flatMap { part -> [Int] in
                let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
                switch bounds.count {
                case 1: if let n = bounds[0] { return [n] }
                case 2: if let a = bounds[0], let b = bounds[1], a <= b { return Array(a...b) }
                default: break
                }
                throw ValidationError("--layers: '\(part)' is not a layer number or a range like 0-11")
            }
        } else {
            kept = LayerDroppedStudent.everyKth(keepEvery ?? 1, of: teacherConfig.layerCount)
        }
        let student = try LayerDroppedStudent.write(teacher: gguf, layers: kept, to: out, overwrite: force)
        let teacherParams = ParameterSet.count(for: teacherConfig)
        let studentParams = ParameterSet.count(for: student)
        Stdout.write("student: \(kept.count) of \(teacherConfig.layerCount) layers (\(kept.map(String.init).joined(separator: ","))), "
            + "\(studentParams) parameters (teacher \(teacherParams)) -> \(out)\n")
    }
}
