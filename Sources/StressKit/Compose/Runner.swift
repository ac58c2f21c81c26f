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

/// Settings of one `compose` run.
public struct ComposeSettings: Sendable {
    public var template: String
    public var seed: UInt64
    /// Driver phase length: seconds, or a number of driver invocations (one of them).
    public var duration: Double?
    public var runs: Int?
    public var maxParallel: Int
    public var faults: [FaultKind]
    public var end: EndKind?
    public var runDirectory: String
    public var overwrite: Bool
    /// `$SQLITE_STRESS_DB` when it was set: the commands share that database
    /// instead of `<run-dir>/stress.db`.
    public var sharedDatabase: String?
    /// How many of the run's commands, starts and faults are kept in full
    /// beyond those that matter most (`CommandHistory`, `Recent`); nil keeps all.
    public var keptCommands: Int?

    /// `keptCommands` unless it is set: a run of hours starts some 300,000 commands.
    public static let defaultKeptCommands = 1000

    public init(
        template: String, seed: UInt64, duration: Double?, runs: Int?, maxParallel: Int, faults: [FaultKind],
        end: EndKind?, runDirectory: String?, overwrite: Bool, keptCommands: Int? = ComposeSettings.defaultKeptCommands,
        sharedDatabase: String? = ProcessInfo.processInfo.environment["SQLITE_STRESS_DB"].flatMap { $0.isEmpty ? nil : $0 }
    ) {
        self.template = template
        self.seed = seed
        self.duration = duration
        self.runs = runs
        self.maxParallel = maxParallel
        self.faults = faults
        self.end = end
        self.runDirectory = runDirectory ?? "compose-\(Seed.format(seed))"
        self.overwrite = overwrite
        self.keptCommands = keptCommands
        self.sharedDatabase = sharedDatabase
    }

    /// The command line that repeats the run's schedule (the same commands,
    /// sub-seeds and faults, in the same order; how they interleave is timing)
    /// into fresh paths, `compose-<seed>` → `compose-<seed>-repro` (and the
    /// shared database likewise), so it never replaces the run it came from.
    public var reproduce: String {
        var words = ["sqlite-stress", "compose", template, "--seed", Seed.format(seed)]
        if let runs { words += ["--runs", "\(runs)"] }
        if let duration { words += ["--duration", Format.number(duration)] }
        words += ["--max-parallel", "\(maxParallel)"]
        if !faults.isEmpty { words += ["--faults", faults.map(\.rawValue).joined(separator: ",")] }
        if let end { words += ["--end", end.rawValue] }
        if keptCommands != Self.defaultKeptCommands { words += ["--keep-commands", "\(keptCommands ?? 0)"] }
        words += SQLiteChoice.reproduceArguments + ["--run-dir", DatabaseFile.reproductionPath(runDirectory)]
        let line = words.map(DatabaseFile.shellQuote).joined(separator: " ")
        guard let sharedDatabase else { return line }
        return "SQLITE_STRESS_DB=" + DatabaseFile.shellQuote(DatabaseFile.reproductionPath(sharedDatabase)) + " " + line
    }
}

/// A snapshot of a running `compose`, for progress output.
public struct ComposeProgress: Sendable {
    /// Where the run is: its first_ command, the driver phase, or its end
    /// (finally_ or eventually_, after the driver phase or its singleton).
    public enum Phase: Sendable { case first, drivers, ending }

    public var phase: Phase
    /// Seconds since the run started (the driver phase's deadline counts from there).
    public var elapsed: Double
    /// The driver phase's length: seconds, or driver invocations (one of them).
    public var duration: Double?
    public var runs: Int?
    /// Drivers started so far, commands running now, faults injected.
    public var drivers: Int
    public var running: Int
    public var faults: Int
    /// Commands that failed on their own (not counting those that stopped on a
    /// usage or environment error, counted apart), and assertions that failed, so far.
    public var failedCommands: Int
    public var stoppedCommands = 0
    public var failedAssertions: Int

    /// How much of the driver phase is done, 0...1.
    public var fraction: Double {
        if phase != .drivers { return phase == .first ? 0 : 1 }
        if let duration { return min(1, elapsed / duration) }
        if let runs { return min(1, Double(drivers) / Double(runs)) }
        return 0
    }
}

