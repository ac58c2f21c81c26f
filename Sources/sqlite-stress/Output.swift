import ArgumentParser
import StressKit

/// A command's outcome as every subcommand prints it.
protocol CommandResult {
    var passed: Bool { get }
    /// The human report.
    var text: String { get }
    /// What --quiet still prints when the command failed.
    var failureText: String { get }
    func json() -> String
}

extension CommandResult {
    var failureText: String { text }
}

extension Console {
    /// Prints `result` (JSON; else the report, which --quiet keeps to failures)
    /// and exits with `failureStatus` when it did not pass.
    static func finish(_ result: some CommandResult, json: Bool, quiet: Bool, failureStatus: Int32 = 1) throws {
        if json {
            out(result.json())
        } else if !quiet {
            out(result.text)
        } else if !result.passed {
            out(result.failureText)
        }
        if !result.passed { throw ExitCode(failureStatus) }
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

/// `--busy-timeout`, shared by every command that opens the database.
struct BusyTimeoutOption: ParsableArguments {
    @Option(help: ArgumentHelp("Milliseconds SQLite waits on a locked database before SQLITE_BUSY.", valueName: "ms"))
    var busyTimeout = 5000

    func validate() throws {
        guard busyTimeout >= 0 else { throw ValidationError("--busy-timeout must not be negative (got \(busyTimeout)).") }
    }
}

/// The options of the commands that create a database (`stress`, `schema`).
struct CreationOptions: ParsableArguments {
    @Option(help: "Number of tables, 1–10. (default: drawn from the seed)")
    var tables: Int?

    @Option(help: ArgumentHelp("Journal mode: wal, delete, truncate or persist. (default: drawn from the seed)", valueName: "mode"))
    var journalMode: JournalMode?

    @Flag(help: "Replace an existing database, but only one sqlite-stress created.")
    var overwrite = false
}
