import NIOCore
import PlexusTesting
import Testing

@testable import PlexusMQTT

/// Random valid packets for a version.
struct PacketGenerator {
    var rng: SplitMix64
    let version: MQTTProtocolVersion

    static let characters: [String] = ["a", "b", "z", "0", " ", "-", "ü", "€", "😀", "$", "\u{7F}"]
    static let levels: [String] = ["a", "b", "sport", "ü", "", "x y", "$x", "😀"]

    mutating func string(_ maxLength: Int = 6) -> String {
        (0..<rng.int(0...maxLength)).map { _ in rng.pick(Self.characters) }.joined()
    }

    mutating func topic() -> String {
        (0..<rng.int(1...4)).map { _ in rng.pick(Self.levels) }.joined(separator: "/").ifEmpty("t")
    }

    mutating func filter() -> String {
        var levels = (0..<rng.int(1...4)).map { _ in rng.chance(4) ? "+" : rng.pick(Self.levels) }
        if rng.chance(4) { levels.append("#") }
        let filter = levels.joined(separator: "/").ifEmpty("f")
        return rng.chance(8) ? "$share/g\(rng.int(0...9))/" + filter : filter
    }

    mutating func payload() -> ByteBuffer { ByteBuffer(bytes: rng.bytes(0...24)) }

    mutating func packetID() -> UInt16 { UInt16(rng.int(1...65535)) }

    mutating func properties(_ context: MQTTPropertyContext) -> MQTTProperties {
        var p = MQTTProperties()
        guard version == .v5 else { return p }
        for id in MQTTPropertyIdentifier.allCases where id.isAllowed(in: context) && rng.chance(3) {
            switch id {
            case .payloadFormatIndicator: p.payloadFormat = .bytes
            case .messageExpiryInterval: p.messageExpiryInterval = UInt32(truncatingIfNeeded: rng.next())
            case .contentType: p.contentType = string()
            case .responseTopic: p.responseTopic = topic()
            case .correlationData: p.correlationData = rng.bytes(0...8)
            case .subscriptionIdentifier:
                let count = context == .packet(.publish) ? rng.int(1...3) : 1
                p.subscriptionIdentifiers = (0..<count).map { _ in
                    rng.chance(2) ? UInt32(rng.int(1...300)) : UInt32(rng.int(1...268_435_455))
                }
            case .sessionExpiryInterval: p.sessionExpiryInterval = UInt32(truncatingIfNeeded: rng.next())
            case .assignedClientIdentifier: p.assignedClientIdentifier = string()
            case .serverKeepAlive: p.serverKeepAlive = UInt16(truncatingIfNeeded: rng.next())
            case .authenticationMethod: p.authenticationMethod = string()
            case .authenticationData: p.authenticationData = rng.bytes(0...8)
            case .requestProblemInformation: p.requestProblemInformation = rng.chance(2)
            case .willDelayInterval: p.willDelayInterval = UInt32(truncatingIfNeeded: rng.next())
            case .requestResponseInformation: p.requestResponseInformation = rng.chance(2)
            case .responseInformation: p.responseInformation = string()
            case .serverReference: p.serverReference = string()
            case .reasonString: p.reasonString = string(12)
            case .receiveMaximum: p.receiveMaximum = UInt16(rng.int(1...65535))
            case .topicAliasMaximum: p.topicAliasMaximum = UInt16(truncatingIfNeeded: rng.next())
            case .topicAlias: p.topicAlias = UInt16(rng.int(1...65535))
            case .maximumQoS: p.maximumQoS = rng.chance(2) ? .atMostOnce : .atLeastOnce
            case .retainAvailable: p.retainAvailable = rng.chance(2)
            case .userProperty: p.userProperties = (0..<rng.int(1...3)).map { _ in MQTTUserProperty(string(), string()) }
            case .maximumPacketSize: p.maximumPacketSize = UInt32(rng.int(1...Int(UInt32.max)))
            case .wildcardSubscriptionAvailable: p.wildcardSubscriptionAvailable = rng.chance(2)
            case .subscriptionIdentifierAvailable: p.subscriptionIdentifierAvailable = rng.chance(2)
            case .sharedSubscriptionAvailable: p.sharedSubscriptionAvailable = rng.chance(2)
            }
        }
        // Text payloads are generated separately; a random one need not be UTF-8.
        if p.payloadFormat != nil { p.payloadFormat = .bytes }
        if context == .packet(.connect) && p.authenticationData != nil && p.authenticationMethod == nil {
            p.authenticationMethod = "m"
        }
        return p
    }

