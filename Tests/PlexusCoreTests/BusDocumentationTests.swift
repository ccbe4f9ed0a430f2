import PlexusCore
import PlexusMQTT
import Testing

/// The example of docs/bus.md, verbatim, so the documentation cannot rot.
@Suite("Bus documentation")
struct BusDocumentationTests {
    @Test("the docs/bus.md example runs") func thermostatAnswersTheSetpoint() async throws {
        let bus = LocalBus()

        // The agent under test, on its own connection, with an offline card as its will.
        let thermostat = try await bus.connect(.init(
            clientID: "thermostat",
            will: MQTTMessage(topic: "plexus/agents/thermostat", payload: #"{"status":"offline"}"#,
                              qos: .atLeastOnce, retain: true)))
        let requests = try await thermostat.subscribe(to: "home/+/setpoint/get")
        let agent = Task {
            for try await request in requests {
                let room = request.topic.split(separator: "/")[1]
                try await thermostat.publish(to: "home/\(room)/setpoint", payload: "21.5")
            }
        }

        // The test's own connection watches what the agent says.
        let observer = try await bus.connect(.init(clientID: "test"))
        let answers = try await observer.subscribe(to: "home/+/setpoint")
        var iterator = answers.makeAsyncIterator()

        try await observer.publish(to: "home/hall/setpoint/get", payload: "")
        let answer = try #require(try await iterator.next())
        #expect(answer.topic == "home/hall/setpoint")
        #expect(answer.payloadString == "21.5")

        // An agent that dies leaves its offline card behind.
        try await thermostat.terminate()
        let cards = try await observer.subscribe(to: "plexus/agents/+")
        var cardIterator = cards.makeAsyncIterator()
        #expect(try await cardIterator.next()?.payloadString == #"{"status":"offline"}"#)
        _ = try await agent.value   // the agent's subscription finished with its connection
        await observer.disconnect()
    }
}
