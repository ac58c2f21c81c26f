import ArgumentParser
import StressKit

/// Options every driver shares, and running one.
struct DriverOptions: ParsableArguments {
    @OptionGroup var common: CommonOptions

    @OptionGroup var lock: BusyTimeoutOption

    @OptionGroup(title: "Storage faults") var faultOptions: FaultOptions

    func run(_ kind: DriverKind) throws {
        let faults = try faultOptions.plan()
        Interrupt.install(repeatStops: true)
        let outcome = try kind.run(
            databasePath: common.databasePath, randomness: common.randomness, busyTimeout: lock.busyTimeout, faults: faults)
        try Console.finish(outcome, json: common.json, quiet: common.quiet)
    }
}

struct Insert: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "insert",
        abstract: "One batch of random inserts (plain, OR IGNORE, OR REPLACE, UPSERT) in random transactions.")
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.insert) }
    func run() throws { try options.run(.insert) }
}

struct Update: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "One batch of random updates in random transactions.")
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.update) }
    func run() throws { try options.run(.update) }
}

struct Delete: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "One batch of random deletes, by key and by range.")
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.delete) }
    func run() throws { try options.run(.delete) }
}

struct Rollback: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Writes that are then rolled back: whole transactions, or to a savepoint.")
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.rollback) }
    func run() throws { try options.run(.rollback) }
}

struct Transfer: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Balance transfers between accounts, whose total must never change.")
    @OptionGroup var options: DriverOptions
    var assertionScope: StressAssertions.Scope { .driver(.transfer) }
    func run() throws { try options.run(.transfer) }
}
