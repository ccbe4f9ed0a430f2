import Foundation
import Testing

@testable import PlexusCore

@Suite struct ContextMessageTests {
    @Test func defaultsAndNormalization() throws {
        let message = try ContextMessage(
            kind: .observation, source: "hall-sensor", subject: "home/hall/temperature", data: 21.5,
            time: Date(timeIntervalSince1970: 1_740_830_400.123_456))
        #expect(message.dataContentType == "application/json")
        #expect(message.trust == .trusted)
        #expect(message.time == Date(timeIntervalSince1970: 1_740_830_400.123))
        #expect(message.causationID == nil && message.correlationID == nil)
        #expect(message.conversationID == message.id.string)
    }

    @Test func idsFromTheSharedGeneratorIncrease() throws {
        let messages = try (0..<100).map { _ in
            try ContextMessage(kind: .observation, source: "a", subject: "s")
        }
        #expect(zip(messages, messages.dropFirst()).allSatisfy { $0.id < $1.id })
    }

    @Test func constructionRefusesInvalidAttributes() {
        func attribute(_ make: () throws(ContextMessageError) -> ContextMessage) -> String? {
            do throws(ContextMessageError) {
                _ = try make()
                return nil
            } catch {
                return error.attribute
            }
        }
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a/b", subject: "s") } == "source")
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "", subject: "s") } == "source")
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "+", subject: "s") } == "source")
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "home//hall") } == "subject")
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "home/#") } == "subject")
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "$SYS/x") } == "subject")
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "s", time: Date(timeIntervalSince1970: 1e12)) } == "time")
        #expect(
            attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "s", dataContentType: "text/plain") }
                == "datacontenttype")
        #expect(
            attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "s", data: ["x": .number(.nan)]) }
                == "data")
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "s", confidence: 1.01) } == "confidence")
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "s", confidence: .nan) } == "confidence")
        #expect(attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "s", causationID: "") } == "causationid")
        #expect(
            attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "s", correlationID: "a\nb") }
                == "correlationid")
        #expect(
            attribute { () throws(ContextMessageError) in
                try ContextMessage(kind: .alert, source: "a", subject: "s", expires: Date(timeIntervalSince1970: -1e12))
            } == "expires")
        #expect(
            attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "s", extensions: ["Trace": "x"]) }
                == "Trace")
        #expect(
            attribute { () throws(ContextMessageError) in try ContextMessage(kind: .alert, source: "a", subject: "s", extensions: ["subject": "x"]) }
                == "subject")
    }

    @Test func replyThreadsTheConversation() throws {
        let question = try ContextMessage(kind: .question, source: "planner", subject: "home/hall", data: "Is anyone home?")
        let answer = try question.reply(kind: .answer, source: "presence", data: false)
        #expect(answer.causationID == question.id.string)
        #expect(answer.correlationID == question.id.string)
        #expect(answer.subject == question.subject)
        #expect(answer.id > question.id)

        let followUp = try answer.reply(kind: .proposal, source: "planner", subject: "home/hall/lights", data: ["on": false])
        #expect(followUp.causationID == answer.id.string)
        #expect(followUp.correlationID == question.id.string)
        #expect(followUp.subject == "home/hall/lights")
        #expect(followUp.conversationID == question.conversationID)
    }

    @Test func replyIsValidated() {
        #expect(throws: ContextMessageError.self) {
            let message = try ContextMessage(kind: .question, source: "planner", subject: "s")
            _ = try message.reply(kind: .answer, source: "bad/agent")
        }
    }

    @Test func untrustedIsContagious() throws {
        let camera = try ContextMessage(kind: .observation, source: "camera", subject: "porch", data: "label text", trust: .untrusted)
        let clock = try ContextMessage(kind: .observation, source: "clock", subject: "time")

        // A reply to untrusted content is untrusted even if the replier trusts itself.
        #expect(try camera.reply(kind: .insight, source: "vision").trust == .untrusted)
        #expect(try clock.reply(kind: .insight, source: "vision").trust == .trusted)
        #expect(try clock.reply(kind: .insight, source: "vision", trust: .untrusted).trust == .untrusted)

        let summary = try ContextMessage(kind: .insight, source: "summariser", subject: "porch")
        #expect(summary.derived(from: [clock]).trust == .trusted)
        #expect(summary.derived(from: [clock, camera]).trust == .untrusted)
        // Nothing makes an untrusted message trusted again.
        #expect(summary.derived(from: [camera]).derived(from: [clock]).trust == .untrusted)
        #expect(summary.derived(from: []).trust == .trusted)

        #expect(ContextMessageTrust.derived(from: []) == .trusted)
        #expect(ContextMessageTrust.derived(from: [.trusted, .untrusted, .trusted]) == .untrusted)
        #expect(ContextMessageTrust.trusted.combined(with: .trusted) == .trusted)
    }

    @Test func expiry() throws {
        let message = try ContextMessage(
            kind: .alert, source: "a", subject: "s", expires: referenceDate.addingTimeInterval(10))
        #expect(!message.isExpired(at: referenceDate))
        #expect(message.isExpired(at: referenceDate.addingTimeInterval(10)))
        #expect(try !ContextMessage(kind: .alert, source: "a", subject: "s").isExpired())
    }

    @Test func kindsAndTypes() {
        #expect(ContextMessageKind.allCases.map(\.rawValue) == [
            "observation", "insight", "question", "answer", "proposal", "decision", "alert",
        ])
        #expect(ContextMessageKind.alert.cloudEventType == "plexus.alert")
        #expect(ContextMessageKind(cloudEventType: "plexus.alert") == .alert)
        #expect(ContextMessageKind(cloudEventType: "alert") == .alert)
        #expect(ContextMessageKind(cloudEventType: "com.example.alert") == nil)
        #expect(ContextMessageKind(cloudEventType: "plexus.") == nil)
    }

    @Test func descriptionIsOneLine() throws {
        let message = try sampleMessage()
        #expect(message.description.hasPrefix("01JN7ZQ4Y0R8N3E6W9B2C5D7FG insight climate-agent home/hall/temperature [untrusted] {"))
        #expect(!message.description.contains("\n"))
    }

    @Test func codableIsTheCloudEventsJSONFormat() throws {
        let message = try sampleMessage()
        let encoded = try JSONEncoder().encode(message)
        #expect(try JSONDecoder().decode(ContextMessage.self, from: encoded) == message)
        let object = try JSONDecoder().decode(JSONValue.self, from: encoded)
        #expect(object == message.cloudEvent)

        let error = try #require(throws: DecodingError.self) {
            try JSONDecoder().decode(ContextMessage.self, from: Data(#"{"specversion":"1.0"}"#.utf8))
        }
        guard case .dataCorrupted(let context) = error else { throw error }
        #expect(context.debugDescription == #"missing required attribute "id""#)
    }

    @Test func errorDescriptionsAreStable() {
        #expect(ContextMessageError.missingAttribute("id").description == #"missing required attribute "id""#)
        #expect(
            ContextMessageError.invalidAttribute("confidence", reason: "1.5 is not between 0 and 1").description
                == #"invalid attribute "confidence": 1.5 is not between 0 and 1"#)
        #expect(ContextMessageError.duplicateAttribute("id").description == #"attribute "id" appears more than once"#)
        #expect(
            ContextMessageError.payloadTooLarge(size: 300_000, limit: 262_144).description
                == "payload of 300000 bytes exceeds the limit of 262144 bytes")
        #expect(ContextMessageError.quote("a\"b\n\u{202E}") == #""a\"b\u{a}\u{202e}""#)
        #expect(ContextMessageError.quote(String(repeating: "x", count: 100)).count == 67)
    }
}
