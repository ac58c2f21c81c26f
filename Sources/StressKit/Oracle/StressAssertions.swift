import StressAntithesis

/// Every assertion the binary can make, declared in one place so each process
/// can send the whole catalog before any hit (Antithesis learns of `must_hit`
/// assertions only from the catalog). Messages are ids: keep them stable.
public enum StressAssertions {
    /// One `always` per property of the oracle.
    public static func property(_ property: Property) -> Assertion {
        switch property {
        case .integrity: integrity
        case .model: model
        case .rollback: rollback
        case .durability: durability
        case .conservation: conservation
        case .queryConsistency: queryConsistency
        }
    }

    static let integrity = Assertion(.always, "integrity: PRAGMA integrity_check returns ok")
    static let model = Assertion(.always, "model: contents equal the fold of the ledger")
    static let rollback = Assertion(.always, "rollback: no rolled-back write is visible")
    static let durability = Assertion(.always, "durability: every acknowledged commit is present")
    static let conservation = Assertion(.always, "conservation: the accounts' total never changes")
    static let queryConsistency = Assertion(.always, "query-consistency: equivalent queries agree")

    /// Coverage: the run exercised what it claims.
    static let coverage: [(Counter, Assertion)] = [
        (.commits, Assertion(.sometimes, "coverage: a transaction committed")),
        (.rollbacks, Assertion(.sometimes, "coverage: a transaction rolled back")),
        (.savepointRollbacks, Assertion(.sometimes, "coverage: a savepoint was rolled back")),
        (.busyErrors, Assertion(.sometimes, "coverage: SQLITE_BUSY was met")),
        (.constraintErrors, Assertion(.sometimes, "coverage: a constraint failed")),
        (.checkpointsMovedFrames, Assertion(.sometimes, "coverage: a WAL checkpoint moved frames into the database")),
        (.largeRows, Assertion(.sometimes, "coverage: a row large enough for overflow pages was written")),
        (.reconnects, Assertion(.sometimes, "coverage: a connection was reopened")),
    ]

    /// A healthy SQLite never gives the workload an error it does not expect.
    static let unexpected = Assertion(.unreachable, "an SQLite error the workload does not expect")
    /// `schema` made a database for the drivers.
    static let schemaCreatedAssertion = Assertion(.reachable, "schema: a fresh database was set up")
    /// After drivers were killed, the database opens again (eventually).
    static let reachableAgain = Assertion(.alwaysOrUnreachable, "eventually: the database opens after drivers were killed")

    public static let catalog: [Assertion] =
        Property.allCases.map(property) + coverage.map(\.1) + [unexpected, schemaCreatedAssertion, reachableAgain]

    /// The process's reporter; created on first use, which sends the catalog.
    /// Every hit's details name the SQLite the process runs on.
    public static let reporter = Reporter(catalog: catalog, context: [
        ("sqlite_version", .string(SQLiteChoice.library.version)),
        ("sqlite_source_id", .string(SQLiteChoice.library.sourceId)),
        ("sqlite_path", .string(SQLiteChoice.library.path)),
    ])

    /// `schema` finished setting up a database.
    public static func schemaCreated() { reporter.record(schemaCreatedAssertion, true) }

    /// Each judged property of a check as an `always` (skipped ones are not evaluated).
    static func record(_ report: CheckReport) {
        for result in report.results where result.status != .skipped {
            let first = result.violations.first
            var details = first?.details ?? [:]
            if let first { details["message"] = first.message }
            if result.moreViolations + result.violations.count > 1 {
                details["violations"] = String(result.violations.count + result.moreViolations)
            }
            reporter.record(property(result.property), result.status == .pass, details: .details(details))
        }
    }

    /// A violation found while running (SQLITE_CORRUPT met by a statement, say).
    static func record(_ violation: Violation) {
        guard let property = Property(rawValue: violation.property) else { return }
        var details = violation.details
        details["message"] = violation.message
        details["thread"] = violation.thread
        reporter.record(StressAssertions.property(property), false, details: .details(details))
    }

    /// Coverage from a run's counters, and unexpected errors.
    static func record(_ counters: Counters, unexpected errors: [String]) {
        for (counter, assertion) in coverage {
            reporter.record(assertion, counters[counter] > 0, details: .details([counter.rawValue: String(counters[counter])]))
        }
        if !errors.isEmpty {
            reporter.record(unexpected, false, details: .details(["first": errors[0], "count": String(errors.count)]))
        }
    }
}
