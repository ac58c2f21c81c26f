#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite
import Synchronization

/// A snapshot of a running `stress`, for progress output.
public struct StressProgress: Sendable {
    public var iterationsDone: Int
    public var iterationsTotal: Int
    public var statements: Int
    public var elapsed: Double
    /// The run's growing files (the database, its WAL, the SQL log) and their sizes in bytes.
    public var fileSizes: [(path: String, bytes: Int64)] = []
}

/// The monolith: a fresh database with a random schema, T threads × N
/// iterations of random transactions, periodic and final integrity checks.
///
/// `prepare` checks everything and draws the whole plan without touching the
/// disk; `run` creates the files and does the work.
public final class StressRun: Sendable {
    public let settings: StressSettings
    public let config: DatabaseConfig
    public let schema: Schema
    /// The number of tables drawn (or given with `--tables`); the schema may add an audit table.
    public let tableCount: Int
    public let swarm: Swarm

    /// Validates `settings` and the paths, and draws schema, configuration and swarm
    /// (from the seed, or from Antithesis at every choice). Writes nothing.
    public static func prepare(_ settings: StressSettings) throws(ToolError) -> StressRun {
        try settings.validate()
        try checkPaths(settings)
        var schemaRNG = settings.randomness.stream("schema")
        let drawnTables = schemaRNG.int(in: 1...10)  // Drawn always, so --tables only overrides it.
        let tableCount = settings.tables ?? drawnTables
        let schema = SchemaGenerator.generate(tableCount: tableCount, using: &schemaRNG)
        var configRNG = settings.randomness.stream("config")
        let config = DatabaseConfig.generate(
            journalMode: settings.journalMode, synchronous: settings.synchronous, losesPower: settings.faults.losesPower, using: &configRNG)
        var swarmRNG = settings.randomness.stream("swarm")
        var swarm = Swarm.generate(using: &swarmRNG)
        if !settings.schemaChanges { swarm.schemaChanges = [:] }
        return StressRun(settings: settings, config: config, schema: schema, tableCount: tableCount, swarm: swarm)
    }

    private init(settings: StressSettings, config: DatabaseConfig, schema: Schema, tableCount: Int, swarm: Swarm) {
        self.settings = settings
        self.config = config
        self.schema = schema
        self.tableCount = tableCount
        self.swarm = swarm
    }

    private static func checkPaths(_ settings: StressSettings) throws(ToolError) {
        let db = settings.databasePath
        try DatabaseFile.checkNotALink(db, what: "database")
        switch DatabaseFile.kind(at: db) {
        case .missing:
            try DatabaseFile.checkCreatable(db, what: "database")
            _ = try DatabaseFile.checkLeftSidecars(of: db, overwrite: settings.overwrite)
        case .directory:
            throw ToolError("\(db) is a directory, not a database file.")
        case .notSQLite:
            throw ToolError("\(db) exists and is not an SQLite database; refusing to touch it.")
        case .damaged:
            guard settings.overwrite else {
                throw ToolError("\(db) already exists (its first page is damaged); pass --overwrite to replace it.")
            }
        case .sqlite(let id):
            guard settings.overwrite else {
                throw ToolError("\(db) already exists; pass --overwrite to replace a database sqlite-stress created.")
            }
            guard id == DatabaseFile.applicationID else {
                throw ToolError("refusing to overwrite \(db): it was not created by sqlite-stress.")
            }
            guard access(db, W_OK) == 0 else { throw ToolError("\(db) is not writable.") }
        }
        let acks = AckLog.path(for: db)
        try AckLog.checkWritable(at: acks, appending: false)
        if DatabaseFile.isDirectory(acks) != nil, !settings.overwrite, DatabaseFile.kind(at: db) != .missing {
            throw ToolError("\(acks) already exists; pass --overwrite to replace it.")
        }
        let setup = DatabaseFile.setupPath(for: db)
        if FileManager.default.fileExists(atPath: setup), !isInterruptedSetup(setup) {
            throw ToolError("refusing to remove \(setup): it is not a database sqlite-stress was setting up.")
        }
        // SQLite's files beside both, which a run replaces: a directory or a FIFO there is none of them.
        if let odd = DatabaseFile.irregularSidecar(of: db) ?? DatabaseFile.irregularSidecar(of: setup) {
            throw ToolError("\(odd); refusing to remove it.")
        }
        let log = settings.logPath
        // SQLite would delete or overwrite the log, or the log would mix into another file.
        let canonicalLog = DatabaseFile.canonical(log)
        if ownFiles(of: db).contains(where: { DatabaseFile.canonical($0) == canonicalLog }) {
            throw ToolError("the SQL log \(log) would be one of the database's own files; give --sql-log another path.")
        }
        // Another run's log, named with --sql-log, is replaced only with --overwrite, as
        // a database is (the `<db>.sql` of a database that is gone is what is left of it).
        try SQLLog.checkWritable(
            at: log, appending: false, replacing: settings.overwrite || canonicalLog == DatabaseFile.canonical(SQLLog.path(for: db)))
        // Last, as close to the replacement as it can be: never pull files from under a running process.
        if let user = DatabaseFile.openingProcess(of: db) {
            throw ToolError("refusing to replace \(db): \(user).")
        }
    }

