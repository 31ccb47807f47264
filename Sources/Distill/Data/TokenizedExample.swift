import Model

/// An example as the trainer sees it: prompt tokens then response tokens and EOS; the loss is on the
/// tokens from `promptLength` on (response + EOS only, promptkd.md §6).
public struct TokenizedExample: Sendable, Equatable {
    public var tokens: [Int]
    public var promptLength: Int
    public init(tokens: [Int], promptLength: Int) {
        self.tokens = tokens
        self.promptLength = promptLength
    }

    /// Token t is a target (predicted from position t − 1).
    public var isTarget: [Bool] { tokens.indices.map { $0 >= promptLength } }
    public var targetCount: Int { tokens.count - promptLength }
}

/// A JSONL file tokenized the MiniLLM way: response tokens are encode(prompt + response) after the first
/// len(encode(prompt)) tokens, then EOS; no special tokens are added or parsed. Prompts over
/// `maxPromptLength` tokens are skipped (and counted); sequences over `maxLength` lose their tail.
public struct TokenizedDataset: Sendable {
    public var examples: [TokenizedExample]
    /// The source examples, aligned with `examples` (generation needs the prompt text and references).
    public var sources: [InstructionExample]
    public var skippedLongPrompts: Int
    public var truncated: Int

    public init(path: String, tokenizer: any Tokenizer, eos: Int, maxPromptLength: Int, maxLength: Int) throws(DistillError) {
        try self.init(InstructionExample.load(path: path), path: path, tokenizer: tokenizer, eos: eos,
                      maxPromptLength: maxPromptLength, maxLength: maxLength)
    }

    public init(_ items: [InstructionExample], path: String, tokenizer: any Tokenizer, eos: Int, maxPromptLength: Int,
                maxLength: Int) throws(DistillError) {
        examples = []
        sources = []
        skippedLongPrompts = 0
        truncated = 0
        for item in items {
            let prompt = tokenizer.encode(item.prompt, special: item.parseSpecial)
            guard prompt.count <= maxPromptLength, prompt.count < maxLength else {
                skippedLongPrompts += 1
                continue
            }
            let full = tokenizer.encode(item.prompt + item.response, special: item.parseSpecial)
            var tokens = prompt + full.dropFirst(prompt.count) + [eos]
            if tokens.count > maxLength {
                tokens.removeLast(tokens.count - maxLength)
                truncated += 1
            }
            examples.append(TokenizedExample(tokens: tokens, promptLength: prompt.count))
            sources.append(item)
        }
        guard !examples.isEmpty else {
            throw .emptyData(path: path, reason: "all \(items.count) prompt(s) are longer than --max-prompt-length \(maxPromptLength)")
        }
    }
}
