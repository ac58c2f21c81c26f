import Foundation
import StressSQLite
import Testing

@testable import StressKit

@Suite struct StatementRunnerTests {
    /// Statements whose results cover every shape a log line's result takes,
    /// each with the result the log must show: a change count for DML only (none
    /// on the ROLLBACK, RELEASE or DDL after a DML, where `sqlite3_changes` still
    /// reports the DML's), a row count for rows returned, an error's code name.
    static let script: [(sql: String, result: String)] = [
        ("CREATE TABLE t(k INTEGER PRIMARY KEY, v)", "ok"),
        ("INSERT INTO t VALUES (1, 'a'), (2, 'b')", "ok changes=2"),
        ("BEGIN", "ok"),
        ("SAVEPOINT s", "ok"),
        ("UPDATE t SET v = 'c' WHERE k = 1", "ok changes=1"),
        ("RELEASE s", "ok"),
        ("DELETE FROM t WHERE k = 2", "ok changes=1"),
        ("ROLLBACK", "ok"),
        ("SAVEPOINT o", "ok"),
        ("REPLACE INTO t VALUES (3, 'c')", "ok changes=1"),
        ("RELEASE o", "ok"),
        ("DELETE FROM t WHERE k = 3", "ok changes=1"),
        ("CREATE INDEX i ON t(v)", "ok"),
        ("UPDATE t SET v = 'd' WHERE k = 2", "ok changes=1"),
        ("DROP INDEX i", "ok"),
        ("ALTER TABLE t ADD COLUMN w DEFAULT 0", "ok"),
        ("SELECT k FROM t ORDER BY k", "ok rows=2"),
        ("SELECT k FROM t WHERE k > 5", "ok"),
        ("INSERT INTO t VALUES (1, 'x', 0)", "SQLITE_CONSTRAINT_PRIMARYKEY"),
        ("SELECT * FROM missing", "SQLITE_ERROR"),
    ]

    /// Runs `script` through a runner into a fresh database and log at `directory`; returns the log's path.
    static func runScript(in directory: TemporaryDirectory) throws -> (log: String, results: [String], rows: [Int64]) {
        let path = directory.path("runner.sql")
        let log = try SQLLog(path: path)
        log.append(SQLLog.headerPrefix + "stress seed=0x0000000000000001 threads=1 tables=1")
        let connection = try Connection(path: directory.path("runner.db"))
        defer { connection.close() }
        let runner = StatementRunner(log: log, writer: "t0")
        var results: [String] = []
        var rows: [Int64] = []
        for (index, step) in script.enumerated() {
            let (outcome, line) = runner.execute(step.sql, on: connection, transaction: "x\(index + 1)") { rows.append($0.int64(0)) }
            #expect(line == index + 2)
            results.append(outcome.result)
        }
        log.close(sync: false)
        return (path, results, rows)
    }

    // The runner renders each result exactly as the script says, and writes
    // `<sql>; -- <writer> <transaction> <result>` lines, byte for byte.
    @Test func eachResultIsRenderedAndLoggedInTheLogsWords() throws {
        let directory = try TemporaryDirectory()
        let (log, results, rows) = try Self.runScript(in: directory)
        #expect(results == Self.script.map(\.result))
        #expect(rows == [1, 2])
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let expected = Self.script.enumerated().map { "\($1.sql); -- t0 x\($0 + 1) \($1.result)" }
        #expect(Array(lines.dropFirst().dropLast()) == expected.map { Substring($0) })
        #expect(lines.last == "")
    }

