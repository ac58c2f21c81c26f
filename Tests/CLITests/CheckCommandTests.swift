import Foundation
import StressSQLite
import Testing

/// `check` and `integrity` on finished databases: clean ones pass, and every
/// property fails — naming itself, the table and the key — when the database is
/// changed behind the tool's back.
@Suite struct CheckCommandTests {
    /// The runs the tamper tests judge: a `stress` run whose schema never
    /// changed, with its whole ledger (`fixed`); the same run with the ledger
    /// compacted twice on the way, the last work after the last compaction
    /// (`compacted`); and a database that `schema` made and a fixed sequence of
    /// drivers then wrote, altered and at the end compacted — every kind of
    /// schema change committed, some rolled back, and tables whose shape changed
    /// (columns added after the tag, others dropped or renamed, so the ledger's
    /// images were rebased) that hold rows, which the tests tamper with. (Seed
    /// 175 was picked for that; the tests `#require` what they need, so a
    /// generator change that loses it fails loudly.)
    enum Run: String, CaseIterable, CustomTestStringConvertible {
        case fixed, compacted, altered
        var testDescription: String { rawValue }

        static let drivers = [
            "insert", "insert", "insert", "alter-table", "alter-table", "insert", "create-table", "create-index", "alter-table",
            "drop-index", "insert", "drop-table", "schema-rollback", "schema-rollback", "alter-table", "update", "insert", "insert",
            "rollback", "alter-table", "insert", "delete", "insert", "compact",
        ]

        /// Whether the run's ledger was compacted.
        var isCompacted: Bool { self != .fixed }

        /// The run, made once per test process: each test tampers with a copy of its files.
        var made: Result<Made, any Error> {
            switch self {
            case .fixed: Made.fixed
            case .compacted: Made.compacted
            case .altered: Made.altered
            }
        }
    }

    /// A run's files (`done.db` and what beside it begins with that name), in
    /// a directory of their own that is removed when the test process exits.
    struct Made: Sendable {
        struct Failed: Error, CustomStringConvertible { let description: String }

        let directory: URL
        /// The SQL of each committed schema change, by number (`Finished.schemaChanges`).
        let schemaChanges: [String]

        static let fixed = Result { try Made(.fixed) }
        static let compacted = Result { try Made(.compacted) }
        static let altered = Result { try Made(.altered) }

        /// Where every run is made: one directory per test process (emptied
        /// first, should an earlier process of the same number have left it).
        static let root: URL = {
            try? FileManager.default.removeItem(at: rootURL(of: getpid()))
            atexit { try? FileManager.default.removeItem(at: Made.rootURL(of: getpid())) }
            return rootURL(of: getpid())
        }()
        static func rootURL(of process: pid_t) -> URL {
            FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-stress-cli-made-\(process)")
        }

        init(_ run: Run) throws {
            directory = Self.root.appendingPathComponent(run.rawValue)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let db = directory.appendingPathComponent("done.db")
            func require(_ result: CommandResult, _ what: String) throws {
                guard result.status == 0 else { throw Failed(description: "\(what) exited \(result.status): \(result.stdout)\(result.stderr)") }
            }
            var records: [Int64: String] = [:]
            switch run {
            case .fixed, .compacted:
                try require(try CLI.run([
                    "stress", "--seed", "0xc0ffee", "--no-schema-changes", "--iterations", "400", "--journal-mode", "delete",
                    "--compact-every", run == .fixed ? "0" : "150", "--db", db.path, "-q",
                ]), "stress")
            case .altered:
                try require(try CLI.run(["schema", "--seed", "175", "--journal-mode", "delete", "--db", db.path, "-q"]), "schema")
                for (index, driver) in Run.drivers.enumerated() {
                    if driver == "compact" { try records.merge(Finished.schemaRecords(db), uniquingKeysWith: { $1 }) }
                    try require(try CLI.run([driver, "--seed", String(175_000 + index), "--db", db.path, "-q"]), driver)
                }
            }
            try records.merge(Finished.schemaRecords(db), uniquingKeysWith: { $1 })
            schemaChanges = records.sorted { $0.key < $1.key }.map(\.value)
        }
    }

    /// A user table as the recorded schema describes it.
    struct UserTable {
        var name: String
        /// The ledger's name for it (`tbl`): the name it was created with.
        var ledgerName: String
        /// Columns the workload writes (not generated, not the tag), and the key's.
        var columns: [String]
        var keyColumns: [String]
        var withoutRowid: Bool
        var strict: Bool
    }

    /// A copy of a finished one-thread run (`Made`), and a connection for tampering (no ledger triggers on it).
    struct Finished {
        let scratch: Scratch
        let db: URL
        let connection: Connection
        let run: Run
        /// The SQL of each committed schema change, by number, as the ledger
        /// recorded them before compaction removed all but the latest record.
        let schemaChanges: [String]

        init(_ run: Run = .fixed) throws {
            self.run = run
            scratch = try Scratch()
            db = scratch.file("done.db")
            let made = try run.made.get()
            for name in try FileManager.default.contentsOfDirectory(atPath: made.directory.path) {
                try FileManager.default.copyItem(at: made.directory.appendingPathComponent(name), to: scratch.file(name))
            }
            schemaChanges = made.schemaChanges
            connection = try Connection(path: db.path)
            // One writer at a time: every compaction folded every acknowledgement written before it, so the record is empty.
            let folded = try connection.scalar("SELECT value FROM stress_meta WHERE key = 'acks_folded_through'")
            #expect(run.isCompacted ? folded != .integer(0) : folded == .integer(0), "the fold of acknowledgements")
            #expect(try connection.scalar("SELECT count(*) FROM stress_compacted") == .integer(0), "the record of compacted transactions")
        }

        /// The acknowledgement log's records from the last compaction's fold on:
        /// those `check` reviews.
        func recordsSinceTheFold() throws -> [Substring] {
            let mark = try #require({ if case .integer(let m)? = try connection.scalar("SELECT value FROM stress_meta WHERE key = 'acks_folded_through'") { Int(m) } else { nil } }())
            let log = try Data(contentsOf: scratch.file("done.db.acks"))
            return String(decoding: log.dropFirst(mark), as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
        }

        /// The schema changes' records in the ledger now, by number.
        static func schemaRecords(_ db: URL) throws -> [Int64: String] {
            let connection = try Connection(path: db.path)
            defer { connection.close() }
            var records: [Int64: String] = [:]
            for row in try connection.query("SELECT key, image FROM stress_ledger WHERE tbl = '#schema' AND tx > 0") {
                if case .integer(let number) = row[0], case .text(let sql) = row[1] { records[number] = sql }
            }
            return records
        }

        /// The user tables with rows that the tests may tamper with: in the altered
        /// run, only those whose shape changed (a column added after the tag, and
        /// one dropped or renamed).
        func tables() throws -> [UserTable] {
            let json = try #require({ if case .text(let t)? = try connection.scalar("SELECT value FROM stress_meta WHERE key = 'schema'") { t } else { nil } }())
            let schema = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            var found: [UserTable] = []
            for table in schema["tables"] as? [[String: Any]] ?? [] {
                let columns = table["columns"] as? [[String: Any]] ?? []
                let tag = columns.first { $0["isTag"] as? Bool == true }?["id"] as? Int ?? 0
                let ids = Set(columns.compactMap { $0["id"] as? Int })
                let added = ids.contains { $0 > tag }
                let droppedOrRenamed = (0..<tag).contains { !ids.contains($0) }
                    || columns.contains { $0["isTag"] as? Bool != true && $0["name"] as? String != "c\($0["id"] as? Int ?? -1)" }
                guard run != .altered || (added && droppedOrRenamed), let name = table["name"] as? String,
                      case .integer(let rows)? = try connection.scalar("SELECT count(*) FROM \"\(name)\""), rows > 0 else { continue }
                let keyIDs: [Int] = {
                    guard let key = table["key"] as? [String: Any] else { return [] }
                    if let ipk = key["integerPrimaryKey"] as? [String: Any] { return [ipk["column"] as? Int ?? -1] }
                    return (key["primaryKey"] as? [String: Any])?["columns"] as? [Int] ?? []
                }()
                let byID = Dictionary(uniqueKeysWithValues: columns.map { ($0["id"] as? Int ?? -1, $0["name"] as? String ?? "?") })
                found.append(UserTable(
                    name: name, ledgerName: table["id"] as? String ?? name,
                    columns: columns.filter { $0["isTag"] as? Bool != true && $0["generated"] == nil }.compactMap { $0["name"] as? String },
                    keyColumns: keyIDs.compactMap { byID[$0] }, withoutRowid: table["withoutRowid"] as? Bool == true,
                    strict: table["strict"] as? Bool == true))
            }
            return found
        }

        /// A user rowid table with rows (not STRICT, so any value fits), and one of its rowids.
        func rowidTable() throws -> (table: UserTable, rowid: Int64) {
            for table in try tables() where !table.withoutRowid && !table.strict {
                guard case .integer(let rowid)? = try connection.scalar("SELECT min(rowid) FROM \"\(table.name)\" WHERE stress_tag > 0") else { continue }
                return (table, rowid)
            }
            throw CancellationError()
        }

        /// Adds a rowid table keyed by its first (INTEGER) column to the schema
        /// recorded in stress_meta, as a schema change of the workload would.
        func adopt(table: String, columns: [(name: String, type: String)]) throws {
            let json = try #require({ if case .text(let t)? = try connection.scalar("SELECT value FROM stress_meta WHERE key = 'schema'") { t } else { nil } }())
            var schema = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            var tables = try #require(schema["tables"] as? [[String: Any]])
            let all = columns + [(name: "stress_tag", type: "INTEGER")]
            tables.append([
                "id": table, "name": table, "withoutRowid": false, "strict": false, "autoincrement": false, "indexes": [],
                "keySpace": 8, "nextColumn": all.count, "key": ["integerPrimaryKey": ["column": 0]],
                "columns": all.enumerated().map { id, column in
                    ["id": id, "name": column.name, "type": column.type, "notNull": false, "unique": false, "json": false,
                     "isTag": column.name == "stress_tag"] as [String: Any]
                },
            ])
            schema["tables"] = tables
            let update = try connection.prepare("UPDATE stress_meta SET value = ? WHERE key = 'schema'")
            update.bind([.text(String(decoding: try JSONSerialization.data(withJSONObject: schema), as: UTF8.self))])
            try update.step()
        }

        func check(_ extra: [String] = []) throws -> (CommandResult, [String: Any]) {
            connection.close()
            let result = try CLI.run(["check", "--db", db.path, "--seed", "7", "--json"] + extra)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
            return (result, json)
        }
    }

