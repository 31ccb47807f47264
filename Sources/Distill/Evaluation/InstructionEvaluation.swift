import Foundation
import Model

/// The PromptKD/MiniLLM test protocol (promptkd.md §6) on instruction data: for each seed, one sampled
/// response per example (T 1, top-k 0, top-p 1, `no_repeat_ngram_size` 6 by default, at most 256 new
/// tokens, prompts cut to their first 256 tokens), cut at the end-of-sequence token and stripped; ROUGE-L F
/// (best over references, ×100), exact match (%) and the mean response length in tokens; mean and
/// population standard deviation over seeds. With a teacher: on the first seed's responses, the mean
/// KL(teacher ‖ model) per response token and how often both models' most likely token agree.
public enum InstructionEvaluation {
    public struct Options: Sendable {
        public var seeds: [UInt64] = [10]
        public var noRepeatNgramSize = 6
        public var maxNewTokens = 256
        public var maxPromptLength = 256
        public var batchSize = 8
        public var temperature: Float = 1
        public var topK = 0
        public var topP: Float = 1
        public init() {}
    }

    public struct SeedResult: Sendable {
        public var seed: UInt64
        public var rougeL: Double, exactMatch: Double, meanLength: Double
    }

    public struct Result: Sendable {
        public var seeds: [SeedResult]
        /// The first seed's responses, in example order.
        public var predictions: [String]
        public var klToTeacher: Double?
        public var top1Agreement: Double?

        public static func meanAndStd(_ values: [Double]) -> (mean: Double, std: Double) {
            let mean = values.reduce(0, +) / Double(max(1, values.count))
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, values.count))
            return (mean, variance.squareRoot())
        }
        public var rougeL: (mean: Double, std: Double) { Self.meanAndStd(seeds.map(\.rougeL)) }
        public var exactMatch: (mean: Double, std: Double) { Self.meanAndStd(seeds.map(\.exactMatch)) }
        public var meanLength: (mean: Double, std: Double) { Self.meanAndStd(seeds.map(\.meanLength)) }
    }

    /// `progress(done, total)` after each batch.
    public static func run(_ model: Transformer, tokenizer: any Tokenizer, stop: Set<Int>, examples: [InstructionExample],
                           options: Options, teacher: Transformer? = nil,
                           progress: (Int, Int) -> Void = { _, _ in }) throws(DistillError) -> Result {
        let prompts = examples.map { Array(tokenizer.encode($0.prompt, special: $0.parseSpecial).prefix(options.maxPromptLength)) }
        let room = model.config.contextLength - (prompts.map(\.count).max() ?? 0)
        guard room > 0 else {
            throw .invalidOption(name: "--max-prompt-length", reason: "prompts fill the context of \(model.config.contextLength)")
        }
        var result = Result(seeds: [], predictions: [])
        var firstResponses: [[Int]] = []
        let total = options.seeds.count * examples.count
        for (s, seed) in options.seeds.enumerated() {
            var responses: [[Int]] = []
            for first in stride(from: 0, to: examples.count, by: options.batchSize) {
                let batch = first..<min(examples.count, first + options.batchSize)
                let requests = batch.map { i -> Generation.Request in
                    var o = Sampler.Options()
                    o.temperature = options.temperature
                    o.topK = options.topK
                    o.topP = options.topP
                    o.noRepeatNgramSize = options.noRepeatNgramSize
                    o.seed = seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i)
                    return Generation.Request(prompt: prompts[i], sampler: Sampler(o))
                }
                do {
                    responses += try Generation.sample(model, requests, maxNewTokens: min(options.maxNewTokens, room), stop: stop)
                } catch { throw .model(error) }
                progress(s * examples.count + batch.upperBound, total)
            }
            let texts = responses.map { text(of: $0, tokenizer: tokenizer, stop: stop) }
            var rouge = 0.0, exact = 0.0
            for (i, example) in examples.enumerated() {
                rouge += RougeL.best(prediction: texts[i], references: example.references)
                exact += ExactMatch.matches(prediction: texts[i], references: example.references) ? 1 : 0
            }
            let n = Double(examples.count)
            let lengths = responses.map { Double($0.filter { !stop.contains($0) }.count) }
            result.seeds.append(SeedResult(seed: seed, rougeL: 100 * rouge / n, exactMatch: 100 * exact / n,
                                           meanLength: lengths.reduce(0, +) / n))
            if s == 0 {
                result.predictions = texts
                firstResponses = responses
            }
        }
        if let teacher {
            (result.klToTeacher, result.top1Agreement) = try agreement(model, teacher, prompts: prompts, responses: firstResponses)
        }
        return result
    }

    /// The response text: tokens before the first stop token, decoded, whitespace-trimmed.
    static func text(of tokens: [Int], tokenizer: any Tokenizer, stop: Set<Int>) -> String {
        let cut = tokens.firstIndex(where: stop.contains).map { Array(tokens[..<$0]) } ?? tokens
        return tokenizer.decode(cut).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Mean KL(teacher ‖ model) and top-1 agreement over the positions that predict response tokens.
    static func agreement(_ model: Transformer, _ teacher: Transformer, prompts: [[Int]],
                          responses: [[Int]]) throws(DistillError) -> (Double, Double) {
        let V = model.config.vocabSize
        var kl = 0.0, agree = 0.0, count = 0.0
        for (prompt, response) in zip(prompts, responses) where !response.isEmpty {
            let tokens = prompt + response
            let a: [Float], b: [Float]
            do {
                a = try model.logits(tokens)
                b = try teacher.logits(tokens)
            } catch { throw .model(error) }
            for row in (prompt.count - 1)..<(tokens.count - 1) {
                let (klRow, same) = a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        Divergence.klAndAgreement(teacher: bp.baseAddress! + row * V, model: ap.baseAddress! + row * V, vocab: V)
                    }
                }
                kl += klRow
                agree += same ? 1 : 0
                count += 1
            }
        }
        return (kl / max(1, count), agree / max(1, count))
    }
}

extension Divergence {
    /// KL(teacher ‖ model) at one position and whether both argmaxes agree.
    static func klAndAgreement(teacher: UnsafePointer<Float>, model: UnsafePointer<Float>, vocab V: Int) -> (Double, Bool) {
        let (lt, pt) = softmax(teacher, V), lm = softmax(model, V).log
        var kl = 0.0, bestT = 0, bestM = 0
        for v in 0..<V {
            let p = pt[v]
            if p > 0 { kl += p * (lt[v] - lm[v]) }
            if teacher[v] > teacher[bestT] { bestT = v }
            if model[v] > model[bestM] { bestM = v }
        }
        return (kl, bestT == bestM)
    }
}
