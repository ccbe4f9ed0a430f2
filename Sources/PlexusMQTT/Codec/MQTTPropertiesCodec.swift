import NIOCore

/// Wire form of an MQTT 5 property list (§2.2.2): a variable byte integer length
/// followed by identifier/value pairs.
extension MQTTProperties {
    /// Writes the property length and the properties, in ascending identifier order.
    ///
    /// Throws when a property is not allowed in `context`, repeats where it may
    /// not, or has a value the receiver must reject (receive maximum 0, …): the
    /// encoder never produces what our own strict decoder would refuse.
    func encode(into buffer: inout ByteBuffer, context: MQTTPropertyContext) throws(MQTTProtocolError) {
        try buffer.writeWithVariableLengthPrefix("property length") { (buffer) throws(MQTTProtocolError) in
            try self.writeProperties(into: &buffer, context: context)
        }
    }

    private func check(_ id: MQTTPropertyIdentifier, _ context: MQTTPropertyContext) throws(MQTTProtocolError) {
        guard id.isAllowed(in: context) else {
            throw .malformed("property \(id) is not allowed in \(context)")
        }
    }

    private func writeProperties(into buffer: inout ByteBuffer, context: MQTTPropertyContext) throws(MQTTProtocolError) {
        func id(_ id: MQTTPropertyIdentifier) throws(MQTTProtocolError) {
            try check(id, context)
            buffer.writeInteger(id.rawValue)
        }
        func nonZero<T: FixedWidthInteger>(_ value: T, _ name: String) throws(MQTTProtocolError) {
            guard value != 0 else { throw .protocolViolation("\(name) must not be 0") }
        }
        if let value = payloadFormat {
            try id(.payloadFormatIndicator)
            buffer.writeInteger(value.rawValue)
        }
        if let value = messageExpiryInterval {
            try id(.messageExpiryInterval)
            buffer.writeInteger(value, endianness: .big)
        }
        if let value = contentType {
            try id(.contentType)
            try buffer.writeMQTTString(value, "content type")
        }
        if let value = responseTopic {
            try id(.responseTopic)
            guard !value.isEmpty, !MQTTTopicName.containsWildcard(value) else {
                throw .protocolViolation("response topic must be a non-empty topic name without wildcards")
            }
            try buffer.writeMQTTString(value, "response topic")
        }
        if let value = correlationData {
            try id(.correlationData)
            try buffer.writeMQTTBinary(value, "correlation data")
        }
        if !subscriptionIdentifiers.isEmpty {
            try check(.subscriptionIdentifier, context)
            guard subscriptionIdentifiers.count == 1 || MQTTPropertyIdentifier.subscriptionIdentifier.allowsRepetition(in: context) else {
                throw .protocolViolation("more than one subscription identifier in \(context)")
            }
            for value in subscriptionIdentifiers {
                guard value != 0, value <= MQTTVariableByteInteger.maximum else {
                    throw .protocolViolation("subscription identifier \(value) is outside 1…268,435,455")
                }
                try id(.subscriptionIdentifier)
                MQTTVariableByteInteger.write(value, to: &buffer)
            }
        }
        if let value = sessionExpiryInterval {
            try id(.sessionExpiryInterval)
            buffer.writeInteger(value, endianness: .big)
        }
        if let value = assignedClientIdentifier {
            try id(.assignedClientIdentifier)
            try buffer.writeMQTTString(value, "assigned client identifier")
        }
        if let value = serverKeepAlive {
            try id(.serverKeepAlive)
            buffer.writeInteger(value, endianness: .big)
        }
        if let value = authenticationMethod {
            try id(.authenticationMethod)
            try buffer.writeMQTTString(value, "authentication method")
        }
        if let value = authenticationData {
            try id(.authenticationData)
            try buffer.writeMQTTBinary(value, "authentication data")
        }
        if let value = requestProblemInformation {
            try id(.requestProblemInformation)
            buffer.writeInteger(value ? 1 : 0 as UInt8)
        }
        if let value = willDelayInterval {
            try id(.willDelayInterval)
            buffer.writeInteger(value, endianness: .big)
        }
        if let value = requestResponseInformation {
            try id(.requestResponseInformation)
            buffer.writeInteger(value ? 1 : 0 as UInt8)
        }
        if let value = responseInformation {
            try id(.responseInformation)
            try buffer.writeMQTTString(value, "response information")
        }
        if let value = serverReference {
            try id(.serverReference)
            try buffer.writeMQTTString(value, "server reference")
        }
        if let value = reasonString {
            try id(.reasonString)
            try buffer.writeMQTTString(value, "reason string")
        }
        if let value = receiveMaximum {
            try nonZero(value, "receive maximum")
            try id(.receiveMaximum)
            buffer.writeInteger(value, endianness: .big)
        }
        if let value = topicAliasMaximum {
            try id(.topicAliasMaximum)
            buffer.writeInteger(value, endianness: .big)
        }
        if let value = topicAlias {
            try nonZero(value, "topic alias")
            try id(.topicAlias)
            buffer.writeInteger(value, endianness: .big)
        }
        if let value = maximumQoS {
            guard value != .exactlyOnce else { throw .protocolViolation("maximum QoS must be 0 or 1") }
            try id(.maximumQoS)
            buffer.writeInteger(value.rawValue)
        }
        if let value = retainAvailable {
            try id(.retainAvailable)
            buffer.writeInteger(value ? 1 : 0 as UInt8)
        }
        for property in userProperties {
            try id(.userProperty)
            try buffer.writeMQTTString(property.name, "user property name")
            try buffer.writeMQTTString(property.value, "user property value")
        }
        if let value = maximumPacketSize {
            try nonZero(value, "maximum packet size")
            try id(.maximumPacketSize)
            buffer.writeInteger(value, endianness: .big)
        }
        if let value = wildcardSubscriptionAvailable {
            try id(.wildcardSubscriptionAvailable)
            buffer.writeInteger(value ? 1 : 0 as UInt8)
        }
        if let value = subscriptionIdentifierAvailable {
            try id(.subscriptionIdentifierAvailable)
            buffer.writeInteger(value ? 1 : 0 as UInt8)
        }
        if let value = sharedSubscriptionAvailable {
            try id(.sharedSubscriptionAvailable)
            buffer.writeInteger(value ? 1 : 0 as UInt8)
        }
    }

