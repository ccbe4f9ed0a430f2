import NIOCore

extension MQTTPacket {
    /// Appends the wire form of the packet for `version`.
    ///
    /// The encoder refuses (throws, leaving `buffer` as it was) anything a strict
    /// receiver would reject: strings over 65,535 bytes or containing U+0000, a
    /// packet identifier 0, a QoS > 0 PUBLISH without packet identifier, a property
    /// not allowed in the packet, a reason code the packet cannot carry, a remaining
    /// length over 268,435,455. Failing here gives the caller a precise error
    /// instead of a DISCONNECT from the peer.
    ///
    /// On 3.1.1 the MQTT 5 only fields are not written: properties, reason codes of
    /// acknowledgements and DISCONNECT, MQTT 5 subscription options. CONNACK reason
    /// codes are mapped onto 3.1.1 return codes (0x84→1, 0x85→2, 0x88→3, 0x86→4,
    /// 0x87→5; others throw) and SUBACK failure codes onto 0x80. AUTH does not exist
    /// in 3.1.1 and throws.
    public func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
        let start = buffer.writerIndex
        buffer.writeInteger(fixedHeaderByte)
        do {
            try buffer.writeWithVariableLengthPrefix("remaining length") { (body) throws(MQTTProtocolError) in
                try self.encodeBody(into: &body, version: version)
            }
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// Packet type in the high nibble and the flags fixed by §2.1.3 in the low one.
    var fixedHeaderByte: UInt8 {
        let type = kind.rawValue << 4
        switch self {
        case .publish(let publish):
            var flags = publish.qos.rawValue << 1
            if publish.dup { flags |= 0b1000 }
            if publish.retain { flags |= 0b0001 }
            return type | flags
        case .pubrel, .subscribe, .unsubscribe:
            return type | 0b0010
        default:
            return type
        }
    }

    private func encodeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
        switch self {
        case .connect(let connect):
            try connect.encode(into: &buffer, version: version)
        case .connack(let connack):
            try connack.encode(into: &buffer, version: version)
        case .publish(let publish):
            try publish.encode(into: &buffer, version: version)
        case .puback(let ack):
            try ack.encode(into: &buffer, version: version, kind: .puback)
        case .pubrec(let ack):
            try ack.encode(into: &buffer, version: version, kind: .pubrec)
        case .pubrel(let ack):
            try ack.encode(into: &buffer, version: version, kind: .pubrel)
        case .pubcomp(let ack):
            try ack.encode(into: &buffer, version: version, kind: .pubcomp)
        case .subscribe(let subscribe):
            try subscribe.encode(into: &buffer, version: version)
        case .suback(let suback):
            try suback.encode(into: &buffer, version: version)
        case .unsubscribe(let unsubscribe):
            try unsubscribe.encode(into: &buffer, version: version)
        case .unsuback(let unsuback):
            try unsuback.encode(into: &buffer, version: version)
        case .pingreq, .pingresp:
            break
        case .disconnect(let disconnect):
            guard version == .v5 else { break }
            try encodeReasonAndProperties(
                disconnect.reasonCode, disconnect.properties, kind: .disconnect, into: &buffer)
        case .auth(let auth):
            guard version == .v5 else {
                throw .protocolViolation("AUTH does not exist in MQTT 3.1.1")
            }
            try encodeReasonAndProperties(auth.reasonCode, auth.properties, kind: .auth, into: &buffer)
        }
    }
}

/// DISCONNECT and AUTH: nothing at all for success without properties (remaining
/// length 0), the reason code alone without properties, else both.
private func encodeReasonAndProperties(
    _ reasonCode: MQTTReasonCode,
    _ properties: MQTTProperties,
    kind: MQTTPacket.Kind,
    into buffer: inout ByteBuffer
) throws(MQTTProtocolError) {
    guard reasonCode.isAllowed(in: kind) else {
        throw .protocolViolation("reason code \(reasonCode) is not allowed in \(kind)")
    }
    if properties.isEmpty {
        if reasonCode != .success { buffer.writeInteger(reasonCode.rawValue) }
        return
    }
    buffer.writeInteger(reasonCode.rawValue)
    try properties.encode(into: &buffer, context: .packet(kind))
}

