import StressSQLite

/// `schema`: `sqlite_schema` is what the committed schema changes imply — the
/// schema recorded in `stress_meta`, which each change rewrites in its own
/// transaction — and the ledger records every one of those changes, numbered
/// 1 … the schema's version, in commit order. A change rolled back leaves no
/// trace; a committed one is there. Records a compaction removed (1 … the
/// `schema_compacted_through` mark, see `Compaction`) are vouched for by the
/// mark and must stay gone; the ones after it must be there.
///
/// Objects are compared as SQLite describes them (`pragma_table_list`,
/// `pragma_table_xinfo`, `pragma_foreign_key_list`, `pragma_index_list`,
/// `pragma_index_xinfo`), not by their SQL text, which ALTER TABLE rewrites:
/// tables (columns in order with type, NOT NULL, default, key position and
/// generated kind; WITHOUT ROWID, STRICT; foreign keys; the indexes SQLite
/// makes for keys and UNIQUE), indexes (table, uniqueness, partiality, terms
/// and collations), views (columns) and triggers (table). SQLite's own tables
/// (`sqlite_sequence`, `sqlite_stat1`…) are not the workload's and are left out.
extension Checker {
    func schemaProperty(_ recorded: Schema) throws -> PropertyResult {
        var found = findings(.schema)
        try ledgerRecords(of: recorded, into: &found)
        let expected = SchemaShape.expected(recorded)
        let actual = try SchemaShape.actual(connection)
        for key in Set(expected.objects.keys).union(actual.objects.keys).sorted() {
            let (want, have) = (expected.objects[key], actual.objects[key])
            guard want != have else { continue }
            let (type, name) = (want?.type ?? have!.type, want?.name ?? have!.name)
            found.add {
                let message: String
                if have == nil {
                    message = "\(type) \(name) is missing from sqlite_schema, though the committed schema changes leave it there"
                } else if want == nil {
                    message = "\(type) \(name) is in sqlite_schema, but no committed schema change left it there"
                } else {
                    message = "\(type) \(name) is not what the committed schema changes made it"
                }
                let differing = SchemaShape.difference(want?.lines ?? [], have?.lines ?? [])
                return violation(.schema, message, [
                    "object": "\(type) \(name)", "expected": want == nil ? "(none)" : differing.expected,
                    "actual": have == nil ? "(none)" : differing.actual, "schema-version": String(recorded.version),
                ])
            }
        }
        return found.result(checked: "\(expected.objects.count) objects of schema version \(recorded.version)")
    }

    /// Every committed schema change has its ledger record: keys 1 … version,
    /// once each, but for those a compaction removed (1 … its mark), which are gone.
    private func ledgerRecords(of recorded: Schema, into found: inout Findings) throws {
        let mark = try connection.scalar("SELECT \(Compaction.schemaMark)")
        guard case .integer(let compacted) = mark, compacted >= 0, compacted <= recorded.version else {
            found.add {
                violation(
                    .schema, "stress_meta says compaction removed the records of schema changes 1 … \(Self.shown(mark ?? .null)), "
                        + "which the recorded schema (version \(recorded.version)) does not include",
                    ["schema-compacted-through": Self.shown(mark ?? .null), "schema-version": String(recorded.version)])
            }
            return
        }
        let statement = try connection.prepare(
            "SELECT key, count(*) FROM main.\(Bookkeeping.ledger) WHERE tbl = ? AND tx > 0 GROUP BY key ORDER BY key")
        statement.bind([.text(Bookkeeping.schemaMarker)])
        var next = Int(compacted) + 1
        func missing(upTo end: Int) {
            while next < end {
                let number = next
                found.add {
                    violation(
                        .schema, "schema change \(number) is in the recorded schema (version \(recorded.version)), but the ledger has no record of it",
                        ["schema-change": String(number), "schema-version": String(recorded.version)])
                }
                next += 1
            }
        }
        while try statement.step() {
            let key = statement.column(0), copies = statement.int64(1)
            guard case .integer(let number) = key, number >= 1, number <= recorded.version else {
                found.add {
                    violation(
                        .schema, "the ledger records schema change \(Self.shown(key)), which the recorded schema (version \(recorded.version)) does not include",
                        ["schema-change": Self.shown(key), "schema-version": String(recorded.version)])
                }
                continue
            }
            if number <= compacted {
                found.add {
                    violation(
                        .schema, "the ledger records schema change \(number), whose record a compaction removed (changes 1 … \(compacted))",
                        ["schema-change": String(number), "schema-compacted-through": String(compacted)])
                }
                continue
            }
            missing(upTo: Int(number))
            if copies > 1 {
                found.add {
                    violation(.schema, "the ledger records schema change \(number) \(copies) times", ["schema-change": String(number)])
                }
            }
            next = Int(number) + 1
        }
        missing(upTo: recorded.version + 1)
    }
}

