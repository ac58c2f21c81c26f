#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite

/// `sqlite-stress replay`: re-executes an SQL log against a fresh database,
/// each statement on the connection of the writer that logged it, in the order
/// the statements finished, and stops at the first statement whose result (ok,
/// changes, rows, or error code) differs from the one recorded.
///
/// What it can replay: a one-writer log exactly; a log of several threads or
/// drivers too, because lock contention and the order of the log's lines are
/// timing, not content:
/// - a statement that met SQLITE_BUSY or SQLITE_LOCKED in the run had no effect
///   there (SQLite undid it, or the whole transaction, which the log then says),
///   so it is not re-executed; nor is one that met SQLITE_SCHEMA (another
///   writer's schema changes kept SQLite from preparing it: it ran none of it);
/// - the log records statements as they finish, and a writer can be held up
///   between a statement and its line while others go on: a statement that
///   meets a lock only the replay holds, or whose result needs another writer's
///   statement logged a little later, is rolled back with its replay transaction
///   and run again once another writer has moved on (`Session`); only a
///   difference that no such reordering removes within `window` lines counts;
/// - a read in WAL mode sees the database as of its start, and another writer's
///   commit may land while it runs: where one did, its row count is not held to
///   the recorded one (nor is `PRAGMA incremental_vacuum`'s, which counts pages);
///   nor is the result of an autocommit write that changed nothing in the run
///   (the log records it after its lock is free): it is undone in the replay;
/// - a writer's connection reads the schema at moments the log does not date (a
///   driver before its first line), and SQLite makes a TEMP trigger from the
///   schema read last: a ledger trigger the run made on a table that another
///   writer's commit, logged earlier, renamed or dropped could never fire there,
///   and the replay goes on without it; so does an `ANALYZE` or `REINDEX` of
///   such a table, logged once its lock was free, after that commit;
/// - commits follow the run's own order, which the ledger of the run's database
///   records (`<log>` without `.sql`, when it is there, `CommitOrder`): a
///   transaction whose turn has not come waits, rolled back, for the one before it;
/// - a writer that vanishes mid-transaction (a killed driver) had its transaction
///   rolled back by SQLite; when an entry has waited `window` log lines for the
///   lock it holds (or the log ends), the replay rolls it back too — unless the
///   writer was killed inside its COMMIT after the commit took effect, which the
///   run's ledger shows: then the replay commits it;
/// - a driver killed after its autocommit VACUUM took effect and before its
///   line was written moved the run's schema cookie and not the replay's: the
///   replay moves its own on by the lag the log's reads of the cookie show
///   (`Session.notePair`).
/// It cannot replay what a storage fault changed: the replay injects none.
///
/// The log is streamed: memory does not grow with its length.
public enum Replay {
    /// What one log line asks of a writer.
    enum Action: Equatable {
        /// A statement and its recorded result (`ok changes=1`, `SQLITE_BUSY`, …).
        case statement(sql: String, result: String)
        /// The writer closed its connection at the end of its work.
        case disconnect
        /// The writer closed its connection and goes on with a new one (a
        /// reconnect, or a connection abandoned after a failed ROLLBACK).
        case reconnect
        /// SQLite ended the writer's transaction on its own after an error.
        case rolledBackBySQLite
        /// The `compose` command the writer (a driver) ran in (`SQLLog.commandLine`).
        case command(String)
        /// `compose` killed this command, whose processes have all ended: its
        /// writers log nothing more (`SQLLog.killedLine`; the entry names no writer).
        case killed(command: String)
    }

    /// One log line the replay acts on.
    struct Entry: Equatable {
        var line: Int
        var writer: String
        var action: Action
        /// The transaction label (`x5`).
        var transaction = ""

        /// The transaction id the labels name, when the writer is a thread, a driver or the setup.
        var transactionID: Int64? { TransactionID.parse(writer: writer, transaction: transaction) }
    }

