/// Whether two MQTT topic filters (or names) can match a common topic.
///
/// An ACL that grants a filter grants every topic it matches, so a grant is only safe
/// when it cannot reach a topic reserved for someone else: an agent's `publish:` filter
/// must not overlap an actuator's command topic, which only the gate writes.
enum TopicOverlap {
    /// True when some topic matches both `first` and `second`.
    ///
    /// Level by level: `#` matches whatever is left (including nothing), `+` matches one
    /// level, anything else must be equal. Topics starting with `$` are matched by a
    /// wildcard in the first level of neither (MQTT 4.7.2).
    static func overlaps(_ first: String, _ second: String) -> Bool {
        let a = first.split(separator: "/", omittingEmptySubsequences: false)
        let b = second.split(separator: "/", omittingEmptySubsequences: false)
        if let headA = a.first, let headB = b.first, headA.hasPrefix("$") != headB.hasPrefix("$") {
            // A `$` topic is matched only by a filter whose first level is that same literal.
            let dollar = headA.hasPrefix("$") ? headA : headB
            let other = headA.hasPrefix("$") ? headB : headA
            if other != dollar { return false }
        }
        var index = 0
        while index < a.count, index < b.count {
            let x = a[index]
            let y = b[index]
            if x == "#" || y == "#" { return true }
            if x != "+" && y != "+" && x != y { return false }
            index += 1
        }
        if a.count == b.count { return true }
        // One is longer: it overlaps only if its next level is `#`, which also matches the parent.
        let longer = a.count > b.count ? a : b
        return longer.count == index + 1 && longer[index] == "#"
    }
}
