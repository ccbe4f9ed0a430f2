import NIOCore
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

/// One contract, two buses: every scenario runs against ``LocalBus`` and against
/// ``MQTTBus`` on a real Mosquitto, so LocalBus cannot drift from what a broker does.
///
/// Absence is shown with a sentinel: after the step that must deliver nothing, a
/// message that does match is published, and it must be the first to arrive.
@Suite("Bus conformance")
struct BusConformanceTests {
    @Test("wildcards + and # match per the MQTT 5 table", arguments: BusKind.allCases)
    func wildcardTable(_ kind: BusKind) async throws {
        let topics = ["a", "a/b", "a/b/c", "a/c", "a/b/c/d", "/a", "a/", "b/b", "A/b", "a//c", "$x/a", "$x"]
        // Written out by hand from MQTT 5.0 §4.7, not computed by the matcher under test.
        let table: [(filter: String, matches: [String])] = [
            ("a/b", ["a/b"]),
            ("a/+", ["a/b", "a/c", "a/"]),
            ("a/#", ["a", "a/b", "a/b/c", "a/c", "a/b/c/d", "a/", "a//c"]),
            ("#", ["a", "a/b", "a/b/c", "a/c", "a/b/c/d", "/a", "a/", "b/b", "A/b", "a//c"]),
            ("+/b", ["a/b", "b/b", "A/b"]),
            ("+", ["a"]),
            ("/+", ["/a"]),
            ("+/+", ["a/b", "a/c", "/a", "a/", "b/b", "A/b"]),
            ("a/+/c", ["a/b/c", "a//c"]),
            ("a/b/#", ["a/b", "a/b/c", "a/b/c/d"]),
            ("+/+/+", ["a/b/c", "a//c"]),
            ("+/a", ["/a"]),
            ("$x/#", ["$x/a", "$x"]),
            ("$x/+", ["$x/a"]),
            ("A/#", ["A/b"]),
        ]
        try await withBus(kind) { bus in
            var probes: [Probe] = []
            // One connection per filter: each also subscribes to the sentinel, and one
            // connection subscribing to "zz/end" twice would replace the first.
            for (index, row) in table.enumerated() {
                let connection = try await bus.connect("wild-\(index)")
                probes.append(try await connection.probe([.init(filter: row.filter), .init(filter: "zz/end")]))
            }
            let publisher = try await bus.connect("publisher")
            for topic in topics {
                try await publisher.publish(to: topic, payload: topic)
            }
            try await publisher.publish(to: "zz/end", payload: "")
            for (row, probe) in zip(table, probes) {
                let received = try await probe.until(topic: "zz/end").map(\.topic)
                #expect(received == row.matches, "filter \(row.filter)")
            }
        }
    }

