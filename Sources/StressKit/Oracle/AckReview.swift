import StressSQLite

/// The acknowledgement log held against one snapshot of the database, in one
/// pass over the part of the log not yet reviewed: what `durability` and
/// `rollback` judge by.
///
/// The snapshot's side is read into memory first, one bit per transaction id
/// (`TransactionSet`): the ids the ledger holds, and those the record of
/// compacted transactions holds (`Compaction`). Then each record of the log is judged as
/// it is read, and only what it finds wrong is kept: so a check costs one read
/// of the log's unreviewed part, with no copy of it, and memory that follows
/// the ids in the database (a bit each) and the commits found missing. Each record
/// is judged on its own: a clean run writes each id once (a writer's ids are
/// its own, `AckLog.reserveWriter`), and an id recorded twice is judged twice.
///
/// ## Only what no compaction has reviewed
///
/// A compaction reviews the records written since the last one, in its own
/// write transaction, before it removes anything (`Compaction`, "Folding the
/// acknowledgements"): when they all hold, it records in `stress_meta` how far
/// the log was reviewed (`acks_folded_through`, a byte offset) and from then on
/// may remove those transactions' entries. A review starts there, so a check's
/// cost follows the work since the last compaction, not the run's history.
/// The records before it were held to a snapshot that contained every one of
/// their transactions, and the compaction that says so committed after them:
/// a later loss that takes it (SQLite rolling the database back to before it)
/// takes the mark back too, and those records are judged again.
///
/// Which records count: those the log held before the snapshot began
/// (`judged`), since only their transactions are surely in it; and, up to the
/// log's length once the snapshot is fixed (`settled`), the power losses'
/// markers too. A writer that simulates a power loss holds the database
/// locked from its first write until its marker is written, so a check that
/// waited for that lock sees the database after the power loss, and the commits
/// acknowledged before it are judged as the marker says.
///
/// What is judged, record by record:
/// - a commit (`c`) must be in the database, by a ledger entry or its bit in
///   the record; where a power loss struck after it (`p 1`, a synchronous
///   level that lets SQLite lose the latest commits), it may be lost, unless a
///   commit of the same writer made after it, before that power loss, survived;
/// - a rollback (`r`) must have no entry in the ledger and no bit in the record.
///
/// Every writer creates the log before its first transaction, so once the
/// database records a committed transaction the log must be there and
/// readable: missing, empty, not ours, a directory, a read error, or shorter
/// than the part a compaction reviewed, is a `ToolError`, never an empty log.
/// Only a database that records no committed transaction may have none
/// (nothing was ever acknowledged).
struct AckReview {
    /// Where the review began: the byte of the log up to which compactions had
    /// reviewed it (0: the whole log).
    var from = 0
    /// The log's bytes up to where the last record judged ends (`from` when none was): the offset a
    /// compaction folds through. The log's length can end inside a record,
    /// since the kernel can grow a file page by page under another process's
    /// append; that record is left to the next review, which starts here.
    var judgedBytes = 0
    /// Commit records read, rollback records read, and power losses that let
    /// SQLite lose the commits acknowledged before them.
    var committed = 0
    var rolledBack = 0
    var relaxed = 0
    /// Commits that must be in the database and are not.
    var missing: LowestIDs
    /// Commits a power loss took, as the synchronous level allows.
    var lost = 0
    /// Commits a power loss took although a later commit of the same writer
    /// survived it, in the order of the log (at most `listed`), and how many.
    var outlived: [(tx: Int64, survivor: Int64)] = []
    var outlivedCount = 0
    /// Rolled-back transactions that the record of compacted transactions names.
    var recordedRollbacks: LowestIDs
    /// Rolled-back transactions that have entries in the ledger.
    var leaked: Set<Int64> = []
    /// Whether the ledger holds entries of undone work (negative ids).
    var undoneWork = false
    /// In a compaction's review (`ledgerAfter`), the highest id each writer
    /// (`tx >> 32`) has a record of among those judged: a writer's records are
    /// in the order of its transactions. Nil in a check's, which has no use for it.
    var reviewedThrough: [Int64: Int64]?

