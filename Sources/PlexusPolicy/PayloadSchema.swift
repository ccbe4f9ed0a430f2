import PlexusCore

/// A compiled command schema that compares by its source, so that an ``ActuatorSpec``
/// can be `Hashable` (a compiled ``JSONSchema`` is not).
public struct PayloadSchema: Sendable, Hashable {
    public let schema: JSONSchema

    public init(_ schema: JSONSchema) {
        self.schema = schema
    }

    /// Compiles `source`; throws every problem in it.
    public init(compiling source: JSONValue) throws(JSONSchemaError) {
        self.schema = try JSONSchema(source)
    }

    public var source: JSONValue { schema.source }

    public static func == (lhs: PayloadSchema, rhs: PayloadSchema) -> Bool {
        lhs.source == rhs.source
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
    }
}
