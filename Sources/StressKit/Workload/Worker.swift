import StressSQLite
import Synchronization

/// State shared by every worker of one run.
final class RunContext: Sendable {
    let log: SQLLog
    let acks: AckLog
    let settings: StressSettings
    let config: DatabaseConfig
    let generator: WorkloadGenerator
    let tracked: [TrackedTable]
    /// What a worker runs before closing its connection on purpose.
    let disconnectionStatements: [String]
    let stop = Atomic<Bool>(false)
    /// Set when every worker has finished, to end progress reporting.
    let finished = Atomic<Bool>(false)
    let iterationsDone = Atomic<Int>(0)
    let statementsDone = Atomic<Int>(0)
    let violations = Mutex<[Violation]>([])
    /// The first few unexpected errors, for the summary.
    let unexpected = Mutex<[String]>([])
    /// The latest result of each property, and how many checks ran.
    let lastCheck = Mutex<CheckReport?>(nil)
    /// Why checks could not read the acknowledgement log (the first reason), and how many.
    let unreadableAcks = Mutex<(reason: String, checks: Int)?>(nil)
    /// The VFS workers open their connections with: the fault-injecting one when the run injects faults.
    let workerVFS: String?
    /// Whether the run ends with a simulated power loss: workers leave their
    /// connections open for the run to abandon once the power has failed.
    let losesPower: Bool
    /// Whether workers hold the database exclusively (`locking_mode = EXCLUSIVE`):
    /// a driver that simulates a power loss must be alone with the files while
    /// it rewrites them, as every process is when the power really fails.
    let exclusive: Bool

    init(
        log: SQLLog, acks: AckLog, settings: StressSettings, config: DatabaseConfig, generator: WorkloadGenerator,
        exclusive: Bool = false
    ) {
        self.exclusive = exclusive
        self.log = log
        self.acks = acks
        self.settings = settings
        self.config = config
        self.generator = generator
        tracked = TrackedTable.tables(of: generator.schema)
        disconnectionStatements = Bookkeeping.disconnectionStatements(tables: tracked)
        workerVFS = settings.faults.isEmpty ? nil : FaultInjector.vfsName
        losesPower = settings.faults.losesPower
    }

    /// Whether the simulated power has failed (never, without faults).
    var poweredOff: Bool { workerVFS != nil && FaultInjector.crashed }

    /// Records a violation found while running; the assertion names the caller's location.
    func report(_ violation: Violation, function: String = #function, file: String = #fileID, line: Int = #line) {
        violations.withLock { $0.append(violation) }
        StressAssertions.record(violation, function: function, file: file, line: line)
        stop.store(true, ordering: .relaxed)
    }

    /// Records an error the workload does not expect from a healthy SQLite (or a tool condition, described).
    func noteUnexpected(_ description: String) {
        unexpected.withLock { list in if list.count < 10 { list.append(description) } }
    }

    /// What the run could not record or read, and so what its checks could not verify.
    var incompleteEvidence: [EvidenceGap] {
        EvidenceGap.gaps(acks: acks, log: log, unreadableAcks: unreadableAcks.withLock { $0 })
    }
}

/// The result of one statement.
enum Outcome {
    case ok(rows: Int, changes: Int?)
    case failed(SQLiteError)

    var error: SQLiteError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}

/// One thread of the monolith: its own connection, random stream and counters.
final class Worker {
    let label: String
    /// Transaction ids are `transactionBase << 32 | n`.
    private let transactionBase: Int64
    private let context: RunContext
    private var connection: Connection?
    private var rng: RandomSource
    private(set) var counters = Counters()
    private var transactionNumber = 0
    private var transactionLabel = "x0"

    /// A monolith thread (its transaction ids are `t<thread>x<n>`). The setup and
    /// the final check draw nothing, so they need no stream of their own.
    convenience init(thread: Int, label: String? = nil, random: RandomSource = RandomSource(seed: 0), context: RunContext) {
        self.init(label: label ?? "t\(thread)", transactionBase: Int64(thread + 1), random: random, context: context)
    }

