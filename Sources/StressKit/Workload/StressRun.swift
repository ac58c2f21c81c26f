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
    public let swarm: Swarm

    /// Validates `settings` and the paths, and draws schema, configuration and swarm from the seed.
    /// Writes nothing.
    public static func prepare(_ settings: StressSettings) throws(ToolError) -> StressRun {
        try settings.validate()
        try checkPaths(settings)
        var schemaRNG = Xoshiro(seed: deriveSeed(settings.seed, "schema"))
        let drawnTables = schemaRNG.int(in: 1...10)  // Drawn always, so --tables only overrides it.
        let schema = SchemaGenerator.generate(tableCount: settings.tables ?? drawnTables, using: &schemaRNG)
        var configRNG = Xoshiro(seed: deriveSeed(settings.seed, "config"))
        let config = DatabaseConfig.generate(journalMode: settings.journalMode, synchronous: settings.synchronous, using: &configRNG)
        var swarmRNG = Xoshiro(seed: deriveSeed(settings.seed, "swarm"))
        let swarm = Swarm.generate(using: &swarmRNG)
        return StressRun(settings: settings, config: config, schema: schema, swarm: swarm)
    }

    private init(settings: StressSettings, config: DatabaseConfig, schema: Schema, swarm: Swarm) {
        self.settings = settings
        self.config = config
        self.schema = schema
        self.swarm = swarm
    }

    private static func checkPaths(_ settings: StressSettings) throws(ToolError) {
        let db = settings.databasePath
        switch DatabaseFile.kind(at: db) {
        case .missing:
            try DatabaseFile.checkCreatable(db, what: "database")
            for suffix in DatabaseFile.sidecarSuffixes where FileManager.default.fileExists(atPath: db + suffix) {
                if !settings.overwrite {
                    throw ToolError("\(db + suffix) exists without its database; remove it or pass --overwrite.")
                }
            }
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
        switch DatabaseFile.kind(at: acks) {
        case .missing: break
        case .directory: throw ToolError("the acknowledgement log path \(acks) is a directory.")
        default:
            guard DatabaseFile.starts(acks, with: AckLog.header) else {
                throw ToolError("refusing to overwrite \(acks): it is not an acknowledgement log written by sqlite-stress.")
            }
            guard settings.overwrite || DatabaseFile.kind(at: db) == .missing else {
                throw ToolError("\(acks) already exists; pass --overwrite to replace it.")
            }
        }
        let log = settings.logPath
        switch DatabaseFile.kind(at: log) {
        case .missing:
            try DatabaseFile.checkCreatable(log, what: "SQL log")
        case .directory:
            throw ToolError("the SQL log path \(log) is a directory.")
        default:
            guard DatabaseFile.starts(log, with: SQLLog.headerPrefix) else {
                throw ToolError("refusing to overwrite \(log): it is not an SQL log written by sqlite-stress.")
            }
            guard access(log, W_OK) == 0 else { throw ToolError("the SQL log \(log) is not writable.") }
        }
    }

    /// The resolved settings (tables and journal mode as drawn) as command-line
    /// arguments, with `threads` threads. The files go to fresh paths
    /// (`stress.db` → `stress-repro.db`): running the line never replaces the
    /// database and logs it came from (and it refuses to replace an earlier
    /// reproduction without `--overwrite`).
    public func reproduceArguments(threads: Int) -> [String] {
        let database = DatabaseFile.reproductionPath(settings.databasePath)
        return [
            "stress", "--seed", Seed.format(settings.seed), "--threads", "\(threads)",
            "--iterations", "\(settings.iterations)", "--tables", "\(schema.tables.count)",
            "--journal-mode", config.journalMode.rawValue, "--synchronous", config.synchronous.lowercased(),
            "--busy-timeout", "\(settings.busyTimeout)",
            "--check-every", "\(settings.checkEvery)", "--db", database,
        ] + (settings.logPath == settings.databasePath + ".sql" ? [] : ["--sql-log", DatabaseFile.reproductionPath(settings.logPath)])
            + settings.faults.arguments
    }

    /// Whether the reproduce line repeats the run exactly: one thread does; with
    /// several, the scheduler decides how their transactions interleave.
    public var reproducesExactly: Bool { settings.threads == 1 }

    /// The command line that reproduces this run (exactly when `reproducesExactly`).
    public var reproduceCommand: String { Self.command(reproduceArguments(threads: settings.threads)) }

    /// With several threads: the same seed with one thread, which reproduces
    /// exactly (thread t0's work alone; it may not meet the same failure).
    public var singleThreadCommand: String? {
        reproducesExactly ? nil : Self.command(reproduceArguments(threads: 1))
    }

    /// The reproduce lines as the report prints them: with several threads, the
    /// line is labelled as not exact and the exact one-thread line follows.
    public var reproduceLines: [String] {
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
    /// `sqlite-stress schema` does.
    func create(command: String = "stress") throws(ToolError) -> RunContext {
        try removeOldFiles()
        let log = try SQLLog(path: settings.logPath)
        let acks = try AckLog(path: AckLog.path(for: settings.databasePath), syncs: config.commitsSurvivePowerLoss)
        let generator = WorkloadGenerator(schema: schema, swarm: swarm)
        let context = RunContext(log: log, acks: acks, settings: settings, config: config, generator: generator)
        writeHeader(to: log, command: command)
        do {
            try createDatabase(context)
        } catch {
            log.close()
            removeFiles()
            throw error
        }
        return context
    }

    /// Creates the files as `create` does, and nothing more.
    public func createOnly() throws(ToolError) {
        let context = try create(command: "schema")
        context.log.close()
    }

    /// Creates the database and log, runs the workload, checks, and reports.
    /// Throws `ToolError` only when the files cannot be set up.
    public func run(progressInterval: Double = 0.2, onProgress: (@Sendable (StressProgress) -> Void)? = nil) throws(ToolError) -> StressReport {
        let context = try create()
        let log = context.log

        if !settings.faults.isEmpty {
            // Armed after the database is set up: the faults strike the workload only.
            try FaultInjector.arm(
                settings.faults, seed: deriveSeed(settings.seed, "faults"), expectedWork: settings.threads * settings.iterations)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let workers = (0..<settings.threads).map { index in
            Worker(thread: index, seed: deriveSeed(settings.seed, "thread", index), context: context)
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
        let finalChecker = Worker(thread: settings.threads, label: "final", seed: 0, context: context)
        if !interrupted { finalChecker.finalCheck() }
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
            run: self, counters: counters, elapsed: elapsed, logLines: log.lineCount, violations: violations,
            unexpectedErrors: context.unexpected.withLock { $0 }, finalCheck: finalCheck, faults: faultReport,
            interrupted: interrupted, iterationsDone: context.iterationsDone.load(ordering: .relaxed))
    }

    private func writeHeader(to log: SQLLog, command: String) {
        // No paths or times: one seed and one thread give a byte-identical log.
        let run = command == "stress"
            ? "threads=\(settings.threads) iterations=\(settings.iterations) check-every=\(settings.checkEvery) " : ""
        log.append(SQLLog.headerPrefix + "\(command) seed=\(Seed.format(settings.seed)) \(run)tables=\(schema.tables.count) "
            + "sqlite=\(Connection.libraryVersion)")
        log.append("-- configuration: " + config.summary)
        if !settings.faults.isEmpty { log.append(SQLLog.faultsPrefix + settings.faults.summary) }
        if command == "stress" {
            for line in swarm.summary.split(separator: "\n") { log.append("-- swarm " + line) }
        }
    }

    private func createDatabase(_ context: RunContext) throws(ToolError) {
        let connection: Connection
        do {
            connection = try Connection(path: settings.databasePath, flags: [.readWrite, .create])
        } catch let error as SQLiteError {
            throw ToolError("cannot create the database at \(settings.databasePath): \(error.message).")
        } catch {
            throw ToolError("cannot create the database at \(settings.databasePath): \(error).")
        }
        defer { connection.close() }
        let setup = Worker(thread: -1, label: "setup", seed: 0, context: context)
        let statements = config.creationStatements + ["PRAGMA application_id = \(DatabaseFile.applicationID)"]
            + schema.createStatements + Bookkeeping.creationStatements
            + [Bookkeeping.recordStatement(seed: settings.seed, schema: schema, config: config)]
        for sql in statements {
            if case .failed(let error) = setup.execute(sql, on: connection) {
                throw ToolError("cannot set up the database at \(settings.databasePath): \(error).")
            }
        }
        // The opening balances go through the ledger like any other write.
        let opening = [Bookkeeping.contextStatement(tx: Self.setupTransaction), Bookkeeping.openAccountsStatement(tx: Self.setupTransaction)]
        do {
            try setup.prepareConnection(connection)
            for sql in opening {
                if case .failed(let error) = setup.execute(sql, on: connection) { throw error }
            }
        } catch {
            throw ToolError("cannot set up the database at \(settings.databasePath): \(error).")
        }
        context.acks.acknowledge(Self.setupTransaction)
    }

    /// The transaction id of the setup's own writes (the opening balances).
    static let setupTransaction: Int64 = 1

    private func removeOldFiles() throws(ToolError) {
        let paths = [settings.databasePath, AckLog.path(for: settings.databasePath)]
            + DatabaseFile.sidecarSuffixes.map { settings.databasePath + $0 }
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw ToolError("cannot remove the old \(path): \(error)")
            }
        }
    }

    private func removeFiles() {
        for path in [settings.databasePath, settings.logPath, AckLog.path(for: settings.databasePath)]
            + DatabaseFile.sidecarSuffixes.map({ settings.databasePath + $0 }) {
            try? FileManager.default.removeItem(atPath: path)
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