    /// Parses a log line; nil for lines the replay does not act on (headers,
    /// check results). A statement's comment is the last `; -- ` on the line:
    /// the comment itself never contains one.
    static func parse(_ line: String, number: Int) -> Entry? {
        if line.hasPrefix("-- ") {
            let killed = "-- " + SQLLog.commandWord + " "
            if line.hasPrefix(killed), line.hasSuffix(" killed"), line.count > killed.count + " killed".count {
                let command = line.dropFirst(killed.count).dropLast(" killed".count)
                if !command.contains(" ") { return Entry(line: number, writer: "", action: .killed(command: String(command))) }
            }
            // `-- <writer> <transaction> <event>`
            let words = line.split(separator: " ", maxSplits: 3)
            guard words.count == 4 else { return nil }
            let (writer, transaction) = (String(words[1]), String(words[2]))
            if words[3].hasPrefix(SQLLog.commandWord + " ") {
                return Entry(line: number, writer: writer, action: .command(String(words[3].dropFirst(SQLLog.commandWord.count + 1))),
                             transaction: transaction)
            }
            switch words[3] {
            case SQLLog.Event.disconnect.rawValue:
                return Entry(line: number, writer: writer, action: .disconnect, transaction: transaction)
            case SQLLog.Event.reconnect.rawValue, SQLLog.Event.abandoned.rawValue:
                return Entry(line: number, writer: writer, action: .reconnect, transaction: transaction)
            case SQLLog.Event.rolledBackBySQLite.rawValue:
                return Entry(line: number, writer: writer, action: .rolledBackBySQLite, transaction: transaction)
            default:
                return nil
            }
        }
        guard let marker = line.ranges(of: StatementRunner.commentMarker).last else { return nil }
        let comment = line[marker.upperBound...].split(separator: " ", maxSplits: 2)
        guard comment.count == 3 else { return nil }
        return Entry(
            line: number, writer: String(comment[0]),
            action: .statement(sql: String(line[..<marker.lowerBound]), result: String(comment[2])),
            transaction: String(comment[1]))
    }

    /// What a sick disk or directory gives (`SQLiteError.isStorageTrouble`, and a
    /// file SQLite can no longer write): SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN
    /// or SQLITE_READONLY, any variant.
    static func isStorageTrouble(_ result: String) -> Bool {
        ["SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_READONLY"].contains { result.hasPrefix($0) }
    }

    /// Lock contention: SQLITE_BUSY or SQLITE_LOCKED, any variant.
    static func isContention(_ result: String) -> Bool {
        result.hasPrefix("SQLITE_BUSY") || result.hasPrefix("SQLITE_LOCKED")
    }

    /// Whether there is a file at `path` (the replay's `what`) to replace:
    /// false when there is none; true for one sqlite-stress made that is not a
    /// run's database, or for SQLite's files left without their database, with
    /// `overwrite`; one sentence for anything else. Removes nothing.
    private static func replaceable(_ path: String, _ what: String, overwrite: Bool) throws(ToolError) -> Bool {
        try DatabaseFile.checkNotALink(path, what: what)
        if let odd = DatabaseFile.irregularSidecar(of: path) { throw ToolError("\(odd); refusing to remove it.") }
        switch DatabaseFile.kind(at: path) {
        case .missing: return try DatabaseFile.checkLeftSidecars(of: path, overwrite: overwrite)
        case .directory: throw ToolError("the \(what) path \(path) is a directory.")
        case .sqlite(DatabaseFile.applicationID) where overwrite, .damaged where overwrite:
            // A run's database (`stress`, `schema`, the drivers) has its acknowledgement log; a replay's has none.
            let acks = AckLog.path(for: path)
            guard !DatabaseFile.exists(acks) else {
                throw ToolError("refusing to overwrite \(path): it is a run's database (\(acks) is beside it), not a replay's.")
            }
            return true
        case .sqlite where !overwrite, .damaged:
            throw ToolError("\(path) already exists; pass --overwrite to replace a database sqlite-stress made.")
        default:
            throw ToolError("refusing to overwrite \(path): it was not created by sqlite-stress.")
        }
    }

    /// Where a replayed VACUUM INTO writes its copy: beside the replay's
    /// database, not where the recorded run wrote it (beside the original,
    /// which a replay must not touch). `replay` removes it once the statement
    /// has run; a shrink script keeps its own beside its database.
    static func copyPath(besides databasePath: String) -> String { databasePath + ".copy" }

