import ArgumentParser
import StressKit

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute a recorded SQL log and stop at the first statement whose result differs.",
        discussion: """
            Each statement runs on a connection of its own writer (thread or driver), in the order \
            the log recorded them finishing, into a fresh database. A one-thread log replays exactly. \
            Logs of several threads or drivers replay too, since lock contention is timing, not \
            content: a statement that met SQLITE_BUSY or SQLITE_LOCKED in the run is not re-executed \
            (it had no effect), and one that meets a lock only in the replay waits until the other \
            writers' statements free it. What a storage fault changed (--fault) cannot be replayed: \
            the replay injects none. The log is streamed (memory stays flat) and progress goes to \
            stderr. Exit status 0 when every result matches, 1 at the first difference (with its \
            line, writer, statement, recorded and replayed results); 2 when that difference may not be \
            SQLite's (no verdict): it comes after a driver, or a thread of a killed stress, vanished \
            between statements (killed, perhaps after a statement took effect and before its line was \
            written), or after a writer the replay took for vanished logged again, or it is a ledger trigger's \
            guard after the replay moved its schema cookie on by a guess, or the replay's schema stopping a \
            write the run let through after another writer's schema change (the write's line held up past \
            that change's), or it is in a log of several \
            writers whose run's commit order the replay could not follow (the run's database not beside \
            the log, or its ledger compacted by a compaction that logged no order: a log of an earlier \
            version).
            """
    )

    @Argument(help: ArgumentHelp("The SQL log (from stress, schema or a driver).", valueName: "log"))
    var log: String

    @Option(help: ArgumentHelp("The database to replay into. (default: <log>.replay.db)", valueName: "path"))
    var db: String?

    @Flag(help: "Replace an existing replay database (only one sqlite-stress created, never a run's, which has its <db>.acks), or SQLite's files left without one.")
    var overwrite = false

    @Flag(name: [.short, .long], help: "Print nothing unless a result differs.")
    var quiet = false

    @OptionGroup var library: SQLiteOption

    func validate() throws {
        try requireNonEmpty(log, "the SQL log's path")
        try requireNonEmpty(db, "--db")
    }

    func run() throws {
        let console = Console(quiet: quiet, json: false)
        let outcome = try StressKit.Replay.run(
            logPath: log, databasePath: db ?? log + ".replay.db", overwrite: overwrite,
            onProgress: console.progressHandler())
        console.endProgress()
        if !quiet || outcome.mismatch != nil { Console.out(outcome.text) }
        if outcome.exitStatus != 0 { throw ExitCode(outcome.exitStatus) }
    }
}
