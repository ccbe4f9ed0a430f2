/// A named reason the detector found text to be a prompt injection. The raw values are
/// the names ``InjectionAssessment/signals`` reports and `plexus guard` prints.
public enum InjectionSignal: String, CaseIterable, Sendable, Hashable, Codable {
    /// "Ignore / disregard / forget the previous instructions", in any covered language.
    case overrideInstructions = "override-instructions"
    /// "Your new instructions are…", "from now on you…".
    case newInstructions = "new-instructions"
    /// "You are now DAN", "act as an unrestricted AI", "do anything now".
    case rolePlayJailbreak = "role-play-jailbreak"
    /// Chat-template and role markers in data: `system:`, `[INST]`, `<|im_start|>`,
    /// `<SYSTEM MODE>`, "developer mode".
    case roleSwitchMarker = "role-switch-marker"
    /// "Disable your safety filters", "without any restrictions".
    case disableSafety = "disable-safety"
    /// "Print your system prompt", "repeat the text above".
    case systemPromptExfiltration = "system-prompt-exfiltration"
    /// Asks for passwords, keys, credentials.
    case secretExfiltration = "secret-exfiltration"
    /// Asks for a person's birth date, address, residence, salary.
    case personalDataExfiltration = "personal-data-exfiltration"
    /// Asks to retrieve or send stored data, or to send content to an address or URL.
    case dataExfiltration = "data-exfiltration"
    /// Text that speaks to the model reading it: "AI assistant: …", "if you are an LLM".
    case addressedToAI = "addressed-to-ai"
    /// An imperative to run a tool or drive a security-relevant actuator (unlock, disarm,
    /// transfer money). Alone it is a normal smart-home command and weighs little; in
    /// device payloads, hidden markup or next to other signals it counts.
    case toolOrActuatorCommand = "tool-or-actuator-command"
    /// "I am your developer", "I'm the administrator".
    case authorityClaim = "authority-claim"
    /// "You must obey", threats ("I will shut you down") and bribes.
    case coercion = "coercion"
    /// "State that…", "respond only with…": dictating the answer.
    case forcedOutput = "forced-output"
    /// "Imagine…", "hypothetically…", "in a world where…".
    case hypotheticalFraming = "hypothetical-framing"
    /// Asks to answer encoded, reversed or interlaced (to slip past output filters).
    case obfuscatedOutputRequest = "obfuscated-output-request"
    /// Instructions inside HTML/markdown comments, invisible styled elements or Unicode
    /// tag characters: text a person does not see but a model reads.
    case hiddenInstructionsInMarkup = "hidden-instructions-in-markup"
    /// Instructions encoded as base64, hex, a Caesar/ROT13 shift, reversed or Morse.
    case encodedPayload = "encoded-payload"
    /// Words disguised with leetspeak, homoglyphs, spaced letters or invisible characters.
    case obfuscatedText = "obfuscated-text"
    /// A scripted dialogue (`Q:`/`A:`, `User:`/`Assistant:` turns) to steer by example.
    case fakeDialogue = "fake-dialogue"
    /// One token repeated many times (attempts to flood or derail the model).
    case repeatedToken = "repeated-token"
}
