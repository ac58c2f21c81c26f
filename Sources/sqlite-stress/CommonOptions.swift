import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressKit

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The database file. (default: $SQLITE_STRESS_DB, else ./stress.db)", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp(
        "The 64-bit seed, decimal or 0x hex. (default: $SQLITE_STRESS_SEED, else fresh)", valueName: "n"))
    var seed: String?

    @Flag(help: "Print a machine-readable result on stdout.")
    var json = false

    @Flag(name: [.short, .long], help: "Print nothing but violations and errors.")
    var quiet = false

    mutating func validate() throws {
        if let seed, Seed.parse(seed) == nil {
            throw ValidationError("--seed must be a 64-bit number in decimal or 0x hex (got '\(seed)').")
        }
        if seed == nil, let text = ProcessInfo.processInfo.environment["SQLITE_STRESS_SEED"], Seed.parse(text) == nil {
            throw ValidationError("$SQLITE_STRESS_SEED must be a 64-bit number in decimal or 0x hex (got '\(text)').")
        }
    }

    /// The database path: --db, else $SQLITE_STRESS_DB, else ./stress.db.
    var databasePath: String {
        if let db { return db }
        if let path = ProcessInfo.processInfo.environment["SQLITE_STRESS_DB"], !path.isEmpty { return path }
        return "stress.db"
    }

    /// $SQLITE_STRESS_SEED, when set.
    var environmentSeed: UInt64? {
        ProcessInfo.processInfo.environment["SQLITE_STRESS_SEED"].flatMap(Seed.parse)
    }

    /// The seed: --seed, else $SQLITE_STRESS_SEED, else a fresh one.
    var resolvedSeed: UInt64 {
        if let seed, let value = Seed.parse(seed) { return value }
        if let text = ProcessInfo.processInfo.environment["SQLITE_STRESS_SEED"], let value = Seed.parse(text) { return value }
        return Seed.fresh()
    }
}

extension JournalMode: ExpressibleByArgument {
    /// `WAL`, `wal` and `Wal` alike: SQLite's own pragma takes any case.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
