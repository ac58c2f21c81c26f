import StressSQLite
import Synchronization

/// State shared by every worker of one run.
final class RunContext: Sendable {
    let log: SQLLog
    let settings: StressSettings
    let config: DatabaseConfig
    let generator: WorkloadGenerator
    let stop = Atomic<Bool>(false)
    /// Set when every worker has finished, to end progress reporting.
    let finished = Atomic<Bool>(false)
    let iterationsDone = Atomic<Int>(0)
    let statementsDone = Atomic<Int>(0)
    let violations = Mutex<[Violation]>([])
    /// The first few unexpected errors, for the summary.
    let unexpected = Mutex<[String]>([])

    init(log: SQLLog, settings: StressSettings, config: DatabaseConfig, generator: WorkloadGenerator) {
        self.log = log
        self.settings = settings
        self.config = config
        self.generator = generator
    }

    func report(_ violation: Violation) {
        violations.withLock { $0.append(violation) }
        stop.store(true, ordering: .relaxed)
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
    private let context: RunContext
    private var connection: Connection?
    private var rng: Xoshiro
    private(set) var counters = Counters()
    private var transactionNumber = 0
    private var transactionLabel = "x0"

    init(label: String, seed: UInt64, context: RunContext) {
        self.label = label
        self.context = context
        rng = Xoshiro(seed: seed)
    }

    /// Runs the thread's iterations, stopping early when any thread finds a violation.
    func run() {
        let settings = context.settings
        do {
            try connect()
        } catch {
            context.report(Violation(
                property: "integrity", message: "could not open the database: \(error)",
                thread: label, logLine: context.log.lineCount))
            return
        }
        for iteration in 1...settings.iterations {
            if context.stop.load(ordering: .relaxed) { break }
            let unit = context.generator.next(using: &rng)
            switch unit {
            case .transaction(let plan): runTransaction(plan)
            case .maintenance(let kind): runMaintenance(kind, sql: unit.maintenanceSQL)
            }
            if settings.checkEvery > 0, iteration % settings.checkEvery == 0 {
                checkIntegrity(connection!, thread: label)
            }
            context.iterationsDone.add(1, ordering: .relaxed)
        }
        connection?.close()
    }

    // MARK: - Connections

    private func connect() throws {
        transactionLabel = "connect"
        let connection = try Connection(path: context.settings.databasePath, flags: [.readWrite])
        connection.setBusyTimeout(milliseconds: context.settings.busyTimeout)
        self.connection = connection
        for sql in context.config.connectionStatements {
            if case .failed(let error) = execute(sql) { throw error }
        }
    }

    // MARK: - Transactions

    private func runTransaction(_ plan: TransactionPlan) {
        transactionNumber += 1
        transactionLabel = "x\(transactionNumber)"
        guard let begin = plan.beginSQL else {
            // Autocommit: one statement, committed by SQLite if it succeeds.
            guard case .statement(let kind, let sql) = plan.steps[0] else { return }
            let outcome = runStatement(kind, sql)
            if kind.isWrite, outcome.error == nil { counters[.commits] += 1 }
            return
        }

        counters[.transactions] += 1
        if let error = execute(begin).error {
            classify(error)
            return  // Nothing was opened (BEGIN IMMEDIATE/EXCLUSIVE timed out).
        }
        for step in plan.steps {
            let outcome: Outcome
            switch step {
            case .statement(let kind, let sql): outcome = runStatement(kind, sql)
            case .savepoint(let name):
                outcome = execute("SAVEPOINT \(name)")
                if outcome.error == nil { counters[.savepoints] += 1 }
            case .rollbackTo(let name):
                outcome = execute("ROLLBACK TO \(name)")
                if outcome.error == nil { counters[.savepointRollbacks] += 1 }
            case .release(let name):
                outcome = execute("RELEASE \(name)")
                if outcome.error == nil { counters[.savepointReleases] += 1 }
            }
            guard let error = outcome.error else { continue }
            if connection!.isAutocommit {
                // SQLite ended the transaction itself (e.g. after SQLITE_FULL).
                counters[.autoRollbacks] += 1
                counters[.rollbacks] += 1
                return
            }
            if error.code.primary == .busy || error.code.primary == .locked {
                // A deferred transaction that cannot upgrade must give way.
                forceRollback()
                return
            }
            // Constraint errors undo only their own statement; go on.
        }
        end(plan)
    }

    private func end(_ plan: TransactionPlan) {
        guard let sql = plan.endSQL else { return }
        if plan.rollsBack {
            if execute(sql).error == nil { counters[.rollbacks] += 1 }
            return
        }
        // COMMIT can return SQLITE_BUSY while readers hold the database
        // (rollback-journal modes); the transaction stays open and may retry.
        for _ in 0..<3 {
            let outcome = execute(sql)
            guard let error = outcome.error else {
                counters[.commits] += 1
                return
            }
            if connection!.isAutocommit {
                counters[.autoRollbacks] += 1
                counters[.rollbacks] += 1
                return
            }
            guard error.code.primary == .busy || error.code.primary == .locked else { break }
        }
        forceRollback()
    }

    private func forceRollback() {
        guard !connection!.isAutocommit else { return }
        if execute("ROLLBACK").error == nil {
            counters[.rollbacks] += 1
            counters[.forcedRollbacks] += 1
        }
    }

    private func runStatement(_ kind: StatementKind, _ sql: String) -> Outcome {
        counters[kind] += 1
        if sql.utf8.count > 8_000 { counters[.largeRows] += 1 }
        return execute(sql)
    }

    // MARK: - Maintenance

    private func runMaintenance(_ kind: MaintenanceKind, sql: String?) {
        transactionNumber += 1
        transactionLabel = "x\(transactionNumber)"
        switch kind {
        case .reconnect:
            connection?.close()
            counters[.reconnects] += 1
            context.log.append("-- \(label) \(transactionLabel) reconnect")
            do {
                try connect()
            } catch {
                context.report(Violation(
                    property: "integrity", message: "could not reopen the database: \(error)",
                    thread: label, logLine: context.log.lineCount))
            }
        case .incrementalVacuum:
            if execute(sql!).error == nil { counters[.vacuums] += 1 }
        default:
            var incomplete = false
            let outcome = execute(sql!) { statement in
                // (busy, log frames, checkpointed frames): busy = 1 means it could not finish.
                if statement.int64(0) != 0 { incomplete = true }
            }
            if outcome.error == nil {
                counters[.checkpoints] += 1
                if incomplete { counters[.checkpointsIncomplete] += 1 }
            }
        }
    }

    // MARK: - Checking

    /// The end-of-run check: integrity on a fresh connection, as a new process would see the file.
    func finalCheck() {
        transactionLabel = "check"
        do {
            let connection = try Connection(path: context.settings.databasePath, flags: [.readWrite])
            connection.setBusyTimeout(milliseconds: context.settings.busyTimeout)
            checkIntegrity(connection, thread: label)
            connection.close()
        } catch {
            context.report(Violation(
                property: "integrity", message: "could not reopen the database for the final check: \(error)",
                thread: label, logLine: context.log.lineCount))
        }
    }

    /// Runs `PRAGMA integrity_check` and reports anything but "ok" as an `integrity` violation.
    @discardableResult
    func checkIntegrity(_ connection: Connection, thread: String) -> Bool {
        var messages: [String] = []
        transactionLabel = "check"
        let outcome = execute("PRAGMA integrity_check", on: connection) { statement in
            messages.append(statement.text(0) ?? "NULL")
        }
        counters[.integrityChecks] += 1
        let line = context.log.lineCount
        if let error = outcome.error {
            if error.code.primary == .busy || error.code.primary == .locked { return true }
            // SQLITE_CORRUPT / SQLITE_NOTADB were reported by `execute` already.
            if error.code.primary == .corrupt || error.code.primary == .notADatabase { return false }
            context.report(Violation(
                property: "integrity", message: "PRAGMA integrity_check failed: \(error)",
                thread: thread, logLine: line, details: ["error": error.code.name]))
            return false
        }
        var problems: [String] = []
        for message in messages where message != "ok" {
            if let claim = IntegrityCheck.nullClaim(in: message), IntegrityCheck.libraryHasFalseNullReport {
                var discountable = false
                execute(IntegrityCheck.verificationQuery(table: claim.table, column: claim.column), on: connection) {
                    discountable = $0.int64(0) == 1
                }
                if discountable {
                    counters[.falseIntegrityReports] += 1
                    continue
                }
            }
            problems.append(message)
        }
        if !problems.isEmpty {
            context.report(Violation(
                property: "integrity", message: "PRAGMA integrity_check did not return ok",
                thread: thread, logLine: line,
                details: ["integrity_check": problems.prefix(10).joined(separator: " | ")]))
            return false
        }
        return true
    }

    // MARK: - Executing and logging

    /// Runs one statement to completion, logs it, counts its errors, and
    /// reports SQLITE_CORRUPT / SQLITE_NOTADB as integrity violations.
    @discardableResult
    func execute(_ sql: String, on explicit: Connection? = nil, row: ((Statement) -> Void)? = nil) -> Outcome {
        let connection = explicit ?? self.connection!
        counters[.statements] += 1
        context.statementsDone.add(1, ordering: .relaxed)
        let outcome: Outcome
        do {
            let statement = try connection.prepare(sql)
            var rows = 0
            while try statement.step() {
                rows += 1
                row?(statement)
            }
            outcome = .ok(rows: rows, changes: Self.isDML(sql) ? connection.changes : nil)
        } catch let error as SQLiteError {
            outcome = .failed(error)
        } catch {
            outcome = .failed(SQLiteError(code: .error, message: "\(error)", sql: sql))
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
        let logLine = context.log.append(line)

        if let error = outcome.error {
            classify(error)
            if error.code.primary == .corrupt || error.code.primary == .notADatabase {
                context.report(Violation(
                    property: "integrity", message: "SQLite reported corruption: \(error.message)",
                    thread: label, logLine: logLine, details: ["error": error.code.name, "sql": String(sql.prefix(200))]))
            }
        }
        return outcome
    }

    /// INSERT, REPLACE, UPDATE or DELETE: the statements `sqlite3_changes` describes.
    static func isDML(_ sql: String) -> Bool {
        switch sql.utf8.first {
        case UInt8(ascii: "I"), UInt8(ascii: "R"), UInt8(ascii: "U"), UInt8(ascii: "D"): true
        default: false
        }
    }

    private func classify(_ error: SQLiteError) {
        switch error.code.primary {
        case .busy: counters[.busyErrors] += 1
        case .locked: counters[.lockedErrors] += 1
        case .constraint: counters[.constraintErrors] += 1
        case .full: counters[.fullErrors] += 1
        case .ioerr: counters[.ioErrors] += 1
        case .corrupt, .notADatabase: break  // Reported as a violation.
        default:
            counters[.unexpectedErrors] += 1
            context.noteUnexpected(error)
        }
    }
}

extension RunContext {
    func noteUnexpected(_ error: SQLiteError) {
        unexpected.withLock { list in if list.count < 10 { list.append(error.description) } }
    }
}
