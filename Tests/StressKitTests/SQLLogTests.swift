import Foundation
import StressSQLite
import Testing

@testable import StressKit

@Suite struct SQLLogTests {
    // Lines appended with flush: false wait in the buffer, whole, until a flush
    // (an explicit one, a line appended with flush, the buffer limit, or close);
    // line numbers count every line at once.
    @Test func bufferedLinesReachTheFileWholeAtTheNextFlush() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("x.sql")
        let log = try SQLLog(path: path)
        func file() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
        #expect(log.append("BEGIN; -- t0 x1 ok", flush: false) == 1)
        #expect(log.append("INSERT INTO t VALUES (1); -- t0 x1 ok changes=1", flush: false) == 2)
        #expect(try file() == "")
        log.flush()
        #expect(try file() == "BEGIN; -- t0 x1 ok\nINSERT INTO t VALUES (1); -- t0 x1 ok changes=1\n")
        log.append("INSERT INTO t VALUES (2); -- t0 x1 ok changes=1", flush: false)
        #expect(log.append("COMMIT; -- t0 x1 ok") == 4)
        #expect(try file().hasSuffix("(2); -- t0 x1 ok changes=1\nCOMMIT; -- t0 x1 ok\n"))
        // Memory stays flat: a long transaction's lines go out at the limit.
        let long = String(repeating: "x", count: 1000)
        for _ in 0..<100 { log.append(long, flush: false) }
        #expect(try file().utf8.count > 65_536)
        #expect(try file().split(separator: "\n").allSatisfy { $0.count == 1000 || $0.contains("; -- ") })
        log.append("tail", flush: false)
        log.close(sync: false)
        #expect(try file().hasSuffix("\ntail\n"))
    }

    // Lines that cannot be written (a full disk) are counted, with the system's
    // reason: the report says how many lines the log lacks and never claims them.
    @Test func unwritableLinesAreCounted() throws {
        let log = try SQLLog(path: "/dev/full", append: true)  // Every write fails with ENOSPC.
        log.append("BEGIN; -- t0 x1 ok", flush: false)
        log.append("COMMIT; -- t0 x1 ok")
        log.append("SELECT 1; -- t0 x2 ok rows=1")
        #expect(log.lineCount == 3)
        #expect(log.writtenLines == 0)
        #expect(log.losses.unwrittenLines == 3)
        #expect(log.losses.error != nil)
        let fine = try SQLLog(path: "/dev/null", append: true)
        fine.append("SELECT 1; -- t0 x1 ok rows=1")
        #expect(fine.writtenLines == 1 && fine.losses.isEmpty)
    }

    // The worker's rule: a statement that may make effects durable first writes out what waits.
    @Test func commitLikeStatementsAreRecognised() {
        for sql in ["COMMIT", "END", "RELEASE tx", "RELEASE sp2"] { #expect(StatementRunner.mayCommit(sql), "\(sql)") }
        for sql in ["ROLLBACK", "ROLLBACK TO sp1", "REPLACE INTO t VALUES (1)", "INSERT INTO t VALUES (1)", "SAVEPOINT sp1", "BEGIN"] {
            #expect(!StatementRunner.mayCommit(sql), "\(sql)")
        }
    }
}

@Suite struct ChangesCountTests {
    // `changes=N` is logged for INSERT, REPLACE, UPDATE and DELETE (whatever
    // their case) and for nothing else: after ROLLBACK, RELEASE, REINDEX, DROP or
    // any DDL, sqlite3_changes still reports the last DML, so a count there would be stale.
    @Test func onlyDMLIsCounted() {
        for sql in ["INSERT INTO t VALUES (1)", "REPLACE INTO t VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t",
                    "insert into t values (1)", "Delete from t"] {
            #expect(StatementRunner.isDML(sql), "\(sql)")
        }
        for sql in ["ROLLBACK", "ROLLBACK TO sp1", "RELEASE sp1", "REINDEX", "DROP TABLE t", "DROP INDEX i", "DELETED",
                    "ALTER TABLE t ADD COLUMN c", "CREATE INDEX i ON t (a)", "RENAME", "SAVEPOINT s", "COMMIT", "SELECT 1",
                    "UPSERT", "INSERTS", "VACUUM", "PRAGMA optimize", "ANALYZE", ""] {
            #expect(!StatementRunner.isDML(sql), "\(sql)")
        }
    }

