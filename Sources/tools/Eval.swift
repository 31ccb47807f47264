import ArgumentParser
import Distill
import Formats
import Foundation
import Model

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "ROUGE-L, exact match and length of sampled answers on instruction data (the PromptKD protocol).",
        discussion: """
            One sampled answer per example and seed (T 1, top-k 0, top-p 1, --no-repeat-ngram 6, at most 256 new \
            tokens), cut at the end of sequence and stripped; ROUGE-L F as rouge_score computes it with the \
            Porter stemmer (best over references, ×100), exact match, mean length; mean ± std over seeds. \
            --teacher adds KL(teacher ‖ model) per answer token and top-1 agreement on the first seed's answers.
            """)

    @Argument(help: "A GGUF model (weights used as stored).")
    var model: String
    @Option(help: "JSONL test data (Dolly or prompt/output form; output may list several references). Default: the bundled test split.")
    var data: String?
    @Option(help: "Sampling seeds, comma-separated.")
    var seeds = "10"
    @Option(help: "Ban repeated n-grams of this size (0: off).")
    var noRepeatNgram = 6
    @Option(help: "Most tokens per answer.")
    var maxNewTokens = 256
    @Option(help: "Prompts are cut to their first N tokens.")
    var maxPromptLength = 256
    @Option(help: "Answers sampled together.")
    var batchSize = 8
    @Option(help: "Use only the first N examples.")
    var limit: Int?
    @Option(help: "A teacher GGUF with the same vocabulary: adds KL to it and top-1 agreement.")
    var teacher: String?
    @Option(help: "Write the first seed's answers as JSONL (prompt, prediction, references).")
    var predictionsOut: String?
    @Flag(help: PromptFormatting.help)
    var chatTemplate = false
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let m = try ModelFile(path: model)
        let seedList = try seeds.split(separator: ",").map { part -> UInt64 in
            guard let s = UInt64(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds: '\(part)' is not a seed") }
            return s
        }
        var examples = try InstructionExample.load(path: try data ?? BundledData.path("test"))
        if let limit { examples = Array(examples.prefix(limit)) }
        if chatTemplate { examples = try PromptFormatting.apply(examples, gguf: m.gguf, bosAdded: m.bos != nil) }
        let teacherFile = try teacher.map { try ModelFile(path: $0) }
        if let t = teacherFile { try Vocabulary.requireSame(m.tokenizer, m.gguf.path, t.tokenizer, t.gguf.path) }
        var options = InstructionEvaluation.Options()
        options.seeds = seedList
        options.noRepeatNgramSize = noRepeatNgram
        options.maxNewTokens = maxNewTokens
        options.maxPromptLength = maxPromptLength
        options.batchSize = batchSize
        let start = Date()
        let result = try InstructionEvaluation.run(m.transformer, tokenizer: m.tokenizer, stop: Generate.stopTokens(m.gguf, m.tokenizer),
                                                   examples: examples, options: options, teacher: teacherFile?.transformer) { done, total in
            Stderr.write(String(format: "eval: %d/%d answers, %.1f s\n", done, total, Date().timeIntervalSince(start)))
        }
        if let predictionsOut {
            let lines = zip(examples, result.predictions).map { e, p in
                JSONWriter.compact(.object([("prompt", .string(e.prompt)), ("prediction", .string(p)),
                                            ("references", .array(e.references.map { .string($0) }))])) + "\n"
            }
            try AtomicFile.write(Array(lines.joined().utf8), to: predictionsOut)
        }
        let (r, e, l) = (result.rougeL, result.exactMatch, result.meanLength)
        if json {
            var fields: [(String, JSONValue)] = [
                ("examples", .int(examples.count)), ("seeds", .array(seedList.map { .int($0) })),
                ("rougeL", .double(r.mean)), ("rougeL_std", .double(r.std)), ("exact_match", .double(e.mean)),
                ("exact_match_std", .double(e.std)), ("mean_length", .double(l.mean)),
                ("per_seed", .array(result.seeds.map { .object([("seed", .int($0.seed)), ("rougeL", .double($0.rougeL)),
                                                                ("exact_match", .double($0.exactMatch)), ("mean_length", .double($0.meanLength))]) })),
            ]
            if let kl = result.klToTeacher { fields.append(("kl_to_teacher", .double(kl))) }
            if let a = result.top1Agreement { fields.append(("top1_agreement", .double(a))) }
            Stdout.write(JSONWriter.pretty(.object(fields)) + "\n")
        } else {
            var text = String(format: "examples %d, seeds %@\nROUGE-L      %.2f ± %.2f\nexact match  %.2f ± %.2f\nmean length  %.1f tokens\n",
                              examples.count, seeds, r.mean, r.std, e.mean, e.std, l.mean)
            if let kl = result.klToTeacher, let a = result.top1Agreement {
                text += String(format: "KL to teacher %.4f per token, top-1 agreement %.1f%%\n", kl, 100 * a)
            }
            Stdout.write(text)
        }
    }
}

/// Distillation needs one vocabulary on both sides.
enum Vocabulary {
    static func requireSame(_ a: any Tokenizer, _ pathA: String, _ b: any Tokenizer, _ pathB: String) throws {
        let x = a.tokens, y = b.tokens
        guard x != y else { return }
        let first = zip(x, y).enumerated().first { $0.element.0 != $0.element.1 }
        let detail = first.map { "; first difference at id \($0.offset): '\($0.element.0)' vs '\($0.element.1)'" }
            ?? "; one vocabulary extends the other"
        throw ToolError(message: "vocabularies differ: \(x.count) tokens (\(pathA)) vs \(y.count) tokens (\(pathB))\(detail)",
                        hint: "teacher and student must share one tokenizer (make the student with `ckpt student init`)")
    }
}
