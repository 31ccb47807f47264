/// The one decode loop (`ckpt generate`, `ckpt eval`, on-policy sampling in distillation): several responses
/// at once with the KV cache, each sequence one segment with its own cache, prefilled together, then decoded
/// one token per step for the sequences still running; a sequence stops at a stop token (kept as its last
/// token), after `maxNewTokens`, or when its context is full.
public enum Generation {
    public struct Request {
        public var prompt: [Int]
        public var sampler: Sampler
        /// Soft-prompt rows [P, E] in front of the prompt (empty: none).
        public var prefix: [Float]
        public init(prompt: [Int], sampler: Sampler, prefix: [Float] = []) {
            self.prompt = prompt
            self.sampler = sampler
            self.prefix = prefix
        }
    }

    /// The generated tokens of each request (ending with the stop token when one was drawn).
    /// `replay`: tokens to emit instead of the drawn ones, one list per request (the samplers still draw, so
    /// the work is the sampling's; StepProfiler times the generation of known responses this way).
    /// `prefillRows`: which prefill logits `onPrefill(request, logits)` receives (all rows: the prompt's
    /// logits, soft-prompt rows included); `onToken(request, token)` sees each token as it is drawn.
    public static func sample(_ transformer: Transformer, _ requests: [Request], maxNewTokens: Int,
                              stop: Set<Int>, replay: [[Int]]? = nil, prefillRows: Transformer.LogitRows = .last,
                              onPrefill: ((Int, [Float]) -> Void)? = nil,
                              onToken: ((Int, Int) -> Void)? = nil) throws(ModelError) -> [[Int]] {
        let c = transformer.config, V = c.vocabSize
        var samplers = requests.map(\.sampler)
        let caches = requests.map { r in
            KVCache(config: c, capacity: min(c.contextLength, r.prefix.count / c.embeddingSize + r.prompt.count + maxNewTokens))
        }
        var outputs = [[Int]](repeating: [], count: requests.count)
        var histories = requests.map(\.prompt)
        let prefill = try transformer.forward(batch: requests.indices.map {
            .init(tokens: requests[$0].prompt, cache: caches[$0], prefix: requests[$0].prefix)
        }, logits: prefillRows)
        for (i, logits) in prefill.enumerated() { onPrefill?(i, logits) }
        var last = prefill.map { Array($0.suffix(V)) }
        // A request with no room draws nothing (`generate -n 0` prints no token).
        var running = maxNewTokens > 0 ? Array(requests.indices) : []
        while !running.isEmpty {
            var next: [Int] = []
            for i in running {
                let drawn = samplers[i].next(last[i][...], history: histories[i])
                let token = replay.map { $0[i][outputs[i].count] } ?? drawn
                outputs[i].append(token)
                onToken?(i, token)
                histories[i].append(token)
                next.append(token)
            }
            running = running.enumerated().filter { j, i in
                !stop.contains(next[j]) && outputs[i].count < min(maxNewTokens, replay?[i].count ?? .max)
                    && caches[i].count < caches[i].capacity
            }.map(\.1)
            guard !running.isEmpty else { break }
            let logits = try transformer.forward(batch: running.map { .init(tokens: [outputs[$0].last!], cache: caches[$0]) })
            for (j, i) in running.enumerated() { last[i] = logits[j] }
        }
        return outputs
    }
}