    /// Reads a property list for `context` strictly.
    ///
    /// Malformed (0x81): length past the packet, an unknown identifier, one not
    /// allowed in `context`, a value cut short or ill-formed.
    /// Protocol error (0x82): a repeated property, a zero receive maximum / maximum
    /// packet size / topic alias / subscription identifier, a byte property outside
    /// its allowed values.
    static func decode(from reader: inout MQTTWireReader, context: MQTTPropertyContext) throws(MQTTProtocolError) -> MQTTProperties {
        let length = try reader.readVariableByteInteger("the property length")
        guard Int(length) <= reader.remainingBytes else {
            throw .malformed("property length \(length) runs past the end of the packet")
        }
        var list = MQTTWireReader(try reader.readSlice(length: Int(length), "the properties"))
        var properties = MQTTProperties()
        var seen: UInt64 = 0

        func byteFlag(_ name: String) throws(MQTTProtocolError) -> Bool {
            switch try list.readByte(name) {
            case 0: return false
            case 1: return true
            case let other: throw .protocolViolation("\(name) has value \(other), not 0 or 1")
            }
        }

        while !list.isAtEnd {
            let rawID = try list.readVariableByteInteger("a property identifier")
            guard rawID <= UInt32(UInt8.max), let id = MQTTPropertyIdentifier(rawValue: UInt8(rawID)) else {
                throw .malformed("unknown property identifier 0x\(String(rawID, radix: 16))")
            }
            guard id.isAllowed(in: context) else {
                throw .malformed("property \(id) is not allowed in \(context)")
            }
            let bit: UInt64 = 1 << UInt64(id.rawValue & 0x3F)
            if seen & bit != 0 && !id.allowsRepetition(in: context) {
                throw .protocolViolation("property \(id) appears more than once")
            }
            seen |= bit

            switch id {
            case .payloadFormatIndicator:
                let raw = try list.readByte("payload format indicator")
                guard let format = MQTTPayloadFormat(rawValue: raw) else {
                    throw .protocolViolation("payload format indicator \(raw) is not 0 or 1")
                }
                properties.payloadFormat = format
            case .messageExpiryInterval:
                properties.messageExpiryInterval = try list.readUInt32("message expiry interval")
            case .contentType:
                properties.contentType = try list.readString("content type")
            case .responseTopic:
                let topic = try list.readString("response topic")
                guard !topic.isEmpty, !MQTTTopicName.containsWildcard(topic) else {
                    throw .protocolViolation("response topic must be a non-empty topic name without wildcards")
                }
                properties.responseTopic = topic
            case .correlationData:
                properties.correlationData = try list.readBinary("correlation data")
            case .subscriptionIdentifier:
                let value = try list.readVariableByteInteger("subscription identifier")
                guard value != 0 else { throw .protocolViolation("subscription identifier 0") }
                properties.subscriptionIdentifiers.append(value)
            case .sessionExpiryInterval:
                properties.sessionExpiryInterval = try list.readUInt32("session expiry interval")
            case .assignedClientIdentifier:
                properties.assignedClientIdentifier = try list.readString("assigned client identifier")
            case .serverKeepAlive:
                properties.serverKeepAlive = try list.readUInt16("server keep alive")
            case .authenticationMethod:
                properties.authenticationMethod = try list.readString("authentication method")
            case .authenticationData:
                properties.authenticationData = try list.readBinary("authentication data")
            case .requestProblemInformation:
                properties.requestProblemInformation = try byteFlag("request problem information")
            case .willDelayInterval:
                properties.willDelayInterval = try list.readUInt32("will delay interval")
            case .requestResponseInformation:
                properties.requestResponseInformation = try byteFlag("request response information")
            case .responseInformation:
                properties.responseInformation = try list.readString("response information")
            case .serverReference:
                properties.serverReference = try list.readString("server reference")
            case .reasonString:
                properties.reasonString = try list.readString("reason string")
            case .receiveMaximum:
                let value = try list.readUInt16("receive maximum")
                guard value != 0 else { throw .protocolViolation("receive maximum 0") }
                properties.receiveMaximum = value
            case .topicAliasMaximum:
                properties.topicAliasMaximum = try list.readUInt16("topic alias maximum")
            case .topicAlias:
                let value = try list.readUInt16("topic alias")
                guard value != 0 else { throw .protocolViolation("topic alias 0") }
                properties.topicAlias = value
            case .maximumQoS:
                let raw = try list.readByte("maximum QoS")
                guard raw <= 1, let qos = MQTTQoS(rawValue: raw) else {
                    throw .protocolViolation("maximum QoS \(raw) is not 0 or 1")
                }
                properties.maximumQoS = qos
            case .retainAvailable:
                properties.retainAvailable = try byteFlag("retain available")
            case .userProperty:
                let name = try list.readString("user property name")
                let value = try list.readString("user property value")
                properties.userProperties.append(MQTTUserProperty(name, value))
            case .maximumPacketSize:
                let value = try list.readUInt32("maximum packet size")
                guard value != 0 else { throw .protocolViolation("maximum packet size 0") }
                properties.maximumPacketSize = value
            case .wildcardSubscriptionAvailable:
                properties.wildcardSubscriptionAvailable = try byteFlag("wildcard subscription available")
            case .subscriptionIdentifierAvailable:
                properties.subscriptionIdentifierAvailable = try byteFlag("subscription identifier available")
            case .sharedSubscriptionAvailable:
                properties.sharedSubscriptionAvailable = try byteFlag("shared subscription available")
            }
        }
        return properties
    }
}
