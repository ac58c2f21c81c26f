import StressSQLite

/// The statements the workload issues against user tables.
public enum StatementKind: String, CaseIterable, Sendable, Codable, CodingKeyRepresentable {
    case insert
    case insertOrIgnore = "insert-or-ignore"
    case insertOrReplace = "insert-or-replace"
    case upsert
    case update
    case deleteByKey = "delete-by-key"
    case deleteByRange = "delete-by-range"
    case select
    /// A read of a view (of a table when the schema has no view).
    case selectView = "select-view"
    /// A balance transfer between two accounts (see `Bookkeeping.accounts`).
    case transfer

    /// Whether the statement can change the database.
    public var isWrite: Bool { self != .select && self != .selectView }
}

/// Writes one random statement of a given kind against a table, as literal
/// SQL: the SQL log then holds exactly what ran, and the `sqlite3` shell
/// replays it with no binding step in between.
public enum StatementGenerator {
    /// One statement of `kind` on `table`; rows it writes carry `tag` in the tag column.
    public static func generate(
        _ kind: StatementKind, on table: Table, tag: Int64, using rng: inout some RandomNumberGenerator
    ) -> String {
        var sql: String
        switch kind {
        case .insert: sql = insert(table, conflict: "", tag: tag, using: &rng)
        case .insertOrIgnore: sql = insert(table, conflict: " OR IGNORE", tag: tag, using: &rng)
        case .insertOrReplace:
            sql = insert(table, conflict: rng.chance(0.8) ? " OR REPLACE" : "", replaceSpelling: true, tag: tag, using: &rng)
        case .upsert: sql = upsert(table, tag: tag, using: &rng)
        case .update: sql = update(table, tag: tag, using: &rng)
        case .deleteByKey: sql = "DELETE FROM \(quoteIdentifier(table.name)) WHERE " + keyEquality(table, using: &rng)
        case .deleteByRange: sql = "DELETE FROM \(quoteIdentifier(table.name)) WHERE " + rangePredicate(table, using: &rng)
        case .select, .selectView: return select(table, using: &rng)
        case .transfer:
            let (from, to, amount) = transfer(using: &rng)
            return transferStatement(from: from, to: to, amount: amount, tag: tag)
        }
        if rng.chance(0.12) { sql += rng.chance(0.5) ? " RETURNING *" : " RETURNING " + quoteIdentifier(rng.pick(table.userColumns).name) }
        return sql
    }

    // MARK: - INSERT

    private static func insert(
        _ table: Table, conflict: String, replaceSpelling: Bool = false, tag: Int64,
        using rng: inout some RandomNumberGenerator
    ) -> String {
        let (columns, rows) = insertRows(table, tag: tag, using: &rng)
        // "REPLACE INTO" is SQLite's alias for "INSERT OR REPLACE INTO".
        let verb = replaceSpelling && conflict.isEmpty ? "REPLACE" : "INSERT\(conflict)"
        return "\(verb) INTO \(quoteIdentifier(table.name)) (\(columns.joined(separator: ", "))) VALUES " + rows
    }

    private static func upsert(_ table: Table, tag: Int64, using rng: inout some RandomNumberGenerator) -> String {
        let (columns, rows) = insertRows(table, tag: tag, using: &rng)
        let targets = table.conflictTargets
        var sql = "INSERT INTO \(quoteIdentifier(table.name)) (\(columns.joined(separator: ", "))) VALUES " + rows
        guard !targets.isEmpty, rng.chance(0.85) else {
            return sql + " ON CONFLICT DO NOTHING"
        }
        let target = rng.pick(targets)
        sql += " ON CONFLICT (" + target.map(quoteIdentifier).joined(separator: ", ") + ")"
        if rng.chance(0.15) { return sql + " DO NOTHING" }
        // Assign from the proposed row (excluded.*), the old row, or a fresh literal.
        var assignments: [String] = []
        for column in table.valueColumns where assignments.isEmpty || rng.chance(0.5) {
            let name = quoteIdentifier(column.name)
            switch rng.below(3) {
            case 0: assignments.append("\(name) = excluded.\(name)")
            case 1: assignments.append("\(name) = coalesce(\(name), excluded.\(name))")
            default: assignments.append("\(name) = " + ValueGenerator.value(for: column, using: &rng).sqlLiteral)
            }
        }
        assignments.append("\(quoteIdentifier(Bookkeeping.tagColumn)) = \(tag)")
        sql += " DO UPDATE SET " + assignments.joined(separator: ", ")
        if rng.chance(0.2) { sql += " WHERE " + valuePredicate(table, qualifier: "excluded.", using: &rng) }
        return sql
    }

