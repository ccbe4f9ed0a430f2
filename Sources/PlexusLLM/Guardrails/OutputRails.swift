import Foundation
import PlexusCore

/// The output rails of one agent: what a model's answer must be before the agent acts on
/// it. The policy gate never trusts model output either; these rails catch a wrong answer
/// earlier, tell the model what was wrong, and fail closed.
///
/// ``violations(in:for:)`` checks one answer:
/// - **schema**: an answer asked for as JSON (``ChatRequest/ResponseFormat/jsonSchema(name:schema:)``)
///   must parse and match the schema, and every tool call's arguments must match the tool's
///   parameter schema (PlexusCore's ``JSONSchema``);
/// - **tools**: a tool call must name a tool the request offered and ``allowedTools`` allows;
/// - **numeric bounds**: a number under a member named in ``bounds``, anywhere in the JSON
///   answer or in tool-call arguments, must lie within it.
///
/// ``GuardedModel`` asks again up to ``reasks`` times with the violations in the
/// conversation, then throws ``GuardrailError/outputRejected(agent:model:attempts:violations:)``.
public struct OutputRails: Sendable, Hashable {
    /// Tools the model may be offered and may call; nil allows whatever the request offers.
    public var allowedTools: Set<String>?
    /// Bounds on numbers, by member name (`setpoint`, `confidence`).
    public var bounds: [String: NumericBound]
    /// How often a model is asked again after an invalid answer (default 2).
    public var reasks: Int

    public static let standard = OutputRails()

    public init(allowedTools: Set<String>? = nil, bounds: [String: NumericBound] = [:], reasks: Int = 2) {
        self.allowedTools = allowedTools
        self.bounds = bounds
        self.reasks = reasks
    }

    /// Whether answers to `request` are checked at all (so a stream must be held back to
    /// check it before the consumer sees it).
    func checks(_ request: ChatRequest) -> Bool {
        if case .jsonSchema = request.responseFormat { return true }
        return !request.tools.isEmpty || !bounds.isEmpty
    }

    /// What is wrong with `response` as an answer to `request`, and the answer with a JSON
    /// answer normalised (a Markdown code fence around it removed, re-serialised), so
    /// that what the agent parses is what was checked.
    public func violations(in response: ChatResponse, for request: ChatRequest) -> (response: ChatResponse, violations: [OutputViolation]) {
        var response = response
        var violations: [OutputViolation] = []
        let offered = Dictionary(request.tools.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for call in response.message.toolCalls {
            guard let tool = offered[call.name], allowedTools?.contains(call.name) ?? true else {
                let names = offered.keys.filter { allowedTools?.contains($0) ?? true }.sorted()
                violations.append(OutputViolation(
                    rail: .toolNotAllowed,
                    message: "tool '\(call.name)' is not allowed; "
                        + (names.isEmpty ? "no tools are offered" : "call only \(names.map { "'\($0)'" }.joined(separator: ", "))")))
                continue
            }
            violations += Self.schemaViolations(of: call.arguments, against: tool.parameters, what: "the arguments of '\(call.name)'")
            violations += boundViolations(in: call.arguments, what: "the arguments of '\(call.name)'")
        }
        if case .jsonSchema(_, let schema) = request.responseFormat, response.message.toolCalls.isEmpty {
            do {
                let value = try JSONValue(parsing: Self.unfenced(response.message.content))
                response.message.content = value.jsonString
                violations += Self.schemaViolations(of: value, against: schema, what: "the answer")
                violations += boundViolations(in: value, what: "the numbers of the answer")
            } catch {
                let start = response.message.content.prefix(60)
                violations.append(OutputViolation(
                    rail: .schema,
                    message: "the answer is not JSON (\(error)); it starts with \(String(start).debugDescription)"
                        + (response.finishReason == .length ? " and was cut off by the token limit" : "")))
            }
        }
        return (response, violations)
    }

    static func schemaViolations(of value: JSONValue, against schema: JSONValue, what: String) -> [OutputViolation] {
        let compiled: JSONSchema
        do {
            compiled = try JSONSchema(schema)
        } catch {
            return [OutputViolation(rail: .schema, message: "the schema for \(what) does not compile: \(error)")]
        }
        let found = compiled.validate(value)
        guard !found.isEmpty else { return [] }
        return [OutputViolation(
            rail: .schema, message: "\(what) does not match its schema: " + found.prefix(5).map(\.description).joined(separator: "; "))]
    }

    /// Numbers under a bounded member name, at any depth, outside their bounds.
    func boundViolations(in value: JSONValue, what: String) -> [OutputViolation] {
        guard !bounds.isEmpty else { return [] }
        var found: [String] = []
        func visit(_ value: JSONValue, _ path: String) {
            switch value {
            case .object(let members):
                for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                    let memberPath = path + "." + name
                    if case .number(let number) = member, let bound = bounds[name], let problem = bound.problem(with: number) {
                        found.append("\(memberPath): \(problem)")
                    }
                    visit(member, memberPath)
                }
            case .array(let elements):
                for (index, element) in elements.enumerated() { visit(element, "\(path)[\(index)]") }
            default:
                break
            }
        }
        visit(value, "$")
        guard !found.isEmpty else { return [] }
        return [OutputViolation(rail: .numericBounds, message: "\(what) break the numeric bounds: " + found.joined(separator: "; "))]
    }

    /// The text inside a Markdown code fence, if the whole answer is one (small models
    /// like to wrap JSON in ```json … ```).
    static func unfenced(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("```"), trimmed.hasSuffix("```"), trimmed.count >= 6 else { return trimmed }
        var inner = trimmed.dropFirst(3).dropLast(3)
        if let newline = inner.firstIndex(of: "\n") { inner = inner[inner.index(after: newline)...] }
        return String(inner)
    }
}

/// Inclusive bounds on a number.
public struct NumericBound: Sendable, Hashable {
    public var minimum: Double?
    public var maximum: Double?

    public init(minimum: Double? = nil, maximum: Double? = nil) {
        self.minimum = minimum
        self.maximum = maximum
    }

    func problem(with number: Double) -> String? {
        if let minimum, number < minimum { return "\(Self.format(number)) is below the bound \(Self.format(minimum))" }
        if let maximum, number > maximum { return "\(Self.format(number)) is above the bound \(Self.format(maximum))" }
        return nil
    }

    static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}

/// One thing wrong with a model's answer.
public struct OutputViolation: Sendable, Hashable, CustomStringConvertible {
    /// ``RailTrip/Rail/schema``, ``RailTrip/Rail/toolNotAllowed`` or ``RailTrip/Rail/numericBounds``.
    public var rail: RailTrip.Rail
    public var message: String

    public init(rail: RailTrip.Rail, message: String) {
        self.rail = rail
        self.message = message
    }

    public var description: String { message }
}
