import StressSQLite

/// A column's declared type. `untyped` declares none (BLOB affinity); `any`
/// is STRICT tables' column of any type.
public enum ColumnType: String, CaseIterable, Sendable, Codable {
    case integer = "INTEGER"
    case real = "REAL"
    case text = "TEXT"
    case blob = "BLOB"
    case numeric = "NUMERIC"
    case untyped = ""
    case any = "ANY"

    /// The types an ordinary table's columns are drawn from.
    static let ordinary: [ColumnType] = [.integer, .real, .text, .blob, .numeric, .untyped]
    /// The types a STRICT table allows.
    static let strict: [ColumnType] = [.integer, .real, .text, .blob, .any]
}

/// A text collation other than the default BINARY.
public enum Collation: String, Sendable, Codable, CaseIterable {
    case nocase = "NOCASE"
    case rtrim = "RTRIM"
}

/// What a foreign key does to the child's rows when the parent's row goes or changes.
public enum ForeignKeyAction: String, Sendable, Codable, CaseIterable {
    case noAction = "NO ACTION"
    case cascade = "CASCADE"
    case setNull = "SET NULL"
}

/// A column's reference to its parent's key (`foreign_keys` is on on every connection).
public struct ForeignKey: Sendable, Hashable, Codable {
    /// The parent table's identity, and the id of its key column.
    public var table: String
    public var column: Int
    public var onDelete: ForeignKeyAction
    public var onUpdate: ForeignKeyAction
    /// The parent key's type and key space when the key was made (neither ever
    /// changes), so the child's values can be drawn to match the parent's keys.
    public var parentType: ColumnType
    public var parentKeySpace: Int

    /// Whether a change to the parent writes the child's rows (and so the ledger).
    public var acts: Bool { onDelete != .noAction || onUpdate != .noAction }
}

/// A generated column's expression over its table's columns.
public struct Generated: Sendable, Hashable, Codable {
    public var expression: SQLTemplate
    /// STORED (computed when the row is written) or VIRTUAL (when it is read).
    public var stored: Bool
}

/// A piece of SQL that names tables and columns by identity and renders them
/// with their current names, so renames follow it as SQLite's ALTER TABLE
/// follows them through the schema: CHECK constraints, generated columns,
/// index expressions and partial-index predicates, views and triggers.
public struct SQLTemplate: Sendable, Hashable, Codable, ExpressibleByStringInterpolation {
    public enum Piece: Sendable, Hashable, Codable {
        case text(String)
        /// A column (of table `table`, by identity), quoted.
        case column(table: String, id: Int)
        /// A table's current name, quoted.
        case table(String)
    }

    public var pieces: [Piece]

    public init(pieces: [Piece]) { self.pieces = pieces }
    public init(stringLiteral value: String) { pieces = [.text(value)] }
    public init(stringInterpolation: Interpolation) { pieces = stringInterpolation.pieces }

    public struct Interpolation: StringInterpolationProtocol {
        var pieces: [Piece] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { if !literal.isEmpty { pieces.append(.text(literal)) } }
        public mutating func appendInterpolation(_ column: ColumnRef) { pieces.append(.column(table: column.table, id: column.id)) }
        public mutating func appendInterpolation(table: String) { pieces.append(.table(table)) }
        public mutating func appendInterpolation(literal value: SQLValue) { pieces.append(.text(value.sqlLiteral)) }
        public mutating func appendInterpolation(_ template: SQLTemplate) { pieces += template.pieces }
        /// SQL text as it is (a keyword, `NEW.`, a number).
        public mutating func appendInterpolation(_ text: String) { appendLiteral(text) }
    }

    public static func + (lhs: SQLTemplate, rhs: SQLTemplate) -> SQLTemplate { SQLTemplate(pieces: lhs.pieces + rhs.pieces) }

    /// The SQL, with every name as `schema` has it now.
    public func render(_ schema: Schema) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): text
            case .column(let table, let id): quoteIdentifier(schema.table(id: table)?.column(id: id)?.name ?? "?\(table).\(id)")
            case .table(let table): quoteIdentifier(schema.table(id: table)?.name ?? "?\(table)")
            }
        }.joined()
    }

    /// The columns it names.
    public var columns: [ColumnRef] {
        pieces.compactMap { if case .column(let table, let id) = $0 { ColumnRef(table: table, id: id) } else { nil } }
    }

    /// The tables it names, by a column or by name.
    public var tables: Set<String> {
        Set(pieces.compactMap {
            switch $0 {
            case .column(let table, _), .table(let table): table
            case .text: nil
            }
        })
    }
}

