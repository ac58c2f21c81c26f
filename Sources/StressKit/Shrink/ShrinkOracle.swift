import StressSQLite

/// The oracle of a shrunk script: the properties without the ledger.
///
/// A script `shrink` writes holds no sqlite-stress bookkeeping it does not
/// need, so it cannot ask the ledger or the acknowledgement log. It asks the
/// database itself instead. At the end of a script every connection is out of
/// a transaction, so what the live connection reads is exactly what was
/// committed; a crash must leave exactly that behind. The crashed files are
/// attached to the live connection as `crashed`, and each property becomes a
/// comparison of the two:
///
/// | property | holds when |
/// |---|---|
/// | `integrity` | `PRAGMA integrity_check` of the crashed copy (without a crash: of the live database) returns `ok` |
/// | `durability` | every committed row (its rowid, if any, and every column) is in the crashed copy |
/// | `rollback` | the crashed copy holds no row that was not committed |
/// | `model` | both: the crashed copy holds exactly the committed rows |
/// | `conservation` | the accounts' total is the committed total |
/// | `schema` | the crashed copy's `sqlite_schema` is the committed one |
///
/// The same queries run in-process while reducing and, rendered, at the end
/// of the script the `sqlite3` shell runs, so both see the same verdict.
/// `query-consistency` has no such form: it is not shrunk.
public struct ShrinkVerdict: Sendable, Equatable {
    /// What `PRAGMA integrity_check` said, when it did not say `ok` (false
    /// "NULL value" claims of SQLite 3.40.0–3.41.0 discounted, as the oracle does).
    public var integrityProblems: [String] = []
    /// Why the database to judge could not be read at all (a corruption error), if it could not.
    public var unreadable: String?
    /// Committed rows missing (or changed) after the crash, rows there that were never committed.
    public var lost = 0
    public var extra = 0
    public var committedRows = 0
    /// Objects of `sqlite_schema` (type, name, table, SQL) in one copy and not the other.
    public var schemaDifferences = 0
    /// The accounts' committed total and the total after the crash, when the accounts table exists.
    public var balances: Balances?

    public struct Balances: Sendable, Equatable {
        public var committed: Int64
        public var after: Int64
    }

    /// Whether the verdict shows `property` violated. Content properties need a readable copy.
    public func violates(_ property: Property) -> Bool {
        switch property {
        case .integrity: return unreadable != nil || !integrityProblems.isEmpty
        case .durability: return unreadable == nil && lost > 0
        case .rollback: return unreadable == nil && extra > 0
        case .model: return unreadable == nil && (lost > 0 || extra > 0)
        case .conservation: return unreadable == nil && balances.map { $0.committed != $0.after } == true
        case .schema: return unreadable == nil && schemaDifferences > 0
        case .queryConsistency: return false
        }
    }

    /// What SQLite promises instead: the same committed rows, nothing wrong.
    public var promised: ShrinkVerdict {
        var promised = ShrinkVerdict(committedRows: committedRows)
        promised.balances = balances.map { Balances(committed: $0.committed, after: $0.committed) }
        return promised
    }

    /// The line the script's final query prints for `property` (`crash`: whether a crash came first).
    public func sentence(_ property: Property, crash: CrashKind) -> String {
        let violated = violates(property)
        let name = property.rawValue + (violated ? ": VIOLATED — " : ": held — ")
        switch property {
        case .integrity:
            if let unreadable { return name + "the database cannot be read: " + unreadable }
            return name + (violated ? integrityProblems.joined(separator: "; ") : ShrinkOracle.integrityHeld(crash))
        case .durability:
            return name + (violated
                ? "\(lost) of the \(committedRows) committed rows are missing or changed after the crash"
                : "all \(committedRows) committed rows survived the crash")
        case .rollback:
            return name + (violated
                ? "\(extra) rows that were never committed are in the database after the crash"
                : "no row that was not committed is in the database after the crash")
        case .model:
            return name + (violated
                ? "after the crash \(lost) committed rows are missing or changed and \(extra) rows were never committed"
                : "the database after the crash holds exactly the \(committedRows) committed rows")
        case .conservation:
            let (committed, after) = (balances?.committed ?? 0, balances?.after ?? 0)
            return name + (violated
                ? "the accounts total \(after) after the crash, \(committed) committed"
                : "the accounts total \(committed), as committed")
        case .schema:
            return name + (violated
                ? "\(schemaDifferences) schema objects differ after the crash from the committed schema"
                : "the schema after the crash is the committed one")
        case .queryConsistency:
            return name + "not judged by a shrunk script"
        }
    }
}

/// The queries behind `ShrinkVerdict`, run in-process and rendered into scripts.
enum ShrinkOracle {
    /// The schema name the crashed copy is attached under.
    static let crashedSchema = "crashed"

