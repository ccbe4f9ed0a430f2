import Foundation
import Logging
import PlexusCore
import PlexusMemory

/// One write measurement of `plexus bench memory`: a tool inserting rows.
struct MemoryWriteResult: Sendable {
    var run: String
    var tool: String
    var rows: Int
    /// nil when the tool failed, timed out or was skipped.
    var seconds: Double?
    var note: String?

    var rate: Double? { seconds.map { Double(rows) / max($0, 1e-9) } }
    var isOurs: Bool { tool.hasPrefix(BenchResult.ours) }
}

/// One recall measurement: latencies of a few thousand queries of one kind.
struct MemoryRecallResult: Sendable {
    var name: String
    var call: String
    /// Sorted latencies in milliseconds.
    var latencies: [Double]
    var hits: Int

    var p50: Double? { Self.percentile(latencies, 0.50) }
    var p99: Double? { Self.percentile(latencies, 0.99) }
    var meanHits: Double { latencies.isEmpty ? 0 : Double(hits) / Double(latencies.count) }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}

/// The runs of `plexus bench memory`: ours through `AgentMemory`, the `sqlite3` CLI on
/// the same rows and schema, and LangGraph's SQLite checkpointer on a sample.
struct MemoryBench {
    let data: BenchMemoryData
    let queries: Int
    let langgraphUpdates: Int
    let directory: String
    let timeout: Duration
    let benchmarksDirectory: String?
    var notes: [String] = []

    static let factWriters = 64
    /// Rows made (untimed) and then logged (timed) at a time.
    static let slice = 50_000

    var header: String {
        """
        plexus bench memory: \(BenchResult.grouped(data.rows)) log rows, \(BenchResult.grouped(data.facts)) facts, \
        \(BenchResult.grouped(queries)) queries per recall, \(ProcessInfo.processInfo.activeProcessorCount) cores, \
        SQLite \(MemoryStore.sqliteVersion)
        """
    }

    /// Writes every dirty page out (`sync(2)`) before a timed write run, so that no tool
    /// pays for the writeback of the files the one before it wrote: LangGraph's fsync per
    /// put would wait behind a gigabyte of our pages, and our commits behind its.
    static func settleDisk() {
        progress("sync: writing the page cache out before the next timed run")
        sync()
    }

    // MARK: Ours

    /// Most messages the runtime takes from an agent's mailbox at once, and logs with one
    /// call (`Mailbox.batchLimit` in the runtime).
    static let mailboxBatch = 32

    private static func open(_ path: String) throws -> (MemoryStore, [String: AgentMemory]) {
        remove(path)
        var configuration = MemoryConfiguration()
        configuration.logger = Logger(label: "plexus.memory")
        configuration.logger.logLevel = .warning
        let store = try MemoryStore(path: path, configuration: configuration)
        var memories: [String: AgentMemory] = [:]
        for agent in 0..<BenchMemoryData.agents { memories["agent-\(agent)"] = store.memory(for: "agent-\(agent)") }
        return (store, memories)
    }

    /// Logs every row, `perCall` messages of one agent per call (one `log` per message
    /// for 1), and returns the seconds it took and the store's statistics after.
    ///
    /// The messages are made before the clock runs, as the peers' inputs are (the
    /// sqlite3 SQL file, LangGraph's rows): an agent logs messages it already has. They
    /// are made a slice at a time to bound memory; each timed part runs from the first
    /// log call of its slice until the writer has committed the slice.
    private func logRows(
        into store: MemoryStore, _ memories: [String: AgentMemory], perCall: Int
    ) async throws -> (seconds: Double, statistics: MemoryStatistics) {
        Self.settleDisk()
        progress("plexus: logging \(BenchResult.grouped(data.rows)) context messages, \(perCall) per call, into \(store.path)")
        let clock = ContinuousClock()
        let slice = max(1, min(Self.slice, data.rows))
        var total = 0.0
        for start in stride(from: 0, to: data.rows, by: slice) {
            let rows = try (start..<min(start + slice, data.rows)).map { try data.row($0) }
            // Each agent's messages in order, as its mailbox would hand them over.
            let byAgent = Dictionary(grouping: rows, by: \.agent).sorted { $0.key < $1.key }.map { (memories[$0.key]!, $0.value) }
            let sliceStart = clock.now
            if perCall == 1 {
                for row in rows {
                    try await memories[row.agent]!.log(row.message, topic: row.topic, direction: row.direction == "sent" ? .sent : .received, time: row.date)
                }
            } else {
                var offset = 0
                var more = true
                while more {
                    more = false
                    for (memory, agentRows) in byAgent where offset < agentRows.count {
                        let end = min(offset + perCall, agentRows.count)
                        try await memory.log(contentsOf: agentRows[offset..<end].map {
                            .context($0.message, topic: $0.topic, direction: $0.direction == "sent" ? .sent : .received, time: $0.date)
                        })
                        more = more || end < agentRows.count
                    }
                    offset += perCall
                }
            }
            try await store.flush()
            total += seconds(clock.now - sliceStart)
            progress("plexus: \(BenchResult.grouped(start + rows.count)) rows committed")
        }
        return (total, try await store.statistics())
    }

