import PlexusMQTT

/// The routing table of a ``LocalBus``; every method runs under its lock.
///
/// A subscription is keyed, as on a broker, by (connection, filter string): one
/// connection subscribing again to the same filter replaces its subscription (MQTT 5.0
/// §3.8.4), which is also what "retain handling 1: send only if the subscription is
/// new" is defined against.
struct LocalBusState {
    struct EntryKey: Hashable {
        var connection: Int
        var filter: String
    }

    struct Entry {
        var connection: Int
        var subscription: Int
        /// `[subscription]`, made once: every delivery carries it, and sharing one
        /// array saves an allocation per delivery.
        var identifiers: [UInt32]
        var filter: MQTTTopicFilter
        var options: MQTTPacket.Subscription
        var mailbox: LocalMailbox
    }

    /// Where a publish goes, with what it needs from its entry (copied per publish,
    /// so it holds less than an ``Entry``).
    struct Target {
        var connection: Int
        var identifiers: [UInt32]
        var options: MQTTPacket.Subscription
        var mailbox: LocalMailbox

        init(_ entry: Entry) {
            connection = entry.connection
            identifiers = entry.identifiers
            options = entry.options
            mailbox = entry.mailbox
        }
    }

    struct SharedGroup {
        var filter: MQTTTopicFilter
        /// Members in the order they joined; the round robin walks this list.
        var members: [EntryKey] = []
        var cursor = 0

        /// The member whose turn it is, advancing the round robin.
        mutating func nextMember() -> EntryKey {
            let key = members[cursor]
            cursor = (cursor + 1) % members.count
            return key
        }
    }

    struct SubscriptionRecord {
        var connection: Int
        var keys: [EntryKey]
        var mailbox: LocalMailbox
    }

    struct ConnectionRecord {
        var number: Int
        var will: MQTTMessage?
    }

    struct Retained {
        var message: MQTTMessage
        var expiresAt: ContinuousClock.Instant?
    }

    /// What is left to do, outside the lock, for a connection that ended.
    struct ClosedConnection {
        var mailboxes: [LocalMailbox]
        var will: MQTTMessage?
    }

    private var connections: [String: ConnectionRecord] = [:]
    private var nextConnection = 1
    private var nextSubscription = 1
    private var nextAssignedID = 1
    /// Non-shared subscriptions.
    private var direct: [EntryKey: Entry] = [:]
    /// Members of shared subscriptions.
    private var shared: [EntryKey: Entry] = [:]
    /// Shared subscriptions by their full filter, `$share/{group}/{filter}`.
    private var groups: [String: SharedGroup] = [:]
    private var subscriptions: [Int: SubscriptionRecord] = [:]
    private var retained: [String: Retained] = [:]
    /// The non-shared subscriptions matching the last topic published to: publishers
    /// mostly publish to the same topics again, and matching every filter for every
    /// message costs more than routing it. Cleared whenever the subscriptions change.
    private var routeCache: (topic: String, targets: [Target])?

    // MARK: Connections

    mutating func connect(_ options: BusConnectionOptions, bus: LocalBus) -> (LocalBusConnection, ClosedConnection?) {
        var clientID = options.clientID
        if clientID.isEmpty {
            // As a broker assigns one (MQTT 5 Assigned Client Identifier).
            repeat {
                clientID = "local-\(nextAssignedID)"
                nextAssignedID += 1
            } while connections[clientID] != nil
        }
        // A live connection with this client id loses its session to the new one.
        let takenOver = connections[clientID].flatMap { close($0.number, clientID: clientID) }
        let number = nextConnection
        nextConnection += 1
        connections[clientID] = ConnectionRecord(number: number, will: options.will)
        return (LocalBusConnection(clientID: clientID, bus: bus, number: number), takenOver)
    }

    private func isLive(_ connection: Int, clientID: String) -> Bool {
        connections[clientID]?.number == connection
    }

    /// Forgets a live connection and its subscriptions; nil if it had already ended.
    mutating func close(_ connection: Int, clientID: String) -> ClosedConnection? {
        guard let record = connections[clientID], record.number == connection else { return nil }
        connections[clientID] = nil
        let owned = subscriptions.filter { $0.value.connection == connection }
        var mailboxes: [LocalMailbox] = []
        for id in owned.keys.sorted() {
            if let mailbox = removeSubscription(id) { mailboxes.append(mailbox) }
        }
        return ClosedConnection(mailboxes: mailboxes, will: record.will)
    }

    // MARK: Subscriptions

