import Foundation
import StressSQLite

/// The properties the oracle checks, by their stable names.
public enum Property: String, CaseIterable, Sendable, Codable {
    case integrity
    case model
    case rollback
    case durability
    case conservation
    case queryConsistency = "query-consistency"
}

/// The outcome of one property in one check.
public struct PropertyResult: Sendable, Codable {
    public enum Status: String, Sendable, Codable { case pass, fail, skipped }
    public var property: Property
    public var status: Status
    /// What was examined, e.g. "3 tables, 1200 rows, 5000 ledger entries".
    public var checked: String
    public var violations: [Violation]
    /// Violations beyond those listed.
    public var moreViolations: Int
}

/// All properties of one check.
public struct CheckReport: Sendable, Codable {
    public var results: [PropertyResult]
    public var passed: Bool { results.allSatisfy { $0.status != .fail } }
    public var violations: [Violation] { results.flatMap(\.violations) }

    public func result(_ property: Property) -> PropertyResult? { results.first { $0.property == property } }

    /// A table of properties, one line each.
    public var table: String {
        var lines = ["property           result   checked"]
        for result in results {
            lines.append(result.property.rawValue.padding(toLength: 19, withPad: " ", startingAt: 0)
                + result.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + result.checked)
        }
        return lines.joined(separator: "\n")
    }
}

/// Reconciles a database against its ledger, acknowledgements and invariants,
/// inside one read transaction so every property sees one snapshot while
/// writers go on.
///
/// Streams: the comparison of contents against the ledger is one SQL query per
/// table that SQLite evaluates with its own temporary b-trees; only violations
/// (at most `maxListed` per property) are held in memory.
public final class Checker {
    public let connection: Connection
    /// Who runs the check (a thread label, or the command name) and where in the SQL log, for violations.
    public var who: String
    public var logLine: () -> Int
    public var maxListed = 20

    public init(connection: Connection, who: String, logLine: @escaping () -> Int = { 0 }) {
        self.connection = connection
        self.who = who
        self.logLine = logLine
    }

    /// Runs every property. `acknowledgements` is the ack log to hold against the
    /// ledger (read before the snapshot starts, so every id in it committed before).
    /// `seed` drives query-consistency's random predicates.
    ///
    /// Throws only when the snapshot cannot be taken (SQLITE_BUSY after the busy
    /// timeout, or an unreadable file); corruption met along the way is a violation.
    public func run(acknowledgements: String?, seed: UInt64) throws -> CheckReport {
        // Acknowledgements are loaded before the snapshot begins: an id in the file
        // was acknowledged after its COMMIT returned, so the snapshot must contain it.
        // They stream into a TEMP table; only SQLite's cache holds them.
        let acknowledged: Acknowledged
        do {
            acknowledged = try loadAcknowledgements(acknowledgements)
        } catch let error as SQLiteError where error.code.primary == .corrupt || error.code.primary == .notADatabase {
            return unreadable(error)  // Even the schema cannot be read.
        }
        try connection.execute("BEGIN")
        defer { try? connection.execute("ROLLBACK") }
        // The first read fixes the snapshot. A file too damaged to read is an
        // `integrity` failure, and nothing else can be judged.
        let tables: [TrackedTable]
        do {
            _ = try connection.scalar("SELECT count(*) FROM \(Bookkeeping.meta)")
            tables = try TrackedTable.load(from: connection)
        } catch let error as SQLiteError where error.code.primary == .corrupt || error.code.primary == .notADatabase {
            return unreadable(error)
        }

        var results: [PropertyResult] = []
        results.append(guarded(.integrity) { try integrity() })
        do {
            var (model, rollback) = try modelAndRollback(tables)
            try leakedLedgerEntries(into: &rollback, rolledBack: acknowledged.rolledBack)
            results += [model, rollback]
        } catch {
            results.append(guarded(.model) { throw error })
            results.append(PropertyResult(
                property: .rollback, status: .skipped, checked: "not reached", violations: [], moreViolations: 0))
        }
        results.append(guarded(.durability) { try durability(acknowledged) })
        results.append(guarded(.conservation) { try conservation() })
        var rng = Xoshiro(seed: deriveSeed(seed, "query-consistency"))
        results.append(guarded(.queryConsistency) { try queryConsistency(tables, using: &rng) })
        return CheckReport(results: settle(results))
    }

