import StressSQLite

/// The order in which a run committed its transactions, read from the ledger of
/// the run's database: `seq` is the commit order (SQLite has one writer at a
/// time), so a transaction's first ledger entry places it. The log records
/// statements as they finish, and a writer held up between its COMMIT and the
/// log line lets another commit and log first; the ledger says which came first.
/// A compaction removes entries, and with them the places of the transactions
/// they were all of; it logs those places first (`Compaction.orderLine`), and
/// they are read from the log before the replay begins.
///
/// The positions go to a TEMP table of the reading connection (an index on the
/// transaction id, one on the position), so memory stays flat however long the
/// run was; the run's database is opened read-only and never changed, and
/// without a WAL beside it, opened as immutable: a read-only connection to a
/// WAL-mode database would otherwise leave an empty WAL and its index beside it.
final class CommitOrder {
    private let connection: Connection
    /// The run's database, for the sentence of a read that fails.
    private let path: String
    private let position: Statement
    private let following: Statement
    /// Whether the record of compacted transactions (`Compaction`) sets a
    /// transaction's bit; nil for a database without the record.
    private let recorded: Statement?
    /// The position of the next transaction to commit, nil when none is left.
    private(set) var next: Int64?
    /// Whether the run compacted its ledger and the log lacks the places of
    /// some compaction (`Compaction.orderLine`): one whose log lines were
    /// written by an earlier version of sqlite-stress. The transactions such a
    /// compaction covered lost their place, and commit in the log's order.
    let compacted: Bool

    /// Reads the ledger of the database at `path`, when it is the database the
    /// log was written for (`seed` is the log header's), and the places the
    /// log's compactions logged (`logs`: its files, in order); nil when nothing
    /// is there, or another database. Throws when a database of sqlite-stress is
    /// there and cannot be read (a damaged file, say): the sentence then says
    /// why the replay goes without the run's order, not that there is none.
    /// A log that cannot be read throws its own sentence (`LogReader`).
    init?(database path: String, seed: String, logs: [String]) throws(ToolError) {
        switch DatabaseFile.kind(at: path) {
        case .sqlite(DatabaseFile.applicationID): break
        case .damaged: throw ToolError("its first page is damaged")
        default: return nil
        }
        let connection: Connection
        do { connection = try Self.open(path) } catch { throw ToolError("\(error)") }
        do {
            guard try connection.scalar("SELECT value FROM \(Bookkeeping.meta) WHERE key = 'seed'") == .text(seed) else {
                connection.close()
                return nil
            }
            let mark = try connection.scalar("SELECT value FROM \(Bookkeeping.meta) WHERE key = '\(Compaction.markKey)'")
            try connection.execute("CREATE TEMP TABLE replay_logged (tx INTEGER NOT NULL, pos INTEGER NOT NULL)")
            let logged = try Self.readPlaces(logs, into: connection)
            if case .integer(let through)? = mark { compacted = through > 0 && logged.compactions > logged.orderLines } else { compacted = false }
            try connection.execute("""
                CREATE TEMP TABLE replay_order AS
                    SELECT tx, min(pos) AS pos FROM (SELECT tx, seq AS pos FROM main.\(Bookkeeping.ledger)
                        UNION ALL SELECT tx, pos FROM temp.replay_logged) GROUP BY tx;
                DROP TABLE temp.replay_logged;
                CREATE INDEX temp.replay_order_tx ON replay_order (tx);
                CREATE INDEX temp.replay_order_pos ON replay_order (pos)
                """)
            position = try connection.prepare("SELECT pos FROM temp.replay_order WHERE tx = ?")
            following = try connection.prepare("SELECT min(pos) FROM temp.replay_order WHERE pos > ?")
            let hasRecord = try connection.scalar(
                "SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = ?", [.text(Compaction.table)]) == .integer(1)
            let width = Compaction.blockBits
            recorded = hasRecord
                ? try connection.prepare(
                    "SELECT 1 FROM main.\(Compaction.table) WHERE block = ?1 >> \(width) AND bits & (1 << (?1 & \((1 << width) - 1))) <> 0")
                : nil
            if case .integer(let first)? = try connection.scalar("SELECT min(pos) FROM temp.replay_order") { next = first } else { next = nil }
        } catch let error as ToolError {
            connection.close()
            throw error
        } catch {
            connection.close()
            throw ToolError("\(error)")
        }
        self.connection = connection
        self.path = path
    }