    // In a run's SQL log no line but a DML statement's carries a change count.
    @Test func runLogsCountChangesOfDMLOnly() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("changes.db")
        let report = try stress(db, seed: 21, iterations: 200)
        #expect(report.passed)
        let lines = try String(contentsOfFile: db + ".sql", encoding: .utf8).split(separator: "\n")
        let counted = lines.filter { $0.contains(" changes=") && !$0.hasPrefix("--") }
        #expect(!counted.isEmpty)
        for line in counted { #expect(StatementRunner.isDML(String(line)), "\(line.prefix(120))") }
        #expect(lines.contains { $0.hasPrefix("ROLLBACK") }, "the run rolled nothing back: the test sees nothing")
    }
}

/// `--sql-log-max`: sizes as the flag reads them, and rotation of a log two writers share.
@Suite struct SQLLogRotationTests {
    // Sizes in bytes or binary units, any case, with or without B / iB; 0 is
    // no limit; anything else, and overflow, is refused (nil).
    @Test func limitsParse() {
        #expect(SQLLog.parse(limit: "0") == 0)
        #expect(SQLLog.parse(limit: "65536") == 65_536)
        #expect(SQLLog.parse(limit: "64K") == 65_536)
        #expect(SQLLog.parse(limit: "256m") == 256 << 20)
        #expect(SQLLog.parse(limit: "1GiB") == 1 << 30)
        #expect(SQLLog.parse(limit: "2GB") == 2 << 30)
        #expect(SQLLog.parse(limit: "100B") == 100)
        for bad in ["", "G", "-1", "1.5G", "12 M", "5X", "1Gi", "99999999999999999999", "4194305T"] {
            #expect(SQLLog.parse(limit: bad) == nil, "\(bad)")
        }
        #expect(SQLLog.describe(limit: 1 << 30) == "1G")
        #expect(SQLLog.describe(limit: 192 << 10) == "192K")
        #expect(SQLLog.describe(limit: 100_000) == "100000")
    }