    /// A file too damaged to read is an `integrity` failure, and nothing else can be judged.
    private func unreadable(_ error: SQLiteError) -> CheckReport {
        let failed = PropertyResult(
            property: .integrity, status: .fail, checked: "the database could not be read",
            violations: [violation(.integrity, "the database could not be read: \(error)", ["error": error.code.name])],
            moreViolations: 0)
        return CheckReport(results: [failed] + Property.allCases.dropFirst().map {
            PropertyResult(property: $0, status: .skipped, checked: "the database could not be read", violations: [], moreViolations: 0)
        })
    }

    /// Runs one property. An SQLite error met while checking proves nothing about
    /// the property: it is left without a verdict (`skipped`), except corruption,
    /// which is an `integrity` violation (moved there by `settle`).
    private func guarded(_ property: Property, _ body: () throws -> PropertyResult) -> PropertyResult {
        do {
            return try body()
        } catch let error as SQLiteError {
            let corrupt = error.code.primary == .corrupt || error.code.primary == .notADatabase
            return PropertyResult(
                property: property, status: corrupt ? .fail : .skipped, checked: "stopped by \(error.code.name)",
                violations: corrupt ? [violation(.integrity, "checking \(property.rawValue) met a corrupt database: \(error)",
                                                 ["error": error.code.name])] : [],
                moreViolations: 0)
        } catch {
            return PropertyResult(property: property, status: .skipped, checked: "stopped: \(error)", violations: [], moreViolations: 0)
        }
    }

    /// Moves `integrity` violations found while checking other properties to `integrity`.
    private func settle(_ results: [PropertyResult]) -> [PropertyResult] {
        var results = results
        let stray = results.indices.filter { results[$0].property != .integrity }
            .flatMap { index -> [Violation] in
                let moved = results[index].violations.filter { $0.property == Property.integrity.rawValue }
                guard !moved.isEmpty else { return [] }
                results[index].violations.removeAll { $0.property == Property.integrity.rawValue }
                if results[index].violations.isEmpty { results[index].status = .skipped }
                return moved
            }
        if !stray.isEmpty, let index = results.firstIndex(where: { $0.property == .integrity }) {
            results[index].violations += stray
            results[index].status = .fail
        }
        return results
    }

    /// What the acknowledgement log held.
    struct Acknowledged {
        var committed = 0
        var rolledBack = 0
        var powerLosses = 0
        /// Power losses after which earlier commits may be missing.
        var relaxed = 0
    }

    private func violation(_ property: Property, _ message: String, _ details: [String: String] = [:]) -> Violation {
        Violation(property: property.rawValue, message: message, thread: who, logLine: logLine(), details: details)
    }

    private func result(_ property: Property, checked: String, _ violations: [Violation], total: Int? = nil) -> PropertyResult {
        let count = total ?? violations.count
        return PropertyResult(
            property: property, status: count == 0 ? .pass : .fail, checked: checked,
            violations: Array(violations.prefix(maxListed)), moreViolations: max(0, count - maxListed))
    }

    // MARK: - integrity

    private func integrity() throws -> PropertyResult {
        let messages = try connection.query("PRAGMA integrity_check").map { row -> String in
            if case .text(let text) = row[0] { return text }
            return "\(row[0])"
        }
        var problems: [String] = []
        var discounted = 0
        for message in messages where message != "ok" {
            if let claim = IntegrityCheck.nullClaim(in: message), IntegrityCheck.libraryHasFalseNullReport,
               try connection.scalar(IntegrityCheck.verificationQuery(table: claim.table, column: claim.column)) == .integer(1) {
                discounted += 1
                continue
            }
            problems.append(message)
        }
        var checked = "PRAGMA integrity_check"
        if discounted > 0 { checked += "; \(discounted) false \"NULL value in\" claim(s) disproved by a scan (SQLite 3.40.0–3.41.0)" }
        guard !problems.isEmpty else { return result(.integrity, checked: checked, []) }
        return result(.integrity, checked: checked, [violation(
            .integrity, "PRAGMA integrity_check did not return ok",
            ["integrity_check": problems.prefix(10).joined(separator: " | ")])])
    }

    // MARK: - model and rollback

