import ArgumentParser
import StressAntithesis
import StressKit

/// A command's outcome as every subcommand prints it.
protocol CommandResult {
    var passed: Bool { get }
    /// 0 passed, 1 a property was violated, 2 no verdict (a usage or environment
    /// error), 130 interrupted (Ctrl-C) with nothing found.
    var exitStatus: Int32 { get }
    /// The human report.
    var text: String { get }
    /// What --quiet still prints when the command failed.
    var failureText: String { get }
    func json() -> String
    /// Set before the result is printed when the SDK output failed (`Console.finish`).
    var sdkOutputFailure: String? { get set }
}

extension CommandResult {
    var failureText: String { text }
    var exitStatus: Int32 { passed ? 0 : 1 }
}

extension Console {
    /// Prints `result` (JSON; else the report, which --quiet keeps to failures
    /// and interruptions) and exits with its status when that is not 0.
    ///
    /// A command whose SDK output could not take every message (a full disk,
    /// an unwritable file) says so in one sentence on stderr, and a result
    /// that found nothing becomes exit status 2: its assertions may be missing
    /// from the output that the runner judges. A violation keeps status 1. Its
    /// JSON names the failure, and says "error" where it would say "pass".
    static func finish(_ result: some CommandResult, json: Bool, quiet: Bool) throws {
        var result = result
        result.sdkOutputFailure = Output.deliveryFailure
        if json {
            out(result.json())
        } else if !quiet {
            out(result.text)
        } else if result.exitStatus != 0 {
            out(result.failureText)
        }
        var status = result.exitStatus
        if let failure = result.sdkOutputFailure {
            writeStandard("sqlite-stress: error: \(failure), so this command's assertions may be missing from it.\n", toError: true)
            if status == 0 { status = 2 }
        }
        if status != 0 { throw ExitCode(status) }
    }
}

extension StressReport: CommandResult {
    var text: String { summary }
    var failureText: String { violationSummary }
}

extension CheckCommand.Outcome: CommandResult {}

extension DriverOutcome: CommandResult {
    var text: String { summary }
}

extension ComposeReport: CommandResult {}

extension StressRun.SetupOutcome: CommandResult {}

/// `--busy-timeout`, shared by every command that opens the database.
struct BusyTimeoutOption: ParsableArguments {
    @Option(help: ArgumentHelp("Milliseconds SQLite waits on a locked database before SQLITE_BUSY.", valueName: "ms"))
    var busyTimeout = Self.defaultBusyTimeout

    static let defaultBusyTimeout = 5000

    func validate() throws {
        guard busyTimeout >= 0 else { throw ValidationError("--busy-timeout must not be negative (got \(busyTimeout)).") }
    }
}

/// The options of the commands that create a database (`stress`, `schema`).
/// Shown under their own heading, which says once that the seed draws what is not given.
struct CreationOptions: ParsableArguments {
    static let title = "The new database (the seed draws what is not given)"

    @OptionGroup var shape: ShapeOptions

    @Flag(help: "Replace an existing database, but only one sqlite-stress created.")
    var overwrite = false
}

/// What a new database is made of where the seed does not draw it: for the
/// commands that create one, and for `shrink`, which takes the failing run's.
struct ShapeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Number of tables, 1–10 (the seed may add an audit table that triggers write).", valueName: "n"))
    var tables: Int?

    @Option(help: ArgumentHelp("Journal mode, in any case.", valueName: "mode"))
    var journalMode: JournalMode?

    @Option(help: ArgumentHelp("PRAGMA synchronous: off, normal, full or extra, in any case.", valueName: "level"))
    var synchronous: String?
}

/// `--fault KIND[:rate]` and `--crash`: storage faults injected through the
/// fault-injecting VFS, for `stress` and the drivers.
struct FaultOptions: ParsableArguments {
    @Option(name: .customLong("fault"), help: ArgumentHelp(
        "Inject a storage fault with probability RATE per eligible I/O operation (repeatable). Benign: "
            + StorageFault.allCases.filter(\.isBenign).map(\.rawValue).joined(separator: ", ")
            + ". Planted bugs: " + StorageFault.allCases.filter { !$0.isBenign }.map(\.rawValue).joined(separator: ", ")
            + ". (default rate: 0.01; lying-fsync 1; stale-read 0.02)",
        valueName: "kind[:rate]"))
    var faults: [String] = []

    @Flag(help: "Simulate a power loss at a point drawn from the seed (or at the end of the work): unsynced writes are dropped, kept or garbled, then SQLite recovers and the oracle checks. Not at synchronous=off, which promises nothing across one.")
    var crash = false

    /// The plan; a bad specification is one sentence and exit 2.
    func plan() throws(ToolError) -> FaultPlan {
        var specs: [FaultSpec] = []
        for text in faults { specs.append(try FaultSpec.parse(text)) }
        let plan = FaultPlan(faults: specs, crash: crash)
        try plan.validate()
        return plan
    }
}