    /// The properties a script can show (every one but `query-consistency`).
    static let supported: [Property] = [.integrity, .durability, .rollback, .model, .conservation, .schema]

    static func integrityHeld(_ crash: CrashKind) -> String {
        crash == .none ? "PRAGMA integrity_check returns ok" : "PRAGMA integrity_check returns ok after the crash"
    }

    /// A table of the live database: its name, and whether it has a rowid.
    struct Table: Hashable {
        var name: String
        var hasRowid: Bool
    }

    /// The tables of `schema` the comparison covers (not SQLite's own).
    static func tables(_ connection: Connection, schema: String = "main") throws(SQLiteError) -> [Table] {
        try connection.query(
            "SELECT name, wr FROM pragma_table_list WHERE schema = ? AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            [.text(schema)]
        ).compactMap { row in
            guard case .text(let name) = row[0] else { return nil }
            return Table(name: name, hasRowid: row[1] != .integer(1))
        }
    }

    /// Rows of `from.table` that are not in `in.table` (rowid included where there is one).
    static func missingQuery(_ table: Table, from: String, in other: String) -> String {
        let columns = table.hasRowid ? "rowid, *" : "*"
        let name = quoteIdentifier(table.name)
        return "SELECT count(*) FROM (SELECT \(columns) FROM \(from).\(name) EXCEPT SELECT \(columns) FROM \(other).\(name))"
    }

    /// `PRAGMA <schema>.integrity_check` as a query (a `WHERE schema = …` on the
    /// table-valued pragma returns no row at all in SQLite 3.40).
    static func integrityQuery(schema: String) -> String {
        "SELECT integrity_check FROM \(schema).pragma_integrity_check"
    }

    /// 1 when a "NULL value in T.C" claim about `schema` is false: T is WITHOUT ROWID
    /// and a scan of it finds no NULL in C (see `IntegrityCheck`).
    static func falseNullClaimQuery(schema: String, table: String, column: String) -> String {
        "SELECT coalesce((SELECT wr FROM pragma_table_list WHERE schema = \(SQLValue.text(schema).sqlLiteral) "
            + "AND name = \(SQLValue.text(table).sqlLiteral)), 0) = 1 "
            + "AND NOT EXISTS (SELECT 1 FROM \(schema).\(quoteIdentifier(table)) NOT INDEXED "
            + "WHERE typeof(\(quoteIdentifier(column))) = 'null')"
    }

    /// Objects of `from`'s `sqlite_schema` that `other`'s lacks.
    static func schemaMissingQuery(from: String, in other: String) -> String {
        "SELECT count(*) FROM (SELECT type, name, tbl_name, sql FROM \(from).sqlite_schema "
            + "EXCEPT SELECT type, name, tbl_name, sql FROM \(other).sqlite_schema)"
    }

    static func balanceQuery(schema: String) -> String {
        "SELECT sum(balance) FROM \(schema).\(Bookkeeping.accounts)"
    }

    // MARK: - Judging in-process

    /// Judges the database that `connection` reads as `main`: after a crash
    /// (`.kill`), the crashed copy at `crashedPath` attached as `crashed` against
    /// it; without one (`.none`), the database itself. Nil when the crashed copy
    /// cannot be attached for a reason other than damage (no verdict).
    static func judge(_ connection: Connection, crash: CrashKind, crashedPath: String) -> ShrinkVerdict? {
        var verdict = ShrinkVerdict()
        // Damage is a verdict; any other error (a query the schema no longer
        // fits, a lock) is none: never a violation without evidence.
        do throws(SQLiteError) {
            if crash == .kill {
                try connection.execute("ATTACH \(SQLValue.text(crashedPath).sqlLiteral) AS \(crashedSchema)")
            }
            let judged = crash == .none ? "main" : crashedSchema
            let problems = try connection.query(integrityQuery(schema: judged)).compactMap { row -> String? in
                if case .text(let text) = row[0] { return text }
                return nil
            }
            if problems != ["ok"] {
                for problem in problems where try !isFalseNullClaim(problem, connection, schema: judged) {
                    verdict.integrityProblems.append(problem)
                }
            }
            guard crash == .kill else { return verdict }
            verdict.schemaDifferences = try integer(connection, schemaMissingQuery(from: "main", in: crashedSchema))
                + integer(connection, schemaMissingQuery(from: crashedSchema, in: "main"))
            let live = try tables(connection)
            let crashed = Set(try tables(connection, schema: crashedSchema).map(\.name))
            for table in live {
                let rows = try integer(connection, "SELECT count(*) FROM main.\(quoteIdentifier(table.name))")
                verdict.committedRows += rows
                guard crashed.contains(table.name) else {
                    verdict.lost += rows  // The whole table is gone.
                    continue
                }
                verdict.lost += try integer(connection, missingQuery(table, from: "main", in: crashedSchema))
                verdict.extra += try integer(connection, missingQuery(table, from: crashedSchema, in: "main"))
            }
        } catch where error.isCorruption {
            verdict.unreadable = error.message
            return verdict
        } catch {
            return nil
        }
        // The accounts' totals, where both copies have the accounts as sqlite-stress makes them.
        do throws(SQLiteError) {
            verdict.balances = ShrinkVerdict.Balances(
                committed: Int64(try integer(connection, balanceQuery(schema: "main"))),
                after: Int64(try integer(connection, balanceQuery(schema: crashedSchema))))
        } catch where error.isCorruption {
            verdict.unreadable = error.message
        } catch {
            verdict.balances = nil  // No accounts table, or not one with balances: nothing to conserve.
        }
        return verdict
    }