    /// Logs the rows through `AgentMemory` (unawaited, batched by the store's single
    /// writer) as the runtime does, and again one call per message into another file,
    /// remembers the facts (each awaited, from concurrent writers), then measures recall.
    mutating func ours() async throws -> (writes: [MemoryWriteResult], recall: [MemoryRecallResult]) {
        let path = directory + "/plexus.sqlite"
        let (store, memories) = try Self.open(path)
        let (logSeconds, afterLog) = try await logRows(into: store, memories, perCall: Self.mailboxBatch)
        let single = directory + "/plexus-one-per-call.sqlite"
        let (singleStore, singleMemories) = try Self.open(single)
        let (singleSeconds, afterSingle) = try await logRows(into: singleStore, singleMemories, perCall: 1)
        await singleStore.close()
        Self.remove(single)

        let clock = ContinuousClock()
        progress("plexus: remembering \(BenchResult.grouped(data.facts)) facts, \(Self.factWriters) concurrent writers")
        let factStart = clock.now
        let data = self.data
        let handles = memories
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<Self.factWriters {
                group.addTask {
                    for index in stride(from: worker, to: data.facts, by: Self.factWriters) {
                        let fact = data.fact(index)
                        try await handles[fact.agent]!.remember(
                            subject: fact.subject, predicate: fact.predicate, value: fact.value, confidence: 0.8,
                            trust: .untrusted, source: "summariser", messageID: fact.messageID,
                            validFrom: Date(timeIntervalSince1970: Double(fact.validFrom) / 1000))
                    }
                }
            }
            try await group.waitForAll()
        }
        let factSeconds = seconds(clock.now - factStart)
        let afterFacts = try await store.statistics()
        let factBatches = afterFacts.writes.batches - afterLog.writes.batches

        let writes = [
            MemoryWriteResult(
                run: "log rows", tool: "plexus", rows: data.rows, seconds: logSeconds,
                note: "AgentMemory.log(contentsOf:), \(Self.mailboxBatch) messages of one agent per call as the runtime logs a mailbox batch, "
                    + "unawaited; \(afterLog.writes.batches) transactions (largest \(afterLog.writes.largestBatch)); "
                    + "timed: encoding each message's data as JSON, queueing, inserting, indexing, committing; not making the messages"),
            MemoryWriteResult(
                run: "log rows", tool: "plexus, 1 per call", rows: data.rows, seconds: singleSeconds,
                note: "AgentMemory.log, one call per message, unawaited; \(afterSingle.writes.batches) transactions (largest \(afterSingle.writes.largestBatch))"),
            MemoryWriteResult(
                run: "facts", tool: "plexus", rows: data.facts, seconds: factSeconds,
                note: "AgentMemory.remember, each awaited until committed, \(Self.factWriters) concurrent writers; \(factBatches) transactions"),
        ]
        notes.append(
            "plexus file after the run: \(MemoryText.bytes(afterFacts.fileSize)) for \(BenchResult.grouped(data.rows)) rows and \(BenchResult.grouped(data.facts)) facts (FTS indexes included)")

