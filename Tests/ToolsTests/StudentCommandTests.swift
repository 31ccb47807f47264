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

    @Test func badLayersAreRefused() throws {
        let teacherPath = TinyModel.temporaryPath("teacher.gguf")
        try TinyModel.write(to: teacherPath)
        let outside = try cli.run(["student", "init", "--from", teacherPath, "--layers", "0,2", "--out", TinyModel.temporaryPath("s.gguf")])
        #expect(outside.code == 1 && outside.stderr == "error: option --layers: layer 2 is outside the teacher's 0...1\n", "\(outside.stderr)")
        let order = try cli.run(["student", "init", "--from", teacherPath, "--layers", "1,0", "--out", TinyModel.temporaryPath("s.gguf")])
        #expect(order.code == 1 && order.stderr == "error: option --layers: 1,0 is not increasing without repeats\n", "\(order.stderr)")
        let both = try cli.run(["student", "init", "--from", teacherPath, "--layers", "1", "--keep-every", "2", "--out", "x"])
        #expect(both.code == 2)
    }
}