    // The replay renders a statement's result with the runner's own function, so
    // the log the runner wrote replays with every result as recorded, the
    // rollback's and the DDL's (no change count) included.
    @Test func replayRendersTheSameResults() throws {
        let directory = try TemporaryDirectory()
        let (log, _, _) = try Self.runScript(in: directory)
        let outcome = try Replay.run(logPath: log, databasePath: directory.path("replay.db"), overwrite: false)
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.statements == Self.script.count)
        #expect(outcome.timed == 0 && outcome.skipped == 0)
    }

    // The comparison can fail: a stale change count written on the ROLLBACK's
    // line is a difference at that line, replayed as the runner renders it.
    @Test func aStaleChangeCountIsADifference() throws {
        let directory = try TemporaryDirectory()
        let (log, _, _) = try Self.runScript(in: directory)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let rollback = "ROLLBACK; -- t0 x8 ok"
        #expect(text.contains(rollback + "\n"))
        try Data(text.replacingOccurrences(of: rollback + "\n", with: rollback + " changes=1\n").utf8)
            .write(to: URL(fileURLWithPath: log))
        let outcome = try Replay.run(logPath: log, databasePath: directory.path("replay.db"), overwrite: false)
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.line == 9)
        #expect(mismatch.sql == "ROLLBACK")
        #expect(mismatch.recorded == "ok changes=1")
        #expect(mismatch.replayed == "ok")
    }

    // Errors sort into what the run counts: contention, constraints, a full
    // disk and I/O are counted; schema trouble is the caller's to settle;
    // corruption is a violation; a missing journal is I/O trouble only under faults.
    @Test func errorsAreClassified() {
        func trouble(_ code: ResultCode, faults: Bool = false) -> StatementRunner.Trouble {
            StatementRunner.classify(SQLiteError(code: code, message: ""), faultsInjected: faults)
        }
        #expect(trouble(.busy) == .counted(.busyErrors))
        #expect(trouble(.locked) == .counted(.lockedErrors))
        #expect(trouble(.constraintUnique) == .counted(.constraintErrors))
        #expect(trouble(.full) == .counted(.fullErrors))
        #expect(trouble(.ioerr) == .counted(.ioErrors))
        #expect(trouble(.cantOpen, faults: true) == .counted(.ioErrors))
        #expect(trouble(.cantOpen) == .unexpected)
        #expect(trouble(.error) == .schema)
        #expect(trouble(.schema) == .schema)
        #expect(StatementRunner.classify(
            SQLiteError(code: .constraintTrigger, message: Bookkeeping.schemaChangedMessage), faultsInjected: false) == .schema)
        #expect(trouble(.constraintTrigger) == .counted(.constraintErrors))
        #expect(trouble(.corrupt) == .corruption)
        #expect(trouble(.notADatabase) == .corruption)
        #expect(trouble(.readonly) == .unexpected)
    }

    // A writer waits for its last acknowledgement's sync before any statement
    // that may commit: whatever may end a transaction, and in autocommit mode
    // everything but opening a transaction and the ledger's TEMP context update.
    @Test func statementsThatMayCommitAreKnown() {
        for sql in ["COMMIT", "END", "RELEASE transfer"] {
            #expect(StatementRunner.mayMakeDurable(sql, autocommit: false), "\(sql)")
            #expect(StatementRunner.mayMakeDurable(sql, autocommit: true), "\(sql)")
        }
        for sql in ["INSERT INTO t VALUES (1)", "DELETE FROM t", "VACUUM", "PRAGMA incremental_vacuum(8)",
                    "CREATE TABLE u (a)", "SELECT count(*) FROM t"] {
            #expect(StatementRunner.mayMakeDurable(sql, autocommit: true), "\(sql)")
            #expect(!StatementRunner.mayMakeDurable(sql, autocommit: false), "\(sql)")
        }
        let triggers = TrackedTable.accounts.triggerStatements + TrackedTable.dropTriggerStatements(ledgerName: "t0")
        for sql in ["BEGIN", "BEGIN IMMEDIATE", "SAVEPOINT ddl", Bookkeeping.contextStatement(tx: 42, cookie: 7)] + triggers {
            #expect(!StatementRunner.mayMakeDurable(sql, autocommit: true), "\(sql)")
        }
        for sql in Bookkeeping.contextStatements where !sql.hasPrefix("PRAGMA") {
            #expect(!StatementRunner.mayMakeDurable(sql, autocommit: true), "\(sql)")
        }
        // A trigger of the workload's own, in the main schema, is durable.
        #expect(StatementRunner.mayMakeDurable("CREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END", autocommit: true))
    }

    // A driver waits for the reservation of its ids before its first statement
    // that may commit a ledger entry: one that may commit anything, but a PRAGMA
    // or a SELECT (no trigger fires, no entry is written). The connection's
    // settings and the schema's read go on while the reservation is synced.
    @Test func statementsThatMayCommitLedgerEntriesAreKnown() {
        for sql in ["COMMIT", "RELEASE transfer"] {
            #expect(StatementRunner.mayCommitLedgerEntries(sql, autocommit: false), "\(sql)")
        }
        for sql in ["INSERT INTO t VALUES (1)", "DELETE FROM t", "UPDATE t SET v = 1", "WITH x AS (SELECT 1) DELETE FROM t",
                    "VACUUM", "CREATE TABLE u (a)"] {
            #expect(StatementRunner.mayCommitLedgerEntries(sql, autocommit: true), "\(sql)")
        }
        for sql in ["PRAGMA journal_mode = WAL", "PRAGMA incremental_vacuum(8)", "SELECT count(*) FROM t", Bookkeeping.schemaQuery,
                    "BEGIN IMMEDIATE", Bookkeeping.contextStatement(tx: 42, cookie: 7)] + Bookkeeping.contextStatements {
            #expect(!StatementRunner.mayCommitLedgerEntries(sql, autocommit: true), "\(sql)")
        }
        #expect(!StatementRunner.mayCommitLedgerEntries("INSERT INTO t VALUES (1)", autocommit: false))
    }

    // A statement that left the connection in autocommit mode may have made a
    // change durable unless it cannot: run in autocommit mode, as
    // `mayMakeDurable` says; run inside a transaction, anything but a ROLLBACK
    // (after which a transaction that SQLite ended on its own may have committed).
    @Test func statementsThatMayHaveMadeAChangeDurableAreKnown() {
        for sql in ["COMMIT", "RELEASE tx", "ALTER TABLE t DROP COLUMN c", "INSERT INTO t VALUES (1)"] {
            #expect(StatementRunner.mayHaveMadeDurable(sql, autocommit: false), "\(sql)")
        }
        #expect(!StatementRunner.mayHaveMadeDurable("ROLLBACK", autocommit: false))
        #expect(StatementRunner.mayHaveMadeDurable("ROLLBACK TO sp1", autocommit: false))
        for sql in ["INSERT INTO t VALUES (1)", "VACUUM", "COMMIT"] {
            #expect(StatementRunner.mayHaveMadeDurable(sql, autocommit: true), "\(sql)")
        }
        for sql in [Bookkeeping.contextStatement(tx: 42, cookie: 7)] + TrackedTable.accounts.triggerStatements {
            #expect(!StatementRunner.mayHaveMadeDurable(sql, autocommit: true), "\(sql)")
        }
    }

    // The log's buffer is written before a statement that may make a change
    // durable, and, with several writers, before a ROLLBACK too: the
    // transaction's lines reach the file while it holds its locks.
    @Test func theBufferIsWrittenBeforeACommitAndBeforeAnotherWritersChanceToCommit() throws {
        for soleWriter in [false, true] {
            #expect(StatementRunner.flushesBefore("COMMIT", autocommit: false, soleWriter: soleWriter))
            #expect(StatementRunner.flushesBefore("INSERT INTO t VALUES (1)", autocommit: true, soleWriter: soleWriter))
            #expect(!StatementRunner.flushesBefore("INSERT INTO t VALUES (1)", autocommit: false, soleWriter: soleWriter))
            #expect(!StatementRunner.flushesBefore("ROLLBACK TO sp1", autocommit: false, soleWriter: soleWriter))
            #expect(StatementRunner.flushesBefore("ROLLBACK", autocommit: false, soleWriter: soleWriter) == !soleWriter)
        }
        // Seen from the file: a ROLLBACK that fails to parse runs nothing and
        // leaves the transaction open, so what the file holds was written before it.
        for soleWriter in [false, true] {
            let directory = try TemporaryDirectory()
            let path = directory.path("rollback.sql")
            let log = try SQLLog(path: path, soleWriter: soleWriter)
            let connection = try Connection(path: directory.path("rollback.db"))
            defer { connection.close() }
            try connection.execute("CREATE TABLE t(k)")
            let runner = StatementRunner(log: log, writer: "t0")
            for sql in ["BEGIN", "INSERT INTO t VALUES (1)", "ROLLBACK NOW"] { _ = runner.execute(sql, on: connection, transaction: "x1") }
            #expect(!connection.isAutocommit, "the transaction is still open")
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines == (soleWriter ? [] : ["BEGIN; -- t0 x1 ok", "INSERT INTO t VALUES (1); -- t0 x1 ok changes=1"]), "one writer: \(soleWriter)")
        }
    }

    // What is in the file after each statement: with several writers, every
    // line of a statement that left no transaction open; with one, only up to
    // the last statement that may have made a change durable (the lines after
    // it wait for the next such statement, or the log's close).
    @Test func aSoleWriterDefersTheLinesOfStatementsThatMadeNothingDurable() throws {
        let script: [(sql: String, soleWriterFlushes: Bool)] = Bookkeeping.contextStatements.map { ($0, $0.hasPrefix("PRAGMA")) } + [
            ("CREATE TABLE t(k INTEGER PRIMARY KEY, v)", true),
            (Bookkeeping.contextStatement(tx: 1, cookie: 7), false),
            ("BEGIN", false),
            ("INSERT INTO t VALUES (1, 'a')", false),
            ("ROLLBACK", false),
            (TrackedTable.createTriggerPrefix + "g AFTER INSERT ON main.t BEGIN SELECT 1; END", false),
            (TrackedTable.dropTriggerPrefix + "g", false),
            ("INSERT INTO t VALUES (2, 'b')", true),
            ("BEGIN", false),
            ("DELETE FROM t", false),
            ("COMMIT", true),
        ]
        for soleWriter in [false, true] {
            let directory = try TemporaryDirectory()
            let path = directory.path("runner.sql")
            let log = try SQLLog(path: path, soleWriter: soleWriter)
            let connection = try Connection(path: directory.path("runner.db"))
            defer { connection.close() }
            let runner = StatementRunner(log: log, writer: "t0")
            var written = 0  // Lines the file must hold.
            for (index, step) in script.enumerated() {
                let (outcome, _) = runner.execute(step.sql, on: connection, transaction: "x1")
                #expect(outcome.error == nil, "\(step.sql): \(outcome.result)")
                if soleWriter ? step.soleWriterFlushes : connection.isAutocommit { written = index + 1 }
                let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
                #expect(lines == written, "after \(step.sql), one writer: \(soleWriter)")
            }
            log.close(sync: false)
            #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == script.count)
        }
    }

    // Only these statements end a transaction when they succeed; after any
    // other, a transaction that is gone was ended by SQLite on its own. A
    // RELEASE ends one only when it releases the savepoint that opened it
    // (SQLite: inside BEGIN, or of an inner savepoint, it ends nothing).
    @Test func statementsThatMayEndATransactionAreKnown() {
        for opener in [nil, "tx"] as [String?] {
            for sql in ["COMMIT", "END", "ROLLBACK"] {
                #expect(StatementRunner.mayEndTransaction(sql, openedBy: opener), "\(sql)")
            }
            for sql in ["ROLLBACK TO sp1", "SAVEPOINT sp1", "RELEASE sp1", "RELEASE transfer", "ALTER TABLE t DROP COLUMN c",
                        "SELECT 1", "INSERT INTO t VALUES (1)", Bookkeeping.contextStatement(tx: 42, cookie: 7)] {
                #expect(!StatementRunner.mayEndTransaction(sql, openedBy: opener), "\(sql)")
            }
        }
        #expect(!StatementRunner.mayEndTransaction("RELEASE tx", openedBy: nil))
        for sql in ["RELEASE tx", "RELEASE TX", "RELEASE SAVEPOINT tx", "RELEASE \"tx\""] {
            #expect(StatementRunner.mayEndTransaction(sql, openedBy: "tx"), "\(sql)")
        }
        #expect(StatementRunner.mayEndTransaction("RELEASE transfer", openedBy: "transfer"))
        #expect(StatementRunner.openedSavepoint("SAVEPOINT tx") == "tx")
        #expect(StatementRunner.openedSavepoint("SAVEPOINT transfer") == "transfer")
        #expect(StatementRunner.openedSavepoint("BEGIN IMMEDIATE") == nil)
    }

    // What the worker relies on, held against SQLite itself: after BEGIN or an
    // outer SAVEPOINT, releasing an inner savepoint leaves the transaction open;
    // releasing the savepoint that opened it (in any case) ends it.
    @Test func sqliteEndsATransactionAtTheReleasesSaid() throws {
        let directory = try TemporaryDirectory()
        let connection = try Connection(path: directory.path("sp.db"))
        defer { connection.close() }
        try connection.execute("CREATE TABLE t(a)")
        for (opener, inner, release) in [("BEGIN", "a", "RELEASE a"), ("SAVEPOINT tx", "sp1", "RELEASE sp1")] {
            try connection.execute(opener)
            try connection.execute("SAVEPOINT \(inner)")
            try connection.execute(release)
            let opened = StatementRunner.openedSavepoint(opener)
            #expect(!connection.isAutocommit, "\(opener) … \(release)")
            #expect(!StatementRunner.mayEndTransaction(release, openedBy: opened), "\(opener) … \(release)")
            try connection.execute("ROLLBACK")
        }
        try connection.execute("SAVEPOINT tx")
        try connection.execute("RELEASE TX")
        #expect(connection.isAutocommit)
        #expect(StatementRunner.mayEndTransaction("RELEASE TX", openedBy: StatementRunner.openedSavepoint("SAVEPOINT tx")))
    }
}
