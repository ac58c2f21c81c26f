/// How a transaction begins.
public enum TransactionKind: String, CaseIterable, Sendable, Codable, CodingKeyRepresentable {
    /// A single statement with no BEGIN: SQLite commits it on its own.
    case autocommit
    case deferred
    case immediate
    case exclusive
    /// A transaction opened by an outermost SAVEPOINT and ended by RELEASE.
    case savepoint
}

/// Maintenance work between transactions.
public enum MaintenanceKind: String, CaseIterable, Sendable, Codable, CodingKeyRepresentable {
    case checkpointPassive = "checkpoint-passive"
    case checkpointFull = "checkpoint-full"
    case checkpointRestart = "checkpoint-restart"
    case checkpointTruncate = "checkpoint-truncate"
    case reconnect
    case incrementalVacuum = "incremental-vacuum"
    /// VACUUM: the whole file rebuilt (and the schema cookie moved) while others write.
    case vacuum
    /// VACUUM INTO a new file, which the oracle then checks as of its snapshot.
    case vacuumInto = "vacuum-into"
    /// REINDEX: of everything, of one table, or of one collation.
    case reindex
    case analyze
    case optimize
    /// Ledger compaction (`Compaction`). Not drawn by the swarm: the monolith
    /// compacts every `--compact-every` iterations per thread, and the `compact`
    /// driver does nothing else.
    case compact

    /// The checkpoint modes.
    public static let checkpoints: [MaintenanceKind] = [.checkpointPassive, .checkpointFull, .checkpointRestart, .checkpointTruncate]
}

/// The swarm configuration of one run: which operations are enabled and how
/// often each is chosen. Each run draws its own, so across many runs some
/// features are left out entirely, which lets others reach states they would
/// never reach in a uniform mix (see "swarm testing").
public struct Swarm: Sendable, Hashable, Codable {
    /// Weight of each statement kind; 0 disables it. At least one write is enabled.
    public var statements: [StatementKind: Int]
    /// Weight of each way a transaction begins; 0 disables it. At least one
    /// explicit kind is enabled, so commits and rollbacks both happen.
    public var transactions: [TransactionKind: Int]
    /// Weight of each maintenance kind, against `transactionWeight` for a transaction.
    public var maintenance: [MaintenanceKind: Int]
    /// Weight of each schema change, against `transactionWeight` for a transaction.
    public var schemaChanges: [SchemaChangeKind: Int]
    /// Weight of a transaction: 100, or 0 for a driver that only changes the schema or maintains.
    public var transactionWeight = 100
    /// Chance (percent) that an explicit transaction ends in ROLLBACK.
    public var rollbackPercent: Int
    /// Chance (percent) that a step inside a transaction is a savepoint operation.
    public var savepointPercent: Int
    /// Chance (percent) that an explicit transaction reads before it writes,
    /// which is what makes deferred transactions collide (SQLITE_BUSY).
    public var readFirstPercent: Int
    /// Most statements in one explicit transaction.
    public var maxStatements: Int

    public static func generate(using rng: inout some RandomNumberGenerator) -> Swarm {
        var statements: [StatementKind: Int] = [:]
        for kind in StatementKind.allCases { statements[kind] = rng.chance(0.7) ? rng.int(in: 1...10) : 0 }
        if !StatementKind.allCases.contains(where: { $0.isWrite && statements[$0]! > 0 }) {
            statements[rng.pick(StatementKind.allCases.filter(\.isWrite))] = rng.int(in: 1...10)
        }

        var transactions: [TransactionKind: Int] = [:]
        for kind in TransactionKind.allCases { transactions[kind] = rng.chance(0.7) ? rng.int(in: 1...10) : 0 }
        let explicit = TransactionKind.allCases.filter { $0 != .autocommit }
        if !explicit.contains(where: { transactions[$0]! > 0 }) {
            transactions[rng.pick(explicit)] = rng.int(in: 1...10)
        }

        var maintenance: [MaintenanceKind: Int] = [:]
        for kind in MaintenanceKind.allCases where kind != .compact { maintenance[kind] = rng.chance(0.6) ? rng.int(in: 1...3) : 0 }
        // A full check of the copy follows each VACUUM INTO: seldom, then.
        if maintenance[.vacuumInto]! > 0 { maintenance[.vacuumInto] = 1 }

        var schemaChanges: [SchemaChangeKind: Int] = [:]
        for kind in SchemaChangeKind.allCases { schemaChanges[kind] = rng.chance(0.4) ? rng.int(in: 1...3) : 0 }

        return Swarm(
            statements: statements, transactions: transactions, maintenance: maintenance, schemaChanges: schemaChanges,
            rollbackPercent: rng.int(in: 5...40), savepointPercent: rng.int(in: 5...35),
            readFirstPercent: rng.int(in: 10...60), maxStatements: rng.pick([2, 5, 10, 30]))
    }

    /// One line per group, for the start of a run.
    public var summary: String {
        func list<K: RawRepresentable & CaseIterable>(_ weights: [K: Int]) -> String where K.RawValue == String {
            let enabled = K.allCases.compactMap { kind in weights[kind].flatMap { $0 > 0 ? "\(kind.rawValue)×\($0)" : nil } }
            return enabled.isEmpty ? "none" : enabled.joined(separator: " ")
        }
        return """
            statements: \(list(statements))
            transactions: \(list(transactions)); rollback \(rollbackPercent)%, savepoint ops \(savepointPercent)%, \
            read-first \(readFirstPercent)%, up to \(maxStatements) statements
            maintenance: \(list(maintenance))
            schema changes: \(list(schemaChanges))
            """
    }
}
