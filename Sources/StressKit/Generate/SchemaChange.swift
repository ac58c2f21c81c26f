import StressSQLite

/// The schema changes the workload makes while writers run.
public enum SchemaChangeKind: String, CaseIterable, Sendable, Codable, CodingKeyRepresentable {
    case createTable = "create-table"
    case dropTable = "drop-table"
    case createIndex = "create-index"
    case dropIndex = "drop-index"
    /// ALTER TABLE … ADD COLUMN, with or without a default.
    case addColumn = "add-column"
    case renameColumn = "rename-column"
    case dropColumn = "drop-column"
    /// ALTER TABLE … RENAME TO.
    case renameTable = "rename-table"
    /// One of the changes above, inside a transaction or a savepoint that is then
    /// rolled back (with writes before and after it): it must leave no trace.
    case rollback = "schema-rollback"

    /// The changes that alter the schema (all but `rollback`, which wraps one of them).
    public static let changes = allCases.filter { $0 != .rollback }
}

/// One schema change, drawn for the schema as it is (read inside the change's
/// own transaction, so it is valid when it runs): the statements that make it,
/// the schema after it, and the ledger rewrite it needs so the ledger's latest
/// image of every row stays in the table's layout.
public struct SchemaChange: Sendable, Hashable {
    public var kind: SchemaChangeKind
    public var statements: [String]
    /// The schema once the change has committed (its `version` counts it).
    public var schema: Schema
    public var rebase: Rebase?

    /// How the ledger's latest images of a table's rows change with its layout.
    /// Renames need nothing: images hold no names, and the ledger names tables by identity.
    public enum Rebase: Sendable, Hashable {
        /// ADD COLUMN: every live image gains `field` (the default as SQLite
        /// stores it, rendered as the image renders it) at the end.
        case append(table: String, field: [UInt8])
        /// DROP COLUMN: every live image loses the field at `position`.
        case remove(table: String, position: Int, columns: Int)
    }

    /// Most tables, columns and indexes the workload makes, so a long run of
    /// schema changes keeps a schema of bounded size.
    static let maxTables = 16
    static let maxColumns = 24
    static let maxIndexes = 8

