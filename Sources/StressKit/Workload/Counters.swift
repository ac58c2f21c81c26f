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
    /// Statements stopped because another connection changed the schema under
    /// them (SQLITE_SCHEMA, an object gone or changed, or the ledger triggers'
    /// guard): expected of schema changes while writers run.
    case staleSchema = "stale-schema"
    /// Errors the workload does not expect from a healthy SQLite: a tool bug or an environment problem.
    case unexpectedErrors = "unexpected-errors"
    case checkpoints
    case checkpointsIncomplete = "checkpoints-incomplete"
    /// Checkpoints that copied WAL frames into the database.
    case checkpointsMovedFrames = "checkpoints-moved-frames"
    case reconnects
    /// Incremental vacuums (`PRAGMA incremental_vacuum`).
    case vacuums
    /// Checks of every property (periodic and final).
    case checks
    /// Checks that gave no verdict: no snapshot in time (SQLITE_BUSY), I/O trouble,
    /// or an acknowledgement log they could not read. No violation either.
    case checksSkipped = "checks-skipped"
    /// Statements carrying a value large enough to need overflow pages.
    case largeRows = "large-rows"
    /// Transactions that committed a schema change (each kind is counted by `SchemaChangeKind`).
    case schemaChangesCommitted = "schema-changes-committed"
    /// Schema changes inside a transaction or savepoint that was then rolled back, as planned.
    case schemaChangesRolledBack = "schema-changes-rolled-back"
    /// Schema changes the schema did not allow when drawn (nothing to drop, a limit reached).
    case schemaChangesUnavailable = "schema-changes-unavailable"
    /// VACUUM INTO copies the oracle checked (every property, as of the copy's snapshot).
    case copiesChecked = "copies-checked"
}

/// Parts of a generated schema whose effects the oracle must follow, counted
/// when a statement exercised them (wrote rows of such a table, or read a view).
public enum SchemaFeature: String, CaseIterable, Sendable, Codable, CodingKeyRepresentable {
    /// Rows deleted or updated in a table whose children's foreign keys CASCADE or SET NULL.
    case foreignKeyAction = "foreign-key-action"
    /// Rows written in a table whose user triggers write an audit table.
    case userTrigger = "user-trigger"
    /// A view read.
    case view
    /// Rows written in a table with generated columns (VIRTUAL or STORED).
    case generatedColumn = "generated-column"
    /// Rows written in a STRICT table.
    case strictTable = "strict-table"
    /// Rows written in a table with a NOCASE or RTRIM column.
    case collation
    /// Rows inserted into an AUTOINCREMENT table.
    case autoincrement
    /// Rows written in a table with a JSON column.
    case json
}

/// Counts per case of one `CaseIterable` kind, in case order. The type is not
/// generic, its methods are: a generic type's metadata is built at run time on
/// first use, with a search of every protocol conformance in the binary for
/// each of its requirements (three, for five kinds, at the start of every
/// process), while generic methods are specialised when compiled. `Counters`
/// keeps each tally with the one kind it counts.
struct Tally: Sendable, Equatable {
    private var counts: [Int]

    init<Kind: CaseIterable>(of _: Kind.Type) {
        counts = [Int](repeating: 0, count: Kind.allCases.count)
    }

    /// Where `kind`'s count is; a tally made for another kind is a programming error.
    private func position<Kind: CaseIterable & Equatable>(_ kind: Kind) -> Int {
        precondition(counts.count == Kind.allCases.count, "a tally read with a kind it was not made for")
        return Kind.allCases.distance(from: Kind.allCases.startIndex, to: Kind.allCases.firstIndex(of: kind)!)
    }

    subscript<Kind: CaseIterable & Equatable>(kind: Kind) -> Int {
        get { counts[position(kind)] }
        set { counts[position(kind)] = newValue }
    }

    mutating func add(_ other: Tally) {
        precondition(counts.count == other.counts.count, "tallies of two kinds added")
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// Every count by the case's name.
    func byName<Kind: CaseIterable & RawRepresentable & Equatable>(_: Kind.Type) -> [String: Int] where Kind.RawValue == String {
        Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0.rawValue, self[$0]) })
    }
}

/// A fixed set of counters plus per-kind counts of statements, maintenance
/// steps, schema changes and schema features.
public struct Counters: Sendable, Equatable {
    private var values = Tally(of: Counter.self)
    private var kinds = Tally(of: StatementKind.self)
    private var maintenanceKinds = Tally(of: MaintenanceKind.self)
    private var schemaChangeKinds = Tally(of: SchemaChangeKind.self)
    private var schemaFeatures = Tally(of: SchemaFeature.self)

    public init() {}

    public subscript(counter: Counter) -> Int {
        get { values[counter] }
        set { values[counter] = newValue }
    }

    public subscript(kind: StatementKind) -> Int {
        get { kinds[kind] }
        set { kinds[kind] = newValue }
    }

    /// Maintenance steps that succeeded, by kind.
    public subscript(kind: MaintenanceKind) -> Int {
        get { maintenanceKinds[kind] }
        set { maintenanceKinds[kind] = newValue }
    }

    /// Schema changes that committed (or, for `rollback`, were rolled back as planned), by kind.
    public subscript(kind: SchemaChangeKind) -> Int {
        get { schemaChangeKinds[kind] }
        set { schemaChangeKinds[kind] = newValue }
    }

    public subscript(feature: SchemaFeature) -> Int {
        get { schemaFeatures[feature] }
        set { schemaFeatures[feature] = newValue }
    }

    public mutating func add(_ other: Counters) {
        values.add(other.values)
        kinds.add(other.kinds)
        maintenanceKinds.add(other.maintenanceKinds)
        schemaChangeKinds.add(other.schemaChangeKinds)
        schemaFeatures.add(other.schemaFeatures)
    }

    public var asDictionary: [String: Int] { values.byName(Counter.self) }
    public var operations: [String: Int] { kinds.byName(StatementKind.self) }
    public var maintenance: [String: Int] { maintenanceKinds.byName(MaintenanceKind.self) }
    public var schemaChanges: [String: Int] { schemaChangeKinds.byName(SchemaChangeKind.self) }
    public var features: [String: Int] { schemaFeatures.byName(SchemaFeature.self) }

    /// Nonzero counts by kind, e.g. `add-column 3, drop-index 1`, or `none`.
    static func list<K: RawRepresentable & CaseIterable>(_ count: (K) -> Int) -> String where K.RawValue == String {
        let parts = K.allCases.filter { count($0) > 0 }.map { "\($0.rawValue) \(count($0))" }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}
