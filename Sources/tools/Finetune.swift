import ArgumentParser
import Convert
import Distill
import Formats
import Foundation
import Model

struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Supervised fine-tuning (SFT) of every weight, or of LoRA adapters, on instruction data.",
        discussion: """
            The loss is the cross-entropy of the response tokens and EOS (the prompt is context only), averaged \
            over the batch's target tokens. AdamW (decoupled decay, none on biases and norms), global-norm \
            clipping, warmup then a cosine/linear/constant schedule. No dropout. Writes RUN/metrics.jsonl, \
            RUN/loss.svg, RUN/checkpoints/ (resume with --resume RUN) and RUN/model.gguf (F32), with --export TYPE \
            RUN/model-TYPE.gguf and with --hf RUN/hf/. With --lora-rank the weights stay frozen and only LoRA \
            adapters train (checkpoints hold only them), the base read as stored (a quantized GGUF trains as QLoRA): RUN/adapter/ \
            is a PEFT LoRA adapter, RUN/lora-adapter.gguf the same for llama.cpp, and RUN/model.gguf \
            (the base with the adapter merged) is written only for --export or --hf. `ckpt sft` is the same command.
            """,
        aliases: ["sft"])

    @OptionGroup var training: TrainingArguments
    @OptionGroup var exports: ExportArguments
    @OptionGroup var loraOptions: LoRAArguments

    func run() throws {
        try exports.checkType()
        try training.prepareFolder()
        // With LoRA the base is frozen and read as stored: a quantized GGUF trains as QLoRA.
        let model = try TrainingModel(path: training.model, runFolder: training.out, frozen: loraOptions.enabled)
        var rng = SplitMix64(seed: training.optimizer.seed)
        let lora = try loraOptions.adapters(for: model.config, rng: &rng)
        let (train, dev) = try training.datasets(model, promptRows: 0)
        try exports.checkHeldOut(devCount: dev?.examples.count ?? 0)
        let options = try training.trainingOptions(mode: .full, defaultLR: loraOptions.enabled ? 2e-4 : 5e-5,
                                                   trainCount: train.examples.count)
        let trainer = try Trainer(weights: model.weights, params: model.frozen ? nil : model.params, prompt: nil, lora: lora, train: train.examples, dev: dev?.examples ?? [],
                                  options: options, rng: rng)
        let memory = (trainer.gradients.count + (lora?.count ?? 0) + 2 * trainer.optimizer.regions.reduce(0) { $0 + $1.count }) * 4
        if let lora { Stderr.write(LoRAArguments.describe(lora, modelParameters: model.parameterCount) + "\n") }
        Stderr.write(String(format: "finetune: %d parameters, gradients + AdamW moments %.0f MB\n",
                            model.parameterCount, Double(memory) / 1e6))
        let summary = try training.train(trainer)
        var extra: [(String, JSONValue)] = []
        // With LoRA the weights are written (merged) only when an export asks for them.
        let writeModel = lora == nil || exports.requested
        if let lora {
            let adapter = training.out + "/adapter"
            let gguf = try LoRAAdapterFiles.write(lora, peftFolder: adapter, gguf: training.out + "/" + GGUFLoRAAdapter.fileName,
                                                  baseModel: training.model)
            extra += [("adapter", .string(adapter)), ("lora_adapter_gguf", .string(gguf))]
            if writeModel { lora.merge(into: model.params) }
        }
        if writeModel {
            let output = training.out + "/model.gguf"
            try GGUFExport.write(model.params, source: model.gguf, to: output, overwrite: true)
            extra += [("model", JSONValue.string(output))] + (try exports.write(from: output, stem: "model", folder: training.out, calibration: train.examples.map(\.tokens),
                                                                                     heldOut: dev?.examples.map(\.tokens) ?? []))
        }
        try RunFolder.writeReport(summary.report(extra: extra), to: training.out)
    }
}
