import ArgumentParser
import StressAntithesis
import StressKit

/// Options every driver shares, and running one.
struct DriverOptions: ParsableArguments {
    @OptionGroup var common: CommonOptions

    @OptionGroup var lock: BusyTimeoutOption

    @OptionGroup(title: "Storage faults") var faultOptions: FaultOptions

    /// The seed: --seed or $SQLITE_STRESS_SEED; else none inside Antithesis (its
    /// randomness steers every choice), else a fresh one.
    var seed: UInt64? {
        if common.seed != nil || common.environmentSeed != nil { return common.resolvedSeed }
        return Output.shared.random == nil ? common.resolvedSeed : nil
    }

    func run(_ kind: DriverKind) throws {
        let faults = try faultOptions.plan()
        Interrupt.install(repeatStops: true)
        let outcome = try kind.run(
            databasePath: common.databasePath, seed: seed, random: Output.shared.random, busyTimeout: lock.busyTimeout,
            faults: faults)
        try Console.finish(outcome, json: common.json, quiet: common.quiet)
    }
}

struct Insert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insert",
        abstract: "One batch of random inserts (plain, OR IGNORE, OR REPLACE, UPSERT) in random transactions.")
    @OptionGroup var options: DriverOptions
    func run() throws { try options.run(.insert) }
}

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "One batch of random updates in random transactions.")
    @OptionGroup var options: DriverOptions
    func run() throws { try options.run(.update) }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "One batch of random deletes, by key and by range.")
    @OptionGroup var options: DriverOptions
    func run() throws { try options.run(.delete) }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Writes that are then rolled back: whole transactions, or to a savepoint.")
    @OptionGroup var options: DriverOptions
    func run() throws { try options.run(.rollback) }
}

struct Transfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Balance transfers between accounts, whose total must never change.")
    @OptionGroup var options: DriverOptions
    func run() throws { try options.run(.transfer) }
}
