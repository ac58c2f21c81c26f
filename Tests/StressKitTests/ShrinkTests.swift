import Foundation
import StressSQLite
import Testing

@testable import StressKit

/// A small SQL log in the format `stress` writes, whose replay damages the
/// database with SQL alone (an index's definition rewritten under it): a
/// synthetic `integrity` failure, with statements around it that do not matter.
func syntheticLog() -> String {
    var lines = [
        "-- sqlite-stress stress seed=0x0000000000000001 threads=1 iterations=10 check-every=1000 tables=2",
        "-- configuration: page_size=4096 journal_mode=delete synchronous=full cache_size=100 auto_vacuum=none",
        "PRAGMA page_size = 4096; -- setup x0 ok",
        "CREATE TABLE t0 (a INTEGER PRIMARY KEY, b, c); -- setup x0 ok",
        "CREATE TABLE t1 (a, b); -- setup x0 ok",
        "CREATE INDEX t1_b ON t1 (b); -- setup x0 ok",
        "PRAGMA cache_size = 100; -- t0 connect ok",
    ]
    for n in 1...6 {
        lines += [
            "BEGIN; -- t0 x\(n) ok",
            "INSERT INTO t0 (b, c) VALUES (\(n), 'row \(n)'), (\(n * 10), 'row \(n * 10)'); -- t0 x\(n) ok changes=2",
            "INSERT INTO t1 (a, b) VALUES (\(n), \(n * 7)); -- t0 x\(n) ok changes=1",
            "COMMIT; -- t0 x\(n) ok",
        ]
        if n == 3 {
            lines += [
                "PRAGMA writable_schema = ON; -- t0 x100 ok",
                "UPDATE sqlite_schema SET sql = 'CREATE INDEX t1_b ON t1 (a)' WHERE name = 't1_b'; -- t0 x100 ok changes=1",
                "PRAGMA writable_schema = OFF; -- t0 x100 ok",
            ]
        }
    }
    lines.append("-- t0 x7 reconnect")
    lines.append("SELECT count(*) FROM t0; -- t0 x8 ok rows=1")
    return lines.joined(separator: "\n") + "\n"
}

@Suite struct ShrinkTests {
    // The reducer finds the smallest sublist that still fails, keeps the order,
    // and gives the same answer for the same input (no randomness, no clock).
    @Test func reducerFindsTheFailingCoreDeterministically() throws {
        let items = Array(0..<200)
        func fails(_ candidate: [Int]) -> Bool { candidate.contains(37) && candidate.contains(150) && candidate.contains(151) }
        var first = Reducer(tests: 10_000)
        let a = try first.reduce(items, phase: "test") { (candidate: [Int]) throws(ToolError) -> Bool in fails(candidate) }
        var second = Reducer(tests: 10_000)
        let b = try second.reduce(items, phase: "test") { (candidate: [Int]) throws(ToolError) -> Bool in fails(candidate) }
        #expect(a == [37, 150, 151])
        #expect(a == b)
        #expect(first.testsRun == second.testsRun)
        #expect(first.exhausted == nil)
    }

    // A budget bounds the work: the reducer stops after that many tests, says
    // so, and what it returns still fails.
    @Test func reducerStopsAtItsBudget() throws {
        var reducer = Reducer(tests: 15)
        let result = try reducer.reduce(Array(0..<1000), phase: "test") { (candidate: [Int]) throws(ToolError) -> Bool in
            candidate.contains(500)
        }
        #expect(reducer.testsRun == 15)
        #expect(reducer.exhausted == "the test budget")
        #expect(result.contains(500))
        #expect(result.count < 1000)
    }

