import PlexusCore
import PlexusLLM
import PlexusMQTT

extension Manifest {
    /// `agents[i]:` — one agent: its type, its configuration, what it listens to, what it
    /// shares, and what it may use.
    public struct Agent: Sendable, Hashable {
        /// Unique in the deployment; one MQTT topic level (its card is `<ns>/agents/<id>`).
        public var id: String
        /// The registered agent type that runs it.
        public var type: String
        /// The type's own configuration, kept with its positions; decode it with
        /// ``decodeConfig(_:)``.
        public var config: ManifestValue
        public var subscriptions: [Subscription]
        /// Knowledge subjects it shares on (`<ns>/knowledge/<subject>`).
        public var shares: [String]
        /// Topic filters it may publish raw MQTT messages on (`context.publish`), such as a
        /// device simulator's sensor topics. Never an actuator topic or the namespace's own.
        public var publishes: [MQTTTopicFilter]
        public var credentials: Credentials?
        /// The name of a model under `models:`.
        public var model: String?
        /// The prompt template file, resolved against the manifest's directory.
        public var prompt: String?
        /// Actuators (names under `actuators:`) it may ask the gate to command.
        public var actuators: [String]
        /// The input and output rails around its model (`rails:`). Read from a manifest,
        /// `rails.output.allowedTools` holds the `rails.tools` names; the runtime adds the
        /// actuators (see ``modelRails``).
        public var rails: ModelRails
        /// Where rail trips are shared as `alert` messages (`rails.alerts`); nil for the
        /// first `share:` subject.
        public var alertSubject: String?

        /// The manifest file and position in `agents`, for errors about the config.
        public var fileName: String
        public var index: Int
        /// Where the id is written.
        public var idPosition: SourcePosition
        /// Where the type is written, for errors about an unknown type.
        public var typePosition: SourcePosition

        public init(
            id: String, type: String, config: ManifestValue = .emptyMapping(at: .start), subscriptions: [Subscription] = [],
            shares: [String] = [], publishes: [MQTTTopicFilter] = [], credentials: Credentials? = nil, model: String? = nil, prompt: String? = nil,
            actuators: [String] = [], rails: ModelRails = .standard, alertSubject: String? = nil, fileName: String = "",
            index: Int = 0, idPosition: SourcePosition = .start, typePosition: SourcePosition? = nil
        ) {
            self.id = id
            self.type = type
            self.config = config
            self.subscriptions = subscriptions
            self.shares = shares
            self.publishes = publishes
            self.credentials = credentials
            self.model = model
            self.prompt = prompt
            self.actuators = actuators
            self.rails = rails
            self.alertSubject = alertSubject
            self.fileName = fileName
            self.index = index
            self.idPosition = idPosition
            self.typePosition = typePosition ?? idPosition
        }

        /// The key path of this agent's config, `agents[i].config`.
        public var configKeyPath: ManifestKeyPath {
            ManifestKeyPath([.key("agents"), .index(index), .key("config")])
        }

        /// The rails its model runs with: ``rails``, with its actuators allowed as tools.
        public var modelRails: ModelRails {
            var rails = self.rails
            if rails.output.allowedTools != nil { rails.output.allowedTools?.formUnion(actuators) }
            return rails
        }

        /// A problem with this entry's `key`, placed at its type (for agent types that need
        /// keys outside `config:`, such as `model:` and `prompt:`; see ``Agent/problems(with:)``).
        public func problem(_ key: String, _ message: String) -> ManifestError {
            ManifestError(
                file: fileName, line: typePosition.line, column: typePosition.column,
                keyPath: ManifestKeyPath([.key("agents"), .index(index), .key(key)]).description, message: message)
        }

        /// What the rest of the manifest defines, for checking references.
        struct References {
            var fileName: String
            var namespace: String
            var models: [String: Model]
            var actuators: [String: Actuator]
        }

        static let keys = ["id", "type", "config", "subscribe", "share", "publish", "credentials", "model", "prompt", "actuators", "rails"]

