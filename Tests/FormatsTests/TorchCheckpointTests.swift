import Foundation
import Formats
import Testing
import TestSupport

/// PyTorch checkpoints written by torch.save (fixtures/make_hf.py) read without executing anything: the
/// tensors equal the same model's safetensors bytes; a pickle that would call os.system is refused with
/// the global named and its marker file never appears; the legacy non-zip format gets a clear error.
@Suite struct TorchCheckpointTests {
    static let hf = Repository.fixtures("hf")

    @Test(arguments: ["gpt2", "llama-gqa", "llama-tied"])
    func tensorsEqualTheSafetensorsOnes(_ model: String) throws {
        let torch = try TorchCheckpoint(path: Self.hf + "/\(model)/bin/pytorch_model.bin")
        let safe = try SafetensorsFile(path: Self.hf + "/\(model)/safetensors/model.safetensors")
        let reference = Dictionary(uniqueKeysWithValues: safe.tensors.map { ($0.name, $0) })
        var matched = 0
        for t in torch.tensors {
            guard let r = reference[t.name] else {
                #expect(t.name == "lm_head.weight", "only the tied head is absent from safetensors: \(t.name)")
                continue
            }
            #expect(t.dtype == r.dtype && t.shape == r.shape && t.data.array == r.data.array, "\(model): \(t.name)")
            matched += 1
        }
        #expect(matched == reference.count)
    }

    @Test func maliciousPickleIsRefusedAndNothingRuns() throws {
        let marker = "/tmp/ckpt_pwned_marker"
        try? FileManager.default.removeItem(atPath: marker)
        let path = Self.hf + "/malicious/pytorch_model.bin"
        #expect {
            _ = try TorchCheckpoint(path: path)
        } throws: { error in
            guard let e = error as? FormatError, case .unsafePickle(_, let global, _) = e else { return false }
            return global == "posix.system" && e.description.contains("nothing was executed")
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func legacyFormatIsNamed() {
        #expect {
            _ = try TorchCheckpoint(path: Self.hf + "/legacy/pytorch_model.bin")
        } throws: { error in
            "\(error)".contains("legacy (pre-1.6, non-zip) torch.save file")
        }
    }

    @Test func truncatedArchivesAreErrorsNotCrashes() throws {
        let bytes = try Fixtures.readFile(Self.hf + "/llama-gqa/bin/pytorch_model.bin")
        let folder = try Fixtures.temporaryFolder()
        for cut in stride(from: 4, to: bytes.count, by: max(1, bytes.count / 97)) {
            let path = folder + "/cut.bin"
            try Fixtures.writeFile(path, Array(bytes.prefix(cut)))
            #expect(throws: FormatError.self) { _ = try TorchCheckpoint(path: path) }
        }
    }
}