    /// Whether the file at `path` is what a setup killed part way leaves: empty
    /// (SQLite had not written yet), or a database carrying this tool's
    /// application id (the first thing written).
    private static func isInterruptedSetup(_ path: String) -> Bool {
        switch DatabaseFile.kind(at: path) {
        case .sqlite(let id): id == DatabaseFile.applicationID
        case .notSQLite, .damaged: DatabaseFile.isEmpty(path)
        case .missing, .directory: false
        }
    }

    /// The resolved settings (tables and journal mode as drawn) as command-line
    /// arguments, with `threads` threads; nil when Antithesis supplied the
    /// choices (no seed reproduces them). The files go to fresh paths
    /// (`stress.db` → `stress-repro.db`): running the line never replaces the
    /// database and logs it came from (and it refuses to replace an earlier
    /// reproduction without `--overwrite`).
    public func reproduceArguments(threads: Int) -> [String]? {
        guard let seed = settings.randomness.seed else { return nil }
        let database = DatabaseFile.reproductionPath(settings.databasePath)
        return [
            "stress", "--seed", Seed.format(seed), "--threads", "\(threads)",
            "--iterations", "\(settings.iterations)", "--tables", "\(tableCount)",
            "--journal-mode", config.journalMode.rawValue, "--synchronous", config.synchronous.lowercased(),
            "--busy-timeout", "\(settings.busyTimeout)",
            "--check-every", "\(settings.checkEvery)", "--compact-every", settings.compaction.argument, "--db", database,
        ] + (settings.logPath == SQLLog.path(for: settings.databasePath) ? [] : ["--sql-log", DatabaseFile.reproductionPath(settings.logPath)])
            + (settings.logLimit == SQLLog.defaultLimit ? [] : ["--sql-log-max", SQLLog.describe(limit: settings.logLimit ?? 0)])
            + settings.faults.arguments + (settings.schemaChanges ? [] : ["--no-schema-changes"])
            + SQLiteChoice.reproduceArguments
    }

    /// Whether the reproduce line repeats the run exactly: one thread does; with
    /// several, the scheduler decides how their transactions interleave.
    public var reproducesExactly: Bool { settings.threads == 1 }

    /// The command line that reproduces this run (exactly when
    /// `reproducesExactly`); nil without a seed.
    public var reproduceCommand: String? { reproduceArguments(threads: settings.threads).map(Self.command) }

    /// With several threads: the same seed with one thread, which reproduces
    /// exactly (thread t0's work alone; it may not meet the same failure).
    public var singleThreadCommand: String? {
        reproducesExactly ? nil : reproduceArguments(threads: 1).map(Self.command)
    }

    /// The reproduce lines as the report prints them: with several threads, the
    /// line is labelled as not exact and the exact one-thread line follows.
    public var reproduceLines: [String] {
        guard let reproduceCommand else { return ["reproduce: " + Randomness.notReproducible] }
        guard let singleThreadCommand else { return ["reproduce: \(reproduceCommand)"] }
        return [
            "reproduce (not exact: \(settings.threads) threads interleave as the scheduler runs them): \(reproduceCommand)",
            "reproduce exactly with one thread (thread t0's work alone; it may not meet the same failure): \(singleThreadCommand)",
        ]
    }

    private static func command(_ arguments: [String]) -> String {
        (["sqlite-stress"] + arguments).map(DatabaseFile.shellQuote).joined(separator: " ")
    }

    // MARK: - Running