    mutating func reasonCode(_ kind: MQTTPacket.Kind) -> MQTTReasonCode {
        switch (version, kind) {
        case (.v311, .connack): return rng.pick([.success, .unsupportedProtocolVersion, .clientIdentifierNotValid,
                                                 .serverUnavailable, .badUserNameOrPassword, .notAuthorized])
        case (.v311, .suback): return rng.pick([.grantedQoS0, .grantedQoS1, .grantedQoS2, .unspecifiedError])
        case (.v311, _): return .success
        case (.v5, _):
            while true {
                let code = MQTTReasonCode(rawValue: rng.chance(2) ? 0 : rng.byte())
                if code.isAllowed(in: kind) { return code }
            }
        }
    }

    mutating func ack(_ kind: MQTTPacket.Kind) -> MQTTPacket.PublishAck {
        MQTTPacket.PublishAck(packetID: packetID(), reasonCode: reasonCode(kind), properties: properties(.packet(kind)))
    }

    mutating func packet() -> MQTTPacket {
        let kinds = MQTTPacket.Kind.allCases.filter { version == .v5 || $0 != .auth }
        switch rng.pick(kinds) {
        case .connect:
            var will: MQTTPacket.Will?
            if rng.chance(2) {
                var properties = properties(.will)
                var payload = payload()
                if version == .v5 && rng.chance(3) {
                    properties.payloadFormat = .utf8
                    payload = ByteBuffer(string: string(10))
                }
                will = .init(topic: topic(), payload: payload, qos: rng.pick(MQTTQoS.allCases), retain: rng.chance(2),
                             properties: properties)
            }
            let username: String? = rng.chance(2) ? string() : nil
            let password: [UInt8]? = (username != nil || version == .v5) && rng.chance(2) ? rng.bytes(0...8) : nil
            return .connect(.init(
                protocolVersion: version, clientID: string(), cleanStart: rng.chance(2),
                keepAlive: UInt16(truncatingIfNeeded: rng.next()), username: username, password: password, will: will,
                properties: properties(.packet(.connect))))
        case .connack:
            let code = reasonCode(.connack)
            return .connack(.init(sessionPresent: !code.isFailure && rng.chance(2), reasonCode: code,
                                  properties: properties(.packet(.connack))))
        case .publish:
            let qos = rng.pick(MQTTQoS.allCases)
            var properties = properties(.packet(.publish))
            var payload = payload()
            if version == .v5 && rng.chance(4) {
                properties.payloadFormat = .utf8
                payload = ByteBuffer(string: string(10))
            }
            let topic = version == .v5 && properties.topicAlias != nil && rng.chance(2) ? "" : topic()
            return .publish(.init(
                topic: topic, payload: payload, qos: qos, retain: rng.chance(2), dup: qos != .atMostOnce && rng.chance(2),
                packetID: qos == .atMostOnce ? nil : packetID(), properties: properties))
        case .puback: return .puback(ack(.puback))
        case .pubrec: return .pubrec(ack(.pubrec))
        case .pubrel: return .pubrel(ack(.pubrel))
        case .pubcomp: return .pubcomp(ack(.pubcomp))
        case .subscribe:
            let subscriptions = (0..<rng.int(1...3)).map { _ -> MQTTPacket.Subscription in
                let filter = filter()
                guard version == .v5 else { return .init(filter: filter, qos: rng.pick(MQTTQoS.allCases)) }
                return .init(
                    filter: filter, qos: rng.pick(MQTTQoS.allCases),
                    noLocal: !filter.hasPrefix("$share/") && rng.chance(2), retainAsPublished: rng.chance(2),
                    retainHandling: rng.pick([.sendOnSubscribe, .sendOnSubscribeIfNew, .doNotSend]))
            }
            return .subscribe(.init(packetID: packetID(), subscriptions: subscriptions, properties: properties(.packet(.subscribe))))
        case .suback:
            return .suback(.init(packetID: packetID(), reasonCodes: (0..<rng.int(1...4)).map { _ in reasonCode(.suback) },
                                 properties: properties(.packet(.suback))))
        case .unsubscribe:
            return .unsubscribe(.init(packetID: packetID(), filters: (0..<rng.int(1...3)).map { _ in filter() },
                                      properties: properties(.packet(.unsubscribe))))
        case .unsuback:
            let codes = version == .v5 ? (0..<rng.int(1...4)).map { _ in reasonCode(.unsuback) } : []
            return .unsuback(.init(packetID: packetID(), reasonCodes: codes, properties: properties(.packet(.unsuback))))
        case .pingreq: return .pingreq
        case .pingresp: return .pingresp
        case .disconnect:
            return .disconnect(.init(reasonCode: reasonCode(.disconnect), properties: properties(.packet(.disconnect))))
        case .auth:
            return .auth(.init(reasonCode: reasonCode(.auth), properties: properties(.packet(.auth))))
        }
    }
}