    // A shared log that is missing or empty is started afresh with a line
    // saying so (a device such as /dev/null is not: `unwritableLinesAreCounted`
    // counts its lines); a log that begins so cannot be
    // read from the run's first line, nor can one rotated from it, and each
    // says why in its own sentence.
    @Test func aLogStartedAfreshSaysItsBeginningIsGone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("a.sql")
        let log = try SQLLog(path: path, append: true)
        log.append("SELECT 1; -- d7 x1 ok rows=1")
        log.close(sync: false)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == SQLLog.afreshLine + "\n\u{0C}SELECT 1; -- d7 x1 ok rows=1\n")
        let direct = #expect(throws: ToolError.self) { try SQLLog.files(of: path) }
        #expect(direct?.message == "\(path) begins mid-run: the log was missing or empty when a driver began and started it "
            + "afresh, so the lines before that are gone and no fresh database can replay it.")

        try FileManager.default.moveItem(atPath: path, toPath: SQLLog.olderPath(of: path))
        try Data((SQLLog.continuedPrefix + ": the log passed its limit of 64K and its earlier lines went to a.sql.1\n").utf8)
            .write(to: URL(fileURLWithPath: path))
        let rotated = #expect(throws: ToolError.self) { try SQLLog.files(of: path) }
        #expect(rotated?.message == "\(path) begins mid-run: its earlier lines are in \(path).1, whose log was missing or empty "
            + "when a driver began and started it afresh, so the lines before that are gone and no fresh database can replay it.")
    }

    // A process killed inside a write can leave part of a line, which the next
    // process's write continues. In a shared log every write but the file's
    // first begins with a form feed, so a reader drops the fragment and reads
    // the next writer's line whole, at the line number the file gives it;
    // SQLite reads the mark as white space. A log of one process has none.
    @Test func aLineAKilledWriterLeftUnfinishedIsDroppedByItsReaders() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("torn.sql")
        try Data("-- sqlite-stress schema seed=0x1\nCREATE TABLE t(k); -- setup x0 ok\n".utf8).write(to: URL(fileURLWithPath: path))
        let killed = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try killed.seekToEnd()
        try killed.write(contentsOf: Data("\u{0C}INSERT INTO t VALUES (1); -- d9 x1 ok changes=1\nINSERT INTO t VAL".utf8))
        try killed.close()
        let next = try SQLLog(path: path, append: true)
        next.append("INSERT INTO t VALUES (2); -- d10 x1 ok changes=1")
        next.close(sync: false)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\nINSERT INTO t VAL\u{0C}INSERT INTO t VALUES (2); -- d10 x1 ok changes=1\n"))
        let reader = try LogReader(path: path)
        var lines: [String] = []
        while let line = try reader.next() { lines.append(line) }
        #expect(lines == [
            "-- sqlite-stress schema seed=0x1", "CREATE TABLE t(k); -- setup x0 ok", "INSERT INTO t VALUES (1); -- d9 x1 ok changes=1",
            "INSERT INTO t VALUES (2); -- d10 x1 ok changes=1",
        ])
        #expect(reader.unterminated == 0)
        #expect(try ShrinkLog.read(path).writers == ["setup", "d9", "d10"])
        let connection = try Connection(path: ":memory:")
        try connection.execute("CREATE TABLE t(k); \u{0C}INSERT INTO t VALUES (1)")
        #expect(try connection.scalar("\u{0C}SELECT count(*) FROM t") == .integer(1))

        let own = directory.path("own.sql")
        let sole = try SQLLog(path: own)
        sole.append("SELECT 1; -- t0 x1 ok rows=1")
        sole.append("SELECT 2; -- t0 x2 ok rows=1")
        sole.close(sync: false)
        #expect(try String(contentsOfFile: own, encoding: .utf8) == "SELECT 1; -- t0 x1 ok rows=1\nSELECT 2; -- t0 x2 ok rows=1\n")

        // The last write of a killed process cut short: the bytes after the
        // last newline are no line, and the reader counts them aside.
        let cut = try FileHandle(forWritingTo: URL(fileURLWithPath: own))
        try cut.seekToEnd()
        try cut.write(contentsOf: Data("SELECT 3; -- t0 x3 ok ro".utf8))
        try cut.close()
        let ownReader = try LogReader(path: own)
        var ownLines: [String] = []
        while let line = try ownReader.next() { ownLines.append(line) }
        #expect(ownLines == ["SELECT 1; -- t0 x1 ok rows=1", "SELECT 2; -- t0 x2 ok rows=1"])
        #expect(ownReader.unterminated == "SELECT 3; -- t0 x3 ok ro".utf8.count)
        #expect(try ownReader.next() == nil)
        #expect(ownReader.unterminated == "SELECT 3; -- t0 x3 ok ro".utf8.count, "a read past the end keeps the count")
    }

    // Two writers appending to one log (as two driver processes do; each has
    // its own file description, so their locks meet) with a 64 KiB limit: one
    // of them rotates it once, the other follows into the new file, and every
    // line either wrote is in `<log>.1` or `<log>` exactly once.
    @Test func sharedLogRotatesOnceAndKeepsEveryLine() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("shared.sql")
        try Data("-- sqlite-stress schema seed=0x1\n".utf8).write(to: URL(fileURLWithPath: path))
        let a = try SQLLog(path: path, append: true, limit: 64 << 10)
        let b = try SQLLog(path: path, append: true, limit: 64 << 10)
        let filler = String(repeating: "v", count: 90)
        for n in 0..<1000 { (n % 2 == 0 ? a : b).append("SELECT \(n), '\(filler)'; -- \(n % 2 == 0 ? "a" : "b") x\(n) ok") }
        a.close(sync: false)
        b.close(sync: false)
        let older = try String(contentsOfFile: path + ".1", encoding: .utf8)
        let current = try String(contentsOfFile: path, encoding: .utf8)
        #expect(older.hasPrefix("-- sqlite-stress schema"))
        #expect(current.hasPrefix(SQLLog.continuedPrefix + ": "))
        #expect(a.rotation.count + b.rotation.count == 1)
        #expect(!a.rotation.droppedLines && !b.rotation.droppedLines)
        let numbers = (older + current).split(separator: "\n").map(SQLLog.intact).filter { $0.hasPrefix("SELECT ") }
            .map { Int($0.dropFirst(7).prefix { $0 != "," })! }
        #expect(numbers.sorted() == Array(0..<1000))
        #expect(try SQLLog.files(of: path) == [path + ".1", path])
    }

    // A second rotation drops the run's first lines: the writer says so, and
    // the log can no longer be read from its beginning (`files(of:)` throws).
    @Test func secondRotationDropsTheBeginning() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("one.sql")
        let log = try SQLLog(path: path, limit: 64 << 10)
        log.append("-- sqlite-stress stress seed=0x1")
        let filler = String(repeating: "w", count: 1000)
        for n in 0..<200 { log.append("SELECT '\(filler)'; -- t0 x\(n) ok") }
        log.close(sync: false)
        let rotation = log.rotation
        #expect(rotation.count == 3)
        #expect(rotation.droppedLines)
        let kept = try #require(rotation.olderLines)
        #expect(kept.lowerBound > 1)
        let current = try String(contentsOfFile: path, encoding: .utf8)
        #expect(current.hasPrefix(SQLLog.continuedPrefix + " at line \(kept.upperBound + 1): "))
        #expect(throws: ToolError.self) { try SQLLog.files(of: path) }
    }
}