    /// A column list and one or more rows of VALUES.
    private static func insertRows(_ table: Table, tag: Int64, using rng: inout some RandomNumberGenerator) -> ([String], String) {
        var chosen: [Column] = []
        let keys = Set(table.key.columns)
        let writable = table.writable
        for column in writable {
            if keys.contains(column.id) {
                // Omitting an INTEGER PRIMARY KEY lets SQLite pick the rowid; omitting a
                // declared key elsewhere stores NULL in it (or fails in WITHOUT ROWID).
                if rng.chance(0.95) { chosen.append(column) }
            } else if rng.chance(0.8) {
                chosen.append(column)
            }
        }
        if chosen.isEmpty, !writable.isEmpty { chosen.append(rng.pick(writable)) }
        var names = chosen.map { quoteIdentifier($0.name) }
        // A plain rowid table: name the rowid half of the time, so rows collide.
        let explicitRowid = table.key == .rowid && rng.chance(0.5)
        if explicitRowid { names.insert("rowid", at: 0) }
        names.append(quoteIdentifier(Bookkeeping.tagColumn))

        let rowCount = rng.chance(0.8) ? 1 : rng.int(in: 2...4)
        // The rows written into one string: every insert of a run takes this path.
        var rows = ""
        let keyValues = keyTuple(table, using: &rng)
        for row in 0..<rowCount {
            rows += row == 0 ? "(" : ", ("
            if explicitRowid { rows += String(rng.int(in: 1...table.keySpace)) + ", " }
            for column in chosen {
                if let position = table.key.columns.firstIndex(of: column.id) {
                    // Later rows of a multi-row insert take fresh keys (or collide on purpose).
                    let value = row == 0 || rng.chance(0.3) ? keyValues[position] : keyTuple(table, using: &rng)[position]
                    value.appendLiteral(to: &rows)
                } else {
                    ValueGenerator.value(for: column, using: &rng).appendLiteral(to: &rows)
                }
                rows += ", "
            }
            rows += String(tag)
            rows += ")"
        }
        return (names, rows)
    }

    // MARK: - UPDATE

    private static func update(_ table: Table, tag: Int64, using rng: inout some RandomNumberGenerator) -> String {
        let conflict = rng.pick(["", "", "", " OR IGNORE", " OR REPLACE"])
        var assignments: [String] = []
        let writable = table.writable
        var used = Set<Int>()
        for _ in 0..<(writable.isEmpty ? 0 : rng.int(in: 1...min(3, writable.count))) {
            let column = rng.pick(writable)
            guard used.insert(column.id).inserted else { continue }
            let name = quoteIdentifier(column.name)
            if let position = table.key.columns.firstIndex(of: column.id) {
                // Moving a row to another key.
                let key = ValueGenerator.key(keyNumber(table, component: position, using: &rng), for: column, using: &rng)
                assignments.append("\(name) = " + key.sqlLiteral)
            } else {
                switch rng.below(10) {
                case 0: assignments.append("\(name) = \(name)")
                case 1 where (column.type == .integer || column.type == .numeric) && column.references == nil:
                    assignments.append("\(name) = coalesce(\(name), 0) + 1")
                default:
                    assignments.append("\(name) = " + ValueGenerator.value(for: column, using: &rng).sqlLiteral)
                }
            }
        }
        assignments.append("\(quoteIdentifier(Bookkeeping.tagColumn)) = \(tag)")
        let predicate: String
        switch rng.below(20) {
        case 0: predicate = ""  // Every row.
        case 1, 2, 3, 4: predicate = " WHERE " + rangePredicate(table, using: &rng)
        case 5: predicate = " WHERE " + valuePredicate(table, qualifier: "", using: &rng)
        default: predicate = " WHERE " + keyEquality(table, using: &rng)
        }
        return "UPDATE\(conflict) \(quoteIdentifier(table.name)) SET " + assignments.joined(separator: ", ") + predicate
    }

    // MARK: - Transfers

    /// Two distinct accounts and an amount.
    static func transfer(using rng: inout some RandomNumberGenerator) -> (from: Int, to: Int, amount: Int64) {
        let from = rng.int(in: 1...Bookkeeping.accountCount)
        var to = rng.int(in: 1...(Bookkeeping.accountCount - 1))
        if to >= from { to += 1 }
        return (from, to, Int64(rng.int(in: 1...500)))
    }

    /// A whole transfer in one statement, so it is atomic even in autocommit.
    static func transferStatement(from: Int, to: Int, amount: Int64, tag: Int64) -> String {
        "UPDATE \(Bookkeeping.accounts) SET balance = balance + CASE id WHEN \(from) THEN -\(amount) ELSE \(amount) END, "
            + "\(Bookkeeping.tagColumn) = \(tag) WHERE id IN (\(from), \(to))"
    }

    // MARK: - SELECT

