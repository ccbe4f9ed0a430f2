/// Whether ``MemoryStore`` may create the file, and whether it may write it.
///
/// A runtime creates its database on first start (``create``). Tools that inspect a
/// database someone else wrote (`plexus memory stats|search|facts`) must not: a typo in
/// the path would otherwise leave an empty database behind and report "0 rows" instead of
/// "no such file". They open ``readOnly``, which also never migrates the schema nor takes
/// the write lock, so they can run next to a live runtime. `plexus memory prune` writes,
/// but only to a file that already holds a Plexus memory database (``existing``).
public enum MemoryOpenMode: Sendable, Hashable {
    /// Create the file (and its directory) if missing; bring the schema up to date.
    case create
    /// The file must exist and already be a Plexus memory database; it may be written,
    /// and its schema is brought up to date.
    case existing
    /// The file must exist and be a Plexus memory database of this build's schema
    /// version; nothing is ever written to it (SQLite opens it read-only).
    case readOnly
}
