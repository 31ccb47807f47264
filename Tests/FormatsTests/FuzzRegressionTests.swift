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

    /// A deflated entry declaring 1.4 GB inflated from a few hundred bytes: the size was allocated before
    /// inflating (an unbounded allocation); now refused as more than deflate's 1032:1 can produce.
    @Test func deflateSizeLieAllocatesNothing() {
        let path = Fixtures.path("fuzz-found/deflate-size-lie.bin")
        do {
            _ = try TorchCheckpoint(path: path)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("more than deflate can produce") && !"\(error)".contains("\n"), "\(error)")
        }
    }

    /// A zip64 locator in a file shorter than a zip64 record: `count - 56` went negative and its conversion
    /// to an unsigned offset trapped; now the locator is said to point outside the file.
    @Test func zip64LocatorInATinyFile() {
        let path = Fixtures.path("fuzz-found/zip64-locator-tiny-file.bin")
        do {
            _ = try TorchCheckpoint(path: path)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("outside the file") && !"\(error)".contains("\n"), "\(error)")
        }
    }
}
