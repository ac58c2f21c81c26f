#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite

/// The oracle's bookkeeping inside the database under test.
///
/// ## Why triggers record the ledger
///
/// Every row-level effect (table, key, full row image or deletion) is written
/// to `stress_ledger` by TEMP triggers that each connection installs on every
/// tracked table a transaction can change (the tables its statements name, and
/// those their foreign-key actions and the user's triggers reach), guarded by the
/// schema cookie the connection read (`TrackedTable.triggerStatements`).
/// Triggers run inside the very statement that changes the row,
/// so the ledger commits or vanishes with the data in every case the workload
/// produces: autocommit statements (which commit before a caller could add
/// anything), failed statements (their effects are undone with them),
/// savepoint rollbacks and whole rollbacks. With `recursive_triggers` on, the
/// DELETE triggers also fire for rows that OR REPLACE removes, and UPSERT's DO
/// UPDATE fires the UPDATE triggers, and a foreign-key action or a user's
/// trigger fires the triggers of the table it writes, so effects are exact for
/// every statement the generator emits, WITHOUT ROWID tables included. The preupdate hook
/// could see the same changes, but nothing can write to the database from
/// inside it, which leaves autocommit statements unrecorded; and plain SQL
/// triggers are replayed by the `sqlite3` shell exactly, so a replayed SQL log
/// rebuilds the ledger too.
///
/// The current transaction id is kept in a one-row TEMP table
/// (`temp.stress_ctx`) that the worker sets before a transaction's first write; the
/// triggers copy it into each ledger row. Beside it the table holds the schema
/// cookie the worker read its schema under, which the triggers' guard compares
/// with the cookie of the statement's own snapshot. The id names its writer too
/// (`TransactionID`), so an entry carries nothing more about who wrote it.
/// SQLite's single-writer lock makes `seq` order the commit order.
public enum Bookkeeping {
    public static let ledger = "stress_ledger"
    public static let meta = "stress_meta"
    public static let accounts = "stress_accounts"
    /// The column every tracked table carries: the id of the transaction that last
    /// wrote the row, negated when that write was planned to be rolled back.
    public static let tagColumn = "stress_tag"
    /// The tables every database sqlite-stress made has, of `meta`, `ledger`
    /// and `accounts`, that `connection`'s main database lacks, in that order.
    static func missingTables(in connection: Connection) throws(SQLiteError) -> [String] {
        let tables = [meta, ledger, accounts]
        var found: Set<String> = []
        for row in try connection.query(
            "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name IN (?, ?, ?)", tables.map { .text($0) }) {
            if case .text(let name) = row[0] { found.insert(name) }
        }
        return tables.filter { !found.contains($0) }
    }

    /// The `tbl` value of a commit record (one per explicit transaction).
    public static let commitMarker = ""
    /// The `tbl` value of a schema change's record: `key` is the change's number
    /// (the schema's `version` once it committed), `image` its statements.
    public static let schemaMarker = "#schema"
    /// The start of the `tbl` value of a lost row's trace, followed by the
    /// table's ledger name: an INSERT made a row whose key's latest entry is
    /// an image, so the row that entry says is there was not (SQLite lost it,
    /// or something deleted it behind the tool's back), and the insert would
    /// otherwise supersede the only trace of it (`TrackedTable.triggerStatements`).
    /// `key` is the row's key, `image` the lost row's image, `tx` the inserter's.
    public static let lostMarker = "#lost:"

    /// Whether the ledger column `column` holds a lost row's trace, as an SQL
    /// expression: a range of `tbl`, which the ledger's index on it reads alone.
    /// (`;` is the character after `:`.)
    static func isLostTrace(_ column: String) -> String {
        "(\(column) >= '\(lostMarker)' AND \(column) < '#lost;')"
    }

    /// The version of this bookkeeping, in `stress_meta` as `format`: what a
    /// ledger image looks like. A database of another format is refused
    /// (`CheckCommand.openInitialised`): judged by this release's images, every
    /// row of an older image would be reported as changed. Format 2 writes a
    /// blob as its length and its own bytes (`TrackedTable.imageExpression`);
    /// format 1 wrote it in hex, as `quote()` does. Format 3 adds the folded
    /// acknowledgements (`Compaction`, `stress_folded` and `acks_folded_through`),
    /// without which a check would judge a compacted ledger by the whole log.
    /// Format 4 adds lost rows' traces (`lostMarker`): a release before it
    /// would neither report them nor keep them through its compaction.
    public static let format: Int64 = 4

