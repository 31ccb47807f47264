import Formats
import Foundation

/// Where the tests find the repository's committed fixtures (through #filePath, so goldens stay where
/// fixtures/README.md documents them) and where they write scratch files.
public enum Repository {
    /// The repository root.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/TestSupport/Repository.swift
        return url.path
    }()

    /// `fixtures/<relative>` (the fixtures folder itself for "").
    public static func fixtures(_ relative: String = "") -> String {
        relative.isEmpty ? root + "/fixtures" : root + "/fixtures/" + relative
    }

    /// A JSON fixture, parsed by ckpt's strict reader.
    public static func json(_ relative: String) throws -> JSONValue { try JSONFile.read(fixtures(relative)) }
}

/// Fresh paths under the system temporary directory, unique per call: `ckpt-<name>` with a UUID inside.
public enum Scratch {
    /// A path that does not exist yet; `name` ends it (so extensions survive).
    public static func path(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)-\(name)").path
    }

    /// A new empty folder.
    public static func folder(_ name: String = "tests") throws -> String {
        let path = path(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
