/// One step inside an explicit transaction.
public enum Step: Sendable, Hashable {
    case statement(StatementKind, sql: String)
    case savepoint(String)
    case rollbackTo(String)
    case release(String)

    public var sql: String {
        switch self {
        case .statement(_, let sql): sql
        case .savepoint(let name): "SAVEPOINT \(name)"
        case .rollbackTo(let name): "ROLLBACK TO \(name)"
        case .release(let name): "RELEASE \(name)"
        }
    }
}

/// A planned transaction: how it begins, its steps, and how it should end.
public struct TransactionPlan: Sendable, Hashable {
    public var kind: TransactionKind
    public var steps: [Step]
    /// Planned to end in ROLLBACK rather than COMMIT.
    public var rollsBack: Bool

    /// The statement that opens it (nil for autocommit).
    public var beginSQL: String? {
        switch kind {
        case .autocommit: nil
        case .deferred: "BEGIN"
        case .immediate: "BEGIN IMMEDIATE"
        case .exclusive: "BEGIN EXCLUSIVE"
        case .savepoint: "SAVEPOINT tx"
        }
    }

    /// The statement that ends it (nil for autocommit).
    public var endSQL: String? {
        switch (kind, rollsBack) {
        case (.autocommit, _): nil
        case (_, true): "ROLLBACK"
        case (.savepoint, false): "RELEASE tx"
        case (_, false): "COMMIT"
        }
    }
}

/// One unit of a worker's iteration.
public enum WorkUnit: Sendable, Hashable {
    case transaction(TransactionPlan)
    case maintenance(MaintenanceKind)

    public var maintenanceSQL: String? {
        guard case .maintenance(let kind) = self else { return nil }
        switch kind {
        case .checkpointPassive: return "PRAGMA wal_checkpoint(PASSIVE)"
        case .checkpointFull: return "PRAGMA wal_checkpoint(FULL)"
        case .checkpointRestart: return "PRAGMA wal_checkpoint(RESTART)"
        case .checkpointTruncate: return "PRAGMA wal_checkpoint(TRUNCATE)"
        case .incrementalVacuum: return "PRAGMA incremental_vacuum(8)"
        case .reconnect: return nil
        }
    }
}

/// Draws work units for a schema under a swarm configuration. Pure: the
/// units depend only on the random stream, never on what happened when
/// earlier units ran, so one seed gives one plan.
public struct WorkloadGenerator: Sendable {
    public let schema: Schema
    public let swarm: Swarm
    private let statementKinds: [StatementKind]
    private let statementWeights: [Int]
    private let writeKinds: [StatementKind]
    private let writeWeights: [Int]
    private let transactionKinds: [TransactionKind]
    private let transactionWeights: [Int]
    private let maintenanceKinds: [MaintenanceKind]
    private let maintenanceWeights: [Int]

    public init(schema: Schema, swarm: Swarm) {
        self.schema = schema
        self.swarm = swarm
        statementKinds = StatementKind.allCases.filter { swarm.statements[$0, default: 0] > 0 }
        statementWeights = statementKinds.map { swarm.statements[$0]! }
        writeKinds = statementKinds.filter(\.isWrite)
        writeWeights = writeKinds.map { swarm.statements[$0]! }
        transactionKinds = TransactionKind.allCases.filter { swarm.transactions[$0, default: 0] > 0 }
        transactionWeights = transactionKinds.map { swarm.transactions[$0]! }
        maintenanceKinds = MaintenanceKind.allCases.filter { swarm.maintenance[$0, default: 0] > 0 }
        maintenanceWeights = maintenanceKinds.map { swarm.maintenance[$0]! }
    }

    public func next(using rng: inout some RandomNumberGenerator) -> WorkUnit {
        let maintenanceTotal = maintenanceWeights.reduce(0, +)
        if maintenanceTotal > 0, rng.below(100 + maintenanceTotal) >= 100 {
            return .maintenance(maintenanceKinds[rng.weightedIndex(maintenanceWeights)])
        }
        return .transaction(transaction(using: &rng))
    }

    func transaction(using rng: inout some RandomNumberGenerator) -> TransactionPlan {
        let kind = transactionKinds[rng.weightedIndex(transactionWeights)]
        if kind == .autocommit {
            return TransactionPlan(kind: kind, steps: [statement(using: &rng)], rollsBack: false)
        }
        var steps: [Step] = []
        if rng.below(100) < swarm.readFirstPercent, let read = read(using: &rng) { steps.append(read) }
        var open: [String] = []  // Savepoints currently on the stack, innermost last.
        var nextName = 1
        let count = rng.int(in: 1...swarm.maxStatements)
        for _ in 0..<count {
            if rng.below(100) < swarm.savepointPercent {
                switch (open.isEmpty, rng.below(3)) {
                case (true, _), (false, 0):
                    let name = "sp\(nextName)"
                    nextName += 1
                    open.append(name)
                    steps.append(.savepoint(name))
                case (false, 1):
                    // ROLLBACK TO keeps the savepoint (and drops those inside it).
                    let depth = rng.below(open.count)
                    steps.append(.rollbackTo(open[depth]))
                    open.removeSubrange((depth + 1)...)
                default:
                    let depth = rng.below(open.count)
                    steps.append(.release(open[depth]))
                    open.removeSubrange(depth...)
                }
            }
            steps.append(statement(using: &rng))
        }
        // Often undo the innermost savepoint's work at the very end, so savepoint
        // rollbacks that are then committed around are common.
        if let last = open.last, rng.chance(0.3) { steps.append(.rollbackTo(last)) }
        return TransactionPlan(kind: kind, steps: steps, rollsBack: rng.below(100) < swarm.rollbackPercent)
    }

    func statement(using rng: inout some RandomNumberGenerator) -> Step {
        let kind = statementKinds[rng.weightedIndex(statementWeights)]
        let table = rng.pick(schema.tables)
        return .statement(kind, sql: StatementGenerator.generate(kind, on: table, using: &rng))
    }

    private func read(using rng: inout some RandomNumberGenerator) -> Step? {
        let table = rng.pick(schema.tables)
        return .statement(.select, sql: StatementGenerator.generate(.select, on: table, using: &rng))
    }
}