/// A column by identity: its table's identity and its own id.
public struct ColumnRef: Sendable, Hashable, Codable {
    public var table: String
    public var id: Int
}

/// One column.
public struct Column: Sendable, Hashable, Codable {
    /// Fixed for the column's life (renames keep it); expressions name the column by it.
    public var id: Int
    public var name: String
    public var type: ColumnType
    public var notNull = false
    public var unique = false
    /// A CHECK expression over this column alone.
    public var check: SQLTemplate?
    public var defaultValue: SQLValue?
    public var collation: Collation?
    public var generated: Generated?
    public var references: ForeignKey?
    /// Values are JSON text (read by `json_extract` in an index or a generated column).
    public var json = false
    /// The oracle's tag column (see `Bookkeeping.tagColumn`).
    public var isTag = false

    public init(id: Int, name: String, type: ColumnType) {
        self.id = id
        self.name = name
        self.type = type
    }

    /// The oracle's tag column: which transaction last wrote the row.
    static func tag(id: Int) -> Column {
        var column = Column(id: id, name: Bookkeeping.tagColumn, type: .integer)
        column.isTag = true
        return column
    }

    /// Whether the workload writes it (generated columns and the tag are written otherwise).
    public var isWritable: Bool { generated == nil && !isTag }

    /// The column definition inside CREATE TABLE (or ADD COLUMN); `primaryKey`
    /// declares it the table's INTEGER PRIMARY KEY inline.
    public func definition(primaryKey: Bool = false, autoincrement: Bool = false, in schema: Schema) -> String {
        var sql = quoteIdentifier(name)
        if type != .untyped { sql += " " + type.rawValue }
        if primaryKey { sql += " PRIMARY KEY" + (autoincrement ? " AUTOINCREMENT" : "") }
        if notNull { sql += " NOT NULL" }
        if unique { sql += " UNIQUE" }
        if let defaultValue { sql += " DEFAULT " + Self.defaultLiteral(defaultValue) }
        if let collation { sql += " COLLATE " + collation.rawValue }
        if let check { sql += " CHECK (\(check.render(schema)))" }
        if let generated { sql += " AS (\(generated.expression.render(schema))) " + (generated.stored ? "STORED" : "VIRTUAL") }
        if let references {
            let parent = schema.table(id: references.table)
            sql += " REFERENCES \(quoteIdentifier(parent?.name ?? "?"))"
                + "(\(quoteIdentifier(parent?.column(id: references.column)?.name ?? "?")))"
                + " ON DELETE \(references.onDelete.rawValue) ON UPDATE \(references.onUpdate.rawValue)"
        }
        return sql
    }

    /// DEFAULT accepts literals and signed numbers; anything else is parenthesised.
    static func defaultLiteral(_ value: SQLValue) -> String {
        let literal = value.sqlLiteral
        if literal.hasPrefix("(") || literal.hasPrefix("-9e") || literal.hasPrefix("9e") { return "(\(literal))" }
        return literal
    }
}

/// How a table identifies its rows. Columns are named by id.
public enum TableKey: Sendable, Hashable, Codable {
    /// A rowid table with no declared key: rows are named by `rowid`.
    case rowid
    /// A rowid table whose INTEGER PRIMARY KEY column aliases the rowid.
    case integerPrimaryKey(column: Int)
    /// A declared PRIMARY KEY over these columns (non-integer or composite).
    /// In a rowid table SQLite still names rows by rowid; with WITHOUT ROWID the key is the row.
    case primaryKey(columns: [Int])

    /// The ids of the key's columns, in key order (none for `.rowid`).
    public var columns: [Int] {
        switch self {
        case .rowid: []
        case .integerPrimaryKey(let column): [column]
        case .primaryKey(let columns): columns
        }
    }
}

/// One term of an index: a column, or an expression over the table's columns.
public enum IndexTerm: Sendable, Hashable, Codable {
    case column(Int)
    case expression(SQLTemplate)
}

/// One index the workload made (the oracle's own index and SQLite's automatic
/// ones are not listed).
public struct Index: Sendable, Hashable, Codable {
    public var name: String
    public var terms: [IndexTerm]
    public var unique: Bool
    /// The WHERE clause of a partial index.
    public var predicate: SQLTemplate?

