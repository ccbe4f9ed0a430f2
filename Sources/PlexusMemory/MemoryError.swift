import Foundation
import GRDB

/// Why the memory store could not do what was asked, with the database file it concerns
/// and what the operator should do about it.
///
/// A memory failure is never silent: it is thrown to the caller that waits for the write
/// (or the read), and a write nobody waits for is counted in ``MemoryStatistics`` and
/// logged. The ``description`` is written for a person reading a log line or a CLI error:
/// it names the file and the next step, because "disk I/O error" alone tells an operator
/// nothing about which of several runtimes' databases is affected.
public struct MemoryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; each has its own remedy.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The file is not an SQLite database, or its pages are damaged.
        case corrupt
        /// The file or its directory cannot be written (permissions, read-only volume).
        case readOnly
        /// The disk, or the configured size limit, is full.
        case full
        /// Another connection held a lock longer than the busy timeout.
        case locked
        /// The file cannot be opened or created (missing directory, bad path).
        case cannotOpen
        /// The database was written by a newer version of Plexus.
        case schemaTooNew
        /// The file does not exist, and the store was asked not to create it
        /// (``MemoryOpenMode/existing``, ``MemoryOpenMode/readOnly``).
        case notFound
        /// The file is an SQLite database (or empty) but holds no Plexus memory schema,
        /// or, opened read-only, an older schema that would need migrating first.
        case notMemoryDatabase
        /// An I/O error from the operating system.
        case io
        /// A value could not be encoded or decoded (agent state, stored JSON).
        case encoding
        /// The caller passed something the store cannot use.
        case invalidArgument
        /// The store was closed.
        case closed
        /// Any other SQLite failure.
        case other
    }

    /// What kind of failure.
    public let kind: Kind
    /// The database file concerned.
    public let path: String
    /// The underlying message (SQLite's, or the encoder's).
    public let detail: String

    public init(_ kind: Kind, path: String, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    /// One line: the file, what went wrong, and what to do.
    public var description: String {
        "memory database \(path): \(summary) (\(detail)). \(remedy)"
    }

    /// What went wrong, in words.
    public var summary: String {
        switch kind {
        case .corrupt: "the file is not a valid SQLite database or is damaged"
        case .readOnly: "the database cannot be written"
        case .full: "the disk or the database size limit is full"
        case .locked: "the database is locked by another connection"
        case .cannotOpen: "the database cannot be opened or created"
        case .schemaTooNew: "the database was written by a newer version of Plexus"
        case .notFound: "the database file does not exist"
        case .notMemoryDatabase: "the file is not a Plexus memory database of this version"
        case .io: "the operating system reported an I/O error"
        case .encoding: "a stored value could not be encoded or decoded"
        case .invalidArgument: "invalid request"
        case .closed: "the memory store is closed"
        case .other: "SQLite failed"
        }
    }

    /// What the operator (or the calling code) should do next.
    public var remedy: String {
        switch kind {
        case .corrupt:
            "Stop the runtime, move the file (and its -wal and -shm files) aside and start again with a new file; "
                + "`sqlite3 \(path) .recover` may salvage rows from the damaged one."
        case .readOnly:
            "Check the permissions of the file and of its directory (SQLite writes \(path)-wal and \(path)-shm beside it), "
                + "and that the volume is not mounted read-only."
        case .full:
            "Free space on the volume, raise the configured size limit, or delete old rows with `plexus memory prune`."
        case .locked:
            "Another process is writing to the same file: give each runtime its own database, "
                + "or stop the other process (`fuser \(path)` shows who holds it)."
        case .cannotOpen:
            "Check that the directory exists, that this user may write the file and the directory, and that the path names a file, not a directory."
        case .schemaTooNew:
            "Run a Plexus at least as new as the one that wrote it, or point this one at another file."
        case .notFound:
            "Check the path: it is the manifest's memory.path or `plexus run --memory PATH`, and the runtime creates the file when it starts; "
                + "inspecting tools never create it."
        case .notMemoryDatabase:
            "Check the path: point at the file named by the manifest's memory.path or `plexus run --memory PATH`. "
                + "An older schema is migrated by opening it read-write (`plexus run`, or `plexus memory prune`)."
        case .io:
            "Check the disk and the kernel log (`dmesg`); if the file is on a network volume, move it to a local disk."
        case .encoding:
            "The value's type does not match what was stored under this key; store it under a new key or remove the old one."
        case .invalidArgument:
            "Fix the call."
        case .closed:
            "Open the store again; it was closed by MemoryStore.close()."
        case .other:
            "See the SQLite message; if it persists, report it with the file."
        }
    }
}

extension MemoryError {
    /// Classifies any error thrown by GRDB, SQLite or a coder, for the file at `path`.
    static func wrapping(_ error: any Error, path: String) -> MemoryError {
        if let error = error as? MemoryError { return error }
        if let error = error as? DatabaseError {
            return MemoryError(kind(of: error), path: path, detail: detail(of: error))
        }
        if error is EncodingError || error is DecodingError {
            return MemoryError(.encoding, path: path, detail: String(describing: error))
        }
        return MemoryError(.other, path: path, detail: String(describing: error))
    }

    private static func kind(of error: DatabaseError) -> Kind {
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: .corrupt
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH: .readOnly
        case .SQLITE_FULL: .full
        case .SQLITE_BUSY, .SQLITE_LOCKED: .locked
        case .SQLITE_CANTOPEN: .cannotOpen
        case .SQLITE_IOERR: .io
        case .SQLITE_MISUSE where (error.message ?? "").contains("closed"): .closed
        default: .other
        }
    }

    private static func detail(of error: DatabaseError) -> String {
        let message = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
        return "\(message), SQLite code \(error.extendedResultCode.rawValue)"
    }
}
