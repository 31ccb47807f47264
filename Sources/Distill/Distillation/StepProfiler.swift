import Foundation
import Model

/// The PromptKD step, timed whole and then part by part on the same sequences (scripts/bench/distill; the
/// Distill issue's targets: whole ≤ 1.2× the sum of its parts alone, and the prompt's forward + backward
/// ≤ 1.1× a teacher forward + backward with weight gradients disabled).
///
/// After `Distiller.trainStep()` the parts run one by one on that step's batch: generating the same responses
/// (replayed through the sampler, so the decoding work is the same), the three teacher forwards (p_T, the
/// prompted q, the prompted q′), the prompt backward, the student forward, backward and AdamW, and the two
/// losses. Nothing the run keeps changes: the prompt gradient goes to scratch and the student's update runs
/// on a shadow optimizer with learning rate 0 (same arithmetic, weights untouched).
public final class StepProfiler {
    public struct Report: Sendable {
        public var whole: Double
        /// Seconds per part, in step order.
        public var parts: [(String, Double)]
        /// The prompted teacher's forward + backward to the prompt, and the same teacher's forward + backward
        /// without a prompt and without weight gradients (activation gradients only).
        public var promptForwardBackward: Double, frozenForwardBackward: Double
        public var sumOfParts: Double { parts.reduce(0) { $0 + $1.1 } }
        public var tokens: Int
        /// The real step's loss (what the metrics log would show).
        public var loss: Double
    }

    let distiller: Distiller
    let shadow: AdamW
    let scratchPrompt: UnsafeMutableBufferPointer<Float>

    public init(_ distiller: Distiller) throws(DistillError) {
        guard distiller.options.method.recipe.teacher == .promptedTeacher, let prompt = distiller.prompt else {
            throw .invalidOption(name: "--method", reason: "the step profile is for promptkd")
        }
        self.distiller = distiller
        shadow = AdamW(regions: distiller.studentOptimizer.regions, options: distiller.options.adam)
        scratchPrompt = .allocate(capacity: prompt.values.count)
    }

    deinit { scratchPrompt.deallocate() }

    /// One real step, then its parts alone.
    public func step() throws(DistillError) -> Report {
        let d = distiller, V = d.teacher.config.vocabSize, prompt = d.prompt!
        let start = Date()
        let report = try d.trainStep()
        let whole = Date().timeIntervalSince(start)
        let batch = d.lastBatch!
        var parts: [(String, Double)] = []
        @discardableResult
        func timed<T>(_ name: String, _ work: () throws(DistillError) -> T) throws(DistillError) -> T {
            let t0 = Date()
            let result = try work()
            parts.append((name, Date().timeIntervalSince(t0)))
            return result
        }

        // Generation of the step's responses (prompt = the tokens before the first target).
        let promptLengths = batch.isTarget.map { $0.firstIndex(of: true) ?? $0.count }
        let requests = zip(batch.sequences, promptLengths).map { sequence, n in
            var o = Sampler.Options()
            o.temperature = 1
            return Generation.Request(prompt: Array(sequence[..<n]), sampler: Sampler(o))
        }
        let responses = zip(batch.sequences, promptLengths).map { Array($0[$1...]) }
        func generate() throws(DistillError) {
            do {
                _ = try Generation.sample(d.inference(d.student), requests, maxNewTokens: responses.map(\.count).max() ?? 0,
                                          stop: [d.eos], replay: responses)
            } catch { throw .model(error) }
        }
        try timed("generate", generate)
        let pT = try timed("teacher_forward_pT") { () throws(DistillError) in try d.logits(d.teacher, batch.sequences) }
        let q = try timed("teacher_forward_q") { () throws(DistillError) in
            let pass = try d.makePass(d.teacher, batch.sequences, prompted: true, workspace: d.teacherWorkspace)
            pass.forward(prompt: UnsafePointer(prompt.values.baseAddress!))
            return pass
        }
        let promptForward = parts.last!.1
        let studentPass = try timed("student_forward") { () throws(DistillError) in
            let pass = try d.makePass(d.student, batch.sequences, prompted: false, workspace: d.studentWorkspace)
            pass.forward()
            return pass
        }
        try timed("loss_prompt") { () throws(DistillError) in
            try Distiller.applyLoss(q, batch, vocab: V) { s, t in
                [(.reverseKL, .logits(studentPass.logits + studentPass.row(sequence: s, token: t) * V), 1),
                 (.reverseKL, .logits(pT.row(s, t)), 0.5)]
            }
        }
        try timed("prompt_backward") { () throws(DistillError) in
            scratchPrompt.update(repeating: 0)
            q.backward(gradients: d.frozenTeacher, promptGradient: scratchPrompt.baseAddress)
        }
        let promptForwardBackward = promptForward + parts.last!.1
        try timed("teacher_forward_q2") { () throws(DistillError) in q.forward(prompt: UnsafePointer(prompt.values.baseAddress!)) }
        try timed("loss_student") { () throws(DistillError) in
            try Distiller.applyLoss(studentPass, batch, vocab: V) { s, t in [(.reverseKL, .logits(q.logits + q.row(sequence: s, token: t) * V), 1)] }
        }
        try timed("student_backward") { () throws(DistillError) in
            d.studentGradients.zero()
            studentPass.backward(gradients: d.studentGradients)
        }
        try timed("student_update") { () throws(DistillError) in
            _ = GradientClipping.clip(shadow.regions, maxNorm: d.options.maxGradNorm)
            shadow.update(lr: 0)
        }

        // The reference for the prompt's cost: the teacher without a prompt, activation gradients only, with a
        // logits gradient on the same rows (the response tokens) as the prompt loss.
        let t0 = Date()
        let frozen = try d.makePass(d.teacher, batch.sequences, prompted: false, workspace: d.teacherWorkspace)
        let logits = frozen.forward()
        for (row, target) in frozen.targets(isTarget: batch.isTarget).enumerated() {
            (logits + row * V).update(repeating: target >= 0 ? 1e-6 : 0, count: V)
        }
        frozen.backward(gradients: d.frozenTeacher)
        let frozenForwardBackward = Date().timeIntervalSince(t0)
        return Report(whole: whole, parts: parts, promptForwardBackward: promptForwardBackward,
                      frozenForwardBackward: frozenForwardBackward, tokens: batch.sequences.reduce(0) { $0 + $1.count }, loss: report.loss)
    }
}
