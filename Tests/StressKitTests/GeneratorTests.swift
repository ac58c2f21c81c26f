import StressSQLite
import Testing

@testable import StressKit

@Suite struct GeneratorTests {
    // Every generated schema is accepted by SQLite, over thousands of seeds: 1–10
    // tables, and an audit table besides when user triggers write one.
    @Test func everySchemaIsAccepted() throws {
        for seed in UInt64(0)..<2000 {
            var rng = Xoshiro(seed: seed)
            let schema = SchemaGenerator.generate(using: &rng)
            let audits = Set(schema.triggers.map(\.target))
            #expect((1...10).contains(schema.tables.count - audits.count) && audits.count <= 1)
            let db = try Connection(path: ":memory:")
            for sql in schema.createStatements {
                do { try db.execute(sql) } catch { Issue.record("seed \(seed): \(error)") }
            }
        }
    }

    // Every generated statement prepares against its schema, and none fails with
    // SQLITE_ERROR when run against a populated database (constraint errors are expected).
    @Test func everyStatementPreparesAndRuns() throws {
        for seed in UInt64(0)..<400 {
            var rng = Xoshiro(seed: seed)
            let schema = SchemaGenerator.generate(using: &rng)
            let db = try Connection(path: ":memory:")
            for sql in ["PRAGMA foreign_keys = ON", "PRAGMA recursive_triggers = ON"] + schema.createStatements
                + Bookkeeping.creationStatements { try db.execute(sql) }
            for _ in 0..<60 {
                let table = rng.pick(schema.tables)
                let kind = rng.pick(StatementKind.allCases)
                let sql = !schema.views.isEmpty && rng.chance(0.1)
                    ? StatementGenerator.select(rng.pick(schema.views), using: &rng)
                    : StatementGenerator.generate(kind, on: table, tag: 7, using: &rng)
                do {
                    let statement = try db.prepare(sql)
                    while try statement.step() {}
                } catch where error.code.primary == .constraint {
                    continue
                } catch {
                    Issue.record("seed \(seed): \(error)")
                }
            }
        }
    }