    // Tokens keep the statement's exact text; the rows of a multi-row INSERT
    // can be dropped one by one, commas and all; literals are found by kind.
    @Test func insertRowsAndLiterals() {
        let sql = "INSERT INTO \"t\" (\"a\", \"b\") VALUES (1, 'x,y'), (-2.5e-3, X'00FF'), (3, 'it''s') ON CONFLICT DO NOTHING"
        let tokens = SQLTokens(sql)
        #expect(tokens.text == sql)
        #expect(tokens.valueTuples.count == 3)
        #expect(tokens.keepingTuples([0, 1, 2]) == sql)
        #expect(tokens.keepingTuples([1]) == "INSERT INTO \"t\" (\"a\", \"b\") VALUES (-2.5e-3, X'00FF') ON CONFLICT DO NOTHING")
        #expect(tokens.keepingTuples([0, 2]) == "INSERT INTO \"t\" (\"a\", \"b\") VALUES (1, 'x,y'), (3, 'it''s') ON CONFLICT DO NOTHING")
        let literals = tokens.literals.map { String(tokens.tokens[$0].text) }
        #expect(literals == ["1", "'x,y'", "2.5e-3", "X'00FF'", "3", "'it''s'"])
        #expect(SQLTokens("UPDATE t SET a = 1").valueTuples.isEmpty)
    }

