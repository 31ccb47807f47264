import Foundation
import Formats
import Jinja
import Model
import Testing
import TestSupport

/// The Jinja interpreter on focused snippets (whitespace control, printing, literals, operators, scoping,
/// loop variables, filters, tests, methods, tojson) against jinja2's renderings under transformers' settings
/// (fixtures/make_jinja_snippets.py), then what jinja2 cannot tell: error positions, limits, nesting caps.
@Suite struct JinjaTests {
    static let fixture: JSONValue = (try? Repository.json("jinja/snippets.json")) ?? .null

    static let names: [String] = (fixture["snippets"]?.objectValue ?? []).map(\.0)

    func render(_ source: String, _ context: [String: JinjaValue] = [:], limits: JinjaLimits = .init()) -> Result<String, JinjaError> {
        do { return .success(try JinjaTemplate(source).render(context, limits: limits)) } catch { return .failure(error) }
    }

    @Test func snippetsLoaded() { #expect(Self.names.count >= 120) }

    @Test(arguments: names)
    func snippetRendersLikeJinja2(_ name: String) throws {
        let entry = try #require(Self.fixture["snippets"]?[name])
        var context: [String: JinjaValue] = [:]
        for (key, value) in Self.fixture["context"]?.objectValue ?? [] { context[key] = JinjaValue(json: value) }
        let result = render(entry["template"]?.stringValue ?? "", context)
        switch (entry["ok"]?.boolValue == true, result) {
        case (true, .success(let output)):
            #expect(output.unicodeScalars.elementsEqual((entry["output"]?.stringValue ?? "").unicodeScalars), "\(output.debugDescription)")
        case (true, .failure(let error)):
            Issue.record("jinja2 rendered \(entry["output"]?.stringValue ?? ""), ckpt raised \(error)")
        case (false, .success(let output)):
            Issue.record("jinja2 raised \(entry["error_type"]?.stringValue ?? ""), ckpt rendered \(output.debugDescription)")
        case (false, .failure(let error)):
            if entry["error_type"]?.stringValue == "TemplateError" {
                #expect(error.isRaisedByTemplate && error.message == entry["message"]?.stringValue)
            }
        }
    }

    func expectError(_ source: String, kind: JinjaError.Kind, message: String? = nil, line: Int? = nil, column: Int? = nil,
                     limits: JinjaLimits = .init()) {
        switch render(source, limits: limits) {
        case .success(let output): Issue.record("expected an error, got \(output.prefix(80).debugDescription)")
        case .failure(let error):
            #expect(error.kind == kind, "\(error)")
            if let message { #expect(error.message == message) }
            if let line { #expect(error.line == line, "\(error)") }
            if let column { #expect(error.column == column, "\(error)") }
        }
    }

    @Test func errorsSayWhere() {
        expectError("line one\n{% if x %}\n  {{ a + }}\n{% endif %}", kind: .syntax, line: 3, column: 10)
        expectError("{% for x in y %}\n{% endif %}", kind: .syntax,
                    message: "unexpected 'endif' (expected 'endfor' or 'else') (innermost open block: 'for')", line: 2, column: 4)
        expectError("{{ 'a' }}\n   {{ raise_exception('Only user and assistant roles are supported!') }}", kind: .raised,
                    message: "Only user and assistant roles are supported!", line: 2, column: 7)
        expectError("\n\n{{ foo.bar }}", kind: .undefined, message: "'foo' is undefined", line: 3, column: 4)
        expectError("{{ [].append(1) }}", kind: .security)
        expectError("{{ 'unterminated }}", kind: .syntax)
        expectError("{# never closed", kind: .syntax)
    }

    /// Output that grows without bound, loops that do not end, recursion: each a named limit.
    @Test func limitsAreNamed() {
        expectError("{% for i in range(10) %}{{ 'x' * 100 }}{% endfor %}", kind: .limit, message: "output exceeds 500 bytes",
                    limits: JinjaLimits(maxOutputBytes: 500))
        expectError("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", kind: .limit,
                    message: "loop exceeds 1000 iterations", limits: JinjaLimits(maxLoopIterations: 1000))
        expectError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", kind: .limit, message: "call depth exceeds 256")
        expectError("{{ 'ab' * 100000000 }}", kind: .limit)
    }

    /// Deep nesting is refused at parse time instead of overflowing the stack; legal depth still renders.
    @Test func nestingIsCapped() {
        expectError("{{ " + String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500) + " }}", kind: .syntax)
        expectError("{{ " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + " }}", kind: .syntax)
        expectError(String(repeating: "{% if true %}", count: 300) + String(repeating: "{% endif %}", count: 300), kind: .syntax)
        expectError("{{ 1" + String(repeating: " ~ 1", count: 100_000) + " }}", kind: .syntax)
        let nested = String(repeating: "{% if true %}", count: 150) + "deep" + String(repeating: "{% endif %}", count: 150)
        #expect((try? render(nested).get()) == "deep")
    }

    @Test func strftimeNowCanBeFixed() throws {
        #expect(try JinjaTemplate("{{ strftime_now('%d %b %Y %H:%M') }}").render([:], now: 1_768_478_400) == "15 Jan 2026 12:00")
    }
}
