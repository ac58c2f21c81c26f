import Foundation
import StressSQLite
import Testing

@testable import StressKit

/// Logs written by hand, each showing one way the log's order differs from the
/// run's, and one way a real difference shows; the replay must tell them apart.
@Suite struct ReplaySchedulingTests {
    /// Replays `lines` (after a log header and a one-table setup) into a fresh database.
    static func replay(_ lines: [String], window: Int = Replay.window, thenCutShort tail: String = "") throws -> Replay.Outcome {
        let directory = try TemporaryDirectory()
        let log = directory.path("hand.sql")
        let text = ([
            "-- sqlite-stress stress seed=0x0000000000000001 threads=2 iterations=1 check-every=0 tables=1 sqlite=test",
            "CREATE TABLE t(k INTEGER PRIMARY KEY, v); -- setup x0 ok",
        ] + lines).joined(separator: "\n") + "\n" + tail
        try Data(text.utf8).write(to: URL(fileURLWithPath: log))
        return try Replay.run(logPath: log, databasePath: directory.path("hand.db"), overwrite: false, window: window)
    }

    // A writer killed inside the write of its last line (a write of more than
    // a page can stop part-way) leaves the log ending in part of a line. That
    // is no line: the replay matches every line before it and says the log
    // ends in so many bytes of a line cut short. Read as a line, its result
    // ("ok chan") never matched, and this one-thread log gave a verdict.
    @Test func aLastLineCutShortIsNoLine() throws {
        let tail = "INSERT INTO t VALUES (2, 'b'); -- t0 x2 ok chan"
        let outcome = try Self.replay(["INSERT INTO t VALUES (1, 'a'); -- t0 x1 ok changes=1"], thenCutShort: tail)
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.statements == 2)
        #expect(outcome.unterminated == tail.utf8.count)
        #expect(outcome.exitStatus == 0)
        #expect(outcome.text.contains("note: the log ends in \(tail.utf8.count) bytes of a line whose write was cut short"))
    }

    // A commit logged after a statement that waited for it (the committing writer
    // was held up before writing its line): the waiting statement runs once the
    // commit has, and every result matches.
    @Test func aStatementWaitsForACommitLoggedAfterIt() throws {
        let outcome = try Self.replay([
            "BEGIN IMMEDIATE; -- a x1 ok",
            "INSERT INTO t VALUES (1, 'a'); -- a x1 ok changes=1",
            "INSERT INTO t VALUES (2, 'b'); -- b x1 ok changes=1",
            "COMMIT; -- a x1 ok",
            "INSERT OR IGNORE INTO t VALUES (1, 'b'); -- b x2 ok changes=0",
            "SELECT * FROM t; -- b x3 ok rows=2",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.deferred >= 1)
        #expect(outcome.statements == 7)  // The setup's CREATE TABLE too.
    }

    // An autocommit write logged before one that ran first: its result (no
    // change, the key being taken) holds once the other has run.
    @Test func aResultWaitsForAWriteLoggedAfterIt() throws {
        let outcome = try Self.replay([
            "INSERT OR IGNORE INTO t VALUES (1, 'b'); -- b x1 ok changes=0",
            "INSERT INTO t VALUES (1, 'a'); -- a x1 ok changes=1",
            "SELECT * FROM t WHERE v = 'a'; -- b x2 ok rows=1",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.deferred == 1)
    }

    // A result that no other writer's statement explains is a difference,
    // reported at its own line with both results.
    @Test func anUnexplainedResultIsReported() throws {
        let outcome = try Self.replay([
            "INSERT OR IGNORE INTO t VALUES (1, 'b'); -- b x1 ok changes=0",
            "INSERT INTO t VALUES (2, 'a'); -- a x1 ok changes=1",
            "INSERT INTO t VALUES (3, 'a'); -- a x2 ok changes=1",
        ])
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.line == 3)
        #expect(mismatch.writer == "b")
        #expect(mismatch.recorded == "ok changes=0")
        #expect(mismatch.replayed == "ok changes=1")
    }

    // The same difference is reported once it has waited `window` lines, before the log ends.
    @Test func anUnexplainedResultIsReportedAfterTheWindow() throws {
        let filler = (0..<20).map { "INSERT INTO t VALUES (\(100 + $0), 'a'); -- a x\($0 + 1) ok changes=1" }
        let outcome = try Self.replay(["INSERT OR IGNORE INTO t VALUES (1, 'b'); -- b x1 ok changes=0"] + filler, window: 5)
        let mismatch = try #require(outcome.mismatch)
        #expect(mismatch.line == 3)
        #expect(outcome.statements < 20, "the replay went on to the end: \(outcome.text)")
    }

    // A writer whose result differs runs its transaction again, to see whether
    // another writer's work explains it, and can then meet a lock on the way
    // (here b's transaction, whose lines stop). The difference it met first
    // is the one reported, not the lock its run again stayed behind.
    @Test func aDifferenceRunAgainBehindALockIsReportedAsTheDifference() throws {
        let filler = (0..<8).map { "SELECT \($0); -- c x\($0 + 1) ok rows=1" }
        let outcome = try Self.replay([
            "BEGIN IMMEDIATE; -- a x1 ok",
            "DELETE FROM t WHERE k = 9; -- a x1 ok changes=1",
            "BEGIN IMMEDIATE; -- b x1 ok",
            "INSERT INTO t VALUES (1, 'b'); -- b x1 ok changes=1",
        ] + filler, window: 4)
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.line == 4)
        #expect(mismatch.writer == "a")
        #expect(mismatch.sql == "DELETE FROM t WHERE k = 9")
        #expect(mismatch.recorded == "ok changes=1")
        #expect(mismatch.replayed == "ok changes=0")
    }

    // A statement that met SQLITE_BUSY in the run had no effect there and is
    // not re-executed (here it would succeed and change what follows).
    @Test func contentionInTheRunIsNotReplayed() throws {
        let outcome = try Self.replay([
            "INSERT INTO t VALUES (1, 'a'); -- a x1 SQLITE_BUSY",
            "SELECT * FROM t; -- b x1 ok",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.skipped == 1)
    }

    // A writer killed mid-transaction holds its lock in the replay until the
    // replay concludes it vanished; its writes are rolled back, as SQLite did.
    @Test func aVanishedWritersTransactionIsRolledBack() throws {
        let outcome = try Self.replay([
            "BEGIN IMMEDIATE; -- k x1 ok",
            "INSERT INTO t VALUES (5, 'k'); -- k x1 ok changes=1",
            "INSERT INTO t VALUES (6, 'b'); -- b x1 ok changes=1",
            "SELECT * FROM t; -- b x2 ok rows=1",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.abandoned == 1)
    }

    // The log says when SQLite ended a transaction itself; the replay follows.
    @Test func aTransactionSQLiteEndedIsEndedInTheReplay() throws {
        let outcome = try Self.replay([
            "BEGIN; -- a x1 ok",
            "INSERT INTO t VALUES (1, 'a'); -- a x1 SQLITE_BUSY",
            "-- a x1 rolled back by SQLite",
            "BEGIN; -- a x2 ok",
            "INSERT INTO t VALUES (2, 'a'); -- a x2 ok changes=1",
            "COMMIT; -- a x2 ok",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
    }

    // A writer killed inside its COMMIT after the commit took effect leaves
    // its commit record in the log and no COMMIT line. The run's database says
    // whether it committed: here a compaction removed its ledger entries, and
    // only the record of compacted transactions still holds it. The replay
    // commits it, and the reader after it sees its row; without the bit it is
    // rolled back, and the same log is a difference.
    @Test(arguments: [true, false])
    func aWriterKilledInsideCommitIsCommittedAsTheRecordOfCompactedTransactionsSays(recorded: Bool) throws {
        let tx = TransactionID.make(base: 300, number: 1)
        let outcome = try Self.replayBesideItsDatabase([
            "BEGIN IMMEDIATE; -- d300 x1 ok",
            "INSERT INTO t VALUES (5, 'k'); -- d300 x1 ok changes=1",
            "\(Bookkeeping.commitRecordStatement(tx: tx)); -- d300 x1 ok changes=1",
            "SELECT * FROM t; -- d301 x1 ok rows=1",
        ]) { run in
            if recorded { try run.execute("INSERT INTO stress_compacted (block, bits) VALUES (\(tx >> 5), \(1 << (tx & 31)))") }
        }
        #expect(outcome.commitOrder)
        if recorded {
            #expect(outcome.mismatch == nil, "\(outcome.text)")
            #expect(outcome.finished == 1)
        } else {
            let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
            #expect(mismatch.line == 7)
            #expect(mismatch.replayed == "ok")
            #expect(outcome.abandoned == 1)
            #expect(outcome.vanished.isEmpty && outcome.exitStatus == 1, "its end is known, and the database knows its fate")
        }
    }

    /// A compaction's order line as a test's log holds it.
    enum OrderLine: CaseIterable { case logged, missing, swapped }

    // A compaction removes the ledger entries that placed its transactions in
    // the run's commit order, and logs their places first (its order line).
    // Here d300's second write committed after d301's, though its line came
    // first (d300 was held up before writing it), and a compaction then removed
    // all three transactions' entries. With the order line the replay commits
    // them in the run's order, and the read after them matches. Without it (a
    // log of an earlier version) they commit in the log's order, and the same
    // read differs: no verdict, the compaction named as the reason. With the
    // two places swapped behind the replay's back, it follows the line it was
    // given, and the read differs with nothing to excuse it: a verdict.
    @Test(arguments: OrderLine.allCases)
    func aCompactionsOrderLineKeepsThePlacesOfTheTransactionsItRemoved(_ kind: OrderLine) throws {
        let (first, second, other) = (
            TransactionID.make(base: 300, number: 1), TransactionID.make(base: 300, number: 2), TransactionID.make(base: 301, number: 1)
        )
        // In the run: d300 x1, then d301 x1, then d300 x2.
        let inTheRun: [Compaction.Place] = [(first, 1), (other, 2), (second, 3)]
        let swapped: [Compaction.Place] = [(first, 1), (second, 2), (other, 3)]
        let places = kind == .swapped ? swapped : inTheRun
        let order = Compaction.orderLine(writer: "d302", transaction: "compact", places: places)
        let outcome = try Self.replayBesideItsDatabase([
            "CREATE TABLE stress_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID; -- setup x0 ok",
            "INSERT INTO stress_meta (key, value) VALUES ('compacted_through', 0); -- setup x0 ok changes=1",
            "INSERT INTO t VALUES (1, 'x'); -- d300 x1 ok changes=1",
            "UPDATE t SET v = 'a' WHERE k = 1; -- d300 x2 ok changes=1",
            "UPDATE t SET v = 'b' WHERE k = 1; -- d301 x1 ok changes=1",
        ] + (kind == .missing ? [] : [order]) + [
            "-- d300 x2 disconnect",
            "-- d301 x1 disconnect",
            "\(Compaction.markStatement); -- d302 compact ok changes=1",
            "SELECT * FROM t WHERE v = 'a'; -- d302 x1 ok rows=1",
        ]) { run in
            try run.execute("UPDATE stress_meta SET value = 3 WHERE key = '\(Compaction.markKey)'")
        }
        #expect(outcome.commitOrder)
        #expect(outcome.orderCompacted == (kind == .missing))
        switch kind {
        case .logged:
            #expect(outcome.mismatch == nil, "\(outcome.text)")
            #expect(outcome.exitStatus == 0)
        case .missing, .swapped:
            let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
            #expect(mismatch.sql == "SELECT * FROM t WHERE v = 'a'")
            #expect(mismatch.replayed == "ok")
            if kind == .missing {
                #expect(outcome.exitStatus == 2)
                #expect(outcome.text.contains("result: NO VERDICT — the run compacted its ledger"), "\(outcome.text)")
            } else {
                #expect(outcome.exitStatus == 1, "\(outcome.text)")
                #expect(!outcome.text.contains("NO VERDICT"), "\(outcome.text)")
            }
        }
    }

    // A writer killed inside a COMMIT that took effect, as the run's ledger
    // says, whose COMMIT the replay cannot run when the kill's line comes: in
    // a rollback journal, another writer's read transaction holds the
    // database (its COMMIT line comes after the kill's). The replay rolls it
    // back and goes on without a commit the run had, so the difference at
    // d301's DELETE of that row gives no verdict (the writer counts as
    // vanished), where it was once taken for SQLite's. Without the reader the
    // COMMIT runs, and the same DELETE matches.
    @Test(arguments: [true, false])
    func aCommitTheRunHadButTheReplayCannotRunLeavesItsWriterVanished(readerHoldsTheDatabase: Bool) throws {
        let tx = TransactionID.make(base: 300, number: 1)
        let outcome = try Self.replayBesideItsDatabase([
            "-- d300 connect command run-4242",
            "BEGIN IMMEDIATE; -- d300 x1 ok",
            "INSERT INTO t VALUES (2, 'k'); -- d300 x1 ok changes=1",
            "\(Bookkeeping.commitRecordStatement(tx: tx)); -- d300 x1 ok changes=1",
        ] + (readerHoldsTheDatabase ? ["BEGIN; -- d302 x1 ok", "SELECT * FROM t WHERE k = 1; -- d302 x1 ok"] : []) + [
            SQLLog.killedLine(command: "run-4242"),
        ] + (readerHoldsTheDatabase ? ["COMMIT; -- d302 x1 ok", "-- d302 x1 disconnect"] : []) + [
            "DELETE FROM t WHERE k = 2; -- d301 x1 ok changes=1",
            "-- d301 x1 disconnect",
        ]) { run in
            try run.execute("INSERT INTO stress_ledger (seq, tx, tbl, key, image) VALUES (1, \(tx), 't', 2, '2,''k'''), "
                + "(2, \(tx), '', NULL, NULL)")
        }
        #expect(outcome.commitOrder)
        if readerHoldsTheDatabase {
            let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
            #expect(mismatch.writer == "d301")
            #expect(mismatch.replayed == "ok changes=0")
            #expect(outcome.abandoned == 1)
            #expect(outcome.vanished == ["d300"])
            #expect(outcome.exitStatus == 2)
        } else {
            #expect(outcome.mismatch == nil, "\(outcome.text)")
            #expect(outcome.finished == 1)
            #expect(outcome.exitStatus == 0)
        }
    }

    /// Replays `lines` (after a log header and the setup's table and ledger)
    /// beside a run database of the log's seed, which `prepare` may change.
    static func replayBesideItsDatabase(
        _ lines: [String], window: Int = Replay.window, prepare: (Connection) throws -> Void = { _ in }
    ) throws -> Replay.Outcome {
        let directory = try TemporaryDirectory()
        let run = try Connection(path: directory.path("run.db"))
        try run.execute("PRAGMA application_id = \(DatabaseFile.applicationID)")
        for sql in Bookkeeping.creationStatements { try run.execute(sql) }
        try run.execute("INSERT INTO stress_meta (key, value) VALUES ('seed', '0x0000000000000001')")
        try prepare(run)
        run.close()
        let log = directory.path("run.db.sql")
        let text = ([
            "-- sqlite-stress stress seed=0x0000000000000001 threads=2 iterations=1 check-every=0 tables=1 sqlite=test",
            "CREATE TABLE t(k INTEGER PRIMARY KEY, v); -- setup x0 ok",
            "CREATE TABLE stress_ledger (seq INTEGER PRIMARY KEY, tx INTEGER NOT NULL, tbl TEXT NOT NULL, key, image TEXT); -- setup x0 ok",
        ] + lines).joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: log))
        return try Replay.run(logPath: log, databasePath: directory.path("replay.db"), overwrite: false, window: window)
    }

    // The run's database beside the log, whose ledger cannot be read (its root
    // page overwritten): no commit order, and the replay says that it cannot
    // read it and why, never that the database is not there, nor takes the
    // failed read for an empty ledger. With several writers a difference then
    // gives no verdict, as without the database.
    @Test func aRunDatabaseWhoseLedgerCannotBeReadIsNamedAsSuch() throws {
        let outcome = try Self.replayBesideItsDatabase([
            "INSERT INTO t VALUES (1, 'a'); -- d300 x1 ok changes=1",
            "-- d300 x1 disconnect",
            "DELETE FROM t WHERE k = 2; -- d301 x1 ok changes=1",
        ]) { run in
            guard case .integer(let root)? = try run.scalar("SELECT rootpage FROM sqlite_schema WHERE name = 'stress_ledger'"),
                  case .integer(let pageSize)? = try run.scalar("PRAGMA page_size")
            else { throw ToolError("no ledger") }
            let garbage = [UInt8](repeating: 0xA5, count: Int(pageSize))
            let fd = open(run.path, O_WRONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            try #require(pwrite(fd, garbage, garbage.count, off_t((root - 1) * pageSize)) == garbage.count)
            #expect(throws: ToolError.self) { try CommitOrder(database: run.path, seed: "0x0000000000000001", logs: []) }
        }
        #expect(!outcome.commitOrder)
        let reason = try #require(outcome.orderUnreadable)
        #expect(reason.contains("SQLITE_CORRUPT"), "\(reason)")
        #expect(outcome.mismatch?.line == 6)
        #expect(outcome.exitStatus == 2)
        #expect(outcome.text.contains("result: NO VERDICT — the run's database beside the log cannot be read (\(reason)), "
            + "so with several writers commits follow the log's order here"), "\(outcome.text)")
        #expect(!outcome.text.contains("not beside the log"))
    }

    // A driver killed inside a transaction: SQLite ended its transaction when
    // its process died. With compose's line saying its command was
    // killed, the replay ends it there, and the writer that met its lock runs
    // at once; without that line the replay can only learn it from a wait
    // that never ends (here, the end of the log), and runs the others late.
    // Both replay with every result as recorded. A reconnect of the driver
    // before its transaction is no end of it: the kill still ends it.
    @Test(arguments: [(true, false), (false, false), (true, true)])
    func aKilledWritersTransactionEndsWhereTheKillIsLogged(logged: Bool, reconnected: Bool) throws {
        let outcome = try Self.replay([
            "-- d300 connect command run-4242",
        ] + (reconnected ? ["-- d300 x0 reconnect"] : []) + [
            "BEGIN IMMEDIATE; -- d300 x1 ok",
            "INSERT INTO t VALUES (5, 'k'); -- d300 x1 ok changes=1",
        ] + (logged ? [SQLLog.killedLine(command: "run-4242")] : []) + [
            "INSERT INTO t VALUES (6, 'm'); -- d301 x1 ok changes=1",
            "SELECT * FROM t; -- d302 x1 ok rows=1",
            "-- d301 x1 disconnect",
            "-- d302 x1 disconnect",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.abandoned == 1, "d300's transaction rolled back")
        #expect(outcome.deferred == (logged ? 0 : 1), "\(outcome.text)")
    }

    // A driver killed after an autocommit write took effect and before its line
    // was written: the run's ledger places that transaction (d300 x1, before
    // d301 x1), and no line of the log ever runs it. Once compose's line says
    // d300's command was killed, the replay drops that place and d301
    // commits in turn; without that line, d301's COMMIT waits for it to the end
    // of the log, and the replay stops there with no verdict.
    @Test(arguments: [true, false])
    func aCommitTheLedgerPlacesButAKilledDriverNeverLoggedIsNotWaitedFor(logged: Bool) throws {
        let outcome = try Self.replayBesideItsDatabase([
            "-- d300 connect command run-4242",
        ] + (logged ? [SQLLog.killedLine(command: "run-4242")] : []) + [
            "BEGIN; -- d301 x1 ok",
            "INSERT INTO t VALUES (6, 'm'); -- d301 x1 ok changes=1",
            "COMMIT; -- d301 x1 ok",
            "-- d301 x1 disconnect",
        ]) { run in
            let (d300, d301) = (TransactionID.make(base: 300, number: 1), TransactionID.make(base: 301, number: 1))
            try run.execute("INSERT INTO stress_ledger (seq, tx, tbl, key, image) VALUES (1, \(d300), 't', 5, '5,''k'''), "
                + "(2, \(d301), 't', 6, '6,''m''')")
        }
        #expect(outcome.commitOrder)
        if logged {
            #expect(outcome.mismatch == nil, "\(outcome.text)")
            #expect(outcome.exitStatus == 0)
        } else {
            let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
            #expect(mismatch.sql == "COMMIT")
            #expect(mismatch.replayed.hasPrefix("not run: the run committed other transactions before this one"))
            #expect(outcome.vanished == ["d300"])
            #expect(outcome.exitStatus == 2)
        }
    }

    // A compaction of an earlier version of sqlite-stress wrote no commit
    // record. A driver killed after such a compaction's last statement may
    // have committed it, and the run's database cannot say so: the replay
    // rolls it back and counts the writer as vanished, so a difference after
    // it gives no verdict. Killed before that statement, the compaction surely
    // did not commit (its COMMIT comes after it), and a difference after it is
    // one.
    @Test(arguments: [true, false])
    func aCompactionKilledAfterItsLastStatementLeavesItsFateOpen(reachedItsLastStatement: Bool) throws {
        let outcome = try Self.replayBesideItsDatabase([
            "CREATE TABLE stress_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID; -- setup x0 ok",
            "INSERT INTO stress_meta (key, value) VALUES ('compacted_through', 0); -- setup x0 ok changes=1",
            "-- d300 connect command run-4242",
            "BEGIN IMMEDIATE; -- d300 compact ok",
            "DELETE FROM main.stress_ledger WHERE seq < 0; -- d300 compact ok changes=0",
        ] + (reachedItsLastStatement ? [Compaction.markStatement + "; -- d300 compact ok changes=1"] : []) + [
            SQLLog.killedLine(command: "run-4242"),
            "DELETE FROM t WHERE k = 2; -- d301 x1 ok changes=1",
        ])
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.writer == "d301")
        #expect(mismatch.replayed == "ok changes=0")
        #expect(outcome.abandoned == 1)
        #expect(outcome.vanished == (reachedItsLastStatement ? ["d300"] : []))
        #expect(outcome.exitStatus == (reachedItsLastStatement ? 2 : 1))
    }

    // A compaction is a transaction of its writer's, with a commit record
    // last. A driver killed after it leaves no COMMIT line, and the run's
    // database says whether the compaction committed: with its commit record
    // in the run's ledger the replay commits it, and the writer after it
    // finds that record; without, it rolls it back, and the same write is a
    // difference with nothing to excuse it (the compaction's fate is known).
    @Test(arguments: [true, false])
    func aCompactionKilledAfterItsCommitRecordIsCommittedAsTheRunsDatabaseSays(committedInTheRun: Bool) throws {
        let tx = TransactionID.make(base: 300, number: 1)
        let record = Bookkeeping.commitRecordStatement(tx: tx)
        let outcome = try Self.replayBesideItsDatabase([
            "CREATE TABLE stress_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID; -- setup x0 ok",
            "INSERT INTO stress_meta (key, value) VALUES ('compacted_through', 0); -- setup x0 ok changes=1",
            "-- d300 connect command run-4242",
            "BEGIN IMMEDIATE; -- d300 x1 ok",
            "DELETE FROM main.stress_ledger WHERE seq < 0; -- d300 x1 ok changes=0",
            Compaction.markStatement + "; -- d300 x1 ok changes=1",
            "\(record); -- d300 x1 ok changes=1",
            SQLLog.killedLine(command: "run-4242"),
            "UPDATE stress_ledger SET image = 'x' WHERE tx = \(tx); -- d301 x1 ok changes=1",
        ]) { run in
            if committedInTheRun { try run.execute(record) }
        }
        #expect(outcome.commitOrder)
        #expect(outcome.vanished.isEmpty, "its end is known: \(outcome.text)")
        if committedInTheRun {
            #expect(outcome.mismatch == nil, "\(outcome.text)")
            #expect(outcome.finished == 1)
            #expect(outcome.exitStatus == 0)
        } else {
            let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
            #expect(mismatch.writer == "d301")
            #expect(mismatch.replayed == "ok changes=0")
            #expect(outcome.abandoned == 1)
            #expect(outcome.exitStatus == 1)
        }
    }

    // The kill of another command ends nothing: d300 holds its lock until
    // its COMMIT, and the writer behind it waits for that.
    @Test func aKillOfAnotherCommandEndsNothing() throws {
        let outcome = try Self.replay([
            "-- d300 connect command run-4242",
            "BEGIN IMMEDIATE; -- d300 x1 ok",
            "INSERT INTO t VALUES (5, 'k'); -- d300 x1 ok changes=1",
            SQLLog.killedLine(command: "run-4243"),
            "INSERT INTO t VALUES (6, 'm'); -- d301 x1 ok changes=1",
            "COMMIT; -- d300 x1 ok",
            "SELECT * FROM t; -- d302 x1 ok rows=2",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.abandoned == 0)
        #expect(outcome.deferred == 1)
    }

    // The monolith's threads die together with their process, and each writes
    // a disconnect at its end. A thread killed between statements can take
    // the line of an autocommit write whose effect landed (here t0's INSERT of
    // the row t1 deletes) while another thread logs on until the process
    // dies: a log that ends with t0 between statements and no later line of
    // its own gives no verdict, t0 named. Where t0 logs again after the
    // difference, it was not killed there, and the difference is one.
    @Test(arguments: [true, false])
    func aThreadOfAKilledMonolithVanishesWhenNoLaterLineIsItsOwn(killed: Bool) throws {
        let outcome = try Self.replayBesideItsDatabase([
            "INSERT INTO t VALUES (1, 'a'); -- t0 x1 ok changes=1",
            "DELETE FROM t WHERE k = 2; -- t1 x1 ok changes=1",
        ] + (killed ? [] : ["INSERT INTO t VALUES (3, 'c'); -- t0 x2 ok changes=1", "-- t0 x2 disconnect"]))
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.writer == "t1")
        #expect(mismatch.replayed == "ok changes=0")
        #expect(outcome.vanished == (killed ? ["t0"] : []))
        #expect(outcome.exitStatus == (killed ? 2 : 1))
    }

    // A writer held up between its COMMIT's effect and its line for longer than
    // the window, while another writer waits for its lock: the replay takes it
    // for vanished and ends its transaction (committed, as the run's ledger
    // says). When its COMMIT line comes after all, the replay's writer has no
    // transaction left to commit: that difference is the replay's guess, not
    // SQLite's, and gives no verdict, naming the writer. (It was a verdict.)
    @Test func aWriterTakenForVanishedThatLogsAgainGivesNoVerdict() throws {
        let tx = TransactionID.make(base: 300, number: 1)
        let outcome = try Self.replayBesideItsDatabase([
            "BEGIN IMMEDIATE; -- d300 x1 ok",
            "INSERT INTO t VALUES (5, 'k'); -- d300 x1 ok changes=1",
            "\(Bookkeeping.commitRecordStatement(tx: tx)); -- d300 x1 ok changes=1",
            "INSERT INTO t VALUES (6, 'm'); -- d301 x1 ok changes=1",
            "SELECT 1; -- d302 x1 ok rows=1",
            "SELECT 2; -- d302 x2 ok rows=1",
            "SELECT 3; -- d302 x3 ok rows=1",
            "SELECT 4; -- d302 x4 ok rows=1",
            "COMMIT; -- d300 x1 ok",
            "-- d300 x1 disconnect",
            "-- d301 x1 disconnect",
            "-- d302 x4 disconnect",
        ], window: 2) { run in
            let d301 = TransactionID.make(base: 301, number: 1)
            try run.execute("INSERT INTO stress_ledger (seq, tx, tbl, key, image) VALUES (1, \(tx), 't', 5, '5,''k'''), "
                + "(2, \(tx), '', NULL, NULL), (3, \(d301), 't', 6, '6,''m''')")
        }
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.writer == "d300")
        #expect(mismatch.sql == "COMMIT")
        #expect(outcome.resumed == ["d300"])
        #expect(outcome.exitStatus == 2)
        #expect(outcome.text.contains("result: NO VERDICT — 1 writer (d300) that the replay took for vanished logged again"), "\(outcome.text)")
    }

    // A writer killed inside a COMMIT that took effect, whose transaction the
    // run's ledger places after another writer's autocommit UPDATE, logged
    // later (its writer was held up before its line): the replay commits the
    // killed one when the kill's line comes, before the UPDATE's turn, so the
    // UPDATE then finds the row gone. That difference is the replay's order,
    // not SQLite's: no verdict, the killed writer named. Where the run's order
    // has the killed writer first (its DELETE before the UPDATE, which then
    // changed nothing), the same log replays as recorded.
    @Test(arguments: [true, false])
    func aKilledWritersCommitBeforeItsTurnLeavesItsWriterVanished(updateFirstInTheRun: Bool) throws {
        let (d300, d301) = (TransactionID.make(base: 300, number: 1), TransactionID.make(base: 301, number: 1))
        let outcome = try Self.replayBesideItsDatabase([
            "INSERT INTO t VALUES (2, 'a'); -- setup x0 ok changes=1",
            "-- d300 connect command run-4242",
            "BEGIN IMMEDIATE; -- d300 x1 ok",
            "DELETE FROM t WHERE k = 2; -- d300 x1 ok changes=1",
            "\(Bookkeeping.commitRecordStatement(tx: d300)); -- d300 x1 ok changes=1",
            "UPDATE t SET v = 'c' WHERE k = 2; -- d301 x1 ok changes=\(updateFirstInTheRun ? 1 : 0)",
            SQLLog.killedLine(command: "run-4242"),
            "-- d301 x1 disconnect",
        ]) { run in
            let (first, second) = updateFirstInTheRun ? (2, 3) : (1, 2)
            let update = updateFirstInTheRun ? "(1, \(d301), 't', 2, '2,''c'''), " : ""
            try run.execute("INSERT INTO stress_ledger (seq, tx, tbl, key, image) VALUES \(update)"
                + "(\(first), \(d300), 't', 2, NULL), (\(second), \(d300), '', NULL, NULL)")
        }
        #expect(outcome.commitOrder)
        #expect(outcome.finished == 1)
        if updateFirstInTheRun {
            let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
            #expect(mismatch.writer == "d301")
            #expect(mismatch.replayed == "ok changes=0")
            #expect(outcome.vanished == ["d300"])
            #expect(outcome.exitStatus == 2)
        } else {
            #expect(outcome.mismatch == nil, "\(outcome.text)")
        }
    }

    /// How a driver's lines end in `aDifferenceAfterAWriterVanishedBetweenStatementsGivesNoVerdict`.
    enum LastLine: String, CaseIterable, Sendable { case statement, reconnect, disconnect }

    // A driver killed between statements can lose the line of a statement
    // whose effect landed (here an autocommit INSERT of the row another writer deletes):
    // a difference after a writer vanished that way gives no verdict, and so
    // does one after a writer whose last line is a reconnect, since its lines
    // go on after one. The same log with the writer's disconnect, its end, is a
    // difference.
    @Test(arguments: LastLine.allCases)
    func aDifferenceAfterAWriterVanishedBetweenStatementsGivesNoVerdict(_ last: LastLine) throws {
        let outcome = try Self.replayBesideItsDatabase([
            "INSERT INTO t VALUES (1, 'a'); -- d300 x1 ok changes=1",
        ] + (last == .statement ? [] : ["-- d300 x1 \(last.rawValue)"]) + [
            "DELETE FROM t WHERE k = 2; -- d301 x1 ok changes=1",
        ])
        #expect(outcome.commitOrder)
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.writer == "d301")
        #expect(mismatch.replayed == "ok changes=0")
        let ended = last == .disconnect
        #expect(outcome.vanished == (ended ? [] : ["d300"]))
        #expect(outcome.exitStatus == (ended ? 1 : 2))
        #expect(outcome.text.contains("result: NO VERDICT — 1 writer (d300) vanished between statements") == !ended)
    }

    /// The lines of a writer's connection that guard its writes to `t` as the
    /// ledger triggers do (their context table, and their first statement):
    /// a write goes through only while the database's schema cookie is the one
    /// its last context statement named.
    static func guarded(_ writer: String) -> [String] {
        Bookkeeping.contextTableStatements.map { "\($0); -- \(writer) connect ok" + (StatementRunner.isDML($0) ? " changes=1" : "") }
            + ["CREATE TEMP TRIGGER guard AFTER INSERT ON main.t BEGIN \(TrackedTable.schemaGuard)END; -- \(writer) connect ok"]
    }

    /// A writer's read of the schema cookie, then its context statement for
    /// transaction `number` naming `cookie`, the one the run read.
    static func paired(_ writer: String, _ number: Int64, cookie: Int64) -> [String] {
        [
            "\(Bookkeeping.cookieQuery); -- \(writer) x\(number) ok rows=1",
            "\(Bookkeeping.contextStatement(tx: number, cookie: cookie)); -- \(writer) x\(number) ok changes=1",
        ]
    }

    // A driver killed after its autocommit VACUUM took effect and before its
    // line was written moved the run's schema cookie (1 after the setup, 2
    // after the VACUUM) and not the replay's. Two reads of the cookie, each
    // paired with the context statement after it, show the lag; the replay
    // then moves its own cookie on by it, every writer's guarded writes go
    // through as in the run, and the guard stops what it stopped there: b's
    // write after a's CREATE TABLE. A log that says that write went through is
    // a difference.
    @Test(arguments: [false, true])
    func aVacuumWhoseLineAKillTookMovesTheReplaysCookieOn(planted: Bool) throws {
        let outcome = try Self.replay(Self.guarded("a") + Self.guarded("b") + Self.paired("a", 1, cookie: 2) + Self.paired("a", 2, cookie: 2) + [
            "INSERT INTO t VALUES (1, 'a'); -- a x2 ok changes=1",
            "\(Bookkeeping.contextStatement(tx: 3, cookie: 2)); -- b x1 ok changes=1",
            "INSERT INTO t VALUES (2, 'b'); -- b x1 ok changes=1",
            "CREATE TABLE u (k); -- a x3 ok",
            "INSERT INTO t VALUES (3, 'b'); -- b x2 " + (planted ? "ok changes=1" : "SQLITE_CONSTRAINT_TRIGGER"),
            "SELECT * FROM t; -- a x4 ok rows=2",
        ], window: 4)
        if planted {
            let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
            #expect(mismatch.line == 17)
            #expect(mismatch.writer == "b")
            #expect(mismatch.replayed == "SQLITE_CONSTRAINT_TRIGGER")
        } else {
            #expect(outcome.mismatch == nil, "\(outcome.text)")
            #expect(outcome.statements == 17)  // The setup's CREATE TABLE too; the trigger's refusal is a result as recorded.
        }
        #expect(outcome.cookieMoves == 1)
        #expect(outcome.text.contains("the schema cookie moved on 1 time where the run's moved without a line"), "\(outcome.text)")
    }

    /// Two pairs of `reader`'s that read the cookie as 2 (the set-up's two
    /// tables) where the run read 3, then `vacuum`'s VACUUM line, held up
    /// (its VACUUM made the run's cookie 3 before those reads), then
    /// `writer`'s guarded write under cookie 3.
    static func heldUpVacuum(reader: String, writer: String, vacuum: String) -> [String] {
        Self.guarded(reader) + Self.guarded(writer) + Self.paired(reader, 1, cookie: 3) + Self.paired(reader, 2, cookie: 3) + [
            "VACUUM; -- \(vacuum) x1 ok",
            "\(Bookkeeping.contextStatement(tx: 3, cookie: 3)); -- \(writer) x1 ok changes=1",
            "INSERT INTO t VALUES (2, 'b'); -- \(writer) x1 ok changes=1",
        ]
    }

    // The same reads, where the VACUUM's line was held up, not lost: it comes
    // after the two pairs, once the replay has moved its cookie on, and moves
    // it once more, so the guard stops b's write that went through in the
    // run. Beside the run's database, with no writer vanished, that
    // difference is the cookie's guess, not SQLite's: no verdict.
    @Test func aVacuumLineHeldUpAfterTheCookieMovedOnGivesNoVerdict() throws {
        let outcome = try Self.replayBesideItsDatabase(Self.heldUpVacuum(reader: "a", writer: "b", vacuum: "c"), window: 4)
        #expect(outcome.commitOrder)
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.writer == "b")
        #expect(mismatch.replayed == "SQLITE_CONSTRAINT_TRIGGER")
        #expect(outcome.cookieMoves == 1)
        #expect(outcome.vanished.isEmpty)
        #expect(outcome.guardAfterCookieMove)
        #expect(outcome.exitStatus == 2)
        #expect(outcome.text.contains("result: NO VERDICT — the replay moved its schema cookie on"), "\(outcome.text)")
    }

    // The same held-up VACUUM line in a log of one `stress`'s threads: they
    // end together, so no line of theirs was lost while others went on, and
    // the replay never takes a lag among them for a VACUUM a kill took. Its
    // cookie stays as it is until the VACUUM's line moves it, and t1's write
    // goes through as in the run: exact, where moving the cookie on gave no
    // verdict (seed 11 of a four-thread `stress`).
    @Test func aLagAmongThreadsIsAVacuumLineHeldUp() throws {
        let outcome = try Self.replayBesideItsDatabase(Self.heldUpVacuum(reader: "t0", writer: "t1", vacuum: "t2"), window: 4)
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.cookieMoves == 0)
    }

    /// Who changed the schema around a's context statement and its write, and how.
    enum SchemaChangeAround: CaseIterable {
        case anotherWritersAutocommit, anotherWritersTransaction, anotherWritersRename, theWritersOwn, anotherWritersBeforeTheContext

        /// The lines between a's context statement and its write.
        var between: [String] {
            switch self {
            case .anotherWritersAutocommit: ["CREATE TABLE u (k); -- c x2 ok"]
            case .anotherWritersTransaction: ["BEGIN IMMEDIATE; -- c x2 ok", "CREATE TABLE u (k); -- c x2 ok", "COMMIT; -- c x2 ok"]
            case .anotherWritersRename: ["ALTER TABLE t RENAME TO t2; -- c x2 ok"]
            case .theWritersOwn: ["CREATE TABLE u (k); -- a x1 ok"]
            case .anotherWritersBeforeTheContext: []
            }
        }

        /// The lines before a's context statement.
        var before: [String] { self == .anotherWritersBeforeTheContext ? ["CREATE TABLE u (k); -- c x2 ok"] : [] }

        /// Whether the log's order explains the schema stopping a's write.
        var explains: Bool { !between.isEmpty && self != .theWritersOwn }

        /// How the replay's schema stops a's write: its ledger trigger's guard, or its table gone.
        var replayed: String { self == .anotherWritersRename ? "SQLITE_ERROR" : "SQLITE_CONSTRAINT_TRIGGER" }
    }

    // A statement logged after another writer's schema change that in the run
    // committed after it: an autocommit write is logged once its lock is free,
    // and its writer can be held up there while c's schema change takes the
    // lock, commits and logs first. Run after it here, a's guard stops the
    // write the run let through (the cookie is no longer the one a's context
    // named), or fails to find its table where c renamed it: the log's order,
    // not SQLite's, and no verdict, whether c changed the schema in
    // autocommit mode or in a transaction. Where a itself
    // changed the schema after its context statement, or c changed it before
    // a's context statement named the cookie before the change, nothing but
    // SQLite explains the run's write going through: a verdict.
    @Test(arguments: SchemaChangeAround.allCases)
    func aGuardStopAfterAnotherWritersSchemaChangeGivesNoVerdict(_ change: SchemaChangeAround) throws {
        // The set-up's two tables make the cookie 2.
        let outcome = try Self.replayBesideItsDatabase(Self.guarded("a") + Self.guarded("b") + change.before
            + ["\(Bookkeeping.contextStatement(tx: 1, cookie: 2)); -- a x1 ok changes=1"] + change.between
            + ["INSERT INTO t VALUES (1, 'a'); -- a x1 ok changes=1"], window: 4)
        #expect(outcome.commitOrder)
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.writer == "a")
        #expect(mismatch.recorded == "ok changes=1")
        #expect(mismatch.replayed == change.replayed)
        #expect(outcome.vanished.isEmpty && outcome.cookieMoves == 0)
        if change.explains {
            #expect(outcome.schemaChangedBy == ["c"])
            #expect(outcome.exitStatus == 2)
            #expect(outcome.text.contains("result: NO VERDICT — c changed the schema after a's last context statement"), "\(outcome.text)")
        } else {
            #expect(outcome.schemaChangedBy.isEmpty)
            #expect(outcome.exitStatus == 1)
            #expect(!outcome.text.contains("NO VERDICT"), "\(outcome.text)")
        }
    }

    // A read transaction whose snapshot began before another writer's rename
    // committed, and whose lines came after the rename's: a's deferred
    // transaction read t, its write then met SQLITE_BUSY (its snapshot was
    // behind c's commit), and it logged its lines before its ROLLBACK, after
    // c had logged and committed. Here its read comes after the rename and
    // finds no t: a read has no effect, so the replay counts it as timing and
    // goes on. A read logged after a statement of a's own that began after the
    // rename (a's snapshot then had it) still gives its verdict.
    @Test(arguments: [true, false])
    func aReadOfATableAnotherWriterRenamedSinceItsSnapshotBeganIsTiming(snapshotBeforeTheRename: Bool) throws {
        let outcome = try Self.replayBesideItsDatabase([
            "BEGIN IMMEDIATE; -- c x2 ok",
            "ALTER TABLE t RENAME TO t2; -- c x2 ok",
            "COMMIT; -- c x2 ok",
        ] + (snapshotBeforeTheRename ? [] : ["SELECT count(*) FROM t2; -- a x0 ok rows=1"]) + [
            "BEGIN; -- a x1 ok",
            "SELECT * FROM t WHERE k = 1; -- a x1 ok",
            "INSERT INTO t VALUES (1, 'a'); -- a x1 SQLITE_BUSY",
            "ROLLBACK; -- a x1 ok",
        ], window: 4)
        if snapshotBeforeTheRename {
            #expect(outcome.mismatch == nil, "\(outcome.text)")
            #expect(outcome.timed == 1)
        } else {
            let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
            #expect(mismatch.sql == "SELECT * FROM t WHERE k = 1")
            #expect(mismatch.replayed == "SQLITE_ERROR")
            #expect(outcome.exitStatus == 1)
        }
    }

    // The replay's own reads must take no lock the run did not hold. b's
    // transaction has touched only its TEMP context table when a's read of
    // the cookie and context statement pair up; the replay looks for a
    // schema change in the other open transactions, and a read of b's cookie
    // there began a read of the database that b's transaction then held: in
    // a rollback journal, a's autocommit write could not commit until b's
    // lines came, and b was taken for vanished (no verdict). Only a
    // transaction that ran a schema change is read (which the test after next
    // pins: a read logged before such a change's COMMIT line is no lag), not
    // one whose schema change failed as SQLite prepared it.
    @Test(arguments: [false, true])
    func aPairOfTheCookieTakesNoLockOfItsOwn(failedSchemaChange: Bool) throws {
        let outcome = try Self.replay(Self.guarded("a") + Self.guarded("b") + [
            "BEGIN; -- b x1 ok",
            "\(Bookkeeping.contextStatement(tx: 1, cookie: 1)); -- b x1 ok changes=1",
        ] + (failedSchemaChange ? ["CREATE TABLE t (k); -- b x1 SQLITE_ERROR"] : []) + Self.paired("a", 2, cookie: 1) + [
            "INSERT INTO t VALUES (1, 'a'); -- a x2 ok changes=1",
        ] + (1...6).map { "SELECT \($0); -- c x\($0) ok rows=1" } + [
            "INSERT INTO t VALUES (2, 'b'); -- b x1 ok changes=1",
            "COMMIT; -- b x1 ok",
        ], window: 4)
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.abandoned == 0 && outcome.resumed.isEmpty && outcome.deferred == 0)
    }

    // One pair alone is no lag: a's read is logged after c's CREATE TABLE,
    // which in the run committed after the read (its line was held up). The
    // replay reads 2 where the run read 1, and a's write met the guard in the
    // run, as it does in the replay, whose cookie stays as it is.
    @Test func aReadLoggedAfterASchemaChangeIsNoLag() throws {
        let outcome = try Self.replay(Self.guarded("a") + Self.guarded("b") + ["CREATE TABLE u (k); -- c x1 ok"] + Self.paired("a", 1, cookie: 1) + [
            "INSERT INTO t VALUES (1, 'a'); -- a x1 SQLITE_CONSTRAINT_TRIGGER",
            "\(Bookkeeping.contextStatement(tx: 2, cookie: 2)); -- b x1 ok changes=1",
            "INSERT INTO t VALUES (2, 'b'); -- b x1 ok changes=1",
        ], window: 4)
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.statements == 13)
        #expect(outcome.cookieMoves == 0)
    }

    // Nor is a lag a read logged between a schema change and its COMMIT line:
    // in the run, c's COMMIT took effect before a's and b's reads, and c was
    // held up before writing its line. Their writes go through once the
    // COMMIT line has run, and the replay's cookie is not moved on.
    @Test func aReadBeforeASchemaChangesCommitLineIsNoLag() throws {
        let outcome = try Self.replay(Self.guarded("a") + Self.guarded("b") + [
            "BEGIN IMMEDIATE; -- c x1 ok",
            "CREATE TABLE u (k); -- c x1 ok",
        ] + Self.paired("a", 1, cookie: 2) + Self.paired("b", 2, cookie: 2) + [
            "COMMIT; -- c x1 ok",
            "INSERT INTO t VALUES (1, 'a'); -- a x2 ok changes=1",
            "INSERT INTO t VALUES (2, 'b'); -- b x2 ok changes=1",
        ], window: 4)
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.statements == 16)
        #expect(outcome.cookieMoves == 0)
    }

    // The statements after which the replay reads its schema cookie, to note
    // whose commit moved it: the workload's schema changes, VACUUM, ANALYZE
    // and `PRAGMA optimize`; never a write, a read or the bookkeeping's
    // statements on a connection's TEMP schema.
    @Test func schemaChangesAreToldByTheirFirstWords() {
        for sql in ["CREATE TABLE u (k)", "CREATE INDEX i ON t (v)", "DROP TABLE t", "ALTER TABLE t ADD COLUMN w", "VACUUM",
                    "ANALYZE", "ANALYZE \"t\"", "PRAGMA optimize"] {
            #expect(Replay.mayChangeSchema(sql), "\(sql)")
        }
        let connection = Bookkeeping.contextTableStatements + TrackedTable.accounts.triggerStatements
            + TrackedTable.dropTriggerStatements(ledgerName: "t") + [Bookkeeping.contextStatement(tx: 1, cookie: 2)]
        for sql in ["INSERT INTO t VALUES (1)", "SELECT * FROM t", "PRAGMA schema_version", "COMMIT", "REINDEX"] + connection {
            #expect(!Replay.mayChangeSchema(sql), "\(sql)")
        }
    }

    @Test func contextStatementsParse() throws {
        let context = try #require(Bookkeeping.context(of: Bookkeeping.contextStatement(tx: -17579301142535, cookie: 336)))
        #expect(context.tx == -17579301142535 && context.cookie == 336)
        #expect(Bookkeeping.context(of: "UPDATE temp.stress_ctx SET tx = 5, cookie = NULL") == nil)
        #expect(Bookkeeping.context(of: "UPDATE temp.stress_ctx SET tx = 5") == nil)
        #expect(Bookkeeping.context(of: "INSERT OR REPLACE INTO temp.stress_ctx (id, tx, cookie) VALUES (1, 0, NULL)") == nil)
    }

    // A driver reads its schema before its first line, and SQLite creates a
    // TEMP trigger against the schema the connection read last: the run made a
    // ledger trigger on a table that, by the log's order, another writer had
    // renamed already. The trigger could never fire there; the replay goes on
    // without it, as timing.
    @Test func aTriggerOnATableRenamedBeforeItsLineIsTiming() throws {
        let outcome = try Self.replay([
            "CREATE TABLE u (k INTEGER PRIMARY KEY, v); -- a x1 ok",
            #"ALTER TABLE "u" RENAME TO "u2"; -- a x2 ok"#,
            #"CREATE TEMP TRIGGER "stress_ins_u" AFTER INSERT ON main."u" BEGIN SELECT 1; END; -- b x1 ok"#,
            "INSERT INTO u2 VALUES (1, 'b'); -- b x2 ok changes=1",
            "SELECT * FROM u2; -- a x3 ok rows=1",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.timed == 1)
        #expect(outcome.statements == 5)  // The setup's CREATE TABLE too.
    }

    // An autocommit ANALYZE is logged once its lock is free: another writer
    // can drop the table and log that first. The replay goes on without it.
    @Test func anAnalyzeOfATableDroppedBeforeItsLineIsTiming() throws {
        let outcome = try Self.replay([
            "CREATE TABLE u (k INTEGER PRIMARY KEY, v); -- a x1 ok",
            #"DROP TABLE "u"; -- a x2 ok"#,
            #"ANALYZE "u"; -- b x1 ok"#,
            #"ANALYZE "w"; -- b x2 ok"#,
        ])
        let mismatch = try #require(outcome.mismatch, "the table never there is a difference: \(outcome.text)")
        #expect(mismatch.line == 6)
        #expect(outcome.timed == 1)
    }

    // The other way round: the run's connection read the schema after the
    // rename committed, and the rename's COMMIT is logged after the trigger.
    // The trigger waits for the commit (SQLite reads the schema afresh when a
    // table is not in the one it read last) and is made, on the new name.
    @Test func aTriggerOnATableRenamedAfterItsLineWaitsForTheRename() throws {
        let outcome = try Self.replay([
            "CREATE TABLE u (k INTEGER PRIMARY KEY, v); -- a x1 ok",
            "BEGIN IMMEDIATE; -- a x2 ok",
            #"ALTER TABLE "u" RENAME TO "u2"; -- a x2 ok"#,
            #"CREATE TEMP TRIGGER "stress_ins_u" AFTER INSERT ON main."u2" BEGIN INSERT INTO t VALUES (NEW.k, 'seen'); END; -- b x1 ok"#,
            "COMMIT; -- a x2 ok",
            "INSERT INTO u2 VALUES (7, 'b'); -- b x2 ok changes=1",
            "SELECT * FROM t WHERE k = 7 AND v = 'seen'; -- a x3 ok rows=1",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.deferred == 1)
        #expect(outcome.timed == 0)
    }

    // A statement that met SQLITE_SCHEMA in the run ran none of it there
    // (other writers' schema changes kept SQLite from preparing it): it is
    // not run here either, though here it would fail otherwise (its table
    // is gone) or succeed (the INSERT), and it counts as timing.
    @Test func aStatementThatMetSQLiteSchemaIsNotRun() throws {
        let outcome = try Self.replay([
            #"CREATE TEMP TRIGGER "stress_ins_w" AFTER INSERT ON main."w" BEGIN SELECT 1; END; -- b x1 SQLITE_SCHEMA"#,
            "INSERT INTO t VALUES (1, 'b'); -- b x2 SQLITE_SCHEMA",
            "SELECT * FROM t; -- a x1 ok",
        ])
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.timed == 2)
        #expect(outcome.statements == 2)  // The setup's CREATE TABLE and a's read.
    }

    // A trigger on a table the replay never had is a difference, not timing.
    @Test func aTriggerOnATableNeverThereIsADifference() throws {
        let outcome = try Self.replay([
            "CREATE TABLE u (k INTEGER PRIMARY KEY, v); -- a x1 ok",
            #"ALTER TABLE "u" RENAME TO "u2"; -- a x2 ok"#,
            #"CREATE TEMP TRIGGER "stress_ins_w" AFTER INSERT ON main."w" BEGIN SELECT 1; END; -- b x1 ok"#,
        ])
        let mismatch = try #require(outcome.mismatch, "\(outcome.text)")
        #expect(mismatch.line == 5)
        #expect(mismatch.recorded == "ok")
        #expect(mismatch.replayed == "SQLITE_ERROR")
    }

    // The names those rules read: a ledger trigger's table, and the table a
    // rename or a drop takes the name of.
    @Test func triggerAndRemovedTablesParse() {
        let table = TrackedTable(ledgerName: "t9", name: #"odd"name"#, columns: ["k"], keyColumns: [], withoutRowid: false)
        #expect(table.triggerStatements.map(Replay.tableOfUpkeep) == Array(repeating: #"odd"name"#, count: 3))
        #expect(Replay.tableOfUpkeep(#"ANALYZE "t41""#) == "t41")
        #expect(Replay.tableOfUpkeep(#"REINDEX "t4""8""#) == #"t4"8"#)
        #expect(Replay.tableOfUpkeep("ANALYZE") == nil)
        #expect(Replay.tableOfUpkeep("REINDEX NOCASE") == nil)
        #expect(Replay.tableOfUpkeep("CREATE TABLE t (k)") == nil)
        #expect(Replay.removedTable(#"ALTER TABLE "t9" RENAME TO "t47""#) == "t9")
        #expect(Replay.removedTable(#"DROP TABLE "t35""#) == "t35")
        #expect(Replay.removedTable("DROP TABLE IF EXISTS temp.stress_ctx") == "stress_ctx")
        #expect(Replay.removedTable(#"ALTER TABLE "t34" RENAME COLUMN "c4" TO "c7""#) == nil)
        #expect(Replay.removedTable(#"ALTER TABLE "t7" ADD COLUMN "c6" TEXT"#) == nil)
    }

    // The file where a replay's VACUUM INTO copies go is replaced only when a
    // replay made it, and only with --overwrite; anything else there is one
    // sentence before anything is written, and is left as it was.
    @Test func aFileWhereTheCopiesGoIsReplacedOnlyWhenAReplayMadeIt() throws {
        let directory = try TemporaryDirectory()
        let log = directory.path("hand.sql"), db = directory.path("hand.db"), copy = directory.path("hand.db.copy")
        try Data("""
            -- sqlite-stress stress seed=0x0000000000000001 threads=1 iterations=1 check-every=0 tables=1 sqlite=test
            CREATE TABLE t(k INTEGER PRIMARY KEY, v); -- setup x0 ok
            INSERT INTO t VALUES (1, 'a'); -- t0 x1 ok changes=1

            """.utf8).write(to: URL(fileURLWithPath: log))
        func refusal(overwrite: Bool) -> String? {
            do {
                _ = try Replay.run(logPath: log, databasePath: db, overwrite: overwrite)
                return nil
            } catch {
                return error.message
            }
        }
        try Data("precious".utf8).write(to: URL(fileURLWithPath: copy))
        for overwrite in [false, true] {
            #expect(refusal(overwrite: overwrite)
                == "refusing to overwrite \(copy): it was not created by sqlite-stress.")
        }
        #expect(try String(contentsOfFile: copy, encoding: .utf8) == "precious")
        try FileManager.default.removeItem(atPath: copy)
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        #expect(refusal(overwrite: true) == "the replay's VACUUM INTO copy path \(copy) is a directory.")
        #expect(!FileManager.default.fileExists(atPath: db), "nothing written")
        try FileManager.default.removeItem(atPath: copy)

        // A copy a replay made (a copy of a database of this tool): refused, then replaced with --overwrite.
        try bookkeepingDatabase(copy, "PRAGMA application_id = \(DatabaseFile.applicationID)")
        #expect(refusal(overwrite: false) == "\(copy) already exists; pass --overwrite to replace a database sqlite-stress made.")
        #expect(refusal(overwrite: true) == nil)
        #expect(!FileManager.default.fileExists(atPath: copy), "the replay removed it (its log has no VACUUM INTO)")
    }

    // The commit order is the run's ledger's: each transaction at its first
    // entry's `seq`, and the next one to commit after a position. It is read
    // from the run's database only when the log's seed is the database's, and
    // the database is left as it was: in WAL mode with no WAL beside it,
    // nothing is created beside it; with a WAL, the WAL is read.
    @Test(arguments: [false, true])
    func theCommitOrderIsTheLedgersAndLeavesTheRunsFiles(withWAL: Bool) throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("run.db")
        _ = try stress(db, seed: 3, iterations: 60, journalMode: .wal, checkEvery: 0)
        var expected: [(tx: Int64, position: Int64)] = []
        let reader = try Connection(path: db)
        if withWAL {
            // A WAL with the ledger's last entry in it, as a crash can leave one.
            try reader.execute("PRAGMA wal_autocheckpoint = 0")
            try reader.execute("INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (99, '', NULL, NULL)")
            reader.keepWALOnClose()
        }
        for row in try reader.query("SELECT tx, min(seq) FROM stress_ledger GROUP BY tx ORDER BY 2") {
            guard case .integer(let tx) = row[0], case .integer(let position) = row[1] else { continue }
            expected.append((tx, position))
        }
        let seed = try #require(try reader.scalar("SELECT value FROM stress_meta WHERE key = 'seed'"))
        reader.close()
        try #require(expected.count > 10)
        if withWAL { try #require(expected.last?.tx == 99, "the entry in the WAL commits last") }
        let files = try Set(FileManager.default.contentsOfDirectory(atPath: directory.url.path))
        #expect(files.contains("run.db-wal") == withWAL)

        guard case .text(let text) = seed else { throw ToolError("the seed is \(seed)") }
        #expect(try CommitOrder(database: db, seed: "0x0000000000000000", logs: [db + ".sql"]) == nil, "another run's log")
        let order = try #require(try CommitOrder(database: db, seed: text, logs: [db + ".sql"]))
        #expect(order.next == expected[0].position)
        for (tx, position) in expected { #expect(try order.position(of: tx) == position, "transaction \(tx)") }
        #expect(try order.committedInRun(expected[0].tx))
        #expect(try !order.committedInRun(TransactionID.make(base: 300, number: 1)), "no entry and no record")
        try order.committed(at: expected[0].position)
        #expect(order.next == expected[1].position)
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: directory.url.path)) == files)
    }

    // A VACUUM INTO writes its copy beside the replay's database, never at the
    // path the run logged (beside the original, which a replay must not
    // touch); each writes a fresh copy (the run removed each once it had
    // checked it), and the replay leaves none behind.
    @Test func aVacuumIntoCopiesBesideTheReplayAndLeavesNothing() throws {
        let original = try TemporaryDirectory(), directory = try TemporaryDirectory()
        let elsewhere = "'" + original.path("s.db.copy-a") + "'"
        let log = directory.path("hand.sql")
        let text = [
            "-- sqlite-stress stress seed=0x0000000000000001 threads=2 iterations=1 check-every=0 tables=1 sqlite=test",
            "CREATE TABLE t(k INTEGER PRIMARY KEY, v); -- setup x0 ok",
            "INSERT INTO t VALUES (1, 'a'); -- a x1 ok changes=1",
            "VACUUM INTO \(elsewhere); -- a x2 ok",
            "VACUUM INTO \(elsewhere); -- b x1 ok",
        ].joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: log))
        let outcome = try Replay.run(logPath: log, databasePath: directory.path("hand.db"), overwrite: false)
        #expect(outcome.mismatch == nil, "\(outcome.text)")
        #expect(outcome.statements == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: original.url.path) == [])
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: directory.url.path)) == ["hand.sql", "hand.db"])
    }

    // Log lines: statements with their writer and result; events; everything else ignored.
    @Test func logLinesParse() {
        #expect(Replay.parse("INSERT INTO t VALUES ('; -- x'); -- t1 x5 ok changes=1", number: 7)
            == Replay.Entry(line: 7, writer: "t1", action: .statement(sql: "INSERT INTO t VALUES ('; -- x')", result: "ok changes=1"), transaction: "x5"))
        #expect(Replay.parse("COMMIT; -- d300 x2 ok", number: 1)?.transactionID == TransactionID.make(base: 300, number: 2))
        #expect(Replay.parse("COMMIT; -- t1 x2 ok", number: 1)?.transactionID == TransactionID.make(base: 2, number: 2))
        #expect(Replay.parse("-- t0 x5 reconnect", number: 1)?.action == .reconnect)
        #expect(Replay.parse("-- t0 x5 connection abandoned after a failed ROLLBACK", number: 1)?.action == .reconnect)
        #expect(Replay.parse("-- d77 x2 disconnect", number: 1)?.action == .disconnect)
        #expect(Replay.parse("-- t0 x5 rolled back by SQLite", number: 1)?.action == .rolledBackBySQLite)
        #expect(Replay.parse("-- t0 check integrity=pass model=pass", number: 1) == nil)
        // Only a driver is a process of its own, which a kill can end alone.
        #expect(["d257", "d300"].map(TransactionID.driverBase) == [257, 300])
        #expect(["t0", "t3", "setup", "planted", "d12", "d", "dx"].allSatisfy { TransactionID.driverBase($0) == nil })
        // A thread of `stress` ends with its process, the others of its process with it.
        #expect(["t0", "t3", "t255"].allSatisfy(TransactionID.isThread))
        #expect(!["t256", "t03", "t", "tx", "setup", "planted", "d300"].contains(where: TransactionID.isThread))
        #expect(Replay.parse("-- configuration: page_size=4096", number: 1) == nil)
        // The compose command a driver runs in, and the runner's line once it killed it.
        #expect(SQLLog.commandLine(writer: "d300", command: "9f3a-12") == "-- d300 connect command 9f3a-12")
        #expect(Replay.parse(SQLLog.commandLine(writer: "d300", command: "9f3a-12"), number: 3)
            == Replay.Entry(line: 3, writer: "d300", action: .command("9f3a-12"), transaction: "connect"))
        #expect(SQLLog.killedLine(command: "9f3a-12") == "-- command 9f3a-12 killed")
        #expect(Replay.parse(SQLLog.killedLine(command: "9f3a-12"), number: 9)
            == Replay.Entry(line: 9, writer: "", action: .killed(command: "9f3a-12")))
        #expect(Replay.parse("-- command  killed", number: 1) == nil)
    }

    // A commit record names its transaction, as written now and as logs written
    // while ledger entries named their writer in a column of their own have it.
    @Test func commitRecordsNameTheirTransaction() {
        let tx = TransactionID.make(base: 300, number: 2)
        #expect(Bookkeeping.commitRecordTransaction(Bookkeeping.commitRecordStatement(tx: tx)) == tx)
        #expect(Bookkeeping.commitRecordTransaction(
            "INSERT INTO stress_ledger (tx, who, tbl, key, image) VALUES (\(tx), 'd300', '', NULL, NULL)") == tx)
        #expect(Bookkeeping.commitRecordTransaction("INSERT INTO stress_ledger (tx, tbl, key, image) VALUES ((SELECT tx FROM stress_ctx), 't', 1, NULL)") == nil)
        #expect(Bookkeeping.commitRecordTransaction("COMMIT") == nil)
    }
}

