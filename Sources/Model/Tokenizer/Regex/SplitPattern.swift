/// A compiled split pattern: a backtracking program over code points with leftmost-first alternation (as
/// std::regex ECMAScript, Oniguruma and fancy-regex, which tokenizer pre-tokenizers were written for).
/// A failed (instruction, position) state is remembered once a search gets long, so no pattern takes more
/// than instructions × text length steps.
public struct SplitPattern: Sendable {
    public let source: String
    let program: [PatternInstruction]
    /// Lookahead and atomic bodies, each ending in `.match`.
    let subprograms: [[PatternInstruction]]
    let classes: [CharacterClass]

    public init(_ source: String, dialect: PatternDialect) throws(PatternError) {
        self.source = source
        var compiler = PatternCompiler()
        compiler.emit(try SplitPatternParser.parse(source, dialect: dialect))
        compiler.code.append(PatternInstruction(.match))
        guard compiler.size <= 200_000 else {
            throw PatternError(pattern: source, offset: 0, reason: "compiles to more than 200000 instructions")
        }
        program = compiler.code
        subprograms = compiler.subprograms
        classes = compiler.classes
    }

    /// The end of the match starting at `start`, within `text.indices` restricted to `start..<end`, or nil.
    func matchEnd(_ text: PatternText, at start: Int, end: Int) -> Int? {
        run(program, text, start: start, lower: text.lower, end: end)
    }

    private func run(_ code: [PatternInstruction], _ text: PatternText, start: Int, lower: Int, end: Int) -> Int? {
        var stack: [(Int32, Int32)] = [(0, Int32(start))]
        var steps = 0
        var visited: [UInt64] = []
        let width = end - lower + 1
        while let (savedPC, savedPos) = stack.popLast() {
            var pc = Int(savedPC), pos = Int(savedPos)
            thread: while true {
                steps += 1
                if steps > 4096 {
                    // Long searches remember failed states (sound: the first match wins, so a state seen
                    // again has failed already).
                    if visited.isEmpty {
                        let bits = code.count * width
                        guard bits <= 1 << 30 else { return nil }
                        visited = [UInt64](repeating: 0, count: bits / 64 + 1)
                    }
                    let key = pc * width + (pos - lower)
                    if visited[key >> 6] & (1 << UInt64(key & 63)) != 0 { break thread }
                    visited[key >> 6] |= 1 << UInt64(key & 63)
                }
                let instruction = code[pc]
                switch instruction.op {
                case .character:
                    guard pos < end, classes[Int(instruction.a)].matches(text.codepoints[pos], text.categories[pos]) else { break thread }
                    pos += 1
                    pc += 1
                case .split:
                    stack.append((instruction.b, Int32(pos)))
                    pc = Int(instruction.a)
                case .jump:
                    pc = Int(instruction.a)
                case .match:
                    return pos
                case .lookahead:
                    let found = run(subprograms[Int(instruction.a)], text, start: pos, lower: lower, end: end) != nil
                    guard found != (instruction.b != 0) else { break thread }
                    pc += 1
                case .atomic:
                    guard let next = run(subprograms[Int(instruction.a)], text, start: pos, lower: lower, end: end) else { break thread }
                    pos = next
                    pc += 1
                case .startOfText:
                    guard pos == lower else { break thread }
                    pc += 1
                case .endOfText:
                    guard pos == end else { break thread }
                    pc += 1
                case .wordBoundary:
                    let before = pos > lower && Self.isWord(text.codepoints[pos - 1], text.categories[pos - 1])
                    let after = pos < end && Self.isWord(text.codepoints[pos], text.categories[pos])
                    guard (before != after) != (instruction.a != 0) else { break thread }
                    pc += 1
                }
            }
        }
        return nil
    }

    static func isWord(_ c: UInt32, _ category: CodepointCategory) -> Bool {
        c == 0x5F || !category.isDisjoint(with: [.letter, .mark, .decimalNumber])
    }

    /// Splits each of `pieces` (ranges of `text`) at this pattern's matches, keeping the text between
    /// matches as pieces too (tokenizers' `Isolated`, llama.cpp's splitting; without `keepMatches` the
    /// matches are dropped, tokenizers' `Removed`); empty matches split nothing.
    func split(_ text: PatternText, _ pieces: [Range<Int>], keepMatches: Bool = true) -> [Range<Int>] {
        var out: [Range<Int>] = []
        out.reserveCapacity(pieces.count * 2)
        for piece in pieces {
            var gapStart = piece.lowerBound, pos = piece.lowerBound
            let restricted = text.restricted(to: piece.lowerBound)
            while pos < piece.upperBound {
                if let matchEnd = matchEnd(restricted, at: pos, end: piece.upperBound), matchEnd > pos {
                    if gapStart < pos { out.append(gapStart..<pos) }
                    if keepMatches { out.append(pos..<matchEnd) }
                    pos = matchEnd
                    gapStart = pos
                } else {
                    pos += 1
                }
            }
            if gapStart < piece.upperBound { out.append(gapStart..<piece.upperBound) }
        }
        return out
    }
}

