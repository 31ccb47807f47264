import ArgumentParser
import Convert
import Distill
import Formats
import Foundation
import Model

struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Supervised fine-tuning (SFT) of every weight on instruction data.",
        discussion: """
            The loss is the cross-entropy of the response tokens and EOS (the prompt is context only), averaged \
            over the batch's target tokens. AdamW (decoupled decay, none on biases and norms), global-norm \
            clipping, warmup then a cosine/linear/constant schedule. No dropout. Writes RUN/metrics.jsonl, \
            RUN/loss.svg, RUN/checkpoints/ (resume with --resume RUN) and RUN/model.gguf (F32), with --export TYPE \
            RUN/model-TYPE.gguf and with --hf RUN/hf/.
            """)

    @OptionGroup var training: TrainingArguments
    @OptionGroup var exports: ExportArguments

    func run() throws {
        try exports.checkType()
        try training.prepareFolder()
        let model = try TrainingModel(path: training.model, runFolder: training.out)
        let (train, dev) = try training.datasets(model, promptRows: 0)
        let options = try training.trainingOptions(mode: .full, defaultLR: 5e-5, trainCount: train.examples.count)
        let trainer = try Trainer(params: model.params, prompt: nil, train: train.examples, dev: dev?.examples ?? [],
                                  options: options, rng: SplitMix64(seed: options.seed))
        let memory = (trainer.gradients.count + 2 * trainer.optimizer.regions.reduce(0) { $0 + $1.count }) * 4
        Stderr.write(String(format: "finetune: %d parameters, gradients + AdamW moments %.0f MB\n",
                            model.params.count, Double(memory) / 1e6))
        let summary = try training.train(trainer)
        let output = training.out + "/model.gguf"
        try GGUFExport.write(model.params, source: model.gguf, to: output, overwrite: true)
        let extra = [("model", JSONValue.string(output))] + (try exports.write(from: output, stem: "model", folder: training.out))
        try RunFolder.writeReport(summary.report(extra: extra), to: training.out)
    }
}