    /// The ledger's triggers for this worker's connections (they carry its label).
    private lazy var triggers = Bookkeeping.connectionStatements(tables: context.tracked, who: label)
    /// Tables whose triggers the current connection has: `connect()` installs
    /// none, each transaction those of the tables it writes (see `installTriggers`).
    private var installed: Set<String> = []
    private lazy var tableTriggers = context.tracked.map { ($0.name, $0.triggerStatements) }

    init(label: String, transactionBase: Int64, random: RandomSource, context: RunContext) {
        self.label = label
        self.transactionBase = transactionBase
        self.context = context
        rng = random
    }

    /// Runs the thread's iterations, stopping early when any thread finds a violation.
    func run() {
        let settings = context.settings
        for iteration in 1...settings.iterations {
            if context.stop.load(ordering: .relaxed) || context.poweredOff || Interrupt.requested { break }
            defer { context.iterationsDone.add(1, ordering: .relaxed) }
            // (Re)connect when there is no connection: the first time, or after a
            // reconnect that met a locked database.
            if connection == nil, !connect() { continue }
            // A transaction must never be left open into the next unit: its writes
            // would be acknowledged before they commit.
            if !connection!.isAutocommit {
                context.noteUnexpected("a transaction was left open at the end of a unit of work")
                counters[.unexpectedErrors] += 1
                forceRollback()
            }
            transactionNumber += 1
            transactionLabel = "x\(transactionNumber)"
            let tx = TransactionID.make(base: transactionBase, number: transactionNumber)
            let unit = context.generator.next(tx: tx, using: &rng)
            switch unit {
            case .transaction(let plan): runTransaction(plan, tx: tx)
            case .maintenance(let kind): runMaintenance(kind, sql: unit.maintenanceSQL)
            }
            if settings.checkEvery > 0, iteration % settings.checkEvery == 0, let connection {
                if context.workerVFS == nil {
                    check(connection)
                } else {
                    checkQuietly()
                }
            }
        }
        // After a power loss nothing more may reach the files: the run abandons
        // the connection once the power has failed.
        if !context.losesPower, let connection {
            connection.close()
            log(.disconnect)
        }
    }

    /// Logs what happened to the connection or transaction outside a statement.
    private func log(_ event: SQLLog.Event) {
        context.log.append("-- \(label) \(transactionLabel) \(event.rawValue)")
    }

    /// Closes the connection left open for the power loss (every write fails by now).
    func abandon() {
        connection?.close()
        connection = nil
    }

    // MARK: - Connections

    /// Opens the worker's connection and installs the ledger's triggers. A
    /// database locked past the busy timeout is expected trouble (counted; the
    /// next iteration tries again); any other failure to open is an `integrity`
    /// violation, since a healthy database opens.
    private func connect() -> Bool {
        transactionLabel = "connect"
        connection = nil
        do throws(SQLiteError) {
            // Each connection lives on one thread, so SQLite's per-call mutex is pure cost.
            let connection = try Connection(
                path: context.settings.databasePath, flags: [.readWrite, .noMutex], vfs: context.workerVFS)
            connection.setBusyTimeout(milliseconds: context.settings.busyTimeout)
            try prepareConnection(connection, triggers: false)
            installed = []
            self.connection = connection
            return true
        } catch where error.isBusy {
            counters[.busyErrors] += 1
            return false
        } catch where error.isCorruption {
            return false  // Reported by `execute` as it happened.
        } catch where context.workerVFS != nil && error.isStorageTrouble {
            counters[error.code.primary == .full ? .fullErrors : .ioErrors] += 1
            return false  // An injected fault (or the power failed): the next iteration tries again.
        } catch {
            context.report(Violation(
                property: "integrity", message: "could not open the database: \(error)",
                thread: label, logLine: context.log.lineCount))
            return false
        }
    }

