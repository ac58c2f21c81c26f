import Foundation
import StressSQLite
import Testing

@testable import StressKit

/// A temporary directory removed at the end of the test.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-stress-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// Runs a small stress run and returns its report.
func stress(
    _ db: String, seed: UInt64, threads: Int = 1, iterations: Int = 100, journalMode: JournalMode? = nil, checkEvery: Int = 25,
    schemaChanges: Bool = true
) throws -> StressReport {
    let settings = StressSettings(
        databasePath: db, randomness: .seed(seed), threads: threads, iterations: iterations, journalMode: journalMode, checkEvery: checkEvery,
        schemaChanges: schemaChanges)
    return try StressRun.prepare(settings).run()
}

/// The lines of the SQL log of the run on `db`.
func sqlLogLines(_ db: String) throws -> [Substring] {
    try String(contentsOfFile: db + ".sql", encoding: .utf8).split(separator: "\n")
}

/// A worker wired the way the monolith wires its threads, to run checks on `db`.
func checkingWorker(thread: Int, db: String, in directory: TemporaryDirectory) throws -> (Worker, RunContext) {
    let run = try StressRun.prepare(StressSettings(databasePath: directory.path("unused.db"), randomness: .seed(1)))
    let context = RunContext(
        log: try SQLLog(path: directory.path("check.sql")), acks: try AckLog(path: AckLog.path(for: db)),
        settings: StressSettings(databasePath: db, randomness: .seed(1)), config: run.config,
        generator: WorkloadGenerator(schema: run.schema, swarm: run.swarm))
    return (Worker(thread: thread, context: context), context)
}

/// A database with the oracle's bookkeeping and nothing else, made by `sql` after it.
func bookkeepingDatabase(_ path: String, _ sql: String) throws {
    let connection = try Connection(path: path)
    for statement in Bookkeeping.creationStatements { try connection.execute(statement) }
    try connection.execute(sql)
    connection.close()
}

/// The database's schema cookie, as `connection` sees it now.
func schemaCookie(_ connection: Connection) throws -> Int64 {
    let value = try #require(try connection.scalar("PRAGMA schema_version"))
    guard case .integer(let cookie) = value else { throw ToolError("PRAGMA schema_version gave \(value).") }
    return cookie
}

@Suite struct IntegrityCheckTests {
    // A clean run passes every property, including its periodic checks, in every journal mode.
    @Test(arguments: JournalMode.allCases)
    func cleanRunsPass(_ mode: JournalMode) throws {
        let directory = try TemporaryDirectory()
        let report = try stress(directory.path("clean.db"), seed: 11, iterations: 150, journalMode: mode)
        #expect(report.passed, "\(report.violations)")
        #expect(report.counters[.checks] >= 7)  // 150/25 periodic + the final one
        #expect(report.counters[.unexpectedErrors] == 0, "\(report.unexpectedErrors)")
        let final = try #require(report.finalCheck)
        #expect(final.results.map(\.property) == Property.allCases)
        #expect(final.results.allSatisfy { $0.status == .pass })
    }

