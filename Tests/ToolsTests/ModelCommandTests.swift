import Foundation
import Formats
import Testing

/// generate, perplexity and compare end to end on a tiny model (TinyModel), and their bad inputs: each is
/// one `error:` line naming the file and what is wrong, exit code 1.
@Suite struct ModelCommandTests {
    let cli = CommandLineTests()

    static let model: String = {
        let path = TinyModel.temporaryPath("tiny.gguf")
        try? TinyModel.write(to: path)
        return path
    }()

    static func text(_ words: Int) throws -> String {
        let path = TinyModel.temporaryPath("text.txt")
        let sentence = "the quick brown fox jumps over the lazy dog and it is fine. "
        try String(repeating: sentence, count: words / 12 + 1).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func generateUsesTheGGUFVocabulary() throws {
        let ids = TinyModel.temporaryPath("ids.json")
        let r = try cli.run(["generate", Self.model, "--prompt", "Hello world", "-n", "4", "--ids-out", ids])
        #expect(r.code == 0, "\(r.stderr)")
        let golden = try JSONFile.read(CommandLineTests.root + "/fixtures/hf/tokenizer_expected.json")["cases"]?.arrayValue?
            .first { $0["text"]?.stringValue == "Hello world" }?["bpe"]?["ids"]
        #expect(try JSONFile.read(ids) == golden)
        #expect(r.stderr.contains("decode"))
    }

    /// `-n 0` decodes nothing: the decode loop draws no token when a request has no room.
    @Test func generateZeroTokensPrintsNone() throws {
        let r = try cli.run(["generate", Self.model, "--prompt", "Hello world", "-n", "0", "--temp", "0"])
        #expect(r.code == 0 && r.stdout == "\n", "\(r.stdout.debugDescription) \(r.stderr)")
        #expect(r.stderr.contains("decode 0 tokens"))
    }

    @Test func chatNeedsATemplate() throws {
        #expect(try cli.run(["generate", Self.model, "--chat", "Hi", "-n", "2"]).code == 0)
        let bare = TinyModel.temporaryPath("bare.gguf")
        try TinyModel.write(to: bare, template: false)
        let r = try cli.run(["generate", bare, "--chat", "Hi", "-n", "2"])
        #expect(r.code == 1)
        #expect(r.stderr.contains("chat template: the model has none (\(bare))") && r.stderr.contains("hint: use --raw"))
        #expect(try cli.run(["generate", bare, "--chat", "Hi", "--raw", "-n", "2"]).code == 0)
    }

    @Test func promptLongerThanTheContext() throws {
        let r = try cli.run(["generate", Self.model, "--prompt", String(repeating: "hello world ", count: 80), "-n", "1"])
        #expect(r.code == 1)
        #expect(r.stderr.hasPrefix("error: generate: the prompt has ") && r.stderr.contains("the context is 64"))
    }

    @Test func perplexityRunsAndRefusesShortTexts() throws {
        let long = try Self.text(400)
        let ok = try cli.run(["perplexity", Self.model, "-f", long, "--ctx", "16"])
        #expect(ok.code == 0, "\(ok.stderr)")
        #expect(ok.stdout.hasPrefix("[1]") && ok.stdout.contains("Final estimate: PPL = "))
        let short = try Self.text(5)
        let r = try cli.run(["perplexity", Self.model, "-f", short, "--ctx", "32"])
        #expect(r.code == 1)
        #expect(r.stderr.contains("'\(short)' has ") && r.stderr.contains("a context of 32 needs at least 64"))
        #expect(try cli.run(["perplexity", Self.model, "-f", long, "--ctx", "128"]).stderr.contains("exceeds the model's context of 64"))
    }

    @Test func compareOfAModelWithItself() throws {
        let r = try cli.run(["compare", Self.model, Self.model, "-f", try Self.text(400), "--ctx", "16", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let report = try JSONParser.parse(Array(r.stdout.utf8))
        #expect(report["schema"]?.stringValue == "ckpt.compare/1")
        #expect(report["kld_mean"]?["value"]?.doubleValue.map { abs($0) < 1e-9 } == true)
        #expect(report["same_top"]?["value"]?.doubleValue == 1)
    }

    @Test func compareRefusesAnotherVocabulary() throws {
        let other = TinyModel.temporaryPath("other.gguf")
        try TinyModel.write(to: other) { metadata, _ in
            guard let i = metadata.firstIndex(where: { $0.key == "tokenizer.ggml.tokens" }),
                  case .array(let a) = metadata[i].value, var tokens = try? a.stringValues() else { return }
            tokens[300] = "renamed"
            metadata[i].value = .array(GGUFArray(.string, tokens.map { .string($0) }))
        }
        let r = try cli.run(["compare", Self.model, other, "-f", try Self.text(400), "--ctx", "16"])
        #expect(r.code == 1 && r.stderr.contains("has another vocabulary"))
    }

    @Test func missingAndMisshapenTensorsAreNamed() throws {
        let missing = TinyModel.temporaryPath("missing.gguf")
        try TinyModel.write(to: missing) { _, tensors in tensors.removeAll { $0.name == "blk.1.ffn_down.weight" } }
        let r = try cli.run(["generate", missing, "--prompt", "hi", "-n", "1"])
        #expect(r.code == 1 && r.stderr.contains("1 tensor(s) missing: 'blk.1.ffn_down.weight' (\(missing))"))

        let misshapen = TinyModel.temporaryPath("misshapen.gguf")
        try TinyModel.write(to: misshapen) { _, tensors in
            let i = tensors.firstIndex { $0.name == "blk.0.attn_k.weight" }!
            tensors[i] = RawTensor(name: tensors[i].name, dtype: .f32, shape: [8, 32], data: ByteView(owned: [UInt8](repeating: 0, count: 8 * 32 * 4)))
        }
        let s = try cli.run(["perplexity", misshapen, "-f", try Self.text(400), "--ctx", "16"])
        #expect(s.code == 1 && s.stderr.contains("tensor 'blk.0.attn_k.weight' has shape [8, 32], the config needs [16, 32]"))
    }

    @Test func unsupportedTokenizerIsNamed() throws {
        let bert = TinyModel.temporaryPath("bert.gguf")
        try TinyModel.write(to: bert) { metadata, _ in
            let i = metadata.firstIndex { $0.key == "tokenizer.ggml.model" }!
            metadata[i].value = .string("bert")
        }
        let r = try cli.run(["generate", bert, "--prompt", "hi"])
        #expect(r.code == 1 && r.stderr.contains("'tokenizer.ggml.model' 'bert' is not supported") && r.stderr.contains(bert))
    }

    /// `ckpt tokenize VOCAB --strings-file X.inp --no-special` prints llama.cpp's .out file (ids per line).
    @Test func tokenizeRunsLlamaCppSuiteFiles() throws {
        let models = TestDataFolder.path + "/llama.cpp/models/"
        for name in ["qwen2", "llama-spm"] {
            let r = try cli.run(["tokenize", models + "ggml-vocab-\(name).gguf", "--strings-file", models + "ggml-vocab-\(name).gguf.inp",
                                 "--no-special"])
            let expected = try String(contentsOfFile: models + "ggml-vocab-\(name).gguf.out", encoding: .utf8)
            #expect(r.code == 0 && r.stdout == expected, "\(name)")
        }
    }

    @Test func unknownPreTokenizerIsNamedWithTheKnownOnes() throws {
        let odd = TinyModel.temporaryPath("odd-pre.gguf")
        try TinyModel.write(to: odd) { metadata, _ in
            let i = metadata.firstIndex { $0.key == "tokenizer.ggml.pre" }!
            metadata[i].value = .string("no-such-pre")
        }
        let r = try cli.run(["tokenize", odd, "--text", "hi"])
        #expect(r.code == 1 && r.stderr.contains("pre-tokenizer 'no-such-pre' is unknown; known: ") && r.stderr.contains("llama-bpe"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
    /// `ckpt chat-template T.jinja --messages M.json` prints jinja2's rendering (fixtures/chat, SmolLM2's and
    /// Llama 3's templates as transformers renders them); a syntax error is one line with line and column.
    @Test func chatTemplateCommandRendersLikeJinja2() throws {
        let golden = try JSONFile.read(CommandLineTests.root + "/fixtures/chat/expected.json")["templates"]
        for name in ["smollm2", "llama3"] {
            let entry = try #require(golden?[name])
            let template = TinyModel.temporaryPath("\(name).jinja"), messages = TinyModel.temporaryPath("\(name)-messages.json")
            try (entry["template"]?.stringValue ?? "").write(toFile: template, atomically: true, encoding: .utf8)
            for c in entry["cases"]?.arrayValue ?? [] {
                try JSONWriter.compact(c["messages"] ?? .null).write(toFile: messages, atomically: true, encoding: .utf8)
                let r = try cli.run(["chat-template", template, "--messages", messages, "--bos", entry["bos_token"]?.stringValue ?? "",
                                     "--eos", entry["eos_token"]?.stringValue ?? ""]
                                    + (c["add_generation_prompt"]?.boolValue == true ? ["--add-generation-prompt"] : []))
                #expect(r.code == 0 && r.stdout == c["text"]?.stringValue, "\(name)")
            }
        }
        let bad = TinyModel.temporaryPath("bad.jinja"), messages = TinyModel.temporaryPath("m.json")
        try "{% for m in messages %}\n{{ m.content }\n".write(toFile: bad, atomically: true, encoding: .utf8)
        try "[]".write(toFile: messages, atomically: true, encoding: .utf8)
        let r = try cli.run(["chat-template", bad, "--messages", messages])
        #expect(r.code == 1 && r.stderr.hasPrefix("error: chat template: line 2, column ") && r.stderr.split(separator: "\n").count == 1)
    }
}

/// scripts/fetch-test-data's folder (make test fetches it).
enum TestDataFolder {
    static var path: String {
        (ProcessInfo.processInfo.environment["CKPT_CACHE"] ?? (NSHomeDirectory() + "/.cache/ckpt")) + "/test-data-1"
    }
}
