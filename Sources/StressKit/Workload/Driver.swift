#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressAntithesis
import StressSQLite

/// The composed drivers: each invocation is one short process doing one random
/// batch against a database `schema` made, with the same ledger, tags and
/// acknowledgements as the monolith, so any number of them can run at once, in
/// separate processes and containers, and be killed at any instant.
public enum DriverKind: String, CaseIterable, Sendable {
    case insert, update, delete, rollback, transfer
    /// Nested savepoints, released and rolled back to, in transactions that mostly commit.
    case savepoint
    case createTable = "create-table"
    case dropTable = "drop-table"
    case createIndex = "create-index"
    case dropIndex = "drop-index"
    /// ALTER TABLE: ADD COLUMN, RENAME COLUMN, DROP COLUMN, RENAME TO.
    case alterTable = "alter-table"
    /// Schema changes inside transactions and savepoints that are then rolled back.
    case schemaRollback = "schema-rollback"
    /// VACUUM, VACUUM INTO (the copy checked), incremental vacuum.
    case vacuum
    /// WAL checkpoints of every mode.
    case checkpoint
    /// ANALYZE, REINDEX and PRAGMA optimize.
    case analyze
    /// Ledger compaction (`Compaction`): what keeps a database of hours as small as its data.
    case compact

    /// The statements the driver issues.
    var statements: [StatementKind] {
        switch self {
        case .insert: [.insert, .insertOrIgnore, .insertOrReplace, .upsert]
        case .update: [.update, .upsert]
        case .delete: [.deleteByKey, .deleteByRange]
        case .rollback, .savepoint: [.insert, .insertOrReplace, .upsert, .update, .deleteByKey, .deleteByRange, .transfer]
        case .transfer: [.transfer]
        case .schemaRollback: [.insert, .insertOrReplace, .upsert, .update, .deleteByKey, .deleteByRange]
        case .createTable, .dropTable, .createIndex, .dropIndex, .alterTable, .vacuum, .checkpoint, .analyze, .compact: []
        }
    }

    /// The schema changes the driver makes.
    var schemaChanges: [SchemaChangeKind] {
        switch self {
        case .createTable: [.createTable]
        case .dropTable: [.dropTable]
        case .createIndex: [.createIndex]
        case .dropIndex: [.dropIndex]
        case .alterTable: [.addColumn, .renameColumn, .dropColumn, .renameTable]
        case .schemaRollback: [.rollback]
        default: []
        }
    }

    /// The maintenance the driver does: its own for the maintenance drivers, none
    /// for those that change the schema, and for those that write rows
    /// checkpoints, reconnects and incremental vacuums as the swarm draws them (nil).
    var maintenance: [MaintenanceKind]? {
        switch self {
        case .vacuum: [.vacuum, .vacuumInto, .incrementalVacuum]
        case .checkpoint: MaintenanceKind.checkpoints
        case .analyze: [.analyze, .reindex, .optimize]
        case .compact: [.compact]
        case .createTable, .dropTable, .createIndex, .dropIndex, .alterTable, .schemaRollback: []
        default: nil
        }
    }

    /// Whether the driver runs transactions of statements (the others only change the schema or maintain).
    var writesRows: Bool { !statements.isEmpty && self != .schemaRollback }

    /// The driver's swarm: its own statements, schema changes and maintenance
    /// with random weights, the rest off.
    func swarm(using rng: inout some RandomNumberGenerator) -> Swarm {
        var swarm = Swarm.generate(using: &rng)
        for kind in StatementKind.allCases {
            swarm.statements[kind] = statements.contains(kind) ? rng.int(in: 1...10) : 0
        }
        swarm.statements[.select] = writesRows ? rng.int(in: 0...3) : 0
        swarm.statements[.selectView] = writesRows ? rng.int(in: 0...2) : 0
        swarm.maxStatements = rng.pick([3, 10, 30])
        for kind in SchemaChangeKind.allCases { swarm.schemaChanges[kind] = schemaChanges.contains(kind) ? rng.int(in: 1...3) : 0 }
        let old: Set<MaintenanceKind> = Set(MaintenanceKind.checkpoints + [.reconnect, .incrementalVacuum])
        for kind in MaintenanceKind.allCases {
            if let maintenance {
                swarm.maintenance[kind] = maintenance.contains(kind) ? rng.int(in: 1...3) : 0
            } else if !old.contains(kind) {
                swarm.maintenance[kind] = 0
            }
        }
        if !writesRows { swarm.transactionWeight = 0 }
        switch self {
        case .rollback:
            // Writes that are then rolled back: whole transactions, or to a savepoint.
            swarm.transactions[.autocommit] = 0
            if !TransactionKind.allCases.contains(where: { swarm.transactions[$0]! > 0 }) { swarm.transactions[.deferred] = 1 }
            swarm.rollbackPercent = rng.int(in: 40...90)
            swarm.savepointPercent = rng.int(in: 30...60)
        case .savepoint:
            // Savepoints inside savepoints, released or rolled back to; the transaction mostly commits.
            swarm.transactions[.autocommit] = 0
            if !TransactionKind.allCases.contains(where: { swarm.transactions[$0]! > 0 }) { swarm.transactions[.immediate] = 1 }
            swarm.rollbackPercent = rng.int(in: 0...10)
            swarm.savepointPercent = rng.int(in: 50...80)
            swarm.maxStatements = rng.pick([10, 30])
        default:
            break
        }
        return swarm
    }
}