    /// A change of `kind` for `schema`, or nil when the schema allows none
    /// (nothing left to drop, or a limit reached). `rollback` is not drawn here:
    /// it wraps a change of another kind.
    public static func draw(
        _ kind: SchemaChangeKind, in schema: Schema, using rng: inout some RandomNumberGenerator
    ) -> SchemaChange? {
        var after = schema
        after.version += 1
        switch kind {
        case .rollback:
            return nil
        case .createTable:
            guard schema.tables.count < maxTables else { return nil }
            let table = SchemaGenerator.table(named: after.freshName("t"), parents: schema.tables, using: &rng)
            after.tables.append(table)
            return SchemaChange(kind: kind, statements: table.createStatements(in: after), schema: after)
        case .dropTable:
            // A table something else reads (a child's foreign key, a view, a trigger
            // elsewhere) stays; so does the last one.
            guard schema.tables.count > 1, let table = rng.pickIfAny(schema.tables.filter({ !schema.isReferenced($0.id) })) else {
                return nil
            }
            after.tables.removeAll { $0.id == table.id }
            after.triggers.removeAll { $0.table == table.id }  // DROP TABLE drops its triggers.
            return SchemaChange(kind: kind, statements: ["DROP TABLE \(quoteIdentifier(table.name))"], schema: after)
        case .createIndex:
            guard let position = rng.pickIfAny(schema.tables.indices.filter({ schema.tables[$0].indexes.count < maxIndexes })) else {
                return nil
            }
            let index = SchemaGenerator.index(named: after.freshName("i"), for: schema.tables[position], using: &rng)
            after.tables[position].indexes.append(index)
            return SchemaChange(
                kind: kind, statements: [index.createSQL(on: after.tables[position], in: after)], schema: after)
        case .dropIndex:
            let indexes = schema.tables.indices.flatMap { table in schema.tables[table].indexes.indices.map { (table, $0) } }
            guard let (table, index) = rng.pickIfAny(indexes) else { return nil }
            let name = schema.tables[table].indexes[index].name
            after.tables[table].indexes.remove(at: index)
            return SchemaChange(kind: kind, statements: ["DROP INDEX \(quoteIdentifier(name))"], schema: after)
        case .addColumn:
            guard let position = rng.pickIfAny(schema.tables.indices.filter({ schema.tables[$0].columns.count < maxColumns })) else {
                return nil
            }
            var table = after.tables[position]
            let column = addedColumn(to: table, using: &rng)
            table.columns.append(column)
            table.nextColumn += 1
            after.tables[position] = table
            return SchemaChange(
                kind: kind,
                statements: ["ALTER TABLE \(quoteIdentifier(table.name)) ADD COLUMN \(column.definition(in: after))"],
                schema: after, rebase: .append(table: table.id, field: RowImage.render(column.defaultValue ?? .null)))
        case .renameColumn:
            let columns = schema.tables.indices.flatMap { table in
                schema.tables[table].columns.indices.filter { !schema.tables[table].columns[$0].isTag }.map { (table, $0) }
            }
            guard let (table, column) = rng.pickIfAny(columns) else { return nil }
            let old = schema.tables[table].columns[column].name
            let new = "c\(after.tables[table].nextColumn)"
            after.tables[table].nextColumn += 1
            after.tables[table].columns[column].name = new
            return SchemaChange(
                kind: kind,
                statements: ["ALTER TABLE \(quoteIdentifier(schema.tables[table].name)) RENAME COLUMN \(quoteIdentifier(old)) TO \(quoteIdentifier(new))"],
                schema: after)
        case .dropColumn:
            let columns = schema.tables.indices.flatMap { table in
                droppableColumns(schema.tables[table], in: schema).map { (table, $0) }
            }
            guard let (table, column) = rng.pickIfAny(columns) else { return nil }
            let dropped = schema.tables[table].columns[column]
            after.tables[table].columns.remove(at: column)
            return SchemaChange(
                kind: kind,
                statements: ["ALTER TABLE \(quoteIdentifier(schema.tables[table].name)) DROP COLUMN \(quoteIdentifier(dropped.name))"],
                schema: after,
                rebase: .remove(table: schema.tables[table].id, position: column, columns: schema.tables[table].columns.count))
        case .renameTable:
            guard let position = rng.pickIfAny(Array(schema.tables.indices)) else { return nil }
            let old = schema.tables[position].name
            after.tables[position].name = after.freshName("t")
            return SchemaChange(
                kind: kind,
                statements: ["ALTER TABLE \(quoteIdentifier(old)) RENAME TO \(quoteIdentifier(after.tables[position].name))"],
                schema: after)
        }
    }

    /// Columns DROP COLUMN accepts and the workload may drop: not the tag, not
    /// part of the key, not UNIQUE, and read by nothing else (an index, a
    /// generated column, a foreign key, a view or a trigger); and never the last
    /// column but the tag.
    static func droppableColumns(_ table: Table, in schema: Schema) -> [Int] {
        guard table.userColumns.count > 1 else { return [] }
        let keys = Set(table.key.columns)
        let referenced = schema.referencedColumns(of: table)
        return table.columns.indices.filter { index in
            let column = table.columns[index]
            return !column.isTag && !keys.contains(column.id) && !column.unique && !referenced.contains(column.id)
        }
    }

    /// A column ADD COLUMN accepts: a fresh name, a type the table allows, and
    /// now and then a default (required with NOT NULL) and a collation. The
    /// default is a literal of the column's own storage class, so what SQLite
    /// stores for the table's existing rows is the literal itself (no affinity
    /// conversion to predict) and the ledger can be rebased with it.
    static func addedColumn(to table: Table, using rng: inout some RandomNumberGenerator) -> Column {
        var column = Column(
            id: table.nextColumn, name: "c\(table.nextColumn)",
            type: rng.pick(table.strict ? ColumnType.strict : ColumnType.ordinary))
        if rng.chance(0.5) {
            column.defaultValue = ValueGenerator.addedColumnDefault(for: column.type, using: &rng)
            column.notNull = rng.chance(0.25)
        }
        if column.type.holdsText, rng.chance(0.2) { column.collation = rng.pick(Collation.allCases) }
        return column
    }
}
