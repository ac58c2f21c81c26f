#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
            lines.append(result.property.rawValue.column(19)
                + result.status.rawValue.column(9) + result.checked)
        }
        return lines.joined(separator: "\n")
    }
}

/// Reconciles a database against its ledger, acknowledgements and invariants,
/// inside one read transaction so every property sees one snapshot while
/// writers go on.
///
/// Streams: contents are compared with the ledger table by table, as a merge of
/// the table in rowid order with the ledger index in key order (`RowidMerge`),
/// or, for WITHOUT ROWID tables, one ledger index seek per row (`rowQuery`);
/// only violations (at most `maxListed` per property) are held in memory.
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

    /// Whether `integrity`, `conservation` and `query-consistency` run on a second
    /// connection, on a thread of their own, while this one checks the rest. Off
    /// by default: the monolith's periodic checks stay on one connection.
    ///
    /// Each property still sees one snapshot, but the two connections' snapshots
    /// may differ when writers go on: none of those three properties is about
    /// the ledger or the acknowledgements, so each holds in any snapshot on its own.
    /// (`integrity_check` is as costly as everything else together; side by side,
    /// a check takes little more wall time than `PRAGMA integrity_check`.)
    public var parallel = false

    /// Runs every property. `acknowledgements` is the path of the ack log to hold
    /// against the ledger (read before the snapshot starts, so every id in it
    /// committed before). `randomness` drives query-consistency's random predicates.
    ///
    /// Throws `SQLiteError` only when the snapshot cannot be taken (SQLITE_BUSY
    /// after the busy timeout, or an unreadable file); corruption met along the
    /// way is a violation. Throws `ToolError` when the ack log cannot serve as
    /// evidence (see `loadAcknowledgements`): no verdict is better than a durability
    /// "pass" with nothing to compare.
    public func run(acknowledgements: String, randomness: Randomness) throws -> CheckReport {
        // Acknowledgements are loaded before the snapshot begins: an id in the file
        // was acknowledged after its COMMIT returned, so the snapshot must contain it.
        // They stream into a TEMP table; only SQLite's cache holds them.
        let acknowledged: Acknowledged
        do {
            acknowledged = try loadAcknowledgements(acknowledgements)
        } catch let error as SQLiteError where error.isCorruption {
            return unreadable(error)  // Even the schema cannot be read.
        }
        try connection.execute("BEGIN")
        var inTransaction = true
        defer { if inTransaction { try? connection.execute("ROLLBACK") } }
        // The first read fixes the snapshot. A file too damaged to read is an
        // `integrity` failure, and nothing else can be judged.
        let tables: [TrackedTable]
        do {
            _ = try connection.scalar("SELECT count(*) FROM \(Bookkeeping.meta)")
            tables = try TrackedTable.load(from: connection)
        } catch let error as SQLiteError where error.isCorruption {
            return unreadable(error)
        }

        let rng = randomness.stream("query-consistency")
        let side = parallel
            ? SideCheck(connection.sibling, who: who, logLine: logLine(), maxListed: maxListed, tables: tables, rng: rng) : nil
        var results: [PropertyResult] = []
        if side == nil { results.append(guarded(.integrity) { try integrity() }) }
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
        if let side {
            // End this snapshot before waiting: in rollback-journal modes a writer
            // queued behind this connection's lock would hold back the other's.
            try? connection.execute("ROLLBACK")
            inTransaction = false
            let (integrity, others) = side.join()
            if let error = side.snapshotError { throw error }
            results.insert(integrity, at: 0)
            results += others
        } else {
            results += independentProperties(tables, rng: rng)
        }
        return CheckReport(results: settle(results))
    }

    /// The properties that need neither the ledger nor the acknowledgements after `integrity`.
    fileprivate func independentProperties(_ tables: [TrackedTable], rng: RandomSource) -> [PropertyResult] {
        var rng = rng
        return [guarded(.conservation) { try conservation() },
                guarded(.queryConsistency) { try queryConsistency(tables, using: &rng) }]
    }

    /// `integrity`, `conservation` and `query-consistency` on a connection and thread of their own.
    private final class SideCheck: @unchecked Sendable {
        // `results` and `snapshotError` are written by the thread before it ends and
        // read only after `join()`, which orders the two (pthread_join); nothing else is shared.
        private var results: (PropertyResult, [PropertyResult])?
        private var thread: OSThread?
        /// Set when this connection's snapshot could not be taken (busy or locked past
        /// the busy timeout): `run` then throws it, as it does for its own.
        private(set) var snapshotError: SQLiteError?

        init(_ sibling: Connection.Sibling, who: String, logLine: Int, maxListed: Int, tables: [TrackedTable], rng: RandomSource) {
            thread = OSThread { [self] in
                let results: (PropertyResult, [PropertyResult])
                do {
                    let connection = try sibling.open()
                    defer { connection.close() }
                    let checker = Checker(connection: connection, who: who, logLine: { logLine })
                    checker.maxListed = maxListed
                    try connection.execute("BEGIN")
                    defer { try? connection.execute("ROLLBACK") }
                    // The first read takes the snapshot, as in `run`.
                    _ = try connection.scalar("SELECT count(*) FROM \(Bookkeeping.meta)")
                    results = (checker.guarded(.integrity) { try checker.integrity() },
                               checker.independentProperties(tables, rng: rng))
                } catch let error as SQLiteError where error.isBusy {
                    self.snapshotError = error
                    results = (Checker.guarded(.integrity, who: who, logLine: logLine) { throw error }, [])
                } catch {
                    // Unable to open or begin: as for any SQLite error met while checking.
                    let stopped = { (property: Property) in Checker.guarded(property, who: who, logLine: logLine) { throw error } }
                    results = (stopped(.integrity), [stopped(.conservation), stopped(.queryConsistency)])
                }
                self.results = results
            }
        }

        func join() -> (PropertyResult, [PropertyResult]) {
            thread?.join()
            thread = nil
            return results!
        }
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
    fileprivate func guarded(_ property: Property, _ body: () throws -> PropertyResult) -> PropertyResult {
        Self.guarded(property, who: who, logLine: logLine(), body)
    }

    fileprivate static func guarded(
        _ property: Property, who: String, logLine: @autoclosure () -> Int, _ body: () throws -> PropertyResult
    ) -> PropertyResult {
        do {
            return try body()
        } catch let error as SQLiteError {
            let corrupt = error.isCorruption
            return PropertyResult(
                property: property, status: corrupt ? .fail : .skipped, checked: "stopped by \(error.code.name)",
                violations: corrupt ? [Violation(
                    property: Property.integrity.rawValue, message: "checking \(property.rawValue) met a corrupt database: \(error)",
                    thread: who, logLine: logLine(), details: ["error": error.code.name])] : [],
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
        /// Power losses after which earlier commits may be missing.
        var relaxed = 0
    }

    fileprivate func violation(_ property: Property, _ message: String, _ details: [String: String] = [:]) -> Violation {
        Violation(property: property.rawValue, message: message, thread: who, logLine: logLine(), details: details)
    }

    private func result(_ property: Property, checked: String, _ violations: [Violation], total: Int? = nil) -> PropertyResult {
        let count = total ?? violations.count
        return PropertyResult(
            property: property, status: count == 0 ? .pass : .fail, checked: checked,
            violations: Array(violations.prefix(maxListed)), moreViolations: max(0, count - maxListed))
    }

    // MARK: - integrity

    fileprivate func integrity() throws -> PropertyResult {
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

    /// For WITHOUT ROWID tables: every row against the latest effect the ledger
    /// records for its key (the fold of the ledger in commit order), in one scan
    /// of the table with one index seek per row. Rows carrying a rolled-back tag come out of the same scan.
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
        for table in tables where !table.withoutRowid {
            var merge = try RowidMerge(checker: self, table: table)
            try merge.run()
            rows += merge.rows
            modelTotal += merge.modelTotal
            rollbackTotal += merge.rollbackTotal
            model += merge.model.prefix(maxListed - model.count)
            rollback += merge.rollback.prefix(maxListed - rollback.count)
        }
        for table in tables where table.withoutRowid {
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
            result(.model, checked: Format.count(tables.filter { $0.name != Bookkeeping.accounts }.count, "table")
                + (tables.contains { $0.name == Bookkeeping.accounts } ? " plus the accounts, " : ", ") + "\(Format.count(rows, "row")), "
                + Format.count(entries, "ledger entry", plural: "ledger entries"), model, total: modelTotal),
            result(.rollback, checked: "the tags of \(Format.count(rows, "row"))", rollback, total: rollbackTotal)
        )
    }

    /// The model and rollback check of a rowid table, as one merge of two ordered
    /// scans: the table in rowid order, and the table's ledger entries from the
    /// ledger index in (key, seq) order, of which the last entry of each key is
    /// that key's latest effect. Each row is compared with the latest image
    /// in Swift, byte for byte as SQL renders it (`RowImage`); where they
    /// differ, SQL renders and compares that row again, as `rowQuery` would, and
    /// only its verdict counts.
    ///
    /// Why the orders agree: a rowid is an integer, and the index orders the
    /// untyped `key` column as SQLite orders values (NULL, then numbers by value,
    /// then text, then blobs), which `compare` follows, integers against reals
    /// included. WITHOUT ROWID tables' keys are `quote()`d text whose order is
    /// not the table's, so they keep one index seek per row (`rowQuery`).
    private struct RowidMerge {
        let checker: Checker
        let table: TrackedTable
        var rows = 0, modelTotal = 0, rollbackTotal = 0
        var model: [Violation] = [], rollback: [Violation] = []

        private let scan: Statement
        private var haveRow = false
        private let tagIndex: Int
        private var confirm: Statement?
        private var entryBySeq: Statement?

        /// The latest ledger entry of one key: its key (`keyBytes` for text and blobs), seq, and image.
        private enum Key { case null, integer(Int64), real(Double), text, blob }
        private var key = Key.null
        private var keyBytes: [UInt8] = []
        private var seq: Int64 = 0
        private var imageType = Statement.ColumnType.null
        private var imageBytes: [UInt8] = []

        init(checker: Checker, table: TrackedTable) throws {
            self.checker = checker
            self.table = table
            let columns = table.columns.map { "t." + quoteIdentifier($0) }.joined(separator: ", ")
            scan = try checker.connection.prepare(
                "SELECT t.rowid, \(columns) FROM main.\(quoteIdentifier(table.name)) AS t ORDER BY t.rowid")
            tagIndex = 1 + (table.columns.firstIndex(of: Bookkeeping.tagColumn) ?? -1)
        }

        mutating func run() throws {
            let ledger = try checker.connection.prepare(
                "SELECT key, seq, image FROM main.\(Bookkeeping.ledger) WHERE tbl = ? ORDER BY key, seq")
            ledger.bind([.text(table.name)])
            haveRow = try scan.step()
            var haveKey = false
            while try ledger.step() {
                if haveKey && sameKey(ledger) {
                    takeEntry(ledger)
                    continue
                }
                if haveKey { try settleKey() }
                startKey(ledger)
                takeEntry(ledger)
                haveKey = true
            }
            if haveKey { try settleKey() }
            while haveRow {
                try checkRow(expectedSeq: nil)
                haveRow = try scan.step()
            }
        }

        private mutating func startKey(_ ledger: Statement) {
            switch ledger.columnType(0) {
            case .null: key = .null
            case .integer: key = .integer(ledger.int64(0))
            case .real: key = .real(ledger.double(0))
            case .text, .blob:
                key = ledger.columnType(0) == .text ? .text : .blob
                keyBytes.removeAll(keepingCapacity: true)
                keyBytes.append(contentsOf: ledger.unsafeBytes(0))
            }
        }

        private mutating func takeEntry(_ ledger: Statement) {
            seq = ledger.int64(1)
            imageType = ledger.columnType(2)
            imageBytes.removeAll(keepingCapacity: true)
            if imageType == .text { imageBytes.append(contentsOf: ledger.unsafeBytes(2)) }
        }

        /// Whether the ledger's current entry has the current key, as the index compares keys.
        private func sameKey(_ ledger: Statement) -> Bool {
            switch (key, ledger.columnType(0)) {
            case (.null, .null): return true
            case (.integer(let a), .integer): return a == ledger.int64(0)
            case (.integer(let a), .real): return Self.compare(a, ledger.double(0)) == 0
            case (.real(let a), .integer): return Self.compare(ledger.int64(0), a) == 0
            case (.real(let a), .real): return a == ledger.double(0)
            case (.text, .text), (.blob, .blob): return ledger.unsafeBytes(0).elementsEqual(keyBytes)
            default: return false
            }
        }

        /// The current key against `rowid`: negative when the key sorts first.
        private func compareKey(to rowid: Int64) -> Int {
            switch key {
            case .null: return -1
            case .integer(let k): return k < rowid ? -1 : k == rowid ? 0 : 1
            case .real(let k): return -Self.compare(rowid, k)
            case .text, .blob: return 1
            }
        }

        /// An integer against a real, as SQLite compares them (exactly, not by
        /// converting the integer to a double).
        static func compare(_ i: Int64, _ r: Double) -> Int {
            if r.isNaN { return 1 }
            if r < -9223372036854775808.0 { return 1 }
            if r >= 9223372036854775808.0 { return -1 }
            let floor = r.rounded(.down)
            let truncated = Int64(floor)
            if i != truncated { return i < truncated ? -1 : 1 }
            return floor == r ? 0 : -1
        }

        /// Rows before the current key have no ledger entry; a row with the key
        /// is compared with the key's latest image; a key without a row is a missing row
        /// unless its latest effect deleted it.
        private mutating func settleKey() throws {
            while haveRow, compareKey(to: scan.int64(0)) > 0 {
                try checkRow(expectedSeq: nil)
                haveRow = try scan.step()
            }
            if haveRow, compareKey(to: scan.int64(0)) == 0 {
                try checkRow(expectedSeq: seq)
                haveRow = try scan.step()
            } else if imageType != .null {
                let entry = try ledgerEntry(seq)
                modelTotal += 1
                if model.count < checker.maxListed {
                    model.append(checker.modelViolation(
                        table, key: entry[0], expected: entry[1], actual: .null, writer: entry[2], seq: .integer(seq)))
                }
            }
        }

        /// One row against the latest image of its key (`expectedSeq`), or against no entry.
        private mutating func checkRow(expectedSeq: Int64?) throws {
            rows += 1
            let rowid = scan.int64(0)
            if scan.columnType(tagIndex) == .integer, case let tag = scan.int64(tagIndex), tag < 0 {
                // A rolled-back write that is visible: named as such, not as a model mismatch.
                rollbackTotal += 1
                if rollback.count < checker.maxListed {
                    let actual = try sqlImage(rowid: rowid, expectedSeq: expectedSeq).image
                    rollback.append(checker.violation(
                        .rollback,
                        "row \(rowid) of \(table.name) was written by \(TransactionID.describe(-tag)) in work that was rolled back, yet it is visible",
                        ["table": table.name, "key": String(rowid), "rolled-back-writer": TransactionID.describe(-tag),
                         "actual": Checker.shown(actual)]))
                }
                return
            }
            if expectedSeq != nil, imageType == .text {
                let columns = 1..<(1 + table.columns.count)
                if imageBytes.withUnsafeBytes({ RowImage.matches(scan, columns: columns, image: $0) }) { return }
            }
            // Different as rendered here: SQL has the last word.
            let (differs, actual) = try sqlImage(rowid: rowid, expectedSeq: expectedSeq)
            guard differs else { return }
            modelTotal += 1
            if model.count < checker.maxListed {
                let entry = try expectedSeq.map { try ledgerEntry($0) } ?? [.null, .null, .null]
                model.append(checker.modelViolation(
                    table, key: .integer(rowid), expected: entry[1], actual: actual, writer: entry[2],
                    seq: expectedSeq.map { .integer($0) } ?? .null))
            }
        }

        /// The row's image as SQL renders it, and whether it differs from the ledger entry `expectedSeq`.
        private mutating func sqlImage(rowid: Int64, expectedSeq: Int64?) throws -> (differs: Bool, image: SQLValue) {
            if confirm == nil {
                let image = table.imageExpression("t")
                confirm = try checker.connection.prepare(
                    "SELECT (\(image)) IS NOT (SELECT image FROM main.\(Bookkeeping.ledger) WHERE seq = ?2), \(image) "
                        + "FROM main.\(quoteIdentifier(table.name)) AS t WHERE t.rowid = ?1")
            }
            let statement = confirm!
            statement.reset()
            statement.bind([.integer(rowid), expectedSeq.map { .integer($0) } ?? .null])
            guard try statement.step() else { return (true, .null) }
            return (statement.int64(0) != 0, statement.column(1))
        }

        /// Key, image and writer of ledger entry `seq`.
        private mutating func ledgerEntry(_ seq: Int64) throws -> [SQLValue] {
            if entryBySeq == nil {
                entryBySeq = try checker.connection.prepare("SELECT key, image, tx FROM main.\(Bookkeeping.ledger) WHERE seq = ?")
            }
            let statement = entryBySeq!
            statement.reset()
            statement.bind([.integer(seq)])
            return try statement.step() ? statement.row() : [.null, .null, .null]
        }
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

    fileprivate func modelViolation(
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
    /// Every writer creates the log before its first transaction, so once the
    /// ledger records a committed transaction the log must be there and
    /// readable: missing, empty, not ours, a directory or a read error is a
    /// `ToolError`, never an empty log. Only a database whose ledger records no
    /// committed transaction may have none (nothing was ever acknowledged).
    ///
    /// `committed` is 1 for a commit that must be in the database, 0 for a
    /// rollback, and 2 for a commit acknowledged before a power loss that the
    /// synchronous level allowed to lose it (`p 1` in the log); `era` counts the
    /// power losses before the record, `seq` is its place in the log.
    private func loadAcknowledgements(_ path: String) throws -> Acknowledged {
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS stress_check_acks (
                tx INTEGER PRIMARY KEY, committed INTEGER NOT NULL, seq INTEGER NOT NULL, era INTEGER NOT NULL);
            DELETE FROM temp.stress_check_acks
            """)
        var counts = Acknowledged()
        if !FileManager.default.fileExists(atPath: path),
           try connection.scalar("SELECT EXISTS (SELECT 1 FROM main.\(Bookkeeping.ledger) WHERE tx > 0)") == .integer(0) {
            return counts
        }
        try connection.execute("BEGIN")
        do {
            let insert = try connection.prepare("INSERT OR REPLACE INTO temp.stress_check_acks (tx, committed, seq, era) VALUES (?, ?, ?, ?)")
            let relax = try connection.prepare("UPDATE temp.stress_check_acks SET committed = 2 WHERE committed = 1 AND era = ?")
            var seq: Int64 = 0, era: Int64 = 0
            try AckLog.forEach(at: path) { outcome, id in
                seq += 1
                switch outcome {
                case .powerLoss:
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
            guard let error = error as? ToolError else { throw error }
            throw ToolError("cannot check durability or rollback: \(error.message)")
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

    private func queryConsistency(_ tables: [TrackedTable], using rng: inout RandomSource) throws -> PropertyResult {
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
        return result(.queryConsistency, checked: Format.count(predicates, "predicate") + ", " + Format.count(lookups, "index lookup"), violations)
    }

    private func count(_ sql: String) throws -> Int64 {
        if case .integer(let n)? = try connection.scalar(sql) { return n }
        return 0
    }
}