    /// Whether `sql` may move the database's schema cookie, decided by its
    /// first words: the workload's schema changes (CREATE, DROP, ALTER),
    /// VACUUM, and ANALYZE or `PRAGMA optimize`, which create sqlite_stat1 the
    /// first time; not the bookkeeping's statements on a connection's TEMP
    /// schema (`Bookkeeping.isConnectionStatement`), which leave the
    /// database's cookie as it is.
    static func mayChangeSchema(_ sql: String) -> Bool {
        schemaChangeWords.contains { sql.hasPrefix($0) } && !Bookkeeping.isConnectionStatement(sql)
    }

    private static let schemaChangeWords = ["CREATE ", "DROP ", "ALTER ", "VACUUM", "ANALYZE", "PRAGMA optimize"]

    /// Whether `sql` is a VACUUM INTO, the one statement of a log that writes a file of its own.
    static func isVacuumInto(_ sql: String) -> Bool { sql.hasPrefix("VACUUM INTO ") }

    /// `sql` with a VACUUM INTO's file replaced by `copy`; any other statement as it is.
    static func vacuumInto(_ sql: String, writingTo copy: String) -> String {
        guard isVacuumInto(sql) else { return sql }
        return "VACUUM INTO \(SQLValue.text(copy).sqlLiteral)"
    }

    /// A VACUUM INTO writing `copyPath(besides:)`; every other statement as
    /// logged. VACUUM INTO fails on a file that exists, so the caller removes
    /// each copy before the next (`replay` once its statement has run).
    static func redirected(_ sql: String, besides databasePath: String) -> String {
        vacuumInto(sql, writingTo: copyPath(besides: databasePath))
    }

    /// Whether `sql` is one of the workload's reads of the schema cookie, the
    /// cookie in its first column (`Session.notePair`).
    static func readsCookie(_ sql: String) -> Bool {
        sql == Bookkeeping.schemaQuery || sql == Bookkeeping.cookieQuery
    }

    /// The table of a statement that only builds something of its own for one
    /// table, or gathers its statistics: a ledger trigger's creation
    /// (`TrackedTable.triggerStatements`, the table its `ON main."name"`
    /// names), `ANALYZE "name"` or `REINDEX "name"`; nil for any other
    /// statement. Run before the table was renamed or dropped, such a statement
    /// leaves nothing that a replay running it afterwards would lack: a
    /// trigger that could never fire, statistics that change no result.
    static func tableOfUpkeep(_ sql: String) -> String? {
        if sql.hasPrefix("ANALYZE \"") || sql.hasPrefix("REINDEX \"") {
            let tokens = SQLTokens(sql).tokens.filter { $0.kind != .space }
            return tokens.count == 2 ? SQLTokens.identifier(tokens[1]) : nil
        }
        guard sql.hasPrefix(TrackedTable.createTriggerPrefix), let on = sql.firstRange(of: " ON main.") else { return nil }
        let rest = sql[on.upperBound...]
        // The name alone: the trigger's body is long.
        guard let end = rest.firstRange(of: " BEGIN ") else { return nil }
        return SQLTokens(String(rest[..<end.lowerBound])).tokens.first.flatMap(SQLTokens.identifier)
    }

    /// The table an `ALTER TABLE … RENAME TO` or a `DROP TABLE` removes the
    /// name of; nil for any other statement.
    static func removedTable(_ sql: String) -> String? {
        let renames = sql.hasPrefix("ALTER TABLE ") && sql.contains(" RENAME TO ")
        guard renames || sql.hasPrefix("DROP TABLE ") else { return nil }
        let tokens = SQLTokens(sql).tokens.filter { $0.kind != .space }.dropFirst(2)
        let named = tokens.drop { renames ? false : ["if", "exists"].contains($0.text.lowercased()) }
        guard let first = named.first.flatMap(SQLTokens.identifier) else { return nil }
        // `schema.table`: the table is the name after the dot.
        let after = named.dropFirst()
        if after.first?.text == ".", let table = after.dropFirst().first.flatMap(SQLTokens.identifier) { return table }
        return first
    }

    /// The first statement whose result differs.
    public struct Mismatch: Sendable, Equatable {
        public var line: Int
        public var writer: String
        public var sql: String
        public var recorded: String
        public var replayed: String
    }

    /// How far a replay has come, for progress output.
    public struct Progress: Sendable {
        public var bytesRead: Int64
        public var bytesTotal: Int64
        public var statements: Int
        public var elapsed: Double
    }

