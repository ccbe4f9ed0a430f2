import Foundation
import Logging
import Metrics
import NIOCore
import PlexusCore
import PlexusLLM
import PlexusMemory
import PlexusMQTT
import Synchronization

/// Counters of one running agent.
public struct AgentStatistics: Sendable, Hashable {
    /// Messages handed to the agent.
    public var messagesHandled = 0
    /// Messages the agent published or shared through its context.
    public var messagesSent = 0
    /// Messages sent to the dead-letter topic (invalid, or the handler threw on them).
    public var deadLettered = 0
    /// Messages dropped by overflow policies.
    public var dropped = 0
    /// Times the agent was made again after its handler threw.
    public var restarts = 0
    /// The agent crashed too often and was stopped.
    public var failed = false
}

/// Runs one agent: its own bus connection, presence card, subscriptions feeding a
/// bounded mailbox, the handler loop, dead-lettering and restarts.
final class AgentRunner: Sendable {
    let entry: Manifest.Agent
    let driver: any AgentDriver
    let bus: any Bus
    let topics: PlexusTopics
    let options: RuntimeOptions
    let logger: Logger
    private let counters = Mutex(AgentStatistics())
    private let mailbox: Mailbox
    let metrics: AgentMetrics
    /// The entry's actuators as model tools.
    let actuatorTools: [ToolDefinition]

    init(
        entry: Manifest.Agent, driver: any AgentDriver, bus: any Bus, topics: PlexusTopics, options: RuntimeOptions,
        actuators: [String: Manifest.Actuator] = [:]
    ) {
        self.entry = entry
        self.actuatorTools = entry.actuators.compactMap { actuators[$0]?.tool }
        self.driver = driver
        self.bus = bus
        self.topics = topics
        self.options = options
        var logger = options.logger
        logger[metadataKey: "agent"] = "\(entry.id)"
        self.logger = logger
        let metrics = AgentMetrics(agentID: entry.id, factory: options.metricsFactory ?? MetricsSystem.factory)
        self.metrics = metrics
        self.mailbox = Mailbox(capacity: options.mailboxCapacity, droppedCounter: metrics.dropped)
    }

    var statistics: AgentStatistics {
        var statistics = counters.withLock { $0 }
        statistics.dropped = mailbox.droppedCount
        statistics.messagesSent = metrics.sentTotal
        return statistics
    }

    /// The MQTT client id: namespace and agent id, so one broker can host several deployments.
    var clientID: String { "\(topics.namespace)-\(entry.id)" }

    /// Runs until the task is cancelled (graceful: intake stops, the mailbox drains,
    /// the offline card is published) or the agent crash-loops.
    func run() async throws {
        let startedAt = options.now()
        let card = try AgentCard(
            id: entry.id, type: entry.type, status: .online, since: startedAt,
            subscriptions: entry.subscriptions.map(\.filter.string), shares: entry.shares, startedAt: startedAt
        )
        var connectionOptions = BusConnectionOptions(
            clientID: clientID,
            username: entry.credentials?.username,
            password: entry.credentials?.password,
            will: card.offline().mqttMessage(topics: topics, version: options.protocolVersion)
        )
        let memory = options.memory?.memory(for: entry.id)
        if let store = options.memory, bus.keepsSessions {
            // Durable: the broker keeps the session while the runtime is down, and the
            // client's in-flight QoS 1/2 state is in the database (see RuntimeOptions.memory).
            connectionOptions.cleanStart = false
            connectionOptions.sessionExpiryInterval = UInt32(clamping: options.durableSessionExpiry.components.seconds)
            connectionOptions.sessionStore = store.sessionStore()
        }
        let connection = try await bus.connect(connectionOptions)
        let mailbox = self.mailbox
        let requests = AgentRequests()
        let timers = AgentTimers(clock: options.clock) { name in
            await mailbox.send(.timer(name), policy: .keepLatest, coalescingKey: "timer \(name)")
        }
        let context = AgentContext(
            agentID: entry.id, topics: topics, logger: logger, shareSubjects: entry.shares,
            connection: connection, protocolVersion: options.protocolVersion, now: options.now, timers: timers,
            requests: requests, metrics: metrics, actuators: entry.actuators, gate: options.actuationGate,
            model: resolveModel(), memory: memory, entry: entry, actuatorTools: actuatorTools, prompt: loadPrompt(),
            metricsFactory: options.metricsFactory
        )
        var subscriptions: [(BusSubscription, Manifest.Subscription)] = []
        // Every agent listens on its own inbox for questions and for answers to its own.
        let inbox = try Manifest.Subscription(filter: MQTTTopicFilter(topics.inbox(entry.id)))
        for subscription in [inbox] + entry.subscriptions {
            let live = try await connection.subscribe(to: [.init(filter: subscription.filter.string, qos: subscription.qos)])
            subscriptions.append((live, subscription))
        }
        // Online once it listens: whoever waits for the card may publish to it at once.
        try await connection.publish(card.mqttMessage(topics: topics, version: options.protocolVersion))
        if let memory { await publishOutbox(of: memory, on: connection) }
        await withTaskGroup(of: Void.self) { group in
            for (live, subscription) in subscriptions {
                group.addTask { await self.pump(live, subscription: subscription, connection: connection, requests: requests) }
            }
            // Stopping closes the mailbox; the handler loop itself is not cancelled, so a
            // handler in progress finishes and what was queued is handled (a drain, not
            // a CancellationError counted as a crash). A handler still busy when the
            // drain deadline passes (waiting for an approval, a slow model) is cancelled,
            // so a stop never hangs on it; a held approval stays in the gate's journal.
            let handling = Task { await self.handleMailbox(context: context, connection: connection, card: card) }
            let deadline = options.drainDeadline
            let logger = self.logger
            let drainTimer = Mutex<Task<Void, Never>?>(nil)
            await withTaskCancellationHandler {
                await handling.value
            } onCancel: {
                mailbox.close()
                let timer = Task {
                    do { try await Task.sleep(for: deadline) } catch { return }
                    logger.warning("still handling after the drain deadline; cancelling the handler", metadata: ["deadline": "\(deadline)"])
                    handling.cancel()
                }
                drainTimer.withLock { $0 = timer }
            }
            drainTimer.withLock { $0?.cancel() }
            group.cancelAll()
        }
        timers.cancelAll()
        requests.failAll(with: CancellationError())
        let final: AgentCard.Status = statistics.failed ? .failed : .offline
        let finalCard = card.with(status: final, since: options.now()).mqttMessage(topics: topics, version: options.protocolVersion)
        await Self.publish(finalCard, on: connection, within: Self.finalCardDeadline)
        await connection.disconnect()
    }

