import Foundation
import Formats
import Testing

/// Inputs the fuzzers (Fuzz/, scripts/fuzz) found crashing a parser, kept in fixtures/formats/fuzz-found/: each
/// is now refused with a one-line FormatError. Named by what they broke.
@Suite struct FuzzRegressionTests {
    /// A zip64 end record whose central-directory offset and size are near 2^63: their sum overflowed
    /// (a trap) before the bounds check; now the directory is said to lie outside the file.
    @Test func zip64DirectoryFieldsDoNotOverflow() {
        let path = Fixtures.path("fuzz-found/zip64-directory-overflow.bin")
        #expect(throws: FormatError.self) { try TorchCheckpoint(path: path) }
        do {
            _ = try TorchCheckpoint(path: path)
        } catch {
            #expect("\(error)".contains("central directory") && "\(error)".contains(path) && !"\(error)".contains("\n"), "\(error)")
        }
    }
}
