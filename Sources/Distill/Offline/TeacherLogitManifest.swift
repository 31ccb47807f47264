import Formats
import Foundation

/// What a teacher-logits folder (`ckpt teacher-logits`, scripts/teacher_logits_hf.py) was made from, and
/// its shards: DIR/manifest.json, written last, so a folder without it is unfinished. The three hashes make
/// `distill --teacher-logits` refuse shards of another teacher, tokenizer or data. Each is a SHA-256 that
/// ckpt and Python compute the same way:
/// - teacher: the bytes of its weight files in name order (a GGUF: the file; a Hugging Face folder: its
///   *.safetensors);
/// - tokenizer: the vocabulary's token strings in id order, each followed by "\n";
/// - data: the bytes of the JSONL file.
public struct TeacherLogitManifest: Equatable, Sendable {
    public static let formatName = "ckpt-teacher-logits", version = 1, fileName = "manifest.json"

    public enum Responses: String, Sendable, CaseIterable {
        /// The data's own responses (KD).
        case dataset
        /// One response per prompt sampled from the teacher (T 1, top-k 0, top-p 1; SeqKD).
        case sampled
    }

    public struct Shard: Equatable, Sendable {
        public var file: String
        public var examples: Int
        public var sha256: String
        public init(file: String, examples: Int, sha256: String) {
            self.file = file
            self.examples = examples
            self.sha256 = sha256
        }
    }

    public var teacherSHA256: String
    public var tokenizerSHA256: String
    public var dataSHA256: String
    public var vocabSize: Int
    public var topK: Int
    public var responses: Responses
    /// The tokenization of the data (TokenizedDataset): both must match the distillation run's.
    public var maxLength: Int, maxPromptLength: Int
    public var chatTemplate: Bool
    /// The tokenized training set's size; every example has one entry.
    public var examples: Int
    public var producer: String
    public var shards: [Shard] = []

    public init(teacherSHA256: String, tokenizerSHA256: String, dataSHA256: String, vocabSize: Int, topK: Int, responses: Responses,
                maxLength: Int, maxPromptLength: Int, chatTemplate: Bool, examples: Int, producer: String) {
        self.teacherSHA256 = teacherSHA256
        self.tokenizerSHA256 = tokenizerSHA256
        self.dataSHA256 = dataSHA256
        self.vocabSize = vocabSize
        self.topK = topK
        self.responses = responses
        self.maxLength = maxLength
        self.maxPromptLength = maxPromptLength
        self.chatTemplate = chatTemplate
        self.examples = examples
        self.producer = producer
    }

    public var json: JSONValue {
        .object([("format", .string(Self.formatName)), ("version", .int(Self.version)), ("producer", .string(producer)),
                 ("teacher_sha256", .string(teacherSHA256)), ("tokenizer_sha256", .string(tokenizerSHA256)),
                 ("data_sha256", .string(dataSHA256)), ("vocab_size", .int(vocabSize)), ("top_k", .int(topK)),
                 ("responses", .string(responses.rawValue)), ("max_length", .int(maxLength)),
                 ("max_prompt_length", .int(maxPromptLength)), ("chat_template", .bool(chatTemplate)), ("examples", .int(examples)),
                 ("shards", .array(shards.map { .object([("file", .string($0.file)), ("examples", .int($0.examples)), ("sha256", .string($0.sha256))]) }))])
    }

    /// Reads DIR/manifest.json; every missing or mistyped key is named.
    public static func read(folder: String) throws(DistillError) -> TeacherLogitManifest {
        let path = folder + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else {
            throw .teacherLogits(path: folder, reason: "no \(fileName) (not a teacher-logits folder, or an unfinished one)")
        }
        let v: JSONValue
        do { v = try JSONFile.read(path) } catch { throw .format(error) }
        func string(_ key: String) throws(DistillError) -> String {
            guard let s = v[key]?.stringValue else { throw .teacherLogits(path: path, reason: "'\(key)' is missing or not a string") }
            return s
        }
        func int(_ key: String, in object: JSONValue? = nil, max: UInt64 = 1 << 40) throws(DistillError) -> Int {
            guard let n = (object ?? v)[key]?.uint64Value, n <= max else {
                throw .teacherLogits(path: path, reason: "'\(key)' is missing or not a count")
            }
            return Int(n)
        }
        guard try string("format") == formatName else { throw .teacherLogits(path: path, reason: "'format' is not \(formatName)") }
        guard try int("version") == version else { throw .teacherLogits(path: path, reason: "version \(v["version"]?.uint64Value ?? 0), ckpt reads \(version)") }
        guard let responses = Responses(rawValue: try string("responses")) else {
            throw .teacherLogits(path: path, reason: "'responses' must be dataset or sampled")
        }
        var m = TeacherLogitManifest(teacherSHA256: try string("teacher_sha256"), tokenizerSHA256: try string("tokenizer_sha256"),
                                     dataSHA256: try string("data_sha256"), vocabSize: try int("vocab_size"), topK: try int("top_k"),
                                     responses: responses, maxLength: try int("max_length"), maxPromptLength: try int("max_prompt_length"),
                                     chatTemplate: v["chat_template"]?.boolValue ?? false, examples: try int("examples"),
                                     producer: v["producer"]?.stringValue ?? "")
        guard m.topK >= 1, m.topK <= m.vocabSize else { throw .teacherLogits(path: path, reason: "top_k \(m.topK) is not in 1...\(m.vocabSize)") }
        guard let shards = v["shards"]?.arrayValue else { throw .teacherLogits(path: path, reason: "'shards' is missing or not a list") }
        for shard in shards {
            guard let file = shard["file"]?.stringValue, !file.contains("/"), let hash = shard["sha256"]?.stringValue else {
                throw .teacherLogits(path: path, reason: "a shard entry lacks 'file' (a name in the folder) or 'sha256'")
            }
            m.shards.append(Shard(file: file, examples: try int("examples", in: shard), sha256: hash))
        }
        guard m.shards.reduce(0, { $0 + $1.examples }) == m.examples else {
            throw .teacherLogits(path: path, reason: "the shards hold \(m.shards.reduce(0) { $0 + $1.examples }) examples, 'examples' says \(m.examples)")
        }
        return m
    }
}

/// The SHA-256 identities of the manifest, computed as the Python script computes them.
public enum TeacherLogitHashes {
    /// A GGUF file's bytes, or a Hugging Face folder's *.safetensors in name order.
    public static func teacher(path: String) throws(DistillError) -> String {
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        var files = [path]
        if isFolder.boolValue {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
            guard !names.isEmpty else { throw .teacherLogits(path: path, reason: "the folder has no *.safetensors to identify the teacher by") }
            files = names.map { path + "/" + $0 }
        }
        var hasher = SHA256Digest.Hasher()
        for file in files {
            do {
                let mapped = try MappedFile(path: file)
                withExtendedLifetime(mapped) { hasher.update(mapped.bytes) }
            } catch { throw .format(error) }
        }
        return hasher.finalize()
    }

    public static func tokenizer(tokens: [String]) -> String {
        var hasher = SHA256Digest.Hasher()
        for token in tokens { hasher.update(Array((token + "\n").utf8)) }
        return hasher.finalize()
    }

    public static func file(path: String) throws(DistillError) -> String {
        var hasher = SHA256Digest.Hasher()
        do {
            let mapped = try MappedFile(path: path)
            withExtendedLifetime(mapped) { hasher.update(mapped.bytes) }
        } catch { throw .format(error) }
        return hasher.finalize()
    }
}
