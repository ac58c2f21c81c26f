import ArgumentParser
import StressKit

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute a recorded SQL log and stop at the first statement whose result differs.",
        discussion: """
            Each statement runs on a connection of its own writer (thread or driver), in the order \
            the log recorded them finishing. Exit status 0 when every result matches, 1 at the first \
            difference (with its line, statement, recorded and replayed results).
            """
    )

    @Argument(help: ArgumentHelp("The SQL log (from stress, schema or a driver).", valueName: "log"))
    var log: String

    @Option(help: ArgumentHelp("The database to replay into. (default: <log>.replay.db)", valueName: "path"))
    var db: String?

    @Flag(help: "Replace an existing replay database, but only one sqlite-stress created.")
    var overwrite = false

    @Flag(name: [.short, .long], help: "Print nothing unless a result differs.")
    var quiet = false

    @OptionGroup var library: SQLiteOption

    func run() throws {
        let outcome = try StressKit.Replay.run(logPath: log, databasePath: db ?? log + ".replay.db", overwrite: overwrite)
        if !quiet || outcome.mismatch != nil { Console.out(outcome.text) }
        if outcome.mismatch != nil { throw ExitCode(1) }
    }
}
