/// Whether the content of a ``ContextMessage`` can be relied on, or may carry text an
/// attacker controls.
///
/// Agents read device data and model output. Either can contain instructions written
/// by someone else (a label on a parcel read by a camera, a web page a model
/// summarised): prompt injection. Marking such content `untrusted` and keeping the
/// mark on everything computed from it lets the policy gate and the prompts treat it
/// as data, never as instructions. The rule is taint propagation: one untrusted input
/// makes the output untrusted, whatever else went in.
///
/// The attribute is asserted by the publisher. Whether a publisher may say `trusted`
/// at all is for the broker's ACLs and the runtime to enforce, not for this value.
public enum ContextMessageTrust: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case trusted
    case untrusted

    /// The trust of something derived from `inputs`: untrusted if any input is.
    ///
    /// With no inputs the result is `trusted`: nothing untrusted went in.
    public static func derived(from inputs: some Sequence<ContextMessageTrust>) -> ContextMessageTrust {
        inputs.contains(.untrusted) ? .untrusted : .trusted
    }

    /// The trust of something derived from this and `other`.
    public func combined(with other: ContextMessageTrust) -> ContextMessageTrust {
        self == .untrusted || other == .untrusted ? .untrusted : .trusted
    }

    public var description: String { rawValue }
}
