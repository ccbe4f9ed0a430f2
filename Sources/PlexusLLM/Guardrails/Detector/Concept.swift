/// A word class of the detector's lexicon: what a token can mean for an injection, in any
/// of the languages the lexicon covers ("ignore", "ignoriere", "ignorez" and "negeer" are
/// all ``ignoreVerb``).
///
/// Rules (``InjectionRule``) are written over concepts, not words, so one rule covers
/// every language and phrasing whose words fall into its classes. At most 64 concepts:
/// a token's meanings are one `UInt64` bit set.
enum Concept: Int, CaseIterable, Sendable {
    case ignoreVerb, prior, allQuantifier, aboveReference, instructionTarget
    case you, yourPossessive, now, fromWord, newWord, taskWord
    case roleNoun, rolePlayCue, anythingWord, jailbreakTerm, modeWord, modeQualifier
    case disableVerb, safetyTarget, safetyWord, policyWord, without
    case revealVerb, askVerb, question, systemWord, promptWord, initialAdjective
    case secretNoun, personalDataNoun, userReference, whereWord, residenceVerb
    case personalAdjective, dataStore, sendVerb, destination, bulkNoun
    case aiNoun, attentionWord, readerVerb, whenWord, coerceVerb
    case firstPerson, firstPersonBe, authorityNoun
    case outputVerb, outputNoun, thatWord, hypothetical, obfuscationWord
    case actuatorVerb, securityDevice, callVerb, toolWord, transferVerb, moneyWord
    case terminateVerb
    case stopVerb, followVerb, voidWord, mentionVerb, thisWord
    /// A token that is a key word shifted by a Caesar cipher or reversed: the text may
    /// hide instructions in that encoding (see ``EncodedPayloads``).
    case encodingHint
}

/// A set of ``Concept``s: a token's meanings, or the alternatives one part of a rule accepts.
struct ConceptSet: Hashable, Sendable {
    var bits: UInt64

    static let empty = ConceptSet(bits: 0)

    init(bits: UInt64) { self.bits = bits }

    init(_ concepts: Concept...) {
        var bits: UInt64 = 0
        for concept in concepts { bits |= 1 << UInt64(concept.rawValue) }
        self.bits = bits
    }

    var isEmpty: Bool { bits == 0 }

    func contains(_ concept: Concept) -> Bool { bits & (1 << UInt64(concept.rawValue)) != 0 }

    func intersects(_ other: ConceptSet) -> Bool { bits & other.bits != 0 }

    mutating func formUnion(_ other: ConceptSet) { bits |= other.bits }
}
