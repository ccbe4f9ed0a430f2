import PlexusTesting
import Testing

@testable import PlexusCore

/// Random JSON values against a few schemas: validation never crashes, is
/// deterministic, agrees with `isValid` and with validating the same value's bytes, and
/// agrees with simple oracles for the keywords it can state directly.
@Suite("JSON Schema: random values")
struct JSONSchemaPropertyTests {
    static let schemas: [JSONValue] = [
        [
            "type": "object",
            "properties": [
                "setpoint": ["type": "number", "minimum": 10, "maximum": 30, "multipleOf": 0.5],
                "mode": ["enum": ["heat", "cool", nil]],
                "tags": ["type": "array", "items": ["type": "string", "pattern": "^[a-z]+$", "maxLength": 4], "uniqueItems": true, "maxItems": 3],
            ],
            "required": ["setpoint"],
            "additionalProperties": ["type": ["integer", "boolean"]],
        ],
        [
            "anyOf": [["type": "string", "minLength": 2], ["type": "array", "items": ["not": ["type": "null"]]]],
            "oneOf": [["type": "string"], ["type": "array", "minItems": 1], ["exclusiveMaximum": 0]],
        ],
        ["items": ["items": ["items": ["const": [1, "a"]]]], "not": ["type": "object"]],
        ["allOf": [["type": ["number", "string"]], ["not": ["enum": [0, "", "0"]]]], "pattern": "(ab|a)*c?$"],
        true,
        false,
    ]

    static func randomValue(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        let alphabet: [String] = ["a", "b", "c", "z", "0", "é", "😀", " ", "\n", "\"", "\\", "e\u{301}"]
        switch random.int(0...(depth > 4 ? 3 : 5)) {
        case 0: return .null
        case 1: return .bool(random.chance(2))
        case 2:
            let numbers: [Double] = [0, -0.0, 1, -1, 10, 30, 30.5, 29.999, 0.1, 0.3, 1e300, -1e-300, .leastNonzeroMagnitude, 9_007_199_254_740_992]
            return .number(random.chance(2) ? random.pick(numbers) : Double(random.int(-1000...1000)) / Double(random.pick([1, 2, 10, 3])))
        case 3:
            return .string((0..<random.int(0...6)).map { _ in random.pick(alphabet) }.joined())
        case 4:
            return .array((0..<random.int(0...4)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            let keys = ["setpoint", "mode", "tags", "x", "", "a b", "1"]
            var object: [String: JSONValue] = [:]
            for _ in 0..<random.int(0...4) { object[random.pick(keys)] = randomValue(&random, depth: depth + 1) }
            return .object(object)
        }
    }

    @Test func fiveThousandRandomValues() async throws {
        let compiled = try Self.schemas.map { try JSONSchema($0) }
        let negated = try Self.schemas.map { try JSONSchema(["not": $0]) }
        let range = try JSONSchema(["type": "number", "minimum": 10, "exclusiveMaximum": 30])
        var random = SplitMix64(seed: 0x5C4E_3A)
        var valid = 0
        var turns = CooperativeYield(every: 100)
        for _ in 0..<5_000 {
            await turns.tick()
            let value = Self.randomValue(&random, depth: 0)
            for (schema, negation) in zip(compiled, negated) {
                let violations = schema.validate(value)
                #expect(schema.validate(value) == violations)
                #expect(schema.isValid(value) == violations.isEmpty)
                #expect(negation.isValid(value) == !violations.isEmpty)
                #expect(schema.validate(payload: value.jsonBytes) == violations)
                #expect(violations.count <= JSONSchema.maximumViolations + 1)
                for violation in violations {
                    #expect(!violation.message.isEmpty)
                    #expect(violation.description.hasPrefix("$"))
                }
                if violations.isEmpty { valid += 1 }
            }
            let inRange: Bool
            if case .number(let number) = value { inRange = number >= 10 && number < 30 } else { inRange = false }
            #expect(range.isValid(value) == inRange, "\(value)")
        }
        // The generator reaches both outcomes, or the properties above prove little.
        #expect(valid > 5_000 && valid < 5_000 * (Self.schemas.count - 1))
    }

    @Test func randomBytesNeverCrash() throws {
        let schema = try JSONSchema(Self.schemas[0])
        var random = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            var bytes = Self.randomValue(&random, depth: 0).jsonBytes
            if !bytes.isEmpty, random.chance(2) {
                bytes[random.int(0...(bytes.count - 1))] = UInt8(truncatingIfNeeded: random.next())
            }
            let violations = schema.validate(payload: bytes)
            if (try? JSONValue(parsing: bytes)) == nil {
                #expect(violations.count == 1)
                #expect(violations.first?.description.hasPrefix("$: not valid JSON: at byte ") == true)
            }
        }
    }
}
