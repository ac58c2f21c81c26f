/// What a run counts. Each worker keeps its own and they are summed at the end.
public enum Counter: String, CaseIterable, Sendable, Codable, CodingKeyRepresentable {
    case statements
    case transactions
    case commits
    case rollbacks
    /// Rollbacks the workload did not plan: after SQLITE_BUSY/LOCKED, or a COMMIT that could not finish.
    case forcedRollbacks = "forced-rollbacks"
    /// Transactions SQLite rolled back on its own (an error that ends the transaction).
    case autoRollbacks = "auto-rollbacks"
    /// COMMITs that failed with an I/O error or a full disk: the transaction may or
    /// may not be in the database (a WAL commit frame can land before its sync fails),
    /// so it is neither acknowledged nor recorded as rolled back.
    case uncertainCommits = "uncertain-commits"
    /// Connections dropped because a ROLLBACK failed (SQLite finishes it on close or on the next open).
    case abandonedConnections = "abandoned-connections"
    case savepoints
    case savepointRollbacks = "savepoint-rollbacks"
    case savepointReleases = "savepoint-releases"
    case busyErrors = "busy-errors"
    case lockedErrors = "locked-errors"
    case constraintErrors = "constraint-errors"
    case fullErrors = "full-errors"
    case ioErrors = "io-errors"
    /// Errors the workload does not expect from a healthy SQLite: a tool bug or an environment problem.
    case unexpectedErrors = "unexpected-errors"
    case checkpoints
    case checkpointsIncomplete = "checkpoints-incomplete"
    /// Checkpoints that copied WAL frames into the database.
    case checkpointsMovedFrames = "checkpoints-moved-frames"
    case reconnects
    case vacuums
    /// Checks of every property (periodic and final).
    case checks
    /// Checks that gave no verdict: no snapshot in time (SQLITE_BUSY), I/O trouble,
    /// or an acknowledgement log they could not read. No violation either.
    case checksSkipped = "checks-skipped"
    /// Statements carrying a value large enough to need overflow pages.
    case largeRows = "large-rows"
}

/// A fixed set of counters plus per-kind statement counts.
public struct Counters: Sendable, Equatable {
    private var values = [Int](repeating: 0, count: Counter.allCases.count)
    private var kinds = [Int](repeating: 0, count: StatementKind.allCases.count)

    public init() {}

    public subscript(counter: Counter) -> Int {
        get { values[Counter.allCases.firstIndex(of: counter)!] }
        set { values[Counter.allCases.firstIndex(of: counter)!] = newValue }
    }

    public subscript(kind: StatementKind) -> Int {
        get { kinds[StatementKind.allCases.firstIndex(of: kind)!] }
        set { kinds[StatementKind.allCases.firstIndex(of: kind)!] = newValue }
    }

    public mutating func add(_ other: Counters) {
        for i in values.indices { values[i] += other.values[i] }
        for i in kinds.indices { kinds[i] += other.kinds[i] }
    }

    public var asDictionary: [String: Int] {
        Dictionary(uniqueKeysWithValues: Counter.allCases.map { ($0.rawValue, self[$0]) })
    }

    public var operations: [String: Int] {
        Dictionary(uniqueKeysWithValues: StatementKind.allCases.map { ($0.rawValue, self[$0]) })
    }
}
