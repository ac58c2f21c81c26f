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

    // No name is given twice. A connection keeps its ledger triggers across a
    // cookie move when its table's `TrackedTable` (names only) is unchanged,
    // and SQLite orphans a TEMP trigger whose table was dropped: a table
    // created again under a dropped table's name and id would compare equal
    // and keep triggers that no longer fire, and its writes would escape the
    // ledger. The ledger keys its entries by the table's id, so an id given to
    // a second table would merge two tables' histories. So over long random
    // sequences of changes, a table name once held by one table never names
    // another, a table id never comes back once its table is gone, and a
    // column name a table gave up never returns to it (a `TrackedTable` names
    // one set of columns for what they are).
    @Test func namesAreNeverGivenTwice() throws {
        var namesGivenUp = (tables: 0, columns: 0)
        for seed in UInt64(0)..<200 {
            var rng = Xoshiro(seed: seed)
            var schema = SchemaGenerator.generate(using: &rng)
            var tableOfName: [String: String] = [:]  // Table name → the id of the table that held it first.
            var columnsSeen: [String: [String: Int]] = [:]  // Table id → column name → its column's id.
            var columnsLeft: [String: Set<String>] = [:]  // Table id → names its columns gave up.
            var tablesGone = Set<String>()  // Table names no table holds any more.
            var idsSeen = Set<String>(), idsGone = Set<String>()
            func note(_ schema: Schema, _ step: Int) {
                let ids = Set(schema.tables.map(\.id))
                for id in ids { #expect(!idsGone.contains(id), "seed \(seed) step \(step): table id \(id) came back") }
                idsGone.formUnion(idsSeen.subtracting(ids))
                idsSeen.formUnion(ids)
                let names = Set(schema.tables.map(\.name))
                namesGivenUp.tables += tableOfName.keys.filter { !names.contains($0) && !tablesGone.contains($0) }.count
                tablesGone.formUnion(tableOfName.keys.filter { !names.contains($0) })
                for table in schema.tables {
                    let holder = tableOfName[table.name, default: table.id]
                    #expect(holder == table.id, "seed \(seed) step \(step): table name \(table.name) held by \(holder), then by \(table.id)")
                    tableOfName[table.name] = holder
                    let now = Dictionary(uniqueKeysWithValues: table.columns.map { ($0.name, $0.id) })
                    for (name, id) in now {
                        let before = columnsSeen[table.id, default: [:]][name, default: id]
                        #expect(before == id, "seed \(seed) step \(step): column \(table.id).\(name) was column \(before), now \(id)")
                        #expect(!columnsLeft[table.id, default: []].contains(name), "seed \(seed) step \(step): column name \(table.id).\(name) came back")
                    }
                    for name in columnsSeen[table.id, default: [:]].keys where now[name] == nil {
                        if columnsLeft[table.id, default: []].insert(name).inserted { namesGivenUp.columns += 1 }
                    }
                    columnsSeen[table.id, default: [:]].merge(now) { old, _ in old }
                }
            }
            note(schema, 0)
            for step in 1...80 {
                guard let change = SchemaChange.draw(rng.pick(SchemaChangeKind.changes), in: schema, using: &rng) else { continue }
                schema = change.schema
                note(schema, step)
            }
        }
        // The sequences did drop and rename tables and columns, whose names could have come back.
        #expect(namesGivenUp.tables > 100 && namesGivenUp.columns > 100, "\(namesGivenUp)")
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
                let rendered = try db.scalar("SELECT CAST(\(TrackedTable.fieldExpression("x\(column)")) AS BLOB) FROM t")
                #expect(rendered == .blob(RowImage.render(value)), "\(type) default \(value)")
            }
        }
        // A blob's bytes may hold commas, quotes, a B, digits and a colon: its length says where it ends.
        let image = Array("1,'a,b',B4:,'B1,'it''s, ok',NULL,1.5,B0:".utf8)
        let fields = try #require(RowImage.fields(image, count: 7))
        #expect(fields.map { String(decoding: $0, as: UTF8.self) } == ["1", "'a,b'", "B4:,'B1", "'it''s, ok'", "NULL", "1.5", "B0:"])
        #expect(RowImage.fields(image, count: 6) == nil)
        #expect(RowImage.fields(Array("'open,1".utf8), count: 2) == nil)
        for damaged in ["B5:,'B1", "B4:,'B1x", "B:", "B4", "Bx:1234", "1,B99999999999999999999:"] {
            #expect(RowImage.fields(Array(damaged.utf8)) == nil, "\(damaged)")
        }
    }

    // Reports show an image with each blob in hex, as quote() writes it; an
    // image whose blob is damaged is shown as it stands. A rebase writes an
    // image's exact bytes into its SQL, on one line of the log.
    @Test func imagesAreShownWithBlobsInHex() {
        #expect(RowImage.display(Array("1,B3:".utf8) + [0x00, 0x2C, 0xFF] + Array(",'x',B0:".utf8)) == "1,X'002CFF','x',X''")
        #expect(RowImage.display(Array("1,B9:ab".utf8)) == "1,B9:ab")
        #expect(RowImage.literal(Array("'it''s'".utf8)) == "'''it''''s'''")
        #expect(RowImage.literal(Array("B2:".utf8) + [0x00, 0xFF]) == "CAST(X'42323A00FF' AS TEXT)")
        #expect(RowImage.literal(Array("B2:".utf8) + [0x0A, 0x41]) == "CAST(X'42323A0A41' AS TEXT)")
        #expect(RowImage.literal(Array("'a\rb'".utf8)) == "CAST(X'27610D6227' AS TEXT)")
        #expect(RowImage.literal(Array("'a\u{0C}b'".utf8)) == "CAST(X'27610C6227' AS TEXT)")
        #expect(RowImage.literal(Array("'a\tb'".utf8)) == "'''a\tb'''")
    }

    // The ledger triggers' guard: a connection whose schema was read before
    // another connection changed it cannot write through its triggers — the
    // statement is aborted whole (SQLITE_CONSTRAINT_TRIGGER, the guard's
    // message), nothing of it lands, and triggers built for the new schema,
    // under a context statement naming the new cookie, work.
    @Test func staleTriggersAbortTheirStatement() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("guard.db")
        let writer = try Connection(path: path), other = try Connection(path: path)
        for sql in Bookkeeping.creationStatements + ["CREATE TABLE t (a, stress_tag INTEGER)"] + Bookkeeping.contextStatements {
            try writer.execute(sql)
        }
        let table = TrackedTable(ledgerName: "t", name: "t", columns: ["a", "stress_tag"], keyColumns: [], withoutRowid: false)
        for sql in table.triggerStatements { try writer.execute(sql) }
        try writer.execute(Bookkeeping.contextStatement(tx: 1, cookie: try schemaCookie(writer)))
        try writer.execute("INSERT INTO t VALUES (1, 1)")
        try other.execute("ALTER TABLE t ADD COLUMN b DEFAULT 7")
        try expectGuardAborts(writer, "INSERT INTO t (a, stress_tag) VALUES (2, 2)")
        #expect(try writer.scalar("SELECT count(*) FROM t") == .integer(1))
        #expect(try writer.scalar("SELECT count(*) FROM stress_ledger") == .integer(1))
        let widened = TrackedTable(ledgerName: "t", name: "t", columns: ["a", "stress_tag", "b"], keyColumns: [], withoutRowid: false)
        for sql in TrackedTable.dropTriggerStatements(ledgerName: "t") + widened.triggerStatements { try writer.execute(sql) }
        try writer.execute(Bookkeeping.contextStatement(tx: 2, cookie: try schemaCookie(writer)))
        try writer.execute("INSERT INTO t (a, stress_tag) VALUES (2, 2)")
        #expect(try writer.scalar("SELECT image FROM stress_ledger ORDER BY seq DESC LIMIT 1") == .text("2,2,7"))
    }

    // The guard follows the cookie the context statement names, not one built
    // into the triggers: after a cookie move that leaves the table as it was
    // (VACUUM, an index on it, a change to another table), the same triggers
    // refuse writes until the connection names the new cookie, then record
    // them as before. No context statement yet: no write at all.
    @Test func triggersOutliveACookieMoveThatLeavesTheirTable() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("guard.db")
        let writer = try Connection(path: path), other = try Connection(path: path)
        for sql in Bookkeeping.creationStatements + ["CREATE TABLE t (a, stress_tag INTEGER)", "CREATE TABLE u (b)"]
            + Bookkeeping.contextStatements {
            try writer.execute(sql)
        }
        let table = TrackedTable(ledgerName: "t", name: "t", columns: ["a", "stress_tag"], keyColumns: [], withoutRowid: false)
        for sql in table.triggerStatements { try writer.execute(sql) }
        try expectGuardAborts(writer, "INSERT INTO t VALUES (1, 1)")
        var recorded: Int64 = 0
        for move in ["VACUUM", "CREATE INDEX t_a ON t (a)", "ALTER TABLE u ADD COLUMN c"] {
            let before = try schemaCookie(writer)
            try writer.execute(Bookkeeping.contextStatement(tx: recorded + 1, cookie: before))
            try writer.execute("INSERT INTO t VALUES (\(recorded + 1), \(recorded + 1))")
            recorded += 1
            try other.execute(move)
            #expect(try schemaCookie(writer) != before, "\(move) moves the cookie")
            try expectGuardAborts(writer, "INSERT INTO t VALUES (0, 0)")
            try writer.execute(Bookkeeping.contextStatement(tx: recorded + 1, cookie: try schemaCookie(writer)))
            try writer.execute("INSERT INTO t VALUES (\(recorded + 1), \(recorded + 1))")
            recorded += 1
        }
        #expect(try writer.scalar("SELECT count(*) FROM t") == .integer(recorded))
        #expect(try writer.scalar("SELECT group_concat(image, ' ') FROM (SELECT image FROM stress_ledger ORDER BY seq)")
            == .text((1...recorded).map { "\($0),\($0)" }.joined(separator: " ")))
    }

    // A worker keeps its ledger triggers across a cookie move that leaves its
    // tables as they were: on this seed (one thread, no schema changes, no
    // reconnects) VACUUM, ANALYZE and PRAGMA optimize move the cookie, yet
    // the worker's connection creates each table's triggers once and drops
    // none, and every property still holds.
    @Test func vacuumAndAnalyzeRebuildNoTrigger() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("v.db")
        let report = try stress(db, seed: 1, iterations: 300, checkEvery: 100, schemaChanges: false)
        #expect(report.passed, "\(report.violations)")
        let log = try sqlLogLines(db)
        let moves = log.filter { $0.hasPrefix("VACUUM; ") || $0.hasPrefix("ANALYZE") || $0.hasPrefix("PRAGMA optimize") }
        try #require(moves.count > 3, "the seed no longer moves the cookie this way: the workload changed under it")
        #expect(!log.contains { $0.hasSuffix(" reconnect") })
        #expect(report.counters[.unexpectedErrors] == 0, "\(report.unexpectedErrors)")
        let created = log.filter { $0.hasPrefix("CREATE TEMP TRIGGER ") && $0.contains("; -- t0 ") }.map { $0.split(separator: " ")[3] }
        try #require(created.count >= 3 * 2, "the worker built the triggers of fewer than two tables")
        #expect(created.count == Set(created).count, "a trigger was created twice")
        #expect(!log.contains { $0.hasPrefix("DROP TRIGGER") })
    }

    private func expectGuardAborts(_ connection: Connection, _ sql: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        do {
            try connection.execute(sql)
            Issue.record("a write went through triggers whose cookie is not the schema's", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .constraintTrigger, sourceLocation: sourceLocation)
            #expect(error.message == Bookkeeping.schemaChangedMessage, sourceLocation: sourceLocation)
        }
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

extension SchemaChangeTests {
    // Foreign-key actions and the user's own triggers write other tables than
    // the statement names; those writes land in the ledger through the other
    // tables' ledger triggers, exactly: after a parent's rows are deleted and
    // re-keyed, the ledger holds the cascaded deletions, the children set to
    // NULL and the audit rows, and every property holds.
    @Test func cascadesAndTriggerWritesLandInTheLedger() throws {
        let (scratch, db, acks) = try Self.parentAndChildren(triggersOn: nil)
        defer { withExtendedLifetime(scratch) {} }
        #expect(try db.scalar("SELECT count(*) FROM c") == .integer(2))
        #expect(try db.scalar("SELECT group_concat(c1) FROM (SELECT c1 FROM c ORDER BY c0)") == .text("7,3"))
        #expect(try db.scalar("SELECT count(*) FROM n WHERE c1 IS NULL") == .integer(2))
        let entries = { (table: String) throws -> SQLValue? in
            try db.scalar("SELECT count(*) FROM stress_ledger WHERE tx = 2 AND tbl = ?", [.text(table)])
        }
        #expect(try entries("c") == .integer(2))  // Child 10 deleted, child 11 re-keyed.
        #expect(try entries("n") == .integer(2))  // Children 20 and 21 set to NULL.
        #expect(try entries("a") == .integer(2))  // The delete and the update audited.
        let report = try Checker(connection: db, who: "test").run(acknowledgements: acks, randomness: .seed(1))
        #expect(report.results.allSatisfy { $0.status == .pass }, "\(report.table)\n\(report.violations)")
    }

    // The same writes with ledger triggers on the parent alone (what a
    // connection would have if it installed only the tables its statements
    // name): the children's and the audit table's changes go unrecorded, and
    // `model` names them.
    @Test func writesAFewTablesAwayNeedTheirTriggers() throws {
        let (scratch, db, acks) = try Self.parentAndChildren(triggersOn: ["p", Bookkeeping.accounts])
        defer { withExtendedLifetime(scratch) {} }
        let report = try Checker(connection: db, who: "test").run(acknowledgements: acks, randomness: .seed(1))
        #expect(report.result(.model)?.status == .fail)
        let tables = Set((report.result(.model)?.violations ?? []).compactMap { $0.details["table"] })
        #expect(tables == ["c", "n", "a"], "\(tables)")
    }

    /// A parent, a child that CASCADEs, one that is SET NULL, and an audit table
    /// filled by the parent's triggers; rows written (tx 1), then a parent
    /// deleted and another re-keyed (tx 2), both acknowledged. Ledger triggers on
    /// `triggersOn` (every table when nil). Returns the directory (removed when
    /// released), the connection and the ack log.
    static func parentAndChildren(triggersOn: Set<String>?) throws -> (TemporaryDirectory, Connection, String) {
        func column(_ id: Int, _ type: ColumnType) -> Column { Column(id: id, name: "c\(id)", type: type) }
        func table(_ id: String, _ columns: [Column]) -> Table {
            Table(id: id, name: id, columns: columns + [.tag(id: columns.count)], key: .integerPrimaryKey(column: 0),
                  withoutRowid: false, indexes: [], keySpace: 8, nextColumn: columns.count + 1)
        }
        var cascade = column(1, .integer), setNull = column(1, .integer)
        cascade.references = ForeignKey(table: "p", column: 0, onDelete: .cascade, onUpdate: .cascade, parentType: .integer, parentKeySpace: 8)
        setNull.references = ForeignKey(table: "p", column: 0, onDelete: .setNull, onUpdate: .setNull, parentType: .integer, parentKeySpace: 8)
        var schema = Schema(
            tables: [table("p", [column(0, .integer), column(1, .text)]), table("c", [column(0, .integer), cascade]),
                     table("n", [column(0, .integer), setNull]),
                     table("a", [column(0, .integer), column(1, .text), column(2, .untyped), column(3, .untyped)])],
            nextName: 10)
        schema.tables[3].autoincrement = true
        for event in UserTrigger.Event.allCases {
            let row = event == .delete ? "OLD." : "NEW."
            let audit = (1...4).map { ColumnRef(table: "a", id: $0) }
            schema.triggers.append(UserTrigger(
                name: "g_\(event.rawValue)", table: "p", target: "a", event: event,
                body: "INSERT INTO \(table: "a") (\(audit[0]), \(audit[1]), \(audit[2]), \(audit[3])) "
                    + "VALUES ('\(event.rawValue)', \(row)\(ColumnRef(table: "p", id: 0)), \(row)\(ColumnRef(table: "p", id: 1)), \(row)\(ColumnRef(table: "p", id: 2)))"))
        }
        let directory = try TemporaryDirectory()
        let path = directory.path("fk.db")
        let db = try Connection(path: path)
        var rng = Xoshiro(seed: 1)
        let config = DatabaseConfig.generate(journalMode: .delete, using: &rng)
        for sql in Bookkeeping.creationStatements + schema.createStatements
            + [Bookkeeping.recordStatement(randomness: .seed(1), schema: schema, config: config)] + Bookkeeping.contextStatements {
            try db.execute(sql)
        }
        guard case .integer(let cookie)? = try db.scalar("PRAGMA schema_version") else { throw CancellationError() }
        for table in TrackedTable.tables(of: schema) where triggersOn?.contains(table.ledgerName) ?? true {
            for sql in table.triggerStatements { try db.execute(sql) }
        }
        let acks = try AckLog(path: AckLog.path(for: path), syncs: false)
        try db.execute("""
            \(Bookkeeping.contextStatement(tx: 1, cookie: cookie));
            \(Bookkeeping.openAccountsStatement(tx: 1));
            INSERT INTO p VALUES (1, 'one', 1), (2, 'two', 1), (3, 'three', 1);
            INSERT INTO c VALUES (10, 1, 1), (11, 2, 1), (12, 3, 1);
            INSERT INTO n VALUES (20, 1, 1), (21, 2, 1), (22, 3, 1);
            \(Bookkeeping.contextStatement(tx: 2, cookie: cookie));
            DELETE FROM p WHERE c0 = 1;
            UPDATE p SET c0 = 7, stress_tag = 2 WHERE c0 = 2;
            """)
        acks.acknowledge(1)
        acks.acknowledge(2)
        return (directory, db, acks.path)
    }
}

extension SchemaChangeTests {
    // A VACUUM INTO copy is judged as of its snapshot: held to the
    // acknowledgements recorded before it was taken it passes; held to a
    // commit acknowledged afterwards (which only the original has), durability
    // names that commit.
    @Test func vacuumIntoCopyIsCheckedAsOfItsSnapshot() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("orig.db"), copy = directory.path("copy.db")
        #expect(try stress(db, seed: 4, iterations: 80, checkEvery: 0).passed)
        let original = try Connection(path: db)
        try original.execute("VACUUM INTO '\(copy)'")
        let before = DatabaseFile.size(of: AckLog.path(for: db))
        let later = TransactionID.make(thread: 0, number: 999)
        try original.execute(Bookkeeping.commitRecordStatement(tx: later))
        try AckLog(path: AckLog.path(for: db), syncs: false).acknowledge(later)
        original.close()

        let checker = Checker(connection: try Connection(path: copy), who: "copy")
        let asTaken = try checker.run(acknowledgements: AckLog.path(for: db), acknowledgedBytes: Int(before), randomness: .seed(1))
        #expect(asTaken.passed, "\(asTaken.violations)")
        let whole = try checker.run(acknowledgements: AckLog.path(for: db), randomness: .seed(1))
        #expect(whole.result(.durability)?.status == .fail)
        #expect(whole.result(.durability)?.violations.first?.details["transaction"] == "t0x999")
    }
}

