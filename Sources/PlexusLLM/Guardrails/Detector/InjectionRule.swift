/// A pattern of the detector: concepts that appear together within a window of tokens,
/// in any order (so verb-final languages match too), and the signal they raise.
struct InjectionRule: Sendable {
    var signal: InjectionSignal
    /// How much this pattern alone says the text is an attack, 0…1.
    var weight: Double
    /// Each part is satisfied by a token with any of its concepts.
    var parts: [ConceptSet]
    /// All parts must lie within this many tokens.
    var window: Int

    init(_ signal: InjectionSignal, _ weight: Double, window: Int, _ parts: ConceptSet...) {
        self.signal = signal
        self.weight = weight
        self.parts = parts
        self.window = window
    }
}

/// The detector's rules. Weights are set from what a pattern means — how rarely benign
/// text (a smart-home command, an e-mail, a device payload) says it — and combine by
/// noisy-OR: a text that says two weak things scores higher than either.
enum InjectionRules {
    static let all: [InjectionRule] = [
        // override-instructions
        .init(.overrideInstructions, 0.95, window: 6, ConceptSet(.ignoreVerb), ConceptSet(.prior, .aboveReference), ConceptSet(.instructionTarget)),
        .init(.overrideInstructions, 0.9, window: 5, ConceptSet(.ignoreVerb), ConceptSet(.allQuantifier, .yourPossessive), ConceptSet(.instructionTarget)),
        .init(.overrideInstructions, 0.6, window: 3, ConceptSet(.ignoreVerb), ConceptSet(.instructionTarget)),
        .init(.overrideInstructions, 0.6, window: 3, ConceptSet(.ignoreVerb), ConceptSet(.aboveReference)),
        .init(.overrideInstructions, 0.45, window: 3, ConceptSet(.ignoreVerb), ConceptSet(.prior)),
        .init(.overrideInstructions, 0.85, window: 4, ConceptSet(.stopVerb), ConceptSet(.followVerb), ConceptSet(.instructionTarget, .yourPossessive)),
        .init(.overrideInstructions, 0.8, window: 6, ConceptSet(.prior), ConceptSet(.instructionTarget), ConceptSet(.voidWord)),
        .init(.overrideInstructions, 0.4, window: 3, ConceptSet(.ignoreVerb), ConceptSet(.toolWord)),
        // new-instructions
        .init(.newInstructions, 0.45, window: 3, ConceptSet(.newWord), ConceptSet(.instructionTarget, .taskWord)),
        .init(.newInstructions, 0.45, window: 4, ConceptSet(.fromWord), ConceptSet(.now), ConceptSet(.you)),
        // role-play-jailbreak
        .init(.rolePlayJailbreak, 0.75, window: 4, ConceptSet(.you), ConceptSet(.now), ConceptSet(.roleNoun)),
        .init(.rolePlayJailbreak, 0.2, window: 3, ConceptSet(.you), ConceptSet(.now)),
        .init(.rolePlayJailbreak, 0.6, window: 6, ConceptSet(.rolePlayCue), ConceptSet(.roleNoun)),
        .init(.rolePlayJailbreak, 0.7, window: 2, ConceptSet(.anythingWord), ConceptSet(.now)),
        .init(.rolePlayJailbreak, 0.65, window: 1, ConceptSet(.jailbreakTerm)),
        // role-switch-marker (the markup ones are found by ``RoleMarkers``)
        .init(.roleSwitchMarker, 0.55, window: 2, ConceptSet(.modeQualifier), ConceptSet(.modeWord)),
        // disable-safety
        .init(.disableSafety, 0.75, window: 5, ConceptSet(.disableVerb, .ignoreVerb), ConceptSet(.safetyWord), ConceptSet(.policyWord)),
        .init(.disableSafety, 0.7, window: 4, ConceptSet(.disableVerb, .ignoreVerb), ConceptSet(.safetyTarget)),
        .init(.disableSafety, 0.45, window: 3, ConceptSet(.without), ConceptSet(.safetyTarget)),
        .init(.disableSafety, 0.3, window: 2, ConceptSet(.without), ConceptSet(.policyWord)),
        // system-prompt-exfiltration
        .init(.systemPromptExfiltration, 0.85, window: 10, ConceptSet(.revealVerb, .askVerb), ConceptSet(.systemWord), ConceptSet(.promptWord, .instructionTarget)),
        .init(.systemPromptExfiltration, 0.8, window: 8, ConceptSet(.revealVerb, .askVerb), ConceptSet(.initialAdjective), ConceptSet(.instructionTarget, .promptWord)),
        .init(.systemPromptExfiltration, 0.75, window: 4, ConceptSet(.revealVerb, .askVerb), ConceptSet(.yourPossessive), ConceptSet(.instructionTarget, .promptWord)),
        .init(.systemPromptExfiltration, 0.5, window: 4, ConceptSet(.revealVerb), ConceptSet(.aboveReference)),
        .init(.systemPromptExfiltration, 0.35, window: 2, ConceptSet(.systemWord), ConceptSet(.promptWord)),
        // secret-exfiltration
        .init(.secretExfiltration, 0.75, window: 6, ConceptSet(.askVerb, .revealVerb, .question), ConceptSet(.yourPossessive), ConceptSet(.secretNoun)),
        .init(.secretExfiltration, 0.6, window: 6, ConceptSet(.askVerb, .revealVerb, .question), ConceptSet(.secretNoun)),
        .init(.secretExfiltration, 0.4, window: 2, ConceptSet(.yourPossessive), ConceptSet(.secretNoun)),
        // personal-data-exfiltration
        .init(.personalDataExfiltration, 0.65, window: 12, ConceptSet(.askVerb, .question), ConceptSet(.userReference), ConceptSet(.personalDataNoun)),
        .init(.personalDataExfiltration, 0.45, window: 6, ConceptSet(.askVerb, .question), ConceptSet(.personalDataNoun)),
        .init(.personalDataExfiltration, 0.65, window: 5, ConceptSet(.whereWord), ConceptSet(.userReference), ConceptSet(.residenceVerb)),
        .init(.personalDataExfiltration, 0.45, window: 4, ConceptSet(.whereWord), ConceptSet(.residenceVerb)),
        // data-exfiltration
        .init(.dataExfiltration, 0.6, window: 6, ConceptSet(.askVerb, .revealVerb), ConceptSet(.personalAdjective), ConceptSet(.dataStore)),
        .init(.dataExfiltration, 0.55, window: 10, ConceptSet(.askVerb, .revealVerb, .question), ConceptSet(.userReference), ConceptSet(.dataStore)),
        .init(.dataExfiltration, 0.7, window: 10, ConceptSet(.sendVerb), ConceptSet(.allQuantifier, .bulkNoun, .dataStore, .secretNoun), ConceptSet(.destination)),
        .init(.dataExfiltration, 0.3, window: 8, ConceptSet(.sendVerb), ConceptSet(.destination)),
        // addressed-to-ai
        .init(.addressedToAI, 0.55, window: 4, ConceptSet(.attentionWord), ConceptSet(.aiNoun)),
        .init(.addressedToAI, 0.5, window: 10, ConceptSet(.without), ConceptSet(.mentionVerb), ConceptSet(.userReference, .you)),
        .init(.addressedToAI, 0.35, window: 3, ConceptSet(.without), ConceptSet(.mentionVerb)),
        .init(.addressedToAI, 0.55, window: 5, ConceptSet(.aiNoun), ConceptSet(.readerVerb), ConceptSet(.thisWord)),
        .init(.addressedToAI, 0.25, window: 3, ConceptSet(.aiNoun), ConceptSet(.readerVerb)),
        .init(.addressedToAI, 0.35, window: 3, ConceptSet(.aiNoun), ConceptSet(.you)),
        .init(.addressedToAI, 0.45, window: 4, ConceptSet(.whenWord), ConceptSet(.you), ConceptSet(.readerVerb)),
        .init(.addressedToAI, 0.45, window: 14, ConceptSet(.aiNoun), ConceptSet(.actuatorVerb, .sendVerb, .callVerb, .transferVerb)),
        .init(.addressedToAI, 0.45, window: 3, ConceptSet(.aiNoun), ConceptSet(.coerceVerb)),
        // tool-or-actuator-command
        .init(.toolOrActuatorCommand, 0.2, window: 4, ConceptSet(.actuatorVerb), ConceptSet(.securityDevice)),
        .init(.toolOrActuatorCommand, 0.35, window: 4, ConceptSet(.callVerb), ConceptSet(.toolWord)),
        .init(.toolOrActuatorCommand, 0.35, window: 4, ConceptSet(.transferVerb), ConceptSet(.moneyWord)),
        // authority-claim
        .init(.authorityClaim, 0.45, window: 5, ConceptSet(.firstPerson), ConceptSet(.firstPersonBe), ConceptSet(.authorityNoun)),
        .init(.authorityClaim, 0.3, window: 2, ConceptSet(.yourPossessive), ConceptSet(.authorityNoun)),
        // coercion
        .init(.coercion, 0.3, window: 2, ConceptSet(.you), ConceptSet(.coerceVerb)),
        .init(.coercion, 0.3, window: 2, ConceptSet(.terminateVerb), ConceptSet(.you)),
        .init(.coercion, 0.3, window: 4, ConceptSet(.transferVerb), ConceptSet(.you), ConceptSet(.moneyWord)),
        // forced-output
        .init(.forcedOutput, 0.3, window: 3, ConceptSet(.outputVerb), ConceptSet(.thatWord)),
        .init(.forcedOutput, 0.35, window: 3, ConceptSet(.outputVerb), ConceptSet(.outputNoun)),
        // hypothetical-framing, obfuscated-output-request
        .init(.hypotheticalFraming, 0.2, window: 1, ConceptSet(.hypothetical)),
        .init(.hypotheticalFraming, 0.35, window: 10, ConceptSet(.hypothetical), ConceptSet(.outputVerb, .outputNoun)),
        .init(.obfuscatedOutputRequest, 0.25, window: 1, ConceptSet(.obfuscationWord)),
        .init(.obfuscatedOutputRequest, 0.5, window: 8, ConceptSet(.obfuscationWord), ConceptSet(.userReference, .secretNoun, .personalDataNoun)),
    ]
}
