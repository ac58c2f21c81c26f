#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressAntithesis
import StressKit

/// One sentence when a path given on the command line is empty: it names no
/// file (SQLite would open a private temporary database for it).
func requireNonEmpty(_ path: String?, _ name: String) throws {
    if path?.isEmpty == true { throw ValidationError("\(name) must not be empty.") }
}

/// Options every subcommand shares: the database, and the rest (`RunOptions`).
struct CommonOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The database file. (default: $SQLITE_STRESS_DB, else ./stress.db)", valueName: "path"))
    var db: String?

    @OptionGroup var run: RunOptions

    func validate() throws {
        try requireNonEmpty(db, "--db")
        if let problem = Self.controlCharacterProblem(db) { throw ValidationError(problem) }
    }

    /// One sentence when the database's path (`db`, else $SQLITE_STRESS_DB)
    /// holds a control character: the SQL log keeps a statement to a line (and
    /// a form feed marks where a write began), and a VACUUM INTO statement
    /// names a path beside the database, so its line would split and no
    /// replay could read it.
    static func controlCharacterProblem(_ db: String?) -> String? {
        guard databasePath(db).utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        return "\(db == nil ? "$SQLITE_STRESS_DB" : "--db") must not hold a control character (a line break, say): the SQL "
            + "log keeps a statement to a line, and a VACUUM INTO statement names the database's path."
    }

    var seed: String? { run.seed }
    var json: Bool { run.json }
    var quiet: Bool { run.quiet }
    var randomness: Randomness { run.randomness }

    /// The database path: --db, else $SQLITE_STRESS_DB, else ./stress.db.
    var databasePath: String { Self.databasePath(db) }

    static func databasePath(_ db: String?) -> String {
        if let db { return db }
        if let path = RunOptions.environment("SQLITE_STRESS_DB"), !path.isEmpty { return path }
        return "stress.db"
    }
}

/// The seed, the output and the library: what every subcommand shares but
/// the database, which `shrink` takes only to accept a reproduce line whole.
struct RunOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The 64-bit seed, decimal or 0x hex. (default: $SQLITE_STRESS_SEED; else, inside Antithesis, "
            + "its randomness at every choice; else fresh)", valueName: "n"))
    var seed: String?

    @Flag(help: "Print a machine-readable result on stdout.")
    var json = false

    @Flag(name: [.short, .long], help: "Print nothing but violations and errors.")
    var quiet = false

    /// `--sqlite` (`SQLiteOption`), declared in place rather than as its group:
    /// a debug build's argument parser validates every group once per level
    /// above it, so each level of nesting multiplies its start-up work.
    @Option(help: SQLiteOption.help)
    var sqlite: String?

    mutating func validate() throws {
        if let problem = Self.seedProblem(seed) { throw ValidationError(problem) }
    }

    /// Why `--seed` (nil: not given), or else $SQLITE_STRESS_SEED, is not a seed; nil when it is, or neither is set.
    static func seedProblem(_ seed: String?) -> String? {
        if let seed, Seed.parse(seed) == nil {
            return "--seed must be a 64-bit number in decimal or 0x hex (got '\(seed)')."
        }
        if seed == nil, let text = environment("SQLITE_STRESS_SEED"), Seed.parse(text) == nil {
            return "$SQLITE_STRESS_SEED must be a 64-bit number in decimal or 0x hex (got '\(text)')."
        }
        return nil
    }

    /// Where every random choice comes from: --seed, else $SQLITE_STRESS_SEED;
    /// else, inside Antithesis (libvoidstar loaded), `fuzz_get_random` at every
    /// choice, so its fuzzer steers each one; else a fresh seed.
    var randomness: Randomness { Self.randomness(seed) }

    static func randomness(_ seed: String?) -> Randomness {
        if let seed, let value = Seed.parse(seed) { return .seed(value) }
        if let text = environment("SQLITE_STRESS_SEED"), let value = Seed.parse(text) { return .seed(value) }
        if let random = Output.shared.random { return .antithesis(random) }
        return .seed(Seed.fresh())
    }

    /// An environment variable, read with getenv: a driver's start-up need not build ProcessInfo's whole dictionary.
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// `--compact-every auto|K`: when each thread of `stress` compacts the ledger
/// (`CompactionSchedule`); `shrink` takes the failing run's.
struct CompactionOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Compact the ledger every K iterations per thread (superseded entries out, a record of their transactions "
            + "kept); 0 never compacts; auto compacts every \(CompactionSchedule.automatic.every) iterations once a thread "
            + "has run \(CompactionSchedule.automatic.from), so a long run's database stays the size of its data and a "
            + "short one never compacts. A compaction logs where the transactions whose entries it removes committed, so a "
            + "compacted multi-writer log still replays in the run's commit order.",
        valueName: "auto|k"))
    var compactEvery = CompactionSchedule.automatic.argument

    func validate() throws {
        guard CompactionSchedule(argument: compactEvery) != nil else {
            throw ValidationError("--compact-every must be auto, 0 (never) or a number of iterations (got '\(compactEvery)').")
        }
    }

    /// The schedule; `validate()` refused any other spelling.
    var schedule: CompactionSchedule { CompactionSchedule(argument: compactEvery)! }
}

/// `--sql-log-max SIZE`: where the SQL log rotates, for `stress` and the drivers.
struct SQLLogLimitOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Rotate the SQL log to <log>.1 when it passes this size (bytes, or with K, M, G, T: 256M), keeping its newest "
            + "part, at most about twice the size on disk; 0 never rotates. A log rotated once is still whole "
            + "(<log>.1, then <log>); a second rotation drops the run's first lines, and the report says so. "
            + "(default: \(SQLLog.describe(limit: SQLLog.defaultLimit)))",
        valueName: "size"))
    var sqlLogMax: String?

    func validate() throws {
        guard let sqlLogMax else { return }
        guard let limit = SQLLog.parse(limit: sqlLogMax) else {
            throw ValidationError("--sql-log-max must be a size in bytes, or with K, M, G or T (e.g. 256M), or 0 for no limit (got '\(sqlLogMax)').")
        }
        let smallest = SQLLog.describe(limit: SQLLog.smallestLimit)
        guard limit == 0 || limit >= SQLLog.smallestLimit else {
            throw ValidationError("--sql-log-max must be 0 (no limit) or at least \(smallest) (got '\(sqlLogMax)').")
        }
    }

    /// The limit in bytes; nil: none.
    var limit: Int64? {
        guard let sqlLogMax else { return SQLLog.defaultLimit }
        let limit = SQLLog.parse(limit: sqlLogMax) ?? SQLLog.defaultLimit
        return limit == 0 ? nil : limit
    }
}

/// `--sqlite DIR`, which every command takes. `Tool.main` acts on it before
/// parsing (`SQLiteChoice.activate`), so the process already runs on that
/// library when a command starts; it is declared here for parsing and help.
struct SQLiteOption: ParsableArguments {
    static let help = ArgumentHelp(
        "The directory holding the libsqlite3.so.0 to test (scripts/build-sqlite makes one); every command this one starts inherits it. (default: $SQLITE_STRESS_SQLITE, else the system's)",
        valueName: "dir")

    @Option(help: help)
    var sqlite: String?
}

extension JournalMode: ExpressibleByArgument {
    /// `WAL`, `wal` and `Wal` alike: SQLite's own pragma takes any case.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
