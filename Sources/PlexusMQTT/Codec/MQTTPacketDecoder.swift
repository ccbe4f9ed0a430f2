import NIOCore

/// Strict, bounded decoder of MQTT control packets from a byte stream.
///
/// "Strict" because every rule of the specification that a receiver can check on
/// a single packet is checked, and a violation throws an ``MQTTProtocolError``
/// carrying the reason code to close the connection with. "Bounded" because the
/// packet size is checked as soon as the fixed header is readable, before the
/// body is waited for, so a peer cannot make us buffer more than
/// ``maximumPacketSize`` bytes; and because no length field is trusted before it
/// is checked against the bytes actually present.
///
/// A value type with no state between packets: the caller owns the buffer, and
/// the same decoder can be used from any context.
public struct MQTTPacketDecoder: Sendable {
    /// The protocol of the connection. CONNECT is the exception: it declares its
    /// own protocol level and is decoded by that.
    public var version: MQTTProtocolVersion
    /// Packets whose total size (fixed header + remaining length) exceeds this are refused with 0x95 before their body is awaited.
    public var maximumPacketSize: UInt32

    public init(version: MQTTProtocolVersion, maximumPacketSize: UInt32 = 268_435_460) {
        self.version = version
        self.maximumPacketSize = maximumPacketSize
    }

