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
    /// Compact the ledger every this many iterations per thread (0: never); see `Compaction`.
    public var compactEvery: Int
    /// Replace an existing database, but only one this tool created.
    public var overwrite: Bool
    /// Storage faults to inject through the fault-injecting VFS, and whether power fails.
    public var faults: FaultPlan
    /// Whether the swarm may change the schema while writers run (else its schema changes are off).
    public var schemaChanges: Bool

    public init(
        databasePath: String, logPath: String? = nil, randomness: Randomness, threads: Int = 1, iterations: Int = 1000,
        tables: Int? = nil, journalMode: JournalMode? = nil, synchronous: String? = nil, busyTimeout: Int = 5000,
        checkEvery: Int = 1000, compactEvery: Int = StressSettings.defaultCompactEvery, overwrite: Bool = false,
        faults: FaultPlan = FaultPlan(), schemaChanges: Bool = true, logLimit: Int64? = SQLLog.defaultLimit
    ) {
        self.compactEvery = compactEvery
        self.logLimit = logLimit
        self.schemaChanges = schemaChanges
        self.databasePath = databasePath
        self.logPath = logPath ?? databasePath + ".sql"
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

    /// How often the monolith compacts the ledger by default: never. A
    /// compaction removes the commit records by which `replay` puts a
    /// multi-writer log's commits in the run's order, so such a replay falls
    /// back to the log's order and can report timing as a difference; long runs
    /// ask for it (`--compact-every 200` keeps a long run's database the size of
    /// its data), and the composed template's `compact` driver runs it.
    public static let defaultCompactEvery = 0

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
        guard compactEvery >= 0 else { throw ToolError("--compact-every must not be negative (got \(compactEvery)).") }
        guard !databasePath.isEmpty else { throw ToolError("--db must not be empty.") }
        guard logPath != databasePath else { throw ToolError("--sql-log must differ from --db.") }
        if let synchronous, !DatabaseConfig.synchronousLevels.contains(synchronous.uppercased()) {
            throw ToolError("--synchronous must be off, normal, full or extra (got '\(synchronous)').")
        }
        try faults.validate()
    }
}
