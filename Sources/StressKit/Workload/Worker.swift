#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite
import Synchronization

/// State shared by every worker of one run.
final class RunContext: Sendable {
    let log: SQLLog
    let acks: AckLog
    let settings: StressSettings
    let config: DatabaseConfig
    /// The work as drawn for the schema the run started with; each worker
    /// follows the schema as it changes (`Worker.loadSchema`).
    let generator: WorkloadGenerator
    let stop = Atomic<Bool>(false)
    /// Set when every worker has finished, to end progress reporting.
    let finished = Atomic<Bool>(false)
    let iterationsDone = Atomic<Int>(0)
    let statementsDone = Atomic<Int>(0)
    /// Set when a writer met a full disk or an I/O error, injected or the
    /// storage's own: SQLite must survive either by rolling back, which is
    /// where some of its known bugs live (`KnownSQLiteBug.Run.failsCleanly`).
    let metCleanFailure = Atomic<Bool>(false)
    /// Why the run stopped for want of working storage (`noteStorageFailure`).
    let storageFailure = Mutex<String?>(nil)
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
    /// Whether other processes write the database beside this one and may have
    /// been killed (the composed drivers): what `knownSQLiteBugs` assumes.
    let writersMayBeKilled: Bool

    init(
        log: SQLLog, acks: AckLog, settings: StressSettings, config: DatabaseConfig, generator: WorkloadGenerator,
        exclusive: Bool = false, writersMayBeKilled: Bool = false
    ) {
        self.exclusive = exclusive
        self.writersMayBeKilled = writersMayBeKilled
        self.log = log
        self.acks = acks
        self.settings = settings
        self.config = config
        self.generator = generator
        workerVFS = settings.faults.isEmpty ? nil : FaultInjector.vfsName
        losesPower = settings.faults.losesPower
    }

    /// Whether the simulated power has failed (never, without faults).
    var poweredOff: Bool { workerVFS != nil && FaultInjector.crashed }

    /// The known SQLite bugs this run's writers could have met: named in a
    /// failed assertion's details (`StressAssertions` asks only then).
    var knownSQLiteBugs: [KnownSQLiteBug] {
        KnownSQLiteBug.candidates(for: .writers(
            of: settings, journalMode: config.journalMode, killed: writersMayBeKilled,
            metCleanFailure: metCleanFailure.load(ordering: .relaxed)))
    }

    /// Records a violation found while running; the assertion names the caller's location.
    func report(_ violation: Violation, function: String = #function, file: String = #fileID, line: Int = #line) {
        violations.withLock { $0.append(violation) }
        StressAssertions.record(violation, knownSQLiteBugs: knownSQLiteBugs, function: function, file: file, line: line)
        stop.store(true, ordering: .relaxed)
    }

    /// Records an error the workload does not expect from a healthy SQLite (or a tool condition, described).
    func noteUnexpected(_ description: String) {
        unexpected.withLock { list in if list.count < 10 { list.append(description) } }
    }

    /// Records that the storage under the database failed with no fault
    /// planted (the first such failure), and stops the run: an I/O error, a
    /// full disk or a file that cannot be opened is the right answer of a
    /// healthy SQLite on a sick disk or a directory gone, so the run ends
    /// without a verdict (exit status 2), not with a violation.
    func noteStorageFailure(_ what: String, _ error: SQLiteError) {
        let description = "\(what): \(error)" + (error.storageHint.map { " (\($0))" } ?? "")
        storageFailure.withLock { if $0 == nil { $0 = description } }
        stop.store(true, ordering: .relaxed)
    }

    /// What the run could not record or read, and so what its checks could not verify.
    var incompleteEvidence: [EvidenceGap] {
        EvidenceGap.gaps(acks: acks, log: log, unreadableAcks: unreadableAcks.withLock { $0 })
    }
}

/// One thread of the monolith: its own connection, random stream and counters.
final class Worker {
    let label: String
    /// Transaction ids are `transactionBase << 32 | n`.
    private let transactionBase: Int64
    private let context: RunContext
    /// Runs, logs and classifies this worker's statements.
    private let runner: StatementRunner
    private var connection: Connection?
    private var rng: RandomSource
    private(set) var counters = Counters()
    private var transactionNumber = 0
    private var transactionLabel = "x0"
    /// The record of a driver's reservation of its ids while it may not be
    /// synced yet: the worker waits for it before its first statement that may
    /// commit a ledger entry (`execute`), so that no power loss can hand ids
    /// already in the database to another writer (`AckLog.reserveWriter`).
    private var unsyncedReservation: AckLog.Ticket?

    /// A monolith thread (its transaction ids are `t<thread>x<n>`). The setup and
    /// the final check draw nothing, so they need no stream of their own.
    convenience init(thread: Int, label: String? = nil, random: RandomSource = RandomSource(seed: 0), context: RunContext) {
        self.init(label: label ?? "t\(thread)", transactionBase: Int64(thread + 1), random: random, context: context)
    }

    /// The work this worker draws, for the schema as it last read it from
    /// `stress_meta`; `cookie` is the schema cookie read in the same statement
    /// (-1 before the first read), which its context statements name for the
    /// ledger triggers' guard (`contextStatement`). See `loadSchema`.
    private var generator: WorkloadGenerator
    private var cookie: Int64 = -1
    /// Tables (by ledger name) whose ledger triggers the current connection has,
    /// built for the tables as `schema` has them: `connect()` installs none,
    /// each transaction those of the tables it can write (see `installTriggers`).
    private var installed: Set<String> = []
    /// A statement failed in a way a schema change made by another connection
    /// explains (SQLITE_ERROR, SQLITE_SCHEMA, or the ledger triggers' guard);
    /// `settleSchemaTrouble` decides whether one did.
    private var schemaTrouble: SQLiteError?
    /// SQLite ended the open transaction under a statement that reported
    /// success (`execute` notices; the next transaction clears it).
    ///
    /// Under I/O errors SQLite can do that: an error inside a statement's own
    /// work (reading the schema again for its prepare, or after an ALTER TABLE)
    /// rolls the whole transaction back, and the statement still succeeds, run
    /// after the rollback on its own or inside it before. Every later statement
    /// of the transaction would then commit on its own: a schema change's
    /// record without the change, a ledger rebase without the column, half a
    /// transfer. So a transaction flow stops at the statement where this
    /// happened, and the transaction is neither acknowledged nor recorded as
    /// rolled back: whether that last statement's write committed is not known.
    private var transactionLost = false
    /// The savepoint whose SAVEPOINT opened the open transaction (nil when
    /// BEGIN did): only its RELEASE ends the transaction (`execute`).
    private var openingSavepoint: String?
    /// The check of this worker's latest VACUUM INTO copy, while it runs beside the work.
    private var copyCheck: CopyCheck?
    /// The iteration under way (1-based; 0 before the first).
    private var iteration = 0
    /// The schemas `decodeSchema` decoded lately, newest first, by their text.
    private var decoded: [(json: String, schema: Schema)] = []
    /// A connection already open on the database, with no fault VFS, that the
    /// first `connect()` takes instead of opening another, and the schema cookie
    /// the worker's schema was read under on it (`handOver`).
    private var handedOver: (connection: Connection, cookie: Int64)?