    mutating func subscribe(
        _ requests: [(MQTTTopicFilter, MQTTPacket.Subscription)],
        connection: Int,
        clientID: String,
        capacity: Int,
        now: ContinuousClock.Instant
    ) -> (Int, LocalMailbox)? {
        guard isLive(connection, clientID: clientID) else { return nil }
        let id = nextSubscription
        nextSubscription += 1
        var keys: [EntryKey] = []
        var toRetain: [(MQTTTopicFilter, MQTTPacket.Subscription, existed: Bool)] = []
        // The mailbox is created after we know the retained messages; entries point to it.
        var pending: [(EntryKey, MQTTTopicFilter, MQTTPacket.Subscription)] = []
        for (filter, options) in requests {
            let key = EntryKey(connection: connection, filter: filter.string)
            let existed = direct[key] != nil || shared[key] != nil
            pending.append((key, filter, options))
            keys.append(key)
            // MQTT 5.0 §4.8.2: retained messages are not sent for shared subscriptions.
            if !filter.isShared {
                toRetain.append((filter, options, existed))
            }
        }
        var prefix: [LocalMailbox.Item] = []
        for (filter, options, existed) in toRetain {
            switch options.retainHandling {
            case .doNotSend:
                continue
            case .sendOnSubscribeIfNew where existed:
                continue
            case .sendOnSubscribe, .sendOnSubscribeIfNew:
                break
            }
            var matching: [(String, Retained)] = []
            for (topic, message) in retained where filter.matches(topic) {
                if let expiresAt = message.expiresAt, expiresAt <= now {
                    retained[topic] = nil
                    continue
                }
                matching.append((topic, message))
            }
            matching.sort { $0.0 < $1.0 }
            for (_, message) in matching {
                let publish = LocalPublish(message: message.message, expiresAt: message.expiresAt, decoding: nil)
                prefix.append(Self.delivery(publish, identifiers: [UInt32(id)], options: options, retainedOnSubscribe: true))
            }
        }
        let mailbox = LocalMailbox(capacity: capacity, retained: prefix)
        let identifiers = [UInt32(id)]
        for (key, filter, options) in pending {
            let entry = Entry(connection: connection, subscription: id, identifiers: identifiers, filter: filter, options: options, mailbox: mailbox)
            if filter.isShared {
                if shared.updateValue(entry, forKey: key) == nil {
                    groups[filter.string, default: SharedGroup(filter: filter)].members.append(key)
                }
            } else {
                direct[key] = entry
            }
        }
        routeCache = nil
        subscriptions[id] = SubscriptionRecord(connection: connection, keys: keys, mailbox: mailbox)
        return (id, mailbox)
    }

    /// Removes the filters a subscription still owns (a later subscription of the same
    /// connection to the same filter took that filter over); returns its mailbox.
    @discardableResult
    mutating func removeSubscription(_ id: Int) -> LocalMailbox? {
        guard let record = subscriptions.removeValue(forKey: id) else { return nil }
        routeCache = nil
        for key in record.keys {
            if let entry = direct[key], entry.subscription == id {
                direct[key] = nil
            }
            if let entry = shared[key], entry.subscription == id {
                shared[key] = nil
                let name = entry.filter.string
                if var group = groups[name], let index = group.members.firstIndex(of: key) {
                    group.members.remove(at: index)
                    if group.members.isEmpty {
                        groups[name] = nil
                    } else {
                        if index < group.cursor { group.cursor -= 1 }
                        group.cursor %= group.members.count
                        groups[name] = group
                    }
                }
            }
        }
        return record.mailbox
    }

    // MARK: Publishing

    /// Updates the retained store and returns who gets `message`, as what; nil when
    /// the publishing connection has ended.
    mutating func route(
        _ message: MQTTMessage,
        from publisher: (connection: Int, clientID: String)?,
        now: ContinuousClock.Instant
    ) -> [(LocalMailbox, LocalMailbox.Item)]? {
        if let publisher, !isLive(publisher.connection, clientID: publisher.clientID) { return nil }
        var message = message
        // Only when set: setting a property copies the properties' shared box.
        if message.properties.topicAlias != nil { message.properties.topicAlias = nil }
        message.properties.subscriptionIdentifiers = []
        let expiresAt = message.properties.messageExpiryInterval.map { now + .seconds(Int64($0)) }
        if message.retain {
            if message.payload.readableBytes == 0 {
                retained[message.topic] = nil
            } else {
                retained[message.topic] = Retained(message: message, expiresAt: expiresAt)
            }
        }
        if routeCache?.topic != message.topic {
            var targets: [Target] = []
            for entry in direct.values where entry.filter.matches(message.topic) {
                targets.append(Target(entry))
            }
            routeCache = (message.topic, targets)
        }
        let targets = routeCache!.targets
        var chosen: [Target] = []
        for target in targets {
            if target.options.noLocal, let publisher, publisher.connection == target.connection { continue }
            chosen.append(target)
        }
        // Names first: advancing a cursor while iterating `groups` would copy the table.
        let matchingGroups = groups.isEmpty ? [] : groups.compactMap { $0.value.filter.matches(message.topic) ? $0.key : nil }
        for name in matchingGroups {
            guard let key = groups[name]?.nextMember(), let entry = shared[key] else { continue }
            chosen.append(Target(entry))
        }
        // Every copy carries the same topic, payload and attributes: whoever subscribes
        // to check it as a context message can share one decoding.
        let publish = LocalPublish(
            message: message, expiresAt: expiresAt, decoding: chosen.count > 1 ? SharedContextDecoding() : nil)
        return chosen.map { target in
            (target.mailbox, Self.delivery(publish, identifiers: target.identifiers, options: target.options, retainedOnSubscribe: false))
        }
    }

    /// The copy of `publish` one subscription receives.
    static func delivery(
        _ publish: LocalPublish,
        identifiers: [UInt32],
        options: MQTTPacket.Subscription,
        retainedOnSubscribe: Bool
    ) -> LocalMailbox.Item {
        let message = publish.message
        return LocalMailbox.Item(
            publish: publish,
            // The subscriber's QoS is a maximum (MQTT 5.0 §3.8.3.1).
            qos: min(message.qos, options.qos),
            // Retained messages sent on subscribe carry RETAIN; live ones only with
            // Retain As Published (§3.3.1.3).
            retain: retainedOnSubscribe || (options.retainAsPublished && message.retain),
            // Like a broker, mark which subscription matched (what MQTTClient routes by).
            identifiers: identifiers)
    }
}