/// What a hundred short runs exercise, summed.
@Suite struct CoverageTests {
    // Over 100 seeds, every statement kind, maintenance kind, schema change and
    // schema feature shows in the counters (a VACUUM INTO copy checked, a schema
    // change rolled back among them, the ledger compacted twice a run between
    // them), and every run passes.
    @Test func hundredSeedsCoverEveryKindAndFeature() throws {
        let directory = try TemporaryDirectory()
        let folder = directory.url.path
        let results = Mutex<[(UInt64, Result<StressReport, any Error>)]>([])
        // Ten at a time, and unsynced: what is counted here is the work, not its durability.
        DispatchQueue.concurrentPerform(iterations: 10) { slice in
            for seed in UInt64(slice * 10)..<UInt64(slice * 10 + 10) {
                let db = folder + "/c\(seed).db"
                let settings = StressSettings(
                    databasePath: db, randomness: .seed(seed), iterations: 60, synchronous: "off", checkEvery: 0, compaction: CompactionSchedule(every: 25))
                let report = Result { try StressRun.prepare(settings).run() }
                results.withLock { $0.append((seed, report)) }
            }
        }
        var total = Counters()
        for (seed, result) in results.withLock({ $0 }) {
            let report: StressReport
            do { report = try result.get() } catch {
                Issue.record("seed \(seed) did not run: \(error)")
                continue
            }
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
