import NIOCore
import PlexusCore
import PlexusMQTT
import Testing

@testable import Plexus

@Suite("Agent mailbox overflow policies")
struct MailboxTests {
    static func message(_ topic: String, _ payload: String) -> Mailbox.Item {
        .message(AgentMessage(mqtt: MQTTMessage(topic: topic, payload: payload), filter: "#", context: nil))
    }

    static func drain(_ mailbox: Mailbox) async -> [String] {
        mailbox.close()
        var payloads: [String] = []
        while let item = await mailbox.next() {
            switch item {
            case .message(let message): payloads.append("\(message.topic)=\(message.mqtt.payloadString)")
            case .timer(let name): payloads.append("timer \(name)")
            }
        }
        return payloads
    }

    @Test("keep-latest replaces the queued message of the same topic and counts the drop")
    func keepLatest() async {
        let mailbox = Mailbox(capacity: 8)
        for value in 1...5 {
            await mailbox.send(Self.message("t/a", "\(value)"), policy: .keepLatest, coalescingKey: "t/a")
        }
        await mailbox.send(Self.message("t/b", "x"), policy: .keepLatest, coalescingKey: "t/b")
        #expect(mailbox.droppedCount == 4)
        #expect(await Self.drain(mailbox) == ["t/a=5", "t/b=x"])
    }

    @Test("drop-oldest pushes out the oldest droppable message when full, never a backpressure one")
    func dropOldest() async {
        let mailbox = Mailbox(capacity: 3)
        await mailbox.send(Self.message("knowledge", "k"), policy: .backpressure)
        for value in 1...4 {
            await mailbox.send(Self.message("telemetry", "\(value)"), policy: .dropOldest)
        }
        #expect(mailbox.droppedCount == 2)
        #expect(await Self.drain(mailbox) == ["knowledge=k", "telemetry=3", "telemetry=4"])
    }

    @Test("backpressure makes the sender wait until the agent takes an item; nothing is dropped")
    func backpressure() async throws {
        let mailbox = Mailbox(capacity: 2)
        await mailbox.send(Self.message("k", "1"), policy: .backpressure)
        await mailbox.send(Self.message("k", "2"), policy: .backpressure)
        let blocked = Task { await mailbox.send(Self.message("k", "3"), policy: .backpressure) }
        try await waitUntil("the third send to wait") { mailbox.waitingSenderCount == 1 }
        #expect(mailbox.count == 2, "the third send waits")
        guard case .message(let first) = await mailbox.next() else {
            Issue.record("expected a message")
            return
        }
        #expect(first.mqtt.payloadString == "1")
        #expect(await blocked.value)
        #expect(mailbox.droppedCount == 0)
        #expect(await Self.drain(mailbox) == ["k=2", "k=3"])
    }

    @Test("senders waiting on a full mailbox are woken once the agent took it down to half, in order, nothing lost")
    func wakesAtHalf() async throws {
        let mailbox = Mailbox(capacity: 4)
        for value in 1...4 { await mailbox.send(Self.message("k", "\(value)"), policy: .backpressure) }
        let blocked = Task { await mailbox.send(Self.message("k", "5"), policy: .backpressure) }
        try await waitUntil("the fifth send to wait") { mailbox.waitingSenderCount == 1 }
        _ = await mailbox.next()
        // A woken sender leaves the list inside next(), so this needs no wait.
        #expect(mailbox.waitingSenderCount == 1 && mailbox.count == 3, "3 of 4 is above half: the sender still waits")
        _ = await mailbox.next()
        #expect(await blocked.value)
        #expect(mailbox.count == 3, "at half the sender was woken and queued its item")
        #expect(await Self.drain(mailbox) == ["k=3", "k=4", "k=5"])
        #expect(mailbox.droppedCount == 0)
    }

    @Test("a closed mailbox refuses new items and drains the queued ones")
    func close() async {
        let mailbox = Mailbox(capacity: 4)
        await mailbox.send(.timer("tick"), policy: .keepLatest, coalescingKey: "timer tick")
        mailbox.close()
        #expect(await mailbox.send(Self.message("k", "late"), policy: .backpressure) == false)
        #expect(await Self.drain(mailbox) == ["timer tick"])
    }

    static func describe(_ batch: inout MovingQueue<Mailbox.Item>) -> [String] {
        var payloads: [String] = []
        while let item = batch.popFirst() {
            switch item {
            case .message(let message): payloads.append("\(message.topic)=\(message.mqtt.payloadString)")
            case .timer(let name): payloads.append("timer \(name)")
            }
        }
        return payloads
    }

    @Test("the agent takes a run of backpressure items in one go, up to the limit, and they leave room")
    func takesRuns() async {
        let mailbox = Mailbox(capacity: 4)
        for value in 1...4 { await mailbox.send(Self.message("k", "\(value)"), policy: .backpressure) }
        var batch = MovingQueue<Mailbox.Item>()
        #expect(await mailbox.next(into: &batch, limit: 3))
        #expect(Self.describe(&batch) == ["k=1", "k=2", "k=3"])
        #expect(mailbox.count == 1)
        #expect(await Self.drain(mailbox) == ["k=4"])
    }

    @Test("while a droppable item is queued the agent takes one item at a time, so keep-latest still replaces it")
    func keepLatestStaysCoalescable() async {
        let mailbox = Mailbox(capacity: 8)
        await mailbox.send(Self.message("k", "1"), policy: .backpressure)
        await mailbox.send(Self.message("t/a", "1"), policy: .keepLatest, coalescingKey: "t/a")
        await mailbox.send(Self.message("k", "2"), policy: .backpressure)
        var batch = MovingQueue<Mailbox.Item>()
        #expect(await mailbox.next(into: &batch))
        #expect(Self.describe(&batch) == ["k=1"], "t/a=1 stays queued, where a newer t/a can replace it")
        await mailbox.send(Self.message("t/a", "2"), policy: .keepLatest, coalescingKey: "t/a")
        #expect(mailbox.droppedCount == 1)
        #expect(await mailbox.next(into: &batch))
        #expect(Self.describe(&batch) == ["t/a=2", "k=2"], "once it is taken only backpressure items are left")
    }
}
