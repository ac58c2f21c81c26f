import ArgumentParser
import StressAntithesis
import StressKit

struct Schema: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Create a fresh database with a random schema and the oracle's bookkeeping, for the drivers.",
        discussion: """
            The Test Composer's first command. Draws the schema and configuration from the seed \
            (inside Antithesis with no seed, from Antithesis at every choice), \
            creates the tables, indexes, ledger and accounts, and records the schema in the database \
            so every later command reads it back from there. An existing file is replaced only with \
            --overwrite, and only if sqlite-stress created it.
            """
    )

    @OptionGroup var common: CommonOptions

    @OptionGroup(title: CreationOptions.title) var creation: CreationOptions

    var assertionScope: StressAssertions.Scope { .schema }

    func run() throws {
        let settings = StressSettings(
            databasePath: common.databasePath, randomness: common.randomness, tables: creation.shape.tables,
            journalMode: creation.shape.journalMode, synchronous: creation.shape.synchronous, overwrite: creation.overwrite)
        let run = try StressRun.prepare(settings)
        let console = Console(quiet: common.quiet, json: common.json)
        console.say("sqlite-stress schema: \(settings.randomness.description)")
        console.say(SQLiteChoice.line)
        let outcome = try run.createOnly()
        if outcome.passed { StressAssertions.schemaCreated() }
        try Console.finish(outcome, json: common.json, quiet: common.quiet)
    }
}
