/// What an agent does when the injection detector flags untrusted text.
public enum RailReaction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Do not call the model with it at all.
    case block
    /// Remove the offending parts (sentences, hidden markup, encoded blobs) and go on
    /// with the rest; if what is left still reads as an attack, block.
    case strip
    /// Go on with the text (spotlit as always), but everything derived from the call is
    /// `trust: untrusted` and the trip is reported.
    case mark
}