    /// The columns it reads, by id (its terms' and its predicate's).
    public func columns(of table: Table) -> Set<Int> {
        var ids = Set<Int>()
        for term in terms {
            switch term {
            case .column(let id): ids.insert(id)
            case .expression(let template): ids.formUnion(template.columns.filter { $0.table == table.id }.map(\.id))
            }
        }
        if let predicate { ids.formUnion(predicate.columns.filter { $0.table == table.id }.map(\.id)) }
        return ids
    }

    /// A term as SQL.
    func render(_ term: IndexTerm, of table: Table, in schema: Schema) -> String {
        switch term {
        case .column(let id): quoteIdentifier(table.column(id: id)?.name ?? "?")
        case .expression(let template): template.render(schema)
        }
    }

    public func createSQL(on table: Table, in schema: Schema) -> String {
        var sql = "CREATE \(unique ? "UNIQUE " : "")INDEX \(quoteIdentifier(name)) ON \(quoteIdentifier(table.name)) ("
        sql += terms.map { render($0, of: table, in: schema) }.joined(separator: ", ") + ")"
        if let predicate { sql += " WHERE " + predicate.render(schema) }
        return sql
    }
}

/// One table.
public struct Table: Sendable, Hashable, Codable {
    /// The table's identity: its name when it was created, never reused, and
    /// the ledger's name for it (`tbl`) whatever it is renamed to.
    public var id: String
    public var name: String
    /// Every column in the table's order, the tag column included (tables are
    /// created with it last; ADD COLUMN appends after it).
    public var columns: [Column]
    public var key: TableKey
    public var withoutRowid: Bool
    public var strict = false
    /// AUTOINCREMENT on the INTEGER PRIMARY KEY.
    public var autoincrement = false
    public var indexes: [Index]
    /// Key values are drawn from `0..<keySpace`, so statements keep meeting existing rows.
    public var keySpace: Int
    /// The next column id (and fresh name `c<id>`) this table hands out.
    public var nextColumn: Int

    public func column(id: Int) -> Column? { columns.first { $0.id == id } }
    public func columnIndex(id: Int) -> Int? { columns.firstIndex { $0.id == id } }

    /// Every column but the oracle's tag.
    public var userColumns: [Column] { columns.filter { !$0.isTag } }

    /// Columns the workload writes: not generated, not the tag.
    public var writable: [Column] { columns.filter(\.isWritable) }

    /// The declared key's columns, in key order.
    public var keyColumns: [Column] { key.columns.compactMap { column(id: $0) } }

    /// Writable columns that are not part of the key.
    public var valueColumns: [Column] {
        let keys = Set(key.columns)
        return writable.filter { !keys.contains($0.id) }
    }

    /// Sets of column names that a conflict target (ON CONFLICT (...)) may name:
    /// the primary key and every UNIQUE column or full (non-partial) UNIQUE index of plain columns.
    public var conflictTargets: [[String]] {
        var targets: [[String]] = []
        if !key.columns.isEmpty { targets.append(keyColumns.map(\.name)) }
        for column in columns where column.unique { targets.append([column.name]) }
        // SQLite does not accept a UNIQUE index that includes the INTEGER PRIMARY KEY as a target.
        let rowidAlias: Int? = if case .integerPrimaryKey(let column) = key { column } else { nil }
        for index in indexes where index.unique && index.predicate == nil {
            let ids = index.terms.compactMap { if case .column(let id) = $0 { id } else { nil } }
            guard ids.count == index.terms.count, !ids.contains(where: { $0 == rowidAlias }) else { continue }
            targets.append(ids.compactMap { column(id: $0)?.name })
        }
        return targets
    }

    /// Whether VACUUM could renumber its rows: a rowid table with no INTEGER
    /// PRIMARY KEY and no index (SQLite documents that VACUUM may change such
    /// rowids, and does when the table has no index). The ledger names such rows
    /// by rowid, so the oracle gives each such table an index of its own
    /// (`oracleIndexName`), and SQLite's VACUUM keeps the rowids of a table with an index.
    public var needsOracleIndex: Bool { key == .rowid && !withoutRowid }

    /// The name of the oracle's index on the tag column (see `needsOracleIndex`).
    public var oracleIndexName: String { "stress_keep_" + id }