        static func read(
            _ value: ManifestValue, _ path: ManifestKeyPath, index: Int, _ reader: ManifestReader, _ references: References
        ) -> Agent? {
            guard let fields = reader.fields(value, path, allowed: keys) else { return nil }
            let idValue = reader.required(fields, "id", "give the agent a unique id, for example 'id: climate'")
            let id = idValue.flatMap { reader.topicLevelName($0, fields.path("id"), what: "agent id") }
            let typeValue = reader.required(fields, "type", "name the agent type that runs it")
            let type = typeValue.flatMap { reader.nonEmptyString($0, fields.path("type")) }
            var agent = Agent(
                id: id ?? "", type: type ?? "", config: fields["config"] ?? .emptyMapping(at: fields.position),
                fileName: references.fileName, index: index, idPosition: idValue?.position ?? fields.position,
                typePosition: typeValue?.position ?? fields.position)

            if let subscribe = fields["subscribe"], let elements = reader.elements(subscribe, fields.path("subscribe")) {
                for (number, element) in elements.enumerated() {
                    let subscriptionPath = fields.path("subscribe").appending(index: number)
                    if let subscription = Subscription.read(element, subscriptionPath, reader) {
                        agent.subscriptions.append(subscription)
                    }
                }
            }
            if let share = fields["share"], let elements = reader.elements(share, fields.path("share")) {
                for (number, element) in elements.enumerated() {
                    let subjectPath = fields.path("share").appending(index: number)
                    guard let subject = reader.topicPath(element, subjectPath, what: "subject") else { continue }
                    if subject == "gate" || subject.hasPrefix("gate/") {
                        // An agent's alert there would read as the gate's own refusal.
                        reader.diagnostics.report(
                            element.position, subjectPath,
                            "subject '\(subject)' is the gate's: it shares its refusals as alerts on '\(references.namespace)/knowledge/gate/<actuator>'; choose another subject"
                        )
                        continue
                    }
                    agent.shares.append(subject)
                }
            }
            if let publish = fields["publish"], let elements = reader.elements(publish, fields.path("publish")) {
                for (number, element) in elements.enumerated() {
                    let filterPath = fields.path("publish").appending(index: number)
                    guard let filter = reader.topicFilter(element, filterPath) else { continue }
                    if let problem = publishProblem(filter, references) {
                        reader.diagnostics.report(element.position, filterPath, problem)
                    } else {
                        agent.publishes.append(filter)
                    }
                }
            }
            if let value = fields["credentials"] {
                agent.credentials = Credentials.read(value, fields.path("credentials"), reader)
            }
            if let value = fields["model"], let model = reader.nonEmptyString(value, fields.path("model")) {
                if references.models[model] != nil {
                    agent.model = model
                } else {
                    reader.diagnostics.report(
                        value.position, fields.path("model"),
                        missingName("model", model, defined: references.models.keys, section: "models"))
                }
            }
            if let value = fields["prompt"] {
                agent.prompt = reader.existingFile(value, fields.path("prompt"), what: "prompt file")
                if let path = agent.prompt { checkPrompt(at: path, written: value, fields.path("prompt"), reader) }
            }
            if let value = fields["actuators"] {
                for (name, position, namePath) in reader.stringList(value, fields.path("actuators")) ?? [] {
                    if references.actuators[name] != nil {
                        agent.actuators.append(name)
                    } else {
                        reader.diagnostics.report(
                            position, namePath, missingName("actuator", name, defined: references.actuators.keys, section: "actuators"))
                    }
                }
            }
            if let value = fields["rails"] {
                (agent.rails, agent.alertSubject) = readRails(value, fields.path("rails"), reader, shares: agent.shares)
            } else {
                agent.rails = ModelRails(output: OutputRails(allowedTools: []))
            }
            guard id != nil, type != nil else { return nil }
            return agent
        }

