import CProtobufC
import CSentencePiece

/// A SentencePiece `tokenizer.model` (ModelProto, proto2) decoded with protobuf-c: the pieces with their
/// scores and types (id = index), the trainer's model type, byte fallback and special ids, and the
/// normalizer's dummy-prefix flag. Files that are not a ModelProto, or hold no pieces, are errors.
public struct SentencePieceModel: Sendable {
    public struct Piece: Equatable, Sendable {
        public var text: String
        public var score: Float
        /// ModelProto.SentencePiece.Type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
        public var type: Int
        public init(text: String, score: Float, type: Int) {
            self.text = text
            self.score = score
            self.type = type
        }
    }

    public enum ModelType: Int, Sendable { case unigram = 1, bpe = 2, word = 3, char = 4 }

    public let path: String
    public let pieces: [Piece]
    public let modelType: ModelType
    public let byteFallback: Bool
    public let addDummyPrefix: Bool
    public let unknownID: Int, bosID: Int, eosID: Int, padID: Int

    /// tokenizer.model files are a few MB; a larger file is refused before it is decoded.
    public static let maxSize = 256 << 20

    public init(path: String) throws(FormatError) {
        self.path = path
        let file = try MappedFile(path: path)
        guard file.count <= Self.maxSize else {
            throw .limitExceeded(path: path, what: "tokenizer.model size", offset: 0, value: UInt64(file.count), limit: UInt64(Self.maxSize))
        }
        let bytes = file.bytes
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
              let proto = ckpt__sentencepiece__model_proto__unpack(nil, bytes.count, base) else {
            throw .unrecognizedFormat(path: path, reason: "not a SentencePiece model (protobuf ModelProto does not decode)")
        }
        defer { ckpt__sentencepiece__model_proto__free_unpacked(proto, nil) }
        var pieces: [Piece] = []
        pieces.reserveCapacity(Int(proto.pointee.n_pieces))
        for i in 0..<Int(proto.pointee.n_pieces) {
            guard let p = proto.pointee.pieces[i] else { continue }
            let text = p.pointee.piece.map { String(cString: $0) } ?? ""
            pieces.append(Piece(text: text, score: p.pointee.has_score != 0 ? p.pointee.score : 0,
                                type: p.pointee.has_type != 0 ? Int(p.pointee.type.rawValue) : 1))
        }
        guard !pieces.isEmpty else { throw .unrecognizedFormat(path: path, reason: "a SentencePiece model without pieces") }
        self.pieces = pieces
        let trainer = proto.pointee.trainer_spec
        modelType = trainer.flatMap { ModelType(rawValue: Int($0.pointee.model_type.rawValue)) } ?? .unigram
        byteFallback = trainer.map { $0.pointee.byte_fallback != 0 } ?? false
        unknownID = Int(trainer?.pointee.unk_id ?? 0)
        bosID = Int(trainer?.pointee.bos_id ?? 1)
        eosID = Int(trainer?.pointee.eos_id ?? 2)
        padID = Int(trainer?.pointee.pad_id ?? -1)
        addDummyPrefix = proto.pointee.normalizer_spec.map { $0.pointee.add_dummy_prefix != 0 } ?? true
    }
}