    // Over many seeds the mix contains every statement, transaction, savepoint,
    // maintenance and schema-change kind, and the schemas every table shape,
    // index kind and feature of SQL the generator knows.
    @Test func theMixCoversEveryKind() {
        var statementKinds = Set<StatementKind>()
        var transactionKinds = Set<TransactionKind>()
        var maintenanceKinds = Set<MaintenanceKind>()
        var schemaChangeKinds = Set<SchemaChangeKind>()
        var features = Set<String>()
        for seed in UInt64(0)..<300 {
            var rng = Xoshiro(seed: seed)
            let schema = SchemaGenerator.generate(using: &rng)
            for table in schema.tables {
                switch table.key {
                case .rowid: features.insert("rowid table")
                case .integerPrimaryKey: features.insert("INTEGER PRIMARY KEY")
                case .primaryKey(let columns): features.insert(columns.count > 1 ? "composite key" : "non-integer key")
                }
                if table.withoutRowid { features.insert("WITHOUT ROWID") }
                if table.strict { features.insert("STRICT") }
                if table.autoincrement { features.insert("AUTOINCREMENT") }
                for column in table.columns {
                    features.insert("type " + column.type.rawValue)
                    if column.notNull { features.insert("NOT NULL") }
                    if column.unique { features.insert("UNIQUE") }
                    if column.check != nil { features.insert("CHECK") }
                    if column.defaultValue != nil { features.insert("DEFAULT") }
                    if let collation = column.collation { features.insert("COLLATE " + collation.rawValue) }
                    if let generated = column.generated { features.insert(generated.stored ? "STORED" : "VIRTUAL") }
                    if column.json { features.insert("JSON") }
                    if let reference = column.references {
                        features.insert("FOREIGN KEY")
                        features.insert("ON DELETE " + reference.onDelete.rawValue)
                        features.insert("ON UPDATE " + reference.onUpdate.rawValue)
                    }
                }
                for index in table.indexes {
                    features.insert(index.terms.count > 1 ? "composite index" : "single index")
                    if index.unique { features.insert("unique index") }
                    if index.predicate != nil { features.insert("partial index") }
                    for case .expression(let expression) in index.terms {
                        features.insert(expression.render(schema).hasPrefix("json_extract") ? "json_extract index" : "expression index")
                    }
                }
            }
            if !schema.views.isEmpty { features.insert("view") }
            if !schema.triggers.isEmpty { features.insert("user trigger") }
            let swarm = Swarm.generate(using: &rng)
            let generator = WorkloadGenerator(schema: schema, swarm: swarm)
            for number in 0..<40 {
                switch generator.next(tx: Int64(number), using: &rng) {
                case .maintenance(let kind): maintenanceKinds.insert(kind)
                case .schemaChange(let kind): schemaChangeKinds.insert(kind)
                case .transaction(let plan):
                    transactionKinds.insert(plan.kind)
                    if plan.rollsBack { features.insert("ROLLBACK") } else if plan.kind != .autocommit { features.insert("COMMIT") }
                    for step in plan.steps {
                        switch step {
                        case .statement(let kind, let sql, _):
                            statementKinds.insert(kind)
                            if sql.utf8.count > 8000 {
                                features.insert("large row")
                                continue
                            }
                            for marker in ["ON CONFLICT DO NOTHING", "DO UPDATE SET", "RETURNING", "UPDATE OR IGNORE",
                                           "UPDATE OR REPLACE", "REPLACE INTO", "INSERT OR REPLACE", "X'", "9e999", "BETWEEN"]
                            where sql.contains(marker) { features.insert(marker) }
                        case .transfer: statementKinds.insert(.transfer)
                        case .savepoint: features.insert("SAVEPOINT")
                        case .rollbackTo: features.insert("ROLLBACK TO")
                        case .release: features.insert("RELEASE")
                        }
                    }
                }
            }
        }
        #expect(statementKinds == Set(StatementKind.allCases))
        #expect(transactionKinds == Set(TransactionKind.allCases))
        // Compaction is the monolith's on a schedule (--compact-every) and the compact driver's, never the swarm's.
        #expect(maintenanceKinds == Set(MaintenanceKind.allCases).subtracting([.compact]))
        #expect(schemaChangeKinds == Set(SchemaChangeKind.allCases))
        let expected: Set<String> = [
            "rowid table", "INTEGER PRIMARY KEY", "composite key", "non-integer key", "WITHOUT ROWID",
            "type INTEGER", "type REAL", "type TEXT", "type BLOB", "type NUMERIC", "type ",
            "NOT NULL", "UNIQUE", "CHECK", "DEFAULT", "composite index", "single index", "unique index", "partial index",
            "STRICT", "AUTOINCREMENT", "type ANY", "COLLATE NOCASE", "COLLATE RTRIM", "STORED", "VIRTUAL", "JSON",
            "FOREIGN KEY", "ON DELETE CASCADE", "ON DELETE SET NULL", "ON UPDATE CASCADE", "ON UPDATE SET NULL",
            "expression index", "json_extract index", "view", "user trigger",
            "ROLLBACK", "COMMIT", "SAVEPOINT", "ROLLBACK TO", "RELEASE",
            "ON CONFLICT DO NOTHING", "DO UPDATE SET", "RETURNING", "UPDATE OR IGNORE", "UPDATE OR REPLACE",
            "REPLACE INTO", "INSERT OR REPLACE", "X'", "9e999", "BETWEEN", "large row",
        ]
        #expect(expected.subtracting(features).isEmpty, "never generated: \(expected.subtracting(features).sorted())")
    }

    // Each run's swarm enables at least one write and one explicit transaction kind,
    // and different seeds enable different subsets.
    @Test func swarmsAlwaysWriteAndVary() {
        var subsets = Set<[StatementKind]>()
        for seed in UInt64(0)..<500 {
            var rng = Xoshiro(seed: seed)
            let swarm = Swarm.generate(using: &rng)
            #expect(StatementKind.allCases.contains { $0.isWrite && swarm.statements[$0]! > 0 })
            #expect(TransactionKind.allCases.contains { $0 != .autocommit && swarm.transactions[$0]! > 0 })
            subsets.insert(StatementKind.allCases.filter { swarm.statements[$0]! > 0 })
        }
        #expect(subsets.count > 20)
    }

