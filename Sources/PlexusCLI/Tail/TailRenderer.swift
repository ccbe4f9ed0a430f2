import Foundation
import PlexusCore

/// Turns tail events into lines: aligned, coloured, threaded text for people, or one
/// JSON object per event for machines (`--json`).
struct TailRenderer {
    enum Mode: Sendable {
        case human(Palette)
        case json
    }

    var mode: Mode
    private var threads = Threads()
    /// Column widths grow with what was seen, so lines stay aligned without a header.
    private var sourceWidth = 14
    private var subjectWidth = 18
    private static let maximumSourceWidth = 28
    private static let maximumSubjectWidth = 32
    private static let kindWidth = ContextMessageKind.allCases.map(\.rawValue.count).max() ?? 11

    init(mode: Mode) {
        self.mode = mode
    }

    /// The line(s) for `event`, ending in a newline.
    mutating func render(_ event: TailEvent) -> String {
        var placement = (depth: 0, causeSeen: false)
        if case .message(let message) = event.kind {
            placement = threads.place(message)
        }
        switch mode {
        case .json:
            return Self.json(event, depth: placement.depth, causeSeen: placement.causeSeen).jsonString + "\n"
        case .human(let palette):
            return human(event, placement: placement, palette) + "\n"
        }
    }

    // MARK: - People

    private mutating func human(_ event: TailEvent, placement: (depth: Int, causeSeen: Bool), _ p: Palette) -> String {
        switch event.kind {
        case .message(let message):
            return messageLine(message, placement: placement, retained: event.retained, p)
        case .presence(let card):
            let time = p.paint(LocalTime.clock(event.retained ? (card.since ?? event.receivedAt) : event.receivedAt), .dim)
            return "\(time)  \(Self.blankID)" + Self.presence(card, retained: event.retained, p)
        case .presenceRemoved(let agent):
            return "\(p.paint(LocalTime.clock(event.receivedAt), .dim))  \(Self.blankID)\(p.paint("○", .dim)) \(p.paint(agent, .bold)) "
                + p.paint("card removed", .dim)
        case .deadLetter(let letter):
            var line = "\(p.paint(LocalTime.clock(event.receivedAt), .dim))  \(Self.blankID)\(p.paint("✗ dead letter", .boldRed)) "
                + "\(p.paint(letter.agent, .bold)) rejected"
            if let topic = letter.originalTopic { line += " a message on \(topic)" }
            line += ": " + p.paint(letter.reason ?? "no reason given", .red)
            if !letter.payloadSummary.isEmpty { line += p.paint("  · " + letter.payloadSummary, .dim) }
            return line
        case .malformed(let what, _, _, let reason):
            var line = "\(p.paint(LocalTime.clock(event.receivedAt), .dim))  \(Self.blankID)\(p.paint("⚠ malformed \(what)", .boldYellow)) "
                + "on \(event.topic): \(p.paint(reason, .yellow))"
            let summary = DeadLetter.summary(of: event.payload)
            if !summary.isEmpty { line += p.paint("  · " + summary, .dim) }
            return line
        }
    }

    private mutating func messageLine(
        _ message: ContextMessage, placement: (depth: Int, causeSeen: Bool), retained: Bool, _ p: Palette
    ) -> String {
        var lead = ""
        var leadStyled = ""
        if placement.causeSeen {
            lead = String(repeating: "  ", count: placement.depth - 1) + "└ "
            leadStyled = p.paint(lead, .dim)
        } else if let cause = message.causationID {
            lead = "↳ \(Threads.shortID(cause)) "
            leadStyled = p.paint(lead, .dim)
        }
        let sourceText = lead + message.source
        sourceWidth = min(max(sourceWidth, sourceText.count), Self.maximumSourceWidth)
        subjectWidth = min(max(subjectWidth, message.subject.count), Self.maximumSubjectWidth)
        let sourcePadding = String(repeating: " ", count: max(0, sourceWidth - sourceText.count))
        let subjectPadding = String(repeating: " ", count: max(0, subjectWidth - message.subject.count))

        var line = p.paint(LocalTime.clock(message.time), .dim) + "  "
        line += p.paint(Threads.shortID(message.id.string), .dim) + "  "
        line += leadStyled + p.paint(message.source, .bold) + sourcePadding + "  "
        line += p.paint(message.kind.rawValue.padded(to: Self.kindWidth), Self.style(of: message.kind)) + "  "
        line += message.subject + subjectPadding + "  "
        line += message.data == .null ? p.paint("—", .dim) : message.data.summary(limit: 60)
        if let confidence = message.confidence {
            line += "  " + p.paint(Self.percent(confidence), .cyan)
        }
        if message.trust == .untrusted {
            line += "  " + p.paint("⚠ untrusted", .yellow)
        }
        if message.isExpired(at: Date()) {
            line += "  " + p.paint("expired", .dim)
        }
        if retained {
            line += "  " + p.paint("retained", .dim)
        }
        return line
    }