    // A transaction names its id in the context table just before its first
    // write and where its writes change sides, and nowhere else: not before a
    // read, BEGIN, a SAVEPOINT or a RELEASE, which fire no trigger, nor before
    // a ROLLBACK TO, which restores what the context held at the savepoint,
    // nor before its end (a ROLLBACK undoes the context too, and the commit
    // record names its transaction itself). The run still passes: every
    // ledger entry carries the sign of its rows, which `rollback` and `model`
    // would tell otherwise.
    @Test func theContextIsSetOnlyWhereTheWorkChangesSides() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("ctx.db")
        // Without schema changes: a schema rollback sets its ids where its own flow needs them.
        let report = try stress(db, seed: 1, iterations: 300, checkEvery: 100, schemaChanges: false)
        #expect(report.passed, "\(report.violations)")
        #expect(report.counters[.unexpectedErrors] == 0, "\(report.unexpectedErrors)")
        let statements = try sqlLogLines(db).filter { !$0.hasPrefix("--") }
        let contexts = statements.filter { $0.hasPrefix("UPDATE temp.stress_ctx SET tx = ") }
        try #require(contexts.contains { $0.hasPrefix("UPDATE temp.stress_ctx SET tx = -") } && contexts.count > 100,
                     "the seed no longer sets ids on both sides: the workload changed under it")
        let undone = statements.indices.dropFirst().filter { statements[$0].hasPrefix("ROLLBACK TO ") }
        try #require(undone.contains { statements[$0 - 1].contains("stress_tag\" = -") || statements[$0 - 1].contains(", -") },
                     "the seed no longer undoes a write with ROLLBACK TO: the workload changed under it")
        let writes = ["INSERT", "REPLACE", "UPDATE", "DELETE", "WITH", "SAVEPOINT transfer;"]  // A transfer writes in a savepoint of its own.
        for (line, next) in zip(statements, statements.dropFirst()) where line.hasPrefix("UPDATE temp.stress_ctx SET tx = ") {
            #expect(writes.contains(where: next.hasPrefix) && !next.hasPrefix("INSERT INTO stress_ledger (tx, tbl, key, image) VALUES ("),
                    "\(line)\n\(next)")
        }
    }

    // A representative slice of the false-alarm sweep (bench/sweep runs the whole):
    // seeds × journal modes × one and four threads, every property passing.
    @Test(arguments: JournalMode.allCases, [1, 4])
    func sweepSliceHasNoFalseAlarms(_ mode: JournalMode, _ threads: Int) throws {
        let directory = try TemporaryDirectory()
        for seed in UInt64(100)..<UInt64(103) {
            let report = try stress(
                directory.path("sweep-\(seed).db"), seed: seed, threads: threads, iterations: 120, journalMode: mode, checkEvery: 40)
            #expect(report.passed, "seed \(seed) \(mode) × \(threads): \(report.violations)")
            #expect(report.counters[.unexpectedErrors] == 0, "\(report.unexpectedErrors)")
        }
    }

    // A page overwritten behind SQLite's back is reported as an `integrity`
    // violation naming the thread and the SQL log line of the check.
    @Test func corruptPageIsReported() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("corrupt.db")
        let report = try stress(db, seed: 5, iterations: 300, journalMode: .delete)
        #expect(report.passed)

        let (worker, context) = try checkingWorker(thread: 3, db: db, in: directory)
        let before = try Connection(path: db)
        #expect(worker.check(before)?.passed == true)  // Still clean: the checker passes it.
        before.close()

        try corruptPage(of: db)
        let connection = try Connection(path: db)
        let after = try #require(worker.check(connection))
        #expect(after.result(.integrity)?.status == .fail)
        let violation = try #require(context.violations.withLock { $0.first })
        #expect(violation.property == .integrity)
        #expect(violation.thread == "t3")
        #expect(violation.logLine == context.log.lineCount)
        #expect(violation.logLine >= 2)
        #expect(violation.description.contains("SQL log line \(violation.logLine)"))
    }

    // A NULL really stored in a NOT NULL column of a WITHOUT ROWID table is a
    // violation even on SQLite versions with the false "NULL value in" report:
    // the scan that discounts false claims must not discount true ones.
    @Test func realNullInNotNullColumnIsReported() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("null.db")
        try bookkeepingDatabase(db, """
            CREATE TABLE w(b, a, c, PRIMARY KEY (c, b)) WITHOUT ROWID;
            INSERT INTO w VALUES (1, NULL, 3);
            PRAGMA writable_schema = ON;
            UPDATE sqlite_schema SET sql = 'CREATE TABLE w(b, a NOT NULL, c, PRIMARY KEY (c, b)) WITHOUT ROWID' WHERE name = 'w';
            PRAGMA writable_schema = OFF;
            """)
        let report = try Checker(connection: try Connection(path: db), who: "check").run(acknowledgements: db + ".acks", randomness: .seed(1))
        let integrity = try #require(report.result(.integrity))
        #expect(integrity.status == .fail)
        #expect(integrity.violations.first?.details["integrity_check"]?.contains("NULL value in w.a") == true)
    }

    // SQLite 3.40.0–3.41.0 claim NULLs that are not there; the checker verifies
    // and discounts them (and says so), and never raises a violation for them.
    @Test func falseNullReportsAreDiscounted() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("false.db")
        try bookkeepingDatabase(db, "CREATE TABLE w(b, a NOT NULL, c, PRIMARY KEY (c, b)) WITHOUT ROWID; INSERT INTO w VALUES (1, 2, 3)")
        let report = try Checker(connection: try Connection(path: db), who: "check").run(acknowledgements: db + ".acks", randomness: .seed(1))
        let integrity = try #require(report.result(.integrity))
        #expect(integrity.status == .pass, "\(integrity.violations)")
        #expect(integrity.checked.contains("disproved") == IntegrityCheck.libraryHasFalseNullReport)
    }

    // The claim parser and the version range.
    @Test func nullClaimsAndVersions() {
        #expect(IntegrityCheck.nullClaim(in: "NULL value in t5.c0")! == ("t5", "c0"))
        #expect(IntegrityCheck.nullClaim(in: "row 3 missing from index t0_i1") == nil)
        #expect(IntegrityCheck.falseNullReportVersions.contains(Version("3.40.1")!))
        #expect(!IntegrityCheck.falseNullReportVersions.contains(Version("3.41.1")!))
        #expect(!IntegrityCheck.falseNullReportVersions.contains(Version("3.39.4")!))
    }
}

/// Overwrites the middle of page 2 (a b-tree or pointer-map page) with garbage.
func corruptPage(of path: String, page: Int = 2) throws {
    let handle = try #require(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    let header = try #require(try handle.read(upToCount: 100))
    let raw = Int(header[16]) << 8 | Int(header[17])
    let pageSize = raw == 1 ? 65536 : raw
    try handle.seek(toOffset: UInt64((page - 1) * pageSize + 8))
    handle.write(Data(repeating: 0xA5, count: min(pageSize - 16, 400)))
}
