/// Everything that can go wrong with a client operation, each case worded so the
/// message says what happened and what to do about it.
public enum MQTTClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A setting or argument is invalid before anything is sent.
    case invalidConfiguration(String)
    /// No broker could be reached (DNS, TCP connect, or timeout).
    case unreachable(server: String, reason: String)
    /// The broker answered CONNECT with a failure reason code.
    case connectionRefused(server: String, reasonCode: MQTTReasonCode, reasonString: String?)
    /// TLS could not be established; `reason` names the likely cause.
    case tls(server: String, reason: String)
    /// The broker did not answer CONNECT in time.
    case connectTimeout(server: String, seconds: Double)
    /// The connection was lost while the operation was waiting, and reconnecting is off.
    case connectionLost(reason: String)
    /// The broker closed the connection with DISCONNECT.
    case disconnectedByServer(reasonCode: MQTTReasonCode, reasonString: String?)
    /// The client was shut down by `disconnect()` while the operation was waiting.
    case clientClosed
    /// The operation needs a connected client: call `connect()` first.
    case notConnected
    /// The offline queue is full: the broker has been unreachable for too long.
    case offlineQueueFull(capacity: Int)
    /// The packet is larger than the broker's Maximum Packet Size; nothing was sent.
    case packetTooLarge(size: Int, limit: UInt32)
    /// The broker does not support this QoS (CONNACK Maximum QoS).
    case qosNotSupported(requested: MQTTQoS, maximum: MQTTQoS)
    /// The broker does not support retained messages (CONNACK Retain Available).
    case retainNotSupported
    /// The broker acknowledged a publication with a failure reason code.
    case publishFailed(topic: String, reasonCode: MQTTReasonCode, reasonString: String?)
    /// The broker refused one or more topic filters of a SUBSCRIBE.
    case subscribeFailed(filter: String, reasonCode: MQTTReasonCode, reasonString: String?)
    /// The broker refused an UNSUBSCRIBE.
    case unsubscribeFailed(filter: String, reasonCode: MQTTReasonCode, reasonString: String?)
    /// The peer broke the protocol; the connection was closed with this reason.
    case protocolViolation(MQTTProtocolError)
    /// A request got no response in time.
    case requestTimeout(topic: String, seconds: Double)
    /// All packet identifiers are in use (65,535 unacknowledged messages).
    case packetIdentifiersExhausted

    public var description: String {
        switch self {
        case .invalidConfiguration(let message):
            return message
        case .unreachable(let server, let reason):
            return "cannot reach the broker at \(server): \(reason). Check that the broker runs and the host and port are right."
        case .connectionRefused(let server, let code, let reasonString):
            let detail = reasonString.map { ": \($0)" } ?? ""
            let advice: String
            switch code {
            case .badUserNameOrPassword:
                advice = " Check the user name and password (-u/-P)."
            case .notAuthorized:
                advice = " This client is not allowed to connect: check its credentials and the broker's ACL."
            case .unsupportedProtocolVersion:
                advice = " Try the other protocol version (-V 311 or -V 5)."
            case .clientIdentifierNotValid:
                advice = " Choose another client id (-i)."
            case .serverUnavailable, .serverBusy:
                advice = " Try again later."
            case .banned:
                advice = " The broker bans this client."
            default:
                advice = ""
            }
            return "the broker at \(server) refused the connection with \(code)\(detail).\(advice)"
        case .tls(let server, let reason):
            return "TLS with \(server) failed: \(reason)"
        case .connectTimeout(let server, let seconds):
            return "the broker at \(server) did not answer within \(formatSeconds(seconds)) s. Check the host, port and TLS settings."
        case .connectionLost(let reason):
            return "the connection to the broker was lost: \(reason)"
        case .disconnectedByServer(let code, let reasonString):
            return "the broker closed the connection with \(code)" + (reasonString.map { ": \($0)" } ?? "")
        case .clientClosed:
            return "the client was disconnected before the operation completed"
        case .notConnected:
            return "the client is not connected: call connect() first"
        case .offlineQueueFull(let capacity):
            return "the broker is unreachable and \(capacity) messages already wait to be sent; this one was not queued. Raise the offline queue capacity or restore the connection."
        case .packetTooLarge(let size, let limit):
            return "the message is \(size) bytes as a packet but the broker accepts at most \(limit); it was not sent"
        case .qosNotSupported(let requested, let maximum):
            return "the broker supports at most \(maximum) and \(requested) was requested"
        case .retainNotSupported:
            return "the broker does not support retained messages"
        case .publishFailed(let topic, let code, let reasonString):
            return "the broker refused the message to '\(topic)' with \(code)" + (reasonString.map { ": \($0)" } ?? "")
        case .subscribeFailed(let filter, let code, let reasonString):
            return "the broker refused the subscription to '\(filter)' with \(code)" + (reasonString.map { ": \($0)" } ?? "")
        case .unsubscribeFailed(let filter, let code, let reasonString):
            return "the broker refused to unsubscribe '\(filter)' with \(code)" + (reasonString.map { ": \($0)" } ?? "")
        case .protocolViolation(let error):
            return "protocol violation: \(error.message) (\(error.reasonCode))"
        case .requestTimeout(let topic, let seconds):
            return "no response to the request on '\(topic)' within \(formatSeconds(seconds)) s"
        case .packetIdentifiersExhausted:
            return "65,535 messages are awaiting acknowledgement; wait for some to complete"
        }
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
