import StressSQLite

/// `query-consistency`: cheap metamorphic checks. `count(*)` equals the counts
/// where a random predicate `p` is true, false and NULL; every index lookup
/// equals a scan that does not use the index.
extension Checker {
    func queryConsistency(_ tables: [TrackedTable], using rng: inout RandomSource) throws -> PropertyResult {
        var violations: [Violation] = []
        var predicates = 0, lookups = 0
        let user = tables.filter { $0.name != Bookkeeping.accounts }
        guard !user.isEmpty else { return result(.queryConsistency, checked: "no tables", []) }
        for _ in 0..<8 {
            let table = rng.pick(user)
            let name = "main." + quoteIdentifier(table.name)
            let column = quoteIdentifier(rng.pick(table.columns))
            // A value taken from the table itself, so predicates select something.
            let offset = rng.below(64)
            let value = try connection.scalar("SELECT \(column) FROM \(name) NOT INDEXED LIMIT 1 OFFSET \(offset)") ?? .integer(0)
            let p = rng.pick(["\(column) = \(value.sqlLiteral)", "\(column) > \(value.sqlLiteral)",
                              "\(column) <= \(value.sqlLiteral)", "\(column) IS \(value.sqlLiteral)"])
            let all = try count("SELECT count(*) FROM \(name)")
            let yes = try count("SELECT count(*) FROM \(name) WHERE \(p)")
            let no = try count("SELECT count(*) FROM \(name) WHERE NOT (\(p))")
            let unknown = try count("SELECT count(*) FROM \(name) WHERE (\(p)) IS NULL")
            predicates += 1
            if all != yes + no + unknown {
                violations.append(violation(
                    .queryConsistency, "count(*) of \(table.name) is not the sum of the counts where p, NOT p, and p IS NULL",
                    ["table": table.name, "predicate": p, "expected": String(all), "actual": "\(yes) + \(no) + \(unknown)"]))
            }
        }
        // Every index against a scan that does not use it.
        for table in user {
            let indexes = try connection.query(
                "SELECT name, sql FROM main.sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                [.text(table.name)])
            for index in indexes {
                guard case .text(let indexName) = index[0], case .text(let sql) = index[1] else { continue }
                let columns = try connection.query("SELECT name FROM pragma_index_info(?) ORDER BY seqno", [.text(indexName)])
                guard case .text(let first)? = columns.first?[0] else { continue }
                let name = "main." + quoteIdentifier(table.name)
                let value = try connection.scalar(
                    "SELECT \(quoteIdentifier(first)) FROM \(name) NOT INDEXED LIMIT 1 OFFSET \(rng.below(32))") ?? .integer(1)
                var predicate = "\(quoteIdentifier(first)) IS \(value.sqlLiteral)"
                // A partial index is usable only where its own WHERE clause holds.
                if let range = sql.ranges(of: ") WHERE ").last {
                    predicate = "(\(sql[range.upperBound...])) AND " + predicate
                }
                // Count and key range of the matching rows, through the index and around it.
                func probe(_ access: String) throws -> [SQLValue] {
                    try connection.query(
                        "SELECT count(*), min(k), max(k), total(length(k)) FROM (SELECT \(table.keyExpression("t")) AS k "
                            + "FROM \(name) AS t \(access) WHERE \(predicate))")[0]
                }
                let indexed = try probe("INDEXED BY \(quoteIdentifier(indexName))")
                let scanned = try probe("NOT INDEXED")
                lookups += 1
                if indexed != scanned {
                    violations.append(violation(
                        .queryConsistency, "a lookup through index \(indexName) and a scan of \(table.name) disagree",
                        ["table": table.name, "index": indexName, "predicate": predicate,
                         "expected": "scan: \(scanned.map { "\($0)" }.joined(separator: ", "))",
                         "actual": "index: \(indexed.map { "\($0)" }.joined(separator: ", "))"]))
                }
            }
        }
        return result(.queryConsistency, checked: "\(predicates) predicates, \(lookups) index lookups", violations)
    }
}
