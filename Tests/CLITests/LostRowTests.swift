import Foundation
import StressSQLite
import Testing

@testable import StressKit

/// A row SQLite loses (here: deleted behind the tool's back) whose key a later
/// write takes again leaves nothing for the rows to show: the new row is what
/// the ledger's newest entry for its key says, and the lost row's entry is
/// superseded. The ledger trigger of the INSERT, or of the UPDATE that moves a
/// row onto the key, sees that the key's latest entry was an image, with no
/// deletion after it, and records the lost row; `model` reports it, on a
/// compacted ledger too. A row deleted through the ledger whose key is taken
/// again is no loss.
@Suite struct LostRowTests {
    static let writer = TransactionID.make(thread: 6, number: 1)

    /// How the deleted row's key is taken again.
    enum Taking: CaseIterable {
        /// The row is inserted again as it was, with its rowid.
        case insert
        /// The table's first row is moved onto its rowid.
        case move
    }

    /// A database `schema` made and an `insert` batch wrote, whose last row of a
    /// rowid table with two rows or more (one no user trigger writes from) is
    /// deleted — `behindItsBack` without the ledger, else by a writer with the
    /// ledger's triggers — and whose key that writer then takes again
    /// (`taking`). Returns the database, the table and the row's key.
    static func retaken(_ taking: Taking, behindItsBack: Bool, in scratch: Scratch) throws -> (URL, String, Int64) {
        let db = scratch.file("l.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "1", "-q"]).status == 0)
        #expect(try CLI.run(["insert", "--db", db.path, "--seed", "2", "-q"]).status == 0)
        let writer = try Connection(path: db.path)
        defer { writer.close() }
        let (schema, cookie, _) = try Bookkeeping.recorded(in: writer)
        var found: (Table, Int64)?
        for table in schema.tables where !table.withoutRowid {
            let triggers = try writer.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?", [.text(table.name)])
            let rows = "main.\(quoteIdentifier(table.name))"
            guard triggers == .integer(0), case .integer(2...)? = try writer.scalar("SELECT count(*) FROM \(rows)"),
                  case .integer(let rowid)? = try writer.scalar("SELECT max(rowid) FROM \(rows)") else { continue }
            found = (table, rowid)
            break
        }
        let (table, rowid) = try #require(found, "no rowid table with two rows and no trigger")
        let name = "main." + quoteIdentifier(table.name)
        try writer.execute("CREATE TEMP TABLE saved AS SELECT * FROM \(name) WHERE rowid = \(rowid)")
        try writer.execute("PRAGMA recursive_triggers = ON")
        for sql in Bookkeeping.contextStatements + TrackedTable.tables(of: schema).flatMap(\.triggerStatements) {
            try writer.execute(sql)
        }
        try writer.execute(Bookkeeping.contextStatement(tx: Self.writer, cookie: cookie))
        if behindItsBack {
            let other = try Connection(path: db.path)
            defer { other.close() }
            try other.execute("DELETE FROM \(name) WHERE rowid = \(rowid)")
        } else {
            try writer.execute("DELETE FROM \(name) WHERE rowid = \(rowid)")
        }
        switch taking {
        case .insert:
            let columns = table.columns.filter { $0.generated == nil }.map { quoteIdentifier($0.name) }.joined(separator: ", ")
            try writer.execute("INSERT INTO \(name) (rowid, \(columns)) SELECT \(rowid), \(columns) FROM temp.saved")
        case .move:
            try writer.execute("UPDATE \(name) SET rowid = \(rowid) WHERE rowid = (SELECT min(rowid) FROM \(name))")
            #expect(writer.changes == 1)
        }
        #expect(try writer.scalar("SELECT count(*) FROM \(name) WHERE rowid = \(rowid)") == .integer(1))
        return (db, table.name, rowid)
    }

    static func check(_ db: URL) throws -> (Int32, [String: Any]) {
        let result = try CLI.run(["check", "--db", db.path, "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        return (result.status, json)
    }

    @Test(arguments: Taking.allCases)
    func aRowDeletedThroughTheLedgerWhoseKeyIsTakenAgainIsNoLoss(_ taking: Taking) throws {
        let scratch = try Scratch()
        let (db, _, _) = try Self.retaken(taking, behindItsBack: false, in: scratch)
        let (status, json) = try Self.check(db)
        #expect(status == 0, "\(json)")
        #expect(json["result"] as? String == "pass")
    }

    // The key holds what its latest entry says, so the row check alone would
    // pass; only the lost row's trace tells. A compaction, which removes the
    // superseded entry, keeps the trace.
    @Test(arguments: Taking.allCases, [false, true])
    func aLostRowWhoseKeyIsTakenAgainIsReported(_ taking: Taking, compacted: Bool) throws {
        let scratch = try Scratch()
        let (db, table, key) = try Self.retaken(taking, behindItsBack: true, in: scratch)
        if compacted {
            let connection = try Connection(path: db.path)
            defer { connection.close() }
            try connection.execute("BEGIN IMMEDIATE")
            for sql in Compaction.statements(folding: nil) { try connection.execute(sql) }
            try connection.execute("COMMIT")
            #expect(try connection.scalar("SELECT count(*) FROM stress_ledger WHERE tbl LIKE '#lost:%'") == .integer(1))
        }
        let (status, json) = try Self.check(db)
        #expect(status == 1)
        #expect(json["result"] as? String == "fail")
        let failed = (json["properties"] as? [[String: Any]] ?? []).filter { $0["status"] as? String != "pass" }
        #expect(failed.compactMap { $0["property"] as? String } == ["model"], "\(failed)")
        let violations = CheckCommandTests.violations(json, "model")
        #expect(violations.count == 1, "\(violations)")
        let violation = try #require(violations.first)
        let details = violation["details"] as? [String: String] ?? [:]
        #expect(details["table"] == table)
        #expect(details["key"] == String(key))
        #expect(details["taken-by"] == TransactionID.describe(Self.writer))
        #expect(details["actual"] == "(none)")
        #expect((violation["message"] as? String)?.hasPrefix("row \(key) of \(table) was missing when transaction") == true, "\(violation)")
    }
}

extension LostRowTests {
    /// The lookup before an entry seeks the ledger's `(tbl, key, seq)` index
    /// by table and key, so a write costs the same however long its table's
    /// history. Compared with the untyped `key` under `NEW.rowid`'s numeric
    /// affinity, the index could serve only `tbl`, and the lookup would read
    /// every entry of the table. Read from the statements' bytecode, whose
    /// trigger programs `EXPLAIN` lists: every index seek names two fields.
    /// (Seed 6's schema has rowid tables and WITHOUT ROWID ones.)
    @Test func aWritesLookupSeeksItsKeyNotItsTablesHistory() throws {
        let scratch = try Scratch()
        let db = scratch.file("l.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "6", "-q"]).status == 0)
        let connection = try Connection(path: db.path)
        defer { connection.close() }
        let (schema, _, _) = try Bookkeeping.recorded(in: connection)
        let tables = TrackedTable.tables(of: schema)
        try #require(tables.contains { !$0.withoutRowid } && tables.contains(where: \.withoutRowid), "a rowid table and a WITHOUT ROWID one")
        for sql in Bookkeeping.contextStatements + tables.flatMap(\.triggerStatements) {
            try connection.execute(sql)
        }
        for table in tables {
            let name = "main." + quoteIdentifier(table.name)
            let moveKey = table.withoutRowid
                ? table.keyColumns.map { "\(quoteIdentifier($0)) = \(quoteIdentifier($0)) || 'x'" }.joined(separator: ", ")
                : "rowid = rowid + 1"
            for write in ["INSERT INTO \(name) DEFAULT VALUES", "UPDATE \(name) SET \(moveKey)"] {
                let program = try connection.prepare("EXPLAIN " + write)
                var seeks: [String] = []
                while try program.step() {
                    guard let opcode = program.text(1), ["SeekGE", "SeekGT", "SeekLE", "SeekLT"].contains(opcode) else { continue }
                    seeks.append(program.text(5) ?? "")
                }
                #expect(!seeks.isEmpty && seeks.allSatisfy { $0 == "2" }, "\(write): index seeks by \(seeks) fields")
            }
        }
    }
}
