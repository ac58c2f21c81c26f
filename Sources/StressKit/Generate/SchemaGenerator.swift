import StressSQLite

/// Draws random schemas: 1–10 tables of 1–10 columns, every declared type,
/// rowid tables with and without INTEGER PRIMARY KEY (now and then
/// AUTOINCREMENT), non-integer and composite keys, WITHOUT ROWID and STRICT
/// tables, NOT NULL / UNIQUE / CHECK / DEFAULT, COLLATE NOCASE and RTRIM,
/// generated columns (VIRTUAL and STORED), JSON columns, foreign keys with
/// CASCADE and SET NULL actions, single, composite, partial, unique and
/// expression indexes (`json_extract` among them), views, and the user's own
/// triggers writing audit tables.
public enum SchemaGenerator {
    /// A schema of `tableCount` tables (1…10), or a random count when nil.
    public static func generate(tableCount: Int? = nil, using rng: inout some RandomNumberGenerator) -> Schema {
        let count = tableCount ?? rng.int(in: 1...10)
        var schema = Schema(tables: [], nextName: count)
        for number in 0..<count {
            schema.tables.append(table(named: "t\(number)", parents: schema.tables, using: &rng))
        }
        if rng.chance(0.35) { addAudit(to: &schema, using: &rng) }
        for _ in 0..<rng.int(in: 0...2) where rng.chance(0.5) {
            if let view = view(in: &schema, using: &rng) { schema.views.append(view) }
        }
        return schema
    }

    /// A new table named `name`; its foreign keys may reference `parents`.
    static func table(named name: String, parents: [Table], using rng: inout some RandomNumberGenerator) -> Table {
        let strict = rng.chance(0.15)
        let types = strict ? ColumnType.strict : ColumnType.ordinary
        let columnCount = rng.int(in: 1...10)
        var columns = (0..<columnCount).map { Column(id: $0, name: "c\($0)", type: rng.pick(types)) }

        // Shape of the key. WITHOUT ROWID needs a declared primary key.
        let key: TableKey
        var withoutRowid = false
        var autoincrement = false
        switch rng.below(4) {
        case 0:
            key = .rowid
        case 1:
            let column = rng.below(columnCount)
            columns[column].type = .integer
            key = .integerPrimaryKey(column: column)
            autoincrement = rng.chance(0.3)
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
                columns[chosen[0]].type = rng.pick(types.filter { $0 != .integer })
            }
            key = .primaryKey(columns: chosen)
        }
        let keys = Set(key.columns)
        for index in columns.indices {
            if keys.contains(index) {
                // Text keys under NOCASE or RTRIM: two spellings, one key.
                if columns[index].type.holdsText, rng.chance(0.2) { columns[index].collation = rng.pick(Collation.allCases) }
            } else {
                constrain(&columns[index], of: name, using: &rng)
            }
        }
        var table = Table(
            id: name, name: name, columns: columns, key: key, withoutRowid: withoutRowid, strict: strict,
            autoincrement: autoincrement, indexes: [], keySpace: rng.pick([8, 32, 100, 400, 2000]), nextColumn: columnCount)

        // A JSON column, usually indexed by a value inside it.
        var jsonColumn: Int?
        if rng.chance(0.2), let index = rng.pickIfAny(table.columns.indices.filter { !keys.contains($0) && !table.columns[$0].isTag }) {
            table.columns[index].type = strict ? .text : rng.pick([.text, .untyped])
            table.columns[index].json = true
            table.columns[index].collation = nil
            table.columns[index].check = nil
            table.columns[index].unique = false
            table.columns[index].defaultValue = table.columns[index].notNull ? .text("{}") : nil
            jsonColumn = table.columns[index].id
        }
        // A foreign key to an earlier table's single-column key.
        if rng.chance(0.3), let parent = rng.pickIfAny(parents.filter { $0.key.columns.count == 1 }) {
            let parentKey = parent.keyColumns[0]
            var child = Column(id: table.nextColumn, name: "c\(table.nextColumn)", type: strict && parentKey.type == .numeric ? .any : parentKey.type)
            if strict && child.type == .untyped { child.type = .any }
            child.references = ForeignKey(
                table: parent.id, column: parentKey.id, onDelete: rng.pick(ForeignKeyAction.allCases),
                onUpdate: rng.pick(ForeignKeyAction.allCases), parentType: parentKey.type, parentKeySpace: parent.keySpace)
            table.nextColumn += 1
            table.columns.append(child)
        }
        // Generated columns over a column the workload writes.
        for _ in 0..<(rng.chance(0.25) ? rng.int(in: 1...2) : 0) {
            let source = rng.pick(table.writable)
            let ref = ColumnRef(table: table.id, id: source.id)
            let expression: SQLTemplate = source.json
                ? "json_extract(\(ref), '$.b')"
                : rng.pick(["typeof(\(ref))", "length(\(ref))", "\(ref) IS NOT NULL", "lower(\(ref))", "coalesce(\(ref), 'none')"])
            var generated = Column(id: table.nextColumn, name: "c\(table.nextColumn)", type: strict ? .any : .untyped)
            generated.generated = Generated(expression: expression, stored: rng.chance(0.5))
            table.nextColumn += 1
            table.columns.append(generated)
        }
        table.columns.append(.tag(id: table.nextColumn))
        table.nextColumn += 1

