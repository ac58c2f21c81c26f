import Foundation
import StressSQLite
import Synchronization
import Testing

@testable import StressKit

@Suite struct SchemaChangeTests {
    /// The first object two shapes disagree on, for a failure message.
    static func mismatch(_ expected: SchemaShape, _ actual: SchemaShape) -> String {
        for key in Set(expected.objects.keys).union(actual.objects.keys).sorted() where expected.objects[key] != actual.objects[key] {
            let (want, have) = SchemaShape.difference(expected.objects[key]?.lines ?? [], actual.objects[key]?.lines ?? [])
            return "\(key): expected \(want), actual \(have)"
        }
        return "none"
    }

    // Every schema change drawn for a schema is accepted by SQLite and leaves
    // exactly the schema it says (the `schema` property's comparison of
    // sqlite_schema with the recorded schema finds nothing), over long random
    // sequences of changes of every kind on tables with rows.
    @Test func changesAreAcceptedAndLeaveTheSchemaTheySay() throws {
        var kinds = Set<SchemaChangeKind>()
        for seed in UInt64(0)..<60 {
            var rng = Xoshiro(seed: seed)
            var schema = SchemaGenerator.generate(using: &rng)
            let db = try Connection(path: ":memory:")
            for sql in ["PRAGMA foreign_keys = ON"] + schema.createStatements + Bookkeeping.creationStatements { try db.execute(sql) }
            for step in 0..<40 {
                // Rows, so that changes meet data (errors of random rows are the rows' own).
                for _ in 0..<3 {
                    let table = rng.pick(schema.tables)
                    _ = try? db.execute(StatementGenerator.generate(.insert, on: table, tag: 1, using: &rng))
                }
                let kind = rng.pick(SchemaChangeKind.changes)
                guard let change = SchemaChange.draw(kind, in: schema, using: &rng) else { continue }
                var refused = false
                for sql in change.statements {
                    do {
                        try db.execute(sql)
                    } catch where kind == .createIndex && error.code.primary == .constraint {
                        refused = true  // A UNIQUE index over duplicate values; the schema stays as it was.
                    } catch {
                        Issue.record("seed \(seed) step \(step): \(error)")
                        return
                    }
                }
                if refused { continue }
                schema = change.schema
                kinds.insert(kind)
                let expected = SchemaShape.expected(schema), actual = try SchemaShape.actual(db)
                #expect(expected == actual, "seed \(seed) after \(change.statements): \(Self.mismatch(expected, actual))")
            }
        }
        #expect(kinds == Set(SchemaChangeKind.changes))
    }

    // The image field a rebase appends for an added column's default is what
    // SQLite stores and renders for the table's existing rows, for a default
    // of every type the workload adds; and images split back into their fields
    // whatever commas and quotes their text holds.
    @Test func rebasedImagesAreWhatSQLiteRenders() throws {
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE t (a, stress_tag INTEGER); INSERT INTO t VALUES (1, 1)")
        var rng = Xoshiro(seed: 3)
        var column = 0
        for type in ColumnType.ordinary + [.any] {
            for _ in 0..<12 {
                let value = ValueGenerator.addedColumnDefault(for: type, using: &rng)
                column += 1
                let declared = type == .untyped || type == .any ? "" : " " + type.rawValue
                try db.execute("ALTER TABLE t ADD COLUMN x\(column)\(declared) DEFAULT \(Column.defaultLiteral(value))")
                let rendered = try db.scalar(
                    "SELECT CASE typeof(x\(column)) WHEN 'real' THEN printf('%!.17g', x\(column)) ELSE quote(x\(column)) END FROM t")
                #expect(rendered == .text(RowImage.render(value)), "\(type) default \(value)")
            }
        }
        let image = Array("1,'a,b',X'2C27','it''s, ok',NULL,1.5".utf8)
        let fields = try #require(RowImage.fields(image, count: 6))
        #expect(fields.map { String(decoding: $0, as: UTF8.self) } == ["1", "'a,b'", "X'2C27'", "'it''s, ok'", "NULL", "1.5"])
        #expect(RowImage.fields(image, count: 5) == nil)
        #expect(RowImage.fields(Array("'open,1".utf8), count: 2) == nil)
    }

