import ArgumentParser
import CBLAS
import Distill
import Formats
import Foundation
import Model

/// The PromptKD step benchmark's Swift side (scripts/bench/distill): real teacher and student GGUFs, the
/// bundled train split, `--steps` PromptKD steps each timed whole and then part by part on the same
/// sequences (StepProfiler). Prints one JSON line with the per-part means.
struct BenchDistill: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-distill", abstract: "Time PromptKD steps whole and part by part (scripts/bench/distill).",
        shouldDisplay: false)

    @Option var teacher: String
    @Option var student: String
    @Option var steps = 3
    @Option(help: "Untimed steps first.") var warmup = 1
    @Option var batchSize = 4
    @Option var maxNewTokens = 48
    @Option var seed: UInt64 = 10
    @Option(help: "Training data (default: the bundled train split).") var data: String?

    func run() throws {
        // HF folders are converted into a folder of this run's own, removed at the end.
        let scratch = NSTemporaryDirectory() + "/ckpt-bench-distill-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let t = try TrainingModel(path: teacher, runFolder: scratch, convertedName: "teacher.gguf")
        let s = try TrainingModel(path: student, runFolder: scratch, convertedName: "student.gguf")
        try Vocabulary.requireSame(t.tokenizer, t.gguf.path, s.tokenizer, s.gguf.path)
        var o = DistillationOptions()
        o.steps = warmup + steps
        o.batchSize = batchSize
        o.maxNewTokens = maxNewTokens
        o.seed = seed
        o.maxLength = min(o.maxLength, s.params.config.contextLength, t.params.config.contextLength - o.promptRows)
        let train = try TokenizedDataset(path: try data ?? BundledData.path("train"), tokenizer: s.tokenizer, eos: s.eos,
                                         maxPromptLength: 256, maxLength: o.maxLength)
        let distiller = try Distiller(teacher: t.params, student: s.params, tokenizer: s.tokenizer, bos: t.bos, eos: s.eos,
                                      train: train, dev: [], options: o)
        let profiler = try StepProfiler(distiller)
        var reports: [StepProfiler.Report] = [], losses: [JSONValue] = []
        for step in 0..<(warmup + steps) {
            let r = try profiler.step()
            Stderr.write("step \(step + 1): whole \(String(format: "%.2f", r.whole)) s, parts \(String(format: "%.2f", r.sumOfParts)) s, "
                         + "\(r.tokens) tokens\n")
            losses.append(.double(r.loss))
            if step >= warmup { reports.append(r) }
        }
        func mean(_ f: (StepProfiler.Report) -> Double) -> Double { reports.map(f).reduce(0, +) / Double(reports.count) }
        let names = reports[0].parts.map(\.0)
        let parts = names.enumerated().map { i, name in (name, JSONValue.double(mean { $0.parts[i].1 })) }
        let whole = mean(\.whole), sum = mean(\.sumOfParts)
        let prompt = mean(\.promptForwardBackward), frozen = mean(\.frozenForwardBackward)
        let fields: [(String, JSONValue)] = [
            ("whole_s", .double(whole)), ("sum_of_parts_s", .double(sum)), ("whole_over_parts", .double(whole / sum)),
            ("prompt_forward_backward_s", .double(prompt)), ("frozen_forward_backward_s", .double(frozen)),
            ("prompt_over_frozen", .double(prompt / frozen)), ("tokens_per_step", .double(mean { Double($0.tokens) })),
            ("parts_s", .object(parts)), ("losses", .array(losses)), ("openblas_core", .string(String(cString: openblas_get_corename()))),
        ]
        Stdout.write(JSONWriter.compact(.object(fields)) + "\n")
    }
}