/// Runs a template directory the way the Test Composer does (see `Planner`).
public final class ComposeRunner {
    static let marker = ".sqlite-stress-compose"

    let settings: ComposeSettings
    let template: Template
    private var planner: Planner
    /// The commands still running; those that ended are in `history`.
    private var running: [Child] = []
    private var history: CommandHistory
    private var sdk = SDKSummary()
    private var schedule: Recent<PlannedStart>
    private var plannedFaults: Recent<PlannedFault>
    private var injected: Recent<InjectedFault>
    private var injectedByKind: [FaultKind: Int] = [:]
    private var notes: [String] = []
    private var sequence = 0
    private let started = Date()
    /// Called as the run goes, at most every `progressInterval` seconds.
    public var onProgress: (@Sendable (ComposeProgress) -> Void)?
    public var progressInterval = 0.2
    private var lastProgress = Date.distantPast
    private var phase = ComposeProgress.Phase.first

    /// Validates everything (template, numbers, run directory) before anything is written.
    public init(_ settings: ComposeSettings) throws(ToolError) {
        guard (settings.duration == nil) != (settings.runs == nil) else {
            throw ToolError("give exactly one of --duration and --runs.")
        }
        if let duration = settings.duration, !(duration > 0 && duration.isFinite) {
            throw ToolError("--duration must be a positive number of seconds (got \(Format.number(duration))).")
        }
        if let runs = settings.runs, runs < 1 { throw ToolError("--runs must be at least 1 (got \(runs)).") }
        if let kept = settings.keptCommands, kept < 1 {
            throw ToolError("--keep-commands must be at least 1, or 0 to keep every command (got \(kept)).")
        }
        guard (1...64).contains(settings.maxParallel) else {
            throw ToolError("--max-parallel must be between 1 and 64 (got \(settings.maxParallel)).")
        }
        template = try Template.load(settings.template)
        if let end = settings.end, end == .finally ? template.commands(.finally).isEmpty : template.commands(.eventually).isEmpty {
            throw ToolError("--end \(end.rawValue) needs a \(end.rawValue)_ command, and \(settings.template) has none.")
        }
        let directory = settings.runDirectory
        if FileManager.default.fileExists(atPath: directory) {
            guard settings.overwrite else {
                throw ToolError("\(directory) already exists; pass --overwrite to replace a run directory sqlite-stress made.")
            }
            guard FileManager.default.fileExists(atPath: DatabaseFile.join(directory, Self.marker)) else {
                throw ToolError("refusing to overwrite \(directory): it is not a run directory sqlite-stress made.")
            }
            oldRunFiles = try Self.runFiles(in: directory)
        } else {
            try DatabaseFile.checkCreatable(directory, what: "run directory")
        }
        self.settings = settings
        history = CommandHistory(limit: settings.keptCommands, directory: settings.runDirectory)
        schedule = Recent(limit: settings.keptCommands)
        plannedFaults = Recent(limit: settings.keptCommands)
        injected = Recent(limit: settings.keptCommands)
        planner = Planner(
            template: template, seed: settings.seed, faults: settings.faults, maxParallel: settings.maxParallel,
            end: settings.end)
    }

    private var directory: String { settings.runDirectory }
    /// The database the commands share (`$SQLITE_STRESS_DB`).
    private var database: String { settings.sharedDatabase ?? DatabaseFile.join(directory, Self.databaseName) }
    /// Whether a killed command's line could not be added to the SQL log (said once, in the notes).
    private var killLineFailed = false

    /// What `--overwrite` removes of an old run's directory (`runFiles(in:)`).
    private var oldRunFiles: [String] = []