    /// Publishes what the agent shared before the last stop but the broker never took:
    /// outbox entries recorded and not handed to the MQTT session. Same message ids, so
    /// receivers can recognise them.
    private func publishOutbox(of memory: AgentMemory, on connection: any BusConnection) async {
        do {
            let pending = try await memory.unpublished()
            if !pending.isEmpty { logger.notice("publishing the outbox left by the last run", metadata: ["messages": "\(pending.count)"]) }
            for entry in pending {
                try await connection.publish(entry.message.mqttMessage(topic: entry.topic, version: options.protocolVersion, now: options.now()))
                metrics.countSent()
                try await memory.markPublished(entry.message.id, at: options.now())
            }
        } catch {
            logger.error("could not publish the outbox; it stays recorded for the next start", metadata: ["error": "\(error)"])
        }
    }

    /// How long a stopping agent waits to hand over its final card.
    static let finalCardDeadline: Duration = .seconds(2)

    /// Publishes, but waits at most `deadline`: with the broker gone a QoS 1 publish
    /// waits for a reconnect that may never come, and stopping must not hang on it.
    /// The disconnect that follows fails a publish still waiting (the will then
    /// tells the broker the agent is gone, once it is back).
    private static func publish(_ message: MQTTMessage, on connection: any BusConnection, within deadline: Duration) async {
        let once = FirstCall()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Task {
                try? await connection.publish(message)
                if once.claim() { continuation.resume() }
            }
            Task {
                try? await Task.sleep(for: deadline)
                if once.claim() { continuation.resume() }
            }
        }
    }

    /// Moves one subscription's messages into the mailbox; invalid knowledge is dead-lettered.
    private func pump(
        _ subscription: BusSubscription, subscription entry: Manifest.Subscription, connection: any BusConnection,
        requests: AgentRequests
    ) async {
        let filter = entry.filter.string
        // The manifest compiled this schema when it was read, so it compiles here too.
        let schema = entry.schema.flatMap { try? JSONSchema($0) }
        let subscriptionPolicy = OverflowPolicy(rawValue: entry.overflow.rawValue) ?? .backpressure
        // A subscription mostly sees the same few topics again and again (a knowledge
        // subject, a sensor): what the last topic was saves parsing it once per message.
        var lastTopic: (topic: String, parsed: PlexusTopic?)?
        do {
            var iterator = subscription.makeAsyncIterator()
            while let delivery = try await iterator.nextDelivery() {
                let message = delivery.message
                var context: ContextMessage?
                var policy = subscriptionPolicy
                let parsed: PlexusTopic?
                if let lastTopic, lastTopic.topic == message.topic {
                    parsed = lastTopic.parsed
                } else {
                    parsed = topics.parse(message.topic)
                    lastTopic = (message.topic, parsed)
                }
                switch parsed {
                case .knowledge:
                    policy = .backpressure
                    do {
                        context = try delivery.contextMessage()
                    } catch {
                        await deadLetter(message, reason: error.description, connection: connection)
                        continue
                    }
                case .inbox:
                    policy = .backpressure
                    do {
                        context = try delivery.contextMessage()
                    } catch {
                        await deadLetter(message, reason: error.description, connection: connection)
                        continue
                    }
                    if let correlation = message.properties.correlationData, message.properties.responseTopic == nil,
                        let answer = context, requests.deliver(answer, correlation: correlation)
                    {
                        continue
                    }
                default:
                    if let schema {
                        let violations = schema.validate(payload: message.payload.readableBytesView)
                        if !violations.isEmpty {
                            let reason = violations.prefix(5).map(\.description).joined(separator: "; ")
                            await deadLetter(message, reason: "the payload does not match the schema of '\(filter)': \(reason)", connection: connection)
                            continue
                        }
                    }
                }
                let key = policy == .keepLatest ? message.topic : nil
                // Moved into the mailbox when there is room (see Mailbox.trySend).
                var item: Mailbox.Item? = .message(AgentMessage(mqtt: consume message, filter: filter, context: context))
                switch mailbox.trySend(&item, policy: policy, coalescingKey: key) {
                case .queued: continue
                case .closed: return
                case .full: if await !mailbox.send(item!, policy: policy, coalescingKey: key) { return }
                }
            }
        } catch {
            if !(error is CancellationError) {
                logger.warning("subscription ended", metadata: ["filter": "\(filter)", "error": "\(error)"])
            }
        }
    }

    /// The handler loop with supervision: a throwing handler dead-letters its message,
    /// and the agent is made again after a backoff, unless it crash-loops.
    /// The model the entry names, made once per start by the runtime's provider.
    private func resolveModel() -> Result<any LanguageModel, AgentContextError> {
        guard let name = entry.model else { return .failure(.noModel(agent: entry.id)) }
        guard let provider = options.models else {
            return .failure(.modelUnavailable(name: name, reason: "this runtime has no model provider (RuntimeOptions.models)"))
        }
        do {
            return .success(try provider.model(named: name, for: entry))
        } catch {
            return .failure(.modelUnavailable(name: name, reason: "\(error)"))
        }
    }

    /// The template the entry names, read once per start.
    private func loadPrompt() -> Result<PromptTemplate, AgentContextError> {
        guard let path = entry.prompt else { return .failure(.noPrompt(agent: entry.id)) }
        do {
            return .success(try PromptTemplate(contentsOfFile: path))
        } catch {
            return .failure(.promptUnavailable(path: path, reason: error.description))
        }
    }

    private func handleMailbox(context: AgentContext, connection: any BusConnection, card: AgentCard) async {
        let clock = ContinuousClock()
        var crashes: [ContinuousClock.Instant] = []
        // Items taken from the mailbox in one go (see Mailbox.next(into:)) and not
        // handled yet; kept across a restart, so the fresh instance handles them.
        var batch = MovingQueue<Mailbox.Item>(capacity: Mailbox.batchLimit)
        while true {
            var instance: any AgentInstance
            do {
                instance = try driver.makeInstance()
                try await instance.start(context: context)
            } catch {
                guard await recordCrash(error, message: nil, crashes: &crashes, clock: clock, context: context, connection: connection, card: card) else { return }
                continue
            }
            var crashed = false
            // When the next item was already taken, the last handler's end is this one's
            // start: one clock reading per message instead of two.
            var lastEnd: ContinuousClock.Instant?
            while true {
                if batch.isEmpty {
                    lastEnd = nil
                    if await !mailbox.next(into: &batch) { break }
                    if let memory = context.agentMemory { await log(batch, in: memory) }
                }
                guard let item = batch.popFirst() else { break }
                let started = lastEnd ?? clock.now
                do {
                    switch item {
                    case .message(let message):
                        counters.withLock { $0.messagesHandled += 1 }
                        metrics.handled.increment()
                        try await instance.handle(message, context: context)
                    case .timer(let name):
                        try await instance.timerFired(name, context: context)
                    }
                    let ended = clock.now
                    metrics.handlerDuration.record(duration: ended - started)
                    lastEnd = ended
                } catch {
                    metrics.handlerDuration.record(duration: clock.now - started)
                    if Task.isCancelled {
                        // The drain deadline passed while stopping (see run()): not a crash.
                        logger.warning("stopped during a handler", metadata: ["left unhandled": "\(batch.count)", "error": "\(error)"])
                        return
                    }
                    var failed: MQTTMessage?
                    if case .message(let message) = item { failed = message.mqtt }
                    guard await recordCrash(error, message: failed, crashes: &crashes, clock: clock, context: context, connection: connection, card: card) else { return }
                    crashed = true
                    break
                }
            }
            if !crashed { return }
        }
    }

    /// Logs the messages of a batch just taken from the mailbox, before the first is
    /// handled, with one call (queued: the handler does not wait for the disk). A
    /// failure is logged and counted by the store, never silent.
    private func log(_ batch: MovingQueue<Mailbox.Item>, in memory: AgentMemory) async {
        let now = options.now()
        var entries: [MessageLogEntry] = []
        batch.forEach { item in
            guard case .message(let message) = item else { return }
            entries.append(
                message.context.map { .context($0, topic: message.topic, direction: .received, time: now) }
                    ?? .mqtt(message.mqtt, direction: .received, time: now))
        }
        guard !entries.isEmpty else { return }
        do {
            try await memory.log(contentsOf: entries)
        } catch {
            logger.error("could not log received messages", metadata: ["count": "\(entries.count)", "error": "\(error)"])
        }
    }

    /// Counts a crash, dead-letters the message that caused it, waits the backoff.
    /// Returns false when the agent must stop (crash loop, or the runtime stops).
    private func recordCrash(
        _ error: any Error, message: MQTTMessage?, crashes: inout [ContinuousClock.Instant],
        clock: ContinuousClock, context: AgentContext, connection: any BusConnection, card: AgentCard
    ) async -> Bool {
        let now = clock.now
        crashes = crashes.filter { now - $0 < options.crashLoopWindow } + [now]
        logger.error("agent handler threw", metadata: ["error": "\(error)", "crashes": "\(crashes.count)"])
        if let message {
            await deadLetter(message, reason: "the handler of agent '\(entry.id)' threw: \(error)", connection: connection)
        }
        if crashes.count >= options.crashLoopLimit {
            counters.withLock { $0.failed = true }
            logger.critical("agent crash-loops; stopped", metadata: ["limit": "\(options.crashLoopLimit)"])
            mailbox.close()
            return false
        }
        counters.withLock { $0.restarts += 1 }
        metrics.restarts.increment()
        try? await connection.publish(card.with(status: .restarting, since: options.now()).mqttMessage(topics: topics, version: options.protocolVersion))
        do {
            try await options.clock.sleep(for: options.restartDelay(afterCrashes: crashes.count))
        } catch {
            return false
        }
        try? await connection.publish(card.with(status: .online, since: options.now()).mqttMessage(topics: topics, version: options.protocolVersion))
        return true
    }

    /// Publishes a rejected message to `<ns>/deadletter/<agent>` with the reason.
    ///
    /// On MQTT 5 the message goes as it was, with `reason` and `topic` user
    /// properties; on 3.1.1 as JSON `{"reason", "topic", "payload"}`.
    private func deadLetter(_ message: MQTTMessage, reason: String, connection: any BusConnection) async {
        counters.withLock { $0.deadLettered += 1 }
        metrics.deadLettered.increment()
        logger.warning("dead-lettered", metadata: ["topic": "\(message.topic)", "reason": "\(reason)"])
        guard let topic = try? topics.deadLetter(entry.id) else { return }
        let letter: MQTTMessage
        switch options.protocolVersion {
        case .v5:
            var properties = MQTTProperties(contentType: message.properties.contentType)
            properties.userProperties = [.init("reason", reason), .init("topic", message.topic)]
            letter = MQTTMessage(topic: topic, payload: message.payload, qos: .atLeastOnce, properties: properties)
        case .v311:
            let json: JSONValue = .object([
                "reason": .string(reason), "topic": .string(message.topic), "payload": .string(message.payloadString),
            ])
            letter = MQTTMessage(topic: topic, payload: ByteBuffer(bytes: json.jsonBytes), qos: .atLeastOnce)
        }
        do {
            try await connection.publish(letter)
        } catch {
            logger.error("could not publish a dead letter", metadata: ["error": "\(error)"])
        }
    }
}

/// True for the first caller of ``claim()`` only: lets two racing tasks resume one continuation once.
final class FirstCall: Sendable {
    private let claimed = Mutex(false)

    func claim() -> Bool {
        claimed.withLock { claimed in
            defer { claimed = true }
            return !claimed
        }
    }
}
