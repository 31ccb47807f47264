import CProtobufC
import CSentencePiece
import Foundation

extension SentencePieceModel {
    /// Encodes a BPE tokenizer.model (ModelProto) with protobuf-c: the pieces with their scores and types,
    /// the trainer spec (BPE, byte fallback, special ids) and an identity normalizer with the dummy-prefix
    /// flag — what the sentencepiece library needs to tokenize as the GGUF vocabulary does.
    public static func encode(pieces: [Piece], byteFallback: Bool, addDummyPrefix: Bool,
                              unknownID: Int, bosID: Int, eosID: Int, padID: Int) -> [UInt8] {
        var messages = [Ckpt__Sentencepiece__ModelProto__SentencePiece](repeating: .init(), count: pieces.count)
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer { for s in strings { free(s) } }
        for (i, p) in pieces.enumerated() {
            ckpt__sentencepiece__model_proto__sentence_piece__init(&messages[i])
            let text = strdup(p.text)!
            strings.append(text)
            messages[i].piece = text
            messages[i].has_score = 1
            messages[i].score = p.score
            messages[i].has_type = 1
            messages[i].type = Ckpt__Sentencepiece__ModelProto__SentencePiece__Type(rawValue: UInt32(p.type))
        }
        var trainer = Ckpt__Sentencepiece__TrainerSpec()
        ckpt__sentencepiece__trainer_spec__init(&trainer)
        trainer.has_model_type = 1
        trainer.model_type = CKPT__SENTENCEPIECE__TRAINER_SPEC__MODEL_TYPE__BPE
        trainer.has_vocab_size = 1
        trainer.vocab_size = Int32(pieces.count)
        trainer.has_byte_fallback = 1
        trainer.byte_fallback = byteFallback ? 1 : 0
        (trainer.has_unk_id, trainer.unk_id) = (1, Int32(unknownID))
        (trainer.has_bos_id, trainer.bos_id) = (1, Int32(bosID))
        (trainer.has_eos_id, trainer.eos_id) = (1, Int32(eosID))
        (trainer.has_pad_id, trainer.pad_id) = (1, Int32(padID))
        var normalizer = Ckpt__Sentencepiece__NormalizerSpec()
        ckpt__sentencepiece__normalizer_spec__init(&normalizer)
        let name = strdup("identity")!
        strings.append(name)
        normalizer.name = name
        (normalizer.has_add_dummy_prefix, normalizer.add_dummy_prefix) = (1, addDummyPrefix ? 1 : 0)
        (normalizer.has_remove_extra_whitespaces, normalizer.remove_extra_whitespaces) = (1, 0)
        (normalizer.has_escape_whitespaces, normalizer.escape_whitespaces) = (1, 1)
        return messages.withUnsafeMutableBufferPointer { buffer in
            var pointers: [UnsafeMutablePointer<Ckpt__Sentencepiece__ModelProto__SentencePiece>?] =
                (0..<buffer.count).map { buffer.baseAddress! + $0 }
            return pointers.withUnsafeMutableBufferPointer { list in
                withUnsafeMutablePointer(to: &trainer) { trainerPointer in
                    withUnsafeMutablePointer(to: &normalizer) { normalizerPointer in
                        var model = Ckpt__Sentencepiece__ModelProto()
                        ckpt__sentencepiece__model_proto__init(&model)
                        model.n_pieces = list.count
                        model.pieces = list.baseAddress
                        model.trainer_spec = trainerPointer
                        model.normalizer_spec = normalizerPointer
                        let size = ckpt__sentencepiece__model_proto__get_packed_size(&model)
                        var out = [UInt8](repeating: 0, count: size)
                        _ = out.withUnsafeMutableBufferPointer { ckpt__sentencepiece__model_proto__pack(&model, $0.baseAddress) }
                        return out
                    }
                }
            }
        }
    }
}