    /// Every row against the latest effect the ledger records for its key (the
    /// fold of the ledger in commit order), in one scan of the table with one
    /// index seek per row. Rows carrying a rolled-back tag come out of the same scan.
    /// (`+(…)` strips the rowid's INTEGER affinity; with it, SQLite would convert
    /// the untyped `key` column and could not use the index.)
    static func rowQuery(_ table: TrackedTable) -> String {
        let name = SQLValue.text(table.name).sqlLiteral
        return """
            SELECT c.k, l.image, c.img, l.tx, l.seq, c.tag \
            FROM (SELECT \(table.keyExpression("t")) AS k, \(table.imageExpression("t")) AS img, \
            t.\(quoteIdentifier(Bookkeeping.tagColumn)) AS tag, \
            (SELECT max(seq) FROM main.\(Bookkeeping.ledger) WHERE tbl = \(name) AND key = +(\(table.keyExpression("t")))) AS s \
            FROM main.\(quoteIdentifier(table.name)) AS t) AS c \
            LEFT JOIN main.\(Bookkeeping.ledger) AS l ON l.seq = c.s \
            WHERE l.image IS NOT c.img OR c.tag < 0
            """
    }

    /// The latest effect of every key of a table, in key order, from the index.
    static func latestQuery(_ table: TrackedTable) -> String {
        "SELECT key, image, tx, max(seq) AS seq FROM main.\(Bookkeeping.ledger) "
            + "WHERE tbl = \(SQLValue.text(table.name).sqlLiteral) GROUP BY key"
    }

    private func modelAndRollback(_ tables: [TrackedTable]) throws -> (PropertyResult, PropertyResult) {
        var model: [Violation] = [], rollback: [Violation] = []
        var modelTotal = 0, rollbackTotal = 0, rows = 0
        for table in tables {
            let count = Int(try count("SELECT count(*) FROM main.\(quoteIdentifier(table.name))"))
            rows += count
            var mismatched = 0
            let statement = try connection.prepare(Self.rowQuery(table))
            while try statement.step() {
                let key = statement.column(0), expected = statement.column(1), actual = statement.column(2)
                if case .integer(let tag) = statement.column(5), tag < 0 {
                    // A rolled-back write that is visible: named as such, not as a model mismatch.
                    if expected != actual { mismatched += 1 }
                    rollbackTotal += 1
                    if rollback.count < maxListed {
                        rollback.append(violation(
                            .rollback,
                            "row \(Self.shown(key)) of \(table.name) was written by \(TransactionID.describe(-tag)) in work that was rolled back, yet it is visible",
                            ["table": table.name, "key": Self.shown(key), "rolled-back-writer": TransactionID.describe(-tag),
                             "actual": Self.shown(actual)]))
                    }
                    continue
                }
                mismatched += 1
                modelTotal += 1
                if model.count < maxListed {
                    model.append(modelViolation(
                        table, key: key, expected: expected, actual: actual, writer: statement.column(3), seq: statement.column(4)))
                }
            }
            // Rows that matched their key's latest image, against keys whose latest effect
            // left a row: equal counts mean no row is missing. Otherwise find which.
            let live = try self.count("SELECT count(*) FROM (\(Self.latestQuery(table))) WHERE image IS NOT NULL")
            if Int(live) != count - mismatched {
                for missing in try missingRows(table) {
                    modelTotal += 1
                    if model.count < maxListed { model.append(missing) }
                }
            }
        }
        let entries = try count("SELECT count(*) FROM main.\(Bookkeeping.ledger)")
        return (
            result(.model, checked: "\(tables.count) tables, \(rows) rows, \(entries) ledger entries", model, total: modelTotal),
            result(.rollback, checked: "\(rows) rows' tags", rollback, total: rollbackTotal)
        )
    }

    /// Ledger entries of work that was rolled back: entries written by a statement
    /// the plan undoes carry a negative id, and a transaction recorded as rolled
    /// back must have none. Catches leaked deletions and leaked ledger rows, which
    /// leave no tagged row behind.
    private func leakedLedgerEntries(into result: inout PropertyResult, rolledBack: Int) throws {
        let statement = try connection.prepare("""
            SELECT seq, tx, tbl, key, image FROM main.\(Bookkeeping.ledger)
            WHERE tx < 0 OR tx IN (SELECT tx FROM temp.stress_check_acks WHERE NOT committed)
            """)
        var count = 0
        while try statement.step() {
            count += 1
            let tx = statement.int64(1)
            guard result.violations.count < maxListed else { result.moreViolations += 1; continue }
            let table = statement.text(2) ?? ""
            let what = statement.column(4) == .null ? "a deletion of" : "a write to"
            let writer = TransactionID.describe(tx < 0 ? -tx : tx)
            result.violations.append(violation(
                .rollback,
                table.isEmpty
                    ? "the commit record of \(writer), which was rolled back, is in the ledger"
                    : "\(what) row \(Self.shown(statement.column(3))) of \(table) by \(writer), in work that was rolled back, is in the ledger",
                ["table": table, "key": Self.shown(statement.column(3)), "rolled-back-writer": writer,
                 "ledger-seq": String(statement.int64(0))]))
        }
        if count > 0 { result.status = .fail }
        result.checked += ", ledger entries of \(rolledBack) rolled-back transactions and of undone statements"
    }