    /// The space the short id takes on lines that are not messages.
    static let blankID = String(repeating: " ", count: 8)

    /// `● climate-agent online (climate)  listens home/+/temperature · shares home/hall/comfort`
    static func presence(_ card: AgentCard, retained: Bool, _ p: Palette) -> String {
        let (symbol, style): (String, Palette.Style) =
            switch card.status {
            case .online: ("●", .green)
            case .offline: ("○", .dim)
            case .restarting: ("◐", .yellow)
            case .failed: ("✗", .red)
            }
        var line = "\(p.paint(symbol, style)) \(p.paint(card.id, .bold)) \(p.paint(card.status.rawValue, style)) (\(card.type))"
        if card.status == .online {
            var details: [String] = []
            if !card.subscriptions.isEmpty { details.append("listens " + card.subscriptions.joined(separator: ", ")) }
            if !card.shares.isEmpty { details.append("shares " + card.shares.joined(separator: ", ")) }
            if !details.isEmpty { line += "  " + p.paint(details.joined(separator: " · "), .dim) }
        }
        if retained {
            let since = card.since ?? (card.status == .online ? card.startedAt : nil)
            line += "  " + p.paint(since.map { "[retained, since \(LocalTime.age(of: $0))]" } ?? "[retained]", .dim)
        }
        return line
    }

    static func style(of kind: ContextMessageKind) -> Palette.Style? {
        switch kind {
        case .observation: nil
        case .insight: .magenta
        case .question: .cyan
        case .answer: .green
        case .proposal: .yellow
        case .decision: .blue
        case .alert: .boldRed
        }
    }

    /// `85%`, or `85.5%` when a whole percent would hide the difference.
    static func percent(_ confidence: Double) -> String {
        let value = confidence * 100
        let whole = value.rounded()
        if abs(value - whole) < 0.05 { return "\(Int(whole))%" }
        return "\((value * 10).rounded() / 10)%"
    }

    // MARK: - Machines

    /// One event as a JSON object (keys sorted when written). Every event has `event`,
    /// `topic`, `retained` and `received_at`; the rest depends on `event`.
    static func json(_ event: TailEvent, depth: Int, causeSeen: Bool) -> JSONValue {
        var object: [String: JSONValue] = [
            "topic": .string(event.topic),
            "retained": .bool(event.retained),
            "received_at": .string(LocalTime.iso(event.receivedAt)),
        ]
        switch event.kind {
        case .message(let message):
            object["event"] = "message"
            object["id"] = .string(message.id.string)
            object["source"] = .string(message.source)
            object["kind"] = .string(message.kind.rawValue)
            object["subject"] = .string(message.subject)
            object["time"] = .string(LocalTime.iso(message.time))
            object["data"] = message.data
            object["summary"] = .string(message.data.summary(limit: 80))
            object["trust"] = .string(message.trust.rawValue)
            object["depth"] = .number(Double(depth))
            object["cause_seen"] = .bool(causeSeen)
            if message.dataContentType != ContextMessage.defaultDataContentType {
                object["data_content_type"] = .string(message.dataContentType)
            }
            if let cause = message.causationID { object["causation_id"] = .string(cause) }
            if let correlation = message.correlationID { object["correlation_id"] = .string(correlation) }
            if let confidence = message.confidence { object["confidence"] = .number(confidence) }
            if let expires = message.expires { object["expires"] = .string(LocalTime.iso(expires)) }
            if !message.extensions.isEmpty {
                object["extensions"] = .object(message.extensions.mapValues(JSONValue.string))
            }
        case .presence(let card):
            object["event"] = "presence"
            object["agent"] = .string(card.id)
            object["status"] = .string(card.status.rawValue)
            object["card"] = card.json
        case .presenceRemoved(let agent):
            object["event"] = "presence"
            object["agent"] = .string(agent)
            object["status"] = "removed"
        case .deadLetter(let letter):
            object["event"] = "dead_letter"
            object["agent"] = .string(letter.agent)
            object["reason"] = letter.reason.map(JSONValue.string) ?? .null
            if let topic = letter.originalTopic { object["original_topic"] = .string(topic) }
            addPayload(event.payload, to: &object)
        case .malformed(let what, let agent, let subject, let reason):
            object["event"] = "malformed"
            object["what"] = .string(what == "agent card" ? "agent_card" : what)
            object["reason"] = .string(reason)
            if let agent { object["agent"] = .string(agent) }
            if let subject { object["subject"] = .string(subject) }
            addPayload(event.payload, to: &object)
        }
        return .object(object)
    }

    private static func addPayload(_ bytes: [UInt8], to object: inout [String: JSONValue]) {
        if let text = String(validating: bytes, as: UTF8.self) {
            object["payload"] = .string(text)
            object["payload_encoding"] = "utf8"
        } else {
            object["payload"] = .string(Data(bytes).base64EncodedString())
            object["payload_encoding"] = "base64"
        }
    }
}
