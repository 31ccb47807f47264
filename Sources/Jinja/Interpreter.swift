/// Executes a parsed template. One instance serves exactly one render, so its mutable state
/// (scopes, namespaces, output buffer, counters) is never shared.
final class Interpreter {
    let limits: JinjaLimits
    /// What `strftime_now` reports (seconds since 1970, UTC); nil: the clock, local time.
    let now: Int?
    /// Variable scopes, innermost last. `frames[0]` holds the render context and top-level `set`s;
    /// `for` iterations, macro calls, `with` and call blocks push their own frame.
    var frames: [[String: JinjaValue]]
    /// Attribute storage of `namespace()` objects, indexed by `JinjaNamespaceReference.identifier`.
    var namespaces: [JinjaObject] = []
    /// Where rendered text goes; macros and block captures swap in a fresh buffer.
    var output = ""
    var callDepth = 0
    var loopIterations = 0

    init(context: [String: JinjaValue], limits: JinjaLimits, now: Int? = nil) {
        self.limits = limits
        self.now = now
        self.frames = [context]
    }

    func render(_ body: [Statement]) throws(JinjaError) -> String {
        _ = try execute(body)
        return output
    }

    // MARK: - Scopes

    func lookup(_ name: String) -> JinjaValue {
        for frame in frames.reversed() {
            if let value = frame[name] { return value }
        }
        if Globals.names.contains(name) { return .callable(JinjaCallable(kind: .global(name))) }
        return .undefined
    }

    func assign(_ name: String, _ value: JinjaValue) {
        frames[frames.count - 1][name] = value
    }

    /// Runs `body` with a fresh innermost scope, so assignments inside do not leak out.
    func withScope<Result>(
        _ initial: [String: JinjaValue] = [:], _ body: () throws(JinjaError) -> Result
    ) throws(JinjaError) -> Result {
        frames.append(initial)
        defer { frames.removeLast() }
        return try body()
    }

    /// The variables a macro closes over: everything visible now except the template root,
    /// which macros read live (so top-level names defined later, and the macro itself, resolve).
    func capturedVariables() -> [String: JinjaValue] {
        var captured: [String: JinjaValue] = [:]
        for frame in frames.dropFirst() {
            captured.merge(frame) { _, inner in inner }
        }
        return captured
    }

    // MARK: - Output

    func write(_ text: String) throws(JinjaError) {
        guard output.utf8.count + text.utf8.count <= limits.maxOutputBytes else {
            throw JinjaError(.limit, "output exceeds \(limits.maxOutputBytes) bytes")
        }
        output += text
    }

    /// Renders `body` into a separate buffer and returns it (macro bodies, `{% set %}` blocks, filters).
    func capture(_ body: () throws(JinjaError) -> Void) throws(JinjaError) -> String {
        let saved = output
        output = ""
        defer { output = saved }
        try body()
        return output
    }

    /// Strings built by expressions (`'a' * n`, `~`) count against the output limit too, so a
    /// template cannot allocate unbounded memory without printing it.
    func checkBuiltSize(_ text: String) throws(JinjaError) {
        if text.utf8.count > limits.maxOutputBytes {
            throw JinjaError(.limit, "output exceeds \(limits.maxOutputBytes) bytes")
        }
    }

    func countLoopIteration() throws(JinjaError) {
        loopIterations += 1
        if loopIterations > limits.maxLoopIterations {
            throw JinjaError(.limit, "loop exceeds \(limits.maxLoopIterations) iterations")
        }
    }

    func enterCall() throws(JinjaError) {
        guard callDepth < limits.maxCallDepth else {
            throw JinjaError(.limit, "call depth exceeds \(limits.maxCallDepth)")
        }
        callDepth += 1
    }

    func exitCall() {
        callDepth -= 1
    }

    // MARK: - Namespaces

    func makeNamespace(_ attributes: JinjaObject) -> JinjaValue {
        namespaces.append(attributes)
        return .namespace(JinjaNamespaceReference(identifier: namespaces.count - 1))
    }

    func namespaceAttributes(_ reference: JinjaNamespaceReference) -> JinjaObject {
        namespaces.indices.contains(reference.identifier) ? namespaces[reference.identifier] : JinjaObject()
    }

    func setNamespaceAttribute(_ reference: JinjaNamespaceReference, _ name: String, _ value: JinjaValue) throws(JinjaError) {
        // transformers' TemplateNamespace refuses underscore-prefixed names.
        if name.hasPrefix("_") {
            throw JinjaError.securityError(
                "Chat templates cannot store underscore-prefixed attributes on a namespace, but got \(pythonRepr(name)). Please rename the attribute.")
        }
        guard namespaces.indices.contains(reference.identifier) else { return }
        namespaces[reference.identifier][name] = value
    }
}