    /// Decodes one packet from the front of `buffer`. Returns nil and leaves the reader index untouched when the packet is not complete yet.
    ///
    /// On success the reader index moves past the packet. A thrown error means the
    /// stream is unusable (MQTT has no resynchronisation): close the connection,
    /// on MQTT 5 with a DISCONNECT or CONNACK carrying the error's reason code.
    public func decode(from buffer: inout ByteBuffer) throws(MQTTProtocolError) -> MQTTPacket? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        let header = try FixedHeader(first, version: version)
        guard let (remainingLength, lengthBytes) = try MQTTVariableByteInteger.peek(in: buffer, at: start &+ 1) else {
            return nil
        }
        let total = 1 &+ lengthBytes &+ Int(remainingLength)
        guard UInt64(total) <= UInt64(maximumPacketSize) else {
            throw MQTTProtocolError(
                .packetTooLarge, "\(header.kind) of \(total) bytes exceeds the maximum packet size \(maximumPacketSize)")
        }
        guard buffer.readableBytes >= total,
            let body = buffer.getSlice(at: start &+ 1 &+ lengthBytes, length: Int(remainingLength))
        else {
            return nil
        }
        let packet = try decodeBody(header, MQTTWireReader(body))
        buffer.moveReaderIndex(forwardBy: total)
        return packet
    }

    /// Packet type and flags of the first byte, validated per §2.1.3.
    struct FixedHeader {
        var kind: MQTTPacket.Kind
        var flags: UInt8

        init(_ byte: UInt8, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
            guard let kind = MQTTPacket.Kind(rawValue: byte >> 4) else {
                throw .malformed("reserved packet type 0")
            }
            if kind == .auth && version == .v311 {
                throw .malformed("packet type 15 (AUTH) is reserved in MQTT 3.1.1")
            }
            let flags = byte & 0x0F
            switch kind {
            case .publish:
                let qos = (flags >> 1) & 0b11
                if qos == 3 { throw .malformed("PUBLISH with QoS 3") }
                if qos == 0 && flags & 0b1000 != 0 { throw .protocolViolation("DUP set on a QoS 0 PUBLISH") }
            case .pubrel, .subscribe, .unsubscribe:
                guard flags == 0b0010 else { throw .malformed("\(kind) fixed header flags must be 0010") }
            default:
                guard flags == 0 else { throw .malformed("\(kind) fixed header flags must be 0000") }
            }
            self.kind = kind
            self.flags = flags
        }
    }

    private func decodeBody(_ header: FixedHeader, _ reader: MQTTWireReader) throws(MQTTProtocolError) -> MQTTPacket {
        var reader = reader
        let packet: MQTTPacket
        switch header.kind {
        case .connect:
            packet = .connect(try Self.decodeConnect(&reader))
        case .connack:
            packet = .connack(try decodeConnAck(&reader))
        case .publish:
            packet = .publish(try decodePublish(&reader, flags: header.flags))
        case .puback:
            packet = .puback(try decodePublishAck(&reader, kind: .puback))
        case .pubrec:
            packet = .pubrec(try decodePublishAck(&reader, kind: .pubrec))
        case .pubrel:
            packet = .pubrel(try decodePublishAck(&reader, kind: .pubrel))
        case .pubcomp:
            packet = .pubcomp(try decodePublishAck(&reader, kind: .pubcomp))
        case .subscribe:
            packet = .subscribe(try decodeSubscribe(&reader))
        case .suback:
            packet = .suback(try decodeSubAck(&reader))
        case .unsubscribe:
            packet = .unsubscribe(try decodeUnsubscribe(&reader))
        case .unsuback:
            packet = .unsuback(try decodeUnsubAck(&reader))
        case .pingreq:
            packet = .pingreq
        case .pingresp:
            packet = .pingresp
        case .disconnect:
            let (code, properties) = try decodeReasonAndProperties(&reader, kind: .disconnect)
            packet = .disconnect(.init(reasonCode: code, properties: properties))
        case .auth:
            let (code, properties) = try decodeReasonAndProperties(&reader, kind: .auth)
            packet = .auth(.init(reasonCode: code, properties: properties))
        }
        try reader.expectEnd(header.kind.description)
        return packet
    }

    // MARK: CONNECT

    private static func decodeConnect(_ reader: inout MQTTWireReader) throws(MQTTProtocolError) -> MQTTPacket.Connect {
        let name = try reader.readBinarySlice("the protocol name")
        let level = try reader.readByte("the protocol level")
        let isMQTT = name.readableBytesView.elementsEqual("MQTT".utf8)
        guard isMQTT || name.readableBytesView.elementsEqual("MQIsdp".utf8) else {
            throw .malformed("unknown protocol name in CONNECT")
        }
        guard isMQTT, let version = MQTTProtocolVersion(rawValue: level) else {
            throw MQTTProtocolError(.unsupportedProtocolVersion, "unsupported protocol level \(level)")
        }

        let flags = try reader.readByte("the connect flags")
        guard flags & 0x01 == 0 else { throw .malformed("CONNECT reserved flag is set") }
        let hasUsername = flags & 0x80 != 0
        let hasPassword = flags & 0x40 != 0
        let willRetain = flags & 0x20 != 0
        let willQoSBits = (flags >> 3) & 0b11
        let hasWill = flags & 0x04 != 0
        let cleanStart = flags & 0x02 != 0
        guard let willQoS = MQTTQoS(rawValue: willQoSBits) else { throw .malformed("will QoS 3") }
        if !hasWill && (willQoSBits != 0 || willRetain) {
            throw .malformed("will QoS or will retain set without the will flag")
        }
        if version == .v311 && hasPassword && !hasUsername {
            throw .malformed("MQTT 3.1.1 password flag without user name flag")
        }
        let keepAlive = try reader.readUInt16("the keep alive")

        var properties = MQTTProperties()
        if version == .v5 {
            properties = try MQTTProperties.decode(from: &reader, context: .packet(.connect))
            if properties.authenticationData != nil && properties.authenticationMethod == nil {
                throw .protocolViolation("authentication data without authentication method")
            }
        }
        let clientID = try reader.readString("the client identifier")

        var will: MQTTPacket.Will?
        if hasWill {
            var willProperties = MQTTProperties()
            if version == .v5 {
                willProperties = try MQTTProperties.decode(from: &reader, context: .will)
            }
            let topic = try reader.readString("the will topic")
            try checkTopicName(topic, allowsEmpty: false, "will topic")
            let payload = try reader.readBinarySlice("the will payload")
            try checkPayloadFormat(payload, willProperties)
            will = MQTTPacket.Will(
                topic: topic, payload: payload, qos: willQoS, retain: willRetain, properties: willProperties)
        }
        var username: String?
        if hasUsername { username = try reader.readString("the user name") }
        var password: [UInt8]?
        if hasPassword { password = try reader.readBinary("the password") }
        return MQTTPacket.Connect(
            protocolVersion: version, clientID: clientID, cleanStart: cleanStart, keepAlive: keepAlive,
            username: username, password: password, will: will, properties: properties)
    }

    // MARK: CONNACK

    private func decodeConnAck(_ reader: inout MQTTWireReader) throws(MQTTProtocolError) -> MQTTPacket.ConnAck {
        let flags = try reader.readByte("the acknowledge flags")
        guard flags & 0xFE == 0 else { throw .malformed("CONNACK reserved flags are set") }
        let sessionPresent = flags == 1
        let raw = try reader.readByte("the reason code")
        let reasonCode: MQTTReasonCode
        var properties = MQTTProperties()
        switch version {
        case .v311:
            guard let code = MQTTReasonCode(mqtt311ConnectReturnCode: raw) else {
                throw .protocolViolation("reserved CONNACK return code \(raw)")
            }
            reasonCode = code
        case .v5:
            reasonCode = MQTTReasonCode(rawValue: raw)
            guard reasonCode.isAllowed(in: .connack) else {
                throw .protocolViolation("reason code \(reasonCode) is not allowed in CONNACK")
            }
            properties = try MQTTProperties.decode(from: &reader, context: .packet(.connack))
        }
        if sessionPresent && reasonCode.isFailure {
            throw .protocolViolation("CONNACK with failure \(reasonCode) sets session present")
        }
        return MQTTPacket.ConnAck(sessionPresent: sessionPresent, reasonCode: reasonCode, properties: properties)
    }

    // MARK: PUBLISH

    private func decodePublish(_ reader: inout MQTTWireReader, flags: UInt8) throws(MQTTProtocolError) -> MQTTPacket.Publish {
        // The fixed header check already refused QoS 3.
        let qos = MQTTQoS(rawValue: (flags >> 1) & 0b11) ?? .atMostOnce
        let topic = try reader.readString("the topic name")
        var packetID: UInt16?
        if qos != .atMostOnce { packetID = try reader.readPacketID() }
        var properties = MQTTProperties()
        if version == .v5 {
            properties = try MQTTProperties.decode(from: &reader, context: .packet(.publish))
        }
        try checkTopicName(topic, allowsEmpty: version == .v5 && properties.topicAlias != nil, "topic name")
        let payload = reader.readRest()
        try checkPayloadFormat(payload, properties)
        return MQTTPacket.Publish(
            topic: topic, payload: payload, qos: qos, retain: flags & 0b0001 != 0, dup: flags & 0b1000 != 0,
            packetID: packetID, properties: properties)
    }

    // MARK: PUBACK, PUBREC, PUBREL, PUBCOMP

    private func decodePublishAck(_ reader: inout MQTTWireReader, kind: MQTTPacket.Kind) throws(MQTTProtocolError) -> MQTTPacket.PublishAck {
        let packetID = try reader.readPacketID()
        guard version == .v5 else { return MQTTPacket.PublishAck(packetID: packetID) }
        let (code, properties) = try decodeReasonAndProperties(&reader, kind: kind)
        return MQTTPacket.PublishAck(packetID: packetID, reasonCode: code, properties: properties)
    }

    /// The optional reason code and optional properties that end PUBACK…PUBCOMP,
    /// DISCONNECT and AUTH on MQTT 5: absent means success, a missing property
    /// length means no properties (§3.4.2.1, §3.14.2.1, §3.15.2.1).
    private func decodeReasonAndProperties(
        _ reader: inout MQTTWireReader, kind: MQTTPacket.Kind
    ) throws(MQTTProtocolError) -> (MQTTReasonCode, MQTTProperties) {
        guard version == .v5, !reader.isAtEnd else { return (.success, MQTTProperties()) }
        let code = MQTTReasonCode(rawValue: try reader.readByte("the reason code"))
        guard code.isAllowed(in: kind) else {
            throw .protocolViolation("reason code \(code) is not allowed in \(kind)")
        }
        guard !reader.isAtEnd else { return (code, MQTTProperties()) }
        return (code, try MQTTProperties.decode(from: &reader, context: .packet(kind)))
    }

    // MARK: SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK

    private func decodeSubscribe(_ reader: inout MQTTWireReader) throws(MQTTProtocolError) -> MQTTPacket.Subscribe {
        let packetID = try reader.readPacketID()
        var properties = MQTTProperties()
        if version == .v5 {
            properties = try MQTTProperties.decode(from: &reader, context: .packet(.subscribe))
        }
        var subscriptions: [MQTTPacket.Subscription] = []
        while !reader.isAtEnd {
            let filter = try reader.readString("a topic filter")
            let options = try reader.readByte("the subscription options")
            guard let qos = MQTTQoS(rawValue: options & 0b11) else {
                throw .malformed("subscription with QoS 3")
            }
            var subscription = MQTTPacket.Subscription(filter: filter, qos: qos)
            switch version {
            case .v311:
                guard options & 0xFC == 0 else { throw .malformed("reserved subscription option bits are set") }
            case .v5:
                guard options & 0xC0 == 0 else { throw .malformed("reserved subscription option bits are set") }
                guard let retainHandling = MQTTRetainHandling(rawValue: (options >> 4) & 0b11) else {
                    throw .protocolViolation("retain handling 3")
                }
                subscription.noLocal = options & 0x04 != 0
                subscription.retainAsPublished = options & 0x08 != 0
                subscription.retainHandling = retainHandling
                if subscription.noLocal && subscription.isShared {
                    throw .protocolViolation("No Local on shared subscription \"\(filter)\"")
                }
            }
            subscriptions.append(subscription)
        }
        guard !subscriptions.isEmpty else { throw .protocolViolation("SUBSCRIBE without topic filters") }
        return MQTTPacket.Subscribe(packetID: packetID, subscriptions: subscriptions, properties: properties)
    }

    private func decodeSubAck(_ reader: inout MQTTWireReader) throws(MQTTProtocolError) -> MQTTPacket.SubAck {
        let packetID = try reader.readPacketID()
        var properties = MQTTProperties()
        if version == .v5 {
            properties = try MQTTProperties.decode(from: &reader, context: .packet(.suback))
        }
        var codes: [MQTTReasonCode] = []
        while !reader.isAtEnd {
            let code = MQTTReasonCode(rawValue: try reader.readByte("a reason code"))
            let allowed = version == .v5 ? code.isAllowed(in: .suback) : code.rawValue <= 2 || code.rawValue == 0x80
            guard allowed else { throw .protocolViolation("reason code \(code) is not allowed in SUBACK") }
            codes.append(code)
        }
        guard !codes.isEmpty else { throw .protocolViolation("SUBACK without reason codes") }
        return MQTTPacket.SubAck(packetID: packetID, reasonCodes: codes, properties: properties)
    }

    private func decodeUnsubscribe(_ reader: inout MQTTWireReader) throws(MQTTProtocolError) -> MQTTPacket.Unsubscribe {
        let packetID = try reader.readPacketID()
        var properties = MQTTProperties()
        if version == .v5 {
            properties = try MQTTProperties.decode(from: &reader, context: .packet(.unsubscribe))
        }
        var filters: [String] = []
        while !reader.isAtEnd {
            filters.append(try reader.readString("a topic filter"))
        }
        guard !filters.isEmpty else { throw .protocolViolation("UNSUBSCRIBE without topic filters") }
        return MQTTPacket.Unsubscribe(packetID: packetID, filters: filters, properties: properties)
    }

    private func decodeUnsubAck(_ reader: inout MQTTWireReader) throws(MQTTProtocolError) -> MQTTPacket.UnsubAck {
        let packetID = try reader.readPacketID()
        guard version == .v5 else { return MQTTPacket.UnsubAck(packetID: packetID) }
        let properties = try MQTTProperties.decode(from: &reader, context: .packet(.unsuback))
        var codes: [MQTTReasonCode] = []
        while !reader.isAtEnd {
            let code = MQTTReasonCode(rawValue: try reader.readByte("a reason code"))
            guard code.isAllowed(in: .unsuback) else {
                throw .protocolViolation("reason code \(code) is not allowed in UNSUBACK")
            }
            codes.append(code)
        }
        guard !codes.isEmpty else { throw .protocolViolation("UNSUBACK without reason codes") }
        return MQTTPacket.UnsubAck(packetID: packetID, reasonCodes: codes, properties: properties)
    }
}