    /// Per-connection settings and the ledger's triggers (with `triggers` false,
    /// only the context table: `installTriggers` adds triggers as they are needed).
    func prepareConnection(_ connection: Connection, triggers: Bool = true) throws(SQLiteError) {
        // Exclusive locking must be set before the first read (for WAL, before the wal-index is opened).
        let statements = (context.exclusive ? ["PRAGMA locking_mode = EXCLUSIVE"] : []) + context.config.connectionStatements
            + (triggers ? self.triggers : Bookkeeping.contextStatements(who: label))
        for sql in statements {
            if case .failed(let error) = execute(sql, on: connection) { throw error }
        }
    }

    // MARK: - Transactions

    /// Installs, outside any transaction, the triggers of the tables in `tables`
    /// this connection lacks: created inside a transaction, a rollback would take
    /// them away again. False (the error counted) when one could not be created.
    private func installTriggers(_ tables: Set<String>) -> Bool {
        for (table, statements) in tableTriggers where tables.contains(table) && !installed.contains(table) {
            for sql in statements {
                if let error = execute(sql).error {
                    classify(error)
                    return false
                }
            }
            installed.insert(table)
        }
        return true
    }

    private func runTransaction(_ plan: TransactionPlan, tx: Int64) {
        guard installTriggers(plan.writes) else { return }
        // The triggers stamp this id on every ledger row the transaction writes.
        if let error = execute(Bookkeeping.contextStatement(tx: tx)).error {
            classify(error)
            return
        }
        guard let begin = plan.beginSQL else {
            // Autocommit: one statement, committed by SQLite if it succeeds.
            let outcome = runStep(plan.steps[0])
            if case .ok(_, let changes) = outcome, isWrite(plan.steps[0]) {
                counters[.commits] += 1
                if let changes, changes > 0 { context.acks.acknowledge(tx) }
            }
            return
        }

        counters[.transactions] += 1
        if let error = execute(begin).error {
            classify(error)
            return  // Nothing was opened (BEGIN IMMEDIATE/EXCLUSIVE timed out).
        }
        var ledgerID = tx
        for (index, step) in plan.steps.enumerated() {
            // Ledger entries of work the plan will undo carry -tx, like its rows.
            let wanted = plan.doomed.contains(index) ? -tx : tx
            if wanted != ledgerID {
                if let error = execute(Bookkeeping.contextStatement(tx: wanted)).error {
                    classify(error)
                    forceRollback(tx)
                    return
                }
                ledgerID = wanted
            }
            guard let error = runStep(step).error else { continue }
            if connection!.isAutocommit {
                // SQLite ended the transaction itself (e.g. after SQLITE_FULL).
                sqliteRolledBack(tx)
                return
            }
            if error.isBusy {
                // A deferred transaction that cannot upgrade must give way.
                forceRollback(tx)
                return
            }
            if case .rollbackTo = step {
                // The work the plan undoes is still there: it must not commit.
                forceRollback(tx)
                return
            }
            if case .transfer = step {
                // A transfer that could not undo its half is not all or nothing any more.
                forceRollback(tx)
                return
            }
            // Other errors undo only their own statement; go on.
        }
        if ledgerID != tx, execute(Bookkeeping.contextStatement(tx: tx)).error != nil {
            forceRollback(tx)
            return
        }
        end(plan, tx: tx)
    }

    /// SQLite rolled the transaction back on its own.
    private func sqliteRolledBack(_ tx: Int64) {
        counters[.autoRollbacks] += 1
        counters[.rollbacks] += 1
        log(.rolledBackBySQLite)
        context.acks.rolledBack(tx)
    }

    private func isWrite(_ step: Step) -> Bool {
        switch step {
        case .statement(let kind, _): kind.isWrite
        case .transfer: true
        default: false
        }
    }