        let recall = try await self.recall(store: store, memories: memories)
        await store.close()
        return (writes, recall)
    }

    /// Latest-by-subject and full-text recall over the filled store, each query as an
    /// agent makes it (scoped to its agent id), timed one by one.
    private func recall(store: MemoryStore, memories: [String: AgentMemory]) async throws -> [MemoryRecallResult] {
        let clock = ContinuousClock()
        func time(_ count: Int, _ body: (Int) async throws -> Int) async throws -> ([Double], Int) {
            var latencies: [Double] = []
            latencies.reserveCapacity(count)
            var hits = 0
            for query in 0..<count {
                let start = clock.now
                hits += try await body(query)
                latencies.append(seconds(clock.now - start) * 1000)
            }
            return (latencies.sorted(), hits)
        }
        func pick(_ query: Int, _ salt: UInt64, _ range: Int) -> Int {
            Int(BenchMemoryData.mix(UInt64(query) &* 7919 &+ salt) % UInt64(max(range, 1)))
        }
        var results: [MemoryRecallResult] = []
        let data = self.data

        progress("recall: latest facts by subject, \(queries) queries")
        let (latest, latestHits) = try await time(queries) { query in
            let subject = BenchMemoryData.factSubject(pick(query, 1, data.factSubjects))
            return try await memories[subject.agent]!.facts(subject: subject.subject).count
        }
        results.append(MemoryRecallResult(name: "latest by subject", call: "facts(subject:)", latencies: latest, hits: latestHits))

        let fts = max(queries / 4, 1)
        let rooms = BenchMemoryData.rooms
        let perRoom = max(1, data.rows / rooms)
        let perDevice = max(1, data.rows / (rooms * BenchMemoryData.devicesPerRoom))
        let classes: [(String, String, (Int) throws -> (agent: String, query: String))] = [
            ("fts message id", "1 row", { query in
                let row = try data.row(pick(query, 2, data.rows))
                return (row.agent, row.message.id.string)
            }),
            ("fts device", "~\(BenchResult.grouped(perDevice)) rows", { query in
                let room = pick(query, 3, rooms)
                return (BenchMemoryData.agent(ofRoom: room), BenchMemoryData.device(room: room, index: pick(query, 4, BenchMemoryData.devicesPerRoom)))
            }),
            ("fts room + quantity", "~\(BenchResult.grouped(perRoom / 4)) rows", { query in
                let room = pick(query, 5, rooms)
                return (BenchMemoryData.agent(ofRoom: room), "room\(BenchMemoryData.pad(room, 4)) \(BenchMemoryData.quantities[pick(query, 6, 4)])")
            }),
            ("fts room", "~\(BenchResult.grouped(perRoom)) rows", { query in
                let room = pick(query, 7, rooms)
                return (BenchMemoryData.agent(ofRoom: room), "room\(BenchMemoryData.pad(room, 4))")
            }),
        ]
        var mix: [Double] = []
        for (name, selectivity, make) in classes {
            progress("recall: \(name) (\(selectivity)), \(fts) queries")
            let (latencies, hits) = try await time(fts) { query in
                let (agent, text) = try make(query)
                return try await memories[agent]!.search(.allWords(text), limit: 10).count
            }
            mix += latencies
            results.append(MemoryRecallResult(name: name, call: "search, \(selectivity)", latencies: latencies, hits: hits))
        }
        let mixHits = results.suffix(classes.count).reduce(0) { $0 + $1.hits }
        results.append(MemoryRecallResult(name: "fts mix", call: "the four above", latencies: mix.sorted(), hits: mixHits))

        let common = min(fts, 50)
        let perBuilding = max(1, data.rows / BenchMemoryData.buildings)
        progress("recall: fts common word (~\(BenchResult.grouped(perBuilding)) rows), \(common) queries")
        let (commonLatencies, commonHits) = try await time(common) { query in
            let building = pick(query, 8, BenchMemoryData.buildings)
            return try await memories["agent-\(building % BenchMemoryData.agents)"]!
                .search(.allWords("building\(BenchMemoryData.pad(building, 2))"), limit: 10).count
        }
        results.append(
            MemoryRecallResult(
                name: "fts common word", call: "search, ~\(BenchResult.grouped(perBuilding)) rows", latencies: commonLatencies,
                hits: commonHits))
        return results
    }

    // MARK: sqlite3

    /// The `sqlite3` CLI inserting the same rows, then the same facts, each in one
    /// transaction, into an empty database with the same schema (made by `MemoryStore`,
    /// so the same indexes, FTS tables and triggers), indexing the rows for search with
    /// the statement the store's writer runs. Only the `sqlite3` process is timed, not
    /// writing its SQL file.
    mutating func sqlite3() async -> [MemoryWriteResult] {
        func skipped(_ why: String) -> [MemoryWriteResult] {
            [
                MemoryWriteResult(run: "log rows", tool: "sqlite3", rows: data.rows, note: why),
                MemoryWriteResult(run: "facts", tool: "sqlite3", rows: data.facts, note: why),
            ]
        }
        guard let sqlite3 = Self.which("sqlite3") else {
            notes.append("sqlite3 skipped: no sqlite3 on PATH; install it (scripts/install-deps.sh installs the sqlite3 package)")
            return skipped("skipped: no sqlite3")
        }
        let path = directory + "/sqlite3.sqlite"
        Self.remove(path)
        do {
            var configuration = MemoryConfiguration()
            configuration.logger.logLevel = .warning
            let store = try MemoryStore(path: path, configuration: configuration)
            await store.close()
        } catch {
            return skipped("could not make the schema: \(error)")
        }
        progress("sqlite3: writing the SQL for \(BenchResult.grouped(data.rows)) rows and \(BenchResult.grouped(data.facts)) facts")
        let messagesSQL = directory + "/messages.sql"
        let factsSQL = directory + "/facts.sql"
        do {
            try writeMessagesSQL(to: messagesSQL)
            try writeFactsSQL(to: factsSQL)
        } catch {
            return skipped("could not write the SQL: \(error)")
        }
        var results: [MemoryWriteResult] = []
        for (run, file, rows, table) in [("log rows", messagesSQL, data.rows, "message"), ("facts", factsSQL, data.facts, "fact")] {
            Self.settleDisk()
            progress("sqlite3: \(sqlite3) \(path) < \(file)")
            let err = directory + "/sqlite3-\(table).err"
            let clock = ContinuousClock()
            let start = clock.now
            guard let process = try? Subprocess.launch(sqlite3, [path], stdin: file, stderr: err) else {
                results.append(MemoryWriteResult(run: run, tool: "sqlite3", rows: rows, note: "could not start \(sqlite3)"))
                continue
            }
            let status = await process.wait(timeout: timeout)
            let elapsed = seconds(clock.now - start)
            let stderr = FileManager.default.contents(atPath: err).map { String(decoding: $0, as: UTF8.self) } ?? ""
            guard status == 0, stderr.isEmpty else {
                let why = status == nil ? "timed out" : "exit status \(status!): \(stderr.split(separator: "\n").first ?? "")"
                results.append(MemoryWriteResult(run: run, tool: "sqlite3", rows: rows, note: why))
                continue
            }
            results.append(MemoryWriteResult(
                run: run, tool: "sqlite3", rows: rows, seconds: elapsed,
                note: "sqlite3 CLI, one transaction of multi-row INSERTs of 500 rows, each followed by the store's search-index INSERT … SELECT; same schema and indexes"))
        }
        if !notes.contains(where: { $0.hasPrefix("sqlite3:") }) {
            notes.append("sqlite3: the process's wall time reading a prepared SQL file (\(sqlite3) \(Self.sqliteCLIVersion(sqlite3)))")
        }
        return results
    }

    private func writeMessagesSQL(to file: String) throws {
        let writer = try SQLFileWriter(file)
        writer.write(".bail on\nBEGIN;\n")
        let chunk = 500
        var index = 0
        while index < data.rows {
            var sql = """
                INSERT INTO message (agent, direction, topic, time, message_id, kind, subject, source, correlation_id, trust,
                                     event_time, attributes, body, value) VALUES

                """
            let end = min(index + chunk, data.rows)
            for position in index..<end {
                let row = try data.row(position)
                let message = row.message
                // What the store stores for the message (schema v4): its attributes in
                // columns, `data` as JSON, the rest as a small JSON object.
                let stored = MessageLogEntry.context(message, topic: row.topic, direction: .received).storedColumns
                sql += "(\(Self.quote(row.agent)),\(Self.quote(row.direction)),\(Self.quote(row.topic)),\(row.time),"
                    + "\(Self.quote(message.id.string)),\(Self.quote(message.kind.rawValue)),\(Self.quote(message.subject)),"
                    + "\(Self.quote(message.source)),\(Self.quote(message.conversationID)),\(Self.quote(message.trust.rawValue)),"
                    + "\(Self.literal(stored.eventTime)),\(Self.literal(stored.attributes)),\(Self.literal(stored.body)),"
                    + "\(Self.literal(stored.value)))"
                sql += position == end - 1 ? ";\n" : ",\n"
            }
            // The same search indexing as the store's writer does for each run of rows
            // (no insert trigger since schema v3): ids are 1…rows in an empty table.
            sql += """
                INSERT INTO message_fts (rowid, topic, subject, kind, source, message_id, body)
                SELECT id, topic, subject, kind, source, message_id, body FROM message_text WHERE id BETWEEN \(index + 1) AND \(end);

                """
            writer.write(sql)
            index = end
        }
        writer.write("COMMIT;\n")
        try writer.close()
    }

    private func writeFactsSQL(to file: String) throws {
        let writer = try SQLFileWriter(file)
        writer.write(".bail on\nBEGIN;\n")
        let chunk = 500
        var index = 0
        while index < data.facts {
            var sql = "INSERT INTO fact (agent, subject, predicate, value, source, message_id, confidence, trust, valid_from, valid_until, recorded_at) VALUES\n"
            let end = min(index + chunk, data.facts)
            for position in index..<end {
                let fact = data.fact(position)
                sql += "(\(Self.quote(fact.agent)),\(Self.quote(fact.subject)),\(Self.quote(fact.predicate)),"
                    + "\(Self.quote(fact.value.jsonString)),'summariser',\(Self.quote(fact.messageID)),0.8,'untrusted',"
                    + "\(fact.validFrom),NULL,\(data.end))"
                sql += position == end - 1 ? ";\n" : ",\n"
            }
            // The same search indexing as the store's writer does for each run of facts
            // (no insert trigger since schema v6): ids are 1…facts in an empty table.
            sql += """
                INSERT INTO fact_fts (rowid, subject, predicate, value)
                SELECT id, subject, predicate, value FROM fact WHERE id BETWEEN \(index + 1) AND \(end);

                """
            writer.write(sql)
            index = end
        }
        writer.write("COMMIT;\n")
        try writer.close()
    }

    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func literal(_ text: String?) -> String { text.map(quote) ?? "NULL" }
    static func literal(_ number: Int64?) -> String { number.map { String($0) } ?? "NULL" }
    static func literal(_ number: Double?) -> String { number.map { String($0) } ?? "NULL" }

    static func sqliteCLIVersion(_ sqlite3: String) -> String {
        let out = NSTemporaryDirectory() + "plexus-sqlite3-version-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        guard let process = try? Subprocess.launch(sqlite3, ["-version"], stdout: out) else { return "" }
        var status: Int32 = 0
        waitpid(process.pid, &status, 0)
        let text = FileManager.default.contents(atPath: out).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return text.split(separator: " ").first.map(String.init) ?? ""
    }

    // MARK: LangGraph

    /// How LangGraph's connection is set: as shipped, or with the durability of ours.
    enum LangGraphSync: CaseIterable {
        /// SQLite's default, `synchronous = FULL`: an fsync per committed put.
        case asShipped
        /// `synchronous = NORMAL`, as our store sets it: the same durability per commit.
        case normal

        var tool: String { self == .asShipped ? "langgraph" : "langgraph, NORMAL" }
        var arguments: [String] { self == .asShipped ? [] : ["--synchronous", "normal"] }
    }

    /// LangGraph's `SqliteSaver` writing `langgraphUpdates` state updates, each one of
    /// our rows (`Benchmarks/langgraph_memory.py`), as shipped and with our durability.
    mutating func langgraph() async -> [MemoryWriteResult] {
        let run = "log rows"
        let updates = min(langgraphUpdates, data.rows)
        func skipped(_ why: String) -> [MemoryWriteResult] {
            LangGraphSync.allCases.map { MemoryWriteResult(run: run, tool: $0.tool, rows: updates, note: why) }
        }
        let environment = ProcessInfo.processInfo.environment
        let python = environment["PLEXUS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
            ?? NSHomeDirectory() + "/.cache/plexus/venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            notes.append("langgraph skipped: no Python at \(python); run `make deps` (scripts/python-env.sh) or set PLEXUS_PYTHON")
            return skipped("skipped: run `make deps`")
        }
        guard let script = DispatchBench.findScript("langgraph_memory.py", benchmarksDirectory: benchmarksDirectory) else {
            notes.append("langgraph skipped: Benchmarks/langgraph_memory.py not found; pass --benchmarks-dir")
            return skipped("skipped: script not found")
        }
        guard let check = try? Subprocess.launch(python, ["-c", "import langgraph.checkpoint.sqlite"]),
            await check.wait(timeout: .seconds(60)) == 0
        else {
            notes.append("langgraph skipped: \(python) cannot import langgraph.checkpoint.sqlite; run `make deps` (scripts/python-env.sh installs langgraph-checkpoint-sqlite)")
            return skipped("skipped: langgraph-checkpoint-sqlite missing, run `make deps`")
        }
        let rowsFile = directory + "/langgraph-rows.jsonl"
        do {
            try writeLangGraphRows(updates, to: rowsFile)
        } catch {
            return skipped("could not write the rows: \(error)")
        }
        var results: [MemoryWriteResult] = []
        for sync in LangGraphSync.allCases {
            results.append(await langgraph(sync, python: python, script: script, rowsFile: rowsFile, updates: updates))
        }
        return results
    }

    private mutating func langgraph(
        _ sync: LangGraphSync, python: String, script: String, rowsFile: String, updates: Int
    ) async -> MemoryWriteResult {
        func skipped(_ why: String) -> MemoryWriteResult {
            MemoryWriteResult(run: "log rows", tool: sync.tool, rows: updates, note: why)
        }
        let name = sync == .asShipped ? "langgraph" : "langgraph-normal"
        let database = directory + "/\(name).sqlite"
        Self.remove(database)
        Self.settleDisk()
        progress("langgraph: \(script) --rows \(rowsFile) (\(BenchResult.grouped(updates)) updates) \(sync.arguments.joined(separator: " ")) with \(python)")
        let out = directory + "/\(name).out"
        let err = directory + "/\(name).err"
        let process: Subprocess
        do {
            process = try Subprocess.launch(
                python, [script, "--rows", rowsFile, "--db", database] + sync.arguments, stdout: out, stderr: err)
        } catch {
            return skipped("could not start: \(error)")
        }
        let status = await process.wait(timeout: timeout)
        guard status == 0 else {
            let stderr = FileManager.default.contents(atPath: err).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let last = stderr.split(separator: "\n").last.map(String.init) ?? ""
            return skipped(status == nil ? "timed out" : "exit status \(status!): \(last)")
        }
        guard let output = FileManager.default.contents(atPath: out),
            let line = String(decoding: output, as: UTF8.self).split(separator: "\n").last,
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
            let seconds = (object["seconds"] as? NSNumber)?.doubleValue,
            (object["updates"] as? NSNumber)?.intValue == updates
        else {
            return skipped("unreadable output")
        }
        let version = object["langgraph_checkpoint_sqlite"] as? String ?? "?"
        let synchronous = (object["synchronous"] as? NSNumber)?.intValue
        let level = synchronous.map { ["OFF", "NORMAL", "FULL", "EXTRA"][min(max($0, 0), 3)] } ?? "?"
        if sync == .asShipped, updates < data.rows {
            let rate = Double(updates) / max(seconds, 1e-9)
            notes.append(
                "langgraph wrote the first \(BenchResult.grouped(updates)) of the rows (it commits every put, \(BenchResult.grouped(Int(rate.rounded())))/s; "
                    + "\(BenchResult.grouped(data.rows)) would take about \(Self.roughDuration(Double(data.rows) / rate))): ours/peer compares rates, not totals")
        }
        return MemoryWriteResult(
            run: "log rows", tool: sync.tool, rows: updates, seconds: seconds,
            note: "langgraph-checkpoint-sqlite \(version) SqliteSaver.put per row on CPython, a commit per put, WAL, "
                + "synchronous = \(level)\(sync == .asShipped ? " (as shipped)" : " (as ours)"); timed inside the script, rows parsed before")
    }

    /// The first `count` rows as JSON lines for the LangGraph script: topic, direction,
    /// agent, time and the CloudEvents envelope: the message as the agent has it.
    private func writeLangGraphRows(_ count: Int, to file: String) throws {
        let writer = try SQLFileWriter(file)
        for index in 0..<count {
            let row = try data.row(index)
            writer.write(
                "{\"topic\":\(MessageFormatter.jsonString(row.topic)),\"direction\":\(MessageFormatter.jsonString(row.direction)),"
                    + "\"agent\":\(MessageFormatter.jsonString(row.agent)),\"time\":\(row.time),\"envelope\":\(row.message.cloudEvent.jsonString)}\n")
        }
        try writer.close()
    }

    // MARK: Helpers

    /// `40 s`, `12 min`, `1.5 h`.
    static func roughDuration(_ seconds: Double) -> String {
        seconds < 120 ? "\(Int(seconds.rounded())) s" : seconds < 7200 ? "\(Int((seconds / 60).rounded())) min" : String(format: "%.1f h", seconds / 3600)
    }

    static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Buffered writes of a large generated file (SQL, JSON lines).
private final class SQLFileWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(_ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw CLIError("cannot write \(path)") }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 {
            handle.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
        }
    }

    func close() throws {
        handle.write(Data(buffer))
        buffer = []
        try handle.close()
    }
}
