/// Where a broker listens and how to talk to it.
///
/// Parsed from URLs of the forms `mqtt://host:1883`, `mqtts://host:8883`,
/// `tcp://…` and `ssl://…`/`tls://…` (the aliases other clients use), with
/// optional `user:password@` and IPv6 literals in brackets.
public struct MQTTServerAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Transport: Sendable, Hashable {
        case tcp
        case tls
    }

    public var host: String
    public var port: Int
    public var transport: Transport
    /// Credentials given in the URL, if any. A configuration's own credentials win.
    public var username: String?
    public var password: String?

    public init(host: String, port: Int? = nil, transport: Transport = .tcp) {
        self.host = host
        self.transport = transport
        self.port = port ?? (transport == .tls ? 8883 : 1883)
    }

    /// Parses a broker URL.
    ///
    /// - Throws: ``MQTTClientError`` naming what is wrong with the URL.
    public init(url: String) throws(MQTTClientError) {
        let parts = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalidConfiguration("broker URL '\(url)' has no scheme: write mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
        }
        let scheme = parts[0].lowercased()
        let transport: Transport
        switch scheme {
        case "mqtt", "tcp": transport = .tcp
        case "mqtts", "ssl", "tls": transport = .tls
        default:
            throw .invalidConfiguration("broker URL '\(url)' has scheme '\(scheme)': use mqtt:// or mqtts://")
        }
        var rest = parts[1]
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = String(userInfo[..<colon]).removingPercentEncodingLeniently
                password = String(userInfo[userInfo.index(after: colon)...]).removingPercentEncodingLeniently
            } else {
                username = String(userInfo).removingPercentEncodingLeniently
            }
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw .invalidConfiguration("broker URL '\(url)' has an unterminated IPv6 address")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw .invalidConfiguration("broker URL '\(url)' has text after the IPv6 address")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else {
            throw .invalidConfiguration("broker URL '\(url)' names no host")
        }
        var port: Int?
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw .invalidConfiguration("broker URL '\(url)' has port '\(portText)': a port is a number from 1 to 65535")
            }
            port = value
        }
        self.init(host: String(host), port: port, transport: transport)
        self.username = username
        self.password = password
    }

    public var description: String {
        let scheme = transport == .tls ? "mqtts" : "mqtt"
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost):\(port)"
    }
}

extension String {
    /// Decodes `%XX` escapes; leaves malformed escapes as they are.
    fileprivate var removingPercentEncodingLeniently: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var iterator = Array(utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
