import StressSQLite

/// `query-consistency`: cheap metamorphic checks. `count(*)` equals the counts
/// where a random predicate `p` is true, false and NULL; every index lookup
/// equals a scan that does not use the index. Values taken from the table are
/// bound, never spelled into the SQL (text may hold a NUL).
extension Checker {
    func queryConsistency(_ schema: Schema, using rng: inout RandomSource) throws -> PropertyResult {
        var violations: [Violation] = []
        var predicates = 0, lookups = 0
        // Tables as the schema has them (one that is not is `schema`'s to report).
        let tables = try schema.tables.filter { try hasColumns(of: TrackedTable($0)) }
        guard !tables.isEmpty else { return result(.queryConsistency, checked: "no tables", []) }
        for _ in 0..<8 {
            let table = rng.pick(tables)
            let name = "main." + quoteIdentifier(table.name)
            let column = quoteIdentifier(rng.pick(table.columns).name)
            // A value taken from the table itself, so predicates select something.
            let offset = rng.below(64)
            let value = try connection.scalar("SELECT \(column) FROM \(name) NOT INDEXED LIMIT 1 OFFSET \(offset)") ?? .integer(0)
            let p = rng.pick(["\(column) = ?1", "\(column) > ?1", "\(column) <= ?1", "\(column) IS ?1"])
            let all = try count("SELECT count(*) FROM \(name)")
            let yes = try count("SELECT count(*) FROM \(name) WHERE \(p)", [value])
            let no = try count("SELECT count(*) FROM \(name) WHERE NOT (\(p))", [value])
            let unknown = try count("SELECT count(*) FROM \(name) WHERE (\(p)) IS NULL", [value])
            predicates += 1
            if all != yes + no + unknown {
                violations.append(violation(
                    .queryConsistency, "count(*) of \(table.name) is not the sum of the counts where p, NOT p, and p IS NULL",
                    ["table": table.name, "predicate": p.replacing("?1", with: value.sqlLiteral), "expected": String(all),
                     "actual": "\(yes) + \(no) + \(unknown)"]))
            }
        }
        // Every index against a scan that does not use it, as the database defines
        // the index (how that differs from the schema is `schema`'s to report).
        for table in tables {
            let name = "main." + quoteIdentifier(table.name)
            let key = TrackedTable(table).keyExpression("t")
            // Probe values come from rows that exist (a value that matches no row proves little).
            let rows = max(1, Int(try count("SELECT count(*) FROM \(name)")))
            let indexes = try connection.query(
                "SELECT name, sql FROM main.sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                [.text(table.name)])
            for index in indexes {
                guard case .text(let indexName) = index[0], case .text(let sql) = index[1] else { continue }
                // The leading term: a column, or an expression (SQLite names none; the schema knows it).
                let first = try connection.scalar("SELECT name FROM pragma_index_xinfo(?) WHERE key ORDER BY seqno", [.text(indexName)])
                let term: String
                if case .text(let column)? = first {
                    term = quoteIdentifier(column)
                } else if let known = table.indexes.first(where: { $0.name == indexName }), case .expression = known.terms[0] {
                    term = known.render(known.terms[0], of: table, in: schema)
                } else {
                    continue
                }
                let value = try connection.scalar(
                    "SELECT (\(term)) FROM \(name) NOT INDEXED LIMIT 1 OFFSET \(rng.below(32) % rows)") ?? .integer(1)
                var predicate = "(\(term)) IS ?1"
                // A partial index is usable only where its own WHERE clause holds.
                if let range = sql.ranges(of: ") WHERE ").last {
                    predicate = "(\(sql[range.upperBound...])) AND " + predicate
                }
                // Count and key range of the matching rows, through the index and around it.
                func probe(_ access: String) throws -> [SQLValue] {
                    try connection.query(
                        "SELECT count(*), min(k), max(k), total(length(k)) FROM (SELECT \(key) AS k "
                            + "FROM \(name) AS t \(access) WHERE \(predicate))", [value])[0]
                }
                let indexed = try probe("INDEXED BY \(quoteIdentifier(indexName))")
                let scanned = try probe("NOT INDEXED")
                lookups += 1
                if indexed != scanned {
                    violations.append(violation(
                        .queryConsistency, "a lookup through index \(indexName) and a scan of \(table.name) disagree",
                        ["table": table.name, "index": indexName, "predicate": predicate.replacing("?1", with: value.sqlLiteral),
                         "expected": "scan: \(scanned.map { "\($0)" }.joined(separator: ", "))",
                         "actual": "index: \(indexed.map { "\($0)" }.joined(separator: ", "))"]))
                }
            }
        }
        return result(.queryConsistency, checked: Format.count(predicates, "predicate") + ", " + Format.count(lookups, "index lookup"), violations)
    }
}
