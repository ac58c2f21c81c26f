#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite

/// Reconciles a database against its ledger, acknowledgements and invariants,
/// inside one read transaction so every property sees one snapshot while
/// writers go on.
///
/// Each property lives in a file of its own (`Properties/`); `model` and
/// `rollback` share one pass over the tables (`ContentScan`). Only violations
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
    /// against the ledger (as long as it was before the snapshot started, so
    /// every id in it committed before; see `AckReview`). `randomness` drives
    /// query-consistency's random predicates.
    ///
    /// Throws `SQLiteError` only when the snapshot cannot be taken (SQLITE_BUSY
    /// after the busy timeout, or an unreadable file); corruption met along the
    /// way is a violation. Throws `ToolError` when the ack log cannot serve as
    /// evidence (see `AckReview`): no verdict is better than a durability
    /// "pass" with nothing to compare.
    ///
    /// With `acknowledgedBytes`, only that much of the ack log counts: the
    /// acknowledgements recorded before a copy (VACUUM INTO) was taken.
    public func run(acknowledgements: String, acknowledgedBytes: Int? = nil, randomness: Randomness) throws -> CheckReport {
        // The log counts as long as it is before the snapshot begins: an id in it
        // was acknowledged after its COMMIT returned, so the snapshot must contain it.
        let judged = acknowledgedBytes ?? DatabaseFile.existingSize(of: acknowledgements).map { Int($0) }
        try connection.execute("BEGIN")
        var inTransaction = true
        defer { if inTransaction { try? connection.execute("ROLLBACK") } }
        // The first read fixes the snapshot. A file too damaged to read is an
        // `integrity` failure, and nothing else can be judged.
        let recorded: RecordedSchema
        do {
            _ = try connection.scalar("SELECT count(*) FROM \(Bookkeeping.meta)")
            recorded = try RecordedSchema(connection)
        } catch let error as SQLiteError where error.isCorruption {
            return unreadable(error)
        }
        // The power losses that struck before the snapshot, seen when it was fixed (a copy's is fixed already).
        let settled = acknowledgedBytes ?? DatabaseFile.existingSize(of: acknowledgements).map { Int($0) }

        // Read once for `durability` and `rollback`; a damaged ledger is each one's finding.
        let acknowledged: Result<AckReview, SQLiteError>
        do {
            acknowledged = .success(try AckReview(
                connection: connection, log: acknowledgements, judged: judged, settled: settled, listed: maxListed))
        } catch let error as SQLiteError {
            acknowledged = .failure(error)
        }

        let rng = randomness.stream("query-consistency")
        let side = parallel
            ? SideCheck(connection.sibling, who: who, logLine: logLine(), maxListed: maxListed, rng: rng) : nil
        var results: [PropertyResult] = []
        if side == nil { results.append(guarded(.integrity) { try integrity() }) }
        if let schema = recorded.schema {
            // A row's rolled-back tag is read from the row alone, so the visible
            // rolled-back rows the scan found before something stopped it stand
            // (`guarded(_:keeping:_:)`). Model's findings do not: they pair rows
            // with the ledger's index, which a damaged file can misorder without
            // an error until a later read fails.
            let scan = ContentScan(checker: self)
            do {
                let tables = TrackedTable.tables(of: schema)
                try scan.run(tables)
                results.append(guarded(.model) {
                    var model = scan.model
                    try lostRows(tables, into: &model)
                    return model.result(checked: try modelChecked(scan))
                })
                // The rows' tags are read; the ledger's entries of rolled-back work need the log's review.
                var rollback = scan.rollback
                results.append(guarded(.rollback, keeping: rollback) {
                    let review = try acknowledged.get()
                    try leakedLedgerEntries(review, into: &rollback)
                    return rollback.result(checked: Self.rollbackChecked(rows: scan.rows, rolledBack: review.rolledBack))
                })
            } catch {
                results.append(guarded(.model) { throw error })
                // The stop is reported once, with model.
                results.append(scan.rollback.total == 0
                    ? .skipped(.rollback, "not reached")
                    : scan.rollback.result(checked: "the tags of the rows read before the scan stopped"))
            }
        } else {
            results += [.skipped(.model, recorded.unreadable), .skipped(.rollback, recorded.unreadable)]
        }
        results.append(guarded(.durability) { try durability(acknowledged.get()) })
        results.append(guarded(.schema) { try schemaProperty(recorded) })
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
            results += independentProperties(recorded, rng: rng)
        }
        return CheckReport(results: settle(results))
    }

    /// The schema recorded in `stress_meta`, which every property but
    /// `integrity`, `durability` and `conservation` judges by; when it cannot be
    /// read (or decoded), why (a `schema` violation, and no verdict on the rest).
    struct RecordedSchema {
        var schema: Schema?
        var unreadable = ""

        init(_ connection: Connection) throws {
            do {
                schema = try Bookkeeping.recordedSchema(in: connection)
            } catch let error as ToolError {
                unreadable = "the recorded schema cannot be read (\(error.message))"
            }
        }
    }

    /// `schema`, or its violation when there is no schema to compare.
    private func schemaProperty(_ recorded: RecordedSchema) throws -> PropertyResult {
        guard let schema = recorded.schema else {
            return result(.schema, checked: "stress_meta", [violation(.schema, recorded.unreadable)])
        }
        return try schemaProperty(schema)
    }

    /// The properties that need neither the ledger nor the acknowledgements after `integrity`.
    fileprivate func independentProperties(_ recorded: RecordedSchema, rng: RandomSource) -> [PropertyResult] {
        var rng = rng
        return [guarded(.conservation) { try conservation() },
                guarded(.queryConsistency) {
                    guard let schema = recorded.schema else { return .skipped(.queryConsistency, recorded.unreadable) }
                    return try queryConsistency(schema, using: &rng)
                }]
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

        init(_ sibling: Connection.Sibling, who: String, logLine: Int, maxListed: Int, rng: RandomSource) {
            thread = OSThread { [self] in
                let results: (PropertyResult, [PropertyResult])
                do {
                    let connection = try sibling.open()
                    defer { connection.close() }
                    let checker = Checker(connection: connection, who: who, logLine: { logLine })
                    checker.maxListed = maxListed
                    try connection.execute("BEGIN")
                    defer { try? connection.execute("ROLLBACK") }
                    // The first read takes the snapshot, as in `run`; this snapshot's schema is read in it.
                    _ = try connection.scalar("SELECT count(*) FROM \(Bookkeeping.meta)")
                    let recorded = try RecordedSchema(connection)
                    results = (checker.guarded(.integrity) { try checker.integrity() },
                               checker.independentProperties(recorded, rng: rng))
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

    /// For a database this tool made (its acknowledgement log says so, which
    /// `check` asks before it opens one): an `integrity` failure, nothing else
    /// judged, when it is no longer its own (`lostIdentity`); nil otherwise,
    /// and for a file too damaged to read, which `run` reports as such.
    func identityReport() throws(SQLiteError) -> CheckReport? {
        do {
            return try lostIdentity().map {
                integrityOnly(checked: "the database is no longer sqlite-stress's",
                              message: "the database is no longer the one sqlite-stress made: \($0)", details: [:])
            }
        } catch where error.isCorruption {
            return nil
        }
    }

    /// What makes a database this tool made no longer its own, when anything
    /// does: an application id in the header other than sqlite-stress's, or
    /// bookkeeping tables gone. Damage no `integrity_check` reports, and no
    /// error of the environment: the header and the tables were written by
    /// the run and changed behind it.
    private func lostIdentity() throws(SQLiteError) -> String? {
        if case .integer(let id)? = try connection.scalar("PRAGMA main.application_id"),
           UInt32(truncatingIfNeeded: id) != DatabaseFile.applicationID {
            return "its header's application id is 0x\(String(UInt32(truncatingIfNeeded: id), radix: 16)), not sqlite-stress's "
                + "0x\(String(DatabaseFile.applicationID, radix: 16))"
        }
        let missing = try Bookkeeping.missingTables(in: connection)
        return missing.isEmpty ? nil : "its bookkeeping table\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) "
            + "\(missing.count == 1 ? "is" : "are") gone"
    }

    /// A file too damaged to read is an `integrity` failure, and nothing else can be judged.
    private func unreadable(_ error: SQLiteError) -> CheckReport {
        integrityOnly(checked: "the database could not be read", message: "the database could not be read: \(error)",
                      details: ["error": error.code.name])
    }

    /// An `integrity` failure with `message`, every other property skipped for
    /// what `checked` says: a database that cannot be judged further.
    private func integrityOnly(checked: String, message: String, details: [String: String]) -> CheckReport {
        let failed = PropertyResult(
            property: .integrity, status: .fail, checked: checked, violations: [violation(.integrity, message, details)], moreViolations: 0)
        return CheckReport(results: [failed] + Property.allCases.dropFirst().map { .skipped($0, checked) })
    }

    /// Runs one property (`body`). An error met while checking proves nothing
    /// more about the property: it stops there, without a verdict (`skipped`)
    /// unless `found`, read after the throw, holds violations found before the
    /// stop that nothing the stop says can undo (they stand: the property fails
    /// with them). Corruption is also an `integrity` violation (moved there by `settle`).
    fileprivate func guarded(
        _ property: Property, keeping found: @autoclosure () -> Findings? = nil, _ body: () throws -> PropertyResult
    ) -> PropertyResult {
        Self.guarded(property, who: who, logLine: logLine(), keeping: found(), body)
    }

    /// `guarded(_:keeping:_:)` where there is no checker to ask (`SideCheck`, when its snapshot could not be taken).
    fileprivate static func guarded(
        _ property: Property, who: String, logLine: @autoclosure () -> Int, keeping found: @autoclosure () -> Findings? = nil,
        _ body: () throws -> PropertyResult
    ) -> PropertyResult {
        let stop: String, damage: [Violation]
        do {
            return try body()
        } catch let error as SQLiteError {
            stop = "stopped by \(error.code.name): \(error.message)"
            damage = error.isCorruption ? [Violation(
                property: .integrity, message: "checking \(property.rawValue) met a corrupt database: \(error)",
                thread: who, logLine: logLine(), details: ["error": error.code.name])] : []
        } catch {
            stop = "stopped: \(error)"
            damage = []
        }
        let kept = found()
        let listed = kept?.listed ?? [], more = (kept?.total ?? 0) - listed.count
        return PropertyResult(
            property: property, status: damage.isEmpty && listed.isEmpty && more == 0 ? .skipped : .fail, checked: stop,
            violations: listed + damage, moreViolations: more)
    }

    /// Moves `integrity` violations found while checking other properties to
    /// `integrity`, and puts the results in the properties' order.
    private func settle(_ results: [PropertyResult]) -> [PropertyResult] {
        var results = results
        let stray = results.indices.filter { results[$0].property != .integrity }
            .flatMap { index -> [Violation] in
                let moved = results[index].violations.filter { $0.property == .integrity }
                guard !moved.isEmpty else { return [] }
                results[index].violations.removeAll { $0.property == .integrity }
                if results[index].violations.isEmpty { results[index].status = .skipped }
                return moved
            }
        if !stray.isEmpty, let index = results.firstIndex(where: { $0.property == .integrity }) {
            results[index].violations += stray
            results[index].status = .fail
        }
        let order = Property.allCases
        return results.sorted { order.firstIndex(of: $0.property)! < order.firstIndex(of: $1.property)! }
    }

    // MARK: - Shared by the properties

    func violation(_ property: Property, _ message: String, _ details: [String: String] = [:]) -> Violation {
        Violation(property: property, message: message, thread: who, logLine: logLine(), details: details)
    }

    /// Collects violations of `property`, listing at most `maxListed`.
    func findings(_ property: Property) -> Findings { Findings(property, limit: maxListed) }

    /// A result from violations found all at once.
    func result(_ property: Property, checked: String, _ violations: [Violation]) -> PropertyResult {
        var found = findings(property)
        for violation in violations { found.add { violation } }
        return found.result(checked: checked)
    }

    /// Whether the database has `table` with every column the schema gives it
    /// (the properties that read rows read those; `schema` judges the rest).
    func hasColumns(of table: TrackedTable) throws -> Bool {
        let present = try connection.query("SELECT name FROM pragma_table_xinfo(?)", [.text(table.name)])
            .compactMap { if case .text(let name) = $0[0] { name } else { nil } }
        return Set(present).isSuperset(of: table.columns)
    }

    func count(_ sql: String, _ arguments: [SQLValue] = []) throws -> Int64 {
        if case .integer(let n)? = try connection.scalar(sql, arguments) { return n }
        return 0
    }

    /// A value as a violation shows it: text as it is (long text cut), NULL as "(none)".
    static func shown(_ value: SQLValue) -> String {
        guard case .text(let text) = value else { return value == .null ? "(none)" : "\(value)" }
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