    /// The files an old run left in `directory`, by path: every entry must be
    /// one a run makes (its marker, `report.json`, `commands/` with nothing in
    /// it but commands' output files, and the shared database `stress.db` with
    /// every file whose name begins with it: sidecars, logs, copies). Anything
    /// else there is the user's, so a sentence naming it refuses the overwrite
    /// before anything is removed.
    static func runFiles(in directory: String) throws(ToolError) -> [String] {
        func names(_ path: String) throws(ToolError) -> [String] {
            do { return try FileManager.default.contentsOfDirectory(atPath: path).sorted() } catch {
                throw ToolError("cannot read the old run directory \(path): \(ToolError.reason(error)).")
            }
        }
        func refuse(_ name: String) -> ToolError {
            ToolError("refusing to overwrite \(directory): \(name) in it is not a file a compose run makes; move it out first.")
        }
        var files: [String] = []
        for name in try names(directory) {
            let path = DatabaseFile.join(directory, name)
            switch name {
            case marker, reportName:
                guard DatabaseFile.isDirectory(path) != true else { throw refuse(name + "/") }
            case commandsName:
                var info = stat()
                guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw refuse(name) }
                for output in try names(path) {
                    guard output.wholeMatch(of: /[0-9]{4,}-.+\.(out|err|sdk\.jsonl)/) != nil,
                        DatabaseFile.isDirectory(DatabaseFile.join(path, output)) == false
                    else { throw refuse(commandsName + "/" + output) }
                    files.append(DatabaseFile.join(path, output))
                }
            default:
                guard name == databaseName || name.hasPrefix(databaseName + ".") || name.hasPrefix(databaseName + "-"),
                    DatabaseFile.isDirectory(path) != true
                else { throw refuse(name) }
            }
            files.append(path)
        }
        // A directory goes after what it holds.
        return files
    }

    static let reportName = "report.json"
    static let commandsName = "commands"
    /// The shared database's name in the run directory, unless `$SQLITE_STRESS_DB` names another.
    static let databaseName = "stress.db"

    /// Removes what `runFiles(in:)` listed of an old run in `directory`, in
    /// its order. A file put there since it was listed stops the removal part
    /// way; the sentence then says how far it got.
    static func removeRunFiles(_ files: [String], in directory: String) throws(ToolError) {
        for (done, path) in files.enumerated() {
            let removed = path == DatabaseFile.join(directory, commandsName) ? rmdir(path) : unlink(path)
            guard removed == 0 || errno == ENOENT else {
                let reason = String(cString: strerror(errno))
                let partial = done == 0 ? "" : "; \(done) of its \(files.count) files are removed already"
                throw ToolError("cannot remove \(path) of the old run: \(reason)\(partial).")
            }
        }
    }

    private func prepareDirectory() throws(ToolError) {
        // Only what an old run made, every entry of it (`init` checked there is nothing else):
        // a file of it left behind would mix into this run's.
        try Self.removeRunFiles(oldRunFiles, in: directory)
        do {
            try FileManager.default.createDirectory(atPath: DatabaseFile.join(directory, Self.commandsName), withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: DatabaseFile.join(directory, Self.marker)))
        } catch {
            throw ToolError("cannot create the run directory \(directory): \(ToolError.reason(error)).")
        }
    }

    /// The directory of the running executable, put first on the commands'
    /// PATH: a template's `exec sqlite-stress` then runs this very binary, also
    /// when it was started as `swift run sqlite-stress` or by its path.
    public static let binaryDirectory: String? = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = length > 0
            ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments.first.flatMap { $0.contains("/") ? $0 : nil }
        return path.map(DatabaseFile.parentDirectory)
    }()

    private lazy var baseEnvironment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        env["ANTITHESIS_OUTPUT_DIR"] = nil
        if let binary = Self.binaryDirectory {
            env["PATH"] = binary + (env["PATH"].map { ":" + $0 } ?? "")
        }
        env["SQLITE_STRESS_DB"] = database
        return env
    }()

    /// Each command's SDK output goes to a file of its own (`Child.sdkOutput`),
    /// folded into the run's summary when it ends: one writer per file, so a
    /// kill tears only the end of the killed command's own output.
    private func environment(seed: String, sdkOutput: String, sequence: Int) -> [String: String] {
        var env = baseEnvironment
        env["SQLITE_STRESS_SEED"] = seed
        env["ANTITHESIS_SDK_LOCAL_OUTPUT"] = sdkOutput
        env[SQLLog.commandVariable] = commandName(sequence)
        return env
    }

    /// This run's random part of its commands' names: another run writing the
    /// same database (through `$SQLITE_STRESS_DB`) names its commands apart.
    private let runName = String(UInt64.random(in: 1...UInt64.max), radix: 16)

    /// The name the command started `sequence`th has in the SQL log (`SQLLog.commandVariable`).
    private func commandName(_ sequence: Int) -> String { "\(runName)-\(sequence)" }

    private func start(_ name: String, seed: String) throws(ToolError) -> Child {
        let command = template.commands.first { $0.name == name }!
        sequence += 1
        let output = DatabaseFile.join(directory, "\(Self.commandsName)/\(Format.right(sequence, 4, pad: "0"))-\(name)")
        let child = try Child(
            command: command, seed: seed, environment: environment(seed: seed, sdkOutput: Child.sdkOutput(output), sequence: sequence),
            output: output, sequence: sequence)
        running.append(child)
        return child
    }

    /// Takes in the commands that have ended: their SDK output folded into the
    /// run's, their record into the history.
    private func reap() throws(ToolError) {
        let ended = running.filter { !$0.isRunning }
        running.removeAll { !$0.isRunning }
        for child in ended {
            if child.killedByRunner, child.signal == SIGKILL, child.groupEnded() {
                // Its last line: every line its drivers wrote is in the log by now, so `replay`
                // can end what they left open here rather than wait for it. (A group not seen
                // to end, which only a template that does not `exec` can leave, gets none.)
                if let failure = SQLLog.noteKilled(command: commandName(child.sequence), at: SQLLog.path(for: database)),
                   !killLineFailed {
                    killLineFailed = true
                    notes.append("the SQL log could not take a killed command's line (\(failure)); a replay waits for its lock instead")
                }
            }
            // A full disk tears a command's SDK lines as a kill does; such a command stops with exit 2.
            let failing = try sdk.fold(path: Child.sdkOutput(child.output), mayBeTorn: child.killedByRunner || child.status == 2)
            child.removeEmptyOutput()
            history.add(child.record(in: directory, assertionFailed: failing))
        }
    }

    /// SIGINT/SIGTERM: the runner's loop notices, kills every command's group and reports.
    private var interrupted: Bool { Interrupt.requested }

    /// Reaps ended children and resumes paused ones that are due. Returns false when interrupted.
    private func tick() throws(ToolError) -> Bool {
        for child in running {
            child.poll()
            if let until = child.pausedUntil, until <= Date() {
                child.send(SIGCONT)
                child.pausedUntil = nil
            }
        }
        try reap()
        reportProgress()
        return !interrupted
    }

    private func reportProgress() {
        guard let onProgress, Date().timeIntervalSince(lastProgress) >= progressInterval else { return }
        lastProgress = Date()
        onProgress(ComposeProgress(
            phase: phase, elapsed: lastProgress.timeIntervalSince(started),
            duration: settings.duration, runs: settings.runs, drivers: schedule.total,
            running: running.count { $0.isRunning }, faults: injectedByKind.values.reduce(0, +),
            failedCommands: history.failedOnTheirOwn - history.stoppedOnAnError, stoppedCommands: history.stoppedOnAnError,
            failedAssertions: sdk.entries.count { $0.verdict == "failed" }))
    }

    private func wait(until done: () -> Bool) throws(ToolError) -> Bool {
        while !done() {
            guard try tick() else { return false }
            usleep(5_000)
        }
        return try tick()
    }

    private var runningDrivers: [Child] { running.filter { $0.isRunning && $0.prefix.isDriver } }
    private var runningAnytime: Bool { running.contains { $0.isRunning && $0.prefix == .anytime } }

    /// Kills every running command (resuming paused ones so the kill lands) and reaps them.
    private func killAll(_ filter: (Child) -> Bool = { _ in true }) throws(ToolError) {
        kill(filter)
        try reap()
    }

    /// Kills the running commands `filter` picks and waits until each has ended.
    private func kill(_ filter: (Child) -> Bool = { _ in true }) {
        for child in running where child.isRunning && filter(child) {
            child.killedByRunner = true
            child.send(SIGKILL)
            child.send(SIGCONT)
        }
        for child in running where filter(child) { child.poll(blocking: true) }
    }

    // MARK: - Running

    /// Runs the template and returns the report (also written to report.json).
    public func run() throws(ToolError) -> ComposeReport {
        try prepareDirectory()
        // Every signal only asks: the runner must kill its commands before it goes.
        Interrupt.install(repeatStops: false)
        var completed = true
        do {
            completed = try runPhases()
        } catch {
            kill()
            throw error
        }
        if !completed {
            try killAll()
            notes.append("interrupted: every command was killed")
        }
        var report = ComposeReport(
            settings: settings, history: history, schedule: schedule, plannedFaults: plannedFaults, injected: injected,
            injectedByKind: injectedByKind, notes: notes, sdk: sdk, interrupted: !completed,
            elapsed: Date().timeIntervalSince(started))
        do {
            try report.write(to: DatabaseFile.join(directory, Self.reportName))
        } catch {
            report.notes.append("\(error.message) (the report below is complete; only the file is missing)")
        }
        return report
    }

    private func runPhases() throws(ToolError) -> Bool {
        // 1. One first_ command, alone, no faults. If it fails, nothing after it
        //    can mean anything: the run stops there and the report names why.
        if let first = planner.first {
            let child = try start(first.name, seed: planner.subSeed())
            guard try wait(until: { !child.isRunning }) else { return false }
            if child.status != 0 { return true }  // The report says why (its exit, the end of its stderr).
        }

        // 2. The driver phase.
        phase = .drivers
        let deadline = settings.duration.map { started.addingTimeInterval($0) }
        while true {
            if let runs = settings.runs, schedule.total >= runs { break }
            if let deadline, Date() >= deadline { break }
            let (next, fault) = planner.next()
            let serial = template.commands.first { $0.name == next.command }!.prefix != .parallelDriver
            // A serial or singleton driver runs alone; a parallel one waits for room.
            let ready: () -> Bool = serial
                ? { self.runningDrivers.isEmpty }
                : { self.runningDrivers.count < next.parallelism }
            guard try wait(until: { ready() || (deadline.map { Date() >= $0 } ?? false) }) else { return false }
            if let deadline, Date() >= deadline { break }  // Drawn, never started: not part of the schedule.
            schedule.append(next)
            if let fault { plannedFaults.append(fault) }
            let child = try start(next.command, seed: next.seed)
            if let anytime = next.anytime, let seed = next.anytimeSeed, !runningAnytime {
                _ = try start(anytime, seed: seed)
            }
            if let fault { inject(fault) }
            if serial { guard try wait(until: { !child.isRunning }) else { return false } }
            if planner.singleton != nil { break }  // Exactly one singleton per run.
        }

        // 3. The end: eventually_ after killing drivers, or finally_ when every driver finished on its own.
        phase = .ending
        var end = planner.end
        if end == .finally {
            for child in running { if child.pausedUntil != nil { child.send(SIGCONT); child.pausedUntil = nil } }
            guard try wait(until: { self.runningDrivers.isEmpty }) else { return false }
            if history.driverKilledByRunner {
                notes.append("a driver was killed by a fault, so finally_ may not run")
                end = .eventually
            }
        }
        if end == .eventually { try killAll { $0.prefix.isDriver } }
        // Anytime commands already running run to completion; no new ones start.
        guard try wait(until: { !self.runningAnytime }) else { return false }
        let commands = end == .finally ? template.commands(.finally) : template.commands(.eventually)
        if let ending = planner.end == end ? planner.ending : commands.first {
            let child = try start(ending.name, seed: planner.subSeed())
            guard try wait(until: { !child.isRunning }) else { return false }
        } else {
            notes.append("no \(end.rawValue)_ command to run")
        }
        return true
    }

    private func inject(_ fault: PlannedFault) {
        let drivers = runningDrivers
        guard !drivers.isEmpty else {
            injected.append(InjectedFault(planned: fault, victim: nil, at: Date().timeIntervalSince(started)))
            return
        }
        injectedByKind[fault.kind, default: 0] += 1
        let victim = drivers[fault.selector % drivers.count]
        switch fault.kind {
        case .kill:
            victim.killedByRunner = true
            victim.send(SIGKILL)
            victim.send(SIGCONT)
        case .pause:
            victim.send(SIGSTOP)
            victim.pausedUntil = Date().addingTimeInterval(Double(fault.pauseMilliseconds) / 1000)
        }
        injected.append(InjectedFault(planned: fault, victim: victim.name, at: Date().timeIntervalSince(started)))
    }
}

/// A fault as it happened: the plan, and which driver it met (none if none was running).
public struct InjectedFault: Sendable, Codable {
    public var planned: PlannedFault
    public var victim: String?
    public var at: Double
}