    /// Accounts created for `transfer`, and each one's opening balance.
    public static let accountCount = 16
    public static let openingBalance: Int64 = 1_000

    /// Tables and rows created once, with the schema.
    public static var creationStatements: [String] {
        [
            "CREATE TABLE \(meta) (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
            "CREATE TABLE \(ledger) (seq INTEGER PRIMARY KEY, tx INTEGER NOT NULL, tbl TEXT NOT NULL, key, image TEXT)",
            // The latest effect on a key is one seek: the check stays linear in rows.
            "CREATE INDEX \(ledger)_key ON \(ledger) (tbl, key, seq)",
            "CREATE TABLE \(accounts) (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, \(tagColumn) INTEGER)",
            "INSERT INTO \(meta) (key, value) VALUES ('format', \(format)), ('total_balance', \(Int64(accountCount) * openingBalance))",
        ] + Compaction.creationStatements
    }

    /// Records the run's seed (`antithesis` when Antithesis made every choice),
    /// schema and configuration in `stress_meta`, so every later command reads them
    /// back from the database itself.
    static func recordStatement(randomness: Randomness, schema: Schema, config: DatabaseConfig) -> String {
        let values: [(String, String)] = [
            ("seed", randomness.seed.map(Seed.format) ?? randomness.kind), ("journal_mode", config.journalMode.rawValue),
            ("synchronous", config.synchronous.lowercased()), ("schema", SchemaJSON.text(of: schema)),
            ("config", encodeJSON(config, pretty: false)),
            // The printf the row images' reals are written with (`CheckCommand.openInitialised`).
            ("sqlite_version", SQLiteChoice.library.version),
        ]
        return "INSERT INTO \(meta) (key, value) VALUES "
            + values.map { "(\(SQLValue.text($0.0).sqlLiteral), \(SQLValue.text($0.1).sqlLiteral))" }.joined(separator: ", ")
    }

    /// The schema as the committed schema changes left it, with the schema
    /// cookie it was read under (`schemaQuery`: one statement, one snapshot), and
    /// the configuration the database was created with. Throws `SQLiteError`
    /// when the database cannot be read, and `ToolError` when `stress_meta` lacks
    /// them or holds something that does not decode.
    public static func recorded(in connection: Connection) throws -> (schema: Schema, cookie: Int64, config: DatabaseConfig) {
        let read = try connection.prepare(schemaQuery)
        guard try read.step(), read.columnType(1) == .text, let json = read.text(1) else {
            throw ToolError("\(meta) has no schema.")
        }
        let schema = try decoding("schema", json, SchemaJSON.schema)
        return (schema, read.int64(0), try decoded("config", SchemaJSON.config, in: connection))
    }

    /// The schema alone (see `recorded(in:)`).
    public static func recordedSchema(in connection: Connection) throws -> Schema {
        try decoded("schema", SchemaJSON.schema, in: connection)
    }

    /// The JSON under `key`, read by `SchemaJSON` (the same as `JSONDecoder`, at a fraction of a driver's start-up).
    private static func decoded<Value>(
        _ key: String, _ decode: (String) throws(SchemaJSON.Error) -> Value, in connection: Connection
    ) throws -> Value {
        guard case .text(let text)? = try connection.scalar("SELECT value FROM \(meta) WHERE key = ?", [.text(key)]) else {
            throw ToolError("\(meta) has no \(key).")
        }
        return try decoding(key, text, decode)
    }

    private static func decoding<Value>(_ key: String, _ text: String, _ decode: (String) throws(SchemaJSON.Error) -> Value) throws(ToolError) -> Value {
        do {
            return try decode(text)
        } catch {
            throw ToolError("\(meta) holds an unreadable \(key): \(error).")
        }
    }

    /// Statements that open the accounts, as transaction `tx` (after the triggers exist,
    /// so the opening balances are in the ledger like any other write).
    public static func openAccountsStatement(tx: Int64) -> String {
        "INSERT INTO \(accounts) (id, balance, \(tagColumn)) VALUES "
            + (1...accountCount).map { "(\($0), \(openingBalance), \(tx))" }.joined(separator: ", ")
    }

