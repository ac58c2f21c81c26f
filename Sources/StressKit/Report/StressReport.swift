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
    /// The command that reproduces the run; nil without a seed.
    public let reproduce: String?
    public let settings: StressSettings
    public let config: DatabaseConfig
    public let swarm: Swarm
    public let tables: Int
    public let counters: Counters
    public let elapsed: Double
    public let logLines: Int
    public let violations: [Violation]
    public let unexpectedErrors: [String]
    /// The last check of the run (the final one, unless the run stopped early).
    public let finalCheck: CheckReport?
    /// What the storage faults did, when the run injected any.
    public let faults: FaultReport?
    /// Evidence the run could not record or read (a full disk): what its checks could not verify.
    public let incompleteEvidence: [EvidenceGap]

    init(
        run: StressRun, counters: Counters, elapsed: Double, logLines: Int, violations: [Violation],
        unexpectedErrors: [String], finalCheck: CheckReport?, incompleteEvidence: [EvidenceGap], faults: FaultReport? = nil
    ) {
        randomness = run.settings.randomness
        reproduce = run.reproduceCommand
        settings = run.settings
        config = run.config
        swarm = run.swarm
        tables = run.schema.tables.count
        self.counters = counters
        self.elapsed = elapsed
        self.logLines = logLines
        self.violations = violations
        self.unexpectedErrors = unexpectedErrors
        self.finalCheck = finalCheck
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
        lines.append("transactions: \(c[.commits]) commits, \(c[.rollbacks]) rollbacks "
            + "(\(c[.forcedRollbacks]) forced by busy/locked, \(c[.autoRollbacks]) by SQLite), "
            + "\(c[.savepoints]) savepoints, \(c[.savepointRollbacks]) savepoint rollbacks, "
            + "\(c[.savepointReleases]) releases")
        lines.append("errors: busy \(c[.busyErrors]), locked \(c[.lockedErrors]), constraint \(c[.constraintErrors]), "
            + "full \(c[.fullErrors]), i/o \(c[.ioErrors]), unexpected \(c[.unexpectedErrors])"
            + (c[.uncertainCommits] > 0 ? ", commits of unknown outcome \(c[.uncertainCommits])" : "")
            + (c[.abandonedConnections] > 0 ? ", connections abandoned \(c[.abandonedConnections])" : ""))
        if let faults { lines.append(faults.summary) }
        lines.append("maintenance: \(c[.checkpoints]) checkpoints (\(c[.checkpointsMovedFrames]) moved frames, "
            + "\(c[.checkpointsIncomplete]) incomplete), "
            + "\(c[.reconnects]) reconnects, \(c[.vacuums]) incremental vacuums, \(c[.checks]) checks (\(c[.checksSkipped]) skipped), "
            + "\(c[.largeRows]) large rows; VACUUM \(c[MaintenanceKind.vacuum]), VACUUM INTO \(c[MaintenanceKind.vacuumInto]) "
            + "(\(c[.copiesChecked]) copies checked), REINDEX \(c[MaintenanceKind.reindex]), ANALYZE \(c[MaintenanceKind.analyze]), "
            + "PRAGMA optimize \(c[MaintenanceKind.optimize])")
        lines.append("schema changes: \(c[.schemaChangesCommitted]) committed (" + Counters.list { (kind: SchemaChangeKind) in
            kind == .rollback ? 0 : c[kind] } + "), \(c[.schemaChangesRolledBack]) rolled back, "
            + "\(c[.schemaChangesUnavailable]) not possible; \(c[.staleSchema]) statements met a schema changed under them")
        lines.append("schema features exercised: " + Counters.list { (feature: SchemaFeature) in c[feature] })
        lines.append("throughput: \(c[.statements]) statements in \(Format.fixed(elapsed, 2)) s, \(Format.fixed(statementsPerSecond, 0)) statements/s")
        lines.append("SQL log: \(settings.logPath) (\(logLines) lines)")
        for error in unexpectedErrors { lines.append("unexpected error: \(error)") }
        for gap in incompleteEvidence { lines.append("incomplete evidence: \(gap)") }
        if let finalCheck { lines.append(finalCheck.table) }
        if noVerdict {
            lines.append("result: NO VERDICT — no check ran to completion" + EvidenceGap.verdictClause(incompleteEvidence))
        } else if violations.isEmpty {
            lines.append("result: PASS — every property held (\(c[.checks]) checks)" + EvidenceGap.verdictClause(incompleteEvidence))
        } else {
            for violation in violations.prefix(10) { lines.append(violation.description) }
            if violations.count > 10 { lines.append("… and \(violations.count - 10) more (see --json)") }
            lines.append("result: FAIL — \(violations.count) violation(s); \(randomness.description)")
            lines.append(reproduceLine)
        }
        return lines.joined(separator: "\n")
    }

    /// The machine-readable report.
    public func json() -> String {
        struct Document: Encodable {
            let result: String
            let randomness: String
            let seed: String?
            let reproduce: String?
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
        }
        let document = Document(
            result: noVerdict ? "skipped" : passed ? "pass" : "fail", randomness: randomness.kind,
            seed: randomness.seed.map(Seed.format), reproduce: reproduce,
            sqlite: SQLiteChoice.library, database: settings.databasePath, sqlLog: settings.logPath,
            sqlLogLines: logLines, threads: settings.threads, iterations: settings.iterations, tables: tables,
            configuration: config, swarm: swarm, counters: counters.asDictionary, operations: counters.operations,
            maintenance: counters.maintenance, schemaChanges: counters.schemaChanges, schemaFeatures: counters.features,
            elapsedSeconds: elapsed, statementsPerSecond: statementsPerSecond, violations: violations,
            unexpectedErrors: unexpectedErrors, properties: finalCheck?.results ?? [], faults: faults,
            incompleteEvidence: incompleteEvidence)
        return prettyJSON(document)
    }
}

extension StressReport {
    /// Violations and the reproduce line only, for --quiet.
    public var violationSummary: String {
        (violations.map(\.description) + incompleteEvidence.map { "incomplete evidence: \($0)" }
            + ["result: FAIL — \(randomness.description)", reproduceLine])
            .joined(separator: "\n")
    }

    /// `reproduce: <command>`, or why there is none.
    public var reproduceLine: String { "reproduce: " + (reproduce ?? Randomness.notReproducible) }
}
