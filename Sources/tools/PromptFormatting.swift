import ArgumentParser
import Distill
import Formats
import Model

/// `--chat-template` of eval, distill, finetune and prompt-tune: prompts through the model's own chat
/// template (the instruction, then the input, as the user's message; the assistant's header after it)
/// instead of the Dolly template the PromptKD protocol prescribes (the default, for comparable numbers).
enum PromptFormatting {
    static let help: ArgumentHelp = "Format prompts with the model's own chat template (the instruction as the user's message) instead of the PromptKD protocol's Dolly template."

    static func apply(_ examples: [InstructionExample], gguf: GGUFFile, bosAdded: Bool) throws -> [InstructionExample] {
        let template = try ChatTemplate(gguf: gguf)
        return try examples.map { try $0.formatted(with: template, bosAdded: bosAdded) }
    }
}