    /// A worker whose ids are `transactionBase << 32 | n`. A driver passes the
    /// ticket of its base's reservation (`AckLog.reserveWriter`): its first commit waits for it.
    init(label: String, transactionBase: Int64, reservation: AckLog.Ticket? = nil, random: RandomSource, context: RunContext) {
        self.label = label
        self.transactionBase = transactionBase
        unsyncedReservation = reservation
        self.context = context
        runner = StatementRunner(log: context.log, writer: label)
        generator = context.generator
        rng = random
    }

    /// The schema this worker generates statements for.
    var schema: Schema { generator.schema }

    /// Runs the thread's iterations, stopping early when any thread finds a violation.
    func run() {
        let settings = context.settings
        for iteration in 1...settings.iterations {
            self.iteration = iteration
            if let pending = copyCheck, iteration >= pending.iteration + Self.copyCheckIterations { finishCopyCheck() }
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
            // The schema must be known before work is drawn for it.
            if cookie < 0 || schemaTrouble != nil {
                settleSchemaTrouble()
                // Unread, or the connection had to be reopened and could not be: the next iteration tries again.
                if cookie < 0 || connection == nil { continue }
            }
            let tx = nextTransaction()
            let unit = generator.next(tx: tx, using: &rng)
            switch unit {
            case .transaction(let plan): runTransaction(plan, tx: tx)
            case .maintenance(let kind): runMaintenance(kind)
            case .schemaChange(let kind): runSchemaChange(kind, tx: tx)
            }
            if schemaTrouble != nil { settleSchemaTrouble() }
            if settings.compaction.isDue(after: iteration), connection != nil { runMaintenance(.compact) }
            if settings.checkEvery > 0, iteration % settings.checkEvery == 0, let connection {
                finishCopyCheck()
                if context.workerVFS == nil {
                    check(connection)
                } else {
                    checkQuietly()
                }
            }
        }
        finishCopyCheck()
        // Every record synced (its reservation included), or its failure counted, before the outcome is told.
        context.acks.awaitSyncOfAll()
        // After a power loss nothing more may reach the files: the run abandons
        // the connection once the power has failed.
        if !context.losesPower {
            connection?.close()
            log(.disconnect)  // Its end, whether or not its last reconnect found the database open to it.
        }
        handedOver?.connection.close()
        handedOver = nil
    }

