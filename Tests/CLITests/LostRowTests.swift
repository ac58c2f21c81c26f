import Foundation
import StressSQLite
import Testing

@testable import StressKit

/// A row SQLite loses (here: deleted behind the tool's back) whose key a later
/// INSERT takes again leaves nothing for the rows to show: the new row is what
/// the ledger's newest entry for its key says, and the lost row's entry is
/// superseded. The INSERT's ledger trigger sees that the key's latest entry was
/// an image, with no deletion after it, and records the lost row; `model`
/// reports it, on a compacted ledger too. A row deleted through the ledger and
/// inserted again is no loss.
@Suite struct LostRowTests {
    static let writer = TransactionID.make(thread: 6, number: 1)

    /// A database `schema` made and an `insert` batch wrote, whose last row of a
    /// rowid table (one no user trigger writes from) is deleted — `behindItsBack`
    /// without the ledger, else by a writer with the ledger's triggers — and then
    /// inserted again as it was, with its rowid, by that writer. Returns the
    /// database, the table and the row's key.
    static func reinserted(behindItsBack: Bool, in scratch: Scratch) throws -> (URL, String, Int64) {
        let db = scratch.file("l.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "1", "-q"]).status == 0)
        #expect(try CLI.run(["insert", "--db", db.path, "--seed", "2", "-q"]).status == 0)
        let writer = try Connection(path: db.path)
        defer { writer.close() }
        let (schema, cookie, _) = try Bookkeeping.recorded(in: writer)
        var found: (Table, Int64)?
        for table in schema.tables where !table.withoutRowid {
            let triggers = try writer.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?", [.text(table.name)])
            guard triggers == .integer(0),
                  case .integer(let rowid)? = try writer.scalar("SELECT max(rowid) FROM main.\(quoteIdentifier(table.name))") else { continue }
            found = (table, rowid)
            break
        }
        let (table, rowid) = try #require(found, "no rowid table with rows and no trigger")
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
        let columns = table.columns.filter { $0.generated == nil }.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        try writer.execute("INSERT INTO \(name) (rowid, \(columns)) SELECT \(rowid), \(columns) FROM temp.saved")
        #expect(try writer.scalar("SELECT count(*) FROM \(name) WHERE rowid = \(rowid)") == .integer(1))
        return (db, table.name, rowid)
    }

    static func check(_ db: URL) throws -> (Int32, [String: Any]) {
        let result = try CLI.run(["check", "--db", db.path, "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        return (result.status, json)
    }

    @Test func aRowDeletedThroughTheLedgerAndInsertedAgainIsNoLoss() throws {
        let scratch = try Scratch()
        let (db, _, _) = try Self.reinserted(behindItsBack: false, in: scratch)
        let (status, json) = try Self.check(db)
        #expect(status == 0, "\(json)")
        #expect(json["result"] as? String == "pass")
    }

    // The row is back as it was, so the row check alone would pass; only the
    // lost row's trace tells. A compaction, which removes the superseded entry,
    // keeps the trace.
    @Test(arguments: [false, true])
    func aLostRowWhoseKeyIsInsertedAgainIsReported(compacted: Bool) throws {
        let scratch = try Scratch()
        let (db, table, key) = try Self.reinserted(behindItsBack: true, in: scratch)
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
        #expect(details["inserted-by"] == TransactionID.describe(Self.writer))
        #expect(details["actual"] == "(none)")
        #expect((violation["message"] as? String)?.hasPrefix("row \(key) of \(table) was missing when transaction") == true, "\(violation)")
    }
}
