/// Splits a byte stream into lines as chunks arrive: streamed answers (SSE, NDJSON) are
/// line-based, and a chunk boundary can fall anywhere, even inside a UTF-8 sequence.
struct LineReader {
    private var pending: [UInt8] = []
    /// A line longer than this is a broken server, not an answer.
    static let maximumLineLength = 4 << 20

    /// Appends `chunk` and returns the lines it completed, without their `\n` or `\r\n`.
    mutating func feed(_ chunk: [UInt8]) throws -> [String] {
        pending += chunk
        var lines: [String] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var end = newline
            if end > start, pending[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            lines.append(String(decoding: pending[start..<end], as: UTF8.self))
            start = newline + 1
        }
        pending.removeFirst(start)
        if pending.count > Self.maximumLineLength {
            throw LanguageModelError.malformedResponse(
                provider: "stream", detail: "a line of the stream is longer than \(Self.maximumLineLength) bytes")
        }
        return lines
    }

    /// What is left after the stream ended without a final newline.
    mutating func finish() -> String? {
        defer { pending = [] }
        return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
    }
}

/// Server-sent events (the `text/event-stream` format OpenAI-compatible servers and
/// Anthropic stream with): `event:` and `data:` lines, an empty line ends an event.
struct ServerSentEventParser {
    struct Event: Equatable {
        var type: String?
        var data: String
    }

    private var type: String?
    private var data: [String] = []

    /// Takes one line; returns an event when the line ended one.
    mutating func feed(_ line: String) -> Event? {
        if line.isEmpty {
            defer { type = nil; data = [] }
            return data.isEmpty ? nil : Event(type: type, data: data.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }  // a comment (keep-alive)
        let field: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = ""
        }
        switch field {
        case "data": data.append(String(value))
        case "event": type = String(value)
        default: break
        }
        return nil
    }

    /// An event left without its closing empty line when the stream ended.
    mutating func finish() -> Event? { feed("") }
}
