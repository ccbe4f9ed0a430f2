extension MQTTReasonCode {
    /// Whether this reason code may appear in a packet of `kind`, per MQTT 5.0 §2.4
    /// and the reason code tables of each packet (§3.2.2.2, §3.4.2.1, …).
    ///
    /// The decoder rejects any other value as a protocol error, and the encoder
    /// refuses to send one, so that a reason code reaching the application always
    /// has the meaning the specification gives it in that packet.
    public func isAllowed(in kind: MQTTPacket.Kind) -> Bool {
        switch kind {
        case .connack:
            switch rawValue {
            case 0x00, 0x80...0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99...0x9D, 0x9F: return true
            default: return false
            }
        case .puback, .pubrec:
            switch rawValue {
            case 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99: return true
            default: return false
            }
        case .pubrel, .pubcomp:
            return rawValue == 0x00 || rawValue == 0x92
        case .suback:
            switch rawValue {
            case 0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2: return true
            default: return false
            }
        case .unsuback:
            switch rawValue {
            case 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91: return true
            default: return false
            }
        case .disconnect:
            switch rawValue {
            case 0x00, 0x04, 0x80...0x83, 0x87, 0x89, 0x8B, 0x8D...0x90, 0x93...0xA2: return true
            default: return false
            }
        case .auth:
            return rawValue == 0x00 || rawValue == 0x18 || rawValue == 0x19
        case .connect, .publish, .subscribe, .unsubscribe, .pingreq, .pingresp:
            return false
        }
    }

    /// The MQTT 3.1.1 CONNACK return code (§3.2.2.3) with the same meaning, if any.
    ///
    /// 3.1.1 knows only six outcomes; the model speaks MQTT 5 reason codes, so the
    /// codec maps 0x84→1, 0x85→2, 0x88→3, 0x86→4, 0x87→5 and back.
    var mqtt311ConnectReturnCode: UInt8? {
        switch rawValue {
        case 0x00: 0
        case 0x84: 1
        case 0x85: 2
        case 0x88: 3
        case 0x86: 4
        case 0x87: 5
        default: nil
        }
    }

    /// The reason code for a 3.1.1 CONNACK return code, nil for the reserved values 6–255.
    init?(mqtt311ConnectReturnCode code: UInt8) {
        switch code {
        case 0: self = .success
        case 1: self = .unsupportedProtocolVersion
        case 2: self = .clientIdentifierNotValid
        case 3: self = .serverUnavailable
        case 4: self = .badUserNameOrPassword
        case 5: self = .notAuthorized
        default: return nil
        }
    }
}
