import Foundation
import Formats
import Model
import Testing

/// `ckpt student init`: the layer-dropped student holds exactly the teacher's embeddings, chosen blocks
/// (renumbered) and head, so its logits equal a transformer built from those teacher slots; bad choices of
/// layers are one-line errors.
@Suite struct StudentCommandTests {
    let cli = CommandLineTests()

    @Test func keepsTheChosenBlocks() throws {
        let teacherPath = TinyModel.temporaryPath("teacher.gguf"), studentPath = TinyModel.temporaryPath("student.gguf")
        try TinyModel.write(to: teacherPath)
        let r = try cli.run(["student", "init", "--from", teacherPath, "--layers", "1", "--out", studentPath])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("student: 1 of 2 layers (1), "))
        let student = try GGUFFile(file: MappedFile(path: studentPath))
        #expect(student["llama.block_count"]?.integerValue == 1)
        #expect(!student.tensorInfos.contains { $0.name.hasPrefix("blk.1.") })

        // The same model assembled slot by slot from the teacher.
        let teacher = try ParameterSet.load(gguf: GGUFFile(file: MappedFile(path: teacherPath)))
        var config = teacher.config
        config.layerCount = 1
        let expected = ParameterSet(config: config)
        for key in expected.keys {
            let source = teacher.pointer(key.slot, layer: key.layer.map { _ in 1 })
            expected.pointer(key.slot, layer: key.layer).update(from: source, count: expected.layout[key]!.shape.reduce(1, *))
        }
        let tokens = [5, 17, 42, 99, 7]
        let want = try Transformer(expected).logits(tokens)
        let got = try Transformer(ParameterSet.load(gguf: student)).logits(tokens)
        #expect(got == want)
    }

    /// A fresh student from an HF config: the config reads back from the GGUF, the teacher's vocabulary is
    /// kept, norms start at 1 and matrices at N(0, 0.02); a config with another vocabulary size is refused.
    @Test(arguments: ["llama-tied", "gpt2"])
    func freshFromConfig(_ name: String) throws {
        let teacherPath = TinyModel.temporaryPath("teacher.gguf"), out = TinyModel.temporaryPath("fresh.gguf")
        try TinyModel.write(to: teacherPath)
        let configPath = CommandLineTests.root + "/fixtures/hf/\(name)/safetensors/config.json"
        let r = try cli.run(["student", "init", "--from", teacherPath, "--config", configPath, "--out", out])
        #expect(r.code == 0, "\(r.stderr)")
        let gguf = try GGUFFile(file: MappedFile(path: out))
        let want = try TransformerConfig(huggingFace: JSONFile.read(configPath), path: configPath)
        let params = try ParameterSet.load(gguf: gguf)
        #expect(params.config == want)
        let teacher = try GGUFFile(file: MappedFile(path: teacherPath))
        #expect(try gguf["tokenizer.ggml.tokens"]?.arrayValue?.stringValues() == teacher["tokenizer.ggml.tokens"]?.arrayValue?.stringValues())
        let norm = params.pointer(.outputNorm), wte = params.pointer(.tokenEmbedding), n = want.vocabSize * want.embeddingSize
        #expect((0..<want.embeddingSize).allSatisfy { norm[$0] == 1 })
        let std = ((0..<n).reduce(0.0) { $0 + Double(wte[$1] * wte[$1]) } / Double(n)).squareRoot()
        #expect(abs(std - 0.02) < 0.002, "embedding std \(std)")
        #expect(try cli.run(["generate", out, "--prompt", "the pieces", "-n", "2"]).code == 0)
    }

    @Test func badLayersAreRefused() throws {
        let teacherPath = TinyModel.temporaryPath("teacher.gguf")
        try TinyModel.write(to: teacherPath)
        let outside = try cli.run(["student", "init", "--from", teacherPath, "--layers", "0,2", "--out", TinyModel.temporaryPath("s.gguf")])
        #expect(outside.code == 1 && outside.stderr == "error: option --layers: layer 2 is outside the teacher's 0...1\n", "\(outside.stderr)")
        let order = try cli.run(["student", "init", "--from", teacherPath, "--layers", "1,0", "--out", TinyModel.temporaryPath("s.gguf")])
        #expect(order.code == 1 && order.stderr == "error: option --layers: 1,0 is not increasing without repeats\n", "\(order.stderr)")
        let both = try cli.run(["student", "init", "--from", teacherPath, "--layers", "1", "--keep-every", "2", "--out", "x"])
        #expect(both.code == 2)
        let config = TinyModel.temporaryPath("config.json")
        let text = try String(contentsOfFile: CommandLineTests.root + "/fixtures/hf/gpt2/safetensors/config.json", encoding: .utf8)
            .replacingOccurrences(of: "\"vocab_size\": 320", with: "\"vocab_size\": 400")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let vocab = try cli.run(["student", "init", "--from", teacherPath, "--config", config, "--out", TinyModel.temporaryPath("s.gguf")])
        #expect(vocab.code == 1 && vocab.stderr == "error: option --config: vocab_size 400, the teacher's vocabulary has 320 tokens\n", "\(vocab.stderr)")
    }
}
