import StressAntithesis
import Synchronization

/// Every assertion the binary can make, and which command can make which.
///
/// A process declares the catalog of its own command before any hit, and only
/// that: Antithesis learns of `must_hit` assertions from the catalog, and counts
/// one that nothing in the template hits as failing. So a template passes only if
/// its commands can reach everything they declare. Messages are ids: keep them
/// stable; their prefix says what makes them (a property of the oracle,
/// `coverage` of the workload, or the command).
public enum StressAssertions {
    /// The commands that make assertions, each a catalog of its own.
    public enum Scope: Sendable, Equatable {
        /// `stress`: the monolith's workload, its checks and its final check.
        case stress
        /// `schema`: a fresh database for the drivers (or corruption met making it).
        case schema
        /// One driver: its workload, which reports corruption it meets.
        case driver(DriverKind)
        /// `check` or `integrity`; `waits` with `--wait`.
        case check(waits: Bool)
    }

    /// What a process running `scope` can evaluate.
    public static func catalog(for scope: Scope) -> [Assertion] {
        switch scope {
        case .stress:
            properties + coverage.map(\.assertion) + [unexpected]
        case .schema:
            // Corruption of the file it is creating is an `integrity` finding.
            [schemaCreatedAssertion, integrity]
        case .driver(let kind):
            // A driver meets corruption as an error; only `vacuum` checks (the copies it makes).
            (kind == .vacuum ? properties : [integrity]) + coverage.filter { $0.reachable(kind) }.map(\.assertion) + [unexpected]
        case .check(let waits):
            properties + (waits ? [opensAfterWaitAssertion] : [])
        }
    }

    /// One `always` per property of the oracle.
    public static func property(_ property: Property) -> Assertion {
        switch property {
        case .integrity: integrity
        case .model: model
        case .rollback: rollback
        case .durability: durability
        case .conservation: conservation
        case .queryConsistency: queryConsistency
        case .schema: schema
        }
    }

    static let properties = Property.allCases.map(property)
    static let integrity = Assertion(.always, "integrity: PRAGMA integrity_check returns ok")
    static let model = Assertion(.always, "model: contents equal the fold of the ledger")
    static let rollback = Assertion(.always, "rollback: no rolled-back write is visible")
    static let durability = Assertion(.always, "durability: every acknowledged commit is present")
    static let conservation = Assertion(.always, "conservation: the accounts' total never changes")
    static let queryConsistency = Assertion(.always, "query-consistency: equivalent queries agree")
    static let schema = Assertion(.always, "schema: sqlite_schema is what the committed schema changes made it")

    /// Coverage of the workload (`stress` and the drivers): the run exercised what it claims.
    struct Coverage: Sendable {
        let count: @Sendable (Counters) -> Int
        let assertion: Assertion
        /// The drivers that can make it true.
        let reachable: @Sendable (DriverKind) -> Bool
        /// What the details name the count.
        let name: String

        init(_ counter: Counter, _ message: String, reachable: @escaping @Sendable (DriverKind) -> Bool) {
            count = { $0[counter] }
            name = counter.rawValue
            assertion = Assertion(.sometimes, message)
            self.reachable = reachable
        }
    }

    /// Drivers that run transactions of statements (checkpoints, reconnects and
    /// busy databases come with them).
    private static let transactional: @Sendable (DriverKind) -> Bool = {
        [.insert, .update, .delete, .rollback, .transfer, .savepoint, .schemaRollback].contains($0)
    }
    /// Drivers whose writes can break a key, UNIQUE, NOT NULL or CHECK constraint
    /// (deletes and transfers cannot: the accounts have no constraint to break),
    /// or carry a value large enough for overflow pages.
    private static let rowWriting: @Sendable (DriverKind) -> Bool = { [.insert, .update, .rollback, .savepoint].contains($0) }

    static let coverage: [Coverage] = [
        Coverage(.commits, "coverage: a transaction committed", reachable: {
            transactional($0) || [.createTable, .createIndex, .alterTable, .dropIndex, .dropTable].contains($0)
        }),
        Coverage(.rollbacks, "coverage: a transaction rolled back", reachable: transactional),
        Coverage(.savepointRollbacks, "coverage: a savepoint was rolled back", reachable: transactional),
        Coverage(.busyErrors, "coverage: SQLITE_BUSY was met", reachable: { _ in true }),
        Coverage(.constraintErrors, "coverage: a constraint failed", reachable: rowWriting),
        Coverage(.checkpointsMovedFrames, "coverage: a WAL checkpoint moved frames into the database", reachable: {
            transactional($0) || $0 == .checkpoint
        }),
        Coverage(.largeRows, "coverage: a row large enough for overflow pages was written", reachable: rowWriting),
        Coverage(.reconnects, "coverage: a connection was reopened", reachable: transactional),
        Coverage(.schemaChangesCommitted, "coverage: a schema change committed", reachable: {
            [.createTable, .createIndex, .alterTable, .dropIndex, .dropTable].contains($0)
        }),
        Coverage(.schemaChangesRolledBack, "coverage: a schema change was rolled back", reachable: { $0 == .schemaRollback }),
        Coverage(.staleSchema, "coverage: a statement met a schema another connection had changed", reachable: {
            transactional($0) || !$0.schemaChanges.isEmpty
        }),
        Coverage(.copiesChecked, "coverage: a VACUUM INTO copy was checked", reachable: { $0 == .vacuum }),
    ]