    /// Whether every record judged holds: what a compaction needs to fold them.
    var holds: Bool { missing.count == 0 && outlivedCount == 0 && leaked.isEmpty && recordedRollbacks.count == 0 }

    /// The byte of the log up to which compactions have reviewed it, in the
    /// snapshot of `connection` (0 when none has).
    static func reviewedBytes(in connection: Connection) throws -> Int {
        switch try connection.scalar("SELECT value FROM main.\(Bookkeeping.meta) WHERE key = '\(Compaction.foldKey)'") {
        case nil, .null?: return 0
        case .integer(let bytes)? where bytes >= 0: return Int(bytes)
        case let value?:
            throw ToolError("cannot check durability or rollback: the database records \(value.sqlLiteral) as the acknowledgement log's reviewed length, which is no length.")
        }
    }

    /// Reads the ledger's and the record's ids in the snapshot of `connection`, then judges the
    /// records from where compactions' reviews ended (`reviewedBytes`) up to
    /// the first `judged` bytes of the log at `path` (its length before the
    /// snapshot began; nil when it was missing) against them, with the power
    /// losses' markers up to its first `settled` bytes (its length once the
    /// snapshot was fixed). Violations beyond `listed` per kind are counted only.
    ///
    /// With `ledgerAfter`, only the ledger's entries after that `seq` are read:
    /// a compaction's review, where every transaction with an earlier entry is
    /// folded already or in the record (`Compaction`, "The record of compacted
    /// transactions"), so that the review costs the work since, not the ledger.
    ///
    /// Throws `SQLiteError` when the snapshot's ids cannot be read (the damage
    /// is then the finding, and the log is not read), and `ToolError` when the
    /// log cannot serve as evidence.
    init(connection: Connection, log path: String, judged: Int?, settled: Int?, listed: Int, ledgerAfter: Int64? = nil) throws {
        missing = LowestIDs(limit: listed)
        recordedRollbacks = LowestIDs(limit: listed)
        var ledger = TransactionSet()
        let ledgerIDs = try connection.prepare("SELECT tx FROM main.\(Bookkeeping.ledger)" + (ledgerAfter == nil ? "" : " WHERE seq > ?1"))
        if let ledgerAfter {
            ledgerIDs.bind(.integer(ledgerAfter), at: 1)
            reviewedThrough = [:]
        }
        while try ledgerIDs.step() {
            let tx = ledgerIDs.int64(0)
            if tx < 0 { undoneWork = true } else { ledger.insert(tx) }
        }
        var compacted = TransactionSet()
        let record = try connection.prepare("SELECT block, bits FROM main.\(Compaction.table)")
        while try record.step() { compacted.insert(block: record.int64(0), bits: record.int64(1), width: Compaction.blockBits) }
        from = try Self.reviewedBytes(in: connection)
        judgedBytes = from
        guard let judged else {
            if !ledger.hasPositive, compacted.isEmpty, from == 0 { return }  // Nothing ever committed, so nothing was acknowledged.
            throw ToolError("cannot check durability or rollback: the acknowledgement log \(path) is missing.")
        }
        var era = Era()
        do {
            try AckLog.forEach(at: path, from: from, limit: max(judged, settled ?? judged)) { outcome, tx, offset in
                era.seq += 1
                if offset > judged, outcome != .powerLoss { return }  // Possibly after the snapshot began.
                if offset <= judged { judgedBytes = offset }
                switch outcome {
                case .committed:
                    committed += 1
                    era.commit(tx, present: ledger.contains(tx) || compacted.contains(tx))
                    noteReviewed(tx)
                case .rolledBack:
                    rolledBack += 1
                    if ledger.contains(tx) { leaked.insert(tx) }
                    if compacted.contains(tx) { recordedRollbacks.add(tx) }
                    noteReviewed(tx)
                case .powerLoss:
                    if tx == 1 { relaxed += 1 }
                    end(&era, relaxed: tx == 1)
                case .writer:
                    break  // A driver's reservation of its ids: no transaction.
                }
            }
        } catch let error as ToolError {
            throw ToolError("cannot check durability or rollback: \(error.message)")
        }
        end(&era, relaxed: false)
    }