    /// Statements every connection runs before writing: recursive triggers (so
    /// OR REPLACE's deletions fire the DELETE triggers), foreign keys, and the
    /// context table. The ledger's triggers follow, table by table
    /// (`TrackedTable.triggerStatements`), before the first transaction that
    /// writes each: an invocation pays for the tables it writes. Idempotent, so
    /// a replay through one shell connection accepts them again after a logged reconnect.
    public static let contextStatements = [
        "PRAGMA recursive_triggers = ON",
        "PRAGMA foreign_keys = ON",
        "CREATE TEMP TABLE IF NOT EXISTS stress_ctx (id INTEGER PRIMARY KEY CHECK (id = 1), tx INTEGER NOT NULL, cookie INTEGER)",
        // No cookie yet: the triggers' guard lets no write through before the first context statement.
        "INSERT OR REPLACE INTO temp.stress_ctx (id, tx, cookie) VALUES (1, 0, NULL)",
    ]

    /// Reads the schema a worker generates statements for and the schema cookie
    /// at the same moment (one statement, one snapshot): its context statements
    /// (`contextStatement`) name that cookie, and the ledger triggers refuse to
    /// run under any other (`TrackedTable.triggerStatements`).
    static let schemaQuery =
        "SELECT (SELECT schema_version FROM pragma_schema_version), value FROM \(meta) WHERE key = 'schema'"

    /// Reads the schema cookie alone: inside a schema change, of the schema
    /// that change made.
    static let cookieQuery = "PRAGMA schema_version"

    /// The message of the ledger triggers' guard: a statement that met it ran
    /// against a schema that changed after its connection built its triggers.
    static let schemaChangedMessage = "sqlite-stress: schema changed"

    /// The latest ledger entry of every key of the table with ledger name
    /// `table`, in key order, from the ledger index: `tbl, key, image, tx, seq`.
    static func latestEntriesQuery(_ table: String) -> String {
        "SELECT tbl, key, image, tx, max(seq) AS seq FROM main.\(ledger) WHERE tbl = \(SQLValue.text(table).sqlLiteral) GROUP BY key"
    }

    /// A schema change's records, in its own transaction: the new schema in
    /// `stress_meta` (`json`, its text: `SchemaJSON.text(of: change.schema)`),
    /// and the change in the ledger, numbered, in commit order.
    static func schemaChangeStatements(_ change: SchemaChange, json: String, tx: Int64) -> [String] {
        [
            "UPDATE \(meta) SET value = \(SQLValue.text(json).sqlLiteral) WHERE key = 'schema'",
            "INSERT INTO \(ledger) (tx, tbl, key, image) VALUES (\(tx), "
                + "\(SQLValue.text(schemaMarker).sqlLiteral), \(change.schema.version), "
                + "\(SQLValue.text(change.statements.joined(separator: "; ")).sqlLiteral))",
        ]
    }

    /// Sets the transaction id the triggers stamp on ledger rows: `tx`, or `-tx`
    /// around statements the plan will undo, so a leaked entry of undone work
    /// (a deletion leaves no tagged row) is still recognisable; and `cookie`,
    /// the schema cookie of the schema the statements that follow were drawn
    /// for, the only one under which the triggers let a write through.
    public static func contextStatement(tx: Int64, cookie: Int64) -> String {
        contextPrefix + String(tx) + ", cookie = " + String(cookie)
    }

    /// The transaction id and schema cookie a context statement names; nil for any other statement.
    static func context(of sql: String) -> (tx: Int64, cookie: Int64)? {
        guard sql.hasPrefix(contextPrefix) else { return nil }
        let parts = sql.dropFirst(contextPrefix.count).split(separator: ", cookie = ", omittingEmptySubsequences: false)
        guard parts.count == 2, let tx = Int64(parts[0]), let cookie = Int64(parts[1]) else { return nil }
        return (tx, cookie)
    }

    private static let contextPrefix = "UPDATE temp.stress_ctx SET tx = "

    /// Whether `sql` is one of the bookkeeping's statements that change only the
    /// connection's TEMP schema: the context table's creation and update
    /// (`contextStatements`, `contextStatement`), a ledger trigger's creation
    /// (`TrackedTable.triggerStatements`) or removal (`dropTriggerStatements`).
    static func isConnectionStatement(_ sql: String) -> Bool {
        sql.hasPrefix(contextPrefix) || sql.hasPrefix(TrackedTable.createTriggerPrefix)
            || sql.hasPrefix(TrackedTable.dropTriggerPrefix) || contextTableStatements.contains(where: sql.hasPrefix)
    }

