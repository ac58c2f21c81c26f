import Foundation
import StressSQLite
import Testing

/// The `schema` property on a run whose schema changed while it ran: the clean
/// database passes, and each change made behind the oracle's back fails
/// `schema` alone, naming the object.
@Suite struct SchemaPropertyTests {
    typealias Finished = CheckCommandTests.Finished

    /// The properties a check failed.
    static func failed(_ json: [String: Any]) -> Set<String> {
        Set((json["properties"] as? [[String: Any]] ?? []).filter { $0["status"] as? String == "fail" }.compactMap { $0["property"] as? String })
    }

    /// The details of the `schema` violations.
    static func schemaViolations(_ json: [String: Any]) -> [[String: String]] {
        CheckCommandTests.violations(json, "schema").map(CheckCommandTests.details)
    }

    /// The SQL of each committed schema change, as the ledger records them.
    static func changes(_ finished: Finished) throws -> [String] {
        try finished.connection.query("SELECT image FROM stress_ledger WHERE tbl = '#schema' AND tx > 0 ORDER BY key")
            .compactMap { if case .text(let sql) = $0[0] { sql } else { nil } }
    }

    // The altered run changed its schema in every way the workload knows, rolled
    // some changes back, and every property holds.
    @Test func alteredRunPasses() throws {
        let finished = try Finished(.altered)
        let changes = try Self.changes(finished)
        for kind in ["CREATE TABLE", "DROP TABLE", "CREATE INDEX", "DROP INDEX", "ADD COLUMN", "RENAME COLUMN", "DROP COLUMN", "RENAME TO"] {
            #expect(changes.contains { $0.contains(kind) }, "the run made no \(kind)")
        }
        let undone = try finished.connection.scalar("SELECT count(*) FROM stress_ledger WHERE tbl = '#schema' AND tx < 0")
        #expect(undone == .integer(0), "a rolled-back schema change left its record")
        let (result, json) = try finished.check()
        #expect(result.status == 0, "\(result.stdout)")
        #expect(Self.failed(json).isEmpty)
    }

    // An index dropped behind the oracle's back: schema names it, nothing else fails.
    @Test func droppedIndexIsASchemaViolation() throws {
        let finished = try Finished(.altered)
        let index = try #require({ () -> String? in
            if case .text(let name)? = try finished.connection.scalar(
                "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND name NOT LIKE 'stress%' ORDER BY name") { name } else { nil }
        }(), "no index of the workload's in this database")
        try finished.connection.execute("DROP INDEX \"\(index)\"")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        #expect(Self.failed(json) == ["schema"])
        #expect(Self.schemaViolations(json).contains { $0["object"] == "index \(index)" && $0["actual"] == "(none)" }, "\(json)")
    }

    // A column added behind the oracle's back: schema names the table, and model,
    // which reads the schema's columns, still holds.
    @Test func addedColumnIsASchemaViolation() throws {
        let finished = try Finished(.altered)
        let (table, _) = try finished.rowidTable()
        try finished.connection.execute("ALTER TABLE \"\(table.name)\" ADD COLUMN behind DEFAULT 5")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        #expect(Self.failed(json) == ["schema"])
        let found = Self.schemaViolations(json)
        #expect(found.contains { $0["object"] == "table \(table.name)" && $0["actual"]?.contains("behind") == true }, "\(found)")
    }

    // A schema change committed with no record: made behind the oracle's back
    // (a new table), or made by the workload with its ledger record removed.
    @Test func schemaChangeWithoutLedgerRecordIsASchemaViolation() throws {
        let behind = try Finished(.altered)
        try behind.connection.execute("CREATE TABLE unrecorded (a, stress_tag INTEGER)")
        let (result, json) = try behind.check()
        #expect(result.status == 1)
        #expect(Self.failed(json) == ["schema"])
        #expect(Self.schemaViolations(json).contains { $0["object"] == "table unrecorded" && $0["expected"] == "(none)" })

        let erased = try Finished(.altered)
        try erased.connection.execute("DELETE FROM stress_ledger WHERE tbl = '#schema' AND key = 3")
        #expect(erased.connection.changes == 1)
        let (erasedResult, erasedJSON) = try erased.check()
        #expect(erasedResult.status == 1)
        #expect(Self.failed(erasedJSON) == ["schema"])
        #expect(Self.schemaViolations(erasedJSON).contains { $0["schema-change"] == "3" }, "\(erasedJSON)")
    }

    // A table the workload dropped, created again behind the oracle's back.
    @Test func resurrectedTableIsASchemaViolation() throws {
        let finished = try Finished(.altered)
        let dropped = try #require(try Self.changes(finished).compactMap { sql -> String? in
            guard sql.hasPrefix("DROP TABLE \"") else { return nil }
            return String(sql.dropFirst("DROP TABLE \"".count).prefix { $0 != "\"" })
        }.first, "the run dropped no table")
        try finished.connection.execute("CREATE TABLE \"\(dropped)\" (c0, stress_tag INTEGER); INSERT INTO \"\(dropped)\" VALUES (1, 1)")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        #expect(Self.failed(json) == ["schema"])
        #expect(Self.schemaViolations(json).contains { $0["object"] == "table \(dropped)" && $0["expected"] == "(none)" }, "\(json)")
    }
}