    private func runStep(_ step: Step) -> Outcome {
        switch step {
        case .statement(let kind, let sql):
            counters[kind] += 1
            if sql.utf8.count > 8_000 { counters[.largeRows] += 1 }
            return execute(sql)
        case .transfer(let from, let to, let amount, let tag):
            counters[.transfer] += 1
            return transfer(from: from, to: to, amount: amount, tag: tag)
        case .savepoint(let name):
            let outcome = execute("SAVEPOINT \(name)")
            if outcome.error == nil { counters[.savepoints] += 1 }
            return outcome
        case .rollbackTo(let name):
            let outcome = execute("ROLLBACK TO \(name)")
            if outcome.error == nil { counters[.savepointRollbacks] += 1 }
            return outcome
        case .release(let name):
            let outcome = execute("RELEASE \(name)")
            if outcome.error == nil { counters[.savepointReleases] += 1 }
            return outcome
        }
    }

    /// Read-modify-write: a lost update or a torn transfer shows as a changed total.
    /// Its own savepoint makes it all or nothing inside the transaction: an error
    /// that undoes only the failing statement (SQLITE_FULL, say) must not leave
    /// the debit without the credit.
    private func transfer(from: Int, to: Int, amount: Int64, tag: Int64) -> Outcome {
        let begin = execute("SAVEPOINT transfer")
        guard begin.error == nil else { return begin }
        var balance: Int64?
        var outcome = execute("SELECT balance FROM \(Bookkeeping.accounts) WHERE id = \(from)") { balance = $0.int64(0) }
        let tagColumn = Bookkeeping.tagColumn
        if outcome.error == nil, let balance {
            outcome = execute("UPDATE \(Bookkeeping.accounts) SET balance = \(balance - amount), \(tagColumn) = \(tag) WHERE id = \(from)")
            if outcome.error == nil {
                outcome = execute("UPDATE \(Bookkeeping.accounts) SET balance = balance + \(amount), \(tagColumn) = \(tag) WHERE id = \(to)")
            }
        }
        if outcome.error != nil, !connection!.isAutocommit, let error = execute("ROLLBACK TO transfer").error {
            return .failed(error)  // Half a transfer may remain: the caller abandons the transaction.
        }
        if !connection!.isAutocommit { execute("RELEASE transfer") }
        return outcome
    }

    private func end(_ plan: TransactionPlan, tx: Int64) {
        guard let sql = plan.endSQL else { return }
        if plan.rollsBack {
            if execute(sql).error == nil {
                counters[.rollbacks] += 1
                context.acks.rolledBack(tx)
            }
            return
        }
        // The commit record puts the transaction in the ledger even if it changed no row.
        if execute(Bookkeeping.commitRecordStatement(tx: tx, who: label)).error != nil {
            if connection!.isAutocommit {
                sqliteRolledBack(tx)
            } else {
                forceRollback(tx)  // Busy upgrading to write: give way.
            }
            return
        }
        // COMMIT can return SQLITE_BUSY while readers hold the database
        // (rollback-journal modes); the transaction stays open and may retry.
        for _ in 0..<3 {
            let outcome = execute(sql)
            guard let error = outcome.error else {
                counters[.commits] += 1
                context.acks.acknowledge(tx)
                return
            }
            if error.isStorageTrouble {
                // The commit may have reached the disk before the error (a WAL commit
                // frame written, its sync failed): neither acknowledged nor rolled back.
                counters[.uncertainCommits] += 1
                forceRollback()
                return
            }
            if connection!.isAutocommit {
                sqliteRolledBack(tx)
                return
            }
            guard error.isBusy else { break }
        }
        forceRollback(tx)
    }


    /// Rolls back a transaction the workload must abandon; `tx` is recorded as rolled back.
    private func forceRollback(_ tx: Int64? = nil) {
        guard !connection!.isAutocommit else { return }
        if execute("ROLLBACK").error == nil {
            counters[.rollbacks] += 1
            counters[.forcedRollbacks] += 1
            if let tx { context.acks.rolledBack(tx) }
        } else if !connection!.isAutocommit {
            // The rollback itself failed (an I/O error): closing the connection
            // finishes it, or leaves a hot journal the next opener rolls back.
            counters[.abandonedConnections] += 1
            log(.abandoned)
            abandon()
        }
    }