extension String {
    fileprivate func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}

@Suite("Codec properties (seeded random)")
struct CodecPropertyTests {
    /// Collects failures without calling into the test framework per iteration,
    /// which would dominate the run time in a debug build.
    struct Failures {
        var count = 0
        var first: [String] = []
        mutating func record(_ message: @autoclosure () -> String) {
            count += 1
            if first.count < 10 { first.append(message()) }
        }
    }

    /// Decodes everything in `bytes`; every decoded packet must survive a
    /// re-encode/decode round trip. Returns the packets decoded.
    static func decodeStream(
        _ bytes: [UInt8], version: MQTTProtocolVersion, maximumPacketSize: UInt32, failures: inout Failures, context: String
    ) -> [MQTTPacket] {
        let decoder = MQTTPacketDecoder(version: version, maximumPacketSize: maximumPacketSize)
        var buffer = ByteBuffer(bytes: bytes)
        var packets: [MQTTPacket] = []
        // A packet is at least 2 bytes: more iterations than bytes means no progress.
        for _ in 0...(bytes.count / 2 + 1) {
            let before = buffer.readerIndex
            let packet: MQTTPacket?
            do {
                packet = try decoder.decode(from: &buffer)
            } catch {
                return packets
            }
            guard let packet else {
                if buffer.readerIndex != before { failures.record("\(context): nil moved the reader index") }
                return packets
            }
            if buffer.readerIndex <= before { failures.record("\(context): packet without progress") }
            packets.append(packet)
            var encodeVersion = version
            if case .connect(let connect) = packet { encodeVersion = connect.protocolVersion }
            do {
                var encoded = ByteBuffer()
                try packet.encode(into: &encoded, version: encodeVersion)
                let again = try MQTTPacketDecoder(version: encodeVersion).decode(from: &encoded)
                if again != packet || encoded.readableBytes != 0 {
                    failures.record("\(context): re-encoded \(packet) decoded as \(String(describing: again))")
                }
            } catch {
                failures.record("\(context): decoded \(packet) fails to round-trip: \(error)")
            }
        }
        failures.record("\(context): decoder did not stop")
        return packets
    }