/// Rejects a topic name the decoder would reject (§3.3.2.1, §4.7.3).
func checkTopicName(_ topic: String, allowsEmpty: Bool, _ what: String) throws(MQTTProtocolError) {
    if topic.isEmpty && !allowsEmpty {
        throw .protocolViolation("empty \(what) without a topic alias")
    }
    if MQTTTopicName.containsWildcard(topic) {
        throw .malformed("\(what) \"\(topic)\" contains a wildcard")
    }
}

/// Rejects a payload that claims to be UTF-8 but is not ([MQTT-3.3.2-4]).
func checkPayloadFormat(_ payload: ByteBuffer, _ properties: MQTTProperties) throws(MQTTProtocolError) {
    guard properties.payloadFormat == .utf8 else { return }
    let valid = payload.withUnsafeReadableBytes { MQTTUTF8.isWellFormed($0, allowingNull: true) }
    guard valid else {
        throw MQTTProtocolError(.payloadFormatInvalid, "payload format indicator says UTF-8 but the payload is not")
    }
}

extension MQTTPacket.Connect {
    fileprivate func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
        guard protocolVersion == version else {
            throw .protocolViolation("CONNECT for \(protocolVersion) encoded on a \(version) connection")
        }
        try buffer.writeMQTTString("MQTT", "protocol name")
        buffer.writeInteger(version.rawValue)

        var flags: UInt8 = 0
        if username != nil { flags |= 0x80 }
        if password != nil { flags |= 0x40 }
        if let will {
            flags |= 0x04 | (will.qos.rawValue << 3)
            if will.retain { flags |= 0x20 }
        }
        if cleanStart { flags |= 0x02 }
        if version == .v311 && password != nil && username == nil {
            throw .malformed("MQTT 3.1.1 does not allow a password without a user name")
        }
        buffer.writeInteger(flags)
        buffer.writeInteger(keepAlive, endianness: .big)
        if version == .v5 {
            if properties.authenticationData != nil && properties.authenticationMethod == nil {
                throw .protocolViolation("authentication data without authentication method")
            }
            try properties.encode(into: &buffer, context: .packet(.connect))
        }
        try buffer.writeMQTTString(clientID, "client identifier")
        if let will {
            if version == .v5 {
                try will.properties.encode(into: &buffer, context: .will)
                try checkPayloadFormat(will.payload, will.properties)
            }
            try checkTopicName(will.topic, allowsEmpty: false, "will topic")
            try buffer.writeMQTTString(will.topic, "will topic")
            try buffer.writeMQTTBinary(will.payload, "will payload")
        }
        if let username { try buffer.writeMQTTString(username, "user name") }
        if let password { try buffer.writeMQTTBinary(password, "password") }
    }
}

extension MQTTPacket.ConnAck {
    fileprivate func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
        if sessionPresent && reasonCode.isFailure {
            throw .protocolViolation("CONNACK with failure \(reasonCode) must not set session present")
        }
        buffer.writeInteger(sessionPresent ? 1 : 0 as UInt8)
        switch version {
        case .v311:
            guard let code = reasonCode.mqtt311ConnectReturnCode else {
                throw .protocolViolation("\(reasonCode) has no MQTT 3.1.1 CONNACK return code")
            }
            buffer.writeInteger(code)
        case .v5:
            guard reasonCode.isAllowed(in: .connack) else {
                throw .protocolViolation("reason code \(reasonCode) is not allowed in CONNACK")
            }
            buffer.writeInteger(reasonCode.rawValue)
            try properties.encode(into: &buffer, context: .packet(.connack))
        }
    }
}

extension MQTTPacket.Publish {
    fileprivate func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
        try checkTopicName(topic, allowsEmpty: version == .v5 && properties.topicAlias != nil, "topic name")
        try buffer.writeMQTTString(topic, "topic name")
        switch (qos, packetID) {
        case (.atMostOnce, nil):
            if dup { throw .protocolViolation("DUP set on a QoS 0 PUBLISH") }
        case (.atMostOnce, .some):
            throw .protocolViolation("QoS 0 PUBLISH with a packet identifier")
        case (_, nil):
            throw .protocolViolation("\(qos) PUBLISH without a packet identifier")
        case (_, .some(let id)):
            guard id != 0 else { throw .protocolViolation("packet identifier 0") }
            buffer.writeInteger(id, endianness: .big)
        }
        if version == .v5 {
            try properties.encode(into: &buffer, context: .packet(.publish))
            try checkPayloadFormat(payload, properties)
        }
        buffer.writeImmutableBuffer(payload)
    }
}

