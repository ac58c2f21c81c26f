/// One step inside an explicit transaction.
public enum Step: Sendable, Hashable {
    /// A statement on the table with identity `table` (nil for a view or the accounts).
    case statement(StatementKind, sql: String, table: String?)
    /// A transfer done as read-modify-write: read the source balance, write it back
    /// less `amount`, add `amount` to the target. A lost update shows in the total.
    case transfer(from: Int, to: Int, amount: Int64, tag: Int64)
    case savepoint(String)
    case rollbackTo(String)
    case release(String)
}

/// A planned transaction: how it begins, its steps, and how it should end.
public struct TransactionPlan: Sendable, Hashable {
    public var kind: TransactionKind
    public var steps: [Step]
    /// Planned to end in ROLLBACK rather than COMMIT.
    public var rollsBack: Bool
    /// Indices of the steps whose writes the plan itself undoes (by a later
    /// ROLLBACK TO or the final ROLLBACK): their rows carry -tx, and so do their ledger entries.
    public var doomed: Set<Int> = []
    /// The identities of the tables its statements write (a connection needs
    /// their ledger triggers first, and those of the tables the writes reach: `Schema.affected`).
    public var writes: Set<String> = []

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
    /// A schema change, drawn inside its own transaction for the schema as it is then.
    case schemaChange(SchemaChangeKind)
}

/// Draws work units for a schema under a swarm configuration. Pure: the
/// units depend only on the random stream and the transaction id, never on
/// what happened when earlier units ran, so one seed gives one plan.
public struct WorkloadGenerator: Sendable {
    public let schema: Schema
    public let swarm: Swarm
    private let statementKinds: [StatementKind]
    private let statementWeights: [Int]
    private let transactionKinds: [TransactionKind]
    private let transactionWeights: [Int]
    private let maintenanceKinds: [MaintenanceKind]
    private let maintenanceWeights: [Int]
    private let schemaChangeKinds: [SchemaChangeKind]
    private let schemaChangeWeights: [Int]

    public init(schema: Schema, swarm: Swarm) {
        self.schema = schema
        self.swarm = swarm
        statementKinds = StatementKind.allCases.filter { swarm.statements[$0, default: 0] > 0 }
        statementWeights = statementKinds.map { swarm.statements[$0]! }
        transactionKinds = TransactionKind.allCases.filter { swarm.transactions[$0, default: 0] > 0 }
        transactionWeights = transactionKinds.map { swarm.transactions[$0]! }
        maintenanceKinds = MaintenanceKind.allCases.filter { swarm.maintenance[$0, default: 0] > 0 }
        maintenanceWeights = maintenanceKinds.map { swarm.maintenance[$0]! }
        schemaChangeKinds = SchemaChangeKind.allCases.filter { swarm.schemaChanges[$0, default: 0] > 0 }
        schemaChangeWeights = schemaChangeKinds.map { swarm.schemaChanges[$0]! }
    }

    /// The next unit; a transaction's writes are tagged with `tx`.
    public func next(tx: Int64, using rng: inout some RandomNumberGenerator) -> WorkUnit {
        let maintenanceTotal = maintenanceWeights.reduce(0, +)
        let schemaTotal = schemaChangeWeights.reduce(0, +)
        let total = swarm.transactionWeight + maintenanceTotal + schemaTotal
        let roll = total > swarm.transactionWeight ? rng.below(total) : 0
        if roll >= swarm.transactionWeight + maintenanceTotal {
            return .schemaChange(schemaChangeKinds[rng.weightedIndex(schemaChangeWeights)])
        }
        if roll >= swarm.transactionWeight {
            return .maintenance(maintenanceKinds[rng.weightedIndex(maintenanceWeights)])
        }
        return .transaction(transaction(tx: tx, using: &rng))
    }

    /// The shape of a transaction before its SQL is written.
    enum Slot: Equatable {
        case statement(StatementKind)
        case savepoint(String)
        case rollbackTo(String)
        case release(String)
    }

