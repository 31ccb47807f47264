import Foundation
import Testing
import TestSupport

/// Writes that fail part-way (a full disk, as scripts/soak provokes with a small tmpfs; here a file-size limit,
/// RLIMIT_FSIZE with SIGXFSZ ignored, so that every write past it fails with EFBIG): a one-line error, exit 1,
/// and nothing left behind — no temporary file, no partial checkpoint folder.
@Suite struct WriteFailureTests {
    let cli = CommandLineTests()

    /// `ckpt arguments…` with files limited to `kib` KiB.
    func runLimited(_ kib: Int, _ arguments: [String]) throws -> (code: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f \(kib); exec \"$0\" \"$@\"", CommandLineTests.binary] + arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }

    func contents(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    @Test func quantizeAndConvertLeaveNothing() throws {
        let model = TinyModel.temporaryPath("tiny.gguf")
        try TinyModel.write(to: model)
        let folder = try Scratch.folder("limited")
        let q = try runLimited(16, ["quantize", model, folder + "/q.gguf", "Q8_0"])
        #expect(q.code == 1)
        #expect(q.stderr.hasSuffix("write failed: File too large\n") && q.stderr.contains("error: \(folder)/.q.gguf.tmp-"), "\(q.stderr)")
        let hf = try runLimited(16, ["convert", model, folder + "/hf"])
        #expect(hf.code == 1 && hf.stderr.hasPrefix("error: ") && hf.stderr.hasSuffix("File too large\n"), "\(hf.stderr)")
        #expect(contents(folder) == [], "left behind: \(contents(folder))")
    }

    @Test func trainingLeavesNoPartialCheckpoint() throws {
        let model = TinyModel.temporaryPath("tiny.gguf"), data = try TrainingCommandTests.dataFile()
        try TinyModel.write(to: model)
        let run = try Scratch.folder("limited-run")
        let r = try runLimited(16, ["finetune", model, "--data", data, "--out", run, "--steps", "2", "--save-every", "1",
                                    "--batch-size", "2"])
        #expect(r.code == 1)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(lines.count == 1 && lines[0].hasSuffix("write failed: File too large")
                && lines[0].contains("/checkpoints/.step-000001.partial/"), "\(r.stderr)")
        #expect(contents(run + "/checkpoints") == [], "left behind: \(contents(run + "/checkpoints"))")
        #expect(!contents(run).contains { $0.hasPrefix(".") }, "\(contents(run))")
    }
}
