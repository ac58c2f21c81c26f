import ArgumentParser
import StressKit

/// Options `check` and `integrity` share.
struct CheckOptions: ParsableArguments {
    @OptionGroup var common: CommonOptions

    @OptionGroup var lock: BusyTimeoutOption

    @Option(name: .customLong("wait"), help: ArgumentHelp(
        "Keep retrying a locked or unreachable database for this many seconds (after drivers were killed). (default: 0)",
        valueName: "seconds"))
    var waitSeconds: Double?

    /// `--wait`, 0 when it is not given (the parser would show a default of 0 as "0.0").
    var wait: Double { waitSeconds ?? 0 }

    func validate() throws {
        guard wait >= 0, wait.isFinite else {
            throw ValidationError("--wait must be a non-negative number of seconds (got \(Format.number(wait))).")
        }
    }

    /// Runs every property, prints the outcome, and exits 1 on a violation.
    func run(_ mode: CheckCommand.Mode) throws {
        let outcome = try CheckCommand.run(
            mode: mode, databasePath: common.databasePath, randomness: common.randomness, busyTimeout: lock.busyTimeout,
            wait: wait)
        try Console.finish(outcome, json: common.json, quiet: common.quiet)
    }
}

struct Check: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Reconcile a quiescent database: every property, in full.",
        discussion: """
            Runs integrity, model (contents equal the ledger's fold), rollback (no rolled-back write \
            visible), durability (every acknowledged transaction present), conservation (the accounts' \
            total), query-consistency and schema (sqlite_schema is what the committed schema changes \
            made it) in one snapshot, and prints a table of properties. The seed \
            drives query-consistency's random predicates. A database locked past the busy timeout, or \
            an acknowledgement log that is missing or unreadable once transactions committed, is an \
            error (exit status 2), never a pass.
            """
    )

    @OptionGroup var options: CheckOptions

    var assertionScope: StressAssertions.Scope { .check(waits: options.wait > 0) }

    func run() throws { try options.run(.final) }
}

struct Integrity: ParsableCommand, AssertingCommand {
    static let configuration = CommandConfiguration(
        commandName: "integrity",
        abstract: "Check the properties that hold at any moment, in one snapshot, while writers run.",
        discussion: """
            The same properties as `check`, read inside one transaction so they see a single \
            snapshot. If the database stays locked past the busy timeout (with --wait: at every try), \
            there is no verdict and the exit status is 0.
            """
    )

    @OptionGroup var options: CheckOptions

    var assertionScope: StressAssertions.Scope { .check(waits: options.wait > 0) }

    func run() throws { try options.run(.anytime) }
}
