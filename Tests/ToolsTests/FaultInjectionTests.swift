import Foundation
import Testing

/// NaN and Inf put into weights, activations and gradients on purpose (CKPT_INJECT_FAULT): every site is a
/// named one-line error at the step it happened, nothing is exported, the last good checkpoint is kept, and
/// resuming from it without the fault ends where a run that never failed ends, byte for byte.
@Suite struct FaultInjectionTests {
    let cli = CommandLineTests()
    let distill = DistillCommandTests()

    func finetune(_ model: String, _ data: String, out: String, fault: String? = nil, resume: Bool = false) throws -> (code: Int32, stdout: String, stderr: String) {
        try cli.run(["finetune", model, "--data", data, "--batch-size", "2", "--lr", "1e-3", "--schedule", "constant", "--seed", "3",
                     "--steps", "4", "--save-every", "1", "--out", out] + (resume ? ["--resume", out] : []),
                    environment: fault.map { ["CKPT_INJECT_FAULT": $0] } ?? [:])
    }

    @Test func finetuneStopsAtTheFaultAndResumesExactly() throws {
        let model = TinyModel.temporaryPath("tiny.gguf"), data = try TrainingCommandTests.dataFile()
        try TinyModel.write(to: model)
        let straight = TinyModel.temporaryPath("straight")
        #expect(try finetune(model, data, out: straight).code == 0)
        let expected: [(fault: String, quantity: String)] = [
            ("weights:3", "the training loss is nan"), ("activations:3", "the training loss is nan"),
            ("gradients:3", "the gradient norm is nan"), ("gradients:3:inf", "the gradient norm is inf"),
        ]
        for (fault, quantity) in expected {
            let out = TinyModel.temporaryPath("fault")
            let r = try finetune(model, data, out: out, fault: fault)
            #expect(r.code == 1)
            #expect(r.stderr.hasSuffix("\nerror: training diverged at step 3: \(quantity); the last good checkpoint is \(out)/checkpoints/step-000002\n"),
                    "\(fault): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + "/model.gguf"))
            let resumed = try finetune(model, data, out: out, resume: true)
            #expect(resumed.code == 0, "\(resumed.stderr)")
            let a = FileManager.default.contents(atPath: straight + "/model.gguf"), b = FileManager.default.contents(atPath: out + "/model.gguf")
            #expect(a != nil && a == b, "\(fault): the resumed run differs from the uninterrupted one")
        }
        let bad = try finetune(model, data, out: TinyModel.temporaryPath("bad"), fault: "logits:3")
        #expect(bad.code == 1 && bad.stderr.contains("CKPT_INJECT_FAULT='logits:3' is not SITE:STEP"), "\(bad.stderr)")
    }

    /// KD has two loss terms (cross-entropy, then the teacher KL); PromptKD updates its prompt before the student.
    @Test func distillNamesTheQuantityAndKeepsTheCheckpoint() throws {
        let s = try distill.student(), data = try TrainingCommandTests.dataFile()
        let expected: [(method: String, fault: String, quantity: String)] = [
            ("kd", "weights:2", "the student loss (term 1 of 2) is nan"),
            ("kd", "activations:2", "the student loss (term 1 of 2) is nan"),
            ("kd", "gradients:2", "the student gradient norm is nan"),
            ("promptkd", "weights:2", "the prompt loss is nan"),
            ("promptkd", "gradients:2:inf", "the student gradient norm is inf"),
        ]
        for (method, fault, quantity) in expected {
            let out = TinyModel.temporaryPath("distill-fault")
            let r = try cli.run(distill.common(s, data) + ["--method", method, "--out", out, "--steps", "3", "--save-every", "1"],
                                environment: ["CKPT_INJECT_FAULT": fault])
            #expect(r.code == 1)
            #expect(r.stderr.hasSuffix("\nerror: training diverged at step 2: \(quantity); the last good checkpoint is \(out)/checkpoints/step-000001\n"),
                    "\(method) \(fault): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + "/student.gguf"))
            #expect(FileManager.default.fileExists(atPath: out + "/checkpoints/step-000001"))
        }
    }
}