    /// Creates the database (schema, configuration, bookkeeping), its SQL log and
    /// acknowledgement log, replacing old ones as `prepare` allowed. This is all
    /// `sqlite-stress schema` does. Corruption met while setting up the new
    /// file is not an environment problem but a finding: it is in the
    /// context's violations, and the files stay as evidence.
    ///
    /// `setupVFS` names the VFS the setup writes through (tests plant storage faults there).
    func create(command: String = "stress", setupVFS: String? = nil) throws(ToolError) -> RunContext {
        try removeOldFiles()
        // One thread: the setup, the worker and the final check write one after another.
        let log = try SQLLog(path: settings.logPath, limit: settings.logLimit, soleWriter: settings.threads == 1)
        let acks = try AckLog(path: AckLog.path(for: settings.databasePath), syncs: config.commitsSurvivePowerLoss)
        let generator = WorkloadGenerator(schema: schema, swarm: swarm)
        let context = RunContext(log: log, acks: acks, settings: settings, config: config, generator: generator)
        writeHeader(to: log, command: command)
        do {
            try createDatabase(context, vfs: setupVFS)
        } catch {
            log.close()
            removeFiles()
            throw error
        }
        return context
    }

    /// Creates the files as `create` does, and nothing more (`sqlite-stress schema`).
    public func createOnly() throws(ToolError) -> SetupOutcome {
        let context = try create(command: "schema")
        context.log.close()
        return SetupOutcome(
            run: self, violations: context.violations.withLock { $0 }, incompleteEvidence: context.incompleteEvidence)
    }

    /// What `createOnly` made, and what it found wrong: corruption of the new
    /// file (an `integrity` violation), or evidence that could not be written.
    public struct SetupOutcome: Sendable {
        public var databasePath: String
        /// The SDK output's first failure to take a message, set as the result is
        /// printed: its JSON then says it, and a "pass" is "error" (exit status 2).
        public var sdkOutputFailure: String?
        /// The seed, or Antithesis's randomness.
        public var randomness: Randomness
        public var configuration: String
        public var tables: [String]
        /// The printed schema line.
        public var schema: String
        public var violations: [Violation]
        public var incompleteEvidence: [EvidenceGap]

        init(run: StressRun, violations: [Violation], incompleteEvidence: [EvidenceGap]) {
            databasePath = run.settings.databasePath
            randomness = run.settings.randomness
            configuration = run.config.summary
            tables = run.schema.tables.map(\.shape)
            schema = run.schema.summary
            self.violations = violations
            self.incompleteEvidence = incompleteEvidence
        }

        public var passed: Bool { violations.isEmpty }

        public var text: String {
            var lines = ["database: \(databasePath) — \(configuration)", schema]
            lines += incompleteEvidence.map { "incomplete evidence: \($0)" } + violations.map(\.description)
            if !passed { lines.append("result: FAIL — the new database came out damaged; \(randomness.description)") }
            return lines.joined(separator: "\n")
        }

        public func json() -> String {
            struct Document: Encodable {
                let command: String, result: String, database: String, randomness: String, seed: String?
                let violations: [Violation], incompleteEvidence: [EvidenceGap]
                let sqlite: SQLiteLibrary
                let sdkOutputFailure: String?
            }
            return prettyJSON(Document(
                command: "schema", result: resultWord(passed ? "pass" : "fail", sdkOutputFailure: sdkOutputFailure),
                database: databasePath, randomness: randomness.kind,
                seed: randomness.seed.map(Seed.format), violations: violations, incompleteEvidence: incompleteEvidence,
                sqlite: SQLiteChoice.library, sdkOutputFailure: sdkOutputFailure))
        }
    }

    /// Creates the database and log, runs the workload, checks, and reports.
    /// Throws `ToolError` only when the files cannot be set up.
    public func run(progressInterval: Double = 0.2, onProgress: (@Sendable (StressProgress) -> Void)? = nil) throws(ToolError) -> StressReport {
        try run(progressInterval: progressInterval, onProgress: onProgress, setupVFS: nil)
    }

