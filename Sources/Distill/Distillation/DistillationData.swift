import Model

/// DistiLLM's adaptive off-policy state (promptkd.md §8): threshold τ (starts at 0), the dev loss it was
/// last raised at, and the replay buffer of student samples (capacity 1000; GKD and ImitKD use it too).
struct ReplayState: Sendable, Equatable {
    static let capacity = 1000, lossEpsilon = 0.1
    var threshold = 0.0
    var previousDevLoss: Double?
    var buffer: [[Int]] = []  // prompt + response + EOS, with the prompt length first
}

/// Which sequences a step trains on: the recipe's `sequences`.
extension Distiller {
    func sequences(for indices: [Int], timer: inout PhaseTimer) throws(DistillError) -> Batch {
        let examples = indices.map { train.examples[$0] }
        let prompts = examples.map { Array($0.tokens[..<$0.promptLength]) }
        func groundTruth() -> Batch {
            Batch(sequences: examples.map(\.tokens), isTarget: examples.map(\.isTarget), examples: indices)
        }
        func withResponses(_ responses: [[Int]]) -> Batch {
            var sequences: [[Int]] = [], isTarget: [[Bool]] = []
            for (prompt, response) in zip(prompts, responses) {
                let sequence = Array((prompt + response).prefix(options.maxLength))
                sequences.append(sequence)
                isTarget.append(sequence.indices.map { $0 >= prompt.count })
            }
            return Batch(sequences: sequences, isTarget: isTarget, examples: indices)
        }
        switch sequenceSource {
        case .data:
            return groundTruth()
        case .studentSamples:
            timer.start()
            defer { timer.stop("time_generate") }
            return withResponses(try sample(student, prompts))
        case .cachedTeacherSamples:
            let missing = indices.filter { teacherSamples[$0] == nil }
            if !missing.isEmpty {
                timer.start()
                let made = try sample(teacher, missing.map { Array(train.examples[$0].tokens[..<train.examples[$0].promptLength]) })
                for (i, response) in zip(missing, made) { teacherSamples[i] = response }
                timer.stop("time_generate")
            }
            return withResponses(indices.map { teacherSamples[$0]! })
        case let .replayedStudentSamples(probability):
            guard probability >= 1 || rng.uniform() < probability else { return groundTruth() }
            timer.start()
            defer { timer.stop("time_generate") }
            push(withResponses(try sample(student, prompts)), prompts: prompts)
            return replayed(count: indices.count)
        case .adaptiveReplay:
            let r = rng.uniform()
            let decayed = replay.threshold * (1 - Double(step) / Double(options.steps))
            if r < decayed || (r < replay.threshold && replay.buffer.count < ReplayState.capacity) {
                timer.start()
                defer { timer.stop("time_generate") }
                let batch = withResponses(try sample(student, prompts))
                push(batch, prompts: prompts)
                return batch
            }
            if r < replay.threshold, !replay.buffer.isEmpty { return replayed(count: indices.count) }
            return groundTruth()
        }
    }

    /// Student samples into the replay buffer (the oldest leave when it is full).
    func push(_ batch: Batch, prompts: [[Int]]) {
        for (sequence, prompt) in zip(batch.sequences, prompts) {
            if replay.buffer.count == ReplayState.capacity { replay.buffer.removeFirst() }
            replay.buffer.append([prompt.count] + sequence)
        }
    }

    /// A batch drawn uniformly (with replacement) from the replay buffer.
    func replayed(count: Int) -> Batch {
        let picked = (0..<count).map { _ in replay.buffer[rng.below(replay.buffer.count)] }
        return Batch(sequences: picked.map { Array($0.dropFirst()) }, isTarget: picked.map { entry in (0..<(entry.count - 1)).map { $0 >= entry[0] } })
    }

    /// One sampled response per prompt from the teacher or the student (see `sampleResponses`).
    func sample(_ model: ModelWeights, _ prompts: [[Int]]) throws(DistillError) -> [[Int]] {
        try Self.sampleResponses(inference(model), prompts, maxNewTokens: options.maxNewTokens, maxLength: options.maxLength, eos: eos, rng: &rng)
    }

    /// One sampled response per prompt (T 1, top-k 0, top-p 1; a seed per sequence from `rng`), always ending
    /// with EOS: a response cut by the length limit has its last token replaced by EOS, as the reference code
    /// forces its last slot. Also what `ckpt teacher-logits --responses sampled` stores.
    public static func sampleResponses(_ transformer: Transformer, _ prompts: [[Int]], maxNewTokens: Int, maxLength: Int, eos: Int,
                                       rng: inout SplitMix64) throws(DistillError) -> [[Int]] {
        let requests = prompts.map { prompt -> Generation.Request in
            var o = Sampler.Options()
            o.temperature = 1
            o.seed = rng.next()
            return Generation.Request(prompt: prompt, sampler: Sampler(o))
        }
        let longest = prompts.map(\.count).max() ?? 0
        let room = min(maxNewTokens, maxLength - longest, transformer.config.contextLength - longest)
        guard room > 0 else { throw .invalidOption(name: "--max-length", reason: "leaves no room for a response after a \(longest)-token prompt") }
        let responses: [[Int]]
        do { responses = try Generation.sample(transformer, requests, maxNewTokens: room, stop: [eos]) } catch { throw .model(error) }
        return responses.map { r in
            guard r.last != eos else { return r }
            return r.isEmpty ? [eos] : Array(r.dropLast()) + [eos]
        }
    }

    /// The student's cross-entropy on the dev answers (what DistiLLM's schedule watches).
    func devLoss() throws(DistillError) -> Double {
        let set = try TokenizedDataset(Array(dev.prefix(options.devExamples)), path: "dev data", tokenizer: tokenizer, eos: eos,
                                       maxPromptLength: options.maxLength - 1, maxLength: options.maxLength)
        var total = 0.0, count = 0
        for first in stride(from: 0, to: set.examples.count, by: options.batchSize) {
            let batch = Array(set.examples[first..<min(set.examples.count, first + options.batchSize)])
            let pass = try makePass(student, batch.map(\.tokens), prompted: false, workspace: studentWorkspace)
            let logits = pass.forward(), V = student.config.vocabSize
            for (row, target) in pass.targets(isTarget: batch.map(\.isTarget)).enumerated() where target >= 0 {
                total += CrossEntropy.loss(logits + row * V, target: target, vocab: V)
                count += 1
            }
        }
        return total / Double(max(1, count))
    }

    /// DistiLLM raises τ by 0.1 (up to 1) when the dev loss grew by 0.1 or more since it was last raised.
    func updateThreshold(devLoss: Double) {
        if let previous = replay.previousDevLoss, devLoss < previous + ReplayState.lossEpsilon { return }
        if replay.previousDevLoss != nil { replay.threshold = min(replay.threshold + 0.1, 1) }
        replay.previousDevLoss = devLoss
    }
}
