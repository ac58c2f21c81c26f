import StressSQLite

/// A column's declared type. `untyped` declares none (BLOB affinity).
public enum ColumnType: String, CaseIterable, Sendable, Codable {
    case integer = "INTEGER"
    case real = "REAL"
    case text = "TEXT"
    case blob = "BLOB"
    case numeric = "NUMERIC"
    case untyped = ""
}

/// One generated column.
public struct Column: Sendable, Hashable, Codable {
    public var name: String
    public var type: ColumnType
    public var notNull = false
    public var unique = false
    /// A CHECK expression over this column alone.
    public var check: String?
    public var defaultValue: SQLValue?

    /// The column definition inside CREATE TABLE; `primaryKey` declares it
    /// the table's INTEGER PRIMARY KEY inline.
    public func definition(primaryKey: Bool = false) -> String {
        var sql = quoteIdentifier(name)
        if type != .untyped { sql += " " + type.rawValue }
        if primaryKey { sql += " PRIMARY KEY" }
        if notNull { sql += " NOT NULL" }
        if unique { sql += " UNIQUE" }
        if let defaultValue { sql += " DEFAULT " + defaultLiteral(defaultValue) }
        if let check { sql += " CHECK (\(check))" }
        return sql
    }
}

/// How a table identifies its rows.
public enum TableKey: Sendable, Hashable, Codable {
    /// A rowid table with no declared key: rows are named by `rowid`.
    case rowid
    /// A rowid table whose INTEGER PRIMARY KEY column aliases the rowid.
    case integerPrimaryKey(column: Int)
    /// A declared PRIMARY KEY over these columns (non-integer or composite).
    /// In a rowid table SQLite still names rows by rowid; with WITHOUT ROWID the key is the row.
    case primaryKey(columns: [Int])
}

/// One generated index.
public struct Index: Sendable, Hashable, Codable {
    public var name: String
    public var table: String
    public var columns: [String]
    public var unique: Bool
    /// The WHERE clause of a partial index.
    public var predicate: String?

    public var createSQL: String {
        var sql = "CREATE \(unique ? "UNIQUE " : "")INDEX \(quoteIdentifier(name)) ON \(quoteIdentifier(table)) ("
        sql += columns.map(quoteIdentifier).joined(separator: ", ") + ")"
        if let predicate { sql += " WHERE " + predicate }
        return sql
    }
}

/// One generated table.
public struct Table: Sendable, Hashable, Codable {
    public var name: String
    public var columns: [Column]
    public var key: TableKey
    public var withoutRowid: Bool
    public var indexes: [Index]
    /// Key values are drawn from `0..<keySpace`, so statements keep meeting existing rows.
    public var keySpace: Int

    /// Indices of the columns that make up the declared primary key (empty for `.rowid`).
    public var keyColumns: [Int] {
        switch key {
        case .rowid: []
        case .integerPrimaryKey(let column): [column]
        case .primaryKey(let columns): columns
        }
    }

    /// Columns that are not part of the key.
    public var valueColumns: [Int] {
        let keys = Set(keyColumns)
        return columns.indices.filter { !keys.contains($0) }
    }

    /// Sets of columns that a conflict target (ON CONFLICT (...)) may name:
    /// the primary key and every UNIQUE column or full (non-partial) UNIQUE index.
    public var conflictTargets: [[String]] {
        var targets: [[String]] = []
        if !keyColumns.isEmpty { targets.append(keyColumns.map { columns[$0].name }) }
        for column in columns where column.unique { targets.append([column.name]) }
        // SQLite does not accept a UNIQUE index that includes the INTEGER PRIMARY KEY as a target.
        let rowidAlias: String? = if case .integerPrimaryKey(let column) = key { columns[column].name } else { nil }
        for index in indexes where index.unique && index.predicate == nil && !index.columns.contains(where: { $0 == rowidAlias }) {
            targets.append(index.columns)
        }
        return targets
    }

    public var createSQL: String {
        var parts = columns.enumerated().map { offset, column -> String in
            if case .integerPrimaryKey(let keyColumn) = key, keyColumn == offset {
                return column.definition(primaryKey: true)
            }
            return column.definition()
        }
        // The oracle's tag: which transaction last wrote the row (see Bookkeeping).
        parts.append(quoteIdentifier(Bookkeeping.tagColumn) + " INTEGER")
        if case .primaryKey(let keyColumns) = key {
            parts.append("PRIMARY KEY (" + keyColumns.map { quoteIdentifier(columns[$0].name) }.joined(separator: ", ") + ")")
        }
        return "CREATE TABLE \(quoteIdentifier(name)) (" + parts.joined(separator: ", ") + ")"
            + (withoutRowid ? " WITHOUT ROWID" : "")
    }
}

/// A whole generated schema.
public struct Schema: Sendable, Hashable, Codable {
    public var tables: [Table]

    /// Every CREATE statement, tables before their indexes.
    public var createStatements: [String] {
        tables.flatMap { [$0.createSQL] + $0.indexes.map(\.createSQL) }
    }
}

/// Quotes an identifier for SQL: `"name"`, doubling embedded quotes.
public func quoteIdentifier(_ name: String) -> String {
    // Called for every column of every statement: skip the rewrite when there is nothing to double.
    guard name.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + name + "\"" }
    return "\"" + name.replacing("\"", with: "\"\"") + "\""
}

/// DEFAULT accepts literals and signed numbers; parenthesise anything else.
private func defaultLiteral(_ value: SQLValue) -> String {
    let literal = value.sqlLiteral
    if literal.hasPrefix("(") || literal.hasPrefix("-9e") || literal.hasPrefix("9e") { return "(\(literal))" }
    return literal
}

extension Table {
    /// A few words on the table's shape, e.g. `t0(4 columns, composite key, WITHOUT ROWID, 2 indexes)`.
    public var shape: String {
        let key: String
        switch self.key {
        case .rowid: key = "rowid"
        case .integerPrimaryKey: key = "INTEGER PRIMARY KEY"
        case .primaryKey(let columns): key = columns.count > 1 ? "composite key" : "non-integer key"
        }
        var parts = [Format.count(columns.count, "column"), key]
        if withoutRowid { parts.append("WITHOUT ROWID") }
        if !indexes.isEmpty { parts.append(Format.count(indexes.count, "index", plural: "indexes")) }
        return "\(name)(" + parts.joined(separator: ", ") + ")"
    }
}

extension Schema {
    /// The printed schema line: the generated tables (the oracle's accounts
    /// table comes on top of them, and `check` counts it too).
    public var summary: String {
        "schema: \(Format.count(tables.count, "table")) plus the accounts: " + tables.map(\.shape).joined(separator: ", ")
    }
}