    // The same seed draws the same schema, configuration, swarm and work; another seed does not.
    @Test func generationIsDeterministic() {
        func draw(_ seed: UInt64) -> (Schema, DatabaseConfig, Swarm, [WorkUnit]) {
            var rng = Xoshiro(seed: seed)
            let schema = SchemaGenerator.generate(using: &rng)
            let config = DatabaseConfig.generate(journalMode: nil, using: &rng)
            let swarm = Swarm.generate(using: &rng)
            let generator = WorkloadGenerator(schema: schema, swarm: swarm)
            return (schema, config, swarm, (0..<50).map { generator.next(tx: Int64($0), using: &rng) })
        }
        let a = draw(42), b = draw(42), c = draw(43)
        #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3)
        #expect(a.0 != c.0 || a.3 != c.3)
    }

    // A plan's `writes`, with what foreign-key actions and user triggers reach
    // from them (`Schema.affected`), names every table its statements change: a
    // connection installs ledger triggers for those tables only, so a table
    // missing there would change unrecorded. Each plan runs against a database
    // (foreign keys on, as every connection has them) and every table whose
    // contents moved must be named.
    @Test func planWritesNameEveryChangedTable() throws {
        for seed in UInt64(0)..<150 {
            var rng = Xoshiro(seed: seed)
            let schema = SchemaGenerator.generate(using: &rng)
            let generator = WorkloadGenerator(schema: schema, swarm: Swarm.generate(using: &rng))
            let db = try Connection(path: ":memory:")
            for sql in ["PRAGMA foreign_keys = ON", "PRAGMA recursive_triggers = ON"] + schema.createStatements
                + Bookkeeping.creationStatements + [Bookkeeping.openAccountsStatement(tx: 1)] {
                try db.execute(sql)
            }
            let tables = TrackedTable.tables(of: schema)
            func contents() throws -> [String: SQLValue] {
                var all: [String: SQLValue] = [:]
                for table in tables {
                    all[table.name] = try db.scalar(
                        "SELECT CAST(group_concat(i, '|') AS BLOB) FROM (SELECT \(table.imageExpression("t")) AS i FROM \"\(table.name)\" AS t ORDER BY 1)")
                }
                return all
            }
            for tx in Int64(1)...12 {
                guard case .transaction(let plan) = generator.next(tx: tx, using: &rng) else { continue }
                let before = try contents()
                for step in plan.steps {
                    switch step {
                    case .statement(_, let sql, _): _ = try? db.execute(sql)
                    case .transfer(let from, let to, let amount, let tag):
                        try db.execute("UPDATE stress_accounts SET balance = balance - \(amount), stress_tag = \(tag) WHERE id = \(from)")
                        try db.execute("UPDATE stress_accounts SET balance = balance + \(amount), stress_tag = \(tag) WHERE id = \(to)")
                    default: continue  // Savepoints only undo; run as autocommit statements here.
                    }
                }
                let after = try contents()
                let reached = schema.affected(by: plan.writes)
                for table in tables where before[table.name] != after[table.name] {
                    #expect(reached.contains(table.ledgerName), "seed \(seed) tx \(tx): \(table.name) changed, writes \(plan.writes)")
                }
            }
        }
    }