/// The objects of a schema as SQLite's pragmas describe them, by `type name`.
struct SchemaShape: Equatable {
    struct Object: Equatable {
        var type: String
        var name: String
        var lines: [String]
    }

    var objects: [String: Object] = [:]

    private mutating func add(_ type: String, _ name: String, _ lines: [String]) {
        objects["\(type) \(name)"] = Object(type: type, name: name, lines: lines)
    }

    /// The first line where two descriptions differ, each side's.
    static func difference(_ expected: [String], _ actual: [String]) -> (expected: String, actual: String) {
        for index in 0..<max(expected.count, actual.count) {
            let want = index < expected.count ? expected[index] : "(nothing)"
            let have = index < actual.count ? actual[index] : "(nothing)"
            if want != have { return (want, have) }
        }
        return ("", "")
    }

    /// The bookkeeping every database carries.
    private static let bookkeeping = [
        ("table", Bookkeeping.meta), ("table", Bookkeeping.ledger), ("table", Bookkeeping.accounts),
        ("index", Bookkeeping.ledger + "_key"), ("table", Compaction.table), ("table", Compaction.foldedTable),
    ]

    /// What the recorded schema implies.
    static func expected(_ schema: Schema) -> SchemaShape {
        var shape = SchemaShape()
        for (type, name) in bookkeeping { shape.add(type, name, ["bookkeeping"]) }
        for table in schema.tables {
            var lines = ["without rowid \(table.withoutRowid ? 1 : 0), strict \(table.strict ? 1 : 0)"]
            for (cid, column) in table.columns.enumerated() {
                let pk = table.key.columns.firstIndex(of: column.id).map { $0 + 1 } ?? 0
                let hidden = column.generated.map { $0.stored ? 3 : 2 } ?? 0
                // A declared key of a WITHOUT ROWID or STRICT table is NOT NULL, said or not.
                let keyNotNull = pk > 0 && (table.withoutRowid || (table.strict && table.key != .integerPrimaryKey(column: column.id)))
                lines.append(columnLine(
                    cid: cid, name: column.name, type: column.type.rawValue, notNull: column.notNull || keyNotNull,
                    defaultValue: column.defaultValue?.sqlLiteral, pk: pk, hidden: hidden))
            }
            lines += table.columns.compactMap { column in
                column.references.map { reference in
                    let parent = schema.table(id: reference.table)
                    return foreignKeyLine(
                        from: column.name, table: parent?.name ?? "?", to: parent?.column(id: reference.column)?.name ?? "?",
                        onUpdate: reference.onUpdate.rawValue, onDelete: reference.onDelete.rawValue)
                }
            }.sorted()
            var automatic = table.columns.filter(\.unique).map { automaticIndexLine(origin: "u", columns: [$0.name]) }
            if case .primaryKey = table.key { automatic.append(automaticIndexLine(origin: "pk", columns: table.keyColumns.map(\.name))) }
            lines += automatic.sorted()
            shape.add("table", table.name, lines)
            if table.needsOracleIndex {
                shape.add("index", table.oracleIndexName, indexLines(
                    table: table.name, unique: false, partial: false, terms: [termLine(Bookkeeping.tagColumn, collation: nil)]))
            }
            for index in table.indexes {
                let terms = index.terms.map { term -> String in
                    switch term {
                    case .column(let id):
                        let column = table.column(id: id)
                        return termLine(column?.name ?? "?", collation: column?.collation?.rawValue)
                    case .expression: return termLine(nil, collation: nil)
                    }
                }
                shape.add("index", index.name, indexLines(table: table.name, unique: index.unique, partial: index.predicate != nil, terms: terms))
            }
        }
        for view in schema.views { shape.add("view", view.name, view.columns.map { "column \($0)" }) }
        for trigger in schema.triggers { shape.add("trigger", trigger.name, ["on \(schema.table(id: trigger.table)?.name ?? "?")"]) }
        return shape
    }

