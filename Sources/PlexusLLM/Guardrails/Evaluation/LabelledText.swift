import PlexusCore

/// One row of a labelled injection data set: the JSON Lines format of
/// `../shared/data/injection/dev.jsonl` (`text`, `label` `attack`|`benign`, and optional
/// `source`, `variant`, `kind`), which `plexus guard --jsonl` and
/// `plexus bench guardrails --data` read.
public struct LabelledText: Sendable, Hashable {
    public var text: String
    public var isAttack: Bool
    public var source: String?
    public var variant: String?
    public var kind: String?
    /// 1-based line in the file.
    public var line: Int

    public init(text: String, isAttack: Bool, source: String? = nil, variant: String? = nil, kind: String? = nil, line: Int = 0) {
        self.text = text
        self.isAttack = isAttack
        self.source = source
        self.variant = variant
        self.kind = kind
        self.line = line
    }

    /// A malformed row: its line and what is wrong.
    public struct FormatError: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// Parses JSON Lines; blank lines are skipped. With `requireLabel` false, rows without
    /// a label are read as benign (for `plexus guard --jsonl` on unlabelled text).
    public static func parse(jsonLines: String, requireLabel: Bool = true) throws(FormatError) -> [LabelledText] {
        var rows: [LabelledText] = []
        var number = 0
        for line in jsonLines.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            guard line.contains(where: { !$0.isWhitespace }) else { continue }
            let value: JSONValue
            do { value = try JSONValue(parsing: String(line)) } catch { throw FormatError(line: number, reason: "not JSON (\(error))") }
            guard case .object(let object) = value else { throw FormatError(line: number, reason: "not a JSON object") }
            guard case .string(let text)? = object["text"] else { throw FormatError(line: number, reason: "no string \"text\"") }
            var isAttack = false
            switch object["label"] {
            case .string("attack")?: isAttack = true
            case .string("benign")?: isAttack = false
            case nil where !requireLabel: isAttack = false
            default: throw FormatError(line: number, reason: "\"label\" must be \"attack\" or \"benign\"")
            }
            func string(_ key: String) -> String? { if case .string(let s)? = object[key] { s } else { nil } }
            rows.append(LabelledText(text: text, isAttack: isAttack, source: string("source"), variant: string("variant"),
                                     kind: string("kind"), line: number))
        }
        return rows
    }
}