    public struct Outcome: Sendable {
        /// Statements re-executed with the recorded result.
        public var statements: Int
        /// Statements that met lock contention in the run, not re-executed.
        public var skipped: Int
        /// Entries that ran later than logged, once other writers had moved on.
        public var deferred: Int
        /// Replay transactions rolled back and run again later.
        public var restarts: Int
        /// Open transactions of writers that vanished from the log, rolled back.
        public var abandoned: Int
        /// Open transactions of writers that vanished inside their COMMIT, which
        /// the run's database shows committed: committed in the replay too.
        public var finished: Int
        /// Statements whose recorded result depended on when they ran: reads whose
        /// row count differs where another writer's commit could have landed while
        /// they ran (or that count pages), autocommit writes that changed nothing in
        /// the run and would here. Timing, not content.
        public var timed: Int
        /// Schema cookie moves the run made where its log says nothing (a
        /// killed driver's VACUUM), which the replay made too (`Session.notePair`).
        public var cookieMoves = 0
        /// Writers (threads, drivers, the setup) seen in the log.
        public var writers: Int
        /// Whether the set-up is one of `writers`.
        public var setUp = false
        /// The `-- faults:` header line, when the run injected storage faults.
        public var faults: String?
        /// Whether the run's database was beside the log, so that commits followed its ledger's order.
        public var commitOrder: Bool
        /// Why the database beside the log, one of sqlite-stress's, could not
        /// give the order (SQLite's error), when it could not.
        public var orderUnreadable: String? = nil
        /// Whether that database's ledger was compacted by a compaction that
        /// logged no order line, so that the commits it covered followed the
        /// log's order instead (`CommitOrder.compacted`).
        public var orderCompacted: Bool
        /// Writers that vanished between statements before the difference
        /// (`Session.vanishedBetweenStatements`, `Session.threadsBetweenStatements`):
        /// killed drivers, and threads of a killed `stress`, one of whose
        /// statements may have taken effect without its line.
        public var vanished: [String] = []
        /// Writers the replay took for vanished (no line of theirs for `window`
        /// lines while another writer waited for their lock) whose lines went on
        /// before the difference (`Session.resumed`): the replay ended a
        /// transaction the run had not.
        public var resumed: [String] = []
        /// Other writers whose schema changes committed in the replay after the
        /// differing writer's last context statement and before the difference
        /// (`Session.schemaChanged`), when the difference is the replay's schema
        /// stopping a statement the run let through (`isSchemaStop`).
        public var schemaChangedBy: [String] = []
        /// How many lines the replay let an entry wait (`Replay.window`).
        public var window = Replay.window
        /// The files read, in order: the log, or `<log>.1` and then the log when it was rotated.
        public var files: [String] = []
        /// The database the replay wrote.
        public var database = ""
        /// The bytes after the log's last newline: a line whose write was cut
        /// short (`LogReader.unterminated`), not replayed.
        public var unterminated = 0
        public var mismatch: Mismatch?

        /// A difference after a writer vanished between statements (`vanished`),
        /// or in a log of several writers (besides the set-up) where the replay
        /// could not follow the run's commit order: the run's database was not
        /// beside the log, or it compacted its ledger and the log lacks the order
        /// of the commits a compaction covered (`CommitOrder.compacted`). The difference may be the lost
        /// statement's or that order's, not SQLite's — no verdict (exit status
        /// 2), never a finding.
        public var inconclusive: Bool {
            mismatch != nil && (!vanished.isEmpty || !resumed.isEmpty || guardAfterCookieMove || !schemaChangedBy.isEmpty
                || (writers > 2 && (!commitOrder || orderCompacted)))
        }

        /// A difference in whether a write passed its ledger triggers' guard
        /// (SQLITE_CONSTRAINT_TRIGGER on one side) after the replay moved its
        /// schema cookie on where the run's moved without a line (`cookieMoves`).
        /// That move is a guess from the cookies writers read: a VACUUM whose
        /// line a kill took. Where the VACUUM's line was only held up, it comes
        /// later and moves the replay's cookie once more, so the guard stops
        /// writes the run's let through: the guess's difference, not SQLite's.
        public var guardAfterCookieMove: Bool {
            guard cookieMoves > 0, let mismatch else { return false }
            return [mismatch.recorded, mismatch.replayed].contains { $0.hasPrefix(ResultCode.constraintTrigger.name) }
        }

