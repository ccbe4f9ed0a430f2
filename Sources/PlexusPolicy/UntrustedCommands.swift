/// What an actuator does with a request whose provenance is untrusted (derived from
/// device data or from model output that read untrusted text), where a rule would
/// simply allow it.
///
/// The default treats such requests like any other: the policy's own conditions already
/// bound what a command may say. Turn it on for actuators where a prompt-injected model
/// asking for an in-range command is still not acceptable without a person.
public enum UntrustedCommands: Sendable, Hashable {
    /// No difference (the default).
    case asTrusted
    /// An `allow` becomes this confirmation. A `confirm` rule's `on_expiry: allow` is
    /// read as deny for untrusted requests: nobody has looked at them.
    case confirm(ConfirmationRequirement)
    /// An `allow` becomes a denial with this reason; `on_expiry: allow` is read as deny.
    case deny(reason: String?)
}
