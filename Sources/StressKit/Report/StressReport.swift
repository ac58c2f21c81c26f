#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite

/// The outcome of a `stress` run, for the terminal and for `--json`.
public struct StressReport: Sendable {
    /// The seed, or Antithesis's randomness.
    public let randomness: Randomness
    /// The command that reproduces the run (exactly with one thread); nil without a seed.
    public let reproduce: String?
    /// With several threads: the exact one-thread line for the same seed.
    public let reproduceOneThread: String?
    /// The reproduce lines as printed, labelled.
    public let reproduceLines: [String]
    public let settings: StressSettings
    public let config: DatabaseConfig
    public let swarm: Swarm
    public let tables: Int
    public let counters: Counters
    public let elapsed: Double
    public let logLines: Int
    /// What rotation moved out of the SQL log file (`--sql-log-max`).
    public let logRotation: SQLLog.Rotation
    public let violations: [Violation]
    public let unexpectedErrors: [String]
    /// The last check that ran to a report (the final one, unless the run
    /// stopped early or the final check could not run).
    public let finalCheck: CheckReport?
    /// Whether the end-of-run check ran to a report.
    let finalCheckRan: Bool
    /// What the storage faults did, when the run injected any.
    public let faults: FaultReport?
    /// Evidence the run could not record or read (a full disk): what its checks could not verify.
    public let incompleteEvidence: [EvidenceGap]
    /// Stopped by Ctrl-C (or SIGTERM) before the work was done; no final check ran.
    public let interrupted: Bool
    public let iterationsDone: Int
    /// With violations: the known SQLite bugs the run's configuration could
    /// have met on the SQLite it ran (`KnownSQLiteBug`); empty for a run that passed.
    public let knownSQLiteBugs: [KnownSQLiteBug]
    /// Why the run stopped without a verdict: the storage under the database
    /// failed with no fault planted (`RunContext.noteStorageFailure`).
    public let storageFailure: String?
    /// The SDK output's first failure to take a message, set as the result is
    /// printed: its JSON then says it, and a "pass" is "error" (exit status 2).
    public var sdkOutputFailure: String?

    init(
        run: StressRun, counters: Counters, elapsed: Double, logLines: Int, violations: [Violation],
        unexpectedErrors: [String], finalCheck: CheckReport?, finalCheckRan: Bool, incompleteEvidence: [EvidenceGap],
        faults: FaultReport? = nil,
        interrupted: Bool = false, iterationsDone: Int = 0, logRotation: SQLLog.Rotation = SQLLog.Rotation(),
        storageFailure: String? = nil, metCleanFailure: Bool = false
    ) {
        self.storageFailure = storageFailure
        self.logRotation = logRotation
        randomness = run.settings.randomness
        reproduce = run.reproduceCommand
        reproduceOneThread = run.singleThreadCommand
        reproduceLines = run.reproduceLines
        self.interrupted = interrupted
        self.iterationsDone = iterationsDone
        settings = run.settings
        config = run.config
        swarm = run.swarm
        tables = run.schema.tables.count
        self.counters = counters
        self.elapsed = elapsed
        self.logLines = logLines
        self.violations = violations
        knownSQLiteBugs = violations.isEmpty ? [] : KnownSQLiteBug.candidates(
            for: .writers(
                of: run.settings, journalMode: run.config.journalMode, killed: false, metCleanFailure: metCleanFailure))
        self.unexpectedErrors = unexpectedErrors
        self.finalCheck = finalCheck
        self.finalCheckRan = finalCheckRan
        self.faults = faults
        self.incompleteEvidence = incompleteEvidence
    }

    /// Whether no property was violated.
    public var passed: Bool { violations.isEmpty }

    /// No property was violated, but no check ran to say so either.
    var noVerdict: Bool { passed && counters[.checks] == 0 }

    public var statementsPerSecond: Double {
        elapsed > 0 ? Double(counters[.statements]) / elapsed : 0
    }