    // The writes a plan tags as rolled back (-tx) are exactly those SQLite undoes:
    // each plan's savepoint structure is run in SQLite with a marker row per
    // statement, and the markers that vanish must be the doomed ones.
    @Test func doomedTagsMatchWhatSQLiteUndoes() throws {
        let tx: Int64 = 987_654_321
        var plansWithDoomedWork = 0
        for seed in UInt64(0)..<400 {
            var rng = Xoshiro(seed: seed)
            let schema = SchemaGenerator.generate(tableCount: 2, using: &rng)
            var swarm = Swarm.generate(using: &rng)
            swarm.savepointPercent = 50
            swarm.transactions = [.deferred: 1]
            let plan = WorkloadGenerator(schema: schema, swarm: swarm).transaction(tx: tx, using: &rng)
            let slots = plan.steps.map { step -> WorkloadGenerator.Slot in
                switch step {
                case .statement(let kind, _, _): .statement(kind)
                case .transfer: .statement(.transfer)
                case .savepoint(let name): .savepoint(name)
                case .rollbackTo(let name): .rollbackTo(name)
                case .release(let name): .release(name)
                }
            }
            let doomed = WorkloadGenerator.doomedSlots(slots, rollsBack: plan.rollsBack)

            let db = try Connection(path: ":memory:")
            try db.execute("CREATE TABLE m(i); BEGIN")
            for (index, slot) in slots.enumerated() {
                switch slot {
                case .statement: try db.execute("INSERT INTO m VALUES (\(index))")
                case .savepoint(let name): try db.execute("SAVEPOINT \(name)")
                case .rollbackTo(let name): try db.execute("ROLLBACK TO \(name)")
                case .release(let name): try db.execute("RELEASE \(name)")
                }
            }
            try db.execute(plan.rollsBack ? "ROLLBACK" : "COMMIT")
            let survivors = Set(try db.query("SELECT i FROM m").map { row -> Int in
                if case .integer(let i) = row[0] { Int(i) } else { -1 } })
            let statements = Set(slots.indices.filter { if case .statement = slots[$0] { true } else { false } })
            #expect(doomed == statements.subtracting(survivors), "seed \(seed): \(slots)")
            if !doomed.isEmpty, !plan.rollsBack { plansWithDoomedWork += 1 }

            // And the SQL carries the tag that says so.
            for (index, step) in plan.steps.enumerated() {
                switch step {
                case .statement(let kind, let sql, _) where kind.isWrite && kind != .deleteByKey && kind != .deleteByRange:
                    // Deletes leave no row to carry a tag.
                    #expect(sql.contains("-\(tx)") == doomed.contains(index), "seed \(seed): \(sql.prefix(200))")
                case .transfer(_, _, _, let tag):
                    #expect(tag == (doomed.contains(index) ? -tx : tx))
                default: break
                }
            }
        }
        #expect(plansWithDoomedWork > 50)
    }

    // Savepoint steps are well nested: ROLLBACK TO and RELEASE only name open savepoints.
    @Test func savepointsAreWellNested() {
        for seed in UInt64(0)..<300 {
            var rng = Xoshiro(seed: seed)
            let schema = SchemaGenerator.generate(tableCount: 1, using: &rng)
            var swarm = Swarm.generate(using: &rng)
            swarm.savepointPercent = 60
            let generator = WorkloadGenerator(schema: schema, swarm: swarm)
            for _ in 0..<20 {
                let plan = generator.transaction(tx: 9, using: &rng)
                var open: [String] = []
                for step in plan.steps {
                    switch step {
                    case .savepoint(let name): open.append(name)
                    case .rollbackTo(let name):
                        #expect(open.contains(name))
                        open.removeSubrange((open.firstIndex(of: name)! + 1)...)
                    case .release(let name):
                        #expect(open.contains(name))
                        open.removeSubrange(open.firstIndex(of: name)!...)
                    case .statement, .transfer: break
                    }
                }
            }
        }
    }
}

@Suite struct RandomTests {
    // Seeds parse in decimal and hex and reject anything else.
    @Test func seedParsing() {
        #expect(Seed.parse("42") == 42)
        #expect(Seed.parse("0x2A") == 42)
        #expect(Seed.parse("0xffffffffffffffff") == .max)
        #expect(Seed.parse("18446744073709551615") == .max)
        for bad in ["", "-1", "0x", "0xZZ", "12abc", "18446744073709551616", "0x1ffffffffffffffff", "4 2", "٤٢"] {
            #expect(Seed.parse(bad) == nil, "accepted \(bad)")
        }
        #expect(Seed.format(42) == "0x000000000000002a")
        #expect(Seed.parse(Seed.format(0xDEAD_BEEF)) == 0xDEAD_BEEF)
    }

    // The stream is fixed by the seed (a known first value guards against accidental changes).
    @Test func streamIsStable() {
        var a = Xoshiro(seed: 1), b = Xoshiro(seed: 1), c = Xoshiro(seed: 2)
        let first = a.next()
        #expect(first == b.next())
        #expect(first != c.next())
        var d = Xoshiro(seed: 0)
        #expect(d.next() == 0x99EC_5F36_CB75_F2B4)
    }

    // below(n) stays in range and reaches every value.
    @Test func boundedChoicesCoverTheRange() {
        var rng = Xoshiro(seed: 7)
        var seen = Set<Int>()
        for _ in 0..<1000 {
            let value = rng.below(7)
            #expect((0..<7).contains(value))
            seen.insert(value)
        }
        #expect(seen.count == 7)
        #expect(deriveSeed(1, "thread", 0) != deriveSeed(1, "thread", 1))
        #expect(deriveSeed(1, "thread", 0) == deriveSeed(1, "thread", 0))
    }
}
