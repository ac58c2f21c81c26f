import StressSQLite

/// SQLite's journal modes that keep a database durable across a crash.
/// See <https://www.sqlite.org/pragma.html#pragma_journal_mode>.
public enum JournalMode: String, CaseIterable, Sendable, Codable {
    case wal, delete, truncate, persist
}

/// Per-run database configuration, drawn from the seed.
public struct DatabaseConfig: Sendable, Hashable, Codable {
    public var pageSize: Int
    public var journalMode: JournalMode
    /// OFF, NORMAL, FULL or EXTRA.
    public var synchronous: String
    /// `PRAGMA cache_size`: positive is pages, negative is KiB. Small values force spills.
    public var cacheSize: Int
    /// NONE, FULL or INCREMENTAL.
    public var autoVacuum: String

    /// The synchronous levels, weakest first. See <https://www.sqlite.org/pragma.html#pragma_synchronous>.
    public static let synchronousLevels = ["OFF", "NORMAL", "FULL", "EXTRA"]
    /// The levels at which SQLite promises something across a power loss (all but
    /// OFF, which never syncs): the only ones a run that loses power may use.
    public static let powerLossLevels = Array(synchronousLevels.dropFirst())

    /// Draws a configuration; `journalMode` and `synchronous` override the drawn
    /// values without changing any other choice, so a reproduce line naming them gives the same run.
    /// A run that loses power draws its synchronous level among `powerLossLevels`.
    public static func generate(
        journalMode: JournalMode?, synchronous: String? = nil, losesPower: Bool = false, using rng: inout some RandomNumberGenerator
    ) -> DatabaseConfig {
        let pageSize = rng.pick([512, 1024, 4096, 4096, 8192, 16384, 65536])
        let drawnMode = rng.pick(JournalMode.allCases)
        let drawnSynchronous = rng.pick(losesPower ? powerLossLevels : synchronousLevels)
        return DatabaseConfig(
            pageSize: pageSize,
            journalMode: journalMode ?? drawnMode,
            synchronous: synchronous?.uppercased() ?? drawnSynchronous,
            cacheSize: rng.pick([10, 32, 100, 500, -2000]),
            autoVacuum: rng.pick(["NONE", "FULL", "INCREMENTAL"]))
    }

    /// Statements that create the file, run once before the first table exists:
    /// the page size, then one transaction with `auto_vacuum` (which writes page
    /// 1 of an empty database by itself, and takes effect only before it is
    /// written) and `firstWrite`, so that the first page written holds both and
    /// lands, through the default rollback journal, in the database file itself
    /// and not in a WAL; then the journal mode.
    public func creationStatements(firstWrite: String) -> [String] {
        [
            "PRAGMA page_size = \(pageSize)",
            "BEGIN",
            "PRAGMA auto_vacuum = \(autoVacuum)",
            firstWrite,
            "COMMIT",
            "PRAGMA journal_mode = \(journalMode.rawValue.uppercased())",
        ]
    }

    /// Statements every new connection runs: these settings do not persist in the
    /// file. Only WAL is remembered by the database; DELETE, TRUNCATE and PERSIST
    /// are per connection, so every connection sets its mode again.
    public var connectionStatements: [String] {
        [
            "PRAGMA journal_mode = \(journalMode.rawValue.uppercased())",
            "PRAGMA synchronous = \(synchronous)", "PRAGMA cache_size = \(cacheSize)",
        ]
    }

    /// Whether SQLite promises that a committed transaction survives a power loss
    /// or OS crash: not with `synchronous=OFF`, nor with NORMAL in WAL mode
    /// (<https://www.sqlite.org/pragma.html#pragma_synchronous>). It always
    /// survives the writer's death. The acknowledgement log is synced to match.
    public var commitsSurvivePowerLoss: Bool {
        if Self.neverSyncs(synchronous) { return false }
        switch synchronous.uppercased() {
        case "NORMAL", "1": return journalMode != .wal
        default: return true
        }
    }

    /// Whether `synchronous` is OFF (by name or number, in any case): SQLite
    /// never syncs, and promises nothing across a power loss.
    public static func neverSyncs(_ synchronous: String) -> Bool { ["OFF", "0"].contains(synchronous.uppercased()) }

    /// What the oracle allows a simulated power loss to cost: with NORMAL, each
    /// writer's latest acknowledged commits (WAL syncs only at checkpoints; in
    /// TRUNCATE and PERSIST the journal reset that commits is not synced either),
    /// never a commit followed by a surviving later one. FULL and EXTRA must lose
    /// nothing. OFF promises nothing, so no run loses power there
    /// (`FaultPlan.unverifiable(at:)`).
    public var powerLossMayTakeLatestCommits: Bool { synchronous.uppercased() == "NORMAL" }

    public var summary: String {
        "page_size=\(pageSize) journal_mode=\(journalMode.rawValue) synchronous=\(synchronous.lowercased()) "
            + "cache_size=\(cacheSize) auto_vacuum=\(autoVacuum.lowercased())"
    }
}