    /// The human summary printed at the end of a run.
    public var summary: String {
        let c = counters
        var lines: [String] = []
        let operations = StatementKind.allCases.filter { c[$0] > 0 }.map { "\($0.rawValue) \(c[$0])" }
        lines.append("operations: " + (operations.isEmpty ? "none" : operations.joined(separator: ", ")))
        lines.append("transactions: \(Format.count(c[.commits], "commit")), \(Format.count(c[.rollbacks], "rollback")) "
            + "(\(c[.forcedRollbacks]) forced by busy/locked, \(c[.autoRollbacks]) by SQLite), "
            + "\(Format.count(c[.savepoints], "savepoint")), \(Format.count(c[.savepointRollbacks], "savepoint rollback")), "
            + "\(Format.count(c[.savepointReleases], "release"))")
        lines.append("errors: busy \(c[.busyErrors]), locked \(c[.lockedErrors]), constraint \(c[.constraintErrors]), "
            + "full \(c[.fullErrors]), i/o \(c[.ioErrors]), unexpected \(c[.unexpectedErrors])"
            + (c[.uncertainCommits] > 0 ? ", commits of unknown outcome \(c[.uncertainCommits])" : "")
            + (c[.abandonedConnections] > 0 ? ", connections abandoned \(c[.abandonedConnections])" : ""))
        if let faults { lines.append(faults.summary) }
        // A checkpoint outside WAL mode does nothing, and is not counted.
        let checkpoints = config.journalMode == .wal
            ? Format.count(c[.checkpoints], "checkpoint") + " (\(c[.checkpointsMovedFrames]) moved frames, "
                + "\(c[.checkpointsIncomplete]) incomplete), "
            : ""
        lines.append("maintenance: " + checkpoints
            + "\(Format.count(c[.reconnects], "reconnect")), \(Format.count(c[.vacuums], "incremental vacuum")), "
            + "\(Format.count(c[.checks], "check")) (\(c[.checksSkipped]) skipped), "
            + "\(Format.count(c[.largeRows], "large row")); VACUUM \(c[MaintenanceKind.vacuum]), "
            + "VACUUM INTO \(c[MaintenanceKind.vacuumInto]) (\(Format.count(c[.copiesChecked], "copy", plural: "copies")) checked), "
            + "REINDEX \(c[MaintenanceKind.reindex]), ANALYZE \(c[MaintenanceKind.analyze]), "
            + "PRAGMA optimize \(c[MaintenanceKind.optimize]), "
            + Format.count(c[MaintenanceKind.compact], "ledger compaction"))
        lines.append("schema changes: \(c[.schemaChangesCommitted]) committed (" + Counters.list { (kind: SchemaChangeKind) in
            kind == .rollback ? 0 : c[kind] } + "), \(c[.schemaChangesRolledBack]) rolled back, "
            + "\(c[.schemaChangesUnavailable]) not possible; "
            + "\(Format.count(c[.staleSchema], "statement")) met a schema changed under \(c[.staleSchema] == 1 ? "it" : "them")")
        lines.append("schema features exercised: " + Counters.list { (feature: SchemaFeature) in c[feature] })
        lines.append("throughput: \(c[.statements]) statements in \(Format.fixed(elapsed, 2)) s, \(Format.fixed(statementsPerSecond, 0)) statements/s")
        lines.append("SQL log: \(settings.logPath) (\(Format.count(logLines, "line"))) — "
            + "\(Format.size(DatabaseFile.size(of: settings.logPath))), the database \(Format.size(DatabaseFile.size(of: settings.databasePath))), "
            + "the acknowledgement log \(Format.size(DatabaseFile.size(of: AckLog.path(for: settings.databasePath))))")
        if let rotated = logRotation.olderLines {
            let older = SQLLog.olderPath(of: settings.logPath)
            lines.append("SQL log rotated \(Format.count(logRotation.count, "time")) past its limit: lines \(rotated.lowerBound)–\(rotated.upperBound) "
                + "in \(older) (\(Format.size(DatabaseFile.size(of: older)))), the rest in \(settings.logPath)"
                + (logRotation.droppedLines ? "; the lines before are gone" : "; replay reads both"))
        }
        for error in unexpectedErrors { lines.append("unexpected error: \(error)") }
        for gap in incompleteEvidence { lines.append("incomplete evidence: \(gap)") }
        if let finalCheck { lines.append(finalCheck.table) }
        if !violations.isEmpty {
            for violation in violations.prefix(10) { lines.append(violation.description) }
            if violations.count > 10 { lines.append("… and \(violations.count - 10) more (see --json)") }
            lines += knownSQLiteBugs.map(\.description)
            lines.append("result: FAIL — \(Format.count(violations.count, "violation"))"
                + (interrupted ? " before the run was interrupted" : "") + "; \(randomness.description)")
            lines += reproduceLines
        } else if let storageFailure {
            lines.append(Self.storageFailureResult(storageFailure))
        } else if interrupted {
            lines.append(interruptedResult)
        } else if noVerdict {
            lines.append("result: NO VERDICT — no check ran to completion" + EvidenceGap.verdictClause(incompleteEvidence))
        } else {
            lines.append(passLine(passVerdict + EvidenceGap.verdictClause(incompleteEvidence), sdkOutputFailure: sdkOutputFailure))
        }
        return lines.joined(separator: "\n")
    }

    /// The verdict of a run whose checks found no violation: what they judged,
    /// and what the final one did not (or that it did not run).
    private var passVerdict: String {
        let checks = Format.count(counters[.checks], "check")
        guard finalCheckRan, let finalCheck else {
            return "no property violated in \(checks), but the final check did not run (see the SQL log)"
        }
        return finalCheck.passVerdict(checks: checks)
    }