    public func createSQL(in schema: Schema) -> String {
        var parts = columns.map { column -> String in
            if case .integerPrimaryKey(let keyColumn) = key, keyColumn == column.id {
                return column.definition(primaryKey: true, autoincrement: autoincrement, in: schema)
            }
            return column.definition(in: schema)
        }
        if case .primaryKey(let keyColumns) = key {
            parts.append("PRIMARY KEY (" + keyColumns.map { quoteIdentifier(column(id: $0)?.name ?? "?") }.joined(separator: ", ") + ")")
        }
        let options = [withoutRowid ? "WITHOUT ROWID" : nil, strict ? "STRICT" : nil].compactMap { $0 }
        return "CREATE TABLE \(quoteIdentifier(name)) (" + parts.joined(separator: ", ") + ")"
            + (options.isEmpty ? "" : " " + options.joined(separator: ", "))
    }

    /// The table, the oracle's index when it needs one, and its indexes.
    public func createStatements(in schema: Schema) -> [String] {
        [createSQL(in: schema)]
            + (needsOracleIndex
                ? ["CREATE INDEX \(quoteIdentifier(oracleIndexName)) ON \(quoteIdentifier(name)) (\(quoteIdentifier(Bookkeeping.tagColumn)))"]
                : [])
            + indexes.map { $0.createSQL(on: self, in: schema) }
    }

    /// Columns that another part of the table reads (a generated column, or an index),
    /// which DROP COLUMN refuses to drop.
    func columnsReadWithin() -> Set<Int> {
        var ids = Set<Int>()
        for column in columns {
            if let generated = column.generated { ids.formUnion(generated.expression.columns.filter { $0.table == id }.map(\.id)) }
        }
        for index in indexes { ids.formUnion(index.columns(of: self)) }
        return ids
    }
}

/// A view over the tables (its columns named by aliases, so renames leave them).
public struct View: Sendable, Hashable, Codable {
    public var name: String
    public var columns: [String]
    public var select: SQLTemplate

    public func createSQL(in schema: Schema) -> String {
        "CREATE VIEW \(quoteIdentifier(name)) AS " + select.render(schema)
    }
}

/// A trigger of the user's own (an audit trail): after each insert, update or
/// delete on `table` it writes a row into `target`, another tracked table, so
/// the ledger sees the write through `target`'s own bookkeeping.
public struct UserTrigger: Sendable, Hashable, Codable {
    public enum Event: String, Sendable, Codable, CaseIterable { case insert = "INSERT", update = "UPDATE", delete = "DELETE" }
    public var name: String
    /// The identity of the table it fires on, and of the table it writes.
    public var table: String
    public var target: String
    public var event: Event
    /// The statement it runs.
    public var body: SQLTemplate

    public func createSQL(in schema: Schema) -> String {
        "CREATE TRIGGER \(quoteIdentifier(name)) AFTER \(event.rawValue) ON \(quoteIdentifier(schema.table(id: table)?.name ?? "?")) "
            + "BEGIN \(body.render(schema)); END"
    }
}

/// A whole schema: what the database holds, as the committed schema changes left it.
public struct Schema: Sendable, Hashable, Codable {
    public var tables: [Table]
    public var views: [View] = []
    public var triggers: [UserTrigger] = []
    /// How many schema changes have committed since the database was created
    /// (the ledger numbers them 1, 2, …).
    public var version = 0
    /// The next number a fresh object name takes (`t<n>`, `i<n>`, `v<n>`, `g<n>`):
    /// no name is ever used twice, so nothing a dropped or renamed object left
    /// behind can attach to a new one.
    public var nextName: Int

    public init(tables: [Table], views: [View] = [], triggers: [UserTrigger] = [], nextName: Int) {
        self.tables = tables
        self.views = views
        self.triggers = triggers
        self.nextName = nextName
    }

    public func table(id: String) -> Table? { tables.first { $0.id == id } }
    public func tableIndex(id: String) -> Int? { tables.firstIndex { $0.id == id } }

    /// Draws a fresh name with `prefix`.
    mutating func freshName(_ prefix: String) -> String {
        defer { nextName += 1 }
        return "\(prefix)\(nextName)"
    }

    /// Every CREATE statement: tables (each with its indexes), then views, then triggers.
    public var createStatements: [String] {
        tables.flatMap { $0.createStatements(in: self) } + views.map { $0.createSQL(in: self) }
            + triggers.map { $0.createSQL(in: self) }
    }

