import Foundation
import PlexusCore

extension AgentMemory {
    /// Assembles prompt context from this agent's memory within `budget` tokens
    /// (estimated with ``TokenEstimate``), reporting what it left out.
    ///
    /// ```swift
    /// let context = try await memory.contextWindow(budget: 1_500)
    /// prompt += context.text
    /// if !context.isComplete { prompt += "\n(Older context omitted.)" }
    /// ```
    ///
    /// Sections are filled in ``ContextWindowOptions/sections`` order, each item
    /// added only if it still fits; an item that does not fit is counted in
    /// ``ContextWindow/omitted`` and smaller ones after it may still get in.
    public func contextWindow(
        budget: Int, options: ContextWindowOptions = ContextWindowOptions()
    ) async throws(MemoryError) -> ContextWindow {
        let asOf = options.asOf ?? store.now()
        var candidates: [ContextWindow.Section: [ContextWindow.Item]] = [:]
        let agentSummary = try await summaries(conversation: nil, limit: 1).first { $0.coversUntil <= asOf }
        for section in options.sections {
            switch section {
            case .summaries:
                var items: [ContextWindow.Item] = []
                if let conversation = options.conversation,
                    let summary = try await summaries(conversation: conversation, limit: 1).first
                {
                    items.append(Self.item(.summaries, "conversation \(conversation) until \(Self.time(summary.coversUntil)): \(summary.content)", .trusted))
                }
                if let agentSummary {
                    items.append(Self.item(.summaries, "until \(Self.time(agentSummary.coversUntil)): \(agentSummary.content)", .trusted))
                }
                candidates[section] = items
            case .facts:
                let facts = try await currentFacts(subject: options.factSubject, asOf: asOf, limit: options.maximumFacts)
                candidates[section] = facts.map { Self.item(.facts, Self.describe($0), $0.trust) }
            case .telemetry:
                let series = try await telemetry(
                    from: asOf.addingTimeInterval(-Double(MillisecondTime.milliseconds(options.telemetryLookback)) / 1000),
                    to: asOf.addingTimeInterval(0.001), window: options.telemetryWindow)
                let busiest = series.sorted { ($0.overall?.count ?? 0) > ($1.overall?.count ?? 0) }
                    .prefix(options.maximumTelemetryTopics)
                candidates[section] = busiest.compactMap { series in
                    Self.describe(series, lookback: options.telemetryLookback).map { Self.item(.telemetry, $0, .untrusted) }
                }
            case .messages:
                let since = agentSummary.map { $0.coversUntil.addingTimeInterval(0.001) }
                let messages = try await recentMessages(since: since, limit: options.maximumMessages)
                    .filter { $0.time <= asOf }
                candidates[section] = messages.map {
                    Self.item(.messages, Self.describe($0, characters: options.messageCharacters), $0.trust ?? .untrusted)
                }
            }
        }
        return Self.assemble(budget: budget, sections: options.sections, candidates: candidates)
    }

    static func assemble(
        budget: Int, sections: [ContextWindow.Section], candidates: [ContextWindow.Section: [ContextWindow.Item]]
    ) -> ContextWindow {
        var used = 0
        var included: [ContextWindow.Item] = []
        var omitted: [ContextWindow.Omission] = []
        var text = ""
        for section in sections {
            let items = candidates[section] ?? []
            guard !items.isEmpty else { continue }
            // The heading costs its tokens only once the section has an item; a blank line separates sections.
            let heading = (text.isEmpty ? "" : "\n") + section.heading + "\n"
            let headingTokens = TokenEstimate.tokens(in: heading)
            var sectionItems: [ContextWindow.Item] = []
            var omission = ContextWindow.Omission(section: section, count: 0, tokens: 0)
            for item in items {
                let cost = item.tokens + (sectionItems.isEmpty ? headingTokens : 0)
                if used + cost <= budget {
                    used += cost
                    sectionItems.append(item)
                } else {
                    omission.count += 1
                    omission.tokens += item.tokens
                }
            }
            if !sectionItems.isEmpty {
                text += heading
                // Messages are chosen newest first but read oldest first.
                let ordered = section == .messages ? sectionItems.reversed() : sectionItems
                for item in ordered { text += "- " + item.text + "\n" }
                included += ordered
            }
            if omission.count > 0 { omitted.append(omission) }
        }
        let trust = ContextMessageTrust.derived(from: included.map(\.trust))
        return ContextWindow(
            budget: budget, items: included, omitted: omitted, text: text, estimatedTokens: TokenEstimate.tokens(in: text),
            trust: trust)
    }

    private static func item(_ section: ContextWindow.Section, _ text: String, _ trust: ContextMessageTrust) -> ContextWindow.Item {
        let line = text + (trust == .untrusted ? " [untrusted]" : "")
        return ContextWindow.Item(section: section, text: line, tokens: TokenEstimate.tokens(in: "- " + line + "\n"), trust: trust)
    }

    static func time(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.4g", value)
    }

    private static func describe(_ fact: Fact) -> String {
        var notes = ["from \(fact.source)"]
        if let confidence = fact.confidence { notes.append("confidence \(number(confidence))") }
        notes.append("since \(time(fact.validFrom))")
        if let until = fact.validUntil { notes.append("until \(time(until))") }
        return "\(fact.subject) \(fact.predicate) = \(fact.value.summary(limit: 200)) (\(notes.joined(separator: ", ")))"
    }

    private static func describe(_ series: TelemetrySeries, lookback: Duration) -> String? {
        guard let overall = series.overall else { return nil }
        let minutes = Double(MillisecondTime.milliseconds(lookback)) / 60_000
        var line = "\(series.topic) over \(number(minutes)) min: n=\(overall.count) min=\(number(overall.minimum))"
            + " max=\(number(overall.maximum)) mean=\(number(overall.mean)) last=\(number(overall.last))"
        if series.windows.count > 1 {
            line += "; window means " + series.windows.map { number($0.mean) }.joined(separator: " ")
        }
        return line
    }

    private static func describe(_ message: LoggedMessage, characters: Int) -> String {
        var content: String
        if let context = message.contextMessage {
            content = "\(context.kind) from \(context.source) on \(context.subject): \(context.data.summary(limit: max(characters, 8)))"
        } else {
            content = "\(message.topic): " + message.envelope.replacingOccurrences(of: "\n", with: " ")
            if content.count > characters { content = String(content.prefix(max(characters - 1, 1))) + "…" }
        }
        return "\(time(message.time)) \(message.direction.rawValue) \(content)"
    }
}
