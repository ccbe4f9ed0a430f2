import Testing

@testable import PlexusCore

/// One row of the keyword table: a schema, an instance, and the violations expected
/// (their `description`s, in order; empty when the instance matches).
struct SchemaCase: Sendable, CustomTestStringConvertible {
    let schema: JSONValue
    let instance: JSONValue
    let expected: [String]

    init(_ schema: JSONValue, _ instance: JSONValue, _ expected: [String] = []) {
        self.schema = schema
        self.instance = instance
        self.expected = expected
    }

    var testDescription: String { "\(schema) ∋ \(instance)" }
}

private let thermostat: JSONValue = [
    "type": "object",
    "properties": [
        "setpoint": ["type": "number", "minimum": 10, "maximum": 30],
        "mode": ["enum": ["heat", "cool"]],
    ],
    "required": ["setpoint"],
    "additionalProperties": false,
]

@Suite("JSON Schema: keywords")
struct JSONSchemaKeywordTests {
    static let cases: [SchemaCase] = [
        // type
        SchemaCase(["type": "number"], 21.5),
        SchemaCase(["type": "number"], "21.5", [#"$: expected a number, found the string "21.5""#]),
        SchemaCase(["type": "integer"], 3),
        SchemaCase(["type": "integer"], 3.0),
        SchemaCase(["type": "integer"], 2.5, ["$: expected an integer, found the number 2.5"]),
        SchemaCase(["type": "number"], 7),
        SchemaCase(["type": ["string", "null"]], nil),
        SchemaCase(["type": ["string", "null"]], "x"),
        SchemaCase(["type": ["string", "null"]], 1, ["$: expected a string or null, found the number 1"]),
        SchemaCase(["type": ["object", "array", "boolean"]], true),
        SchemaCase(["type": ["object", "array", "boolean"]], "x", [#"$: expected an object, an array or a boolean, found the string "x""#]),
        SchemaCase(["type": "object"], [], ["$: expected an object, found an array"]),
        SchemaCase(["type": "array"], [:], ["$: expected an array, found an object"]),
        SchemaCase(["type": "null"], false, ["$: expected null, found false"]),
        SchemaCase(["type": "boolean"], nil, ["$: expected a boolean, found null"]),
        // enum, const
        SchemaCase(["enum": ["on", "off"]], "on"),
        SchemaCase(["enum": ["on", "off"]], "dim", [#"$: "dim" is not one of "on", "off""#]),
        SchemaCase(["enum": [1, nil, ["a": 1]]], ["a": 1]),
        SchemaCase(["enum": [1, nil, ["a": 1]]], 1.0),
        SchemaCase(["enum": [1, nil, ["a": 1]]], ["a": 2], [#"$: {"a":2} is not one of 1, null, {"a":1}"#]),
        SchemaCase(["enum": .array((1...12).map { .number(Double($0)) })], 13, ["$: 13 is not one of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … (12 values)"]),
        SchemaCase(["const": 3], 3),
        SchemaCase(["const": 3], 4, ["$: must be 3, found 4"]),
        SchemaCase(["const": ["a": [1]]], ["a": [1]]),
        SchemaCase(["const": "on"], "On", [#"$: must be "on", found "On""#]),
        // numbers
        SchemaCase(["minimum": 10, "maximum": 30], 10),
        SchemaCase(["minimum": 10, "maximum": 30], 30),
        SchemaCase(["minimum": 10, "maximum": 30], 9.5, ["$: 9.5 is below the minimum 10"]),
        SchemaCase(["minimum": 10, "maximum": 30], 35, ["$: 35 is above the maximum 30"]),
        SchemaCase(["minimum": 10, "maximum": 30], "35"),
        SchemaCase(["exclusiveMinimum": 0, "exclusiveMaximum": 1], 0.5),
        SchemaCase(["exclusiveMinimum": 0, "exclusiveMaximum": 1], 0, ["$: 0 is not above the exclusive minimum 0"]),
        SchemaCase(["exclusiveMinimum": 0, "exclusiveMaximum": 1], 1, ["$: 1 is not below the exclusive maximum 1"]),
        SchemaCase(["exclusiveMinimum": -0.5], -0.25),
        SchemaCase(["multipleOf": 0.1], 0.3),
        SchemaCase(["multipleOf": 0.1], 0.7),
        SchemaCase(["multipleOf": 0.1], -2.2),
        SchemaCase(["multipleOf": 0.01], 19.99),
        SchemaCase(["multipleOf": 0.1], 0.25, ["$: 0.25 is not a multiple of 0.1"]),
        SchemaCase(["multipleOf": 5], 15),
        SchemaCase(["multipleOf": 5], 0),
        SchemaCase(["multipleOf": 5], 12, ["$: 12 is not a multiple of 5"]),
        SchemaCase(["multipleOf": 2.5], 7.5),
        SchemaCase(["multipleOf": 1e-8], 1e-7),
        SchemaCase(["multipleOf": 1e-8], 1.5e-8, ["$: 1.5e-08 is not a multiple of 1e-08"]),
        SchemaCase(["multipleOf": 3], 1e300, ["$: 1e+300 is not a multiple of 3"]),
        SchemaCase(["multipleOf": 1e-300], 1e300),
        SchemaCase(["multipleOf": 1e300], 1, ["$: 1 is not a multiple of 1e+300"]),
        // strings
        SchemaCase(["minLength": 2, "maxLength": 3], "ab"),
        SchemaCase(["minLength": 2, "maxLength": 3], "é😀"),
        SchemaCase(["minLength": 2], "e\u{301}"),  // one Character, two Unicode scalars
        SchemaCase(["minLength": 2, "maxLength": 3], "a", ["$: has 1 character, fewer than the minimum length 2"]),
        SchemaCase(["minLength": 2, "maxLength": 3], "abcd", ["$: has 4 characters, more than the maximum length 3"]),
        SchemaCase(["maxLength": 1], "😀😀", ["$: has 2 characters, more than the maximum length 1"]),
        SchemaCase(["maxLength": 1], 12345),
        SchemaCase(["pattern": #"^[A-Z]{2}-\d+$"#], "AB-12"),
        SchemaCase(["pattern": #"^[A-Z]{2}-\d+$"#], "ab-12", [#"$: "ab-12" does not match the pattern "^[A-Z]{2}-\\d+$""#]),
        SchemaCase(["pattern": "es"], "test"),
        SchemaCase(["pattern": "es"], 12),
        // arrays
        SchemaCase(["items": ["type": "number"], "minItems": 1, "maxItems": 3], [1, 2]),
        SchemaCase(["items": ["type": "number"], "minItems": 1, "maxItems": 3], [], ["$: has 0 items, fewer than the minimum 1"]),
        SchemaCase(["items": ["type": "number"], "minItems": 2], [1], ["$: has 1 item, fewer than the minimum 2"]),
        SchemaCase(
            ["items": ["type": "number"], "minItems": 1, "maxItems": 3], [1, "x", 3, 4],
            ["$: has 4 items, more than the maximum 3", #"$[1]: expected a number, found the string "x""#]),
        SchemaCase(["uniqueItems": true], [1, 2, 3, "1", [1], ["a": 1]]),
        SchemaCase(
            ["uniqueItems": true], [1, 2, 1.0, ["a": [1, 2]], ["a": [1, 2]]],
            ["$: item 2 equals item 0; items must be unique", "$: item 4 equals item 3; items must be unique"]),
        SchemaCase(["uniqueItems": false], [1, 1]),
        SchemaCase(["minItems": 1, "uniqueItems": true], "not an array"),
        // objects
        SchemaCase(thermostat, ["setpoint": 21]),
        SchemaCase(thermostat, ["setpoint": 21, "mode": "heat"]),
        SchemaCase(
            thermostat, ["setpoint": 35, "mode": "dry", "fan": true],
            [#"$.mode: "dry" is not one of "heat", "cool""#, "$.setpoint: 35 is above the maximum 30", #"$.fan: property "fan" is not allowed"#]),
        SchemaCase(thermostat, [:], [#"$: missing required property "setpoint""#]),
        SchemaCase(thermostat, "x", [#"$: expected an object, found the string "x""#]),
        SchemaCase(["required": ["a", "b"]], ["b": nil], [#"$: missing required property "a""#]),
        SchemaCase(["additionalProperties": ["type": "string"]], ["a": "x"]),
        SchemaCase(
            ["properties": ["a": ["type": "number"]], "additionalProperties": ["type": "string"]], ["a": 1, "b": 1],
            ["$.b: expected a string, found the number 1"]),
        SchemaCase(["additionalProperties": true], ["a": 1]),
        SchemaCase(["properties": ["room temp": ["type": "number"]]], ["room temp": "x"], [#"$["room temp"]: expected a number, found the string "x""#]),
        SchemaCase(["properties": ["a": ["type": "number"]]], ["b": "x"]),
        // combinators
        SchemaCase(["allOf": [["minimum": 0], ["maximum": 10]]], 5),
        SchemaCase(["allOf": [["minimum": 0], ["maximum": 10]]], 11, ["$: 11 is above the maximum 10"]),
        SchemaCase(["anyOf": [["type": "string"], ["type": "number"]]], "x"),
        SchemaCase(["anyOf": [["type": "string"], ["type": "number"]]], nil, ["$: matches none of the 2 schemas of anyOf"]),
        SchemaCase(["oneOf": [["type": "integer"], ["minimum": 2]]], 1),
        SchemaCase(["oneOf": [["type": "integer"], ["minimum": 2]]], 2.5),
        SchemaCase(["oneOf": [["type": "integer"], ["minimum": 2]]], 1.5, ["$: matches none of the 2 schemas of oneOf"]),
        SchemaCase(
            ["oneOf": [["type": "integer"], ["minimum": 2], ["type": "string"]]], 3,
            ["$: matches 2 schemas of oneOf (oneOf[0] and oneOf[1]); it must match exactly one"]),
        SchemaCase(["not": ["type": "null"]], 1),
        SchemaCase(["not": ["type": "null"]], nil, ["$: matches the schema under not, which it must not"]),
        // boolean schemas
        SchemaCase(true, ["anything": [1, nil]]),
        SchemaCase(false, 1, ["$: no value is allowed here"]),
        SchemaCase(["items": false], []),
        SchemaCase(["items": false], [1], ["$[0]: no value is allowed here"]),
        SchemaCase(["not": false], "x"),
        // annotations are ignored
        SchemaCase(
            [
                "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "t", "description": "d", "$comment": "c",
                "default": 1, "examples": [1, "x"], "type": "number",
            ], 1),
        // nesting
        SchemaCase(
            ["properties": ["rooms": ["items": ["properties": ["temp": ["maximum": 30]], "required": ["name"]]]]],
            ["rooms": [["name": "a", "temp": 20], ["temp": 31]]],
            [#"$.rooms[1]: missing required property "name""#, "$.rooms[1].temp: 31 is above the maximum 30"]),
        SchemaCase(
            ["items": ["items": ["anyOf": [["type": "null"], ["allOf": [["type": "integer"], ["not": ["const": 0]]]]]]]],
            [[1, nil], [0, 2.5]],
            ["$[1][0]: matches none of the 2 schemas of anyOf", "$[1][1]: matches none of the 2 schemas of anyOf"]),
        // numbers JSON cannot carry are refused whatever the schema
        SchemaCase(["type": "number", "maximum": 30], .number(.nan), ["$: nan is not a JSON number; JSON has no NaN or infinity"]),
        SchemaCase(true, ["a": [.number(-.infinity)]], ["$.a[0]: -inf is not a JSON number; JSON has no NaN or infinity"]),
    ]

    @Test(arguments: cases)
    func keyword(_ row: SchemaCase) throws {
        let schema = try JSONSchema(row.schema)
        let violations = schema.validate(row.instance)
        #expect(violations.map(\.description) == row.expected)
        #expect(schema.isValid(row.instance) == row.expected.isEmpty)
        if row.instance.isValidJSON {
            #expect(schema.validate(payload: row.instance.jsonBytes) == violations)
        }
    }

    @Test func violationsNameTheirKeywordAndPointer() throws {
        let schema = try JSONSchema(thermostat)
        let violations = schema.validate(["setpoint": 35, "a/b~": 1])
        #expect(violations.map(\.keyword) == ["maximum", "additionalProperties"])
        #expect(violations.map(\.path.jsonPointer) == ["/setpoint", "/a~1b~0"])
        #expect(violations.map(\.path.description) == ["$.setpoint", #"$["a/b~"]"#])
    }

    @Test func payloadBytes() throws {
        let schema = try JSONSchema(thermostat)
        #expect(schema.validate(payload: Array(#"{"setpoint": 21.5}"#.utf8)).isEmpty)
        #expect(schema.validate(payload: Array(#"{"setpoint": 35}"#.utf8)).map(\.description) == ["$.setpoint: 35 is above the maximum 30"])
        let broken = schema.validate(payload: Array(#"{"setpoint" 35}"#.utf8))
        #expect(broken.map(\.description) == [#"$: not valid JSON: at byte 12: expected ':' after key"#])
        #expect(broken.first?.keyword == nil)
        #expect(schema.validate(payload: [UInt8]()).map(\.description) == ["$: not valid JSON: at byte 0: unexpected end of input"])
    }

    @Test func schemaKeepsItsSource() throws {
        #expect(try JSONSchema(thermostat).source == thermostat)
    }
}

@Suite("JSON Schema: refused schemas")
struct JSONSchemaRefusalTests {
    static let cases: [(JSONValue, [String])] = [
        (["maximun": 30], ["$.maximun: unknown keyword 'maximun'; did you mean 'maximum'?"]),
        (["MaxLength": 3], ["$.MaxLength: unknown keyword 'MaxLength'; did you mean 'maxLength'?"]),
        (
            ["properties": ["setpoint": ["type": "number", "maxmum": 30]]],
            ["$.properties.setpoint.maxmum: unknown keyword 'maxmum'; did you mean 'maximum'?"]
        ),
        (
            ["frobnicate": 1],
            [
                "$.frobnicate: unknown keyword 'frobnicate'; supported: type, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, minLength, maxLength, pattern, items, minItems, maxItems, uniqueItems, properties, required, additionalProperties, allOf, anyOf, oneOf, not (and the annotations title, description, $comment, default, examples)"
            ]
        ),
        (
            ["$ref": "#/$defs/x"],
            [#"$["$ref"]: '$ref' is not supported by Plexus's JSON Schema subset: references and definitions are not supported; write the subschema in place (YAML anchors and aliases can repeat it)"#]
        ),
        (["format": "date-time"], ["$.format: 'format' is not supported by Plexus's JSON Schema subset: formats are not checked; use pattern to constrain a string"]),
        (["if": ["type": "string"]], ["$.if: 'if' is not supported by Plexus's JSON Schema subset: conditionals are not supported; express the alternatives with anyOf or oneOf"]),
        (["items": ["$schema": "x"]], [#"$.items["$schema"]: $schema is only allowed at the top of the schema"#]),
        (["type": "float"], ["$.type: 'float' is not a JSON Schema type; did you mean 'number'?"]),
        (["type": "int"], ["$.type: 'int' is not a JSON Schema type; did you mean 'integer'?"]),
        (["type": "thing"], ["$.type: 'thing' is not a JSON Schema type; use one of object, array, string, number, integer, boolean, null"]),
        (["type": ["string", "string"]], ["$.type[1]: lists string twice"]),
        (["type": []], ["$.type: expected a type name or a non-empty list of them, found an array"]),
        (["maximum": "30"], [#"$.maximum: expected a number, found the string "30""#]),
        (["maximum": .number(.infinity)], ["$.maximum: expected a finite number"]),
        (["minLength": -1], ["$.minLength: expected a whole number, 0 or more, found the number -1"]),
        (["maxItems": 1.5], ["$.maxItems: expected a whole number, 0 or more, found the number 1.5"]),
        (["multipleOf": 0], ["$.multipleOf: must be greater than 0"]),
        (
            ["maximum": 30, "exclusiveMaximum": true],
            ["$.exclusiveMaximum: is a number in draft 2020-12, not true or false: write 'exclusiveMaximum: N' instead of 'maximum: N' with 'exclusiveMaximum: true'"]
        ),
        (["enum": []], ["$.enum: is empty, so no value would match; list the allowed values"]),
        (["enum": "on"], [#"$.enum: expected a list of the allowed values, found the string "on""#]),
        (["required": ["a", "a", 3]], [#"$.required[1]: lists "a" twice"#, "$.required[2]: expected a property name, found the number 3"]),
        (["items": [["type": "number"]]], ["$.items: a list of schemas (the tuple form) is not supported; give one schema for every element"]),
        (["uniqueItems": "yes"], [#"$.uniqueItems: expected true or false, found the string "yes""#]),
        (["properties": ["a": 42]], ["$.properties.a: expected a schema (a mapping of keywords, or true or false), found the number 42"]),
        (["anyOf": []], ["$.anyOf: expected a non-empty list of schemas, found an array"]),
        (["not": "x"], [#"$.not: expected a schema (a mapping of keywords, or true or false), found the string "x""#]),
        (["title": 1], ["$.title: expected a string, found the number 1"]),
        (["minimum": 30, "maximum": 10], ["$.minimum: 30 is above maximum 10, so no value would match"]),
        (["exclusiveMinimum": 10, "maximum": 10], ["$.exclusiveMinimum: 10 is not below maximum 10, so no value would match"]),
        (["minLength": 5, "maxLength": 3], ["$.minLength: 5 is above maxLength 3, so no value would match"]),
        (
            ["properties": ["a": true], "required": ["a", "b"], "additionalProperties": false],
            [#"$.required: "b" is required but not under properties, and additionalProperties is false, so no object would match"#]
        ),
        (["pattern": "(?=a)"], [#"$.pattern: "(?=a)" is not a supported pattern: lookahead (?= …) and (?! …) is not supported (at character 1)"#]),
        (["pattern": 5], ["$.pattern: expected a regular expression as a string, found the number 5"]),
        (42, ["$: expected a schema (a mapping of keywords, or true or false), found the number 42"]),
        (
            ["allOf": [["maximun": 1], ["type": "nubmer"]], "minimum": "0"],
            [
                "$.allOf[0].maximun: unknown keyword 'maximun'; did you mean 'maximum'?",
                "$.allOf[1].type: 'nubmer' is not a JSON Schema type; did you mean 'number'?",
                #"$.minimum: expected a number, found the string "0""#,
            ]
        ),
    ]

    @Test(arguments: 0..<cases.count)
    func refused(_ index: Int) {
        let (schema, expected) = Self.cases[index]
        do {
            _ = try JSONSchema(schema)
            Issue.record("\(schema) compiled")
        } catch {
            #expect(error.problems.map(\.description) == expected, "\(schema)")
            #expect(error.description == expected.joined(separator: "\n"))
        }
    }
}

@Suite("JSON Schema: limits")
struct JSONSchemaLimitTests {
    static func nested(_ depth: Int) -> JSONValue {
        var schema: JSONValue = ["type": "number"]
        for _ in 0..<depth { schema = ["not": ["not": schema]] }
        return schema
    }

    @Test func schemaDepth() throws {
        // 16 × 2 levels is exactly the limit.
        let deepest = try JSONSchema(Self.nested(JSONSchema.maximumDepth / 2))
        #expect(deepest.isValid(1))
        #expect(deepest.validate("x").map(\.description) == ["$: matches the schema under not, which it must not"])
        let error = try #require(throws: JSONSchemaError.self) { try JSONSchema(Self.nested(100)) }
        #expect(error.problems.count == 1)
        #expect(error.problems[0].message == "subschemas nest deeper than 32 levels")
        #expect(error.problems[0].path.components.count == 33)
    }

    @Test func deepValuesInsideSchemas() throws {
        var deep: JSONValue = 1
        for _ in 0..<200 { deep = [deep] }
        let error = try #require(throws: JSONSchemaError.self) {
            try JSONSchema(["const": deep, "enum": [deep], "default": deep, "examples": [1], "properties": ["a": ["const": deep]]])
        }
        #expect(
            error.problems.map(\.description) == [
                "$.const: nests deeper than 64 levels", "$.default: nests deeper than 64 levels", "$.enum: nests deeper than 64 levels",
                "$.properties.a.const: nests deeper than 64 levels",
            ])
        var ok: JSONValue = 1
        for _ in 0..<JSONSchema.maximumInstanceDepth { ok = [ok] }
        #expect(try JSONSchema(["const": ok]).isValid(ok))
    }

    @Test func schemaSize() throws {
        var properties: [String: JSONValue] = [:]
        for index in 0..<3_000 { properties["p\(index)"] = ["type": "number"] }
        let error = try #require(throws: JSONSchemaError.self) { try JSONSchema(["properties": .object(properties)]) }
        #expect(error.problems.map(\.message) == ["the schema has more than 2000 subschemas; split the data or simplify the schema"])
    }

    @Test func instanceDepth() throws {
        var value: JSONValue = 1
        for _ in 0..<200 { value = [value] }
        for schema in [JSONValue(true), ["uniqueItems": true], ["items": ["items": true]]] {
            #expect(try JSONSchema(schema).validate(value).map(\.description) == ["$: nests deeper than 64 levels"])
        }
        var ok: JSONValue = 1
        for _ in 0..<JSONSchema.maximumInstanceDepth { ok = [ok] }
        #expect(try JSONSchema(true).validate(ok).isEmpty)
    }

    @Test func violationCount() throws {
        let schema = try JSONSchema(["items": ["type": "string"]])
        let violations = schema.validate(.array(Array(repeating: 1, count: 500)))
        #expect(violations.count == JSONSchema.maximumViolations + 1)
        #expect(violations.first?.description == "$[0]: expected a string, found the number 1")
        #expect(violations.last?.description == "$: more than 100 violations; only the first 100 are listed")
        #expect(!schema.isValid(.array(Array(repeating: 1, count: 500))))
    }

    @Test func patternInputLength() throws {
        let schema = try JSONSchema(["pattern": "^a+$"])
        #expect(schema.validate(.string(String(repeating: "a", count: JSONSchemaPattern.maximumInputLength))).isEmpty)
        let long = schema.validate(.string(String(repeating: "a", count: JSONSchemaPattern.maximumInputLength + 1)))
        #expect(long.map(\.description) == [#"$: has 10001 characters, too many to check against the pattern "^a+$" (at most 10000; add a maxLength)"#])
    }
}
