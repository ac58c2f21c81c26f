#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressKit
import Synchronization

struct Shrink: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shrink",
        abstract: "Reduce a failing run to the smallest sqlite3 script that still fails.",
        discussion: """
            Give it the failing stress run's options (its reproduce line: --seed, --threads, --journal-mode, \
            --fault, --crash, …; --db and --overwrite are accepted and left alone, shrink works in a \
            temporary directory) or its SQL log (--log). It replays the run's statements on a fresh \
            database, finds the smallest fault and crash setting under which the same property fails — no \
            fault, a crash right after the last statement, then the run's own faults — and removes \
            transactions, statements, schema, rows and values while it still does. The script goes to --out: \
            pragmas, schema and statements the sqlite3 shell runs, then a crash (the files copied) and one \
            query printing the verdict. A script that needs a fault runs with `shrink --verify FILE`. \
            Finally the script runs on every SQLite build given with --against (default: those in \
            ./.build-sqlite), and shrink says which releases fail.

            Exit status: 0 a failing script was written; 1 the run fails but its log does not reproduce \
            the failure (nothing written; with --log, whose run is taken to have failed, also a log \
            whose replay violates nothing); 2 usage or environment error, or a run that does not fail. \
            With --verify: 1 the script still fails, 0 it does not.
            """
    )

    /// What the help says of an option of the failing run's reproduce line that shrink has no use for.
    private static func unused(because reason: String) -> String { "Accepted from a reproduce line and not used: shrink \(reason)." }

    @Option(help: ArgumentHelp(unused(because: "works in a temporary directory"), valueName: "path"))
    var db: String?

    /// The database path the run's settings carry until `Shrinker` gives them one in its own directory.
    private static let unusedDatabase = "stress.db"

    @OptionGroup var common: RunOptions

    @Option(help: ArgumentHelp("Where to write the script (a file shrink wrote before is replaced).", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("The failing run's SQL log, instead of running it again (its faults and seed are read from its header).", valueName: "path"))
    var log: String?

    @Option(help: ArgumentHelp(
        "The property to keep failing. (default: the first of those the run violated that its log reproduces, in the order durability, rollback, model, conservation, integrity)",
        valueName: "name"))
    var property: String?

    @Option(help: ArgumentHelp("Candidate scripts replayed at most; the result is the same for the same input.", valueName: "n"))
    var maxTests = 3000

    @Option(name: .customLong("time-limit"), help: ArgumentHelp(
        "Stop reducing after this many seconds (0: no limit); a result cut short depends on the machine's speed. (default: 900)",
        valueName: "seconds"))
    var timeLimitSeconds: Double?

    /// `--time-limit`, 900 when it is not given (the parser would show that default as "900.0").
    var timeLimit: Double { timeLimitSeconds ?? 900 }

    @Option(help: ArgumentHelp("An SQLite build directory (with libsqlite3.so.0) to run the script on too; repeatable. (default: the builds in ./.build-sqlite)", valueName: "dir"))
    var against: [String] = []

    @Option(help: ArgumentHelp("Run a script shrink wrote, under the setting in its header, and say whether it still fails.", valueName: "file"))
    var verify: String?

    @Option(help: ArgumentHelp("The failing run's threads.", valueName: "n"))
    var threads = 1

    @Option(help: ArgumentHelp("The failing run's iterations per thread.", valueName: "n"))
    var iterations = 1000

    @OptionGroup var shape: ShapeOptions

    @Flag(help: ArgumentHelp(unused(because: "works in a temporary directory")))
    var overwrite = false

    @OptionGroup var lock: BusyTimeoutOption

    @OptionGroup(title: "Storage faults") var faultOptions: FaultOptions

    @Option(help: ArgumentHelp("The failing run's --check-every.", valueName: "k"))
    var checkEvery = 1000

    @OptionGroup var compaction: CompactionOption

    @Option(help: ArgumentHelp(unused(because: "keeps its own log"), valueName: "path"))
    var sqlLog: String?

    @Option(help: ArgumentHelp(unused(because: "keeps its own log"), valueName: "size"))
    var sqlLogMax: String?

    @Flag(inversion: .prefixedNo, help: "The failing run's --schema-changes or --no-schema-changes.")
    var schemaChanges = true

    func validate() throws {
        for (path, name) in [(out, "--out"), (log, "--log"), (verify, "--verify")] { try requireNonEmpty(path, name) }
        if verify != nil && out != nil { throw ValidationError("--verify and --out do not go together.") }
        if verify != nil && log != nil { throw ValidationError("--verify and --log do not go together.") }
        for directory in against where !FileManager.default.fileExists(atPath: DatabaseFile.join(directory, "libsqlite3.so.0")) {
            throw ValidationError("--against \(directory) holds no libsqlite3.so.0; give a directory scripts/build-sqlite made.")
        }
        if let property, Property(rawValue: property) == nil {
            throw ValidationError("--property must be one of \(Property.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(property)').")
        }
    }

    func run() throws {
        // Here, not in validate(), so that a misspelt `--ot` is named as unknown first (see `Compose.run`).
        if verify == nil && out == nil { throw ToolError("shrink needs --out FILE (or --verify FILE).") }
        let console = Console(quiet: common.quiet, json: common.json)
        if let verify {
            let outcome = try ScriptVerification.run(verify)
            if common.json { Console.out(outcome.json()) } else if !common.quiet || outcome.fails { Console.out(outcome.text) }
            if outcome.fails { throw ExitCode(1) }
            return
        }
        let seeded = common.seed != nil || ProcessInfo.processInfo.environment["SQLITE_STRESS_SEED"] != nil
        if log == nil && !seeded { throw ToolError("shrink needs the failing run's --seed (or its SQL log with --log).") }
        let settings = StressSettings(
            databasePath: Self.unusedDatabase, randomness: common.randomness, threads: threads, iterations: iterations,
            tables: shape.tables, journalMode: shape.journalMode, synchronous: shape.synchronous,
            busyTimeout: lock.busyTimeout, checkEvery: checkEvery, compaction: compaction.schedule, faults: try faultOptions.plan(),
            schemaChanges: schemaChanges)
        try settings.validate()
        let request = Shrinker.Request(
            settings: log == nil ? settings : nil, logPath: log, faults: settings.faults,
            seed: seeded ? settings.randomness.seed : nil, property: property.flatMap(Property.init(rawValue:)),
            outPath: out!, maxTests: maxTests, timeLimit: timeLimit)
        let progress = ShrinkProgress(console: console)
        let shrinker = try Shrinker(request, say: progress.say, tick: progress.tick)
        var outcome = try shrinker.run()
        progress.end()
        if outcome.produced {
            let builds = against.isEmpty ? ReleaseCheck.builds() : against
            if !builds.isEmpty {
                progress.say("running the script on \(Format.count(builds.count, "other SQLite build"))")
                outcome.releases = try ReleaseCheck.run(outcome.scriptPath, on: builds)
            }
        }
        if common.json { Console.out(outcome.json()) } else if !common.quiet || !outcome.produced { Console.out(outcome.text) }
        if !outcome.produced { throw ExitCode(1) }
    }
}

/// Shrink's progress on stderr: a line per step; while reducing, a line that
/// rewrites itself on a terminal, else one every ten seconds.
final class ShrinkProgress: Sendable {
    let console: Console
    private let lastTick = Mutex<Double>(0)

    init(console: Console) {
        self.console = console
    }

    func say(_ text: String) {
        guard !console.quiet else { return }
        if console.isTerminal { writeStandard("\r\u{1B}[K", toError: true) }
        writeStandard("shrink: \(text)\n", toError: true)
    }

    func tick(_ progress: Shrinker.Progress) {
            guard !console.quiet else { return }
            let line = "shrink: \(progress.phase): \(progress.size), \(progress.tests) tests, \(Format.fixed(progress.elapsed, 0)) s"
            if console.isTerminal {
                writeStandard("\r\u{1B}[K" + line, toError: true)
                return
            }
            let due = lastTick.withLock { last in
                guard progress.elapsed - last >= 10 else { return false }
                last = progress.elapsed
                return true
            }
            if due { writeStandard(line + "\n", toError: true) }
    }

    func end() {
        if !console.quiet, console.isTerminal { writeStandard("\r\u{1B}[K", toError: true) }
    }
}