    static func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        switch rng.int(0...5) {
        case 0:  // bit flips
            for _ in 0..<rng.int(1...3) where !bytes.isEmpty {
                bytes[rng.int(0...(bytes.count - 1))] ^= 1 << UInt8(rng.int(0...7))
            }
        case 1:  // truncation
            bytes = Array(bytes.prefix(rng.int(0...bytes.count)))
        case 2:  // insertion
            bytes.insert(contentsOf: rng.bytes(1...4), at: rng.int(0...bytes.count))
        case 3:  // random remaining length bytes
            let count = rng.int(1...5)
            let replacement = rng.bytes(count...count)
            bytes.replaceSubrange(min(1, bytes.count)..<min(1 + rng.int(1...4), bytes.count), with: replacement)
        case 4:  // deletion
            if !bytes.isEmpty { bytes.remove(at: rng.int(0...(bytes.count - 1))) }
        default:  // overwrite one byte with an interesting value
            if !bytes.isEmpty { bytes[rng.int(0...(bytes.count - 1))] = rng.pick([0x00, 0x01, 0x7F, 0x80, 0xFF, 0x23, 0x2B, 0x26]) }
        }
        return bytes
    }

    @Test("100,000+ random, mutated and garbage inputs: round trips hold, nothing crashes or hangs")
    func randomAndMutatedPackets() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        var rng = SplitMix64(seed: 0x5EED_C0DE_2026)
        var failures = Failures()
        var validRoundTrips = 0
        var mutatedInputs = 0
        var randomInputs = 0
        var decodedFromMutations = 0
        let iterations = 35_000

        var turns = CooperativeYield(every: 250)
        for iteration in 0..<iterations {
            await turns.tick()
            let version: MQTTProtocolVersion = rng.chance(2) ? .v5 : .v311
            var generator = PacketGenerator(rng: rng, version: version)
            let packet = generator.packet()
            rng = generator.rng

            // 1. A valid random packet encodes and decodes to exactly itself.
            var buffer = ByteBuffer()
            do {
                try packet.encode(into: &buffer, version: version)
            } catch {
                failures.record("#\(iteration): valid \(packet) does not encode: \(error)")
                continue
            }
            let bytes = Array(buffer.readableBytesView)
            do {
                let decoded = try CodecTest.decode(bytes, version)
                if decoded != packet { failures.record("#\(iteration): \(packet) decoded as \(String(describing: decoded))") }
            } catch {
                failures.record("#\(iteration): \(packet) fails to decode: \(error)")
            }
            validRoundTrips += 1

            // 2. Two mutations of it: a packet, nil or an error, never a crash.
            for _ in 0..<2 {
                let mutated = Self.mutate(bytes, &rng)
                let maximum: UInt32 = rng.chance(4) ? UInt32(rng.int(2...64)) : 268_435_460
                decodedFromMutations += Self.decodeStream(
                    mutated, version: rng.chance(8) ? (version == .v5 ? .v311 : .v5) : version,
                    maximumPacketSize: maximum, failures: &failures, context: "#\(iteration) mutated").count
                mutatedInputs += 1
            }

            // 3. Pure random bytes, biased to start with a plausible first byte.
            var garbage = rng.bytes(0...40)
            if !garbage.isEmpty && rng.chance(2) { garbage[0] = UInt8(rng.int(1...15)) << 4 | (rng.chance(2) ? 0 : 2) }
            _ = Self.decodeStream(garbage, version: version, maximumPacketSize: 268_435_460, failures: &failures,
                                  context: "#\(iteration) random")
            randomInputs += 1
        }

        let elapsed = clock.now - start
        let total = validRoundTrips + mutatedInputs + randomInputs
        print("codec property test: \(total) inputs (\(validRoundTrips) valid round trips, \(mutatedInputs) mutated, "
              + "\(randomInputs) random; \(decodedFromMutations) packets decoded from mutations) in \(elapsed)")
        #expect(total >= 100_000)
        #expect(failures.count == 0, "\(failures.count) failures, first: \(failures.first.joined(separator: "\n"))")
    }
}
