/// Everything that defines one `stress` run. With a seed, these reproduce it.
public struct StressSettings: Sendable {
    public var databasePath: String
    public var logPath: String
    /// The size past which the SQL log is rotated to `<log>.1`; nil: never.
    public var logLimit: Int64?
    /// The seed, or Antithesis's randomness at every choice.
    public var randomness: Randomness
    public var threads: Int
    public var iterations: Int
    /// Tables to create; nil draws 1…10 from the seed.
    public var tables: Int?
    /// Journal mode; nil draws one from the seed.
    public var journalMode: JournalMode?
    /// OFF, NORMAL, FULL or EXTRA; nil draws one from the seed.
    public var synchronous: String?
    public var busyTimeout: Int
    /// Run `PRAGMA integrity_check` every this many iterations per thread (0: never).
    public var checkEvery: Int
    /// When each thread compacts the ledger; see `Compaction`.
    public var compaction: CompactionSchedule
    /// Replace an existing database, but only one this tool created.
    public var overwrite: Bool
    /// Storage faults to inject through the fault-injecting VFS, and whether power fails.
    public var faults: FaultPlan
    /// Whether the swarm may change the schema while writers run (else its schema changes are off).
    public var schemaChanges: Bool

    public init(
        databasePath: String, logPath: String? = nil, randomness: Randomness, threads: Int = 1, iterations: Int = 1000,
        tables: Int? = nil, journalMode: JournalMode? = nil, synchronous: String? = nil, busyTimeout: Int = 5000,
        checkEvery: Int = 1000, compaction: CompactionSchedule = .automatic, overwrite: Bool = false,
        faults: FaultPlan = FaultPlan(), schemaChanges: Bool = true, logLimit: Int64? = SQLLog.defaultLimit
    ) {
        self.compaction = compaction
        self.logLimit = logLimit
        self.schemaChanges = schemaChanges
        self.databasePath = databasePath
        self.logPath = logPath ?? SQLLog.path(for: databasePath)
        self.randomness = randomness
        self.threads = threads
        self.iterations = iterations
        self.tables = tables
        self.journalMode = journalMode
        self.synchronous = synchronous
        self.faults = faults
        self.busyTimeout = busyTimeout
        self.checkEvery = checkEvery
        self.overwrite = overwrite
    }

    /// Checks the numbers; paths are checked by `StressRun.prepare`.
    public func validate() throws(ToolError) {
        guard threads >= 1 else { throw ToolError("--threads must be at least 1 (got \(threads)).") }
        guard threads <= 256 else { throw ToolError("--threads must be at most 256 (got \(threads)).") }
        guard iterations >= 1 else { throw ToolError("--iterations must be at least 1 (got \(iterations)).") }
        if let tables, !(1...10).contains(tables) {
            throw ToolError("--tables must be between 1 and 10 (got \(tables)).")
        }
        guard busyTimeout >= 0 else { throw ToolError("--busy-timeout must not be negative (got \(busyTimeout)).") }
        guard checkEvery >= 0 else { throw ToolError("--check-every must not be negative (got \(checkEvery)).") }
        guard compaction.every >= 0, compaction.from >= 0 else {
            throw ToolError("--compact-every must not be negative (got \(compaction.every)).")
        }
        guard !databasePath.isEmpty else { throw ToolError("--db must not be empty.") }
        guard logPath != databasePath else { throw ToolError("--sql-log must differ from --db.") }
        if let synchronous, !DatabaseConfig.synchronousLevels.contains(synchronous.uppercased()) {
            throw ToolError("--synchronous must be off, normal, full or extra (got '\(synchronous)').")
        }
        if let synchronous, let why = faults.unverifiable(at: synchronous) {
            throw ToolError("\(why.option) with --synchronous off: \(why.reason), so the run could verify nothing; "
                + "choose --synchronous normal, full or extra.")
        }
        try faults.validate()
    }
}

/// When each thread of `stress` compacts the ledger (`Compaction`): every
/// `every` iterations of its own, from its `from`-th iteration on; never when
/// `every` is 0.
///
/// The default, `automatic`, compacts every 200 iterations once a thread has
/// run 2,000: a long run's database stays the size of its data (an overnight
/// run without compaction would fill a laptop's disk), and a short run — the
/// default 1,000 iterations, the README's examples, the tests' pinned seeds —
/// never compacts. A compaction removes ledger entries by which `replay` puts
/// a multi-writer log's commits in the run's order, and logs their places
/// first (`Compaction.orderLine`), so a compacted log still replays in the
/// run's order (README, "Replaying a log").
public struct CompactionSchedule: Sendable, Equatable {
    public var every: Int
    public var from: Int

    public init(every: Int, from: Int = 0) {
        self.every = every
        self.from = from
    }

    public static let never = CompactionSchedule(every: 0)
    public static let automatic = CompactionSchedule(every: 200, from: 2000)

    /// `auto`, or a number of iterations (0: never) — as `--compact-every` takes it.
    public init?(argument: String) {
        if argument == "auto" {
            self = .automatic
        } else if let every = Int(argument), every >= 0 {
            self.init(every: every)
        } else {
            return nil
        }
    }

    /// As `--compact-every` spells it.
    public var argument: String { self == .automatic ? "auto" : "\(every)" }

    /// Whether a thread compacts after its `iteration`-th iteration.
    func isDue(after iteration: Int) -> Bool { every > 0 && iteration >= from && iteration % every == 0 }
}