/// Code points and their categories, looked at from `lower` (a piece's start: `^` and `\b` see no text
/// before it, as when each piece is matched on its own).
struct PatternText {
    let codepoints: UnsafeBufferPointer<UInt32>
    let categories: UnsafeBufferPointer<CodepointCategory>
    var lower = 0

    func restricted(to lower: Int) -> PatternText {
        PatternText(codepoints: codepoints, categories: categories, lower: lower)
    }
}

struct PatternInstruction: Sendable {
    enum Op: UInt8, Sendable { case character, split, jump, match, lookahead, atomic, startOfText, endOfText, wordBoundary }
    var op: Op
    var a: Int32 = 0
    var b: Int32 = 0
    init(_ op: Op, _ a: Int32 = 0, _ b: Int32 = 0) {
        self.op = op
        self.a = a
        self.b = b
    }
}

/// Tree → instructions (Thompson-style: `split` tries its first target, then its second).
struct PatternCompiler {
    var code: [PatternInstruction] = []
    var subprograms: [[PatternInstruction]] = []
    var classes: [CharacterClass] = []
    var size: Int { code.count + subprograms.reduce(0) { $0 + $1.count } }

    private mutating func classIndex(_ cls: CharacterClass) -> Int32 {
        if let i = classes.firstIndex(of: cls) { return Int32(i) }
        classes.append(cls)
        return Int32(classes.count - 1)
    }

    private var here: Int32 { Int32(code.count) }

    private mutating func subprogram(_ node: PatternNode) -> Int32 {
        var inner = PatternCompiler()
        inner.classes = classes
        inner.subprograms = subprograms
        inner.emit(node)
        inner.code.append(PatternInstruction(.match))
        classes = inner.classes
        subprograms = inner.subprograms
        subprograms.append(inner.code)
        return Int32(subprograms.count - 1)
    }

    mutating func emit(_ node: PatternNode) {
        guard size <= 200_000 else { return }  // the caller refuses the pattern
        switch node {
        case .character(let cls):
            code.append(PatternInstruction(.character, classIndex(cls)))
        case .sequence(let items):
            for item in items { emit(item) }
        case .alternation(let branches):
            var exits: [Int] = []
            for (i, branch) in branches.enumerated() {
                if i == branches.count - 1 {
                    emit(branch)
                } else {
                    let split = code.count
                    code.append(PatternInstruction(.split, here + 1, 0))
                    emit(branch)
                    exits.append(code.count)
                    code.append(PatternInstruction(.jump))
                    code[split].b = here
                }
            }
            for exit in exits { code[exit].a = here }
        case let .repetition(body, minimum, maximum, greedy, possessive):
            if possessive {
                let index = subprogram(.repetition(body, min: minimum, max: maximum, greedy: greedy, possessive: false))
                code.append(PatternInstruction(.atomic, index))
                return
            }
            // A body that can match empty loops at most once more than its minimum (a loop that does not
            // advance would never end).
            let upper = body.canBeEmpty ? Swift.max(minimum, 1) : maximum
            for _ in 0..<minimum { emit(body) }
            if let upper {
                var exits: [Int] = []
                for _ in minimum..<Swift.max(minimum, upper) {
                    exits.append(code.count)
                    code.append(PatternInstruction(.split))
                    emit(body)
                }
                for exit in exits { setSplit(exit, body: exit + 1, out: Int(here), greedy: greedy) }
            } else {
                let loop = code.count
                code.append(PatternInstruction(.split))
                emit(body)
                code.append(PatternInstruction(.jump, Int32(loop)))
                setSplit(loop, body: loop + 1, out: Int(here), greedy: greedy)
            }
        case let .lookahead(body, negated):
            code.append(PatternInstruction(.lookahead, subprogram(body), negated ? 1 : 0))
        case .atomic(let body):
            code.append(PatternInstruction(.atomic, subprogram(body)))
        case .startOfText: code.append(PatternInstruction(.startOfText))
        case .endOfText: code.append(PatternInstruction(.endOfText))
        case .wordBoundary(let negated): code.append(PatternInstruction(.wordBoundary, negated ? 1 : 0))
        }
    }

    private mutating func setSplit(_ at: Int, body: Int, out: Int, greedy: Bool) {
        code[at].a = Int32(greedy ? body : out)
        code[at].b = Int32(greedy ? out : body)
    }
}
