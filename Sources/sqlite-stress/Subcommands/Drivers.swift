import ArgumentParser
import StressKit

/// Options every driver shares, and running one.
struct DriverOptions: ParsableArguments {
    @OptionGroup var common: CommonOptions

    @OptionGroup var lock: BusyTimeoutOption

    @OptionGroup(title: "Storage faults") var faultOptions: FaultOptions

    @OptionGroup var logLimit: SQLLogLimitOption

    /// What every driver's help says of the files it works on.
    static let discussion = """
        Works on a database that `sqlite-stress schema` made, with the schema it recorded there. \
        Appends every statement to the SQL log beside it, <db>.sql (started afresh, and saying so, \
        when it is missing), and a record of each transaction to the acknowledgement log <db>.acks, \
        which must be there. Exit status: 0 no property violated; 1 a property was violated; 2 usage \
        or environment error (storage that failed under the batch included).
        """

    func run(_ kind: DriverKind) throws {
        try Self.run(
            kind, databasePath: common.databasePath, randomness: common.randomness, busyTimeout: lock.busyTimeout,
            faults: try faultOptions.plan(), logLimit: logLimit.limit, json: common.json, quiet: common.quiet)
    }

    /// Runs one batch and reports it: what every driver does once its options are read
    /// (by the parser, or by `DriverArguments` for the plainest command lines).
    static func run(
        _ kind: DriverKind, databasePath: String, randomness: Randomness, busyTimeout: Int, faults: FaultPlan, logLimit: Int64?,
        json: Bool, quiet: Bool
    ) throws {
        Interrupt.install(repeatStops: true)
        let outcome = try kind.run(
            databasePath: databasePath, randomness: randomness, busyTimeout: busyTimeout, faults: faults, logLimit: logLimit)
        try Console.finish(outcome, json: json, quiet: quiet)
    }
}

struct Insert: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "insert",
        abstract: "One batch of random inserts (plain, OR IGNORE, OR REPLACE, UPSERT) in random transactions.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.insert) }
    func run() throws { try options.run(.insert) }
}

struct Update: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "One batch of random updates in random transactions.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.update) }
    func run() throws { try options.run(.update) }
}

struct Delete: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "One batch of random deletes, by key and by range.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.delete) }
    func run() throws { try options.run(.delete) }
}

struct Rollback: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Writes that are then rolled back: whole transactions, or to a savepoint.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.rollback) }
    func run() throws { try options.run(.rollback) }
}

struct Transfer: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Balance transfers between accounts, whose total must never change.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.transfer) }
    func run() throws { try options.run(.transfer) }
}

struct Savepoint: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "savepoint",
        abstract: "Transactions of nested savepoints, released and rolled back to, that mostly commit.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.savepoint) }
    func run() throws { try options.run(.savepoint) }
}

struct CreateTable: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-table",
        abstract: "CREATE TABLE while writers run: a new random table, with its indexes and foreign keys to existing ones.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.createTable) }
    func run() throws { try options.run(.createTable) }
}

struct DropTable: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop-table",
        abstract: "DROP TABLE while writers run (never a table another object reads, nor the last one).", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.dropTable) }
    func run() throws { try options.run(.dropTable) }
}

struct CreateIndex: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-index",
        abstract: "CREATE INDEX while writers run: plain, unique, partial or on expressions.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.createIndex) }
    func run() throws { try options.run(.createIndex) }
}

struct DropIndex: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop-index", abstract: "DROP INDEX while writers run.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.dropIndex) }
    func run() throws { try options.run(.dropIndex) }
}

struct AlterTable: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "alter-table",
        abstract: "ALTER TABLE while writers run: ADD COLUMN (with or without a default), RENAME COLUMN, DROP COLUMN, RENAME TO.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.alterTable) }
    func run() throws { try options.run(.alterTable) }
}

struct SchemaRollback: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema-rollback",
        abstract: "Schema changes, with writes around them, inside transactions and savepoints that are then rolled back.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.schemaRollback) }
    func run() throws { try options.run(.schemaRollback) }
}

struct Vacuum: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "vacuum",
        abstract: "VACUUM, incremental vacuum, and VACUUM INTO a new file that every property is then checked on.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.vacuum) }
    func run() throws { try options.run(.vacuum) }
}

struct Checkpoint: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "WAL checkpoints of every mode (PASSIVE, FULL, RESTART, TRUNCATE).", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.checkpoint) }
    func run() throws { try options.run(.checkpoint) }
}

struct Analyze: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze", abstract: "ANALYZE, REINDEX and PRAGMA optimize while writers run.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.analyze) }
    func run() throws { try options.run(.analyze) }
}

struct Compact: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Ledger compaction while writers run: superseded ledger entries out, a record of their transactions kept.", discussion: DriverOptions.discussion)
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.compact) }
    func run() throws { try options.run(.compact) }
}