        table.indexes = (0..<rng.int(in: 0...3)).map { index(named: "\(name)_i\($0)", for: table, using: &rng) }
        if let jsonColumn, rng.chance(0.7) {
            let ref = ColumnRef(table: table.id, id: jsonColumn)
            table.indexes.append(Index(
                name: "\(name)_i\(table.indexes.count)", terms: [.expression("json_extract(\(ref), '$.a')")],
                unique: false, predicate: rng.chance(0.3) ? "\(ref) IS NOT NULL" : nil))
        }
        return table
    }

    private static func constrain(_ column: inout Column, of table: String, using rng: inout some RandomNumberGenerator) {
        if rng.chance(0.15) {
            column.notNull = true
            // Usually with a default, so OR REPLACE on NULL has something to use.
            if rng.chance(0.7) { column.defaultValue = ValueGenerator.defaultValue(for: column.type, using: &rng) }
        } else if rng.chance(0.2) {
            column.defaultValue = ValueGenerator.defaultValue(for: column.type, using: &rng)
        }
        if rng.chance(0.1) { column.unique = true }
        if column.type.holdsText, rng.chance(0.15) { column.collation = rng.pick(Collation.allCases) }
        if rng.chance(0.15) {
            let ref = ColumnRef(table: table, id: column.id)
            column.check = rng.pick([
                "\(ref) IS NULL OR length(\(ref)) < 3000",
                "\(ref) IS NULL OR typeof(\(ref)) <> 'blob' OR length(\(ref)) < 20000",
                "\(ref) IS NULL OR \(ref) <> 13",
                "\(ref) IS NULL OR NOT (typeof(\(ref)) IN ('integer', 'real') AND \(ref) < -1000000000)",
                "\(ref) IS NOT 'forbidden'",
            ] as [SQLTemplate])
        }
    }

    /// An index of 1–3 terms (a column, or now and then an expression over one), sometimes partial or unique.
    static func index(named name: String, for table: Table, using rng: inout some RandomNumberGenerator) -> Index {
        let candidates = table.userColumns
        let width = min(candidates.count, rng.chance(0.6) ? 1 : rng.int(in: 2...3))
        var chosen: [Int] = []
        while chosen.count < width {
            let id = rng.pick(candidates).id
            if !chosen.contains(id) { chosen.append(id) }
        }
        let terms = chosen.map { id -> IndexTerm in
            let ref = ColumnRef(table: table.id, id: id)
            if table.column(id: id)?.json == true { return .expression("json_extract(\(ref), '$.a')") }
            guard rng.chance(0.2) else { return .column(id) }
            return .expression(rng.pick(["lower(\(ref))", "length(\(ref))", "typeof(\(ref))", "\(ref) || ''"] as [SQLTemplate]))
        }
        let first = ColumnRef(table: table.id, id: chosen[0])
        let predicate: SQLTemplate? = rng.chance(0.3)
            ? rng.pick(["\(first) IS NOT NULL", "\(first) > 0", "typeof(\(first)) = 'text'"] as [SQLTemplate])
            : nil
        return Index(name: name, terms: terms, unique: rng.chance(0.25), predicate: predicate)
    }

    /// An audit table and the triggers that fill it from another table's writes:
    /// the user's own triggers, whose writes the ledger must see too.
    static func addAudit(to schema: inout Schema, using rng: inout some RandomNumberGenerator) {
        guard let source = rng.pickIfAny(schema.tables) else { return }
        let id = schema.freshName("t")
        let audit = Table(
            id: id, name: id,
            columns: [Column(id: 0, name: "c0", type: .integer), Column(id: 1, name: "c1", type: .text),
                      Column(id: 2, name: "c2", type: .untyped), Column(id: 3, name: "c3", type: .untyped), .tag(id: 4)],
            key: .integerPrimaryKey(column: 0), withoutRowid: false, autoincrement: true, indexes: [], keySpace: 100,
            nextColumn: 5)
        schema.tables.append(audit)
        let watched = rng.pickIfAny(source.writable.filter { !$0.json }) ?? source.writable.first
        for event in UserTrigger.Event.allCases where rng.chance(0.7) {
            schema.triggers.append(UserTrigger(
                name: schema.freshName("g"), table: source.id, target: id, event: event,
                body: auditBody(event, source: source, watched: watched, audit: audit)))
        }
        if !schema.triggers.contains(where: { $0.target == id }) {
            schema.triggers.append(UserTrigger(
                name: schema.freshName("g"), table: source.id, target: id, event: .insert,
                body: auditBody(.insert, source: source, watched: watched, audit: audit)))
        }
    }

    /// `INSERT INTO audit (op, ref, val, tag) VALUES (…)` from the row the trigger fired for.
    private static func auditBody(_ event: UserTrigger.Event, source: Table, watched: Column?, audit: Table) -> SQLTemplate {
        let row = event == .delete ? "OLD." : "NEW."
        let keyTemplate: SQLTemplate = source.key.columns.first.map { "\(row)\(ColumnRef(table: source.id, id: $0))" }
            ?? "\(row)rowid"
        let value: SQLTemplate = watched.map { "\(row)\(ColumnRef(table: source.id, id: $0.id))" } ?? "NULL"
        let tag = ColumnRef(table: source.id, id: source.columns.first { $0.isTag }!.id)
        let columns = (1...4).map { ColumnRef(table: audit.id, id: $0) }
        return "INSERT INTO \(table: audit.id) (\(columns[0]), \(columns[1]), \(columns[2]), \(columns[3])) "
            + "VALUES ('\(event.rawValue.lowercased())', \(keyTemplate), \(value), \(row)\(tag))"
    }

    /// A view over one table (a filtered projection) or over a child and its
    /// parent (a join on the foreign key). Column references are qualified, so
    /// the join's same-named columns are never ambiguous.
    static func view(in schema: inout Schema, using rng: inout some RandomNumberGenerator) -> View? {
        guard let table = rng.pickIfAny(schema.tables) else { return nil }
        let name = schema.freshName("v")
        let child = table.columns.first { $0.references != nil }
        if let child, let reference = child.references, let parent = schema.table(id: reference.table), rng.chance(0.6) {
            let parentValue = rng.pick(parent.userColumns)
            let childValue = rng.pick(table.userColumns)
            return View(
                name: name, columns: ["a0", "a1", "a2"],
                select: "SELECT x.\(ColumnRef(table: table.id, id: child.id)) AS a0, x.\(ColumnRef(table: table.id, id: childValue.id)) AS a1, "
                    + "y.\(ColumnRef(table: parent.id, id: parentValue.id)) AS a2 FROM \(table: table.id) AS x "
                    + "JOIN \(table: parent.id) AS y ON y.\(ColumnRef(table: parent.id, id: reference.column)) = x.\(ColumnRef(table: table.id, id: child.id))")
        }
        let shown = rng.sample(table.userColumns, count: rng.int(in: 1...3))
        var select: SQLTemplate = "SELECT "
        for (position, column) in shown.enumerated() {
            select = "\(select)\(position > 0 ? ", " : "")x.\(ColumnRef(table: table.id, id: column.id)) AS a\(String(position))"
        }
        let filter = rng.pick(shown)
        select = "\(select) FROM \(table: table.id) AS x WHERE x.\(ColumnRef(table: table.id, id: filter.id)) IS NOT NULL"
        return View(name: name, columns: shown.indices.map { "a\($0)" }, select: select)
    }
}

extension ColumnType {
    /// Whether the column can hold text that a collation compares.
    var holdsText: Bool { [.text, .untyped, .any].contains(self) }
}
