/// Untrusted text after the input rails: what goes into the prompt, what the system
/// prompt must say about it, and the verdict.
public struct GuardedText: Sendable, Hashable {
    /// The text for the prompt: capped, stripped if so configured, redacted, spotlit.
    /// Empty when ``verdict`` blocks.
    public var text: String
    /// The sentence to add to the system prompt about the spotlit block.
    public var instructions: String
    public var verdict: RailVerdict

    public init(text: String, instructions: String, verdict: RailVerdict) {
        self.text = text
        self.instructions = instructions
        self.verdict = verdict
    }
}
