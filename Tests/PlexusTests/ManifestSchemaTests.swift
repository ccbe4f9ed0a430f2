import PlexusCore
import Testing

@testable import Plexus

@Suite("Manifest: payload and command schemas")
struct ManifestSchemaTests {
    @Test("schemas are compiled when the manifest is read; problems name their line, column and keyword")
    func badSchemas() {
        let yaml = """
            plexus: 1
            name: schemas
            actuators:
              thermostat:
                topic: home/thermostat/set
                schema:
                  type: object
                  properties:
                    setpoint: {type: number, maximun: 30}
                    mode: {type: float}
                  required: [setpoint, setpoint]
                policy: [{allow: true}]
            agents:
              - id: a
                type: echo
                subscribe:
                  - topic: home/+/id
                    schema:
                      pattern: "(?=x)"
                  - topic: home/+/temperature
                    schema: number
            """
        let errors = manifestErrors(yaml).map(\.description)
        #expect(
            errors == [
                "test.yaml:9:34: actuators.thermostat.schema.properties.setpoint.maximun: unknown keyword 'maximun'; did you mean 'maximum'?",
                "test.yaml:10:16: actuators.thermostat.schema.properties.mode.type: 'float' is not a JSON Schema type; did you mean 'number'?",
                #"test.yaml:11:28: actuators.thermostat.schema.required[1]: lists "setpoint" twice"#,
                #"test.yaml:19:11: agents[0].subscribe[0].schema.pattern: "(?=x)" is not a supported pattern: lookahead (?= …) and (?! …) is not supported (at character 1)"#,
                "test.yaml:21:17: agents[0].subscribe[1].schema: expected a JSON Schema as a mapping (type, properties, …), found 'number'",
            ], "\(errors.joined(separator: "\n"))")
    }

    @Test("a valid schema is kept as JSON")
    func goodSchema() throws {
        let manifest = try parseManifest(
            minimalManifest(
                """
                actuators:
                  lamp:
                    topic: home/lamp/set
                    schema:
                      type: object
                      properties:
                        on: {type: boolean}
                        level: {type: integer, minimum: 0, maximum: 100}
                      required: [on]
                      additionalProperties: false
                    policy: [{allow: true}]
                """))
        let schema = try JSONSchema(try #require(manifest.actuators["lamp"]?.schema))
        #expect(schema.isValid(["on": true, "level": 40]))
        #expect(schema.validate(["on": true, "level": 140]).map(\.description) == ["$.level: 140 is above the maximum 100"])
    }
}
