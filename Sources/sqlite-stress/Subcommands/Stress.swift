import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressKit

struct Stress: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Run the monolith: a random schema, T threads × N iterations of random transactions, every property checked.",
        discussion: """
            Creates a fresh database (an existing file is replaced only with --overwrite, and only if \
            sqlite-stress created it), writes every statement to an SQL log the sqlite3 shell can replay, \
            checks every property every --check-every iterations per thread and once more at the end on \
            a fresh connection, and prints a summary. With --threads 1 a seed reproduces the run exactly; \
            with more, the scheduler interleaves the threads, and the reproduce line says so. Inside \
            Antithesis with no seed, every choice comes from Antithesis instead. Ctrl-C stops after the \
            current transactions and prints what was done (exit status 130).
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("Threads, each with its own connection.", valueName: "n"))
    var threads = 1

    @Option(help: ArgumentHelp("Iterations per thread (a transaction or a maintenance step each).", valueName: "n"))
    var iterations = 1000

    @OptionGroup(title: CreationOptions.title) var creation: CreationOptions

    @OptionGroup var lock: BusyTimeoutOption

    @OptionGroup(title: "Storage faults") var faultOptions: FaultOptions

    @Option(help: ArgumentHelp(
        "Check every property (integrity, model, rollback, durability, conservation, query-consistency, schema) "
            + "every K iterations per thread; 0 leaves only the final check.",
        valueName: "k"))
    var checkEvery = 1000

    @OptionGroup var compaction: CompactionOption

    @Option(help: ArgumentHelp(
        "Where to write the SQL log; another run's log there is replaced only with --overwrite. (default: <db>.sql)", valueName: "path"))
    var sqlLog: String?

    @OptionGroup var logLimit: SQLLogLimitOption

    @Flag(inversion: .prefixedNo, help: "Let the swarm change the schema while writers run (CREATE/DROP TABLE and INDEX, ALTER TABLE, schema changes rolled back).")
    var schemaChanges = true

    var assertionScope: StressAssertions.Scope { .stress }

    func validate() throws {
        try requireNonEmpty(sqlLog, "--sql-log")
    }

    func run() throws {
        let settings = StressSettings(
            databasePath: common.databasePath, logPath: sqlLog, randomness: common.randomness, threads: threads,
            iterations: iterations, tables: creation.shape.tables, journalMode: creation.shape.journalMode,
            synchronous: creation.shape.synchronous, busyTimeout: lock.busyTimeout, checkEvery: checkEvery,
            compaction: compaction.schedule, overwrite: creation.overwrite, faults: try faultOptions.plan(), schemaChanges: schemaChanges,
            logLimit: logLimit.limit)
        let run = try StressRun.prepare(settings)
        let console = Console(quiet: common.quiet, json: common.json)

        console.say("sqlite-stress stress: \(settings.randomness.description)")
        for line in run.reproduceLines { console.say(line) }
        console.say(SQLiteChoice.line)
        console.say("database: \(settings.databasePath) — \(run.config.summary)")
        console.say(run.schema.summary)
        console.say(run.swarm.summary.split(separator: "\n").map { "swarm " + $0 }.joined(separator: "\n"))
        if !settings.faults.isEmpty { console.say("fault plan: " + settings.faults.summary) }

        Interrupt.install(repeatStops: true)
        let report = try run.run(onProgress: console.progressHandler())
        console.endProgress()
        try Console.finish(report, json: common.json, quiet: common.quiet)
    }
}
