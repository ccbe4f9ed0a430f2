import Metrics
import Synchronization

/// The names of the metrics the runtime reports through swift-metrics.
///
/// Every metric carries one dimension, `agent`, the agent's manifest id. The names
/// follow Prometheus conventions, so a Prometheus backend exports them as they are.
public enum RuntimeMetricNames {
    /// Counter: messages handed to the agent's handler.
    public static let messagesHandled = "plexus_agent_messages_handled_total"
    /// Counter: messages the agent published or shared through its context.
    public static let messagesSent = "plexus_agent_messages_sent_total"
    /// Counter: messages sent to the agent's dead-letter topic (invalid, or its handler threw).
    public static let deadLettered = "plexus_agent_dead_lettered_total"
    /// Counter: messages (and coalesced timer firings) dropped by overflow policies.
    public static let dropped = "plexus_agent_dropped_total"
    /// Counter: times the agent was made again after its handler threw.
    public static let restarts = "plexus_agent_restarts_total"
    /// Timer: how long each handler call (message or timer) took.
    public static let handlerDuration = "plexus_agent_handler_duration_seconds"

    /// The dimension naming the agent.
    public static let agentDimension = "agent"

    /// Every counter name.
    public static let counters = [messagesHandled, messagesSent, deadLettered, dropped, restarts]
}

/// The swift-metrics handles of one agent, made from the runtime's factory.
final class AgentMetrics: Sendable {
    let handled: Counter
    let sent: Counter
    let deadLettered: Counter
    let dropped: Counter
    let restarts: Counter
    let handlerDuration: Timer
    private let sentCount = Atomic<Int>(0)

    init(agentID: String, factory: any MetricsFactory) {
        let dimensions = [(RuntimeMetricNames.agentDimension, agentID)]
        handled = Counter(label: RuntimeMetricNames.messagesHandled, dimensions: dimensions, factory: factory)
        sent = Counter(label: RuntimeMetricNames.messagesSent, dimensions: dimensions, factory: factory)
        deadLettered = Counter(label: RuntimeMetricNames.deadLettered, dimensions: dimensions, factory: factory)
        dropped = Counter(label: RuntimeMetricNames.dropped, dimensions: dimensions, factory: factory)
        restarts = Counter(label: RuntimeMetricNames.restarts, dimensions: dimensions, factory: factory)
        handlerDuration = Timer(label: RuntimeMetricNames.handlerDuration, dimensions: dimensions, factory: factory)
    }

    /// Counts one message the agent sent.
    func countSent() {
        sentCount.add(1, ordering: .relaxed)
        sent.increment()
    }

    /// Messages the agent sent so far.
    var sentTotal: Int { sentCount.load(ordering: .relaxed) }
}
