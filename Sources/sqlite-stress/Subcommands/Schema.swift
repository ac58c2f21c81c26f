import ArgumentParser
import StressKit

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Create a fresh database with a random schema and the oracle's bookkeeping, for the drivers.",
        discussion: """
            The Test Composer's first command. Draws the schema and configuration from the seed, \
            creates the tables, indexes, ledger and accounts, and records the schema in the database \
            so every later command reads it back from there. An existing file is replaced only with \
            --overwrite, and only if sqlite-stress created it.
            """
    )

    @OptionGroup var common: CommonOptions

    @OptionGroup(title: CreationOptions.title) var creation: CreationOptions

    func run() throws {
        let settings = StressSettings(
            databasePath: common.databasePath, seed: common.resolvedSeed, tables: creation.tables,
            journalMode: creation.journalMode, synchronous: creation.synchronousLevel, overwrite: creation.overwrite)
        let run = try StressRun.prepare(settings)
        let console = Console(quiet: common.quiet, json: common.json)
        console.say("sqlite-stress schema: seed \(Seed.format(settings.seed))")
        try run.createOnly()
        StressAssertions.schemaCreated()
        console.say("database: \(settings.databasePath) — \(run.config.summary)")
        console.say(run.schema.summary)
        if common.json {
            Console.out(#"{"command": "schema", "result": "pass", "database": "\#(settings.databasePath)", "seed": "\#(Seed.format(settings.seed))"}"#)
        }
    }
}