        /// Whether `mismatch` is the replay's schema stopping a statement the
        /// run let through (`ok` recorded): a ledger trigger's guard
        /// (SQLITE_CONSTRAINT_TRIGGER), or a table or column no longer there
        /// (SQLITE_ERROR). A statement in autocommit mode, or the one after
        /// which SQLite ended a transaction on an error, is logged once its
        /// lock is free: its writer can be held up there while another writer's
        /// schema change takes the lock, commits and logs first. Run after that
        /// change here, the guard stops it (the cookie is no longer the one its
        /// context statement named), or SQLite no longer finds its table: the
        /// log's order, not SQLite's (`schemaChangedBy`).
        /// (A read the schema stopped is timing when a schema change could
        /// have come after its snapshot began, `Session.isTiming`, and a
        /// difference otherwise.)
        static func isSchemaStop(_ mismatch: Mismatch) -> Bool {
            mismatch.recorded.hasPrefix("ok") && !mismatch.sql.hasPrefix("SELECT")
                && [ResultCode.constraintTrigger, .error].contains { mismatch.replayed.hasPrefix($0.name) }
        }

        /// Up to five writers' names, with an ellipsis for the rest.
        private static func shown(_ names: [String]) -> String {
            names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
        }

        /// 0 every result as recorded; 1 a result differs; 2 one differs where the order or a statement was lost (`inconclusive`).
        public var exitStatus: Int32 { mismatch == nil ? 0 : inconclusive ? 2 : 1 }

        /// Why the replay has no commit order of the run's.
        private var orderMissing: String {
            orderUnreadable.map { "the run's database beside the log cannot be read (\($0))" }
                ?? "the run's database is not beside the log"
        }