    /// Reads `logs` for the places their compactions logged (`Compaction.orderLine`),
    /// into `replay_logged`, in one transaction of the reading connection's TEMP
    /// database, and counts the lines of compactions that went through (their
    /// mark's statement, `ok`) and the order lines: a compaction always logs its
    /// order line before its mark, so fewer order lines than compactions is a log
    /// of an earlier version of sqlite-stress, whose compactions logged none.
    private static func readPlaces(_ logs: [String], into connection: Connection) throws -> (compactions: Int, orderLines: Int) {
        let insert = try connection.prepare("INSERT INTO temp.replay_logged (tx, pos) VALUES (?, ?)")
        let markLine = Compaction.markStatement + StatementRunner.commentMarker
        var compactions = 0, orderLines = 0
        try connection.execute("SAVEPOINT replay_logged")
        for path in logs {
            let reader = try LogReader(path: path)
            while let line = try reader.next() {
                if let places = Compaction.places(inOrderLine: line) {
                    orderLines += 1
                    for place in places {
                        insert.reset()
                        insert.bind([.integer(place.tx), .integer(place.position)])
                        _ = try insert.step()
                    }
                } else if line.hasPrefix(markLine), case .statement(_, let result)? = Replay.parse(line, number: 0)?.action,
                          result.hasPrefix("ok") {
                    compactions += 1
                }
            }
        }
        try connection.execute("RELEASE replay_logged")
        return (compactions, orderLines)
    }

    deinit { connection.close() }

    /// Opens `path` read-only; as immutable when no WAL is beside it (the file is
    /// then the whole database), which creates no file (`-wal`, `-shm`) either.
    private static func open(_ path: String) throws(SQLiteError) -> Connection {
        if DatabaseFile.kind(at: path + "-wal") != .missing { return try Connection(path: path, flags: [.readOnly]) }
        // A URI's path with `%`, `?` and `#` escaped; an absolute path after an empty authority.
        var escaped = ""
        for character in path {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3F"
            case "#": escaped += "%23"
            default: escaped.append(character)
            }
        }
        let uri = (path.hasPrefix("/") ? "file://" : "file:") + escaped + "?immutable=1"
        return try Connection(path: uri, flags: [.readOnly, .uri])
    }

    /// Where transaction `tx` committed in the run, nil if it is not in the ledger.
    func position(of tx: Int64) throws(ToolError) -> Int64? {
        try integer(position, tx)
    }

    /// Whether transaction `tx` committed in the run: the ledger has an entry of
    /// it, or the record of compacted transactions its bit, which stands for the
    /// entries a compaction removed before the transaction's acknowledgement
    /// was folded (a writer killed inside its COMMIT never wrote one).
    func committedInRun(_ tx: Int64) throws(ToolError) -> Bool {
        if try position(of: tx) != nil { return true }
        guard let recorded else { return false }
        return try integer(recorded, tx) != nil
    }

    /// Drops the places, from the next on, of the transactions of the driver
    /// whose ids have `base` (`TransactionID.make(base:number:)`): it was killed
    /// and every line it logged has run, so a transaction of its that the
    /// ledger places and the replay has not committed lost its line to the kill
    /// (an autocommit write killed after its effect, before its line was
    /// written). Waited for, it would hold every later commit back to the end
    /// of the log; the replay goes on without it, as the run's database holds
    /// what no line says (a difference that follows gives no verdict:
    /// `Session.vanishedBetweenStatements`). Returns whether any was dropped.
    func forget(base: Int64) throws(ToolError) -> Bool {
        guard let current = next else { return false }
        do {
            // A range of ids, which the index on `tx` serves (a shift of `tx` would scan every place).
            try connection.execute(
                "DELETE FROM temp.replay_order WHERE tx >= \(base << 32) AND tx < \((base + 1) << 32) AND pos >= \(current)")
        } catch {
            throw ToolError("cannot read the commit order from the run's database \(path): \(error).")
        }
        guard connection.changes > 0 else { return false }
        next = try integer(following, current - 1)
        return true
    }

    /// Notes that the transaction at `position` committed in the replay.
    func committed(at position: Int64) throws(ToolError) {
        if let next, position >= next { self.next = try integer(following, position) }
    }

    /// `statement`'s first column for `argument`, nil when it gives no integer.
    /// A read that fails is the replay's to report: taken for "not there", it
    /// would commit or roll back a transaction against the run's record.
    private func integer(_ statement: Statement, _ argument: Int64) throws(ToolError) -> Int64? {
        statement.reset()
        statement.bind([.integer(argument)])
        do {
            guard try statement.step(), case .integer(let value) = statement.column(0) else { return nil }
            return value
        } catch {
            throw ToolError("cannot read the commit order from the run's database \(path): \(error).")
        }
    }
}