    // MARK: - Maintenance

    private func runMaintenance(_ kind: MaintenanceKind, sql: String?) {
        switch kind {
        case .reconnect:
            for sql in context.disconnectionStatements { execute(sql) }
            connection?.close()
            counters[.reconnects] += 1
            log(.reconnect)
            _ = connect()  // On failure the next iteration tries again.
        case .incrementalVacuum:
            if execute(sql!).error == nil { counters[.vacuums] += 1 }
        default:
            var incomplete = false, moved = false, wal = false
            let outcome = execute(sql!) { statement in
                // (busy, log frames, checkpointed frames): busy = 1 means it could not finish;
                // -1 frames: the database is not in WAL mode and nothing was done.
                if statement.int64(0) != 0 { incomplete = true }
                if statement.int64(1) >= 0 { wal = true }
                if statement.int64(2) > 0 { moved = true }
            }
            if outcome.error == nil, wal {
                counters[.checkpoints] += 1
                if incomplete { counters[.checkpointsIncomplete] += 1 }
                if moved { counters[.checkpointsMovedFrames] += 1 }
            }
        }
    }

    // MARK: - Checking

    /// Runs every property in one snapshot on `connection`, logs a one-line result,
    /// and reports violations. Returns the report, or nil when the snapshot could
    /// not be taken (busy past the timeout), which is no violation.
    @discardableResult
    func check(_ connection: Connection) -> CheckReport? {
        transactionLabel = "check"
        let checker = Checker(connection: connection, who: label, logLine: { [context] in context.log.lineCount + 1 })
        let report: CheckReport
        do {
            report = try checker.run(
                acknowledgements: context.acks.path,
                randomness: context.settings.randomness.derived("check-\(label)", counters[.checks]))
        } catch let error as SQLiteError where error.isBusy {
            counters[.busyErrors] += 1
            counters[.checksSkipped] += 1
            context.log.append("-- \(label) check skipped: \(error.code.name)")
            return nil
        } catch let error as SQLiteError where error.isCorruption {
            context.report(Violation(
                property: "integrity", message: "the check could not read the database: \(error)",
                thread: label, logLine: context.log.lineCount + 1, details: ["error": error.code.name]))
            return nil
        } catch let error as SQLiteError {
            // I/O trouble and the like stop a check without proving anything wrong.
            classify(error)
            counters[.checksSkipped] += 1
            context.log.append("-- \(label) check skipped: \(error.code.name)")
            return nil
        } catch let error as ToolError {
            // The acknowledgement log is gone or unreadable (removed under the run, say):
            // no verdict on what it would prove, and the report says so.
            counters[.checksSkipped] += 1
            context.unreadableAcks.withLock { $0 = ($0?.reason ?? error.message, ($0?.checks ?? 0) + 1) }
            context.log.append("-- \(label) check skipped: the acknowledgement log cannot be read")
            return nil
        } catch {
            context.noteUnexpected("the check failed: \(error)")
            counters[.unexpectedErrors] += 1
            return nil
        }
        counters[.checks] += 1
        context.log.append("-- \(label) check " + report.results.map { "\($0.property.rawValue)=\($0.status.rawValue)" }.joined(separator: " "))
        StressAssertions.record(report)
        if !report.violations.isEmpty {
            context.violations.withLock { $0 += report.violations }
            context.stop.store(true, ordering: .relaxed)
        }
        context.lastCheck.withLock { $0 = report }
        return report
    }

    /// A periodic check while the workload runs under faults: on its own
    /// connection through the quiet VFS, so that no fault lands in the oracle's
    /// reads (`integrity_check` turns a failed read into a corruption message)
    /// while the power-loss record still sees everything written.
    private func checkQuietly() {
        guard let connection = try? Connection(
            path: context.settings.databasePath, flags: [.readWrite, .noMutex], vfs: FaultInjector.quietVFSName) else {
            counters[.checksSkipped] += 1
            return
        }
        connection.setBusyTimeout(milliseconds: context.settings.busyTimeout)
        check(connection)
        connection.close()
    }