    /// Keys whose latest ledger effect left a row that is not there. Only run when
    /// the counts say some are missing: WITHOUT ROWID keys need a TEMP copy of the
    /// table's keys to be looked up quickly.
    private func missingRows(_ table: TrackedTable) throws -> [Violation] {
        let lookup: String
        if table.withoutRowid {
            try connection.execute("""
                CREATE TEMP TABLE IF NOT EXISTS stress_check_keys (k PRIMARY KEY) WITHOUT ROWID;
                DELETE FROM temp.stress_check_keys;
                INSERT INTO temp.stress_check_keys SELECT \(table.keyExpression("t")) FROM main.\(quoteIdentifier(table.name)) AS t
                """)
            lookup = "SELECT 1 FROM temp.stress_check_keys WHERE k = l.key"
        } else {
            lookup = "SELECT 1 FROM main.\(quoteIdentifier(table.name)) WHERE rowid = l.key"
        }
        let statement = try connection.prepare(
            "SELECT key, image, tx, seq FROM (\(Self.latestQuery(table))) AS l WHERE image IS NOT NULL AND NOT EXISTS (\(lookup))")
        var found: [Violation] = []
        while try statement.step() {
            found.append(modelViolation(
                table, key: statement.column(0), expected: statement.column(1), actual: .null,
                writer: statement.column(2), seq: statement.column(3)))
        }
        return found
    }

    private func modelViolation(
        _ table: TrackedTable, key: SQLValue, expected: SQLValue, actual: SQLValue, writer: SQLValue, seq: SQLValue
    ) -> Violation {
        var details = ["table": table.name, "key": Self.shown(key), "expected": Self.shown(expected), "actual": Self.shown(actual)]
        if case .integer(let tx) = writer { details["last-writer"] = TransactionID.describe(tx) }
        if case .integer(let seq) = seq { details["ledger-seq"] = String(seq) }
        let message: String
        switch (expected, actual) {
        case (.null, _): message = "row \(Self.shown(key)) of \(table.name) is present, but no committed transaction left it there"
        case (_, .null): message = "row \(Self.shown(key)) of \(table.name) is missing, though a committed transaction wrote it"
        default: message = "row \(Self.shown(key)) of \(table.name) differs from what its last committed writer wrote"
        }
        return violation(.model, message, details)
    }

