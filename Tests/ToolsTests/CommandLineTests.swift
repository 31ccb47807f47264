import Foundation
import Testing
import TestSupport

/// The `ckpt` binary end to end: exit codes (0 ok, 1 error, 2 usage) and one-line errors on stderr.
@Suite struct CommandLineTests {
    init() {}
    static let root = Repository.root

    /// The ckpt executable next to the test bundle (SwiftPM builds it because this target depends on it).
    static let binary: String = {
        var url = Bundle.main.bundleURL
        if url.pathExtension == "xctest" { url.deleteLastPathComponent() }
        return url.appendingPathComponent("ckpt").path
    }()

    /// `environment`: variables added to this process's for the run.
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (code: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func inspectSucceeds() throws {
        let r = try run(["inspect", Self.root + "/fixtures/formats/gguf/all_types.gguf", "--tensors"])
        #expect(r.code == 0)
        #expect(r.stdout.hasPrefix("format        gguf v3\n"))
        #expect(r.stderr.isEmpty)
    }

    @Test func inspectJSONParses() throws {
        let r = try run(["inspect", "--json", Self.root + "/fixtures/formats/safetensors/all_dtypes.safetensors"])
        #expect(r.code == 0)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(json?["format"] as? String == "safetensors")
        #expect(json?["tensor_count"] as? Int == 15)
    }

    @Test(arguments: ["gguf_tensor_count_2p63.gguf", "gguf_key_len_4g.gguf", "st_header_too_large.safetensors",
                      "gguf_data_past_eof.gguf", "st_offsets_gap.safetensors"])
    func badInputIsOneLineAndExitOne(_ name: String) throws {
        let path = Self.root + "/fixtures/formats/malformed/" + name
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("fixture \(name) missing")
            return
        }
        let r = try run(["inspect", path])
        #expect(r.code == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("error: "))
        #expect(r.stderr.filter { $0 == "\n" }.count == 1)
        #expect(r.stderr.contains(path))
        #expect(r.stderr.contains("offset"))
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try run(["inspect"]).code == 2)
        #expect(try run(["no-such-command"]).code == 2)
        #expect(try run(["--help"]).code == 0)
    }
}