    /// Notes `tx` as reviewed, in a compaction's review.
    private mutating func noteReviewed(_ tx: Int64) {
        if let highest = reviewedThrough?[tx >> 32], highest >= tx { return }
        reviewedThrough?[tx >> 32] = tx
    }

    /// The commits missing since the last power loss: held against the database
    /// unless the power loss that ends them (`relaxed`) lets SQLite lose them.
    private mutating func end(_ era: inout Era, relaxed: Bool) {
        if relaxed {
            lost += era.missing.count
            for (tx, survivor, _) in era.outlived.sorted(by: { $0.seq < $1.seq }) {
                outlivedCount += 1
                if outlived.count < missing.limit { outlived.append((tx, survivor)) }
            }
        } else {
            for (tx, _) in era.missing { missing.add(tx) }
        }
        era = Era(seq: era.seq)
    }

    /// The commits of the log since the last power loss that are not in the database.
    private struct Era {
        /// The place of the latest record in the log.
        var seq = 0
        var missing: [(tx: Int64, seq: Int)] = []
        /// Missing commits by writer (`tx >> 32`) that no later commit of theirs has outlived yet.
        var unanswered: [Int64: [Int]] = [:]
        /// Missing commits that a later commit of the same writer outlived.
        var outlived: [(tx: Int64, survivor: Int64, seq: Int)] = []

        mutating func commit(_ tx: Int64, present: Bool) {
            let writer = tx >> 32
            if present {
                for index in unanswered.removeValue(forKey: writer) ?? [] {
                    outlived.append((missing[index].tx, tx, missing[index].seq))
                }
            } else {
                unanswered[writer, default: []].append(missing.count)
                missing.append((tx, seq))
            }
        }
    }
}

/// Transaction ids, one bit each: a writer's ids are consecutive numbers after
/// its base (`TransactionID`), so a run's ids fill whole words.
struct TransactionSet {
    private var words: [Int64: UInt64] = [:]
    private(set) var hasPositive = false

    var isEmpty: Bool { words.isEmpty }

    mutating func insert(_ tx: Int64) {
        words[tx >> 6, default: 0] |= 1 << UInt64(tx & 63)
        if tx > 0 { hasPositive = true }
    }

    /// The ids `block << width + i` for each bit `i` set in `bits`.
    mutating func insert(block: Int64, bits: Int64, width: Int) {
        precondition(width >= 0 && width < 6, "a block of more than 32 ids")
        var rest = UInt64(bitPattern: bits) & ((1 << UInt64(1 << width)) - 1)
        while rest != 0 {
            insert(block << Int64(width) + Int64(rest.trailingZeroBitCount))
            rest &= rest - 1
        }
    }

    func contains(_ tx: Int64) -> Bool {
        guard let word = words[tx >> 6] else { return false }
        return word >> UInt64(tx & 63) & 1 == 1
    }
}

/// The lowest ids added (at most `limit`, in order), and how many were added.
struct LowestIDs {
    let limit: Int
    private(set) var ids: [Int64] = []
    private(set) var count = 0

    init(limit: Int) { self.limit = limit }

    mutating func add(_ tx: Int64) {
        count += 1
        guard ids.count < limit || (limit > 0 && tx < ids[ids.count - 1]) else { return }
        var low = 0, high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < tx { low = middle + 1 } else { high = middle }
        }
        ids.insert(tx, at: low)
        if ids.count > limit { ids.removeLast() }
    }
}