    /// The tables a write to `tables` can change: themselves, and through
    /// foreign-key actions and user triggers, others (a connection needs the
    /// ledger's triggers on all of them before it writes).
    public func affected(by tables: Set<String>) -> Set<String> {
        var result = tables
        var queue = Array(tables)
        while let id = queue.popLast() {
            var next: [String] = []
            for child in self.tables where child.columns.contains(where: { $0.references?.table == id && $0.references!.acts }) {
                next.append(child.id)
            }
            next += triggers.filter { $0.table == id }.map(\.target)
            for table in next where result.insert(table).inserted { queue.append(table) }
        }
        return result
    }

    /// The features of `table` a write to it exercises (`SchemaFeature`; views are read, not written).
    func features(of table: Table) -> [SchemaFeature] {
        var features: [SchemaFeature] = []
        if tables.contains(where: { $0.columns.contains { $0.references?.table == table.id && $0.references!.acts } }) {
            features.append(.foreignKeyAction)
        }
        if triggers.contains(where: { $0.table == table.id }) { features.append(.userTrigger) }
        if table.columns.contains(where: { $0.generated != nil }) { features.append(.generatedColumn) }
        if table.strict { features.append(.strictTable) }
        if table.columns.contains(where: { $0.collation != nil }) { features.append(.collation) }
        if table.autoincrement { features.append(.autoincrement) }
        if table.columns.contains(where: \.json) { features.append(.json) }
        return features
    }

    /// Whether any object but `table` itself reads `table`: a child's foreign
    /// key, a view, or a trigger that fires elsewhere and writes it.
    func isReferenced(_ table: String) -> Bool {
        tables.contains { $0.id != table && $0.columns.contains { $0.references?.table == table } }
            || views.contains { $0.select.tables.contains(table) }
            || triggers.contains { $0.table != table && ($0.target == table || $0.body.tables.contains(table)) }
    }

    /// Columns of `table` that something outside the column itself reads: an
    /// index, a generated column, a foreign key (either end), a view or a trigger.
    func referencedColumns(of table: Table) -> Set<Int> {
        var ids = table.columnsReadWithin()
        for column in table.columns where column.references != nil { ids.insert(column.id) }
        for other in tables {
            for column in other.columns {
                if let reference = column.references, reference.table == table.id { ids.insert(reference.column) }
            }
        }
        for view in views { ids.formUnion(view.select.columns.filter { $0.table == table.id }.map(\.id)) }
        for trigger in triggers { ids.formUnion(trigger.body.columns.filter { $0.table == table.id }.map(\.id)) }
        return ids
    }
}

/// Quotes an identifier for SQL: `"name"`, doubling embedded quotes.
public func quoteIdentifier(_ name: String) -> String {
    // Called for every column of every statement: skip the rewrite when there is nothing to double.
    guard name.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + name + "\"" }
    return "\"" + name.replacing("\"", with: "\"\"") + "\""
}

extension Table {
    /// A few words on the table's shape, e.g. `t0(4 columns, composite key, WITHOUT ROWID, 2 indexes)`.
    public var shape: String {
        let key: String
        switch self.key {
        case .rowid: key = "rowid"
        case .integerPrimaryKey: key = "INTEGER PRIMARY KEY" + (autoincrement ? " AUTOINCREMENT" : "")
        case .primaryKey(let columns): key = columns.count > 1 ? "composite key" : "non-integer key"
        }
        let count = columns.count - 1
        var parts = [Format.count(count, "column"), key]
        if withoutRowid { parts.append("WITHOUT ROWID") }
        if strict { parts.append("STRICT") }
        let references = columns.filter { $0.references != nil }.count
        if references > 0 { parts.append(Format.count(references, "foreign key")) }
        let generated = columns.filter { $0.generated != nil }.count
        if generated > 0 { parts.append("\(generated) generated") }
        if !indexes.isEmpty { parts.append(Format.count(indexes.count, "index", plural: "indexes")) }
        return "\(name)(" + parts.joined(separator: ", ") + ")"
    }
}

extension Schema {
    /// The printed schema line: the generated tables (the oracle's accounts
    /// table comes on top of them, and `check` counts it too), naming those that
    /// the user's triggers write (an audit table on top of `--tables`).
    public var summary: String {
        let audits = tables.filter { table in triggers.contains { $0.target == table.id } }.map(\.name)
        let written = audits.isEmpty ? "" : " (\(audits.joined(separator: ", ")) written by triggers, an audit trail)"
        return "schema: \(Format.count(tables.count, "table"))\(written) plus the accounts: " + tables.map(\.shape).joined(separator: ", ")
    }
}
