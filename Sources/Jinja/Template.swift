/// Resource limits for one render. Exceeding any of them ends the render with a `.limit` error,
/// so a hostile template cannot exhaust memory or time.
public struct JinjaLimits: Sendable {
    public var maxOutputBytes = 16 << 20
    public var maxLoopIterations = 1_000_000
    public var maxCallDepth = 256

    public init(maxOutputBytes: Int = 16 << 20, maxLoopIterations: Int = 1_000_000, maxCallDepth: Int = 256) {
        self.maxOutputBytes = maxOutputBytes
        self.maxLoopIterations = maxLoopIterations
        self.maxCallDepth = maxCallDepth
    }
}

/// A chat template parsed once and rendered any number of times, with the semantics of
/// jinja2 3.1 as transformers configures it (ImmutableSandboxedEnvironment, trim_blocks,
/// lstrip_blocks, loopcontrols, `{% generation %}`, transformers' `tojson` and globals).
public struct JinjaTemplate: Sendable {
    let body: [Statement]

    public init(_ source: String) throws(JinjaError) {
        body = try Parser.parse(source)
    }

    /// Renders with `context` as the template's variables (e.g. `messages`, `bos_token`,
    /// `add_generation_prompt`). Each render is independent: nothing is shared between calls. `now`
    /// (seconds since 1970, read as UTC) fixes what `strftime_now` sees, for reproducible renderings;
    /// nil is the local time.
    public func render(_ context: [String: JinjaValue], limits: JinjaLimits = .init(), now: Int? = nil) throws(JinjaError) -> String {
        let interpreter = Interpreter(context: context, limits: limits, now: now)
        return try interpreter.render(body)
    }
}