    /// The violations of `property` in a check's JSON.
    static func violations(_ json: [String: Any], _ property: String) -> [[String: Any]] {
        let properties = json["properties"] as? [[String: Any]] ?? []
        return properties.first { $0["property"] as? String == property }?["violations"] as? [[String: Any]] ?? []
    }

    static func status(_ json: [String: Any], _ property: String) -> String? {
        (json["properties"] as? [[String: Any]])?.first { $0["property"] as? String == property }?["status"] as? String
    }

    /// `check --json` of `db`, read.
    static func checkJSON(_ db: URL) throws -> (CommandResult, [String: Any]) {
        let result = try CLI.run(["check", "--db", db.path, "--seed", "7", "--json"])
        return (result, try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)"))
    }

    /// What `property` checked, or why it stopped, in a check's JSON.
    static func checked(_ json: [String: Any], _ property: String) -> String {
        (json["properties"] as? [[String: Any]])?.first { $0["property"] as? String == property }?["checked"] as? String ?? ""
    }

    static func details(_ violation: [String: Any]) -> [String: String] { violation["details"] as? [String: String] ?? [:] }

    /// The root page of the table or index `name`.
    static func rootPage(of name: String, on connection: Connection) throws -> Int {
        try #require(try connection.scalar("SELECT rootpage FROM sqlite_schema WHERE name = ?", [.text(name)])
            .flatMap { if case .integer(let page) = $0 { Int(page) } else { nil } }, "no \(name)")
    }