extension MQTTPacket.PublishAck {
    /// MQTT 5 short forms (§3.4.2.1): success without properties is just the
    /// packet identifier, another reason without properties omits the property length.
    fileprivate func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion, kind: MQTTPacket.Kind) throws(MQTTProtocolError) {
        guard packetID != 0 else { throw .protocolViolation("packet identifier 0 in \(kind)") }
        buffer.writeInteger(packetID, endianness: .big)
        guard version == .v5 else { return }
        guard reasonCode.isAllowed(in: kind) else {
            throw .protocolViolation("reason code \(reasonCode) is not allowed in \(kind)")
        }
        if properties.isEmpty {
            if reasonCode != .success { buffer.writeInteger(reasonCode.rawValue) }
            return
        }
        buffer.writeInteger(reasonCode.rawValue)
        try properties.encode(into: &buffer, context: .packet(kind))
    }
}

extension MQTTPacket.Subscription {
    /// True when the filter names a shared subscription, where No Local is a protocol error.
    var isShared: Bool { filter.utf8.starts(with: "$share/".utf8) }
}

extension MQTTPacket.Subscribe {
    fileprivate func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
        guard packetID != 0 else { throw .protocolViolation("packet identifier 0 in SUBSCRIBE") }
        guard !subscriptions.isEmpty else { throw .protocolViolation("SUBSCRIBE without topic filters") }
        buffer.writeInteger(packetID, endianness: .big)
        if version == .v5 {
            try properties.encode(into: &buffer, context: .packet(.subscribe))
        }
        for subscription in subscriptions {
            try buffer.writeMQTTString(subscription.filter, "topic filter")
            var options = subscription.qos.rawValue
            if version == .v5 {
                if subscription.noLocal {
                    guard !subscription.isShared else {
                        throw .protocolViolation("No Local on shared subscription \"\(subscription.filter)\"")
                    }
                    options |= 0x04
                }
                if subscription.retainAsPublished { options |= 0x08 }
                options |= subscription.retainHandling.rawValue << 4
            }
            buffer.writeInteger(options)
        }
    }
}

extension MQTTPacket.SubAck {
    fileprivate func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
        guard packetID != 0 else { throw .protocolViolation("packet identifier 0 in SUBACK") }
        guard !reasonCodes.isEmpty else { throw .protocolViolation("SUBACK without reason codes") }
        buffer.writeInteger(packetID, endianness: .big)
        if version == .v5 {
            try properties.encode(into: &buffer, context: .packet(.suback))
        }
        for code in reasonCodes {
            guard code.isAllowed(in: .suback) else {
                throw .protocolViolation("reason code \(code) is not allowed in SUBACK")
            }
            // 3.1.1 has a single failure return code, 0x80.
            buffer.writeInteger(version == .v311 && code.isFailure ? 0x80 : code.rawValue)
        }
    }
}

extension MQTTPacket.Unsubscribe {
    fileprivate func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
        guard packetID != 0 else { throw .protocolViolation("packet identifier 0 in UNSUBSCRIBE") }
        guard !filters.isEmpty else { throw .protocolViolation("UNSUBSCRIBE without topic filters") }
        buffer.writeInteger(packetID, endianness: .big)
        if version == .v5 {
            try properties.encode(into: &buffer, context: .packet(.unsubscribe))
        }
        for filter in filters {
            try buffer.writeMQTTString(filter, "topic filter")
        }
    }
}

extension MQTTPacket.UnsubAck {
    fileprivate func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTProtocolError) {
        guard packetID != 0 else { throw .protocolViolation("packet identifier 0 in UNSUBACK") }
        buffer.writeInteger(packetID, endianness: .big)
        guard version == .v5 else { return }
        guard !reasonCodes.isEmpty else { throw .protocolViolation("UNSUBACK without reason codes") }
        try properties.encode(into: &buffer, context: .packet(.unsuback))
        for code in reasonCodes {
            guard code.isAllowed(in: .unsuback) else {
                throw .protocolViolation("reason code \(code) is not allowed in UNSUBACK")
            }
            buffer.writeInteger(code.rawValue)
        }
    }
}