        public var text: String {
            var lines: [String] = []
            if files.count > 1 {
                lines.append("note: the log was rotated past its size limit; read \(files.joined(separator: ", then ")) "
                    + "(line numbers count through both)")
            }
            if !commitOrder, writers > 2 {
                lines.append("note: \(orderMissing)\(orderUnreadable == nil ? " (<db>.sql)" : ""), so commits follow the log's "
                    + "order, which can differ from the run's where a writer was held up before logging its COMMIT")
            }
            if unterminated > 0 {
                lines.append("note: the log ends in \(Format.count(unterminated, "byte")) of a line whose write was cut short "
                    + "(a writer killed inside it, or one still writing); not replayed")
            }
            if let faults {
                lines.append("note: the run injected storage faults (\(faults)); the replay injects none, "
                    + "so it stops at the first result a fault changed")
            }
            var timing: [String] = []
            if skipped > 0 { timing.append("\(Format.count(skipped, "statement")) that met lock contention in the run not re-executed") }
            if deferred > 0 {
                timing.append("\(Format.count(deferred, "statement")) run later than logged, after other writers' statements"
                    + (restarts > 0 ? " (\(Format.count(restarts, "transaction")) run again)" : ""))
            }
            if timed > 0 {
                timing.append(Format.count(timed, "statement") + " not held to a result that depended on when "
                    + (timed == 1 ? "it ran (another writer committed around it)" : "they ran (other writers committed around them)"))
            }
            if abandoned > 0 { timing.append("\(Format.count(abandoned, "transaction")) of writers that vanished from the log rolled back") }
            if finished > 0 {
                timing.append("\(Format.count(finished, "transaction")) of writers that vanished inside COMMIT committed, "
                    + "as the run's database shows")
            }
            if cookieMoves > 0 {
                timing.append("the schema cookie moved on \(Format.count(cookieMoves, "time")) where the run's moved "
                    + "without a line (a killed driver's VACUUM)")
            }
            let detail = timing.isEmpty ? "" : " (" + timing.joined(separator: "; ") + ")"
            guard let mismatch else {
                let who = setUp ? Format.count(writers - 1, "writer") + " and the set-up" : Format.count(writers, "writer")
                lines.append("replay: \(Format.count(statements, "statement")) of \(who), every result as recorded" + detail)
                lines.append("replay database: \(database)")
                lines.append(SQLiteChoice.line)
                return lines.joined(separator: "\n")
            }
            let sql = mismatch.sql.count > 300 ? String(mismatch.sql.prefix(300)) + "…" : mismatch.sql
            lines.append("replay: the result differs at log line \(mismatch.line), after \(Format.count(statements, "matching statement"))" + detail)
            lines.append("    writer: \(mismatch.writer)")
            lines.append("    statement: \(sql)")
            lines.append("    recorded: \(mismatch.recorded)")
            lines.append("    replayed: \(mismatch.replayed)")
            lines.append("replay database: \(database)")
            if !vanished.isEmpty {
                let shown = Self.shown(vanished)
                lines.append("result: NO VERDICT — \(Format.count(vanished.count, "writer")) (\(shown)) vanished between "
                    + "statements before this line, killed: a kill can take a statement's line after its effect (an "
                    + "autocommit VACUUM or write, say), so the run's database may hold what no line says, and this "
                    + "difference may be that statement's, not SQLite's.")
            } else if !resumed.isEmpty {
                let shown = Self.shown(resumed)
                let one = resumed.count == 1
                lines.append("result: NO VERDICT — \(Format.count(resumed.count, "writer")) (\(shown)) that the replay took for "
                    + "vanished logged again: no line of \(one ? "its" : "theirs") came for \(Format.count(window, "line")) while "
                    + "another writer waited for \(one ? "it" : "them"), so the replay ended \(one ? "a transaction" : "transactions") "
                    + "the run had not, and this difference may be that, not SQLite's.")
            } else if guardAfterCookieMove {
                lines.append("result: NO VERDICT — the replay moved its schema cookie on where the run's moved without a "
                    + "line (a VACUUM whose line a kill took, it judged from the cookies writers read), and this difference "
                    + "is a ledger trigger's guard of the cookie: had that VACUUM's line only been held up, it moved the "
                    + "replay's cookie once more, and the difference is that, not SQLite's.")
            } else if !schemaChangedBy.isEmpty {
                let shown = Self.shown(schemaChangedBy)
                let one = schemaChangedBy.count == 1
                lines.append("result: NO VERDICT — \(shown) changed the schema after \(mismatch.writer)'s last context statement, "
                    + "and this difference is the changed schema stopping a statement the run let through (a ledger trigger's "
                    + "guard, or a table or column gone): a statement logged once its lock was free (an autocommit write) "
                    + "can have run in the run before "
                    + "\(one ? "that change" : "those changes") committed, its line held up until after \(one ? "its" : "theirs"), "
                    + "and this difference may be that order's, not SQLite's.")
            } else if inconclusive {
                lines.append(commitOrder
                    ? "result: NO VERDICT — the run compacted its ledger, and its log does not say where the transactions a "
                        + "compaction removed committed (a compaction logs it before it removes them; a log of an earlier "
                        + "version of sqlite-stress lacks it); with several writers they commit in the log's order here, so "
                        + "this difference may be that order's, not SQLite's."
                    : "result: NO VERDICT — \(orderMissing), so with several writers commits follow "
                        + "the log's order here, and this difference may be that order's, not SQLite's."
                        + (orderUnreadable == nil ? " Replay the log beside its database (<db>.sql)." : ""))
            }
            lines.append(SQLiteChoice.line)
            return lines.joined(separator: "\n")
        }
    }

    /// How many log lines an entry may wait — for a lock only the replay holds,
    /// or for another writer's statement, logged later but run earlier, that
    /// explains a different result — before the replay reports the difference.
    public static let window = 10_000