    private static func integer(_ connection: Connection, _ sql: String) throws(SQLiteError) -> Int {
        if case .integer(let value)? = try connection.scalar(sql) { return Int(value) }
        return 0
    }

    private static func isFalseNullClaim(_ problem: String, _ connection: Connection, schema: String) throws(SQLiteError) -> Bool {
        guard IntegrityCheck.libraryHasFalseNullReport, let claim = IntegrityCheck.nullClaim(in: problem) else { return false }
        return try connection.scalar(falseNullClaimQuery(schema: schema, table: claim.table, column: claim.column)) == .integer(1)
    }

    // MARK: - Rendering

    /// The statements that end a script: attach the crashed copy (after a crash),
    /// and one query that prints the verdict line for `property`, as `sentence` words it.
    static func renderedCheck(_ property: Property, crash: CrashKind, tables: [Table], crashedFile: String) -> [String] {
        let judged = crash == .none ? "main" : crashedSchema
        var statements = crash == .none ? [] : ["ATTACH \(SQLValue.text(crashedFile).sqlLiteral) AS \(crashedSchema)"]
        func sum(_ parts: [String]) -> String { parts.isEmpty ? "0" : parts.map { "(\($0))" }.joined(separator: " + ") }
        let lost = sum(tables.map { missingQuery($0, from: "main", in: crashedSchema) })
        let extra = sum(tables.map { missingQuery($0, from: crashedSchema, in: "main") })
        let total = sum(tables.map { "SELECT count(*) FROM main.\(quoteIdentifier($0.name))" })
        let name = property.rawValue
        switch property {
        case .integrity:
            let problems = "(SELECT group_concat(integrity_check, '; ') FROM \(judged).pragma_integrity_check)"
            statements.append(
                "SELECT CASE WHEN \(problems) = 'ok' THEN '\(name): held — \(integrityHeld(crash))' "
                    + "ELSE '\(name): VIOLATED — ' || \(problems) END")
        case .durability:
            statements.append(
                "SELECT CASE WHEN lost = 0 THEN '\(name): held — all ' || total || ' committed rows survived the crash' "
                    + "ELSE '\(name): VIOLATED — ' || lost || ' of the ' || total || ' committed rows are missing or changed after the crash' END "
                    + "FROM (SELECT \(lost) AS lost, \(total) AS total)")
        case .rollback:
            statements.append(
                "SELECT CASE WHEN extra = 0 THEN '\(name): held — no row that was not committed is in the database after the crash' "
                    + "ELSE '\(name): VIOLATED — ' || extra || ' rows that were never committed are in the database after the crash' END "
                    + "FROM (SELECT \(extra) AS extra)")
        case .model:
            statements.append(
                "SELECT CASE WHEN lost = 0 AND extra = 0 THEN '\(name): held — the database after the crash holds exactly the ' || total || ' committed rows' "
                    + "ELSE '\(name): VIOLATED — after the crash ' || lost || ' committed rows are missing or changed and ' || extra || ' rows were never committed' END "
                    + "FROM (SELECT \(lost) AS lost, \(extra) AS extra, \(total) AS total)")
        case .conservation:
            statements.append(
                "SELECT CASE WHEN committed = after THEN '\(name): held — the accounts total ' || committed || ', as committed' "
                    + "ELSE '\(name): VIOLATED — the accounts total ' || after || ' after the crash, ' || committed || ' committed' END "
                    + "FROM (SELECT (\(balanceQuery(schema: "main"))) AS committed, (\(balanceQuery(schema: crashedSchema))) AS after)")
        case .schema:
            let differences = "(\(schemaMissingQuery(from: "main", in: crashedSchema))) + (\(schemaMissingQuery(from: crashedSchema, in: "main")))"
            statements.append(
                "SELECT CASE WHEN differences = 0 THEN '\(name): held — the schema after the crash is the committed one' "
                    + "ELSE '\(name): VIOLATED — ' || differences || ' schema objects differ after the crash from the committed schema' END "
                    + "FROM (SELECT \(differences) AS differences)")
        case .queryConsistency:
            break
        }
        return statements
    }
}