    /// Overwrites page `page` of the closed database at `db` with 0xA5 behind
    /// SQLite's back: `count` bytes from `offset` into the page, or all of it.
    static func damage(page: Int, of db: URL, from offset: Int = 0, count: Int? = nil) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: db.path))
        let header = try #require(try handle.read(upToCount: 100))
        let raw = Int(header[16]) << 8 | Int(header[17])
        let pageSize = raw == 1 ? 65536 : raw
        try handle.seek(toOffset: UInt64((page - 1) * pageSize + offset))
        handle.write(Data(repeating: 0xA5, count: count ?? pageSize - offset))
        try handle.close()
    }

    // A clean run passes every property, in text and JSON, whether or not its schema changed.
    @Test(arguments: Run.allCases)
    func cleanDatabasePasses(_ run: Run) throws {
        let finished = try Finished(run)
        let (result, json) = try finished.check()
        #expect(result.status == 0)
        #expect(json["result"] as? String == "pass")
        for property in ["integrity", "model", "rollback", "durability", "conservation", "query-consistency", "schema"] {
            #expect(Self.status(json, property) == "pass", "\(property)")
        }
        #expect((json["knownSQLiteBugs"] as? [Any])?.isEmpty == true, "a check that passed names no known bug")
        let text = try CLI.run(["check", "--db", finished.db.path])
        #expect(text.status == 0)
        #expect(text.stdout.contains("result: PASS"))
        #expect(text.stdout.contains("database created by seed 0x\(String(format: "%016llx", run == .altered ? 175 : 0xc0ffee))"))
    }

    // model: a deleted row is missing, named by table and key.
    @Test(arguments: Run.allCases)
    func deletedRowIsAModelViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let (table, rowid) = try finished.rowidTable()
        try finished.connection.execute("DELETE FROM \"\(table.name)\" WHERE rowid = \(rowid)")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details)
        #expect(found.contains { $0["table"] == table.name && $0["key"] == "\(rowid)" && $0["actual"] == "(none)" }, "\(found)")
    }

    // model: a row deleted from a WITHOUT ROWID table is found by its primary key.
    @Test(arguments: Run.allCases)
    func deletedWithoutRowidRowIsAModelViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let c = finished.connection
        var deleted: (table: String, key: String)?
        for table in try finished.tables() where table.withoutRowid {
            let keys = table.keyColumns.map { "quote(\"\($0)\")" }.joined(separator: " || ',' || ")
            guard case .text(let key)? = try c.scalar("SELECT \(keys) FROM \"\(table.name)\" LIMIT 1") else { continue }
            try c.execute("DELETE FROM \"\(table.name)\" WHERE \(keys) = \(SQLValue.text(key).sqlLiteral)")
            deleted = (table.name, key)
            break
        }
        let (table, key) = try #require(deleted, "no WITHOUT ROWID table with rows")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details)
        #expect(found.contains { $0["table"] == table && $0["key"] == key && $0["actual"] == "(none)" }, "\(found)")
    }

    // model: one changed column is a difference, with expected and actual images.
    @Test(arguments: Run.allCases)
    func changedColumnIsAModelViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let (table, rowid) = try finished.rowidTable()
        try finished.connection.execute("UPDATE \"\(table.name)\" SET \"\(table.columns[0])\" = 'tampered' WHERE rowid = \(rowid)")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details)
        #expect(found.contains { $0["table"] == table.name && $0["key"] == "\(rowid)" && $0["actual"]?.contains("'tampered'") == true
            && $0["expected"]?.contains("'tampered'") == false }, "\(found)")
    }

    // model: a real moved by one unit in the last place is a difference too
    // (quote() alone would print both as the same 15 digits).
    @Test(arguments: Run.allCases)
    func oneULPChangeIsAModelViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let c = finished.connection
        var nudged: (table: String, rowid: Int64)?
        search: for userTable in try finished.tables() where !userTable.withoutRowid {
            let table = userTable.name
            for column in userTable.columns {
                let rows = try c.query(
                    "SELECT rowid, \"\(column)\" FROM \"\(table)\" WHERE typeof(\"\(column)\") = 'real' AND abs(\"\(column)\") BETWEEN 1 AND 1e12 LIMIT 1")
                guard let row = rows.first, case .integer(let rowid) = row[0], case .real(let value) = row[1] else { continue }
                let statement = try c.prepare("UPDATE \"\(table)\" SET \"\(column)\" = ? WHERE rowid = ?")
                statement.bind([.real(value.nextUp), .integer(rowid)])
                try statement.step()
                nudged = (table, rowid)
                break search
            }
        }
        let (table, rowid) = try #require(nudged, "no real value in this database")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details)
        #expect(found.contains { $0["table"] == table && $0["key"] == "\(rowid)" }, "\(found)")
    }

    // model: a row no transaction wrote is named as such.
    @Test(arguments: Run.allCases)
    func unwrittenRowIsAModelViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let (table, rowid) = try finished.rowidTable()
        let list = table.columns.map { "\"\($0)\"" }.joined(separator: ", ")
        // A copy of an existing row under a new rowid, unless a UNIQUE constraint refuses it.
        try finished.connection.execute(
            "INSERT OR IGNORE INTO \"\(table.name)\" (rowid, \(list), stress_tag) SELECT 900000, \(list), stress_tag FROM \"\(table.name)\" WHERE rowid = \(rowid)")
        if finished.connection.changes == 0 {
            try finished.connection.execute(
                "INSERT INTO stress_accounts (id, balance, stress_tag) VALUES (900000, 0, 1)")
        }
        let inserted = finished.connection.changes == 1
        #expect(inserted)
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details)
        #expect(found.contains { $0["key"] == "900000" && $0["expected"] == "(none)" }, "\(found)")
    }

    // model: removing a ledger entry breaks the fold for that row.
    @Test(arguments: Run.allCases)
    func deletedLedgerEntryIsAModelViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let (table, rowid) = try finished.rowidTable()
        try finished.connection.execute(
            "DELETE FROM stress_ledger WHERE seq = (SELECT max(seq) FROM stress_ledger WHERE tbl = '\(table.ledgerName)' AND key = \(rowid))")
        #expect(finished.connection.changes == 1)
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details)
        #expect(found.contains { $0["table"] == table.name && $0["key"] == "\(rowid)" }, "\(found)")
    }

    // model (the merge of table and ledger order): a key with several ledger entries
    // is judged by its last one — here a deletion recorded after the row's last write.
    @Test(arguments: Run.allCases)
    func deletionRecordedAfterTheLastWriteIsAModelViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let (table, rowid) = try finished.rowidTable()
        try finished.connection.execute(
            "INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (\(1 << 32 | 999), '\(table.ledgerName)', \(rowid), NULL)")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details)
        #expect(found.contains { $0["table"] == table.name && $0["key"] == "\(rowid)" && $0["expected"] == "(none)"
            && $0["last-writer"] == "t0x999" }, "\(found)")
    }

    // A database sqlite-stress made (its acknowledgement log beside it) whose
    // header's application id, or one of whose bookkeeping tables, was changed
    // behind the tool's back is no longer the run's: an `integrity` violation
    // (exit 1), which `integrity_check` does not see — never "not initialised
    // by sqlite-stress" (exit 2), which a runner reads as an error of the
    // environment. Without the log beside it, the same file is someone else's.
    @Test func aDatabaseThatLostItsIdentityIsAnIntegrityViolation() throws {
        let scratch = try Scratch()
        for (name, tamper, message) in [
            ("id", "PRAGMA application_id = 7", "its header's application id is 0x7, not sqlite-stress's 0x53515354"),
            ("table", "DROP TABLE stress_accounts", "its bookkeeping table stress_accounts is gone"),
        ] {
            let db = scratch.file("\(name).db").path
            try #require(try CLI.run(["schema", "--db", db, "--seed", "3", "-q"]).status == 0)
            try #require(try CLI.run(["insert", "--db", db, "--seed", "1", "-q"]).status == 0)
            let clean = try CLI.run(["check", "--db", db, "-q"])
            #expect(clean.status == 0, "\(clean.stdout)")
            let connection = try Connection(path: db)
            try connection.execute(tamper)
            connection.close()
            let check = try CLI.run(["check", "--db", db, "--json"])
            #expect(check.status == 1, "\(name): \(check.stdout)\(check.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any], "\(check.stderr)")
            let violations = (report["properties"] as? [[String: Any]] ?? []).flatMap { $0["violations"] as? [[String: Any]] ?? [] }
            #expect(violations.map { $0["property"] as? String } == ["integrity"], "\(violations)")
            #expect(violations.first?["message"] as? String == "the database is no longer the one sqlite-stress made: \(message)")

            try FileManager.default.removeItem(atPath: db + ".acks")
            let foreign = try CLI.run(["check", "--db", db])
            #expect(foreign.status == 2, "\(name): \(foreign.stdout)")
            #expect(foreign.stderr.hasSuffix("run `sqlite-stress stress` (or `sqlite-stress schema`) first.\n"), "\(foreign.stderr)")
        }
    }

    // model (merge boundaries): the first and the last row of a table, deleted, are
    // both missing; a row before every ledger key, inserted, is unwritten.
    @Test func rowsAtBothEndsOfTheMergeAreModelViolations() throws {
        let finished = try Finished()
        let c = finished.connection
        try c.execute("DELETE FROM stress_accounts WHERE id IN (1, 16)")
        try c.execute("INSERT INTO stress_accounts (id, balance, stress_tag) VALUES (-7, 0, 1)")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details).filter { $0["table"] == "stress_accounts" }
        #expect(found.contains { $0["key"] == "1" && $0["actual"] == "(none)" }, "\(found)")
        #expect(found.contains { $0["key"] == "16" && $0["actual"] == "(none)" }, "\(found)")
        #expect(found.contains { $0["key"] == "-7" && $0["expected"] == "(none)" }, "\(found)")
    }

    // model (key order): a ledger key stored as a real equal to the rowid is the same
    // key, as SQL compares them — no false alarm; one a fraction away is another key.
    @Test func realLedgerKeysCompareAsSQLComparesThem() throws {
        let finished = try Finished()
        let c = finished.connection
        try c.execute("UPDATE stress_ledger SET key = CAST(key AS REAL) WHERE tbl = 'stress_accounts' AND key = 5")
        let (clean, cleanJSON) = try finished.check()
        #expect(clean.status == 0, "\(Self.violations(cleanJSON, "model"))")
        let again = try Connection(path: finished.db.path)
        try again.execute("""
            UPDATE stress_ledger SET key = 6.5 WHERE seq = (SELECT max(seq) FROM stress_ledger WHERE tbl = 'stress_accounts' AND key = 6)
            """)
        again.close()
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details)
        #expect(found.contains { $0["key"] == "6.5" && $0["actual"] == "(none)" }, "\(found)")
    }

    // model (key order): a ledger entry keyed by text for a rowid table names a row
    // that cannot exist (a rowid is an integer): the row it claims is missing.
    @Test func textLedgerKeyOfARowidTableIsAModelViolation() throws {
        let finished = try Finished()
        try finished.connection.execute(
            "INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (\(1 << 32 | 998), 'stress_accounts', '3', '3,1000,1')")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details)
        #expect(found.contains { $0["table"] == "stress_accounts" && $0["key"] == "3" && $0["actual"] == "(none)" }, "\(found)")
    }

    // model: a text column changed only after an embedded quote, or a blob by one
    // bit, differs — the in-place comparison's slow paths. An image holds a
    // blob's length and its own bytes (commas, quotes and NULs among them); the
    // report shows both images with the blob in hex.
    @Test func quotedTextAndBlobChangesAreModelViolations() throws {
        let finished = try Finished()
        let c = finished.connection
        // The table is the workload's as far as the oracle knows: it is in the recorded schema too.
        try finished.adopt(table: "extra", columns: [("id", "INTEGER"), ("t", "TEXT"), ("b", "BLOB")])
        try c.execute("""
            CREATE TABLE extra (id INTEGER PRIMARY KEY, t TEXT, b BLOB, stress_tag INTEGER);
            INSERT INTO extra VALUES (1, 'it''s', X'00ff', 1), (2, 'plain', X'01022C2700', 1);
            INSERT INTO stress_ledger (tx, tbl, key, image)
                SELECT 1, 'extra', id, quote(id) || ',' || quote(t) || ',B' || length(b) || ':' || b || ',' || quote(stress_tag) FROM extra;
            """)
        let (clean, cleanJSON) = try finished.check()
        #expect(clean.status == 0, "\(Self.violations(cleanJSON, "model"))")
        let again = try Connection(path: finished.db.path)
        try again.execute("UPDATE extra SET t = 'it''S' WHERE id = 1; UPDATE extra SET b = X'01032C2700' WHERE id = 2")
        again.close()
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "model").map(Self.details).filter { $0["table"] == "extra" }
        #expect(Set(found.compactMap { $0["key"] }) == ["1", "2"])
        let blob = try #require(found.first { $0["key"] == "2" })
        #expect(blob["expected"] == "2,'plain',X'01022C2700',1")
        #expect(blob["actual"] == "2,'plain',X'01032C2700',1")
    }

    // durability: an acknowledged transaction whose rows and ledger entries are
    // all gone is named by its id, and the contents alone still look consistent,
    // whether or not the ledger was compacted.
    @Test(arguments: [Run.fixed, .compacted])
    func droppedAcknowledgedTransactionIsADurabilityViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let c = finished.connection
        // A transaction whose every effect is the only history of its key (so removing it
        // leaves a consistent model), or failing that one that left only a commit record;
        // acknowledged after the last compaction's fold, from where the check reviews the log.
        let reviewed = try finished.recordsSinceTheFold().filter { $0.hasPrefix("c ") }.map { $0.split(separator: " ")[1] }
        let candidate = try c.scalar("""
            SELECT tx FROM stress_ledger AS l
            WHERE tx IN (\(reviewed.joined(separator: ", ")))
            GROUP BY tx
            HAVING sum(tbl <> '' AND (image IS NULL OR (SELECT count(*) FROM stress_ledger AS o WHERE o.tbl = l.tbl AND o.key = l.key) > 1)) = 0
            ORDER BY count(*) DESC, tx DESC LIMIT 1
            """)
        let tx = try #require({ if case .integer(let id)? = candidate { id } else { nil } }(), "no candidate transaction")
        let acks = try String(contentsOf: finished.scratch.file("done.db.acks"), encoding: .utf8)
        #expect(acks.split(separator: "\n").contains("c \(tx) \(~tx)"), "transaction \(tx) was not acknowledged")
        for row in try c.query("SELECT tbl, key FROM stress_ledger WHERE tx = ? AND tbl <> ''", [.integer(tx)]) {
            guard case .text(let table) = row[0] else { continue }
            let key = row[1]
            let wr = try c.scalar("SELECT wr FROM pragma_table_list WHERE name = ?", [.text(table)])
            if wr == .integer(1) {
                let keys = try c.query("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", [.text(table)])
                    .compactMap { if case .text(let n) = $0[0] { "quote(\"\(n)\")" } else { nil } }.joined(separator: " || ',' || ")
                try c.execute("DELETE FROM \"\(table)\" WHERE \(keys) = \(key.sqlLiteral)")
            } else {
                try c.execute("DELETE FROM \"\(table)\" WHERE rowid = \(key.sqlLiteral)")
            }
        }
        try c.execute("DELETE FROM stress_ledger WHERE tx = \(tx)")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        #expect(Self.status(json, "model") == "pass")
        let found = Self.violations(json, "durability").map(Self.details)
        #expect(found.contains { $0["tx"] == String(tx) }, "\(found)")
    }

    // durability on a compacted ledger: a transaction committed just before a
    // compaction, whose record its writer wrote only after the compaction had
    // reviewed the log, is not folded; when compaction removes every entry it
    // has, its bit in the record stands for them. The bit cleared, the
    // transaction is lost, and the contents alone still look consistent.
    @Test func clearedCompactionRecordIsADurabilityViolation() throws {
        let finished = try Finished()
        let c = finished.connection
        // The last transaction of the run whose every entry a compaction removes.
        let tx = try #require({ if case .integer(let id)? = $0 { id } else { nil } }(try c.scalar("""
            SELECT tx FROM stress_ledger AS l WHERE tx > 1 GROUP BY tx
            HAVING sum(NOT (tbl = '' OR image IS NULL OR seq < (SELECT max(m.seq) FROM stress_ledger AS m WHERE m.tbl = l.tbl AND m.key IS l.key))) = 0
            ORDER BY tx DESC LIMIT 1
            """)), "no transaction that compaction removes whole")
        // Its record and every later one held back while the `compact` driver runs, then written.
        let acks = finished.scratch.file("done.db.acks")
        let original = try String(contentsOf: acks, encoding: .utf8)
        let held = try #require(original.range(of: "c \(tx) \(~tx)\n"), "transaction \(tx) was not acknowledged")
        try String(original[..<held.lowerBound]).write(to: acks, atomically: false, encoding: .utf8)
        c.close()
        let compact = try CLI.run(["compact", "--seed", "1", "--db", finished.db.path, "-q"])
        try #require(compact.status == 0, "\(compact.stdout)\(compact.stderr)")
        let handle = try FileHandle(forWritingTo: acks)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(original[held.lowerBound...].utf8))
        try handle.close()

        var tampered = try Connection(path: finished.db.path)
        #expect(try tampered.scalar("SELECT count(*) FROM stress_ledger WHERE tx = ?", [.integer(tx)]) == .integer(0))
        #expect(try tampered.scalar("SELECT bits >> \(tx & 31) & 1 FROM stress_compacted WHERE block = \(tx >> 5)") == .integer(1))
        tampered.close()
        let intact = try CLI.run(["check", "--db", finished.db.path, "--seed", "7"])
        #expect(intact.status == 0, "the bit vouches for it: \(intact.stdout)")

        tampered = try Connection(path: finished.db.path)
        try tampered.execute("UPDATE stress_compacted SET bits = bits & ~(1 << \(tx & 31)) WHERE block = \(tx >> 5)")
        #expect(tampered.changes == 1)
        tampered.close()
        let (result, json) = try Self.checkJSON(finished.db)
        #expect(result.status == 1)
        #expect(Self.status(json, "model") == "pass")
        #expect(Self.status(json, "rollback") == "pass")
        let found = Self.violations(json, "durability").map(Self.details)
        #expect(found.map { $0["tx"] } == [String(tx)], "\(found)")
        #expect(found.first?["seen"] != nil, "placed at its COMMIT in the SQL log: \(found)")

        // The SQL log unreadable: the violation stays where the check saw it, and says why it was not placed.
        let log = finished.scratch.file("done.db.sql")
        try FileManager.default.removeItem(at: log)
        try FileManager.default.createDirectory(at: log, withIntermediateDirectories: false)
        let again = try CLI.run(["check", "--db", finished.db.path, "--seed", "7", "--json"])
        #expect(again.status == 1)
        let unplaced = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any], "\(again.stderr)")
        let reported = Self.violations(unplaced, "durability").map(Self.details)
        #expect(reported.map { $0["tx"] } == [String(tx)], "\(reported)")
        #expect(reported.first?["commit"]?.hasPrefix("not found: cannot read") == true, "\(reported)")
    }

    // A check reviews the acknowledgement log from the last compaction's fold
    // on, and says so. The fold is what lets compaction remove the evidence of
    // the transactions before it: with its mark moved back behind the tool's
    // back, those transactions are judged again and found missing; a mark past
    // the log's end is a log that is not this database's, and no verdict.
    @Test func aCheckReviewsTheLogFromTheLastFold() throws {
        let finished = try Finished(.compacted)
        let mark = try #require({ if case .integer(let m)? = try finished.connection.scalar("SELECT value FROM stress_meta WHERE key = 'acks_folded_through'") { m } else { nil } }())
        let since = try finished.recordsSinceTheFold().filter { $0.hasPrefix("c ") }.count
        let (passed, json) = try finished.check()
        #expect(passed.status == 0, "\(passed.stdout)")
        #expect(Self.checked(json, "durability").hasPrefix("\(since) acknowledged transactions since byte \(mark) of the log"), "\(Self.checked(json, "durability"))")

        var c = try Connection(path: finished.db.path)
        try c.execute("UPDATE stress_meta SET value = 0 WHERE key = 'acks_folded_through'")
        c.close()
        let (unfolded, again) = try Self.checkJSON(finished.db)
        #expect(unfolded.status == 1)
        let failed = (again["properties"] as? [[String: Any]])?.filter { $0["status"] as? String == "fail" }.compactMap { $0["property"] as? String }
        #expect(failed == ["durability"], "\(unfolded.stdout)")
        let log = try Data(contentsOf: finished.scratch.file("done.db.acks"))
        let folded = Set(String(decoding: log.prefix(Int(mark)), as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("c ") }.map { String($0.split(separator: " ")[1]) })
        let missing = Self.violations(again, "durability").map(Self.details).compactMap { $0["tx"] }
        #expect(!missing.isEmpty && missing.allSatisfy(folded.contains), "\(missing)")

        c = try Connection(path: finished.db.path)
        try c.execute("UPDATE stress_meta SET value = \(log.count + 1) WHERE key = 'acks_folded_through'")
        c.close()
        let beyond = try CLI.run(["check", "--db", finished.db.path, "--seed", "7"])
        #expect(beyond.status == 2)
        #expect(beyond.stdout.isEmpty)
        #expect(beyond.stderr == "sqlite-stress: error: cannot check durability or rollback: the acknowledgement log \(finished.scratch.file("done.db.acks").path) is \(log.count) bytes long, "
            + "but the database records that its first \(log.count + 1) bytes were reviewed: it is not that database's log.\n")
    }

    // After a power loss under synchronous=NORMAL (a `p 1` marker) commits
    // acknowledged before it may be missing, but only each writer's latest ones;
    // after `p 0` (FULL, EXTRA, OFF) every one must be there.
    @Test func powerLossMarkersRuleDurability() throws {
        let finished = try Finished()
        let acks = finished.scratch.file("done.db.acks")
        let original = try String(contentsOf: acks, encoding: .utf8)
        func record(_ outcome: String, _ id: Int64) -> String { "\(outcome) \(id) \(~id)\n" }
        // The thread's last acknowledged commit (in the database), and one of its ids that never ran.
        let last = try #require(original.split(separator: "\n").last { $0.hasPrefix("c ") })
        let survivor = try #require(Int64(last.split(separator: " ")[1]))
        #expect(survivor >> 32 == 1, "expected a commit of thread 0")
        let lost: Int64 = 1 << 32 | 0xFFFF_FFF0

        // Lost as the writer's latest before a relaxed power loss: what SQLite allows.
        try (original + record("c", lost) + record("p", 1)).write(to: acks, atomically: true, encoding: .utf8)
        var (result, json) = try finished.check()
        #expect(result.status == 0, "\(result.stdout)")
        let checked = (json["properties"] as? [[String: Any]])?.first { $0["property"] as? String == "durability" }?["checked"] as? String
        #expect(checked?.contains("1 lost to 1 power loss") == true, "\(checked ?? "")")

        // Lost while a later commit of the same writer survived: not a power loss's doing.
        try (original + record("c", lost) + record("c", survivor) + record("p", 1)).write(to: acks, atomically: true, encoding: .utf8)
        (result, json) = try finished.check()
        #expect(result.status == 1)
        var found = Self.violations(json, "durability").map(Self.details)
        #expect(found.contains { $0["tx"] == String(lost) && $0["survivor"] != nil }, "\(found)")

        // A power loss after which every acknowledged commit must survive.
        try (original + record("c", lost) + record("p", 0)).write(to: acks, atomically: true, encoding: .utf8)
        (result, json) = try finished.check()
        #expect(result.status == 1)
        found = Self.violations(json, "durability").map(Self.details)
        #expect(found.contains { $0["tx"] == String(lost) }, "\(found)")
    }

    // A database of ours (its acknowledgement log is beside it) whose first page
    // was destroyed is an integrity failure, not a file to refuse; a foreign
    // file with a damaged header is still refused (see badDatabasesAreRefused).
    @Test func destroyedHeaderIsAnIntegrityViolation() throws {
        let finished = try Finished()
        finished.connection.close()
        let handle = try FileHandle(forWritingTo: finished.db)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 100))
        try handle.close()
        let (result, json) = try finished.check()
        #expect(result.status == 1, "\(result.stderr)")
        #expect(Self.status(json, "integrity") == "fail")
    }

    // A database of ours whose schema page was destroyed (the header still names
    // it ours): check and the drivers report integrity, exit 1, not a usage error.
    @Test func destroyedSchemaIsAnIntegrityViolation() throws {
        let finished = try Finished()
        finished.connection.close()
        let handle = try FileHandle(forWritingTo: finished.db)
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 400))
        try handle.close()
        let (result, json) = try finished.check()
        #expect(result.status == 1, "\(result.stderr)")
        #expect(Self.status(json, "integrity") == "fail")
        let driver = try CLI.run(["insert", "--db", finished.db.path, "--seed", "1"])
        #expect(driver.status == 1, "\(driver.stdout)\(driver.stderr)")
        #expect(driver.stdout.contains("VIOLATION integrity"))
    }

    // rollback: a row carrying a rolled-back tag is named as a rollback leak,
    // not merely as a model mismatch.
    @Test(arguments: Run.allCases)
    func rolledBackTagIsARollbackViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let (table, rowid) = try finished.rowidTable()
        try finished.connection.execute("UPDATE \"\(table.name)\" SET stress_tag = -stress_tag WHERE rowid = \(rowid)")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "rollback").map(Self.details)
        #expect(found.contains { $0["table"] == table.name && $0["key"] == "\(rowid)" }, "\(found)")
        #expect(!Self.violations(json, "model").map(Self.details).contains { $0["key"] == "\(rowid)" && $0["table"] == table.name })
    }

    // rollback: an inserted row whose tag marks work that was rolled back.
    @Test func insertedRolledBackRowIsARollbackViolation() throws {
        let finished = try Finished()
        try finished.connection.execute("INSERT INTO stress_accounts (id, balance, stress_tag) VALUES (777, 0, -\(1 << 32 | 5))")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "rollback").map(Self.details)
        #expect(found.contains { $0["table"] == "stress_accounts" && $0["key"] == "777" && $0["rolled-back-writer"] == "t0x5" }, "\(found)")
    }

    // rollback: a ledger entry of a statement the plan undid (a leaked deletion,
    // say) is named, though it leaves no tagged row behind.
    @Test(arguments: Run.allCases)
    func leakedUndoneLedgerEntryIsARollbackViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let (table, _) = try finished.rowidTable()
        try finished.connection.execute(
            "INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (-\(1 << 32 | 9), '\(table.ledgerName)', 123456, NULL)")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "rollback").map(Self.details)
        #expect(found.contains { $0["key"] == "123456" && $0["rolled-back-writer"] == "t0x9" }, "\(found)")
    }

    // rollback: a transaction recorded as rolled back must leave nothing in the ledger.
    @Test func ledgerEntryOfRolledBackTransactionIsARollbackViolation() throws {
        let finished = try Finished()
        let acks = try String(contentsOf: finished.scratch.file("done.db.acks"), encoding: .utf8)
        let rolledBack = try #require(acks.split(separator: "\n").first { $0.hasPrefix("r ") }?.split(separator: " ")[1])
        try finished.connection.execute(
            "INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (\(rolledBack), '', NULL, NULL)")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "rollback")
        #expect(found.contains { ($0["message"] as? String)?.contains("commit record") == true }, "\(found)")
    }

    // rollback on a compacted ledger: a transaction recorded as rolled back must
    // not be in the record of compacted transactions either (its entries leaked
    // and were compacted away).
    @Test func compactionRecordOfRolledBackTransactionIsARollbackViolation() throws {
        let finished = try Finished(.compacted)
        let rolledBack = try #require(
            try finished.recordsSinceTheFold().last { $0.hasPrefix("r ") }.flatMap { Int64($0.split(separator: " ")[1]) },
            "no rollback after the last compaction")
        try finished.connection.execute("""
            INSERT INTO stress_compacted (block, bits) VALUES (\(rolledBack >> 5), \(1 << (rolledBack & 31)))
            ON CONFLICT (block) DO UPDATE SET bits = bits | excluded.bits
            """)
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        #expect(Self.status(json, "durability") == "pass")
        let found = Self.violations(json, "rollback").map(Self.details)
        #expect(found.map { $0["tx"] } == [String(rolledBack)], "\(found)")
    }

    // conservation: one changed balance changes the total.
    @Test func changedBalanceIsAConservationViolation() throws {
        let finished = try Finished()
        try finished.connection.execute("UPDATE stress_accounts SET balance = balance + 1 WHERE id = 3")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "conservation").map(Self.details)
        #expect(found.first?["table"] == "stress_accounts")
        #expect(found.first?["actual"]?.hasPrefix("16001") == true, "\(found)")
    }

    /// A clean 100-iteration `stress` run's database in `journalMode`, without schema changes.
    static func shortRun(_ journalMode: String) throws -> (Scratch, URL) {
        let scratch = try Scratch()
        let db = scratch.file("short.db")
        let run = try CLI.run([
            "stress", "--seed", "0xc0ffee", "--no-schema-changes", "--iterations", "100", "--journal-mode", journalMode,
            "--db", db.path, "-q",
        ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        return (scratch, db)
    }

    /// The known SQLite bugs a check names for a database in `journalMode` on the
    /// SQLite loaded: the WAL bug in WAL mode before 3.50.2, else none.
    static func knownBugsOfAKilledWriter(_ journalMode: String) -> [String] {
        let version = SQLiteLibrary.loaded.version.split(separator: ".").compactMap { Int($0) }
        let hasTheWALFix = version.lexicographicallyPrecedes([3, 50, 2]) == false
        return journalMode == "wal" && !hasTheWALFix ? ["wal-rollback-to-checksums"] : []
    }

    // A failed check names the known SQLite bugs the database's writers could
    // have met on the SQLite it runs, had one been killed: in WAL mode the WAL
    // recovery bug, on a release without its fix (3.50.2); in a rollback-journal
    // mode none (the others need threads of one process, or this tool's I/O
    // errors, which a check cannot see). In the text, in the JSON, and in the
    // failed assertion's details in the SDK output.
    @Test(arguments: ["wal", "delete"])
    func aFailedCheckNamesTheKnownBugsAKilledWriterCouldHaveMet(_ journalMode: String) throws {
        let (scratch, db) = try Self.shortRun(journalMode)
        let connection = try Connection(path: db.path)
        try connection.execute("UPDATE stress_accounts SET balance = balance + 1 WHERE id = 3")
        connection.close()
        let sdk = scratch.file("sdk.jsonl")
        let result = try CLI.run(
            ["check", "--db", db.path, "--seed", "7", "--json"], environment: ["ANTITHESIS_SDK_LOCAL_OUTPUT": sdk.path])
        #expect(result.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        let version = try #require((json["sqlite"] as? [String: Any])?["version"] as? String)
        #expect(version == SQLiteLibrary.loaded.version, "the check loads the SQLite this test does")
        let expected = Self.knownBugsOfAKilledWriter(journalMode)
        let named = (json["knownSQLiteBugs"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(named == expected, "SQLite \(version)")

        let text = try CLI.run(["check", "--db", db.path, "--seed", "7"])
        #expect(text.status == 1)
        let hints = text.stdout.split(separator: "\n").filter { $0.hasPrefix("known SQLite bug") }
        #expect(hints.count == expected.count, "\(text.stdout)")
        #expect(hints.allSatisfy {
            $0.hasPrefix("known SQLite bug this database's writers could have met if one was killed: wal-rollback-to-checksums — in WAL mode")
                && $0.contains("; fixed in 3.50.2, so a run on a release with the fix tells (--sqlite)")
        })

        let assertions = try CLI.assertionHits(in: sdk)
        let conservation = try #require(assertions.first { ($0["id"] as? String)?.hasPrefix("conservation") == true },
                                        "\(assertions.map { $0["id"] ?? "" })")
        #expect(conservation["condition"] as? Bool == false)
        let details = conservation["details"] as? [String: Any] ?? [:]
        #expect(details["known_sqlite_bugs"] as? String == (expected.isEmpty ? nil : "wal-rollback-to-checksums (fixed in 3.50.2)"))
        let passed = assertions.filter { $0["condition"] as? Bool == true }
        #expect(!passed.isEmpty && passed.allSatisfy { ($0["details"] as? [String: Any])?["known_sqlite_bugs"] == nil },
                "only a failed property's details name known bugs")
    }

    // A driver that meets corruption reports an integrity violation, and its
    // failed assertion names the known SQLite bugs its writers could have met:
    // itself and, beside it, drivers that may have been killed. In WAL mode on
    // a release before 3.50.2 that is the WAL recovery bug; in DELETE mode,
    // with one thread and no fault, none. So whether it meets the damage as it
    // works (the ledger) or as it reads the recorded schema (`stress_meta`,
    // where the journal mode is recorded: the header's file format numbers
    // say it then).
    @Test(arguments: ["wal", "delete"], ["stress_ledger", "stress_meta"])
    func aDriverThatMeetsCorruptionNamesTheKnownBugs(_ journalMode: String, _ damaged: String) throws {
        let scratch = try Scratch()
        let db = scratch.file("driven.db")
        let schema = try CLI.run(["schema", "--db", db.path, "--seed", "5", "--journal-mode", journalMode, "-q"])
        try #require(schema.status == 0, "\(schema.stderr)")
        let connection = try Connection(path: db.path)
        let root = try Self.rootPage(of: damaged, on: connection)
        if journalMode == "wal" { try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        connection.close()
        try Self.damage(page: root, of: db)
        let sdk = scratch.file("sdk.jsonl")
        let result = try CLI.run(["insert", "--db", db.path, "--seed", "1", "--json"], environment: ["ANTITHESIS_SDK_LOCAL_OUTPUT": sdk.path])
        if damaged == "stress_meta" {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
            let messages = (json["violations"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
            #expect(messages.count == 1 && messages[0].hasPrefix("the database could not be read: "), "\(messages)")
        }
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let expected = Self.knownBugsOfAKilledWriter(journalMode).first.map { "\($0) (fixed in 3.50.2)" }
        let hits = try CLI.assertionHits(in: sdk)
        let integrity = hits.filter { ($0["id"] as? String)?.hasPrefix("integrity") == true && $0["condition"] as? Bool == false }
        #expect(!integrity.isEmpty, "\(hits.map { $0["id"] ?? "" })")
        #expect(integrity.allSatisfy { ($0["details"] as? [String: Any])?["known_sqlite_bugs"] as? String == expected }, "\(integrity)")
    }

    // A check that cannot read the journal mode `schema` recorded (`stress_meta`
    // damaged) names the known SQLite bugs a killed writer could have met by
    // the mode the database header's file format numbers say.
    @Test(arguments: ["wal", "delete"])
    func aCheckThatCannotReadTheRecordedModeNamesTheKnownBugsByTheHeader(_ journalMode: String) throws {
        let (scratch, db) = try Self.shortRun(journalMode)
        let connection = try Connection(path: db.path)
        let root = try Self.rootPage(of: "stress_meta", on: connection)
        if journalMode == "wal" { try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        connection.close()
        try Self.damage(page: root, of: db)
        let result = try CLI.run(["check", "--db", db.path, "--seed", "7", "--json"])
        #expect(result.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        #expect(Self.status(json, "integrity") == "fail")
        let named = (json["knownSQLiteBugs"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(named == Self.knownBugsOfAKilledWriter(journalMode), "SQLite \(SQLiteLibrary.loaded.version)")
        withExtendedLifetime(scratch) {}
    }

    // `check` and `integrity` leave the files as they found them: a WAL that a
    // crash left (a driver's simulated power loss) is neither checkpointed
    // into the database nor removed when they close, so a second check — the
    // reproduce line — judges the very files the first did.
    // A WAL with nothing in it is not left behind either: SQLite removes it as usual.
    @Test func aCheckLeavesTheWALACrashLeft() throws {
        let scratch = try Scratch()
        let db = scratch.file("crashed.db"), wal = scratch.file("crashed.db-wal")
        let schema = try CLI.run(["schema", "--db", db.path, "--seed", "4", "--journal-mode", "wal", "--synchronous", "full", "-q"])
        try #require(schema.status == 0, "\(schema.stderr)")
        let clean = try scratch.snapshot()
        try #require(clean["crashed.db-wal"] == nil, "schema's last connection removed its WAL")
        let first = try CLI.run(["check", "--db", db.path, "--seed", "7", "-q"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try scratch.snapshot() == clean, "a check of a clean WAL database left files behind")
        let crash = try CLI.run(["insert", "--db", db.path, "--seed", "1", "--crash", "-q"])
        try #require(crash.status == 0, "\(crash.stdout)\(crash.stderr)")
        let before = try [Data(contentsOf: db), Data(contentsOf: wal)]
        try #require(!before[1].isEmpty, "the crash left a WAL")
        for command in ["check", "integrity", "check"] {
            let result = try CLI.run([command, "--db", db.path, "--seed", "7", "-q"])
            #expect(result.status == 0, "\(command): \(result.stdout)\(result.stderr)")
            #expect(try [Data(contentsOf: db), Data(contentsOf: wal)] == before, "\(command) changed the files")
        }
    }

    // A row image holds its reals as the printf of the SQLite that wrote it,
    // and SQLite's releases print some reals differently (3.40.1 and 3.50.4 the
    // largest double, for one): the database records its SQLite, and a check
    // or a driver on a SQLite of another family is one sentence and exit 2,
    // never a model violation for every such row. One of the same family
    // checks it.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func aDatabaseIsCheckedOnlyWithASQLiteThatPrintsRealsAsItsOwnDid() throws {
        let release = try SQLiteBuilds.release3504.get()
        let system = SQLiteLibrary.loaded.version
        try #require(Real17.family(ofVersion: system) != Real17.family(ofVersion: "3.50.4"), "SQLite \(system) prints reals as 3.50.4 does")
        let scratch = try Scratch()
        let db = scratch.file("made.db")
        let schema = try CLI.run(["schema", "--db", db.path, "--seed", "4", "--journal-mode", "delete", "-q"])
        try #require(schema.status == 0, "\(schema.stderr)")
        // Rows holding the largest double, which the two releases print differently.
        let insert = try CLI.run(["insert", "--db", db.path, "--seed", "1", "-q"])
        try #require(insert.status == 0, "\(insert.stdout)\(insert.stderr)")
        let connection = try Connection(path: db.path, flags: [.readOnly])
        #expect(try connection.scalar("SELECT count(*) FROM stress_ledger WHERE instr(image, '1.7976931348623156e+308')") != .integer(0))
        #expect(try connection.scalar("SELECT value FROM stress_meta WHERE key = 'sqlite_version'") == .text(system))
        connection.close()
        let before = try scratch.snapshot()
        let sentence = "sqlite-stress: error: \(db.path) was made with SQLite \(system), whose printf writes some reals in the "
            + "ledger's row images otherwise than SQLite 3.50.4's (\(Real17.family(ofVersion: system)!.rawValue) against Dekker); "
            + "check and drive it with a SQLite of its family (--sqlite).\n"
        for command in ["check", "integrity", "insert"] {
            let result = try CLI.run(["--sqlite", release.path, command, "--db", db.path, "--seed", "1", "-q"])
            #expect(result.status == 2, "\(command): \(result.stdout)\(result.stderr)")
            #expect(result.stderr == sentence, "\(command)")
            #expect(try scratch.snapshot() == before, "\(command) wrote")
        }
        let own = scratch.file("own.db").path
        let made = try CLI.run(["--sqlite", release.path, "stress", "--db", own, "--seed", "4", "--iterations", "50", "-q"])
        try #require(made.status == 0, "\(made.stdout)\(made.stderr)")
        let check = try CLI.run(["--sqlite", release.path, "check", "--db", own, "--seed", "1", "-q"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    // integrity: a corrupted page.
    @Test func corruptPageIsAnIntegrityViolation() throws {
        let finished = try Finished()
        finished.connection.close()
        try Self.damage(page: 2, of: finished.db, from: 8, count: 400)
        let result = try CLI.run(["check", "--db", finished.db.path, "--seed", "7", "--json"])
        #expect(result.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(Self.status(json, "integrity") == "fail")
    }

    // query-consistency: an index whose stored entries no longer match its
    // definition makes an indexed lookup disagree with a scan.
    @Test(arguments: Run.allCases)
    func inconsistentIndexIsAQueryConsistencyViolation(_ run: Run) throws {
        let finished = try Finished(run)
        let c = finished.connection
        // A one-column index built on a rowid table with rows, then redefined over another column.
        // (On a WITHOUT ROWID table SQLite 3.40 reads such an index as a covering
        // index even for NOT INDEXED, so both sides of the comparison read it.)
        var redefined: String?
        search: for table in try finished.tables() where !table.withoutRowid {
            for column in table.columns {
                // Enough values that the two indexes differ.
                guard case .integer(let n)? = try c.scalar("SELECT count(DISTINCT \"\(column)\") FROM \"\(table.name)\""), n > 3 else { continue }
                try c.execute("""
                    CREATE INDEX tampered ON "\(table.name)" ("\(column)");
                    PRAGMA writable_schema = ON;
                    UPDATE sqlite_schema SET sql = 'CREATE INDEX tampered ON "\(table.name)" (stress_tag)' WHERE name = 'tampered';
                    PRAGMA writable_schema = OFF;
                    """)
                redefined = "tampered"
                break search
            }
        }
        let index = try #require(redefined, "no table with enough rows and values")
        let (result, json) = try finished.check()
        #expect(result.status == 1)
        let found = Self.violations(json, "query-consistency").map(Self.details)
        #expect(found.contains { $0["index"] == index }, "\(found)")
    }

    // A compaction folds only acknowledgements that hold: run after a
    // transaction was lost behind the tool's back, it folds nothing (it still
    // compacts), and the check that follows names the lost transaction.
    @Test func aCompactionDoesNotFoldALostTransactionAway() throws {
        let finished = try Finished()
        // The commit record of the last transaction that changed no row: only durability can miss it.
        let lost = try #require({ if case .integer(let id)? = $0 { id } else { nil } }(try finished.connection.scalar("""
            SELECT max(tx) FROM (SELECT tx FROM stress_ledger GROUP BY tx HAVING count(*) = 1 AND max(tbl) = '')
            """)))
        try finished.connection.execute("DELETE FROM stress_ledger WHERE tx = \(lost)")
        finished.connection.close()
        let compact = try CLI.run(["compact", "--seed", "1", "--db", finished.db.path, "-q"])
        try #require(compact.status == 0, "\(compact.stdout)\(compact.stderr)")
        let c = try Connection(path: finished.db.path)
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'acks_folded_through'") == .integer(0), "nothing folded")
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'compacted_through'") != .integer(0), "the ledger compacted")
        c.close()
        let (result, json) = try Self.checkJSON(finished.db)
        #expect(result.status == 1)
        let found = Self.violations(json, "durability").map(Self.details)
        #expect(found.map { $0["tx"] } == [String(lost)], "\(found)")
    }

    // A compaction is a transaction of its writer's: its commit record is the
    // ledger's last entry, and its acknowledgement is judged like any other.
    // The check passes after it; with that commit record deleted behind the
    // tool's back, `durability` names the compaction's transaction.
    @Test(arguments: [false, true])
    func aCompactionIsAnAcknowledgedTransaction(recordDeleted: Bool) throws {
        let finished = try Finished()
        finished.connection.close()
        let compact = try CLI.run(["compact", "--seed", "1", "--db", finished.db.path, "-q"])
        try #require(compact.status == 0, "\(compact.stdout)\(compact.stderr)")
        let c = try Connection(path: finished.db.path)
        let last = try c.query("SELECT tx, tbl, key, image FROM stress_ledger WHERE seq = (SELECT max(seq) FROM stress_ledger)")
        try #require(last.count == 1)
        let tx = try #require({ if case .integer(let id) = last[0][0] { id } else { nil } }())
        #expect(Array(last[0].dropFirst()) == [.text(""), .null, .null], "a commit record")
        let writer = tx >> 32, number = tx & 0xFFFF_FFFF
        let sqlLog = try String(contentsOf: finished.scratch.file("done.db.sql"), encoding: .utf8)
        let record = "INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (\(tx), '', NULL, NULL)"
        #expect(sqlLog.contains("\(record); -- d\(writer) x\(number) ok changes=1\n"), "the compaction's commit record")
        #expect(sqlLog.contains("COMMIT; -- d\(writer) x\(number) ok\n"), "the compaction's own COMMIT")
        if recordDeleted { try c.execute("DELETE FROM stress_ledger WHERE tx = \(tx)") }
        c.close()
        let (result, json) = try Self.checkJSON(finished.db)
        if recordDeleted {
            #expect(result.status == 1)
            let found = Self.violations(json, "durability").map(Self.details)
            #expect(found.map { $0["tx"] } == [String(tx)], "\(found)")
        } else {
            #expect(result.status == 0, "\(result.stdout)")
        }
    }

    // A compaction that fails is rolled back whole and recorded as rolled back,
    // like any transaction of its writer's. Here a trigger planted behind the
    // tool's back refuses the compaction's mark: the compaction ends in
    // ROLLBACK, its id is the acknowledgement log's last record, as rolled
    // back, and `rollback` passes. With a commit record of that id planted in
    // the ledger afterwards, `rollback` names it.
    @Test(arguments: [false, true])
    func aCompactionThatFailsIsRecordedAsRolledBack(leaked: Bool) throws {
        let finished = try Finished()
        try finished.connection.execute("""
            CREATE TRIGGER refuse_mark BEFORE UPDATE ON stress_meta WHEN new.key = 'compacted_through' \
            BEGIN SELECT RAISE(ABORT, 'refused'); END
            """)
        finished.connection.close()
        let compact = try CLI.run(["compact", "--seed", "1", "--db", finished.db.path, "-q"])
        try #require(compact.status == 0, "\(compact.stdout)\(compact.stderr)")
        let acks = try String(contentsOf: finished.scratch.file("done.db.acks"), encoding: .utf8)
        let last = try #require(acks.split(separator: "\n").last?.split(separator: " "))
        try #require(last.count == 3 && last[0] == "r", "\(last)")
        let tx = try #require(Int64(last[1]))
        let writer = tx >> 32, number = tx & 0xFFFF_FFFF
        let sqlLog = try String(contentsOf: finished.scratch.file("done.db.sql"), encoding: .utf8)
        #expect(sqlLog.contains("; -- d\(writer) x\(number) SQLITE_CONSTRAINT"), "the mark refused")
        #expect(sqlLog.contains("ROLLBACK; -- d\(writer) x\(number) ok\n"))
        let c = try Connection(path: finished.db.path)
        try c.execute("DROP TRIGGER refuse_mark")
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'compacted_through'") == .integer(0), "nothing compacted")
        if leaked { try c.execute("INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (\(tx), '', NULL, NULL)") }
        c.close()
        let (result, json) = try Self.checkJSON(finished.db)
        if leaked {
            #expect(result.status == 1)
            let found = Self.violations(json, "rollback").map(Self.details)
            #expect(found.map { [$0["rolled-back-writer"], $0["table"]] } == [["d\(writer)x\(number)", ""]], "\(found)")
        } else {
            #expect(result.status == 0, "\(result.stdout)")
        }
    }

    // A compaction that cannot read the acknowledgement log (here a fresh log in
    // place of the one its fold reviewed) commits without folding anything and
    // says why in the SQL log; the check then refuses the log with exit 2, as
    // it would without the compaction.
    @Test func aCompactionThatCannotReadTheLogFoldsNothing() throws {
        let finished = try Finished(.compacted)
        let foldMark = "SELECT value FROM stress_meta WHERE key = 'acks_folded_through'"
        let mark = try #require({ if case .integer(let m)? = try finished.connection.scalar(foldMark) { m } else { nil } }())
        finished.connection.close()
        let acks = finished.scratch.file("done.db.acks")
        try Data("# sqlite-stress acknowledgements\n".utf8).write(to: acks)

        let compact = try CLI.run(["compact", "--seed", "1", "--db", finished.db.path, "-q"])
        #expect(compact.status == 0, "\(compact.stdout)\(compact.stderr)")
        let c = try Connection(path: finished.db.path)
        #expect(try c.scalar(foldMark) == .integer(mark), "nothing folded")
        c.close()
        // The compaction read the log before its own acknowledgement, the log's last record, was written.
        let records = try Data(contentsOf: acks)
        let ownRecord = try #require(records.dropLast().split(separator: UInt8(ascii: "\n")).last, "the compaction's acknowledgement").count + 1
        func reason(_ length: Int) -> String {
            "the acknowledgement log \(acks.path) is \(length) bytes long, but the database records that its first \(mark) bytes "
                + "were reviewed: it is not that database's log."
        }
        let sqlLog = try String(contentsOf: finished.scratch.file("done.db.sql"), encoding: .utf8)
        // Each write to the shared log begins with a form feed (the drivers' writes are marked).
        let lines = sqlLog.split(separator: "\n").map { $0.drop { $0 == "\u{0C}" } }
        let said = lines.indices.filter { lines[$0].hasPrefix("-- ") && lines[$0].contains("compact: the acknowledgements are not folded: ") }
        #expect(said.count == 1 && said.first.map { lines[$0].hasSuffix(reason(records.count - ownRecord)) } == true, "\(said.map { lines[$0] })")
        let began = said.first.flatMap { lines[..<$0].last { $0.hasPrefix("BEGIN IMMEDIATE; -- ") } }
        let committed = said.first.flatMap { lines[$0...].first { $0.hasPrefix("COMMIT; -- ") } }
        let compaction = try #require(began?.dropFirst("BEGIN IMMEDIATE".count))
        #expect(committed.map { $0.dropFirst("COMMIT".count) } == compaction, "the compaction committed: \(committed ?? "no COMMIT")")

        let check = try CLI.run(["check", "--db", finished.db.path, "--seed", "7"])
        #expect(check.status == 2)
        #expect(check.stdout.isEmpty)
        #expect(check.stderr == "sqlite-stress: error: cannot check durability or rollback: \(reason(records.count))\n")
    }

    // durability and rollback never pass without the acknowledgement log: once
    // the ledger records committed transactions, a log that is missing, empty,
    // not ours or a directory stops `check` and `integrity` with exit 2 and the
    // reason — where the intact log turns the same edit into a violation.
    @Test(arguments: ["missing", "empty", "garbage", "directory"])
    func unusableAckLogIsNoPass(_ damage: String) throws {
        let finished = try Finished()
        // The commit record of the last transaction that changed no row: only durability can miss it.
        try finished.connection.execute("""
            DELETE FROM stress_ledger WHERE tx = (SELECT max(tx) FROM (SELECT tx FROM stress_ledger GROUP BY tx HAVING count(*) = 1 AND max(tbl) = ''))
            """)
        #expect(finished.connection.changes == 1)
        let (intact, json) = try finished.check()
        #expect(intact.status == 1)
        let failed = (json["properties"] as? [[String: Any]])?.filter { $0["status"] as? String == "fail" }.compactMap { $0["property"] as? String }
        #expect(failed == ["durability"], "\(intact.stdout)")
        let acks = finished.scratch.file("done.db.acks")
        try FileManager.default.removeItem(at: acks)
        switch damage {
        case "empty": try Data().write(to: acks)
        case "garbage": try Data((0..<512).map { UInt8(truncatingIfNeeded: $0 &* 167 &+ 13) }).write(to: acks)
        case "directory": try FileManager.default.createDirectory(at: acks, withIntermediateDirectories: false)
        default: break
        }
        for command in ["check", "integrity"] {
            let result = try CLI.run([command, "--db", finished.db.path, "--seed", "7", "--json"])
            #expect(result.status == 2, "\(command) with a \(damage) ack log: \(result.stdout)")
            #expect(result.stdout.isEmpty)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("done.db.acks"), "\(result.stderr)")
        }
    }

    // durability reads the ledger's own table, not its index: with the index
    // damaged, a lost transaction is still named (and the damage reported too).
    @Test func lostTransactionIsNamedPastADamagedLedgerIndex() throws {
        let finished = try Finished()
        // The commit record of the last transaction that changed no row: only durability can miss it.
        let lost = try #require(try finished.connection.scalar("""
            SELECT max(tx) FROM (SELECT tx FROM stress_ledger GROUP BY tx HAVING count(*) = 1 AND max(tbl) = '')
            """).flatMap { if case .integer(let tx) = $0 { tx } else { nil } })
        try finished.connection.execute("DELETE FROM stress_ledger WHERE tx = \(lost)")
        let root = try Self.rootPage(of: "stress_ledger_key", on: finished.connection)
        finished.connection.close()
        try Self.damage(page: root, of: finished.db)  // The index's root page, and only it.
        let result = try CLI.run(["check", "--db", finished.db.path, "--seed", "7", "--json"])
        #expect(result.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(Self.status(json, "integrity") == "fail")
        #expect(Self.status(json, "durability") == "fail")
        #expect(Self.violations(json, "durability").map(Self.details).map { $0["tx"] } == [String(lost)])
    }

    /// `check --json` of `finished` after its ledger's last pages were filled
    /// with commit records (of transactions never acknowledged) and the last of
    /// them damaged: a page only the acknowledgement side reads. The check must fail.
    static func checkPastADamagedCommitRecordPage(_ finished: Finished) throws -> [String: Any] {
        try finished.connection.execute("""
            WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 3000)
            INSERT INTO stress_ledger (tx, tbl, key, image) SELECT (200 << 32) | v, '', NULL, NULL FROM n
            """)
        let last = try #require(try finished.connection.scalar(
            "SELECT pageno FROM dbstat WHERE name = 'stress_ledger' ORDER BY path DESC LIMIT 1")
            .flatMap { if case .integer(let page) = $0 { Int(page) } else { nil } })
        finished.connection.close()
        try damage(page: last, of: finished.db)
        let (result, json) = try checkJSON(finished.db)
        #expect(result.status == 1)
        return json
    }

    // A ledger page that only the acknowledgement side reads (commit records)
    // damaged: `model`, which never reads it, keeps its verdict; `durability`
    // and `rollback`, which must read every entry, report the damage (as
    // `integrity` violations) instead of a verdict.
    @Test func aDamagedCommitRecordPageLeavesModelItsVerdict() throws {
        let json = try Self.checkPastADamagedCommitRecordPage(try Finished())
        #expect(Self.status(json, "integrity") == "fail")
        #expect(Self.status(json, "model") == "pass")
        #expect(Self.status(json, "durability") == "skipped" && Self.status(json, "rollback") == "skipped")
        let damage = Self.violations(json, "integrity").compactMap { $0["message"] as? String }
        #expect(damage.contains { $0.hasPrefix("checking durability met a corrupt database") }, "\(damage)")
        #expect(damage.contains { $0.hasPrefix("checking rollback met a corrupt database") }, "\(damage)")
    }

    // A row carrying a rolled-back tag, and a ledger page that only the
    // acknowledgement side reads damaged: the scan of the rows judged the row, so
    // `rollback` fails with it, though the damage stopped it before the ledger's
    // part (the damage itself is `integrity`'s).
    @Test func aVisibleRolledBackRowStandsPastADamagedCommitRecordPage() throws {
        let finished = try Finished()
        let (table, rowid) = try finished.rowidTable()
        try finished.connection.execute("UPDATE \"\(table.name)\" SET stress_tag = -stress_tag WHERE rowid = \(rowid)")
        let json = try Self.checkPastADamagedCommitRecordPage(finished)
        #expect(Self.status(json, "rollback") == "fail")
        let found = Self.violations(json, "rollback").map(Self.details)
        #expect(found.count == 1 && found.first?["table"] == table.name && found.first?["key"] == "\(rowid)", "\(found)")
        let damage = Self.violations(json, "integrity").compactMap { $0["message"] as? String }
        #expect(damage.contains { $0.hasPrefix("checking rollback met a corrupt database") }, "\(damage)")
        #expect(Self.status(json, "durability") == "skipped")
    }

    // A row changed and a row of rolled-back work added behind the tool's back in
    // the first table the scan reads (the accounts), and the last table it reads
    // damaged. `rollback` fails with the rolled-back row, found before the damage
    // stopped the scan (a tag is read from the row alone). `model` is stopped
    // without a verdict: its findings pair rows with the ledger's index, which
    // damage can misorder without an error, so none found before the stop stands.
    @Test func rollbackKeepsTheRowsItFoundBeforeDamageStoppedTheScan() throws {
        let finished = try Finished()
        try finished.connection.execute("UPDATE stress_accounts SET balance = balance + 1 WHERE id = 3")
        try finished.connection.execute("INSERT INTO stress_accounts (id, balance, stress_tag) VALUES (777, 0, -\(1 << 32 | 5))")
        // Rowid tables are read first, then WITHOUT ROWID ones, each in name order.
        let tables = try finished.connection.query("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND name GLOB 't[0-9]*'")
            .compactMap { row -> (name: String, withoutRowid: Bool)? in
                guard case .text(let name) = row[0], case .integer(let wr) = row[1] else { return nil }
                return (name, wr == 1)
            }
            .sorted { ($0.withoutRowid ? 1 : 0, $0.name) < ($1.withoutRowid ? 1 : 0, $1.name) }
        let lastTable = try #require(tables.last?.name)
        let root = try Self.rootPage(of: lastTable, on: finished.connection)
        finished.connection.close()
        try Self.damage(page: root, of: finished.db)
        let (result, json) = try Self.checkJSON(finished.db)
        #expect(result.status == 1)
        #expect(Self.status(json, "rollback") == "fail")
        let leaked = Self.violations(json, "rollback").map(Self.details)
        #expect(leaked.count == 1 && leaked.first?["table"] == "stress_accounts" && leaked.first?["key"] == "777", "\(leaked)")
        #expect(Self.checked(json, "rollback") == "the tags of the rows read before the scan stopped")
        #expect(Self.status(json, "model") == "skipped")
        #expect(Self.violations(json, "model").isEmpty)
        let damage = Self.violations(json, "integrity").compactMap { $0["message"] as? String }
        #expect(damage.contains { $0.hasPrefix("checking model met a corrupt database") }, "\(damage)")
    }

    // The ledger's index built with its key, or its seq, descending while the
    // schema says ascending: SQLite then returns a table's entries out of that
    // order without an error. `model` stops, naming the table and the order,
    // rather than report rows that are fine as wrong; `integrity_check` reports the index.
    @Test(arguments: [("key DESC, seq", "key"), ("key, seq DESC", "seq")])
    func aMisorderedLedgerIndexStopsModel(_ columns: String, _ order: String) throws {
        let finished = try Finished()
        try finished.connection.execute("""
            DROP INDEX stress_ledger_key;
            CREATE INDEX stress_ledger_key ON stress_ledger (tbl, \(columns));
            PRAGMA writable_schema = ON;
            UPDATE sqlite_schema SET sql = 'CREATE INDEX stress_ledger_key ON stress_ledger (tbl, key, seq)' WHERE name = 'stress_ledger_key';
            PRAGMA writable_schema = OFF
            """)
        finished.connection.close()
        let json = try Self.checkStopsModel(finished.db, "the ledger's index returned the entries of stress_accounts out of \(order) order")
        #expect(Self.status(json, "integrity") == "fail")
    }

    // Two cells of the accounts' one page swapped: a scan returns its rows out
    // of rowid order without an error. `model` stops, naming the table.
    @Test func rowsOutOfRowidOrderStopModel() throws {
        let finished = try Finished()
        let root = try Self.rootPage(of: "stress_accounts", on: finished.connection)
        let pageSize = try #require(try finished.connection.scalar("PRAGMA page_size")
            .flatMap { if case .integer(let size) = $0 { Int(size) } else { nil } })
        finished.connection.close()
        // A leaf table page: 8 header bytes, then its cells' 2-byte pointers in key order.
        let handle = try #require(FileHandle(forUpdatingAtPath: finished.db.path))
        let pointers = UInt64((root - 1) * pageSize + 8)
        try handle.seek(toOffset: UInt64((root - 1) * pageSize))
        let header = try #require(try handle.read(upToCount: 8))
        try #require(header[0] == 0x0D && (Int(header[3]) << 8 | Int(header[4])) >= 2, "the accounts are not one leaf page")
        try handle.seek(toOffset: pointers)
        let first = try #require(try handle.read(upToCount: 4))
        try handle.seek(toOffset: pointers)
        handle.write(Data([first[2], first[3], first[0], first[1]]))
        try handle.close()
        _ = try Self.checkStopsModel(finished.db, "a scan returned the rows of stress_accounts out of rowid order")
    }

    /// `check --json` of `db`, which must fail with `model` stopped by `stop`
    /// (an order only a damaged file gives), no model violation listed.
    static func checkStopsModel(_ db: URL, _ stop: String) throws -> [String: Any] {
        let (result, json) = try checkJSON(db)
        #expect(result.status == 1)
        #expect(status(json, "model") == "skipped")
        #expect(violations(json, "model").isEmpty)
        #expect(checked(json, "model") == "stopped: \(stop), as only a damaged file does: rows cannot be paired with their images")
        return json
    }

    // Ledger entries for the accounts whose keys are of every other type and at
    // the integers' edges, written behind the tool's back in a healthy file:
    // the merge meets them in SQLite's order, so it does not stop, and `model`
    // names each as a row that is missing.
    @Test func keysOfEveryTypeInARowidTablesLedgerAreMissingRowsNotAStop() throws {
        let finished = try Finished()
        let keys = ["NULL", "-9223372036854775808", "2.5", "9223372036854775807", "1e300", "'text'", "X'00'"]
        for key in keys {
            try finished.connection.execute(
                "INSERT INTO stress_ledger (tx, tbl, key, image) VALUES ((200 << 32) | 1, 'stress_accounts', \(key), '0,0,0')")
        }
        finished.connection.close()
        let (result, json) = try Self.checkJSON(finished.db)
        #expect(result.status == 1)
        #expect(Self.status(json, "model") == "fail")
        #expect(!Self.checked(json, "model").hasPrefix("stopped"), "\(Self.checked(json, "model"))")
        let missing = Self.violations(json, "model").map(Self.details).filter { $0["table"] == "stress_accounts" }
        #expect(missing.count == keys.count, "\(missing)")
        #expect(Self.status(json, "integrity") == "pass")
    }

    // `integrity` on a database locked past the busy timeout gives no verdict and
    // exits 0, as its help says, with and without --wait; `check` needs the
    // database and exits 2, saying in one sentence that it stayed locked and
    // what to do (not which statement of its own met the lock).
    @Test func lockedDatabaseIsNoVerdictForIntegrity() throws {
        let finished = try Finished()
        try finished.connection.execute("BEGIN EXCLUSIVE; UPDATE stress_meta SET value = value WHERE key = 'seed'")
        defer { try? finished.connection.execute("ROLLBACK") }
        for wait in [[], ["--wait", "0.5"]] {
            let result = try CLI.run(["integrity", "--db", finished.db.path, "--busy-timeout", "100", "--json"] + wait)
            #expect(result.status == 0, "\(wait): \(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
            #expect(json["command"] as? String == "integrity")
            #expect(json["result"] as? String == "skipped")
            #expect((json["skipped"] as? String)?.contains("locked") == true)
        }
        let check = try CLI.run(["check", "--db", finished.db.path, "--busy-timeout", "100"])
        #expect(check.status == 2)
        #expect(check.stderr == "sqlite-stress: error: \(finished.db.path) stayed locked for 100 ms: another connection holds it "
            + "(SQLITE_BUSY); stop its writers, or give a longer --busy-timeout or --wait S to retry.\n")
        let waited = try CLI.run(["check", "--db", finished.db.path, "--busy-timeout", "100", "--wait", "1"])
        #expect(waited.status == 2)
        #expect(waited.stderr == "sqlite-stress: error: \(finished.db.path) stayed locked at every try for 1 s: another connection holds it.\n")
    }

    // `integrity --wait` runs integrity, not check: its header, JSON and reproduce line say so.
    @Test func integrityWithWaitIsIntegrity() throws {
        let finished = try Finished()
        finished.connection.close()
        let result = try CLI.run(["integrity", "--db", finished.db.path, "--seed", "3", "--wait", "5", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["command"] as? String == "integrity")
        #expect(json["reproduce"] as? String == "sqlite-stress integrity --db \(finished.db.path) --seed 0x0000000000000003")
        let text = try CLI.run(["integrity", "--db", finished.db.path, "--wait", "5"])
        #expect(text.stdout.hasPrefix("sqlite-stress integrity: "), "\(text.stdout)")
    }

    // Bad databases: one sentence, exit 2, nothing written.
    @Test func badDatabasesAreRefused() throws {
        let scratch = try Scratch()
        try Data("plain text\n".utf8).write(to: scratch.file("text.db"))
        let other = try Connection(path: scratch.file("other.db").path)
        try other.execute("CREATE TABLE x(a); INSERT INTO x VALUES (1)")
        other.close()
        let before = try scratch.snapshot()
        for command in ["check", "integrity"] {
            for name in ["missing.db", "text.db", "other.db"] {
                let result = try CLI.run([command, "--db", scratch.file(name).path])
                #expect(result.status == 2, "\(command) \(name): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
                #expect(result.stdout.isEmpty)
            }
        }
        #expect(try scratch.snapshot() == before)
    }

    // A database of another bookkeeping format (an older release's row images)
    // is refused, in one sentence that says which, by check, integrity and a
    // driver alike, and nothing is written; judged by this release's images
    // its rows would all be reported as changed.
    @Test(arguments: [(3, "an older"), (5, "a newer")])
    func otherBookkeepingFormatsAreRefused(_ format: Int, _ which: String) throws {
        let scratch = try Scratch()
        let db = scratch.file("old.db").path
        let stress = try CLI.run(["stress", "--db", db, "--seed", "3", "--iterations", "50", "--journal-mode", "delete", "-q"])
        try #require(stress.status == 0, "\(stress.stderr)")
        let connection = try Connection(path: db)
        try connection.execute("UPDATE stress_meta SET value = \(format) WHERE key = 'format'")
        connection.close()
        let before = try scratch.snapshot()
        for command in [["check"], ["integrity"], ["insert", "--seed", "1"]] {
            let result = try CLI.run(command + ["--db", db])
            #expect(result.status == 2, "\(command): \(result.stderr)")
            let sentence = "sqlite-stress: error: \(db) was made by \(which) sqlite-stress "
                + "(bookkeeping format \(format); this release reads format 4); use the release that made it.\n"
            #expect(result.stderr == sentence, "\(command)")
            #expect(result.stdout.isEmpty)
        }
        #expect(try scratch.snapshot() == before)
    }
}
