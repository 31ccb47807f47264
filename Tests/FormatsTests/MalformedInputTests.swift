import Formats
import Testing

/// Every rejection rule has a malformed fixture (fixtures/formats/malformed/manifest.json names the file and
/// the expected error case); reading it must throw exactly that case, never crash or allocate wildly.
@Suite struct MalformedInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var file: String
        var format: String
        var error: String
        var testDescription: String { "\(file) -> \(error)" }
    }

    static let cases: [Case] = {
        guard let manifest = try? Fixtures.json("malformed/manifest.json").arrayValue else { return [] }
        return manifest.compactMap { item in
            guard let file = item["file"]?.stringValue, let format = item["format"]?.stringValue,
                  let error = item["error"]?.stringValue else { return nil }
            return Case(file: file, format: format, error: error)
        }
    }()

    @Test func manifestIsLoaded() {
        #expect(Self.cases.count > 40)
    }

    @Test(arguments: cases)
    func rejectedWithTheExactCase(_ c: Case) {
        let path = Fixtures.path(c.file)
        let error = formatError {
            if c.format == "gguf" { _ = try GGUFFile(path: path) } else { _ = try SafetensorsFile(path: path) }
        }
        #expect(error?.kind == c.error, "\(String(describing: error))")
        if let error {
            // One line, naming the file.
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains(path))
            // Names where: an offset, or the sizes that disagree.
            #expect(error.description.contains("offset") || error.kind == "fileLengthMismatch", "\(error)")
        }
    }

    /// `ckpt inspect` detects the same files by content and reports the same error.
    @Test(arguments: cases)
    func inspectReportsTheSameError(_ c: Case) {
        let error = formatError { _ = try CheckpointSummary.read(Fixtures.path(c.file)) }
        #expect(error != nil)
    }
}