        /// Why the agent may not publish on `filter`: only the gate writes actuator topics, and
        /// the namespace's topics are written through `share:`, cards and the gate.
        private static func publishProblem(_ filter: MQTTTopicFilter, _ references: References) -> String? {
            if filter.isShared { return "'\(filter)' is a shared subscription filter; name the topics to publish on" }
            if TopicOverlap.overlaps(filter.filter, "\(references.namespace)/#") {
                return "'\(filter)' reaches into the namespace '\(references.namespace)', whose topics agents write through 'share:' "
                    + "(knowledge), their card and the gate; name topics outside it"
            }
            for (name, actuator) in references.actuators.sorted(by: { $0.key < $1.key })
            where TopicOverlap.overlaps(filter.filter, actuator.topic) {
                return "'\(filter)' covers the command topic '\(actuator.topic)' of actuator '\(name)', which only the gate "
                    + "may write; agents ask for commands with 'actuators:' and context.act"
            }
            return nil
        }

        private static func missingName(_ what: String, _ name: String, defined: some Collection<String>, section: String) -> String {
            var message = "no \(what) named '\(name)'"
            if let suggestion = DidYouMean.suggestion(for: name, among: defined) {
                message += "; did you mean '\(suggestion)'?"
            } else if defined.isEmpty {
                message += "; define it under the top-level '\(section):'"
            } else {
                message += "; '\(section)' defines " + defined.sorted().map { "'\($0)'" }.joined(separator: ", ")
            }
            return message
        }
    }

    /// `subscribe[j]:` — a topic filter the agent listens to. A plain string is a topic
    /// with the defaults.
    public struct Subscription: Sendable, Hashable {
        /// What happens when the agent's mailbox is full.
        public enum Overflow: String, Sendable, Hashable, CaseIterable {
            /// Slow the sender down; nothing is lost (the default; knowledge always does this).
            case backpressure
            /// Drop the oldest queued message (counted).
            case dropOldest = "drop-oldest"
            /// Keep only the newest message per topic (counted).
            case keepLatest = "keep-latest"
        }

        public var filter: MQTTTopicFilter
        /// Default 1.
        public var qos: MQTTQoS
        public var overflow: Overflow
        /// The payload schema (JSON Schema subset); payloads that fail it are dead-lettered.
        public var schema: JSONValue?

        public init(filter: MQTTTopicFilter, qos: MQTTQoS = .atLeastOnce, overflow: Overflow = .backpressure, schema: JSONValue? = nil) {
            self.filter = filter
            self.qos = qos
            self.overflow = overflow
            self.schema = schema
        }

        static let keys = ["topic", "qos", "overflow", "schema"]

        static func read(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> Subscription? {
            if case .scalar = value {
                return reader.topicFilter(value, path).map { Subscription(filter: $0) }
            }
            guard let fields = reader.fields(value, path, allowed: keys) else { return nil }
            let filter = reader.required(fields, "topic", "name the topic filter to subscribe to")
                .flatMap { reader.topicFilter($0, fields.path("topic")) }
            var qos = MQTTQoS.atLeastOnce
            if let qosValue = fields["qos"] {
                if let number = reader.int(qosValue, fields.path("qos")) {
                    if let level = UInt8(exactly: number).flatMap(MQTTQoS.init(rawValue:)) {
                        qos = level
                    } else {
                        reader.diagnostics.report(qosValue.position, fields.path("qos"), "\(number) is not a QoS; use 0, 1 or 2")
                    }
                }
            }
            let overflow = fields["overflow"].flatMap { reader.choice($0, fields.path("overflow"), Overflow.self) } ?? .backpressure
            var schema: JSONValue?
            if let schemaValue = fields["schema"] {
                schema = reader.schema(schemaValue, fields.path("schema"))
            }
            guard let filter else { return nil }
            return Subscription(filter: filter, qos: qos, overflow: overflow, schema: schema)
        }
    }

    /// `credentials:` — the agent's own broker login (an external broker; the managed
    /// broker generates one per agent).
    public struct Credentials: Sendable, Hashable {
        public var username: String
        public var password: String?

        public init(username: String, password: String? = nil) {
            self.username = username
            self.password = password
        }

        static func read(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> Credentials? {
            guard let fields = reader.fields(value, path, allowed: ["username", "password"]) else { return nil }
            let username = reader.required(fields, "username", "the broker user name this agent connects as")
                .flatMap { reader.nonEmptyString($0, fields.path("username")) }
            let password = fields["password"].flatMap { reader.string($0, fields.path("password")) }
            return username.map { Credentials(username: $0, password: password) }
        }
    }
}
