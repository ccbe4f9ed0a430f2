import Metrics
import Foundation
import Logging
import PlexusMemory
import PlexusMQTT

/// How a runtime runs its agents; the defaults suit a deployment, tests shorten the delays.
public struct RuntimeOptions: Sendable {
    /// The MQTT version the agents' messages are encoded for.
    public var protocolVersion: MQTTProtocolVersion = .v5
    /// Items an agent's mailbox holds before its overflow policies apply.
    public var mailboxCapacity = 256
    /// First delay before restarting an agent whose handler threw; doubles per crash.
    public var initialRestartDelay: Duration = .milliseconds(100)
    public var maximumRestartDelay: Duration = .seconds(10)
    /// An agent that crashes this many times within ``crashLoopWindow`` is stopped
    /// and its card says `failed`; the other agents go on.
    public var crashLoopLimit = 5
    public var crashLoopWindow: Duration = .seconds(60)
    /// The wall clock for message times and cards.
    public var now: @Sendable () -> Date = { Date() }
    /// The clock agent timers and restart backoff sleep on; tests pass a manual one.
    public var clock: any Clock<Duration> = ContinuousClock()
    public var logger = Logger(label: "plexus.runtime")
    /// Where the per-agent metrics go (``RuntimeMetricNames``). Nil uses
    /// `MetricsSystem.factory`: the backend the process bootstrapped, or none. Tests
    /// inject their own factory, since a process bootstraps only once.
    public var metricsFactory: (any MetricsFactory)?
    /// Decides on the agents' actuation requests (``AgentContext/act(_:command:reason:causedBy:)``).
    /// Nil: the runtime has no gate and `act` fails saying so; nothing is published.
    public var actuationGate: (any ActuationGate)?
    /// Hands agents their models (``AgentContext/model``). Nil: the runtime has no
    /// models and `context.model` fails saying so.
    public var models: (any AgentModelProvider)?
    /// The deployment's memory database. With it every agent has ``AgentContext/memory``,
    /// every message an agent handles or sends is logged, shared messages go through the
    /// outbox, and on a broker each agent's session is durable: clean start off, the
    /// broker keeps it for ``durableSessionExpiry``, and in-flight QoS 1/2 state lives
    /// in the database, so a killed runtime resends what was not acknowledged.
    public var memory: MemoryStore?
    /// How long a broker keeps an agent's session while the runtime is down, when
    /// ``memory`` makes sessions durable (default one day).
    public var durableSessionExpiry: Duration = .seconds(86_400)
    /// What the runtime prunes from ``memory``, at start and every ``pruneInterval``;
    /// nil keeps everything. The manifest's `memory.retention` sets both.
    public var retention: RetentionPolicy? = .standard
    public var pruneInterval: Duration = .seconds(3600)
    /// How long a stopping agent may take to finish the handler in progress and what is
    /// queued before the handler is cancelled (default 10 s). A handler waiting for an
    /// approval would otherwise hold the stop until the request expires; the request
    /// itself stays pending in the gate's journal and is decided after the next start.
    public var drainDeadline: Duration = .seconds(10)

    public init() {}

    func restartDelay(afterCrashes crashes: Int) -> Duration {
        var delay = initialRestartDelay
        for _ in 1..<max(crashes, 1) where delay < maximumRestartDelay {
            delay *= 2
        }
        return min(delay, maximumRestartDelay)
    }
}