    /// What the database holds.
    static func actual(_ connection: Connection) throws -> SchemaShape {
        var shape = SchemaShape()
        let bookkept = Set(bookkeeping.map { "\($0.0) \($0.1)" })
        let objects = try connection.query(
            #"SELECT type, name, tbl_name FROM main.sqlite_schema WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY type, name"#)
        for object in objects {
            guard case .text(let type) = object[0], case .text(let name) = object[1], case .text(let table) = object[2] else { continue }
            if bookkept.contains("\(type) \(name)") {
                shape.add(type, name, ["bookkeeping"])
                continue
            }
            switch type {
            case "table": shape.add(type, name, try tableLines(name, connection))
            case "index": shape.add(type, name, try indexLines(name, table: table, connection))
            case "view": shape.add(type, name, try connection.query("SELECT name FROM pragma_table_xinfo(?)", [.text(name)]).map { "column \(text($0[0]))" })
            default: shape.add(type, name, ["on \(table)"])
            }
        }
        return shape
    }

    private static func tableLines(_ name: String, _ connection: Connection) throws -> [String] {
        let options = try connection.query("SELECT wr, strict FROM pragma_table_list(?) WHERE schema = 'main'", [.text(name)])
        var lines = ["without rowid \(options.first.map { text($0[0]) } ?? "?"), strict \(options.first.map { text($0[1]) } ?? "?")"]
        for row in try connection.query(#"SELECT cid, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid"#, [.text(name)]) {
            lines.append(columnLine(
                cid: Int(integer(row[0])), name: text(row[1]), type: text(row[2]), notNull: integer(row[3]) != 0,
                defaultValue: row[4] == .null ? nil : text(row[4]), pk: Int(integer(row[5])), hidden: Int(integer(row[6]))))
        }
        lines += try connection.query(#"SELECT "from", "table", "to", on_update, on_delete FROM pragma_foreign_key_list(?)"#, [.text(name)])
            .map { foreignKeyLine(from: text($0[0]), table: text($0[1]), to: text($0[2]), onUpdate: text($0[3]), onDelete: text($0[4])) }
            .sorted()
        var automatic: [String] = []
        for index in try connection.query("SELECT name, origin FROM pragma_index_list(?) WHERE origin <> 'c'", [.text(name)]) {
            let columns = try connection.query("SELECT name FROM pragma_index_xinfo(?) WHERE key ORDER BY seqno", [index[0]])
            automatic.append(automaticIndexLine(origin: text(index[1]), columns: columns.map { text($0[0]) }))
        }
        return lines + automatic.sorted()
    }

    private static func indexLines(_ name: String, table: String, _ connection: Connection) throws -> [String] {
        let list = try connection.query(#"SELECT "unique", partial FROM pragma_index_list(?) WHERE name = ?"#, [.text(table), .text(name)])
        let terms = try connection.query("SELECT name, coll FROM pragma_index_xinfo(?) WHERE key ORDER BY seqno", [.text(name)])
            .map { termLine($0[0] == .null ? nil : text($0[0]), collation: $0[0] == .null ? nil : text($0[1])) }
        return indexLines(
            table: table, unique: list.first.map { integer($0[0]) != 0 } ?? false, partial: list.first.map { integer($0[1]) != 0 } ?? false,
            terms: terms)
    }

    // MARK: - One spelling of each line for both sides

    private static func columnLine(
        cid: Int, name: String, type: String, notNull: Bool, defaultValue: String?, pk: Int, hidden: Int
    ) -> String {
        "column \(cid): \(name) type '\(type)' not null \(notNull ? 1 : 0) default \(defaultValue ?? "none") key \(pk) generated \(hidden)"
    }

    private static func foreignKeyLine(from: String, table: String, to: String, onUpdate: String, onDelete: String) -> String {
        "foreign key \(from) references \(table)(\(to)) on update \(onUpdate) on delete \(onDelete)"
    }

    private static func automaticIndexLine(origin: String, columns: [String]) -> String {
        "automatic \(origin == "pk" ? "primary key" : "unique") index (\(columns.joined(separator: ", ")))"
    }

    private static func indexLines(table: String, unique: Bool, partial: Bool, terms: [String]) -> [String] {
        ["on \(table), unique \(unique ? 1 : 0), partial \(partial ? 1 : 0)"] + terms
    }

    /// An index term: a column with its collation (which SQLite spells as declared), or an expression.
    private static func termLine(_ column: String?, collation: String?) -> String {
        guard let column else { return "term (expression)" }
        return "term \(column) collate \((collation ?? "BINARY").uppercased())"
    }

    private static func text(_ value: SQLValue) -> String {
        switch value {
        case .text(let text): text
        case .integer(let integer): String(integer)
        default: "\(value)"
        }
    }

    private static func integer(_ value: SQLValue) -> Int64 {
        if case .integer(let integer) = value { return integer }
        return -1
    }
}
