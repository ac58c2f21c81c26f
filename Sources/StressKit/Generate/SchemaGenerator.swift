import StressSQLite

/// Draws random schemas: 1–10 tables of 1–10 columns, every declared type,
/// rowid tables with and without INTEGER PRIMARY KEY, non-integer and composite
/// keys, WITHOUT ROWID tables, NOT NULL / UNIQUE / CHECK / DEFAULT, and single,
/// composite, partial and UNIQUE indexes.
public enum SchemaGenerator {
    /// A schema of `tableCount` tables (1…10), or a random count when nil.
    public static func generate(tableCount: Int? = nil, using rng: inout some RandomNumberGenerator) -> Schema {
        let count = tableCount ?? rng.int(in: 1...10)
        return Schema(tables: (0..<count).map { table(named: "t\($0)", using: &rng) })
    }

    static func table(named name: String, using rng: inout some RandomNumberGenerator) -> Table {
        let columnCount = rng.int(in: 1...10)
        var columns = (0..<columnCount).map { index in
            Column(name: "c\(index)", type: rng.pick(ColumnType.allCases))
        }

        // Shape of the key. WITHOUT ROWID needs a declared primary key.
        let key: TableKey
        var withoutRowid = false
        switch rng.below(4) {
        case 0:
            key = .rowid
        case 1:
            let column = rng.below(columnCount)
            columns[column].type = .integer
            key = .integerPrimaryKey(column: column)
        default:
            let width = min(columnCount, rng.chance(0.5) ? 1 : rng.int(in: 2...3))
            var chosen: [Int] = []
            while chosen.count < width {
                let column = rng.below(columnCount)
                if !chosen.contains(column) { chosen.append(column) }
            }
            // A lone INTEGER key in a rowid table would alias the rowid; keep it a true non-integer key.
            withoutRowid = rng.chance(0.5)
            if width == 1, !withoutRowid, columns[chosen[0]].type == .integer {
                columns[chosen[0]].type = rng.pick([.text, .real, .blob, .numeric, .untyped])
            }
            key = .primaryKey(columns: chosen)
        }
        let keySet = Set(key.columnsForConstraints)

        for index in columns.indices where !keySet.contains(index) {
            constrain(&columns[index], using: &rng)
        }

        var table = Table(
            name: name, columns: columns, key: key, withoutRowid: withoutRowid,
            indexes: [], keySpace: rng.pick([8, 32, 100, 400, 2000]))
        table.indexes = indexes(for: table, using: &rng)
        return table
    }

    private static func constrain(_ column: inout Column, using rng: inout some RandomNumberGenerator) {
        if rng.chance(0.15) {
            column.notNull = true
            // Usually with a default, so OR REPLACE on NULL has something to use.
            if rng.chance(0.7) { column.defaultValue = ValueGenerator.defaultValue(for: column.type, using: &rng) }
        } else if rng.chance(0.2) {
            column.defaultValue = ValueGenerator.defaultValue(for: column.type, using: &rng)
        }
        if rng.chance(0.1) { column.unique = true }
        if rng.chance(0.15) {
            let name = quoteIdentifier(column.name)
            column.check = rng.pick([
                "\(name) IS NULL OR length(\(name)) < 3000",
                "\(name) IS NULL OR typeof(\(name)) <> 'blob' OR length(\(name)) < 20000",
                "\(name) IS NULL OR \(name) <> 13",
                "\(name) IS NULL OR NOT (typeof(\(name)) IN ('integer', 'real') AND \(name) < -1000000000)",
                "\(name) IS NOT 'forbidden'",
            ])
        }
    }

    private static func indexes(for table: Table, using rng: inout some RandomNumberGenerator) -> [Index] {
        let count = rng.int(in: 0...3)
        var result: [Index] = []
        for number in 0..<count {
            let width = min(table.columns.count, rng.chance(0.6) ? 1 : rng.int(in: 2...3))
            var chosen: [String] = []
            while chosen.count < width {
                let name = rng.pick(table.columns).name
                if !chosen.contains(name) { chosen.append(name) }
            }
            let unique = rng.chance(0.25)
            let predicate: String? = rng.chance(0.3)
                ? rng.pick([
                    "\(quoteIdentifier(chosen[0])) IS NOT NULL",
                    "\(quoteIdentifier(chosen[0])) > 0",
                    "typeof(\(quoteIdentifier(chosen[0]))) = 'text'",
                ])
                : nil
            result.append(Index(
                name: "\(table.name)_i\(number)", table: table.name, columns: chosen,
                unique: unique, predicate: predicate))
        }
        return result
    }
}

extension TableKey {
    /// Columns that take no extra constraints of their own.
    var columnsForConstraints: [Int] {
        switch self {
        case .rowid: []
        case .integerPrimaryKey(let column): [column]
        case .primaryKey(let columns): columns
        }
    }
}