    /// `run`, with the setup written through `setupVFS` (see `create`).
    func run(
        progressInterval: Double = 0.2, onProgress: (@Sendable (StressProgress) -> Void)? = nil, setupVFS: String?
    ) throws(ToolError) -> StressReport {
        let context = try create(setupVFS: setupVFS)
        let log = context.log
        let setupViolations = context.violations.withLock { $0 }
        guard setupViolations.isEmpty else {
            log.close()
            return StressReport(
                run: self, counters: Counters(), elapsed: 0, logLines: log.writtenLines, violations: setupViolations,
                unexpectedErrors: [], finalCheck: nil, finalCheckRan: false, incompleteEvidence: context.incompleteEvidence)
        }

        if !settings.faults.isEmpty {
            // Armed after the database is set up: the faults strike the workload only.
            try FaultInjector.arm(
                settings.faults, randomness: settings.randomness.derived("faults"),
                expectedWork: settings.threads * settings.iterations)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let workers = (0..<settings.threads).map { index in
            Worker(thread: index, random: settings.randomness.stream("thread", index), context: context)
        }
        let monitor = onProgress.map { callback in
            let total = settings.threads * settings.iterations
            let files = [settings.databasePath, settings.databasePath + "-wal", settings.logPath]
            return OSThread { [context] in
                while !context.finished.load(ordering: .relaxed) {
                    usleep(UInt32(progressInterval * 1_000_000))
                    let elapsed = start.duration(to: clock.now)
                    callback(StressProgress(
                        iterationsDone: context.iterationsDone.load(ordering: .relaxed), iterationsTotal: total,
                        statements: context.statementsDone.load(ordering: .relaxed), elapsed: elapsed.seconds,
                        fileSizes: files.map { ($0, DatabaseFile.size(of: $0)) }))
                }
            }
        }
        let threads = workers.map { worker in
            let box = UncheckedSendable(worker)
            return OSThread { box.value.run() }
        }
        threads.forEach { $0.join() }
        let elapsed = start.duration(to: clock.now).seconds
        context.finished.store(true, ordering: .relaxed)
        monitor?.join()
        let faultReport = settings.faults.isEmpty ? nil : try context.endFaults(abandoning: workers, who: "run")

        // Interrupted (Ctrl-C): the work stops where it is; the final check is
        // left to `sqlite-stress check`, which the report names.
        let interrupted = Interrupt.requested
        let finalChecker = Worker(thread: settings.threads, label: "final", context: context)
        let finalCheckRan = !interrupted && finalChecker.finalCheck()
        log.close()

        var counters = Counters()
        for worker in workers { counters.add(worker.counters) }
        counters.add(finalChecker.counters)
        StressAssertions.record(counters, unexpected: context.unexpected.withLock { $0 })
        var violations = context.violations.withLock { $0 }
        var finalCheck = context.lastCheck.withLock { $0 }
        SQLLog.placeCommits(of: &violations, in: settings.logPath)
        if var check = finalCheck {
            for index in check.results.indices { SQLLog.placeCommits(of: &check.results[index].violations, in: settings.logPath) }
            finalCheck = check
        }
        return StressReport(
            run: self, counters: counters, elapsed: elapsed, logLines: log.writtenLines, violations: violations,
            unexpectedErrors: context.unexpected.withLock { $0 }, finalCheck: finalCheck, finalCheckRan: finalCheckRan,
            incompleteEvidence: context.incompleteEvidence, faults: faultReport, interrupted: interrupted,
            iterationsDone: context.iterationsDone.load(ordering: .relaxed), logRotation: log.rotation,
            storageFailure: context.storageFailure.withLock { $0 }, metCleanFailure: context.metCleanFailure.load(ordering: .relaxed))
    }

    private func writeHeader(to log: SQLLog, command: String) {
        // No times, and no path but the library's: one seed, one thread and one
        // SQLite library give a byte-identical log.
        let run = command == "stress"
            ? "threads=\(settings.threads) iterations=\(settings.iterations) check-every=\(settings.checkEvery) "
                + "compact-every=\(settings.compaction.argument) " : ""
        let randomness = settings.randomness.seed.map { "seed=" + Seed.format($0) } ?? "randomness=" + Randomness.antithesisKind
        log.append(SQLLog.headerPrefix + "\(command) \(randomness) \(run)tables=\(tableCount)")
        log.append("-- " + SQLiteChoice.line)
        if settings.randomness.seed == nil { log.append("-- " + Randomness.notReproducible) }
        log.append("-- configuration: " + config.summary)
        if !settings.faults.isEmpty { log.append(SQLLog.faultsPrefix + settings.faults.summary) }
        if command == "stress" {
            for line in swarm.summary.split(separator: "\n") { log.append("-- swarm " + line) }
        }
    }

    /// Sets the database up at `DatabaseFile.setupPath` and renames it into
    /// place when it is complete, so a run killed part way never leaves a half
    /// set-up database at `--db` (a check would find its bookkeeping missing or
    /// its accounts unopened). The application id is the first page written,
    /// so even the file being set up is recognisably this tool's.
    private func createDatabase(_ context: RunContext, vfs: String?) throws(ToolError) {
        let db = settings.databasePath
        let setupPath = DatabaseFile.setupPath(for: db)
        let connection: Connection
        do {
            connection = try Connection(path: setupPath, flags: [.readWrite, .create], vfs: vfs)
        } catch {
            throw ToolError("cannot create the database at \(db): \(error.message).")
        }
        let setup = Worker(thread: -1, label: TransactionID.setupLabel, context: context)
        let statements = config.creationStatements(firstWrite: "PRAGMA application_id = \(DatabaseFile.applicationID)")
            + schema.createStatements + Bookkeeping.creationStatements
            + [Bookkeeping.recordStatement(randomness: settings.randomness, schema: schema, config: config)]
        var failure: SQLiteError?
        do throws(SQLiteError) {
            for sql in statements {
                if case .failed(let error) = setup.execute(sql, on: connection) { throw error }
            }
            try setup.prepareConnection(connection)
            var cookie: Int64 = 0
            if case .failed(let error) = setup.execute(Bookkeeping.cookieQuery, on: connection, row: { cookie = $0.int64(0) }) {
                throw error
            }
            setup.adopt(connection, cookie: cookie)
            if let error = setup.installTriggers([Bookkeeping.accounts]) { throw error }
            // The opening balances go through the ledger like any other write.
            let opening = [
                Bookkeeping.contextStatement(tx: Self.setupTransaction, cookie: cookie),
                Bookkeeping.openAccountsStatement(tx: Self.setupTransaction),
            ]
            for sql in opening {
                if case .failed(let error) = setup.execute(sql, on: connection) { throw error }
            }
        } catch {
            failure = error
        }
        connection.close()
        if let failure {
            // A file this tool is creating came out corrupt: SQLite or the storage
            // beneath it is at fault, which is what the oracle exists to report
            // (`execute` has reported it). The files stay as evidence.
            guard failure.isCorruption else {
                throw ToolError("cannot set up the database at \(db): \(failure).")
            }
            try moveIntoPlace(setupPath)
            return
        }
        try moveIntoPlace(setupPath)
        context.acks.awaitSync(context.acks.acknowledge(Self.setupTransaction))
    }

    /// Renames the set-up database (with a WAL or journal it left, which holds
    /// committed pages) to `--db`, then syncs the directory so the rename survives a power loss.
    private func moveIntoPlace(_ setupPath: String) throws(ToolError) {
        let db = settings.databasePath
        // The sidecars first: a database renamed without its WAL would lack commits.
        for suffix in ["-wal", "-journal"] where FileManager.default.fileExists(atPath: setupPath + suffix) {
            guard rename(setupPath + suffix, db + suffix) == 0 else {
                throw ToolError("cannot rename \(setupPath + suffix) to \(db + suffix): \(String(cString: strerror(errno))).")
            }
        }
        _ = unlink(setupPath + "-shm")  // Rebuilt from the WAL by the next opener.
        guard rename(setupPath, db) == 0 else {
            throw ToolError("cannot rename \(setupPath) to \(db): \(String(cString: strerror(errno))).")
        }
        let directory = open(DatabaseFile.parentDirectory(of: db), O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    /// The transaction id of the setup's own writes (the opening balances).
    static let setupTransaction: Int64 = 1

    /// Every file a run makes for the database at `db` besides its log: the
    /// database and its sidecars, the acknowledgement log, and the database being
    /// set up with its sidecars.
    private static func ownFiles(of db: String) -> [String] {
        let setup = DatabaseFile.setupPath(for: db)
        return [db, AckLog.path(for: db), setup] + DatabaseFile.sidecarSuffixes.flatMap { [db + $0, setup + $0] }
    }

    /// Removes the files `ownFiles` names, each as a file (`checkPaths` refused a directory among them).
    private func removeOldFiles() throws(ToolError) {
        for path in Self.ownFiles(of: settings.databasePath) where unlink(path) != 0 && errno != ENOENT {
            throw ToolError("cannot remove the old \(path): \(String(cString: strerror(errno))).")
        }
    }

    /// Removes what a failed setup made. Best effort: the setup's own error is the one to report.
    private func removeFiles() {
        for path in Self.ownFiles(of: settings.databasePath) + [settings.logPath, SQLLog.olderPath(of: settings.logPath)] {
            _ = unlink(path)
        }
    }
}

/// Hands a value to exactly one other thread. Safe because the sender never
/// touches it again: each worker is created here and used only by its thread
/// until `join()` returns.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