    func transaction(tx: Int64, using rng: inout some RandomNumberGenerator) -> TransactionPlan {
        let kind = transactionKinds[rng.weightedIndex(transactionWeights)]
        if kind == .autocommit {
            var writes: Set<String> = []
            let step = statement(pickKind(using: &rng), tag: tx, writes: &writes, using: &rng)
            return TransactionPlan(kind: kind, steps: [step], rollsBack: false, writes: writes)
        }

        // 1. The shape: statements and well-nested savepoint operations.
        var slots: [Slot] = []
        if rng.below(100) < swarm.readFirstPercent { slots.append(.statement(.select)) }
        var open: [String] = []  // Savepoints currently on the stack, innermost last.
        var nextName = 1
        for _ in 0..<rng.int(in: 1...swarm.maxStatements) {
            if rng.below(100) < swarm.savepointPercent {
                switch (open.isEmpty, rng.below(3)) {
                case (true, _), (false, 0):
                    let name = "sp\(nextName)"
                    nextName += 1
                    open.append(name)
                    slots.append(.savepoint(name))
                case (false, 1):
                    // ROLLBACK TO keeps the savepoint (and drops those inside it).
                    let depth = rng.below(open.count)
                    slots.append(.rollbackTo(open[depth]))
                    open.removeSubrange((depth + 1)...)
                default:
                    let depth = rng.below(open.count)
                    slots.append(.release(open[depth]))
                    open.removeSubrange(depth...)
                }
            }
            slots.append(.statement(pickKind(using: &rng)))
        }
        // Often undo the innermost savepoint's work at the very end, so savepoint
        // rollbacks that are then committed around are common.
        if let last = open.last, rng.chance(0.3) { slots.append(.rollbackTo(last)) }
        let rollsBack = rng.below(100) < swarm.rollbackPercent

        // 2. Which statements the plan itself will undo: their writes carry -tx.
        let doomed = Self.doomedSlots(slots, rollsBack: rollsBack)

        // 3. The SQL.
        var writes: Set<String> = []
        let steps = slots.enumerated().map { index, slot -> Step in
            switch slot {
            case .statement(let kind):
                let tag = doomed.contains(index) ? -tx : tx
                if kind == .transfer {
                    let (from, to, amount) = StatementGenerator.transfer(using: &rng)
                    writes.insert(Bookkeeping.accounts)
                    return .transfer(from: from, to: to, amount: amount, tag: tag)
                }
                return statement(kind, tag: tag, writes: &writes, using: &rng)
            case .savepoint(let name): return .savepoint(name)
            case .rollbackTo(let name): return .rollbackTo(name)
            case .release(let name): return .release(name)
            }
        }
        return TransactionPlan(kind: kind, steps: steps, rollsBack: rollsBack, doomed: doomed, writes: writes)
    }

    /// Indices of the statements that a later ROLLBACK TO (or the final ROLLBACK) undoes.
    static func doomedSlots(_ slots: [Slot], rollsBack: Bool) -> Set<Int> {
        if rollsBack { return Set(slots.indices.filter { if case .statement = slots[$0] { true } else { false } }) }
        var doomed = Set<Int>()
        // For each open savepoint, the statements done since it was set; index 0 is the transaction itself.
        var scopes: [(name: String, statements: [Int])] = [("", [])]
        for (index, slot) in slots.enumerated() {
            switch slot {
            case .statement: scopes[scopes.count - 1].statements.append(index)
            case .savepoint(let name): scopes.append((name, []))
            case .rollbackTo(let name):
                guard let depth = scopes.lastIndex(where: { $0.name == name }) else { continue }
                for scope in scopes[depth...] { doomed.formUnion(scope.statements) }
                scopes.removeSubrange((depth + 1)...)
                scopes[depth].statements = []
            case .release(let name):
                guard let depth = scopes.lastIndex(where: { $0.name == name }), depth > 0 else { continue }
                let merged = scopes[depth...].flatMap(\.statements)
                scopes.removeSubrange(depth...)
                scopes[depth - 1].statements += merged
            }
        }
        return doomed
    }

    /// One statement of a kind the swarm enables (no transfer: it takes steps of
    /// its own), or nil when it enables none.
    func randomStatement(tag: Int64, writes: inout Set<String>, using rng: inout some RandomNumberGenerator) -> Step? {
        guard !statementKinds.isEmpty else { return nil }
        let kind = pickKind(using: &rng)
        return statement(kind == .transfer ? .update : kind, tag: tag, writes: &writes, using: &rng)
    }

    private func pickKind(using rng: inout some RandomNumberGenerator) -> StatementKind {
        statementKinds[rng.weightedIndex(statementWeights)]
    }

    func statement(
        _ kind: StatementKind, tag: Int64, writes: inout Set<String>, using rng: inout some RandomNumberGenerator
    ) -> Step {
        if kind == .selectView, !schema.views.isEmpty {
            return .statement(kind, sql: StatementGenerator.select(rng.pick(schema.views), using: &rng), table: nil)
        }
        // With no view to read, a view read reads a table.
        let kind = kind == .selectView ? .select : kind
        let table = rng.pick(schema.tables)
        if kind.isWrite { writes.insert(kind == .transfer ? Bookkeeping.accounts : table.id) }
        return .statement(kind, sql: StatementGenerator.generate(kind, on: table, tag: tag, using: &rng), table: table.id)
    }
}