    /// The context table's creation and first row (`contextStatements` but its
    /// PRAGMAs), matched as prefixes: hashing every statement whole would cost more.
    static let contextTableStatements = contextStatements.filter { !$0.hasPrefix("PRAGMA") }

    /// The commit record an explicit transaction writes just before COMMIT, so a
    /// committed transaction is in the ledger even when none of its statements changed a row.
    public static func commitRecordStatement(tx: Int64) -> String {
        commitRecordPrefix + "\(tx), '', NULL, NULL)"
    }

    private static let commitRecordPrefix = "INSERT INTO \(ledger) (tx, tbl, key, image) VALUES ("
    /// The commit record of logs written while ledger entries still named their
    /// writer in a column of their own (`who`), which `replay` still reads.
    private static let namedCommitRecordPrefix = "INSERT INTO \(ledger) (tx, who, tbl, key, image) VALUES ("
    private static let commitRecordPrefixes = [commitRecordPrefix, namedCommitRecordPrefix]

    /// The transaction id of a commit record statement (`commitRecordStatement`), or nil for any other SQL.
    public static func commitRecordTransaction(_ sql: String) -> Int64? {
        guard let prefix = commitRecordPrefixes.first(where: sql.hasPrefix) else { return nil }
        return Int64(sql.dropFirst(prefix.count).prefix { $0 != "," })
    }
}

/// Transaction ids, `base << 32 | n`: in the monolith the base is `thread + 1`
/// (shown `t<thread>x<n>`); a driver process reserves a base of its own in the
/// acknowledgement log, 257 or more (`AckLog.reserveWriter`, shown `d<base>x<n>`),
/// so ids from many processes never collide, however often a driver is rerun.
public enum TransactionID {
    public static func make(thread: Int, number: Int) -> Int64 {
        Int64(thread + 1) << 32 | Int64(number)
    }

    public static func make(base: Int64, number: Int) -> Int64 {
        base << 32 | Int64(number)
    }

    /// The log's label of the writer that sets a new database up (`stress`, `schema`).
    public static let setupLabel = "setup"

    /// The range of driver bases: above the monolith's threads, and small enough that every id stays positive.
    public static let firstDriverBase: Int64 = 257
    public static let lastDriverBase = Int64(Int32.max)

    /// The id that a log line's writer and transaction labels name (`t0 x5`,
    /// `d77 x2`; the setup's writes are transaction 1), or nil for other writers.
    public static func parse(writer: String, transaction: String) -> Int64? {
        if writer == setupLabel { return 1 }
        guard transaction.hasPrefix("x"), let number = Int(transaction.dropFirst()), number >= 0,
              let kind = writer.first, let base = Int64(writer.dropFirst()), base >= 0 else { return nil }
        switch kind {
        case "t" where base < 256: return make(base: base + 1, number: number)
        case "d" where base >= firstDriverBase: return make(base: base, number: number)
        default: return nil
        }
    }

    /// Whether `writer` is a thread of `stress` (`t0` … `t255`), which ends
    /// together with its process.
    static func isThread(_ writer: String) -> Bool {
        guard writer.first == "t", let number = Int(writer.dropFirst()) else { return false }
        return (0..<256).contains(number) && writer == "t\(number)"
    }

    /// The base of a driver's transaction ids (`make(base:number:)`) that its
    /// writer label (`d300`) names; nil for any other writer (a thread of
    /// `stress`, the set-up): only a driver is a process of its own.
    static func driverBase(_ writer: String) -> Int64? {
        guard writer.first == "d", let base = Int64(writer.dropFirst()), (firstDriverBase...lastDriverBase).contains(base) else { return nil }
        return base
    }

    public static func describe(_ id: Int64) -> String {
        let magnitude = id.magnitude
        let base = Int(magnitude >> 32)
        let number = magnitude & 0xFFFF_FFFF
        let prefix = id < 0 ? "-" : ""
        if (1...256).contains(base) { return "\(prefix)t\(base - 1)x\(number)" }
        if base > 256 { return "\(prefix)d\(base)x\(number)" }
        return String(id)
    }
}