/// The outcome of one driver invocation.
public struct DriverOutcome: Sendable {
    public var kind: DriverKind
    public var databasePath: String
    /// The seed, or Antithesis's randomness at every choice.
    public var randomness: Randomness
    public var label: String
    public var counters: Counters
    public var violations: [Violation]
    public var unexpectedErrors: [String]
    public var elapsed: Double
    /// What the storage faults did, when the invocation injected any.
    public var faults: FaultReport?
    /// Evidence the invocation could not record (a full disk): what no check can verify.
    public var incompleteEvidence: [EvidenceGap] = []
    /// Stopped by Ctrl-C (or SIGTERM) after `unitsDone` of `units` units of work.
    public var interrupted = false
    public var unitsDone = 0
    public var units = 0
    /// Why the batch stopped without a verdict: the storage under the database
    /// failed with no fault planted (`RunContext.noteStorageFailure`).
    public var storageFailure: String?
    /// The SDK output's first failure to take a message, set as the result is
    /// printed: its JSON then says it, and a "pass" is "error" (exit status 2).
    public var sdkOutputFailure: String?

    public var passed: Bool { violations.isEmpty }

    /// 0 no property violated; 1 one was; 2 the storage failed under the batch
    /// with nothing found; 130 (128 + the signal) stopped by Ctrl-C with nothing found.
    public var exitStatus: Int32 {
        if !violations.isEmpty { return 1 }
        if storageFailure != nil { return 2 }
        return interrupted ? Interrupt.exitStatus : 0
    }

    /// The reproduce line, when the choices came from a seed. Not exact: other
    /// writers have changed the database since, so it runs the same choices on a
    /// copy of the database as it is now (`stress.db` → `stress-repro.db`,
    /// with its WAL or rollback journal and its acknowledgement log, which a
    /// driver requires), never on the database itself.
    public var reproduce: String? {
        guard let seed = randomness.seed else { return nil }
        let copy = DatabaseFile.reproductionPath(databasePath)
        let faultArguments = ((faults?.plan.arguments ?? []) + SQLiteChoice.reproduceArguments)
            .map(DatabaseFile.shellQuote).joined(separator: " ")
        let (from, to) = (DatabaseFile.shellQuote(databasePath), DatabaseFile.shellQuote(copy))
        return "for f in '' -wal -shm -journal .acks; do rm -f \(to)$f; [ ! -e \(from)$f ] || cp \(from)$f \(to)$f; done; "
            + "sqlite-stress \(kind.rawValue) --db \(to) --seed \(Seed.format(seed))"
            + (faultArguments.isEmpty ? "" : " " + faultArguments)
    }