    @Test("topics starting with $ are not matched by a leading wildcard", arguments: BusKind.allCases)
    func dollarTopics(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let subscriber = try await bus.connect("subscriber")
            let everything = try await subscriber.probe("#")
            let anyStatus = try await subscriber.probe("+/status")
            let dollar = try await subscriber.probe("$plexus/#")
            let publisher = try await bus.connect("publisher")
            try await publisher.publish(to: "$plexus/status", payload: "hidden")
            try await publisher.publish(to: "room/status", payload: "visible")
            #expect(try await everything.next().map(\.topic) == ["room/status"])
            #expect(try await anyStatus.next().map(\.topic) == ["room/status"])
            #expect(try await dollar.next().map(\.topic) == ["$plexus/status"])
        }
    }

    @Test("retained messages: set, replace, clear, and retain handling", arguments: BusKind.allCases)
    func retained(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let publisher = try await bus.connect("publisher")
            try await publisher.publish(to: "r/1", payload: "one", retain: true)
            try await publisher.publish(to: "r/2", payload: "two", retain: true)
            try await publisher.publish(to: "r/3", payload: "three", retain: true)
            try await publisher.publish(to: "r/3", payload: "", retain: true)

            // Retained messages arrive on subscribe, flagged RETAIN; a cleared one does not.
            let first = try await bus.connect("first")
            let live = try await first.probe("r/+")
            let asPublished = try await bus.connect("as-published")
                .probe([.init(filter: "r/+", retainAsPublished: true)])
            try await publisher.publish(to: "r/end", payload: "")
            let initial = try await live.until(topic: "r/end")
            #expect(Set(initial.map { "\($0.topic)=\($0.payloadString)" }) == ["r/1=one", "r/2=two"])
            #expect(initial.allSatisfy { $0.retain })
            #expect(initial.count == 2)
            _ = try await asPublished.until(topic: "r/end")

            // Live messages lose the flag, unless the subscription keeps it as published.
            try await publisher.publish(to: "r/1", payload: "uno", retain: true)
            try await publisher.publish(to: "r/2", payload: "", retain: true)
            let updates = try await live.next(2)
            #expect(updates.map(\.topic) == ["r/1", "r/2"])
            #expect(updates.map(\.payloadString) == ["uno", ""])
            #expect(updates.map(\.retain) == [false, false])
            #expect(try await asPublished.next(2).map(\.retain) == [true, true])

            // A new subscriber sees the replaced value and not the cleared one.
            let later = try await bus.connect("later").probe("r/+")
            try await publisher.publish(to: "r/end", payload: "")
            let replay = try await later.until(topic: "r/end")
            #expect(replay.map { "\($0.topic)=\($0.payloadString)" } == ["r/1=uno"])
            #expect(replay.map(\.retain) == [true])

            // Retain handling 2: never; 1: only when the subscription is new.
            let never = try await bus.connect("never")
                .probe([.init(filter: "r/+", retainHandling: .doNotSend)])
            let repeating = try await bus.connect("repeating")
            let firstTime = try await repeating.probe([.init(filter: "r/#", retainHandling: .sendOnSubscribeIfNew)])
            let secondTime = try await repeating.probe([.init(filter: "r/#", retainHandling: .sendOnSubscribeIfNew)])
            try await publisher.publish(to: "r/end", payload: "")
            #expect(try await never.until(topic: "r/end").isEmpty)
            #expect(try await firstTime.next().map(\.payloadString) == ["uno"])
            #expect(try await secondTime.until(topic: "r/end").isEmpty)
        }
    }

    @Test("an expired retained message is not delivered; the expiry counts down", arguments: BusKind.allCases)
    func retainedExpiry(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let publisher = try await bus.connect("publisher")
            try await publisher.publish(
                to: "e/short", payload: "soon gone", retain: true, properties: .init(messageExpiryInterval: 1))
            try await publisher.publish(
                to: "e/long", payload: "stays", retain: true, properties: .init(messageExpiryInterval: 600))
            try await Task.sleep(for: .milliseconds(2_500))
            let subscriber = try await bus.connect("subscriber").probe("e/+")
            try await publisher.publish(to: "e/end", payload: "")
            let replay = try await subscriber.until(topic: "e/end")
            #expect(replay.map(\.topic) == ["e/long"])
            let remaining = try #require(replay.first?.properties.messageExpiryInterval)
            #expect((500...598).contains(remaining), "expiry interval \(remaining) after at least 2.5 s of 600")
        }
    }

    @Test("a shared subscription gives each message to exactly one member", arguments: BusKind.allCases)
    func sharedSubscription(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let publisher = try await bus.connect("publisher")
            // No retained message here: MQTT 5 sends none to a new shared subscription
            // (LocalBus follows that), Mosquitto 2.0.11 does; see BusLocalTests.
            var members: [Probe] = []
            for index in 0..<3 {
                members.append(try await bus.connect("member-\(index)").probe("$share/workers/s/#"))
            }
            let everyone = try await bus.connect("watcher").probe("s/#")

            for index in 0..<30 {
                try await publisher.publish(to: "s/job", payload: "\(index)")
            }
            #expect(try await everyone.next(30).map(\.payloadString) == (0..<30).map { "\($0)" })
            try await waitUntil("30 jobs handed out") { members.map(\.messages.count).reduce(0, +) >= 30 }
            let handed = members.flatMap(\.messages).map(\.payloadString)
            #expect(handed.sorted() == (0..<30).map { "\($0)" }.sorted(), "every job once, none twice")
            #expect(members.allSatisfy { !$0.messages.isEmpty }, "each member gets a share")

            // A member that leaves takes no more messages; the others take them all.
            try await members[0].subscription.unsubscribe()
            for index in 30..<40 {
                try await publisher.publish(to: "s/job", payload: "\(index)")
            }
            try await waitUntil("10 more jobs") { members.dropFirst().map(\.messages.count).reduce(0, +) >= 40 - members[0].messages.count }
            let afterLeaving = members.dropFirst().flatMap(\.messages).map(\.payloadString)
            let leaverJobs = members[0].messages.map(\.payloadString)
            #expect((afterLeaving + leaverJobs).sorted() == (0..<40).map { "\($0)" }.sorted())
        }
    }

    @Test("No Local keeps a connection's own messages from its subscription", arguments: BusKind.allCases)
    func noLocal(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let alice = try await bus.connect("alice")
            let bob = try await bus.connect("bob")
            let aliceSees = try await alice.probe([.init(filter: "n/#", noLocal: true)])
            let bobSees = try await bob.probe("n/#")
            try await alice.publish(to: "n/from-alice", payload: "a")
            try await bob.publish(to: "n/from-bob", payload: "b")
            #expect(try await aliceSees.next().map(\.topic) == ["n/from-bob"])
            #expect(try await bobSees.next(2).map(\.topic) == ["n/from-alice", "n/from-bob"])
        }
    }

    @Test("messages arrive with at most the subscription's granted QoS", arguments: BusKind.allCases)
    func qosDowngrade(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let subscriber = try await bus.connect("subscriber")
            let subscription = try await subscriber.subscribe(to: [
                .init(filter: "q/0", qos: .atMostOnce),
                .init(filter: "q/1", qos: .atLeastOnce),
                .init(filter: "q/2", qos: .exactlyOnce),
            ])
            #expect(subscription.grantedQoS == [.atMostOnce, .atLeastOnce, .exactlyOnce])
            let probe = Probe(subscription)
            let publisher = try await bus.connect("publisher")
            let sends: [(String, MQTTQoS, MQTTQoS)] = [
                ("q/0", .exactlyOnce, .atMostOnce),
                ("q/1", .exactlyOnce, .atLeastOnce),
                ("q/2", .exactlyOnce, .exactlyOnce),
                ("q/2", .atLeastOnce, .atLeastOnce),
                ("q/1", .atMostOnce, .atMostOnce),
            ]
            for (index, (topic, qos, _)) in sends.enumerated() {
                try await publisher.publish(to: topic, payload: "\(index)", qos: qos)
            }
            let received = try await probe.next(sends.count).sorted { Int($0.payloadString)! < Int($1.payloadString)! }
            #expect(received.map(\.qos) == sends.map(\.2))
        }
    }

    @Test("MQTT 5 properties and payload bytes pass through unchanged", arguments: BusKind.allCases)
    func propertiesPassThrough(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let subscriber = try await bus.connect("subscriber").probe("p/#")
            let publisher = try await bus.connect("publisher")
            let properties = MQTTProperties(
                payloadFormat: .utf8, messageExpiryInterval: 120, contentType: "application/cloudevents+json",
                responseTopic: "p/replies/publisher", correlationData: [0, 1, 2, 255],
                userProperties: [.init("ce_type", "observation"), .init("ce_source", "door"), .init("ce_type", "again")]
            )
            try await publisher.publish(to: "p/text", payload: "grüße {\"t\":21}", qos: .exactlyOnce, properties: properties)
            let bytes: [UInt8] = [0, 255, 10, 13, 0x80, 0x7F]
            try await publisher.publish(MQTTMessage(topic: "p/bytes", payload: ByteBuffer(bytes: bytes)))
            let pair = try await subscriber.next(2)
            let (text, binary) = (pair[0], pair[1])
            #expect(text.payloadString == "grüße {\"t\":21}")
            #expect(text.properties.payloadFormat == .utf8)
            #expect(text.properties.contentType == "application/cloudevents+json")
            #expect(text.properties.responseTopic == "p/replies/publisher")
            #expect(text.properties.correlationData == [0, 1, 2, 255])
            #expect(text.properties.userProperties == properties.userProperties)
            let expiry = try #require(text.properties.messageExpiryInterval)
            #expect((60...120).contains(expiry), "passed through with at most the time in transit counted down")
            #expect(binary.payloadBytes == bytes)
            #expect(binary.properties.contentType == nil)
            #expect(binary.properties.userProperties.isEmpty)
            #expect(binary.properties.messageExpiryInterval == nil)
        }
    }

    @Test("unsubscribe ends delivery and finishes the sequence", arguments: BusKind.allCases)
    func unsubscribeEndsDelivery(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let subscriber = try await bus.connect("subscriber")
            let leaving = try await subscriber.probe("u/#")
            let control = try await bus.connect("control").probe("u/#")
            let publisher = try await bus.connect("publisher")
            try await publisher.publish(to: "u/1", payload: "before")
            #expect(try await leaving.next().map(\.payloadString) == ["before"])
            try await leaving.subscription.unsubscribe()
            try await publisher.publish(to: "u/2", payload: "after")
            #expect(try await control.next(2).map(\.payloadString) == ["before", "after"])
            #expect(try await leaving.end() == nil)
            #expect(leaving.messages.map(\.payloadString) == ["before"])
            // The connection itself is still fine.
            let again = try await subscriber.probe("u/#")
            try await publisher.publish(to: "u/3", payload: "again")
            #expect(try await again.next().map(\.payloadString) == ["again"])
        }
    }

    @Test("the will is published on an unclean end, not on disconnect", arguments: BusKind.allCases)
    func will(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let watcher = try await bus.connect("watcher").probe("w/#")
            let will = MQTTMessage(
                topic: "w/mortal", payload: "{\"status\":\"offline\"}", qos: .atLeastOnce, retain: true,
                properties: .init(contentType: "application/json", userProperties: [.init("agent", "mortal")]))

            let polite = try await bus.connect(BusConnectionOptions(
                clientID: "polite", will: MQTTMessage(topic: "w/polite", payload: "should not appear", qos: .atLeastOnce)))
            let politeSubscription = try await polite.probe("polite/#")
            await polite.disconnect()
            #expect(try await politeSubscription.end() == nil)
            let publisher = try await bus.connect("publisher")
            try await publisher.publish(to: "w/end", payload: "")
            #expect(try await watcher.until(topic: "w/end").isEmpty)

            let mortal = try await bus.connect(BusConnectionOptions(clientID: "mortal", will: will))
            let mortalSubscription = try await mortal.probe("mortal/#")
            try await mortal.terminate()
            let published = try #require(try await watcher.next().first)
            #expect(published.topic == "w/mortal")
            #expect(published.payloadString == "{\"status\":\"offline\"}")
            #expect(published.qos == .atLeastOnce)
            #expect(published.retain == false)
            #expect(published.properties.contentType == "application/json")
            #expect(published.properties.userProperties == [.init("agent", "mortal")])
            #expect(try await mortalSubscription.end() == nil)
            await #expect(throws: MQTTClientError.clientClosed) {
                try await mortal.publish(to: "w/late", payload: "")
            }

            // Retained, so an agent that starts later still sees the offline card.
            let latecomer = try await bus.connect("latecomer").probe("w/mortal")
            let card = try #require(try await latecomer.next().first)
            #expect(card.retain)
            #expect(card.payloadString == "{\"status\":\"offline\"}")
        }
    }

    @Test("a publisher's messages arrive in the order it sent them", arguments: BusKind.allCases)
    func orderingPerPublisher(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let subscriber = try await bus.connect("subscriber").probe("o/#", qos: .exactlyOnce)
            let first = try await bus.connect("first")
            let second = try await bus.connect("second")
            let count = 150
            async let one: Void = {
                for index in 0..<count {
                    try await first.publish(to: index.isMultiple(of: 2) ? "o/1/even" : "o/1/odd", payload: "\(index)")
                }
            }()
            async let two: Void = {
                for index in 0..<count {
                    try await second.publish(to: "o/2", payload: "\(index)", qos: .exactlyOnce)
                }
            }()
            _ = try await (one, two)
            let received = try await subscriber.next(2 * count, timeout: .seconds(20))
            let fromFirst = received.filter { $0.topic.hasPrefix("o/1/") }.map { Int($0.payloadString)! }
            let fromSecond = received.filter { $0.topic == "o/2" }.map { Int($0.payloadString)! }
            #expect(fromFirst == Array(0..<count))
            #expect(fromSecond == Array(0..<count))
        }
    }

    @Test("overlapping subscriptions of one connection each get a copy", arguments: BusKind.allCases)
    func overlappingSubscriptions(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let subscriber = try await bus.connect("subscriber")
            let narrow = try await subscriber.probe("v/+/temp")
            let wide = try await subscriber.probe("v/#")
            let publisher = try await bus.connect("publisher")
            try await publisher.publish(to: "v/hall/temp", payload: "21")
            try await publisher.publish(to: "v/hall/humidity", payload: "40")
            #expect(try await narrow.next().map(\.payloadString) == ["21"])
            #expect(try await wide.next(2).map(\.payloadString) == ["21", "40"])
        }
    }

    @Test("invalid topics and filters fail with the MQTT client's errors", arguments: BusKind.allCases)
    func validationErrors(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let connection = try await bus.connect("validator")
            await #expect(throws: MQTTClientError.invalidConfiguration(
                "cannot publish to 'a/+': topic name \"a/+\" contains a wildcard")) {
                try await connection.publish(to: "a/+", payload: "")
            }
            await #expect(throws: MQTTClientError.invalidConfiguration("cannot publish to '': empty topic name")) {
                try await connection.publish(to: "", payload: "")
            }
            await #expect(throws: MQTTClientError.invalidConfiguration(
                "topic filter 'a/#/b' is invalid: \"#\" is not the last level in \"a/#/b\"")) {
                _ = try await connection.subscribe(to: "a/#/b")
            }
            await #expect(throws: MQTTClientError.invalidConfiguration(
                "topic filter 'a/b+' is invalid: wildcard does not occupy a whole level in \"a/b+\"")) {
                _ = try await connection.subscribe(to: "a/b+")
            }
            await #expect(throws: MQTTClientError.invalidConfiguration(
                "topic filter '$share/g' is invalid: shared subscription \"$share/g\" has no topic filter")) {
                _ = try await connection.subscribe(to: "$share/g")
            }
            await #expect(throws: MQTTClientError.invalidConfiguration("subscribe needs at least one topic filter")) {
                _ = try await connection.subscribe(to: [])
            }
            await #expect(throws: MQTTClientError.invalidConfiguration(
                "No Local cannot be set on the shared subscription '$share/g/x' (MQTT 5.0 §3.8.3.1)")) {
                _ = try await connection.subscribe(to: [.init(filter: "$share/g/x", noLocal: true)])
            }
            await #expect(throws: MQTTClientError.invalidConfiguration(
                "will topic 'w/#' is invalid: topic name \"w/#\" contains a wildcard")) {
                _ = try await bus.connect("bad-will", will: MQTTMessage(topic: "w/#", payload: ""))
            }
            // The connection survived all of that.
            let probe = try await connection.probe("still/here")
            try await connection.publish(to: "still/here", payload: "yes")
            #expect(try await probe.next().map(\.payloadString) == ["yes"])
        }
    }

    @Test("after disconnect: subscriptions finish, operations throw clientClosed", arguments: BusKind.allCases)
    func afterDisconnect(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let connection = try await bus.connect("short-lived")
            let probe = try await connection.probe("d/#")
            await connection.disconnect()
            #expect(try await probe.end() == nil)
            await #expect(throws: MQTTClientError.clientClosed) {
                try await connection.publish(to: "d/x", payload: "", qos: .atLeastOnce)
            }
            await #expect(throws: MQTTClientError.clientClosed) {
                _ = try await connection.subscribe(to: "d/#")
            }
            await connection.disconnect()
        }
    }

    @Test("an empty client id gets one assigned", arguments: BusKind.allCases)
    func assignedClientID(_ kind: BusKind) async throws {
        try await withBus(kind) { bus in
            let first = try await bus.connect("")
            let second = try await bus.connect("")
            #expect(!first.clientID.isEmpty)
            #expect(!second.clientID.isEmpty)
            #expect(first.clientID != second.clientID)
            let probe = try await first.probe("c/#")
            try await second.publish(to: "c/x", payload: "hi")
            #expect(try await probe.next().map(\.payloadString) == ["hi"])
        }
    }
}

/// Polls `condition` until it holds, failing after `timeout`.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(30), _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw BusTestTimeout(description: "timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}
