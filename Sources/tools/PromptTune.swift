import ArgumentParser
import Distill
import Formats
import Foundation
import Model

struct PromptTune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompt-tune",
        abstract: "Train a soft prompt in front of a frozen model; export it as a PEFT adapter.",
        discussion: """
            P vectors are prepended to the input embeddings (positions 0..P-1, as PEFT does) and trained on \
            the response cross-entropy; the model's weights get no gradient and no optimizer state. \
            --prompt-init text:"…" (PromptKD: "Suppose you are a student."), vocab or random. Writes \
            RUN/adapter/ (adapter_config.json + adapter_model.safetensors, PROMPT_TUNING), metrics, plot and \
            checkpoints as finetune does. With --lora-rank, LoRA adapters train together with the prompt \
            (PEFT applies both): RUN/lora-adapter/ holds them as a PEFT LoRA adapter.
            """)

    @OptionGroup var training: TrainingArguments
    @Option(help: "Number of soft-prompt vectors.")
    var promptLen = 7
    @Option(help: "text:\"…\" (embedding rows of the text's tokens), vocab, or random.")
    var promptInit = "text:Suppose you are a student."
    @Flag(help: "No weight decay on the prompt.")
    var noPromptDecay = false
    @OptionGroup var loraOptions: LoRAArguments

    func initialization() throws -> SoftPrompt.Initialization { try Self.parseInit(promptInit) }

    static func parseInit(_ promptInit: String) throws -> SoftPrompt.Initialization {
        if promptInit.hasPrefix("text:") { return .text(String(promptInit.dropFirst(5))) }
        switch promptInit {
        case "vocab": return .vocabulary
        case "random": return .random
        default: throw ValidationError("--prompt-init must be text:\"…\", vocab or random")
        }
    }

    func run() throws {
        let initialization = try initialization()
        guard promptLen > 0 else { throw ValidationError("--prompt-len must be at least 1") }
        try training.prepareFolder()
        // The weights never train here: read as stored (a quantized GGUF stays quantized).
        let model = try TrainingModel(path: training.model, runFolder: training.out, frozen: true)
        guard promptLen < model.config.contextLength else {
            throw ValidationError("--prompt-len \(promptLen) leaves no room in the context of \(model.config.contextLength)")
        }
        var loraRNG = LoRAArguments.initializationRNG(seed: training.optimizer.seed)
        let lora = try loraOptions.adapters(for: model.config, rng: &loraRNG)
        let (train, dev) = try training.datasets(model, promptRows: promptLen)
        let mode = TrainingOptions.Mode.prompt(rows: promptLen, initialization: initialization, decay: !noPromptDecay)
        let options = try training.trainingOptions(mode: mode, defaultLR: 1e-3, trainCount: train.examples.count)
        var rng = SplitMix64(seed: options.seed)
        let prompt = try SoftPrompt.make(rows: promptLen, weights: model.weights, initialization: initialization,
                                         tokenizer: model.tokenizer, bos: model.bos, rng: &rng)
        let trainer = try Trainer(weights: model.weights, params: nil, prompt: prompt, lora: lora, train: train.examples, dev: dev?.examples ?? [],
                                  options: options, rng: rng)
        if let lora { Stderr.write(LoRAArguments.describe(lora, modelParameters: model.parameterCount) + "\n") }
        Stderr.write("prompt-tune: \(promptLen) × \(prompt.dim) = \(promptLen * prompt.dim) trainable values; "
            + "weight gradients allocated: \(trainer.gradients.count)\n")
        let summary = try training.train(trainer)
        let adapter = training.out + "/adapter"
        try PEFTPromptAdapter.write(prompt, to: adapter, .init(baseModel: training.model, initialization: initialization,
                                                              config: model.config), overwrite: true)
        var extra: [(String, JSONValue)] = [("adapter", .string(adapter))]
        if let lora {
            let folder = training.out + "/lora-adapter"
            let gguf = try LoRAAdapterFiles.write(lora, peftFolder: folder, baseModel: training.model)
            extra += [("lora_adapter", .string(folder)), ("lora_adapter_gguf", .string(gguf))]
        }
        try RunFolder.writeReport(summary.report(extra: extra), to: training.out)
    }
}
