import Foundation
import Formats
import Testing
import TestSupport

/// Paths of the committed reference fixtures (fixtures/README.md says how each was made).
enum Fixtures {
    static let root = Repository.fixtures("formats")

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func json(_ relative: String) throws -> JSONValue {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path(relative))))
        return try JSONParser.parse(bytes)
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path(relative))))
    }

    /// A fresh empty folder under the system temporary directory.
    static func temporaryFolder() throws -> String { try Scratch.folder() }

    static func readFile(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// Runs `body` and returns the FormatError it throws (nil when it succeeds).
/// Any other error type is reported as a test failure.
func formatError(_ body: () throws -> Void) -> FormatError? {
    do {
        try body()
        return nil
    } catch let error as FormatError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

@Suite struct SHA256SelfTest {
    @Test func knownDigests() {
        #expect(SHA256Digest.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // 1000 bytes (Python's hashlib), whole and streamed in pieces that straddle the 64-byte blocks.
        let message = (0..<1000).map { UInt8($0 * 7 % 251) }
        #expect(SHA256Digest.hex(message) == "59425e4412e296fc74736673ce067027f384203f59c0d2c3e6be7b13347b3ffc")
        for piece in [1, 63, 64, 65, 333] {
            var hasher = SHA256Digest.Hasher()
            for start in stride(from: 0, to: message.count, by: piece) { hasher.update(Array(message[start..<min(message.count, start + piece)])) }
            #expect(hasher.finalize() == "59425e4412e296fc74736673ce067027f384203f59c0d2c3e6be7b13347b3ffc", "pieces of \(piece)")
        }
    }
}

