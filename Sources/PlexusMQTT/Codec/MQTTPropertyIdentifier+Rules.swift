extension MQTTPropertyIdentifier {
    /// Whether this property may appear in `context`, per the table of MQTT 5.0 §2.2.2.2.
    ///
    /// The codec enforces it in both directions: the encoder refuses to write a
    /// property the packet cannot carry (it would be a bug in the caller), and the
    /// decoder treats one as a malformed packet, as §2.2.2.2 prescribes ("A Control
    /// Packet which contains an Identifier which is not valid for its packet type
    /// … is a Malformed Packet").
    public func isAllowed(in context: MQTTPropertyContext) -> Bool {
        switch context {
        case .will:
            switch self {
            case .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic,
                .correlationData, .willDelayInterval, .userProperty:
                return true
            default:
                return false
            }
        case .packet(let kind):
            switch kind {
            case .connect:
                switch self {
                case .sessionExpiryInterval, .authenticationMethod, .authenticationData,
                    .requestProblemInformation, .requestResponseInformation, .receiveMaximum,
                    .topicAliasMaximum, .userProperty, .maximumPacketSize:
                    return true
                default:
                    return false
                }
            case .connack:
                switch self {
                case .sessionExpiryInterval, .assignedClientIdentifier, .serverKeepAlive,
                    .authenticationMethod, .authenticationData, .responseInformation, .serverReference,
                    .reasonString, .receiveMaximum, .topicAliasMaximum, .maximumQoS, .retainAvailable,
                    .userProperty, .maximumPacketSize, .wildcardSubscriptionAvailable,
                    .subscriptionIdentifierAvailable, .sharedSubscriptionAvailable:
                    return true
                default:
                    return false
                }
            case .publish:
                switch self {
                case .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic,
                    .correlationData, .subscriptionIdentifier, .topicAlias, .userProperty:
                    return true
                default:
                    return false
                }
            case .puback, .pubrec, .pubrel, .pubcomp, .suback, .unsuback:
                return self == .reasonString || self == .userProperty
            case .subscribe:
                return self == .subscriptionIdentifier || self == .userProperty
            case .unsubscribe:
                return self == .userProperty
            case .disconnect:
                switch self {
                case .sessionExpiryInterval, .serverReference, .reasonString, .userProperty:
                    return true
                default:
                    return false
                }
            case .auth:
                switch self {
                case .authenticationMethod, .authenticationData, .reasonString, .userProperty:
                    return true
                default:
                    return false
                }
            case .pingreq, .pingresp:
                return false
            }
        }
    }

    /// Whether the property may appear more than once in `context`.
    ///
    /// Only user properties repeat everywhere; subscription identifiers repeat on a
    /// PUBLISH (one per matching subscription) but not on a SUBSCRIBE. Every other
    /// repetition is a protocol error.
    public func allowsRepetition(in context: MQTTPropertyContext) -> Bool {
        switch self {
        case .userProperty: true
        case .subscriptionIdentifier: context == .packet(.publish)
        default: false
        }
    }
}
