import Foundation
import Logging
import PlexusMQTT

/// How a ``PolicyGate`` connects and keeps time; the defaults suit a deployment.
public struct PolicyGateOptions: Sendable {
    /// The gate's MQTT client id; nil uses `<namespace>-gate`. The gate is the only
    /// identity the broker's ACL lets write actuator topics.
    public var clientID: String?
    /// The gate's broker user and password; nil keeps the bus's.
    public var username: String?
    public var password: String?
    /// The MQTT version messages are encoded for (message expiry on the pending request
    /// needs 5; on 3.1.1 the entry stays retained until the gate clears it).
    public var protocolVersion: MQTTProtocolVersion = .v5
    /// The wall clock: decision times, deadlines, audit times.
    public var now: @Sendable () -> Date = { Date() }
    public var logger = Logger(label: "plexus.gate")
    /// How often deadlines are checked: an expired request is settled at most this late.
    public var tick: Duration = .milliseconds(100)
    /// Keep the gate's MQTT session (and its in-flight QoS 1 state, in the memory
    /// database) across restarts, so decisions published while the gate is down are
    /// delivered when it comes back. On by default.
    public var durableSession = true
    /// How long the broker keeps the gate's session while it is down.
    public var sessionExpiry: Duration = .seconds(86_400)
    /// Share every refusal (a denied or expired request, a refused decision) with the
    /// agents as an `alert` context message on `<ns>/knowledge/gate/<actuator>`, besides
    /// the audit row. On by default; the broker's ACL must let the gate's identity write
    /// `<ns>/knowledge/gate/#`.
    public var alerts = true

    public init() {}
}
