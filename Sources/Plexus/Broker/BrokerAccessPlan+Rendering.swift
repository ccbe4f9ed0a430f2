extension BrokerAccessPlan {
    /// The plan as a Mosquitto 2 `acl_file`: a `user` block per identity with `topic
    /// read|write|readwrite` lines and no `pattern` lines, so an identity the plan does
    /// not name (and an anonymous client) may do nothing.
    ///
    /// Approvers get their decision level as a literal topic in their own block rather
    /// than one `pattern write <ns>/approvals/+/decision/%u` line: a pattern applies to
    /// every user, and would let the observer and the agents write a decision level of
    /// their own.
    public var mosquittoACL: String {
        var lines = ["# Plexus broker ACL for namespace '\(namespace)' (Mosquitto acl_file), generated from the manifest."]
        for identity in identities {
            lines.append("")
            lines.append("# \(identity.role)")
            lines.append("user \(identity.username)")
            for (access, filter) in Self.accessLines(identity) {
                lines.append("topic \(access) \(filter)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The plan as EMQX 5 file authorization rules (`acl.conf`, Erlang terms): an `allow`
    /// rule per identity and action, then `{deny, all}.` so that nothing else is allowed.
    /// Use it as the `file` authorization source with `authorization.no_match = deny`
    /// (docs/security.md).
    public var emqxACL: String {
        var lines = [
            "%% Plexus broker ACL for namespace '\(namespace)' (EMQX 5 acl.conf), generated from the manifest.",
            "%% Rules match top to bottom; the last one denies everything not allowed above.",
        ]
        for identity in identities {
            lines.append("")
            lines.append("%% \(identity.role)")
            let who = "{username, \(Self.erlangString(identity.username))}"
            if !identity.reads.isEmpty {
                lines.append("{allow, \(who), subscribe, [\(identity.reads.map(Self.erlangString).joined(separator: ", "))]}.")
            }
            if !identity.writes.isEmpty {
                lines.append("{allow, \(who), publish, [\(identity.writes.map(Self.erlangString).joined(separator: ", "))]}.")
            }
        }
        lines.append("")
        lines.append("{deny, all}.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `read`, `write` or `readwrite` per filter, in the order the filters first appear.
    static func accessLines(_ identity: Identity) -> [(String, String)] {
        let writes = Set(identity.writes)
        let reads = Set(identity.reads)
        var lines: [(String, String)] = identity.reads.map { (writes.contains($0) ? "readwrite" : "read", $0) }
        lines += identity.writes.filter { !reads.contains($0) }.map { ("write", $0) }
        return lines
    }

    /// An Erlang string literal (a list of characters), escaping `"` and `\`.
    static func erlangString(_ text: String) -> String {
        var escaped = "\""
        for character in text {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            default: escaped.append(character)
            }
        }
        return escaped + "\""
    }
}