    // The ledger triggers' guard: a connection whose triggers were built before
    // another connection changed the schema cannot write through them — the
    // statement is aborted whole (SQLITE_CONSTRAINT_TRIGGER, the guard's
    // message), nothing of it lands, and triggers built for the new cookie work.
    @Test func staleTriggersAbortTheirStatement() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("guard.db")
        let writer = try Connection(path: path), other = try Connection(path: path)
        for sql in Bookkeeping.creationStatements + ["CREATE TABLE t (a, stress_tag INTEGER)"] + Bookkeeping.contextStatements(who: "w") {
            try writer.execute(sql)
        }
        let table = TrackedTable(ledgerName: "t", name: "t", columns: ["a", "stress_tag"], keyColumns: [], withoutRowid: false)
        func cookie() throws -> Int64 {
            if case .integer(let value)? = try writer.scalar("PRAGMA schema_version") { return value }
            return -1
        }
        for sql in table.triggerStatements(cookie: try cookie()) { try writer.execute(sql) }
        try writer.execute("INSERT INTO t VALUES (1, 1)")
        try other.execute("ALTER TABLE t ADD COLUMN b DEFAULT 7")
        do {
            try writer.execute("INSERT INTO t (a, stress_tag) VALUES (2, 2)")
            Issue.record("a write through a stale trigger went through")
        } catch {
            #expect(error.code == .constraintTrigger)
            #expect(error.message == Bookkeeping.schemaChangedMessage)
        }
        #expect(try writer.scalar("SELECT count(*) FROM t") == .integer(1))
        #expect(try writer.scalar("SELECT count(*) FROM stress_ledger") == .integer(1))
        let widened = TrackedTable(ledgerName: "t", name: "t", columns: ["a", "stress_tag", "b"], keyColumns: [], withoutRowid: false)
        for sql in TrackedTable.dropTriggerStatements(ledgerName: "t") + widened.triggerStatements(cookie: try cookie()) {
            try writer.execute(sql)
        }
        try writer.execute("INSERT INTO t (a, stress_tag) VALUES (2, 2)")
        #expect(try writer.scalar("SELECT image FROM stress_ledger ORDER BY seq DESC LIMIT 1") == .text("2,2,7"))
    }

    // Why a worker reopens its connection when a table under its triggers was
    // dropped or renamed elsewhere (SQLite 3.40.1 and later): once the
    // connection reloads its schema, the orphaned TEMP trigger is out of DROP
    // TRIGGER's reach, yet every ALTER TABLE … RENAME on that connection fails on it.
    @Test func orphanedTempTriggersNeedANewConnection() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("orphan.db")
        let mine = try Connection(path: path), theirs = try Connection(path: path)
        try mine.execute("CREATE TABLE t (a); CREATE TABLE u (b); CREATE TABLE log (x)")
        try mine.execute("CREATE TEMP TRIGGER tr AFTER INSERT ON main.t BEGIN INSERT INTO log VALUES (new.a); END")
        try theirs.execute("DROP TABLE t")
        _ = try mine.query("SELECT * FROM main.u")  // Reloads the schema.
        try mine.execute("DROP TRIGGER IF EXISTS temp.tr")
        #expect(try mine.scalar("SELECT count(*) FROM temp.sqlite_schema WHERE type = 'trigger'") == .integer(1))
        #expect(throws: SQLiteError.self) { try mine.execute("ALTER TABLE u RENAME TO u2") }
        mine.close()
        let fresh = try Connection(path: path)
        try fresh.execute("ALTER TABLE u RENAME TO u2")
        fresh.close()
    }
}

/// What a hundred short runs exercise, summed.
@Suite struct CoverageTests {
    // Over 100 seeds, every statement kind, maintenance kind, schema change and
    // schema feature shows in the counters (a VACUUM INTO copy checked, a schema
    // change rolled back among them), and every run passes.
    @Test func hundredSeedsCoverEveryKindAndFeature() throws {
        let directory = try TemporaryDirectory()
        let folder = directory.url.path
        let results = Mutex<[(UInt64, StressReport?)]>([])
        // Ten at a time, and unsynced: what is counted here is the work, not its durability.
        DispatchQueue.concurrentPerform(iterations: 10) { slice in
            for seed in UInt64(slice * 10)..<UInt64(slice * 10 + 10) {
                let db = folder + "/c\(seed).db"
                let settings = StressSettings(
                    databasePath: db, randomness: .seed(seed), iterations: 60, synchronous: "off", checkEvery: 0)
                let report = try? StressRun.prepare(settings).run()
                results.withLock { $0.append((seed, report)) }
            }
        }
        var total = Counters()
        for (seed, report) in results.withLock({ $0 }) {
            let report = try #require(report, "seed \(seed) did not run")
            #expect(report.passed, "seed \(seed): \(report.violations)")
            #expect(report.counters[.unexpectedErrors] == 0, "seed \(seed): \(report.unexpectedErrors)")
            total.add(report.counters)
        }
        for kind in StatementKind.allCases { #expect(total[kind] > 0, "no \(kind.rawValue)") }
        for kind in MaintenanceKind.allCases { #expect(total[kind] > 0, "no \(kind.rawValue)") }
        for kind in SchemaChangeKind.allCases { #expect(total[kind] > 0, "no \(kind.rawValue)") }
        for feature in SchemaFeature.allCases { #expect(total[feature] > 0, "no \(feature.rawValue)") }
        #expect(total[.copiesChecked] > 0)
        #expect(total[.schemaChangesRolledBack] > 0)
    }
}