    /// The result line of a run stopped by Ctrl-C with nothing found so far.
    private var interruptedResult: String {
        let total = settings.threads * settings.iterations
        return "result: INTERRUPTED after \(iterationsDone) of \(total) iterations — no violation so far "
            + "(\(Format.count(counters[.checks], "check"))); the final check did not run: "
            + "sqlite-stress check --db \(DatabaseFile.shellQuote(settings.databasePath))"
    }

    /// 0 no property violated; 1 one was; 2 the storage failed under the run
    /// with nothing found; 130 (128 + the signal) stopped by Ctrl-C with nothing found.
    public var exitStatus: Int32 {
        if !violations.isEmpty { return 1 }
        if storageFailure != nil { return 2 }
        return interrupted ? Interrupt.exitStatus : 0
    }

    /// The result line of a run (or a driver) the storage stopped.
    static func storageFailureResult(_ failure: String) -> String {
        "result: NO VERDICT — the storage failed under the run with no fault planted (\(failure)): "
            + "a disk or a directory problem, which SQLite reported as it should; nothing was judged after it"
    }

    /// The machine-readable report.
    public func json() -> String {
        struct Document: Encodable {
            let result: String
            let randomness: String
            let seed: String?
            let reproduce: String?
            let reproduceExact: Bool
            let reproduceOneThread: String?
            let iterationsDone: Int
            let sqlite: SQLiteLibrary
            let database: String
            let sqlLog: String
            let sqlLogLines: Int
            let threads: Int
            let iterations: Int
            let tables: Int
            let configuration: DatabaseConfig
            let swarm: Swarm
            let counters: [String: Int]
            let operations: [String: Int]
            let maintenance: [String: Int]
            let schemaChanges: [String: Int]
            let schemaFeatures: [String: Int]
            let elapsedSeconds: Double
            let statementsPerSecond: Double
            let violations: [Violation]
            let unexpectedErrors: [String]
            let properties: [PropertyResult]
            let faults: FaultReport?
            let incompleteEvidence: [EvidenceGap]
            /// With violations: known SQLite bugs the run could have met on its SQLite.
            let knownSQLiteBugs: [KnownSQLiteBug]
            /// The run line numbers rotated out to `<log>.1` (the last rotation's), when the log was rotated.
            let sqlLogOlder: OlderLog?
            /// Why the run stopped without a verdict, when the storage failed under it.
            let storageFailure: String?
            /// Why the command's assertions may be missing from its SDK output.
            let sdkOutputFailure: String?
        }
        struct OlderLog: Encodable { let path: String, firstLine: Int, lastLine: Int, rotations: Int, earlierLinesDropped: Bool }
        let document = Document(
            result: resultWord(
                !passed ? "fail" : storageFailure != nil ? "error" : interrupted ? "interrupted" : noVerdict ? "skipped" : "pass",
                sdkOutputFailure: sdkOutputFailure),
            randomness: randomness.kind, seed: randomness.seed.map(Seed.format), reproduce: reproduce,
            reproduceExact: reproduceOneThread == nil, reproduceOneThread: reproduceOneThread, iterationsDone: iterationsDone,
            sqlite: SQLiteChoice.library, database: settings.databasePath, sqlLog: settings.logPath,
            sqlLogLines: logLines, threads: settings.threads, iterations: settings.iterations, tables: tables,
            configuration: config, swarm: swarm, counters: counters.asDictionary, operations: counters.operations,
            maintenance: counters.maintenance, schemaChanges: counters.schemaChanges, schemaFeatures: counters.features,
            elapsedSeconds: elapsed, statementsPerSecond: statementsPerSecond, violations: violations,
            unexpectedErrors: unexpectedErrors, properties: finalCheck?.results ?? [], faults: faults,
            incompleteEvidence: incompleteEvidence, knownSQLiteBugs: knownSQLiteBugs,
            sqlLogOlder: logRotation.olderLines.map {
                OlderLog(
                    path: SQLLog.olderPath(of: settings.logPath), firstLine: $0.lowerBound, lastLine: $0.upperBound,
                    rotations: logRotation.count, earlierLinesDropped: logRotation.droppedLines)
            }, storageFailure: storageFailure, sdkOutputFailure: sdkOutputFailure)
        return prettyJSON(document)
    }
}

extension StressReport {
    /// Violations and the reproduce line only, for --quiet.
    public var violationSummary: String {
        guard !violations.isEmpty else {
            return storageFailure.map(Self.storageFailureResult) ?? (interrupted ? interruptedResult : "")
        }
        return (violations.map(\.description) + knownSQLiteBugs.map(\.description)
            + incompleteEvidence.map { "incomplete evidence: \($0)" }
            + ["result: FAIL — \(randomness.description)"] + reproduceLines)
            .joined(separator: "\n")
    }
}