    // Dropping a column rewrites every statement on its table — definition,
    // INSERT values, UPDATE and upsert assignments, the ledger triggers' row
    // images — removes indexes on it, and refuses when a statement still needs it.
    @Test func columnDropRewritesEveryStatementOnTheTable() throws {
        let create = "CREATE TABLE \"t\" (\"a\" INTEGER, \"b\" TEXT NOT NULL DEFAULT 'x', \"c\", PRIMARY KEY (\"a\"))"
        let table = try #require(ColumnDrop.table(create))
        #expect(table.name == "t" && table.columns == ["a", "b", "c"] && table.key == ["a"])
        #expect(ColumnDrop.rewrite(create, table: "t", column: "b") == "CREATE TABLE \"t\" (\"a\" INTEGER, \"c\", PRIMARY KEY (\"a\"))")
        #expect(ColumnDrop.rewrite("INSERT INTO \"t\" (\"a\", \"b\", \"c\") VALUES (1, 'p', 2), (3, 'q', 4) ON CONFLICT (\"a\") DO UPDATE SET \"b\" = excluded.\"c\", \"c\" = 5", table: "t", column: "b")
            == "INSERT INTO \"t\" (\"a\", \"c\") VALUES (1, 2), (3, 4) ON CONFLICT (\"a\") DO UPDATE SET \"c\" = 5")
        #expect(ColumnDrop.rewrite("UPDATE \"t\" SET \"b\" = 'z', \"c\" = 1 WHERE \"a\" = 2", table: "t", column: "b")
            == "UPDATE \"t\" SET \"c\" = 1 WHERE \"a\" = 2")
        #expect(ColumnDrop.rewrite("CREATE INDEX \"t_i\" ON \"t\" (\"b\")", table: "t", column: "b") == "")
        #expect(ColumnDrop.rewrite("UPDATE \"t\" SET \"c\" = 1 WHERE \"b\" = 'x'", table: "t", column: "b") == nil)
        #expect(ColumnDrop.rewrite("INSERT INTO \"u\" (\"b\") VALUES (1)", table: "t", column: "b") == "INSERT INTO \"u\" (\"b\") VALUES (1)")
        let tracked = TrackedTable(ledgerName: "t", name: "t", columns: ["a", "b", "c"], keyColumns: [], withoutRowid: false)
        let trigger = "CREATE TEMP TRIGGER x AFTER INSERT ON main.\"t\" BEGIN INSERT INTO stress_ledger (image) VALUES (\(tracked.imageExpression("NEW"))); END"
        let smaller = TrackedTable(ledgerName: "t", name: "t", columns: ["a", "c"], keyColumns: [], withoutRowid: false)
        #expect(ColumnDrop.rewrite(trigger, table: "t", column: "b")
            == "CREATE TEMP TRIGGER x AFTER INSERT ON main.\"t\" BEGIN INSERT INTO stress_ledger (image) VALUES (\(smaller.imageExpression("NEW"))); END")
    }

    // A ledger trigger's row image can be written with quote() for reals, one
    // column at a time; blobs keep their exact form, and anything else in the
    // statement stays as it was.
    @Test func rowImagesBecomeQuotes() {
        let tracked = TrackedTable(ledgerName: "t", name: "t", columns: ["a", "b"], keyColumns: [], withoutRowid: false)
        let sql = "CREATE TEMP TRIGGER x AFTER INSERT ON main.\"t\" BEGIN INSERT INTO l (image) VALUES (\(tracked.imageExpression("NEW"))); END"
        func short(_ value: String) -> String {
            "CASE typeof(\(value)) WHEN 'blob' THEN 'B' || length(\(value)) || ':' || \(value) ELSE quote(\(value)) END"
        }
        #expect(ImageExpression.occurrences(in: sql).map(\.quoted) == [short("NEW.\"a\""), short("NEW.\"b\"")])
        #expect(ImageExpression.quoting(sql, [1]) == "CREATE TEMP TRIGGER x AFTER INSERT ON main.\"t\" BEGIN INSERT INTO l (image) VALUES ("
            + "CASE typeof(NEW.\"a\") WHEN 'real' THEN printf('%!.17g', NEW.\"a\") WHEN 'blob' THEN 'B' || length(NEW.\"a\") || ':' || NEW.\"a\" "
            + "ELSE quote(NEW.\"a\") END || ',' || \(short("NEW.\"b\""))); END")
        #expect(ImageExpression.quoting(sql, [0, 1]).hasSuffix("VALUES (\(short("NEW.\"a\"")) || ',' || \(short("NEW.\"b\""))); END"))
    }

    // A log becomes steps: the setup's connection is handed to the first
    // thread (closed and opened again), a second writer gets a connection of
    // its own, a logged reconnect reopens, and each writer's transaction is one unit.
    @Test func logBecomesConnectionsAndUnits() throws {
        let log = try ShrinkLog.parse("""
            -- sqlite-stress stress seed=0x0000000000000009 threads=2 iterations=2 check-every=1000 tables=1
            -- faults: io-error:0.02, power loss
            CREATE TABLE t (a); -- setup x0 ok
            BEGIN; -- t0 x1 ok
            INSERT INTO t VALUES (1); -- t1 x1 ok changes=1
            COMMIT; -- t0 x1 ok
            -- t0 x2 reconnect
            SELECT 1; -- t0 x3 ok rows=1
            """)
        #expect(log.seed == 9)
        #expect(log.faults == [FaultSpec(kind: .ioError, rate: 0.02)])
        #expect(log.losesPower)
        #expect(log.writers == ["setup", "t0", "t1"])
        #expect(log.atoms.map(\.step) == [
            .sql("CREATE TABLE t (a)", on: 0), ScriptStep(connection: 0, action: .reopen), .sql("BEGIN", on: 0),
            .sql("INSERT INTO t VALUES (1)", on: 1), .sql("COMMIT", on: 0), ScriptStep(connection: 0, action: .reopen),
            .sql("SELECT 1", on: 0),
        ])
        // t0's transaction is one unit though t1's statement comes in between.
        #expect(log.atoms[2].unit == log.atoms[4].unit)
        #expect(Set(log.atoms.map(\.unit)).count == 6)
    }

    // A log that ends in part of a line (its writer killed inside that write,
    // here inside a character of two bytes) is read up to its last newline:
    // the part is no statement for shrink to run, as it is none for the replay.
    @Test func aLastLineCutShortIsNoStatement() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("cut.sql")
        let lines = """
            -- sqlite-stress stress seed=0x0000000000000009 threads=1 iterations=2 check-every=1000 tables=1
            CREATE TABLE t (a); -- setup x0 ok
            INSERT INTO t VALUES (1); -- t0 x1 ok changes=1

            """
        try (Data(lines.utf8) + Data("INSERT INTO t VALUES ('caf".utf8) + [0xC3]).write(to: URL(fileURLWithPath: path))
        let log = try ShrinkLog.read(path)
        #expect(log.statements == 2)
        #expect(log.atoms.map(\.step).last == .sql("INSERT INTO t VALUES (1)", on: 0))
    }

    // A script reads back as the steps it was rendered from: what shrink
    // writes is what `--verify` and the sqlite3 shell run.
    @Test func scriptRoundTrips() throws {
        let steps: [ScriptStep] = [
            .sql("CREATE TABLE t (a)"), .sql("INSERT INTO t VALUES ('x;y')"), .sql("BEGIN", on: 1),
            ScriptStep(connection: 0, action: .reopen), .sql("SELECT 1", on: 0),
        ]
        let setting = ShrinkSetting(faults: [FaultSpec(kind: .droppedWrite, rate: 0.005)], faultSeed: 42, crash: .kill)
        let script = ScriptFile(property: .durability, setting: setting, steps: steps)
        let text = script.render(comments: ["a comment"], tables: [.init(name: "t", hasRowid: true)], copied: ["", "-wal"])
        #expect(text.hasPrefix(ScriptFile.headerPrefix + "\n-- a comment\n"))
        #expect(text.contains("\n.connection 1\n.open shrink.db\nBEGIN;\n.connection 0\n.open shrink.db\nSELECT 1;\n"))
        #expect(text.contains(".shell cp shrink.db shrink-crash.db && cp shrink.db-wal shrink-crash.db-wal\n"))
        let back = try ScriptFile.parse(text, path: "x.sql")
        #expect(back.steps == ScriptFile.normalized(steps))
        #expect(back.property == .durability && back.setting == setting)
    }

    // A VACUUM INTO of the log writes the script's own copy, beside the
    // script's database: never the file the run wrote beside the original
    // (which a shrink must not touch, and whose absolute path a script sent
    // on must not carry). Each one writes a fresh copy, as each of the run's
    // did (the run removed each copy once it had checked it), in the script
    // the shell runs and in shrink's own runs alike.
    @Test func aVacuumIntoWritesTheScriptsOwnCopy() throws {
        let original = try TemporaryDirectory()
        let elsewhere = SQLValue.text(original.path("s.db.copy-t0")).sqlLiteral
        let log = try ShrinkLog.parse("""
            -- sqlite-stress stress seed=0x0000000000000009 threads=1 iterations=2 check-every=1000 tables=1
            CREATE TABLE t (a); -- setup x0 ok
            INSERT INTO t VALUES (1); -- t0 x1 ok changes=1
            VACUUM INTO \(elsewhere); -- t0 x2 ok
            INSERT INTO t VALUES (2); -- t0 x3 ok changes=1
            VACUUM INTO \(elsewhere); -- t0 x4 ok
            """)
        let vacuum = ScriptStep.sql("VACUUM INTO 'shrink.db.copy'", on: 0)
        #expect(log.atoms.map(\.step) == [
            .sql("CREATE TABLE t (a)", on: 0), ScriptStep(connection: 0, action: .reopen), .sql("INSERT INTO t VALUES (1)", on: 0),
            vacuum, .sql("INSERT INTO t VALUES (2)", on: 0), vacuum,
        ])

        let work = try TemporaryDirectory()
        let steps = log.atoms.map(\.step) + [.sql("VACUUM INTO \(elsewhere)", on: 0)]  // A script written before: redirected too.
        // The rows of the work directory's copy after each VACUUM INTO (the error, as text, when it cannot be read).
        var copies: [SQLValue?] = []
        _ = try ScriptRunner(directory: work.url.path).run(steps, setting: ShrinkSetting(crash: .kill), checkpoints: [3, 5, 6]) { _, _ in
            do {
                copies.append(try Connection(path: work.path("shrink.db.copy"), flags: [.readOnly]).scalar("SELECT count(*) FROM t"))
            } catch {
                copies.append(.text("\(error)"))
            }
            return false
        }
        #expect(copies == [.integer(1), .integer(2), .integer(2)], "each VACUUM INTO wrote a fresh copy in the work directory")
        #expect(try FileManager.default.contentsOfDirectory(atPath: original.url.path).isEmpty)

        let text = ScriptFile(property: .integrity, setting: ShrinkSetting(crash: .kill), steps: log.atoms.map(\.step))
            .render(comments: [], tables: [], copied: [""])
        #expect(text.contains(" shrink-crash.db-journal shrink.db.copy\n"), "the old copy is among the files removed first")
        #expect(text.contains("\nINSERT INTO t VALUES (1);\n.shell rm -f shrink.db.copy\nVACUUM INTO 'shrink.db.copy';\n"))
        #expect(!text.contains(original.url.path))
        #expect(try ScriptFile.parse(text, path: "x.sql").steps == ScriptFile.normalized(log.atoms.map(\.step)))
    }

    // The oracle of a script must FAIL when the crashed copy lost a committed
    // row (durability), holds a row never committed (rollback), has a schema
    // object never committed (schema), or is damaged (integrity) — and must pass when the copy is exactly what was committed.
    @Test func oracleJudgesTheCrashedCopyAgainstTheCommittedRows() throws {
        let directory = try TemporaryDirectory()
        func judged(_ tamper: String?) throws -> ShrinkVerdict? {
            let live = directory.path("live-\(UUID().uuidString).db"), crashed = live + ".crashed"
            let connection = try Connection(path: live)
            try connection.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b); INSERT INTO t VALUES (1, 'one'), (2, 'two')")
            try FileManager.default.copyItem(atPath: live, toPath: crashed)
            if let tamper {
                let other = try Connection(path: crashed)
                try other.execute(tamper)
                other.close()
            }
            defer { connection.close() }
            return ShrinkOracle.judge(connection, crash: .kill, crashedPath: crashed)
        }
        let clean = try #require(try judged(nil))
        #expect(clean == ShrinkVerdict(committedRows: 2))
        #expect(ShrinkOracle.supported.allSatisfy { !clean.violates($0) })

        let lost = try #require(try judged("DELETE FROM t WHERE a = 2"))
        #expect(lost.violates(.durability) && lost.violates(.model) && !lost.violates(.rollback) && !lost.violates(.integrity))
        #expect(lost.sentence(.durability, crash: .kill) == "durability: VIOLATED — 1 of the 2 committed rows are missing or changed after the crash")

        let leaked = try #require(try judged("INSERT INTO t VALUES (3, 'never committed')"))
        #expect(leaked.violates(.rollback) && !leaked.violates(.durability))

        // schema: a committed index the crashed copy lacks, or an object it has that was never committed.
        let lostIndex = try #require(try judged("CREATE INDEX t_b ON t (b)"))
        #expect(lostIndex.violates(.schema) && !lostIndex.violates(.durability) && !lostIndex.violates(.rollback))
        #expect(lostIndex.sentence(.schema, crash: .kill) == "schema: VIOLATED — 1 schema objects differ after the crash from the committed schema")
        #expect(clean.sentence(.schema, crash: .kill) == "schema: held — the schema after the crash is the committed one")

        let damaged = try #require(try judged("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET rootpage = 3 WHERE name = 't'"))
        #expect(damaged.violates(.integrity))

        // A copy the comparison cannot be asked of (here its table has another
        // shape) is no verdict at all, never a violation.
        #expect(try judged("ALTER TABLE t ADD COLUMN z") == nil)
    }

    // A script's final query prints, word for word, the verdict shrink judged
    // in-process, for each property a script can show on these tables (the
    // accounts' conservation needs the accounts): held, and violated.
    @Test func renderedCheckPrintsTheJudgedSentence() throws {
        let directory = try TemporaryDirectory()
        for tamper in [nil, "DELETE FROM t WHERE a = 2", "INSERT INTO t VALUES (3, 'x')", "CREATE INDEX t_b ON t (b)"] as [String?] {
            let live = directory.path("r-\(UUID().uuidString).db"), crashed = live + ".crashed"
            let setup = try Connection(path: live)
            try setup.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b); INSERT INTO t VALUES (1, 'one'), (2, 'two')")
            try FileManager.default.copyItem(atPath: live, toPath: crashed)
            if let tamper {
                let other = try Connection(path: crashed)
                try other.execute(tamper)
                other.close()
            }
            let verdict = try #require(ShrinkOracle.judge(setup, crash: .kill, crashedPath: crashed))
            let tables = try ShrinkOracle.tables(setup)
            setup.close()
            for property in ShrinkOracle.supported where property != .conservation {
                let connection = try Connection(path: live)
                defer { connection.close() }
                let statements = ShrinkOracle.renderedCheck(property, crash: .kill, tables: tables, crashedFile: crashed)
                for sql in statements.dropLast() { try connection.execute(sql) }
                let printed = try connection.scalar(try #require(statements.last))
                #expect(printed == .text(verdict.sentence(property, crash: .kill)), "\(property) after \(tamper ?? "nothing")")
            }
        }
    }

    // A log of two writers whose statements interleave is replayed in its
    // order, each writer on a connection of its own; shrinking it keeps what
    // damages the database (here one writer's, on one connection), and
    // `shrink --verify` finds the script still failing.
    @Test func twoWriterLogIsSerialisedAndShrunk() throws {
        let directory = try TemporaryDirectory()
        var lines = [
            "-- sqlite-stress stress seed=0x0000000000000002 threads=2 iterations=10 check-every=1000 tables=1",
            "CREATE TABLE t (a, b); -- setup x0 ok",
            "CREATE INDEX t_b ON t (b); -- setup x0 ok",
        ]
        for n in 1...5 {
            lines += [
                "BEGIN; -- t0 x\(n) ok",
                "INSERT INTO t VALUES (\(n), \(n * 3)); -- t0 x\(n) ok changes=1",
                "SELECT count(*) FROM t; -- t1 x\(n) ok rows=1",
                "COMMIT; -- t0 x\(n) ok",
            ]
        }
        lines += [
            "PRAGMA writable_schema = ON; -- t1 x6 ok",
            "SELECT 1; -- t0 x6 ok rows=1",
            "UPDATE sqlite_schema SET sql = 'CREATE INDEX t_b ON t (a)' WHERE name = 't_b'; -- t1 x6 ok changes=1",
        ]
        let log = directory.path("two.sql")
        try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let parsed = try ShrinkLog.read(log)
        #expect(Set(parsed.atoms.map(\.step.connection)) == [0, 1], "t0 takes the setup's connection, t1 has its own")
        let script = directory.path("two-out.sql")
        let outcome = try FaultVFSAccess.exclusively {  // A shrink arms the process's fault VFS.
            try Shrinker(Shrinker.Request(
                settings: nil, logPath: log, property: .integrity, outPath: script, maxTests: 500, timeLimit: 0)).run()
        }
        #expect(outcome.produced)
        #expect(outcome.setting == ShrinkSetting(crash: .none))
        let steps = try ScriptFile.read(script).steps
        #expect(steps.compactMap(\.sql).contains { $0.hasPrefix("UPDATE sqlite_schema") })
        #expect(steps.compactMap(\.sql).count <= 5, "\(steps)")
        #expect(try FaultVFSAccess.exclusively { try ScriptVerification.run(script) }.fails)
    }

    // A synthetic failure — a log whose replay damages an index with SQL alone —
    // shrinks to the few statements that do it, under the smallest setting (no
    // fault, no crash), and the same input gives the same script byte for byte.
    @Test func syntheticFailureShrinksDeterministically() throws {
        let directory = try TemporaryDirectory()
        let log = directory.path("synthetic.sql")
        try syntheticLog().write(toFile: log, atomically: true, encoding: .utf8)
        func shrink(_ name: String) throws -> (ShrinkOutcome, String) {
            let request = Shrinker.Request(
                settings: nil, logPath: log, property: .integrity, outPath: directory.path(name), maxTests: 500, timeLimit: 0)
            let outcome = try FaultVFSAccess.exclusively { try Shrinker(request).run() }  // A shrink arms the process's fault VFS.
            return (outcome, try String(contentsOfFile: directory.path(name), encoding: .utf8))
        }
        let (outcome, first) = try shrink("a.sql")
        let (_, second) = try shrink("b.sql")
        #expect(first == second)
        #expect(outcome.setting == ShrinkSetting(crash: .none))
        #expect(outcome.observed.hasPrefix("integrity: VIOLATED — "))
        let steps = try ScriptFile.parse(first, path: "a.sql").steps.compactMap(\.sql)
        #expect(steps.contains("PRAGMA writable_schema = ON"))
        #expect(steps.contains { $0.hasPrefix("UPDATE sqlite_schema") })
        #expect(steps.count <= 6, "\(steps)")
        #expect(!steps.contains { $0.contains("t0") }, "t0 has nothing to do with the damage: \(steps)")
    }
}