@Suite struct ReportTextTests {
    // A violation's sentence and details stay on their lines, whatever the text
    // they carry (an SQL statement over several lines, integrity_check's messages).
    @Test func violationsPrintOneLineEach() {
        let violation = Violation(
            property: .integrity, message: "the database could not be read: error — while executing `CREATE TABLE x (\n    a INTEGER,\n    b TEXT);\nDELETE FROM x`",
            thread: "final", logLine: 12, details: ["integrity_check": "*** in database main ***\nPage 72: error 11\nPage 69: error 11"])
        let lines = violation.description.split(separator: "\n")
        #expect(lines.count == 2, "\(violation.description)")
        #expect(lines[0].contains("CREATE TABLE x ( a INTEGER, b TEXT); DELETE FROM x"))
        #expect(lines[1] == "    integrity_check: *** in database main *** | Page 72: error 11 | Page 69: error 11")
    }

    // Counts read as English: one table, two tables.
    @Test func countsAgree() {
        #expect(Format.count(1, "table") == "1 table")
        #expect(Format.count(0, "check") == "0 checks")
        #expect(Format.count(2, "index", plural: "indexes") == "2 indexes")
        #expect(Format.count(1, "ledger entry", plural: "ledger entries") == "1 ledger entry")
    }

    // A growing file is named once when it passes 256 MiB, and again at each doubling.
    @Test func growthIsWarnedAtEachDoubling() {
        var warnings = GrowthWarnings()
        let mib: Int64 = 1 << 20
        #expect(warnings.check([("s.db", 100 * mib)]) == nil)
        #expect(warnings.check([("s.db", 300 * mib)])?.contains("s.db has grown to 300 MiB") == true)
        #expect(warnings.check([("s.db", 400 * mib)]) == nil)
        #expect(warnings.check([("s.db", 600 * mib), ("s.db.sql", 10 * mib)])?.contains("600 MiB") == true)
        #expect(warnings.check([("s.db", 700 * mib), ("s.db.sql", 257 * mib)])?.contains("s.db.sql") == true)
    }

    // A reproduce line writes to fresh paths beside the originals.
    @Test func reproductionPathsAreFresh() {
        #expect(DatabaseFile.reproductionPath("stress.db") == "stress-repro.db")
        #expect(DatabaseFile.reproductionPath("runs/stress.db") == "runs/stress-repro.db")
        #expect(DatabaseFile.reproductionPath("compose-0x2a") == "compose-0x2a-repro")
        #expect(DatabaseFile.reproductionPath("a.b/log") == "a.b/log-repro")
        #expect(DatabaseFile.reproductionPath("x.sql") == "x-repro.sql")
    }
}