    /// Gives the worker `connection`, open on the database through SQLite's own VFS
    /// and idle: a driver's, which read on it the recorded schema the worker's
    /// work is drawn for (`RunContext.generator`) under schema cookie `cookie`
    /// (`Bookkeeping.recorded`). Its first `connect()` sets it up as a connection
    /// of its own (the same statements, logged alike) but takes that schema and
    /// cookie instead of reading them again (`loadSchema`), and saves opening the
    /// file a second time and SQLite reading its schema again. Only without
    /// storage faults (their VFS and locking are set at opening).
    func handOver(_ connection: Connection, cookie: Int64) {
        precondition(context.workerVFS == nil && !context.exclusive, "a connection handed over cannot take the fault VFS")
        handedOver = (connection, cookie)
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

    /// The transaction label of the statements that set up a connection.
    static let connectLabel = "connect"

    /// Opens the worker's connection and installs the ledger's triggers. A
    /// database locked past the busy timeout is expected trouble (counted; the
    /// next iteration tries again); any other failure to open is an `integrity`
    /// violation, since a healthy database opens, except storage trouble with no
    /// fault planted (`RunContext.noteStorageFailure`).
    private func connect(loadingSchema: Bool = true) -> Bool {
        transactionLabel = Self.connectLabel
        connection = nil
        do throws(SQLiteError) {
            // Each connection lives on one thread, so SQLite's per-call mutex is pure cost.
            let connection: Connection
            var knownCookie: Int64?
            if let handedOver {
                (connection, knownCookie) = handedOver
                self.handedOver = nil
            } else {
                connection = try Connection(path: context.settings.databasePath, flags: [.readWrite], vfs: context.workerVFS)
            }
            connection.setBusyTimeout(milliseconds: context.settings.busyTimeout)
            try prepareConnection(connection)
            installed = []
            self.connection = connection
            if let knownCookie {
                cookie = knownCookie  // The schema the work is drawn for was read under it on this connection.
            } else if loadingSchema {
                loadSchema()  // On failure (counted) the next iteration tries again.
            }
            return true
        } catch where error.isBusy {
            counters[.busyErrors] += 1
            return false
        } catch where error.isCorruption {
            return false  // Reported by `execute` as it happened.
        } catch where error.isStorageTrouble {
            count(error.code.primary == .full ? .fullErrors : .ioErrors)
            // A planted fault (or the power failed): the next iteration tries again. Else the storage's own.
            if context.workerVFS == nil {
                context.noteStorageFailure("\(label) could not open the database (line \(context.log.lineCount))", error)
            }
            return false
        } catch {
            context.report(Violation(
                property: .integrity, message: "could not open the database: \(error)",
                thread: label, logLine: context.log.lineCount))
            return false
        }
    }

    /// Per-connection settings and the ledger's context table (`installTriggers`
    /// adds the ledger's triggers as they are needed).
    func prepareConnection(_ connection: Connection) throws(SQLiteError) {
        // Exclusive locking must be set before the first read (for WAL, before the wal-index is opened).
        let statements = (context.exclusive ? ["PRAGMA locking_mode = EXCLUSIVE"] : []) + context.config.connectionStatements
            + Bookkeeping.contextStatements
        for sql in statements {
            if case .failed(let error) = execute(sql, on: connection) { throw error }
        }
    }

    /// Makes `connection` this worker's: the setup's, which made the schema this
    /// worker started with and read its `cookie`.
    func adopt(_ connection: Connection, cookie: Int64) {
        self.connection = connection
        self.cookie = cookie
        installed = []
    }

    // MARK: - The schema

    /// Reads the schema and the schema cookie in one statement (one snapshot).
    /// When the cookie moved since the last read, the work follows the schema
    /// read, and the connection's ledger triggers on tables it changed go
    /// (`dropTriggers(changedFrom:to:)`); the others stay, since the next
    /// context statement names the new cookie. Returns whether the cookie
    /// moved, or nil when the read failed (the error is counted).
    ///
    /// A TEMP trigger on a table that another connection dropped or renamed is
    /// orphaned once this connection reloads its schema: `DROP TRIGGER` no
    /// longer finds it, yet it stays in the temp schema, and every later
    /// `ALTER TABLE … RENAME` on this connection fails ("error in trigger …: no
    /// such table"). Only a new connection is rid of it, so then the connection
    /// is reopened (and logged as a reconnect, which `replay` follows).
    @discardableResult
    func loadSchema() -> Bool? {
        guard connection != nil else { return nil }
        var read: (cookie: Int64, json: String?)?
        guard execute(Bookkeeping.schemaQuery, row: { read = ($0.int64(0), $0.text(1)) }).error == nil, let read else { return nil }
        guard read.cookie != cookie else { return false }
        guard let schema = decodeSchema(read.json) else { return nil }
        let orphaned = installed.contains { ledgerName in
            ledgerName != Bookkeeping.accounts && schema.table(id: ledgerName)?.name != self.schema.table(id: ledgerName)?.name
        }
        if orphaned || !dropTriggers(changedFrom: self.schema, to: schema) { reopen() }
        cookie = read.cookie
        generator = WorkloadGenerator(schema: schema, swarm: generator.swarm)
        return true
    }

    /// Drops the ledger triggers this connection has on the tables of `ledgerNames`.
    /// False when one could not be dropped (the error counted), or one is left
    /// that `DROP TRIGGER` no longer finds (orphaned, see `loadSchema`): then
    /// only a new connection is rid of it.
    private func dropTriggers(of ledgerNames: some Sequence<String>) -> Bool {
        guard connection != nil else { return true }
        let dropping = ledgerNames.filter(installed.contains).sorted()
        guard !dropping.isEmpty else { return true }
        for ledgerName in dropping {
            for sql in TrackedTable.dropTriggerStatements(ledgerName: ledgerName) where execute(sql).error != nil { return false }
            installed.remove(ledgerName)
        }
        var left: Int64 = -1
        let check = execute(TrackedTable.countTriggersQuery) { left = $0.int64(0) }
        return check.error == nil && left == Int64(TrackedTable.triggersPerTable * installed.count)
    }

    /// Drops the ledger triggers this connection has on tables that differ
    /// between schema `old`, the one they were built for, and `new` (a column
    /// added, dropped or renamed, the table renamed or dropped): the triggers of
    /// the others record their writes under `new` as they did under `old`.
    /// See `dropTriggers(of:)`.
    private func dropTriggers(changedFrom old: Schema, to new: Schema) -> Bool {
        dropTriggers(of: installed.filter { tracked($0, in: old) != tracked($0, in: new) })
    }

    /// Closes the connection and opens a new one, with no TEMP trigger at all.
    private func reopen() {
        let label = transactionLabel
        connection?.close()
        counters[.reconnects] += 1
        context.log.append("-- \(self.label) \(label) \(SQLLog.Event.reconnect.rawValue)")
        _ = connect(loadingSchema: false)  // On failure the next iteration connects again.
        transactionLabel = label
    }

    /// A tracked table of `schema` (the worker's, unless another is named), or the accounts, by ledger name.
    private func tracked(_ ledgerName: String, in schema: Schema? = nil) -> TrackedTable? {
        if ledgerName == Bookkeeping.accounts { return .accounts }
        return (schema ?? self.schema).table(id: ledgerName).map(TrackedTable.init)
    }

    /// The statement that names `tx` and the schema cookie of the work that follows (`Bookkeeping.contextStatement`).
    private func contextStatement(_ tx: Int64) -> String {
        Bookkeeping.contextStatement(tx: tx, cookie: cookie)
    }

    /// Reads the schema again, and decides what a statement's schema trouble
    /// was: when the cookie moved, another connection changed the schema under
    /// this one (counted as `stale-schema`, expected of a concurrent workload);
    /// otherwise the statement was wrong for a schema that did not change, which
    /// a healthy SQLite never causes.
    private func settleSchemaTrouble() {
        let trouble = schemaTrouble
        schemaTrouble = nil
        switch loadSchema() {
        case true?:
            if trouble != nil { counters[.staleSchema] += 1 }
        case false?:
            if let trouble {
                counters[.unexpectedErrors] += 1
                context.noteUnexpected(trouble.description)
            }
        case nil:
            schemaTrouble = trouble  // The read failed (counted): the next unit tries again.
        }
    }

    // MARK: - Transactions

    /// Installs, outside any transaction, the ledger triggers of the tables a
    /// write to `tables` can change (foreign-key actions and user triggers reach
    /// further) that this connection lacks: created inside a transaction, a
    /// rollback would take them away again. Returns the error (counted) when
    /// one could not be created.
    func installTriggers(_ tables: Set<String>) -> SQLiteError? {
        for ledgerName in schema.affected(by: tables).sorted() where !installed.contains(ledgerName) {
            guard let table = tracked(ledgerName) else { continue }
            for sql in table.triggerStatements {
                if let error = execute(sql).error { return error }
            }
            installed.insert(ledgerName)
        }
        return nil
    }

    private func runTransaction(_ plan: TransactionPlan, tx: Int64) {
        guard installTriggers(plan.writes) == nil else { return }
        guard let begin = plan.beginSQL else {
            // Autocommit: one statement, committed by SQLite if it succeeds. The
            // triggers stamp this id on every ledger row it writes. (`execute`
            // counts every error it meets.)
            if isWrite(plan.steps[0]), execute(contextStatement(tx)).error != nil { return }
            let outcome = runStep(plan.steps[0])
            if case .ok(_, let changes) = outcome, isWrite(plan.steps[0]) {
                counters[.commits] += 1
                if let changes, changes > 0 { context.acks.acknowledge(tx) }
            }
            return
        }

        counters[.transactions] += 1
        if execute(begin).error != nil {
            return  // Nothing was opened (BEGIN IMMEDIATE/EXCLUSIVE timed out).
        }
        // The id the triggers stamp on the ledger rows of the transaction's
        // writes (nil: not this transaction's yet), set just before the first
        // write and wherever the writes change sides; and what the context
        // held at each savepoint the plan opened: a ROLLBACK TO restores it
        // (TEMP tables roll back with the rest).
        var ledgerID: Int64?
        var savepoints: [(name: String, ledgerID: Int64?)] = []
        for (index, step) in plan.steps.enumerated() {
            // Ledger entries of work the plan will undo carry -tx, like its rows.
            let wanted = plan.doomed.contains(index) ? -tx : tx
            // Only a write needs it: a read, a SAVEPOINT, a ROLLBACK TO or a RELEASE fires no trigger.
            if isWrite(step), wanted != ledgerID {
                if execute(contextStatement(wanted)).error != nil {
                    forceRollback(tx)
                    return
                }
                if transactionLost { return sqliteRolledBack(tx) }
                ledgerID = wanted
            }
            let outcome = runStep(step)
            if transactionLost { return sqliteRolledBack(tx) }
            guard let error = outcome.error else {
                switch step {
                case .savepoint(let name):
                    savepoints.append((name, ledgerID))
                case .rollbackTo(let name):
                    // SQLite rolls back to the latest savepoint of that name, which stays open.
                    // One the plan did not open: what the context holds is not known here.
                    guard let open = savepoints.lastIndex(where: { $0.name == name }) else {
                        ledgerID = nil
                        continue
                    }
                    ledgerID = savepoints[open].ledgerID
                    savepoints.removeSubrange((open + 1)...)
                case .release(let name):
                    if let open = savepoints.lastIndex(where: { $0.name == name }) { savepoints.removeSubrange(open...) }
                default:
                    break
                }
                continue
            }
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
            if schemaTrouble != nil {
                // The schema changed under the plan: the rest of it was drawn for the old one.
                forceRollback(tx)
                return
            }
            // Other errors undo only their own statement; go on.
        }
        // Nothing after the steps writes through the triggers (the commit
        // record names its transaction itself), so the context may hold -tx now.
        end(plan, tx: tx)
    }

    /// SQLite rolled the transaction back on its own.
    private func sqliteRolledBack(_ tx: Int64) {
        counters[.autoRollbacks] += 1
        counters[.rollbacks] += 1
        guard !transactionLost else {
            // Under a statement that reported success (logged then): see `transactionLost`.
            counters[.uncertainCommits] += 1
            return
        }
        log(.rolledBackBySQLite)
        context.acks.rolledBack(tx)
    }

    private func isWrite(_ step: Step) -> Bool {
        switch step {
        case .statement(let kind, _, _): kind.isWrite
        case .transfer: true
        default: false
        }
    }

    private func runStep(_ step: Step) -> StatementRunner.Outcome {
        switch step {
        case .statement(let kind, let sql, let table):
            counters[kind] += 1
            if sql.utf8.count > 8_000 { counters[.largeRows] += 1 }
            let outcome = execute(sql)
            if case .ok(_, let changes) = outcome { countFeatures(kind, table: table, changes: changes ?? 0) }
            return outcome
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
    private func transfer(from: Int, to: Int, amount: Int64, tag: Int64) -> StatementRunner.Outcome {
        let begin = execute("SAVEPOINT transfer")
        guard begin.error == nil else { return begin }
        var balance: Int64?
        var outcome = execute("SELECT balance FROM \(Bookkeeping.accounts) WHERE id = \(from)") { balance = $0.int64(0) }
        let tagColumn = Bookkeeping.tagColumn
        if outcome.error == nil, !transactionLost, let balance {
            outcome = execute("UPDATE \(Bookkeeping.accounts) SET balance = \(balance - amount), \(tagColumn) = \(tag) WHERE id = \(from)")
            if outcome.error == nil, !transactionLost {
                outcome = execute("UPDATE \(Bookkeeping.accounts) SET balance = balance + \(amount), \(tagColumn) = \(tag) WHERE id = \(to)")
            }
        }
        if transactionLost { return outcome }  // The caller ends its flow there.
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
        commit(tx, sql: sql)
    }

    /// Writes the commit record and commits; true when COMMIT returned OK (and
    /// the transaction was acknowledged).
    @discardableResult
    private func commit(_ tx: Int64, sql: String = "COMMIT") -> Bool {
        // The commit record puts the transaction in the ledger even if it changed no row.
        if execute(Bookkeeping.commitRecordStatement(tx: tx)).error != nil || transactionLost {
            abandon(tx)  // SQLite ended it, or busy upgrading to write: give way.
            return false
        }
        // COMMIT can return SQLITE_BUSY while readers hold the database
        // (rollback-journal modes); the transaction stays open and may retry.
        for _ in 0..<3 {
            let outcome = execute(sql)
            guard let error = outcome.error else {
                counters[.commits] += 1
                context.acks.acknowledge(tx)
                return true
            }
            if error.isStorageTrouble {
                // The commit may have reached the disk before the error (a WAL commit
                // frame written, its sync failed): neither acknowledged nor rolled back.
                counters[.uncertainCommits] += 1
                forceRollback()
                return false
            }
            if connection!.isAutocommit {
                // COMMIT failed, yet the transaction is over: whether it committed is
                // not known (one was seen committed after a power loss under I/O
                // faults), so it is neither acknowledged nor recorded as rolled back.
                // Without injected faults a healthy SQLite never does this.
                counters[.uncertainCommits] += 1
                if schemaTrouble?.code == error.code { schemaTrouble = nil }
                if context.workerVFS == nil {
                    counters[.unexpectedErrors] += 1
                    context.noteUnexpected("COMMIT failed but ended the transaction: \(error)")
                }
                return false
            }
            guard error.isBusy else { break }
        }
        forceRollback(tx)
        return false
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

    private func runMaintenance(_ kind: MaintenanceKind) {
        switch kind {
        case .reconnect:
            // The triggers and context go first, so a replay through one shell
            // connection drops and rebuilds them just as the run did.
            _ = dropTriggers(of: installed)
            execute("DROP TABLE IF EXISTS temp.stress_ctx")
            connection?.close()
            counters[.reconnects] += 1
            counters[kind] += 1
            log(.reconnect)
            _ = connect()  // On failure the next iteration tries again.
        case .incrementalVacuum:
            if execute("PRAGMA incremental_vacuum(8)").error == nil {
                counters[.vacuums] += 1
                counters[kind] += 1
            }
        case .checkpointPassive, .checkpointFull, .checkpointRestart, .checkpointTruncate:
            let mode = ["PASSIVE", "FULL", "RESTART", "TRUNCATE"][MaintenanceKind.checkpoints.firstIndex(of: kind)!]
            var incomplete = false, moved = false, wal = false
            let outcome = execute("PRAGMA wal_checkpoint(\(mode))") { statement in
                // (busy, log frames, checkpointed frames): busy = 1 means it could not finish;
                // -1 frames: the database is not in WAL mode and nothing was done.
                if statement.int64(0) != 0 { incomplete = true }
                if statement.int64(1) >= 0 { wal = true }
                if statement.int64(2) > 0 { moved = true }
            }
            if outcome.error == nil, wal {
                counters[.checkpoints] += 1
                counters[kind] += 1
                if incomplete { counters[.checkpointsIncomplete] += 1 }
                if moved { counters[.checkpointsMovedFrames] += 1 }
            }
        case .vacuumInto:
            vacuumInto()
        case .compact:
            if compact() { counters[kind] += 1 }
        case .vacuum, .reindex, .analyze, .optimize:
            let sql: String
            switch kind {
            case .vacuum: sql = "VACUUM"
            case .reindex:
                sql = rng.pick(["REINDEX", "REINDEX " + quoteIdentifier(rng.pick(schema.tables).name), "REINDEX NOCASE"])
            case .analyze: sql = rng.chance(0.5) ? "ANALYZE" : "ANALYZE " + quoteIdentifier(rng.pick(schema.tables).name)
            default: sql = "PRAGMA optimize"
            }
            if execute(sql).error == nil { counters[kind] += 1 }
            // VACUUM moves the schema cookie, and ANALYZE may (creating sqlite_stat1):
            // follow it now rather than through the triggers' guard.
            settleSchemaTrouble()
        }
    }

    /// One ledger compaction (`Compaction`), in a write transaction of its own,
    /// folding the acknowledgements written since the last one when they hold;
    /// true when it committed. A compaction that fails is rolled back whole.
    ///
    /// It is a transaction of the writer's like any other: an id of its own, a
    /// commit record just before its COMMIT, acknowledged once it committed and
    /// recorded as rolled back when it did not. So `durability` and `rollback`
    /// judge compactions too, and when its writer is killed after its last
    /// statement, the run's database says whether it committed (`replay`).
    private func compact() -> Bool {
        let tx = nextTransaction()
        guard execute("BEGIN IMMEDIATE").error == nil else { return false }
        // The log's length once this transaction holds the write lock: every
        // commit acknowledged in it is in the transaction's snapshot.
        var fold: Compaction.Fold?
        do {
            let length = Int(DatabaseFile.size(of: context.acks.path))
            fold = try Compaction.fold(connection: connection!, acknowledgements: context.acks.path, length: length)
        } catch let error as ToolError {
            // The log unreadable (removed under the run, say): nothing is folded, and
            // the next check, which cannot read it either, reports the evidence it lacks.
            context.log.append("-- \(label) compact: the acknowledgements are not folded: \(error.message)")
            fold = nil
        } catch {
            // The database could not be read (a fault, or damage that the check will report): no compaction.
            abandon(tx)
            return false
        }
        // SQLite can end a transaction under a read that reports success (see
        // `transactionLost`); `execute` looks after each statement it runs, and the
        // fold's reads are not its. Gone here, the transaction wrote nothing, and the
        // compaction's statements must not run on their own, outside any transaction
        // and its write lock (its fold's mark could then move back behind another
        // compaction's, which folded records whose ledger entries it removed).
        if connection!.isAutocommit {
            abandon(tx)
            return false
        }
        // The records folded are synced before the fold can commit, whatever the
        // synchronous level: a mark committed past the log's end as a real power
        // cut or OS crash leaves it would stop every later check (exit 2).
        if fold != nil && !context.acks.syncFile() {
            context.log.append("-- \(label) compact: the acknowledgements are not folded: the log could not be synced")
            fold = nil
        }
        for sql in Compaction.statements(folding: fold) {
            var places: [Compaction.Place] = []
            let outcome = sql == Compaction.orderQuery ? execute(sql) { places.append(($0.int64(0), $0.int64(1))) } : execute(sql)
            if outcome.error != nil || transactionLost {
                abandon(tx)
                return false
            }
            if sql == Compaction.orderQuery {
                context.log.append(Compaction.orderLine(writer: label, transaction: transactionLabel, places: places), flush: false)
            }
        }
        return commit(tx)
    }

    /// VACUUM INTO a new file, then every property checked on the copy as of
    /// its snapshot, beside the worker's next transactions (`CopyCheck`):
    /// durability holds it to the transactions acknowledged before the VACUUM
    /// INTO began (the acknowledgement log as long as it was then). A copy that
    /// fails is kept, and named in the violations; one that passes is removed
    /// (`finishCopyCheck`). Under storage faults the copy is written through the
    /// faulty VFS, so it is made but not judged.
    private func vacuumInto() {
        // The previous copy has the same name: its check ends first, and a copy that failed is kept (the run stops).
        finishCopyCheck()
        if context.stop.load(ordering: .relaxed) { return }
        CopyFile.removeAbandoned(besides: context.settings.databasePath)
        let file: CopyFile
        switch CopyFile.create(context.settings.databasePath + ".copy-" + label) {
        case .success(let created): file = created
        case .failure(let error):
            counters[.unexpectedErrors] += 1
            context.noteUnexpected(error.message)
            return
        }
        let acknowledged = Int(DatabaseFile.size(of: context.acks.path))
        guard execute("VACUUM INTO \(SQLValue.text(file.path).sqlLiteral)").error == nil else { return file.discard() }
        counters[.vacuumInto] += 1
        guard context.workerVFS == nil else { return file.discard() }
        copyCheck = CopyCheck(
            copy: file, iteration: iteration, who: "\(label) (VACUUM INTO copy)", logLine: context.log.lineCount,
            acknowledgements: context.acks.path, acknowledgedBytes: acknowledged,
            randomness: context.settings.randomness.derived("copy-\(label)", counters[.copiesChecked]))
    }

    /// How many iterations a copy's check may run beside the work before the
    /// worker waits for it: enough for a check of a few to tens of milliseconds
    /// to end beside the work, not hold the writer (BENCHMARKS.md).
    static let copyCheckIterations = 64

    /// Takes the outcome of the pending copy check, if any (waiting for it):
    /// counted, its violations reported (the copy kept, the run stopped), the copy
    /// removed when it passed.
    private func finishCopyCheck() {
        guard let pending = copyCheck else { return }
        copyCheck = nil
        let report: CheckReport
        switch pending.finish() {
        case .success(let finished): report = finished
        case .failure(let error):
            counters[.unexpectedErrors] += 1
            context.noteUnexpected("the VACUUM INTO copy \(pending.copy.path) could not be checked: \(error)")
            pending.copy.discard()
            return
        }
        counters[.copiesChecked] += 1
        StressAssertions.record(report, knownSQLiteBugs: context.knownSQLiteBugs)
        guard report.passed else {
            let kept = pending.copy.keepFailed()
            context.log.append("-- \(label) \(transactionLabel) the VACUUM INTO copy failed its check; kept as \(kept)")
            let violations = report.violations.map { violation -> Violation in
                var violation = violation
                violation.details["database"] = kept
                return violation
            }
            context.violations.withLock { $0 += violations }
            context.stop.store(true, ordering: .relaxed)
            return
        }
        pending.copy.discard()
    }

    // MARK: - Schema changes

    /// One schema change in a transaction of its own (BEGIN IMMEDIATE): the
    /// schema is read inside it, so the change drawn is valid for the schema as
    /// it is; this connection's ledger triggers on the tables it changes are
    /// dropped; the change is made; the ledger's latest images are rebased to
    /// the table's new layout; the new schema is recorded in `stress_meta` and
    /// the change in the ledger; then COMMIT.
    private func runSchemaChange(_ kind: SchemaChangeKind, tx: Int64) {
        if kind == .rollback { return runSchemaRollback(tx: tx) }
        counters[.transactions] += 1
        guard execute("BEGIN IMMEDIATE").error == nil else { return }
        guard let current = readSchema() else { return forceRollback(tx) }
        if transactionLost { return sqliteRolledBack(tx) }
        guard let change = SchemaChange.draw(kind, in: current, using: &rng) else {
            counters[.schemaChangesUnavailable] += 1
            if execute("ROLLBACK").error != nil { forceRollback() }  // Nothing was written.
            return
        }
        // This connection's own triggers must not stand in the way (DROP COLUMN
        // refuses to break one); they are rebuilt for the new schema as needed.
        // Dropped inside the transaction, they come back if it rolls back.
        let kept = installed
        guard dropTriggers(changedFrom: schema, to: change.schema), !transactionLost else {
            // An orphaned trigger (see `loadSchema`), or the drop failed: nothing was written.
            if !connection!.isAutocommit, execute("ROLLBACK").error != nil { forceRollback() }
            return reopen()
        }
        guard apply(change, ledgerID: tx) else {
            abandon(tx)
            return triggersBack(kept)
        }
        if commit(tx) {
            counters[.schemaChangesCommitted] += 1
            counters[kind] += 1
        } else if connection != nil {
            // Whether the drops committed with the change is not always known (see `commit`).
            reopen()
        }
        settleSchemaTrouble()  // Follows the change just made.
    }

    /// After a transaction that dropped ledger triggers was rolled back: they
    /// are back, `kept`. But when SQLite ended it under a statement that
    /// reported success (`transactionLost`), the statements after that one ran
    /// on their own, and which drops committed is not known: only a new
    /// connection is known to have no trigger at all.
    private func triggersBack(_ kept: Set<String>) {
        guard connection != nil else { return }  // Abandoned: the next `connect()` starts afresh.
        if transactionLost { reopen() } else { installed = kept }
    }

    /// A schema change inside a transaction, with writes before it and after it
    /// (the latter for the changed schema, through ledger triggers rebuilt inside
    /// the transaction), then rolled back: the whole transaction, or a savepoint
    /// taken just before the change, after which the writes before it commit.
    /// Everything the rollback undoes carries -tx, the change's records included,
    /// so a trace of it left behind is a `rollback` or `schema` violation.
    private func runSchemaRollback(tx: Int64) {
        let whole = rng.chance(0.5)
        let kept = whole ? -tx : tx
        var writes: Set<String> = []
        let before = (0..<rng.int(in: 0...2)).compactMap { _ in generator.randomStatement(tag: kept, writes: &writes, using: &rng) }
        guard installTriggers(writes) == nil, execute(contextStatement(kept)).error == nil else { return }
        counters[.transactions] += 1
        guard execute(rng.chance(0.5) ? "BEGIN IMMEDIATE" : "BEGIN").error == nil else { return }
        let saved = (installed, cookie, generator)
        defer {
            (installed, cookie, generator) = saved
            triggersBack(saved.0)
        }
        for step in before where stops(runStep(step)) { return abandon(tx) }
        if !whole {
            guard runStep(.savepoint("ddl")).error == nil, execute(contextStatement(-tx)).error == nil,
                  !transactionLost else {
                return abandon(tx)
            }
        }
        guard let current = readSchema(), !transactionLost else { return abandon(tx) }
        var changed = false
        if let change = SchemaChange.draw(rng.pick(SchemaChangeKind.changes), in: current, using: &rng) {
            // Inside the transaction: the rollback brings them back.
            guard dropTriggers(changedFrom: schema, to: change.schema), !transactionLost else { return abandon(tx) }
            changed = apply(change, ledgerID: -tx)
            if changed {
                // Writes for the changed schema, through triggers built for it.
                var inside: Int64 = -1
                guard execute(Bookkeeping.cookieQuery, row: { inside = $0.int64(0) }).error == nil, !transactionLost else {
                    return abandon(tx)
                }
                cookie = inside
                generator = WorkloadGenerator(schema: change.schema, swarm: generator.swarm)
                var after: Set<String> = []
                let steps = (0..<rng.int(in: 1...3)).compactMap { _ in generator.randomStatement(tag: -tx, writes: &after, using: &rng) }
                guard installTriggers(after) == nil, execute(contextStatement(-tx)).error == nil, !transactionLost else {
                    return abandon(tx)
                }
                for step in steps where stops(runStep(step)) { return abandon(tx) }
            }
            if connection!.isAutocommit { return abandon(tx) }
        } else {
            counters[.schemaChangesUnavailable] += 1
        }
        if whole {
            guard execute("ROLLBACK").error == nil else { return abandon(tx) }
            counters[.rollbacks] += 1
            context.acks.rolledBack(tx)
        } else {
            guard runStep(.rollbackTo("ddl")).error == nil, runStep(.release("ddl")).error == nil, !transactionLost else {
                return abandon(tx)
            }
            (installed, cookie, generator) = saved
            guard execute(contextStatement(tx)).error == nil, !transactionLost else { return abandon(tx) }
            guard commit(tx) else { return }
        }
        if changed {
            counters[.schemaChangesRolledBack] += 1
            counters[.rollback] += 1
        }
    }

    /// Whether a step of a schema rollback's transaction ends it: SQLite ended
    /// the transaction (with an error, or under a success), or it is busy.
    private func stops(_ outcome: StatementRunner.Outcome) -> Bool {
        if transactionLost { return true }
        guard let error = outcome.error else { return false }
        return error.isBusy || connection!.isAutocommit
    }

    /// The writer's next transaction id, its number logged as `x<n>` from here on.
    private func nextTransaction() -> Int64 {
        transactionNumber += 1
        transactionLabel = "x\(transactionNumber)"
        return TransactionID.make(base: transactionBase, number: transactionNumber)
    }

    /// Gives up a transaction that went wrong: rolled back (recorded as such) if it is still open,
    /// or recorded as rolled back by SQLite when SQLite ended it.
    private func abandon(_ tx: Int64) {
        if connection!.isAutocommit { sqliteRolledBack(tx) } else { forceRollback(tx) }
    }

    /// The recorded schema, read inside the current transaction; nil (counted) when it cannot be read.
    private func readSchema() -> Schema? {
        var json: String?
        guard execute("SELECT value FROM \(Bookkeeping.meta) WHERE key = 'schema'", row: { json = $0.text(0) }).error == nil else {
            return nil
        }
        return decodeSchema(json)
    }

    /// The schema `stress_meta` holds, or nil (counted as unexpected, with why)
    /// when there is none or it does not decode: damage the checks report.
    /// The same text decodes to the same schema, so the latest few are kept
    /// (`decoded`): VACUUM and ANALYZE move the cookie without changing the
    /// schema, a schema change first reads the schema it starts from, and the
    /// worker's own schema changes are kept as they are written (`apply`).
    private func decodeSchema(_ json: String?) -> Schema? {
        do {
            guard let json else { throw ToolError("it has none") }
            if let index = decoded.firstIndex(where: { $0.json == json }) { return decoded[index].schema }
            let schema = try SchemaJSON.schema(json)
            remember(json, schema)
            return schema
        } catch {
            counters[.unexpectedErrors] += 1
            context.noteUnexpected("\(Bookkeeping.meta) holds no schema that can be read: \(error)")
            return nil
        }
    }

    /// Keeps `schema` as what `json` decodes to, among the latest few (`decoded`).
    private func remember(_ json: String, _ schema: Schema) {
        decoded.insert((json, schema), at: 0)
        if decoded.count > 4 { decoded.removeLast() }
    }

    /// Makes `change` inside the open transaction: its statements, the ledger's
    /// rebase, and its records (`Bookkeeping.schemaChangeStatements`), all under
    /// `ledgerID`. False when a statement failed (its error counted).
    private func apply(_ change: SchemaChange, ledgerID: Int64) -> Bool {
        for sql in change.statements where execute(sql).error != nil || transactionLost { return false }
        if let rebase = change.rebase, !rebaseLedger(rebase, ledgerID: ledgerID) || transactionLost { return false }
        let json = SchemaJSON.text(of: change.schema)
        for sql in Bookkeeping.schemaChangeStatements(change, json: json, tx: ledgerID) where execute(sql).error != nil || transactionLost {
            return false
        }
        // Read back once it commits, the text decodes to this very schema: kept, not parsed again.
        remember(json, change.schema)
        return true
    }

    /// Rewrites the ledger so each live row's latest image has the table's new
    /// layout: an entry per live key, computed from the ledger's own latest image
    /// (never from the table, or a fault of ALTER TABLE would be taken as expected).
    private func rebaseLedger(_ rebase: SchemaChange.Rebase, ledgerID: Int64) -> Bool {
        switch rebase {
        case .append(let table, let field):
            let sql = "INSERT INTO \(Bookkeeping.ledger) (tx, tbl, key, image) "
                + "SELECT \(ledgerID), tbl, key, image || ',' || \(RowImage.literal(field)) "
                + "FROM (\(Bookkeeping.latestEntriesQuery(table))) WHERE image IS NOT NULL"
            return execute(sql).error == nil
        case .remove(let table, let position, let columns):
            var rows: [String] = []
            let read = execute("SELECT key, image FROM (\(Bookkeeping.latestEntriesQuery(table))) WHERE image IS NOT NULL") { row in
                // An image that is not one of `columns` fields is damaged: left as it is, for `model` to report.
                guard row.columnType(1) == .text,
                      var fields = RowImage.fields(Array(row.unsafeBytes(1)), count: columns) else { return }
                fields.remove(at: position)
                let image = Array(fields.joined(separator: [UInt8(ascii: ",")]))
                rows.append("(\(ledgerID), \(SQLValue.text(table).sqlLiteral), \(Self.exactLiteral(row, 0)), \(RowImage.literal(image)))")
            }
            guard read.error == nil, !transactionLost else { return false }
            for start in stride(from: 0, to: rows.count, by: 100) {
                let sql = "INSERT INTO \(Bookkeeping.ledger) (tx, tbl, key, image) VALUES "
                    + rows[start..<min(rows.count, start + 100)].joined(separator: ", ")
                if execute(sql).error != nil || transactionLost { return false }
            }
            return true
        }
    }

    /// Column `index` of `row` as a literal of the very same value: text byte
    /// for byte (SQLite's text need not be valid UTF-8, a Swift `String` is).
    private static func exactLiteral(_ row: Statement, _ index: Int) -> String {
        guard row.columnType(index) == .text else { return row.column(index).sqlLiteral }
        return "CAST(\(SQLValue.blob(Array(row.unsafeBytes(index))).sqlLiteral) AS TEXT)"
    }

    /// Counts the schema features a statement exercised (`SchemaFeature`).
    private func countFeatures(_ kind: StatementKind, table: String?, changes: Int) {
        if kind == .selectView, table == nil { counters[.view] += 1 }
        guard kind.isWrite, changes > 0, let table, let found = schema.table(id: table) else { return }
        for feature in schema.features(of: found) {
            switch feature {
            case .foreignKeyAction where ![.update, .upsert, .deleteByKey, .deleteByRange, .insertOrReplace].contains(kind): continue
            case .autoincrement where ![.insert, .insertOrIgnore, .insertOrReplace, .upsert].contains(kind): continue
            default: counters[feature] += 1
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
                property: .integrity, message: "the check could not read the database: \(error)",
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
        StressAssertions.record(report, knownSQLiteBugs: context.knownSQLiteBugs)
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
            path: context.settings.databasePath, flags: [.readWrite], vfs: FaultInjector.quietVFSName) else {
            counters[.checksSkipped] += 1
            return
        }
        connection.setBusyTimeout(milliseconds: context.settings.busyTimeout)
        check(connection)
        connection.close()
    }

    /// The end-of-run check, on a fresh connection, as a new process would see
    /// the file. Whether it ran to a report (a busy database or an unreadable
    /// acknowledgement log skips it, which the run's verdict must say).
    func finalCheck() -> Bool {
        do {
            let connection = try Connection(path: context.settings.databasePath, flags: [.readWrite])
            connection.setBusyTimeout(milliseconds: context.settings.busyTimeout)
            defer { connection.close() }
            return check(connection) != nil
        } catch where error.isStorageTrouble {
            context.noteStorageFailure("the final check could not reopen the database", error)
            return false
        } catch {
            context.report(Violation(
                property: .integrity, message: "could not reopen the database for the final check: \(error)",
                thread: label, logLine: context.log.lineCount))
            return false
        }
    }

    // MARK: - Executing and logging

    /// Runs one statement to completion and logs it (`StatementRunner`), counts
    /// it and its errors, and reports SQLITE_CORRUPT / SQLITE_NOTADB as integrity violations.
    @discardableResult
    func execute(_ sql: String, on explicit: Connection? = nil, row: ((Statement) -> Void)? = nil) -> StatementRunner.Outcome {
        let connection = explicit ?? self.connection!
        if unsyncedReservation != nil, StatementRunner.mayCommitLedgerEntries(sql, autocommit: connection.isAutocommit) {
            awaitReservation()
        }
        counters[.statements] += 1
        context.statementsDone.add(1, ordering: .relaxed)
        let open = !connection.isAutocommit
        let (outcome, logLine) = runner.execute(sql, on: connection, transaction: transactionLabel, row: row)
        if open, connection.isAutocommit, outcome.error == nil,
           !StatementRunner.mayEndTransaction(sql, openedBy: openingSavepoint) {
            transactionLost = true
            log(.rolledBackBySQLite)
        } else if !open, !connection.isAutocommit {
            transactionLost = false  // A transaction began.
            openingSavepoint = StatementRunner.openedSavepoint(sql)
        }
        if let error = outcome.error, classify(error) == .corruption {
            context.report(Violation(
                property: .integrity, message: "SQLite reported corruption: \(error.message)",
                thread: label, logLine: logLine, details: ["error": error.code.name, "sql": String(sql.prefix(200))]))
        }
        return outcome
    }

    /// Waits until this worker's reservation of its ids is on stable storage (`AckLog`).
    private func awaitReservation() {
        guard let reservation = unsyncedReservation else { return }
        context.acks.awaitSync(reservation)
        unsyncedReservation = nil
    }

    /// Counts trouble of `counter`'s kind; a full disk or an I/O error is also
    /// one the known SQLite bugs care for (`RunContext.metCleanFailure`).
    private func count(_ counter: Counter) {
        counters[counter] += 1
        if counter == .fullErrors || counter == .ioErrors { context.metCleanFailure.store(true, ordering: .relaxed) }
    }

    /// Counts an error by kind (`StatementRunner.classify`). An error a schema
    /// change explains is held in `schemaTrouble` until `settleSchemaTrouble`
    /// knows whether one happened.
    @discardableResult
    private func classify(_ error: SQLiteError) -> StatementRunner.Trouble {
        let trouble = StatementRunner.classify(error, faultsInjected: context.workerVFS != nil)
        switch trouble {
        case .counted(let counter): count(counter)
        case .schema: schemaTrouble = schemaTrouble ?? error
        case .corruption: break  // Reported as a violation.
        case .unexpected where error.code == .readonlyDBMoved || (error.code.primary == .readonly && context.workerVFS == nil):
            // Not SQLite's doing: the database file was removed or renamed under the run, or SQLite could
            // open it only for reading (a read-only file system, no write permission), which no write gets past.
            counters[.unexpectedErrors] += 1
            context.noteStorageFailure("\(label) cannot write the database", error)
        case .unexpected:
            counters[.unexpectedErrors] += 1
            context.noteUnexpected(error.description)
        }
        return trouble
    }
}