/// A table the oracle tracks, as the recorded schema describes it.
public struct TrackedTable: Sendable, Hashable {
    /// The ledger's name for the table: its identity (`Table.id`), which renames keep.
    public var ledgerName: String
    public var name: String
    /// Every column, in the table's order (the tag included).
    public var columns: [String]
    /// Primary-key columns in key order (WITHOUT ROWID tables).
    public var keyColumns: [String]
    public var withoutRowid: Bool

    public init(ledgerName: String, name: String, columns: [String], keyColumns: [String], withoutRowid: Bool) {
        self.ledgerName = ledgerName
        self.name = name
        self.columns = columns
        self.keyColumns = keyColumns
        self.withoutRowid = withoutRowid
    }

    public init(_ table: Table) {
        self.init(
            ledgerName: table.id, name: table.name, columns: table.columns.map(\.name), keyColumns: table.keyColumns.map(\.name),
            withoutRowid: table.withoutRowid)
    }

    /// The accounts `transfer` moves money between (see `Bookkeeping.accounts`).
    public static let accounts = TrackedTable(
        ledgerName: Bookkeeping.accounts, name: Bookkeeping.accounts, columns: ["id", "balance", Bookkeeping.tagColumn],
        keyColumns: ["id"], withoutRowid: false)

    /// The SQL expression naming a row's identity: its rowid, or its primary key rendered as text.
    public func keyExpression(_ row: String) -> String {
        if !withoutRowid { return "\(row).rowid" }
        return keyColumns.map { "quote(\(row).\(quoteIdentifier($0)))" }.joined(separator: " || ',' || ")
    }

    /// The SQL expression giving the `seq` of the ledger's latest entry for the
    /// key of `row` (NULL when there is none): one seek of the ledger's
    /// `(tbl, key, seq)` index. `+(…)` strips the key's affinity: a rowid's
    /// INTEGER affinity would give the comparison numeric affinity, which the
    /// index on the untyped `key` cannot serve, and SQLite would read every
    /// entry of the table instead.
    public func latestSeqExpression(_ row: String) -> String {
        "(SELECT max(seq) FROM main.\(Bookkeeping.ledger) WHERE tbl = \(SQLValue.text(ledgerName).sqlLiteral) "
            + "AND key = +(\(keyExpression(row))))"
    }

    /// The SQL expression rendering a row's full image: every column `quote()`d,
    /// except reals and blobs. `quote()` rounds a real to 15 significant digits
    /// (so two neighbouring doubles would look alike); `%!.17g` tells every pair
    /// apart. `quote()` writes a blob in hex, twice its size, and blobs are most
    /// of a run's bytes (up to 40 KB each); an image holds a blob's own bytes
    /// instead, after its length: `B<length>:<bytes>`. `||` copies a blob's bytes
    /// into the text as they are, so the image is exact, and the length tells
    /// where they end, whatever bytes they are (`RowImage.fields`).
    public func imageExpression(_ row: String) -> String {
        columns.map { Self.fieldExpression("\(row).\(quoteIdentifier($0))") }.joined(separator: " || ',' || ")
    }

    /// One column's part of `imageExpression`, for the column's `value`. With
    /// `exactReals` false, a real is `quote()`d like the rest (its last digits
    /// rounded), as a shrunk script may write it to be read more easily.
    static func fieldExpression(_ value: String, exactReals: Bool = true) -> String {
        "CASE typeof(\(value)) " + (exactReals ? "WHEN 'real' THEN printf('%!.17g', \(value)) " : "")
            + "WHEN 'blob' THEN 'B' || length(\(value)) || ':' || \(value) ELSE quote(\(value)) END"
    }

    /// The first statement of every ledger trigger: it aborts the write
    /// (`schemaChangedMessage`) unless the snapshot's schema cookie is the one
    /// the context table names (`triggerStatements`).
    static let schemaGuard = "SELECT RAISE(ABORT, \(SQLValue.text(Bookkeeping.schemaChangedMessage).sqlLiteral)) "
        + "WHERE (SELECT schema_version FROM pragma_schema_version) IS NOT (SELECT cookie FROM stress_ctx); "