    /// The end-of-run check, on a fresh connection, as a new process would see the file.
    func finalCheck() {
        do {
            let connection = try Connection(path: context.settings.databasePath, flags: [.readWrite])
            connection.setBusyTimeout(milliseconds: context.settings.busyTimeout)
            check(connection)
            connection.close()
        } catch {
            context.report(Violation(
                property: "integrity", message: "could not reopen the database for the final check: \(error)",
                thread: label, logLine: context.log.lineCount))
        }
    }

    // MARK: - Executing and logging

    /// Runs one statement to completion, logs it, counts its errors, and
    /// reports SQLITE_CORRUPT / SQLITE_NOTADB as integrity violations.
    @discardableResult
    func execute(_ sql: String, on explicit: Connection? = nil, row: ((Statement) -> Void)? = nil) -> Outcome {
        let connection = explicit ?? self.connection!
        // The log's buffer is written before a statement that may make effects
        // durable, and the line of one that left no transaction open right after
        // it (SQLLog): the lines that wait are those of an open transaction.
        if connection.isAutocommit || Self.mayCommit(sql) { context.log.flush() }
        counters[.statements] += 1
        context.statementsDone.add(1, ordering: .relaxed)
        let outcome: Outcome
        do throws(SQLiteError) {
            let statement = try connection.prepare(sql)
            var rows = 0
            while try statement.step() {
                rows += 1
                row?(statement)
            }
            outcome = .ok(rows: rows, changes: Self.isDML(sql) ? connection.changes : nil)
        } catch {
            outcome = .failed(error)
        }

        var line = sql
        line += "; -- \(label) \(transactionLabel) "
        switch outcome {
        case .ok(let rows, let changes):
            line += "ok"
            if let changes { line += " changes=\(changes)" }
            if rows > 0 { line += " rows=\(rows)" }
        case .failed(let error):
            line += error.code.name
        }
        let logLine = context.log.append(line, flush: connection.isAutocommit)

        if let error = outcome.error {
            classify(error)
            if error.isCorruption {
                context.report(Violation(
                    property: "integrity", message: "SQLite reported corruption: \(error.message)",
                    thread: label, logLine: logLine, details: ["error": error.code.name, "sql": String(sql.prefix(200))]))
            }
        }
        return outcome
    }

    /// COMMIT, END or RELEASE: may end a transaction and make its effects durable.
    static func mayCommit(_ sql: String) -> Bool {
        sql.hasPrefix("COMMIT") || sql.hasPrefix("END") || sql.hasPrefix("RELEASE")
    }

    /// INSERT, REPLACE, UPDATE or DELETE: the statements `sqlite3_changes` describes.
    /// (After any other statement it repeats the last of those, which says nothing
    /// about the statement: ROLLBACK and RELEASE start with R too.)
    static func isDML(_ sql: String) -> Bool {
        let utf8 = sql.utf8
        switch utf8.first {
        case UInt8(ascii: "I"): return utf8.starts(with: "INSERT".utf8)
        case UInt8(ascii: "U"): return utf8.starts(with: "UPDATE".utf8)
        case UInt8(ascii: "D"): return utf8.starts(with: "DELETE".utf8)
        case UInt8(ascii: "R"): return utf8.starts(with: "REPLACE".utf8)
        default: return false
        }
    }

    private func classify(_ error: SQLiteError) {
        switch error.code.primary {
        case .busy: counters[.busyErrors] += 1
        case .locked: counters[.lockedErrors] += 1
        case .constraint: counters[.constraintErrors] += 1
        case .full: counters[.fullErrors] += 1
        case .ioerr: counters[.ioErrors] += 1
        case .cantOpen where context.workerVFS != nil: counters[.ioErrors] += 1  // A journal, after the power failed.
        case .corrupt, .notADatabase: break  // Reported as a violation.
        default:
            counters[.unexpectedErrors] += 1
            context.noteUnexpected(error.description)
        }
    }
}
