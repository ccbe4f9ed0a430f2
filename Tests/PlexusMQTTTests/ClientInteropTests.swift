import Foundation
import NIOCore
import PlexusMQTT
import PlexusTesting
import Testing

/// Messages exchanged both ways with an independent client, Eclipse paho-mqtt 2.x
/// (installed into a cached venv by `make deps`; `PLEXUS_PYTHON` names its python).
@Suite("Interoperability with paho-mqtt")
struct ClientInteropTests {
    static var python: String {
        if let configured = ProcessInfo.processInfo.environment["PLEXUS_PYTHON"], !configured.isEmpty { return configured }
        return NSHomeDirectory() + "/.cache/plexus/venv/bin/python"
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/paho_peer.py").path
    }

    static func requirePaho() async throws {
        let check = try await TestProcess.run(python, ["-c", "import paho.mqtt; print(paho.mqtt.__version__)"])
        try #require(check.succeeded, "paho-mqtt is not installed for \(python): run `make deps` (\(check))")
    }

    static func decode(_ line: Substring) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("paho receives our MQTT 5 properties")
    func pahoReceivesOurs() async throws {
        try await Self.requirePaho()
        try await withMosquitto { broker in
            let subscriber = try TestProcess.launch(
                Self.python, [Self.script, "sub", broker.host, String(broker.port), "interop/to-paho", "1", "120"]
            )
            #expect(await subscriber.waitForOutput(containing: "READY"))
            try await withClient(try testConfiguration(broker.url)) { client in
                let properties = MQTTProperties(
                    payloadFormat: .utf8, messageExpiryInterval: 600, contentType: "application/json",
                    responseTopic: "interop/answer", correlationData: [9, 8, 7],
                    userProperties: [.init("origin", "plexus"), .init("origin", "swift")]
                )
                try await client.publish(to: "interop/to-paho", payload: "{\"t\":21.5}", qos: .atLeastOnce, properties: properties)
            }
            let output = await subscriber.wait(timeout: .seconds(60))
            let line = try #require(output.standardOutput.split(separator: "\n").first { $0.hasPrefix("{") })
            let message = try Self.decode(line)
            #expect(message["payload"] as? String == "{\"t\":21.5}")
            #expect(message["ContentType"] as? String == "application/json")
            #expect(message["ResponseTopic"] as? String == "interop/answer")
            #expect(message["CorrelationData"] as? [Int] == [9, 8, 7])
            #expect(message["PayloadFormatIndicator"] as? Int == 1)
            #expect((message["MessageExpiryInterval"] as? Int ?? 0) > 0)
            #expect(message["UserProperty"] as? [[String]] == [["origin", "plexus"], ["origin", "swift"]])
        }
    }

    @Test("we receive paho's MQTT 5 properties")
    func weReceivePaho() async throws {
        try await Self.requirePaho()
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                let subscription = try await client.subscribe(to: "interop/from-paho")
                let output = try await TestProcess.run(
                    Self.python, [Self.script, "pub", broker.host, String(broker.port), "interop/from-paho", "hello from paho"],
                    timeout: .seconds(20)
                )
                #expect(output.standardOutput.contains("PUBLISHED"), "\(output)")
                let message = try #require(try await collect(1, from: subscription).first)
                #expect(message.payloadString == "hello from paho")
                #expect(message.properties.contentType == "text/plain")
                #expect(message.properties.responseTopic == "interop/reply")
                #expect(message.properties.correlationData == [1, 2, 0xFF])
                #expect((message.properties.messageExpiryInterval ?? 0) > 0)
                #expect(message.properties.userProperties == [.init("origin", "paho"), .init("lang", "python")])
            }
        }
    }

    @Test("a shared subscription with a paho member splits the stream without duplicates")
    func sharedWithPaho() async throws {
        try await Self.requirePaho()
        try await withMosquitto { broker in
            // paho stays a member until the stop message, however long a loaded machine
            // takes to get there: a member that left early would get no share.
            let paho = try TestProcess.launch(
                Self.python, [Self.script, "sub", broker.host, String(broker.port), "$share/mixed/work/#", "40", "120", "stop"]
            )
            #expect(await paho.waitForOutput(containing: "READY"))
            try await withClient(try testConfiguration(broker.url)) { client in
                let ours = try await client.subscribe(to: "$share/mixed/work/#")
                for index in 0..<40 {
                    try await client.publish(to: "work/\(index)", payload: "\(index)", qos: .atLeastOnce)
                }
                // The broker sends paho its share before the stop message, on one connection in order.
                try await client.publish(to: "stop", payload: "", qos: .atLeastOnce)
                let pahoOutput = await paho.wait(timeout: .seconds(60))
                let pahoPayloads = try pahoOutput.standardOutput.split(separator: "\n").filter { $0.hasPrefix("{") }
                    .map { try Self.decode($0)["payload"] as? String ?? "" }
                let oursCount = 40 - pahoPayloads.count
                #expect(!pahoPayloads.isEmpty, "paho got a share")
                #expect(oursCount > 0, "we got a share")
                let ourPayloads = try await collect(oursCount, from: ours).map(\.payloadString)
                #expect(Set(ourPayloads + pahoPayloads) == Set((0..<40).map(String.init)))
                #expect(ourPayloads.count + pahoPayloads.count == 40)
            }
        }
    }
}
