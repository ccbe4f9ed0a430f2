import Foundation
import Logging
import PlexusMemory

/// Opens the database a `plexus memory` verb works on.
///
/// Reading verbs use ``MemoryOpenMode/readOnly`` so a mistyped path is an error naming
/// it ("the database file does not exist") rather than a fresh empty database, and so a
/// running runtime's file is never migrated or locked by an inspection. Failures are
/// ``MemoryError``s, whose descriptions name the file and the remedy; the verbs print them
/// as they are.
enum MemoryFile {
    static func open(_ path: String, mode: MemoryOpenMode) throws(MemoryError) -> MemoryStore {
        var configuration = MemoryConfiguration()
        configuration.openMode = mode
        // Routine notes ("memory pruned") would duplicate what the verb prints itself.
        configuration.logger = Logger(label: "plexus.memory")
        configuration.logger.logLevel = .warning
        return try MemoryStore(path: path, configuration: configuration)
    }

    /// Runs `body` on the opened store and closes it whatever happens.
    static func with<T>(
        _ path: String, mode: MemoryOpenMode, _ body: (MemoryStore) async throws -> T
    ) async throws -> T {
        let store = try open(path, mode: mode)
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }
}

/// Text helpers shared by the `plexus memory` verbs.
enum MemoryText {
    /// `12.3 MiB`, `512 B`.
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// One line, at most `width` characters (an ellipsis marks a cut).
    static func oneLine(_ text: String, width: Int = 80) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count <= width ? flat : String(flat.prefix(width - 1)) + "…"
    }

    /// RFC 3339 UTC with milliseconds.
    static func time(_ date: Date?) -> String {
        date.map(LocalTime.iso) ?? "—"
    }

    /// A heading, a rule and the rows in columns: the columns in `right` right-aligned
    /// (figures), the others left-aligned (names); no trailing blanks.
    static func table(_ columns: [String], _ rows: [[String]], right: Set<Int>) -> [String] {
        let widths = columns.indices.map { column in
            max(columns[column].count, rows.map { $0[column].count }.max() ?? 0)
        }
        func format(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                right.contains(index) ? String(repeating: " ", count: widths[index] - cell.count) + cell
                    : cell.padded(to: widths[index])
            }.joined(separator: "  ").replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression)
        }
        return [format(columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(format)
    }

    /// Key-value lines with the values aligned.
    static func pairs(_ pairs: [(String, String)], indent: String = "") -> [String] {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { indent + $0.0.padded(to: width) + "  " + $0.1 }
    }
}