    /// The ledger's TEMP triggers on this table, for a connection whose
    /// schema has this table as it is now. Each first checks that the cookie
    /// of the statement's own snapshot is the one the context table holds
    /// (`Bookkeeping.contextStatement`: the cookie the worker read its schema
    /// under), and aborts the statement otherwise (SQLITE_CONSTRAINT_TRIGGER,
    /// `schemaChangedMessage`): a trigger built before another connection
    /// added a column would record a stale image, and one built before a
    /// rename would not fire at all for the new name, so the only writes that
    /// succeed are those whose triggers match the schema. The cookie is not
    /// built into the triggers, so they outlive a cookie move that leaves their
    /// table as it was (VACUUM, ANALYZE, a change to another table): the worker
    /// reads the schema again and names the new cookie in its next context
    /// statement. (A trigger in the main schema could not read `temp.stress_ctx`.)
    public var triggerStatements: [String] {
        let table = "main." + quoteIdentifier(name)
        let literal = SQLValue.text(ledgerName).sqlLiteral
        let context = "(SELECT tx FROM stress_ctx)"
        let insert = "INSERT INTO \(Bookkeeping.ledger) (tx, tbl, key, image)"
        let names = triggerNames
        let lost = SQLValue.text(Bookkeeping.lostMarker + ledgerName).sqlLiteral
        // A key whose latest entry is an image had a row, unless it was lost: the
        // trace of the lost row, written before the entry of a row that takes its
        // key (where `condition` holds; SQLite tests it before the lookup).
        func lostTrace(onlyIf condition: String? = nil) -> String {
            "\(insert) SELECT \(context), \(lost), l.key, l.image FROM \(Bookkeeping.ledger) AS l WHERE "
                + (condition.map { "\($0) AND " } ?? "") + "l.seq = \(latestSeqExpression("NEW")) AND l.image IS NOT NULL; "
        }
        let moved = "\(keyExpression("OLD")) IS NOT \(keyExpression("NEW"))"
        return [
            "\(Self.createTriggerPrefix)\(names[0]) AFTER INSERT ON \(table) BEGIN \(Self.schemaGuard)"
                + lostTrace()
                + "\(insert) VALUES (\(context), \(literal), \(keyExpression("NEW")), \(imageExpression("NEW"))); END",
            "\(Self.createTriggerPrefix)\(names[1]) AFTER UPDATE ON \(table) BEGIN \(Self.schemaGuard)"
                + "\(insert) SELECT \(context), \(literal), \(keyExpression("OLD")), NULL WHERE \(moved); "
                + lostTrace(onlyIf: moved)
                + "\(insert) VALUES (\(context), \(literal), \(keyExpression("NEW")), \(imageExpression("NEW"))); END",
            "\(Self.createTriggerPrefix)\(names[2]) AFTER DELETE ON \(table) BEGIN \(Self.schemaGuard)"
                + "\(insert) VALUES (\(context), \(literal), \(keyExpression("OLD")), NULL); END",
        ]
    }

    /// How each of the ledger's TEMP triggers is created.
    static let createTriggerPrefix = "CREATE TEMP TRIGGER "

    /// The TEMP triggers' names (by identity, so a rename leaves them unique).
    private static func triggerNames(_ ledgerName: String) -> [String] {
        triggerPrefixes.map { quoteIdentifier($0 + ledgerName) }
    }

    private static let triggerPrefixes = ["stress_ins_", "stress_upd_", "stress_del_"]
    /// How many ledger triggers a table has (`triggerStatements`).
    static let triggersPerTable = triggerPrefixes.count
    /// Counts the ledger triggers a connection has, orphaned ones included
    /// (every name above starts `stress_`; the temp schema holds no other trigger of that name).
    static let countTriggersQuery = #"SELECT count(*) FROM temp.sqlite_schema WHERE type = 'trigger' AND name LIKE 'stress\_%' ESCAPE '\'"#

    private var triggerNames: [String] { Self.triggerNames(ledgerName) }

    /// Drops a table's ledger triggers from a connection.
    static func dropTriggerStatements(ledgerName: String) -> [String] {
        triggerNames(ledgerName).map { dropTriggerPrefix + $0 }
    }

    /// How each of the ledger's TEMP triggers is dropped.
    static let dropTriggerPrefix = "DROP TRIGGER IF EXISTS temp."

    /// The tracked tables of a schema, with the accounts table, by name.
    public static func tables(of schema: Schema) -> [TrackedTable] {
        (schema.tables.map(TrackedTable.init) + [accounts]).sorted { $0.name < $1.name }
    }
}