    static func shown(_ value: SQLValue) -> String {
        guard case .text(let text) = value else { return value == .null ? "(none)" : "\(value)" }
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    // MARK: - durability

    /// Streams the acknowledgement log into `temp.stress_check_acks` (touching only
    /// the TEMP database): committed ids, and rolled-back ids. Returns the counts.
    ///
    /// `committed` is 1 for a commit that must be in the database, 0 for a
    /// rollback, and 2 for a commit acknowledged before a power loss that the
    /// synchronous level allowed to lose it (`p 1` in the log); `era` counts the
    /// power losses before the record, `seq` is its place in the log.
    private func loadAcknowledgements(_ path: String?) throws -> Acknowledged {
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS stress_check_acks (
                tx INTEGER PRIMARY KEY, committed INTEGER NOT NULL, seq INTEGER NOT NULL, era INTEGER NOT NULL);
            DELETE FROM temp.stress_check_acks
            """)
        var counts = Acknowledged()
        guard let path else { return counts }
        try connection.execute("BEGIN")
        do {
            let insert = try connection.prepare("INSERT OR REPLACE INTO temp.stress_check_acks (tx, committed, seq, era) VALUES (?, ?, ?, ?)")
            let relax = try connection.prepare("UPDATE temp.stress_check_acks SET committed = 2 WHERE committed = 1 AND era = ?")
            var seq: Int64 = 0, era: Int64 = 0
            try AckLog.forEach(at: path) { outcome, id in
                seq += 1
                switch outcome {
                case .powerLoss:
                    counts.powerLosses += 1
                    if id == 1 {
                        relax.reset()
                        relax.bind([.integer(era)])
                        try relax.step()
                        counts.relaxed += 1
                    }
                    era += 1
                case .committed, .rolledBack:
                    insert.reset()
                    insert.bind([.integer(id), .integer(outcome == .committed ? 1 : 0), .integer(seq), .integer(era)])
                    try insert.step()
                    if outcome == .committed { counts.committed += 1 } else { counts.rolledBack += 1 }
                }
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
        return counts
    }

    private func durability(_ acknowledged: Acknowledged) throws -> PropertyResult {
        // A committed id is in the ledger: its commit record, or the rows it changed.
        let ledger = "main.\(Bookkeeping.ledger)"
        let statement = try connection.prepare(
            "SELECT tx FROM temp.stress_check_acks WHERE committed = 1 AND tx NOT IN (SELECT tx FROM \(ledger)) ORDER BY tx")
        var violations: [Violation] = []
        var total = 0
        while try statement.step() {
            total += 1
            let tx = statement.int64(0)
            if violations.count < maxListed {
                violations.append(violation(
                    .durability, "transaction \(TransactionID.describe(tx)) was acknowledged after COMMIT returned OK, but it is not in the database",
                    ["transaction": TransactionID.describe(tx), "tx": String(tx)]))
            }
        }
        var checked = "\(acknowledged.committed) acknowledged transactions"
        if acknowledged.relaxed > 0 {
            // synchronous=NORMAL: a power loss may take each writer's latest commits,
            // never one followed by a surviving commit of the same writer (the tx id's
            // high half names the writer; `seq` is its commit order).
            let lost = try count(
                "SELECT count(*) FROM temp.stress_check_acks WHERE committed = 2 AND tx NOT IN (SELECT tx FROM \(ledger))")
            checked += " (\(lost) lost to \(acknowledged.relaxed) power loss(es), as synchronous=NORMAL allows)"
            let gaps = try connection.prepare("""
                SELECT a.tx, (SELECT b.tx FROM temp.stress_check_acks b
                              WHERE b.committed = 2 AND b.era = a.era AND (b.tx >> 32) = (a.tx >> 32) AND b.seq > a.seq
                                AND b.tx IN (SELECT tx FROM \(ledger)) LIMIT 1)
                FROM temp.stress_check_acks a
                WHERE a.committed = 2 AND a.tx NOT IN (SELECT tx FROM \(ledger))
                ORDER BY a.seq
                """)
            while try gaps.step() {
                guard case .integer(let later) = gaps.column(1) else { continue }
                let tx = gaps.int64(0)
                total += 1
                if violations.count < maxListed {
                    violations.append(violation(
                        .durability, "transaction \(TransactionID.describe(tx)) was lost to the power loss, but \(TransactionID.describe(later)), which the same writer committed after it, survived",
                        ["transaction": TransactionID.describe(tx), "tx": String(tx), "survivor": TransactionID.describe(later)]))
                }
            }
        }
        return result(.durability, checked: checked, violations, total: total)
    }

    // MARK: - conservation

    private func conservation() throws -> PropertyResult {
        let expected = try connection.scalar("SELECT value FROM \(Bookkeeping.meta) WHERE key = 'total_balance'")
        let row = try connection.query("SELECT count(*), total(balance), sum(balance) FROM \(Bookkeeping.accounts)")[0]
        let count = row[0], actual = row[2]
        let checked = "\(count) accounts, total \(actual)"
        guard expected == actual, count == .integer(Int64(Bookkeeping.accountCount)) else {
            return result(.conservation, checked: checked, [violation(
                .conservation, "the accounts' total balance changed: money was created or destroyed",
                ["table": Bookkeeping.accounts, "expected": "\(expected.map { "\($0)" } ?? "(none)") over \(Bookkeeping.accountCount) accounts",
                 "actual": "\(actual) over \(count) accounts"])])
        }
        return result(.conservation, checked: checked, [])
    }

    // MARK: - query-consistency

    private func queryConsistency(_ tables: [TrackedTable], using rng: inout Xoshiro) throws -> PropertyResult {
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
                if let range = sql.range(of: ") WHERE ", options: .backwards) {
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

    private func count(_ sql: String) throws -> Int64 {
        if case .integer(let n)? = try connection.scalar(sql) { return n }
        return 0
    }
}