    /// Replays the log at `logPath` into `databasePath`, which must not exist
    /// unless `overwrite` is set (and then only a database sqlite-stress made).
    public static func run(
        logPath: String, databasePath: String, overwrite: Bool, window: Int = Replay.window,
        onProgress: (@Sendable (Progress) -> Void)? = nil
    ) throws(ToolError) -> Outcome {
        switch DatabaseFile.kind(at: logPath) {
        case .missing: throw ToolError("\(logPath) does not exist.")
        case .directory: throw ToolError("\(logPath) is a directory, not an SQL log.")
        default: break
        }
        guard DatabaseFile.starts(logPath, with: SQLLog.headerPrefix) else {
            throw ToolError("\(logPath) is not an SQL log written by sqlite-stress.")
        }
        if databasePath == logPath || DatabaseFile.sameFile(databasePath, logPath) {
            throw ToolError("--db must differ from the log: the replay writes its database there.")
        }
        // A rotated log: `<log>.1`, then `<log>`; one whose beginning is gone cannot be replayed (and
        // is refused before an old replay database is replaced).
        let files = try SQLLog.files(of: logPath)
        // The replay database, and the copy the log's VACUUM INTO statements
        // write beside it: each replaced only when sqlite-stress made it, and
        // only with --overwrite; both checked before either is removed.
        let copy = copyPath(besides: databasePath)
        let replacesDatabase = try replaceable(databasePath, "replay database", overwrite: overwrite)
        let replacesCopy = try replaceable(copy, "replay's VACUUM INTO copy", overwrite: overwrite)
        if replacesDatabase { try DatabaseFile.remove(databasePath) } else { try DatabaseFile.checkCreatable(databasePath, what: "replay database") }
        if replacesCopy { try DatabaseFile.remove(copy) }
        let readers = try files.map { path throws(ToolError) in try LogReader(path: path) }
        // The run's database, when the log is beside it as `<db>.sql` (and its seed is the log's).
        let original = logPath.hasSuffix(".sql") ? String(logPath.dropLast(4)) : nil
        let header = try LogReader(path: files[0]).next() ?? ""
        let seed = header.split(separator: " ").first { $0.hasPrefix("seed=") }.map { String($0.dropFirst(5)) }
        var order: CommitOrder?
        var orderUnreadable: String?
        if let original, let seed {
            do { order = try CommitOrder(database: original, seed: seed, logs: files) } catch { orderUnreadable = error.message }
        }
        let session = Session(databasePath: databasePath, window: window, order: order)
        let clock = ContinuousClock()
        let start = clock.now
        var lastReport = start
        var number = 0
        var faults: String?
        func outcome(_ mismatch: Mismatch?, threadsVanished: Set<String> = []) -> Outcome {
            Outcome(
                statements: session.statements, skipped: session.skipped, deferred: session.deferred,
                restarts: session.restarts, abandoned: session.abandoned, finished: session.finished, timed: session.timed,
                cookieMoves: session.cookieMoves, writers: session.writerCount, setUp: session.setUpLogged, faults: faults, commitOrder: order != nil, orderUnreadable: orderUnreadable, orderCompacted: order?.compacted ?? false,
                vanished: mismatch.map { (session.vanishedBetweenStatements(before: $0.line) + threadsVanished.sorted()) } ?? [],
                resumed: mismatch == nil ? [] : session.resumed,
                schemaChangedBy: mismatch.map { Outcome.isSchemaStop($0) ? session.schemaChanged(since: $0.writer) : [] } ?? [],
                window: window,
                files: files, database: databasePath, unterminated: readers.last?.unterminated ?? 0, mismatch: mismatch)
        }
        let total = readers.reduce(Int64(0)) { $0 + $1.size }
        var done: Int64 = 0
        // Once a difference is found: the monolith's threads between statements
        // before it, until a later line of their own shows they were not killed there.
        var found: (mismatch: Mismatch, threads: Set<String>)?
        for reader in readers {
            while let line = try reader.next() {
                number += 1
                if number < 10, line.hasPrefix(SQLLog.faultsPrefix) { faults = String(line.dropFirst(SQLLog.faultsPrefix.count)) }
                if let onProgress, number % 1024 == 0, lastReport.duration(to: clock.now) > .milliseconds(200) {
                    lastReport = clock.now
                    onProgress(Progress(
                        bytesRead: done + reader.bytesRead, bytesTotal: total, statements: session.statements,
                        elapsed: start.duration(to: lastReport).seconds))
                }
                guard let entry = parse(line, number: number) else { continue }
                if var reading = found {
                    reading.threads.remove(entry.writer)
                    if reading.threads.isEmpty { return outcome(reading.mismatch) }
                    found = reading
                    continue
                }
                if let mismatch = try session.feed(entry) {
                    let threads = session.threadsBetweenStatements(before: mismatch.line)
                    if threads.isEmpty { return outcome(mismatch) }
                    found = (mismatch, threads)
                }
            }
            done += reader.bytesRead
        }
        // The log ended: a thread between statements with no line after the difference was killed there.
        if let found { return outcome(found.mismatch, threadsVanished: found.threads) }
        let mismatch = try session.finish()
        return outcome(mismatch, threadsVanished: mismatch.map { session.threadsBetweenStatements(before: $0.line) } ?? [])
    }
}
