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

    /// The recorded schema's version and the last schema change whose record compaction removed.
    static func versionAndMark(_ finished: Finished) throws -> (version: Int64, mark: Int64) {
        func integer(_ sql: String) throws -> Int64? {
            if case .integer(let value)? = try finished.connection.scalar(sql) { value } else { nil }
        }
        let version = try #require(try integer("SELECT json_extract(value, '$.version') FROM stress_meta WHERE key = 'schema'"))
        let mark = try #require(try integer("SELECT value FROM stress_meta WHERE key = 'schema_compacted_through'"), "no compaction mark")
        return (version, mark)
    }

    // The altered run changed its schema in every way the workload knows, rolled
    // some changes back, and every property holds.
    @Test func alteredRunPasses() throws {
        let finished = try Finished(.altered)
        let changes = finished.schemaChanges
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

        // The latest change's record, which compaction keeps.
        let erased = try Finished(.altered)
        let (version, _) = try Self.versionAndMark(erased)
        try erased.connection.execute("DELETE FROM stress_ledger WHERE tbl = '#schema' AND key = \(version)")
        #expect(erased.connection.changes == 1)
        let (erasedResult, erasedJSON) = try erased.check()
        #expect(erasedResult.status == 1)
        #expect(Self.failed(erasedJSON) == ["schema"])
        #expect(Self.schemaViolations(erasedJSON).contains { $0["schema-change"] == String(version) }, "\(erasedJSON)")
    }

    // The run's compaction removed the records of the changes before the
    // latest and marked them removed. The mark cleared behind the oracle's back
    // leaves those changes without a record; a mark past the recorded version
    // vouches for changes never made; a removed record back in the ledger is a
    // compaction undone.
    @Test func schemaRecordsCompactionRemovedAreVouchedForByTheMarkAlone() throws {
        let cleared = try Finished(.altered)
        let (version, mark) = try Self.versionAndMark(cleared)
        #expect(mark == version - 1, "compaction keeps only the latest change's record")
        #expect(try cleared.connection.scalar("SELECT count(*) FROM stress_ledger WHERE tbl = '#schema' AND tx > 0") == .integer(1))
        try cleared.connection.execute("DELETE FROM stress_meta WHERE key = 'schema_compacted_through'")
        let (clearedResult, clearedJSON) = try cleared.check()
        #expect(clearedResult.status == 1)
        #expect(Self.failed(clearedJSON) == ["schema"])
        // Each of changes 1 … mark is named, in order, as far as the listing goes; the rest are counted.
        let named = Self.schemaViolations(clearedJSON).compactMap { $0["schema-change"] }
        let schema = try #require((clearedJSON["properties"] as? [[String: Any]])?.first { $0["property"] as? String == "schema" })
        #expect(named == (1...mark).prefix(named.count).map(String.init))
        #expect(Int64(named.count) + Int64(schema["moreViolations"] as? Int ?? -1) == mark)

        // A mark past the recorded version vouches for changes that were never made.
        let beyond = try Finished(.altered)
        try beyond.connection.execute("UPDATE stress_meta SET value = \(version + 5) WHERE key = 'schema_compacted_through'")
        let (beyondResult, beyondJSON) = try beyond.check()
        #expect(beyondResult.status == 1)
        #expect(Self.failed(beyondJSON) == ["schema"])
        #expect(Self.schemaViolations(beyondJSON).map { $0["schema-compacted-through"] } == [String(version + 5)], "\(beyondJSON)")

        let resurrected = try Finished(.altered)
        try resurrected.connection.execute("""
            INSERT INTO stress_ledger (tx, tbl, key, image) \
            SELECT tx, tbl, 1, 'CREATE TABLE again (a)' FROM stress_ledger WHERE tbl = '#schema' AND key = \(version)
            """)
        let (resurrectedResult, resurrectedJSON) = try resurrected.check()
        #expect(resurrectedResult.status == 1)
        #expect(Self.failed(resurrectedJSON) == ["schema"])
        #expect(Self.schemaViolations(resurrectedJSON).map { $0["schema-change"] } == ["1"], "\(resurrectedJSON)")
    }

    // A table the workload dropped, created again behind the oracle's back.
    @Test func resurrectedTableIsASchemaViolation() throws {
        let finished = try Finished(.altered)
        let dropped = try #require(finished.schemaChanges.compactMap { sql -> String? in
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