    private static func select(_ table: Table, using rng: inout some RandomNumberGenerator) -> String {
        let name = quoteIdentifier(table.name)
        switch rng.below(4) {
        case 0: return "SELECT count(*) FROM \(name)"
        case 1: return "SELECT * FROM \(name) WHERE " + rangePredicate(table, using: &rng) + " LIMIT 20"
        case 2:
            let column = quoteIdentifier(rng.pick(table.userColumns).name)
            return "SELECT \(column), count(*) FROM \(name) GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
        default: return "SELECT * FROM \(name) WHERE " + keyEquality(table, using: &rng)
        }
    }

    /// A read of a view.
    static func select(_ view: View, using rng: inout some RandomNumberGenerator) -> String {
        let name = quoteIdentifier(view.name)
        switch rng.below(3) {
        case 0: return "SELECT count(*) FROM \(name)"
        case 1: return "SELECT * FROM \(name) LIMIT 20"
        default: return "SELECT * FROM \(name) WHERE \(quoteIdentifier(rng.pick(view.columns))) IS NOT NULL LIMIT 5"
        }
    }

    // MARK: - Predicates

    /// A key number in the table's domain; composite keys split the domain between components.
    private static func keyNumber(_ table: Table, component: Int, using rng: inout some RandomNumberGenerator) -> Int {
        let width = max(1, table.key.columns.count)
        let perComponent = width == 1 ? table.keySpace : Int(Double(table.keySpace).squareRoot().rounded(.up)) + 1
        return rng.below(perComponent)
    }

    private static func keyTuple(_ table: Table, using rng: inout some RandomNumberGenerator) -> [SQLValue] {
        table.keyColumns.enumerated().map { position, column in
            ValueGenerator.key(keyNumber(table, component: position, using: &rng), for: column, using: &rng)
        }
    }

    /// Names exactly one row (or none) by its key.
    static func keyEquality(_ table: Table, using rng: inout some RandomNumberGenerator) -> String {
        let columns = table.keyColumns
        switch table.key {
        case .rowid:
            return "rowid = \(rng.int(in: 1...table.keySpace))"
        case .integerPrimaryKey:
            let value = ValueGenerator.key(keyNumber(table, component: 0, using: &rng), for: .integer)
            return "\(quoteIdentifier(columns[0].name)) = \(value.sqlLiteral)"
        case .primaryKey:
            let values = keyTuple(table, using: &rng)
            if columns.count == 1 {
                return "\(quoteIdentifier(columns[0].name)) = \(values[0].sqlLiteral)"
            }
            if rng.chance(0.5) {
                // Row-value comparison.
                return "(" + columns.map { quoteIdentifier($0.name) }.joined(separator: ", ") + ") = ("
                    + values.map(\.sqlLiteral).joined(separator: ", ") + ")"
            }
            return zip(columns, values).map { "\(quoteIdentifier($0.name)) = \($1.sqlLiteral)" }
                .joined(separator: " AND ")
        }
    }

    /// A range over the leading key (or the rowid), or over a value column.
    static func rangePredicate(_ table: Table, using rng: inout some RandomNumberGenerator) -> String {
        if rng.chance(0.15) { return valuePredicate(table, qualifier: "", using: &rng) }
        switch table.key {
        case .rowid:
            if rng.chance(0.2) { return "rowid > \(table.keySpace)" }  // Trims rows appended past the domain.
            let low = rng.int(in: 1...table.keySpace)
            return "rowid BETWEEN \(low) AND \(low + rng.int(in: 0...8))"
        case .integerPrimaryKey, .primaryKey:
            let column = table.keyColumns[0]
            let name = quoteIdentifier(column.name)
            if case .integerPrimaryKey = table.key, rng.chance(0.2) {
                // Trims rows whose rowid SQLite chose past the domain.
                return "\(name) > \(ValueGenerator.key(table.keySpace, for: .integer).sqlLiteral)"
            }
            let low = keyNumber(table, component: 0, using: &rng)
            let high = low + rng.int(in: 0...8)
            return "\(name) BETWEEN \(ValueGenerator.key(low, for: column.type).sqlLiteral) AND \(ValueGenerator.key(high, for: column.type).sqlLiteral)"
        }
    }

    /// A predicate over a value column, e.g. `"c2" IS NULL` or `"c3" > 10`.
    static func valuePredicate(_ table: Table, qualifier: String, using rng: inout some RandomNumberGenerator) -> String {
        let column = rng.pick(table.userColumns)
        let name = qualifier + quoteIdentifier(column.name)
        switch rng.below(4) {
        case 0: return "\(name) IS NULL"
        case 1: return "\(name) IS NOT NULL"
        case 2: return "\(name) > " + ValueGenerator.value(for: column, using: &rng).sqlLiteral
        default: return "typeof(\(name)) = '\(rng.pick(["integer", "real", "text", "blob", "null"]))'"
        }
    }
}