    /// A healthy SQLite never gives the workload an error it does not expect.
    static let unexpected = Assertion(.unreachable, "an SQLite error the workload does not expect")
    /// `schema` made a database for the drivers.
    static let schemaCreatedAssertion = Assertion(.reachable, "schema: a fresh database was set up")
    /// `check --wait` (the templates' `eventually_` and `finally_` commands): once the
    /// workload has stopped, killed or finished, the database opens within the wait.
    static let opensAfterWaitAssertion = Assertion(
        .alwaysOrUnreachable, "check --wait: the database opens once the workload has stopped")

    /// The process's reporter, once `declare` has run; before that (a library
    /// used without the command line) nothing is reported.
    private static let declared = Mutex<Reporter?>(nil)

    /// Sends the SDK line and `scope`'s catalog, once per process, before any hit.
    /// Every hit's details name the SQLite the process runs on.
    public static func declare(_ scope: Scope) {
        declared.withLock { reporter in
            if reporter == nil {
                reporter = Reporter(catalog: catalog(for: scope), context: [
                    ("sqlite_version", .string(SQLiteChoice.library.version)),
                    ("sqlite_source_id", .string(SQLiteChoice.library.sourceId)),
                    ("sqlite_path", .string(SQLiteChoice.library.path)),
                ])
            }
        }
    }

    private static var reporter: Reporter? { declared.withLock { $0 } }

    /// `schema` finished setting up a database.
    public static func schemaCreated(function: String = #function, file: String = #fileID, line: Int = #line) {
        reporter?.record(schemaCreatedAssertion, true, function: function, file: file, line: line)
    }

    /// Whether the database opened within `check --wait`.
    static func opensAfterWait(
        _ opened: Bool, details: [String: String] = [:], function: String = #function, file: String = #fileID, line: Int = #line
    ) {
        reporter?.record(opensAfterWaitAssertion, opened, details: .details(details), function: function, file: file, line: line)
    }

    /// Each judged property of a check as an `always` (skipped ones are not
    /// evaluated). A failed one's details name the known SQLite bugs given,
    /// worked out only when one failed.
    static func record(
        _ report: CheckReport, knownSQLiteBugs: @autoclosure () -> [KnownSQLiteBug] = [],
        function: String = #function, file: String = #fileID, line: Int = #line
    ) {
        guard let reporter else { return }
        let knownSQLiteBugs = report.passed ? [] : knownSQLiteBugs()
        for result in report.results where result.status != .skipped {
            let first = result.violations.first
            var details = first?.details ?? [:]
            if let first { details["message"] = first.message }
            if result.moreViolations + result.violations.count > 1 {
                details["violations"] = String(result.violations.count + result.moreViolations)
            }
            if result.status == .fail { name(knownSQLiteBugs, in: &details) }
            reporter.record(
                property(result.property), result.status == .pass, details: .details(details),
                function: function, file: file, line: line)
        }
    }

    /// A violation found while running (SQLITE_CORRUPT met by a statement,
    /// say); its details name the known SQLite bugs given.
    static func record(
        _ violation: Violation, knownSQLiteBugs: [KnownSQLiteBug] = [],
        function: String = #function, file: String = #fileID, line: Int = #line
    ) {
        var details = violation.details
        details["message"] = violation.message
        details["thread"] = violation.thread
        name(knownSQLiteBugs, in: &details)
        reporter?.record(
            StressAssertions.property(violation.property), false, details: .details(details), function: function, file: file, line: line)
    }

    /// A failed assertion's details name the known SQLite bugs its run could have met.
    private static func name(_ knownSQLiteBugs: [KnownSQLiteBug], in details: inout [String: String]) {
        guard !knownSQLiteBugs.isEmpty else { return }
        details["known_sqlite_bugs"] = knownSQLiteBugs.map(\.tag).joined(separator: ", ")
    }

    /// The coverage this process declared, from a run's counters, and unexpected errors.
    static func record(
        _ counters: Counters, unexpected errors: [String], function: String = #function, file: String = #fileID, line: Int = #line
    ) {
        guard let reporter else { return }
        for item in coverage where reporter.declares(item.assertion) {
            reporter.record(
                item.assertion, item.count(counters) > 0, details: .details([item.name: String(item.count(counters))]),
                function: function, file: file, line: line)
        }
        if !errors.isEmpty {
            reporter.record(
                unexpected, false, details: .details(["first": errors[0], "count": String(errors.count)]),
                function: function, file: file, line: line)
        }
    }
}