    public var summary: String {
        let c = counters
        var lines = ["sqlite-stress \(kind.rawValue) (\(label)): \(databasePath), \(randomness.description)", SQLiteChoice.line]
        let operations = StatementKind.allCases.filter { c[$0] > 0 }.map { "\($0.rawValue) \(c[$0])" }
        lines.append("operations: " + (operations.isEmpty ? "none" : operations.joined(separator: ", ")))
        lines.append("transactions: \(Format.count(c[.commits], "commit")), \(Format.count(c[.rollbacks], "rollback")), "
            + "\(Format.count(c[.savepointRollbacks], "savepoint rollback")); "
            + "errors: busy \(c[.busyErrors]), locked \(c[.lockedErrors]), constraint \(c[.constraintErrors]), "
            + "full \(c[.fullErrors]), i/o \(c[.ioErrors]), unexpected \(c[.unexpectedErrors])")
        if let faults { lines.append(faults.summary) }
        for error in unexpectedErrors { lines.append("unexpected error: \(error)") }
        for gap in incompleteEvidence { lines.append("incomplete evidence: \(gap)") }
        for violation in violations { lines.append(violation.description) }
        if passed, let storageFailure {
            lines.append(StressReport.storageFailureResult(storageFailure))
        } else if passed, interrupted {
            lines.append("result: INTERRUPTED after \(unitsDone) of \(Format.count(units, "unit")) of work, "
                + "no violation so far, in \(Format.fixed(elapsed, 3)) s" + EvidenceGap.verdictClause(incompleteEvidence))
        } else {
            lines.append("result: \(passed ? "PASS" : "FAIL") in \(Format.fixed(elapsed, 3)) s"
                + (interrupted ? " (interrupted)" : "") + EvidenceGap.verdictClause(incompleteEvidence))
        }
        if !passed {
            lines.append(reproduce.map {
                "reproduce (not exact: other writers changed the database since; this runs the same choices on a copy): " + $0
            } ?? "reproduce: " + Randomness.notReproducible)
        }
        return lines.joined(separator: "\n")
    }

    public func json() -> String {
        struct Document: Encodable {
            let command: String, result: String, database: String, randomness: String, seed: String?, label: String
            let reproduce: String?
            let counters: [String: Int], operations: [String: Int], maintenance: [String: Int], schemaChanges: [String: Int]
            let schemaFeatures: [String: Int], violations: [Violation], unexpectedErrors: [String]
            let elapsedSeconds: Double
            let faults: FaultReport?
            let incompleteEvidence: [EvidenceGap]
            let sqlite: SQLiteLibrary
            let storageFailure: String?
            let sdkOutputFailure: String?
        }
        return prettyJSON(Document(
            command: kind.rawValue,
            result: resultWord(
                !passed ? "fail" : storageFailure != nil ? "error" : interrupted ? "interrupted" : "pass", sdkOutputFailure: sdkOutputFailure),
            database: databasePath,
            randomness: randomness.kind, seed: randomness.seed.map(Seed.format), label: label, reproduce: reproduce,
            counters: counters.asDictionary, operations: counters.operations,
            maintenance: counters.maintenance, schemaChanges: counters.schemaChanges, schemaFeatures: counters.features, violations: violations,
            unexpectedErrors: unexpectedErrors, elapsedSeconds: elapsed, faults: faults, incompleteEvidence: incompleteEvidence,
            sqlite: SQLiteChoice.library, storageFailure: storageFailure, sdkOutputFailure: sdkOutputFailure))
    }
}

extension DriverKind {
    /// Checks, before a driver writes anything, the two logs it appends to
    /// beside the database at `path`: the acknowledgement log must hold the
    /// database's records; the SQL log may be missing (it is the run's script,
    /// not evidence, and is started afresh). Neither may be a file this tool
    /// did not write.
    static func checkLogs(of path: String) throws(ToolError) {
        try AckLog.checkWritable(at: AckLog.path(for: path), appending: true)
        try SQLLog.checkWritable(at: SQLLog.path(for: path), appending: true)
    }

    /// Runs one batch against the database at `path`, every choice drawn from
    /// `randomness` (the seed's `<kind>` stream, or Antithesis at every choice).
    ///
    /// With `faults`, the batch runs through the fault-injecting VFS. A plan that
    /// loses power holds the database exclusively for the whole batch (others
    /// wait on their busy timeouts), so that when the power fails the files can
    /// be rewritten with no other process reading them; the lock is released
    /// only after the rewrite, and the next opener recovers.
    public func run(
        databasePath path: String, randomness: Randomness, busyTimeout: Int,
        faults: FaultPlan = FaultPlan(), logLimit: Int64? = SQLLog.defaultLimit
    ) throws(ToolError) -> DriverOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let probe: Connection
        do {
            probe = try CheckCommand.openInitialised(path, busyTimeout: busyTimeout)
        } catch let error where error.isBusy {
            // Locked past the busy timeout (another process holds it): expected
            // trouble for a concurrent workload; this batch simply does nothing.
            var counters = Counters()
            counters[.busyErrors] = 1
            return DriverOutcome(
                kind: self, databasePath: path, randomness: randomness, label: "locked out", counters: counters, violations: [],
                unexpectedErrors: [], elapsed: start.duration(to: clock.now).seconds, faults: nil)
        }
        let schema: Schema, cookie: Int64, config: DatabaseConfig
        do {
            (schema, cookie, config) = try Bookkeeping.recorded(in: probe)
        } catch let error as SQLiteError where error.isCorruption {
            // A database of ours that cannot be read any more: what the oracle exists to report,
            // with the known SQLite bugs its writers could have met, as `check` names them
            // (the journal mode from the header, the recorded one being unreadable).
            probe.close()
            let violation = Violation(
                property: .integrity, message: "the database could not be read: \(error)", thread: rawValue, logLine: 0,
                details: ["error": error.code.name])
            StressAssertions.record(violation, knownSQLiteBugs: KnownSQLiteBug.ofKilledWriters(of: path, recorded: nil))
            return DriverOutcome(
                kind: self, databasePath: path, randomness: randomness, label: rawValue, counters: Counters(), violations: [violation],
                unexpectedErrors: [], elapsed: start.duration(to: clock.now).seconds, faults: nil)
        } catch {
            probe.close()
            throw ToolError("\(path) has no readable sqlite-stress schema (\(error)); run `sqlite-stress schema` first.")
        }
        if let why = faults.unverifiable(at: config.synchronous) {
            probe.close()
            throw ToolError("\(why.option) on \(path), made with synchronous=off: \(why.reason), so the driver could verify nothing; "
                + "make a database with `sqlite-stress schema --synchronous full` (or normal, extra).")
        }
        do {
            try Self.checkLogs(of: path)
        } catch {
            probe.close()
            throw error
        }
        // Storage faults need a connection of their own VFS; without them the worker takes this one (below).
        if !faults.isEmpty { probe.close() }

        var rng = randomness.stream(rawValue)
        let swarm = swarm(using: &rng)
        // A schema change or maintenance step costs more than a transaction: fewer of them.
        let units = rng.int(in: 1...(writesRows ? 8 : 3))
        let settings = StressSettings(
            databasePath: path, randomness: randomness, threads: 1, iterations: units, busyTimeout: busyTimeout, checkEvery: 0, compaction: .never,
            faults: faults, logLimit: logLimit)
        // The SQL log first: a log that cannot be opened stops the driver before its reservation is written.
        let log = try SQLLog(path: settings.logPath, append: true, limit: logLimit)
        let acks = try AckLog(path: AckLog.path(for: path), syncs: config.commitsSurvivePowerLoss)
        let (base, reservation) = try acks.reserveWriter()
        let label = "d\(base)"
        let context = RunContext(
            log: log,
            acks: acks,
            settings: settings, config: config, generator: WorkloadGenerator(schema: schema, swarm: swarm),
            exclusive: faults.losesPower, writersMayBeKilled: true)
        if !faults.isEmpty {
            try FaultInjector.arm(faults, randomness: randomness.derived("faults-\(rawValue)"), expectedWork: units)
        }
        // The command `compose` started it as, for the runner's line if it kills it; written with the first statement's.
        if let command = SQLLog.command { log.append(SQLLog.commandLine(writer: label, command: command), flush: false) }
        let worker = Worker(label: label, transactionBase: base, reservation: reservation, random: rng, context: context)
        if faults.isEmpty {
            // The worker's connection is the one that read the schema: opened once, the schema parsed by SQLite
            // once, and the recorded schema read and decoded once. The read's line, for `replay`, which pairs
            // the cookie it reads there with the one the worker's context statements name, is written with the
            // first statement's too.
            log.append(
                StatementRunner.line(Bookkeeping.schemaQuery, writer: label, transaction: Worker.connectLabel, .ok(rows: 1, changes: nil)), flush: false)
            worker.handOver(probe, cookie: cookie)
        }
        worker.run()
        let faultReport = faults.isEmpty ? nil : try context.endFaults(abandoning: [worker], who: label)
        context.log.close(sync: false)  // A driver's cost is paid thousands of times.

        let unexpected = context.unexpected.withLock { $0 }
        StressAssertions.record(worker.counters, unexpected: unexpected)
        return DriverOutcome(
            kind: self, databasePath: path, randomness: randomness, label: label, counters: worker.counters,
            violations: context.violations.withLock { $0 }, unexpectedErrors: unexpected,
            elapsed: start.duration(to: clock.now).seconds, faults: faultReport, incompleteEvidence: context.incompleteEvidence,
            interrupted: Interrupt.requested, unitsDone: context.iterationsDone.load(ordering: .relaxed), units: units,
            storageFailure: context.storageFailure.withLock { $0 })
    }
}
