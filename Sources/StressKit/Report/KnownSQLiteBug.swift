/// An SQLite bug this tool has met and shown without it, named beside a failed
/// run's violations when the run's configuration could meet it on the SQLite it
/// ran: so that a failure on an old release is not taken for a new bug, or for
/// the tool's. A hint, never a verdict: the violations stand as reported.
public struct KnownSQLiteBug: Sendable, Equatable, Encodable {
    /// A stable name.
    public let name: String
    /// What goes wrong, in one sentence.
    public let summary: String
    /// The first release known to have the fix, or nil while no release has it.
    public let fixedIn: String?
    /// The script in `bench/` that shows it without sqlite-stress.
    public let reproduction: String

    /// What a failed run did, as far as the known bugs care.
    struct Run: Sendable {
        var sqliteVersion: String
        /// WAL mode, or one of the rollback-journal modes: all the rules tell apart.
        var wal: Bool
        /// Threads of one process, each with its own connection.
        var threads: Int
        var faults: FaultPlan
        var schemaChanges: Bool
        /// A process writing the database may have been killed (SIGKILL, a
        /// crash): its files are left as it left them, a WAL to be recovered.
        var killed = false
        /// The writers met a full disk or an I/O error: one of the faults, or
        /// the storage's own (a disk that really filled up).
        var metCleanFailure = false

        /// A failure SQLite must survive by rolling a transaction back (an error
        /// that changes nothing, a full disk, a short write): planted, or met.
        var failsCleanly: Bool { metCleanFailure || faults.faults.contains { $0.kind.isBenign } }

        /// The writers of a database as `check` sees them, knowing only the
        /// file: processes of one connection each (the composed drivers), which
        /// may change the schema and any of which may have been killed, without
        /// this tool's storage faults (a `stress` run with faults names what it
        /// could meet in its own report).
        static func killedWriters(sqliteVersion: String, wal: Bool) -> Run {
            Run(sqliteVersion: sqliteVersion, wal: wal, threads: 1, faults: FaultPlan(),
                schemaChanges: true, killed: true)
        }

        /// The writers of a `stress` run or a driver, as its settings say, on
        /// the SQLite this process loaded; `killed` when other processes write
        /// the database beside it and may have been killed (the composed drivers);
        /// `metCleanFailure` when the writers met a full disk or an I/O error.
        static func writers(of settings: StressSettings, journalMode: JournalMode, killed: Bool, metCleanFailure: Bool) -> Run {
            Run(sqliteVersion: SQLiteChoice.library.version, wal: journalMode == .wal, threads: settings.threads,
                faults: settings.faults, schemaChanges: settings.schemaChanges, killed: killed, metCleanFailure: metCleanFailure)
        }
    }

    /// The known bugs `run` could have met, in the order of `all`.
    static func candidates(for run: Run) -> [KnownSQLiteBug] {
        all.filter { $0.affects(run) }.map(\.bug)
    }

    /// The known bugs the writers of the database at `path` could have met had
    /// one been killed (`Run.killedWriters`), on the SQLite this process
    /// loaded: by the journal mode `schema` recorded, or, when that cannot be
    /// read (`recorded` nil), by the one the file's header says
    /// (`DatabaseFile.walInHeader`); none when neither says.
    static func ofKilledWriters(of path: String, recorded journalMode: JournalMode?) -> [KnownSQLiteBug] {
        guard let wal = journalMode.map({ $0 == .wal }) ?? DatabaseFile.walInHeader(of: path) else { return [] }
        return candidates(for: .killedWriters(sqliteVersion: SQLiteChoice.library.version, wal: wal))
    }

    struct Rule: Sendable {
        /// Releases from `bug.fixedIn` on are free of it.
        let bug: KnownSQLiteBug
        /// The first release with the feature the bug lives in.
        let since: Version
        let applies: @Sendable (Run) -> Bool

        func affects(_ run: Run) -> Bool {
            guard let version = Version(run.sqliteVersion), version >= since else { return false }
            if let fixed = bug.fixedIn.flatMap(Version.init), version >= fixed { return false }
            return applies(run)
        }
    }

    static let all: [Rule] = [
        Rule(
            bug: KnownSQLiteBug(
                name: "wal-rollback-to-checksums",
                summary: "in WAL mode, a transaction that spills pages and then rolls back to a savepoint (or has a "
                    + "statement fail) can leave committed frames that the WAL's recovery drops: acknowledged commits "
                    + "lost once the WAL is recovered from the file (SQLite forum post b490f726db)",
                fixedIn: "3.50.2", reproduction: "bench/wal-rollback-to-bug"),
            since: Version(3, 7, 0),
            // The loss needs the WAL recovered from the file: after a kill or a
            // power loss, after a failed write, or, with several connections in
            // one process, when the last to close cannot checkpoint because
            // another thread is opening one, which can then be the first to map
            // the WAL index and so recover it. `bench/wal-rollback-to-bug
            // --threads` shows that in one process (3.40.1 loses the commit
            // within a few sessions), `--last-close` with another process
            // holding the lock; a four-thread run without faults lost
            // acknowledged commits on 3.40.1 once.
            applies: { $0.wal && ($0.failsCleanly || $0.faults.crash || $0.killed || $0.threads > 1) }),
        Rule(
            bug: KnownSQLiteBug(
                name: "hot-journal-pending-race",
                summary: "in a rollback-journal mode, a connection whose upgrade to roll back a hot journal fails leaves "
                    + "a PENDING lock recorded, so another connection of the same process takes the journal of a "
                    + "transaction whose rollback failed for a live writer's and keeps the half-rolled-back file "
                    + "(SQLite's test/pendingrace.test, fixed in its tree on 2023-01-31; 3.44.0 has the fix)",
                fixedIn: "3.44.0", reproduction: "bench/delete-ioerr-threads-bug"),
            since: Version(3, 7, 0),
            applies: { !$0.wal && $0.threads > 1 && $0.failsCleanly }),
        Rule(
            bug: KnownSQLiteBug(
                name: "drop-column-failed-read",
                summary: "an ALTER TABLE … DROP COLUMN during which a read of the database fails returns SQLITE_OK with "
                    + "its transaction rolled back, yet its rewritten rows reach the file while the indexes keep the "
                    + "column (seen in 3.40.1, 3.50.4 and 3.53.4; not reported to SQLite yet)",
                fixedIn: nil, reproduction: "bench/drop-column-ioerr-bug"),
            since: Version(3, 35, 0),
            applies: { $0.schemaChanges && $0.faults.faults.contains { $0.kind == .ioError } }),
    ]

    /// An SQLite release number, compared part by part.
    struct Version: Comparable, Sendable {
        /// Major, minor, patch and a fourth part (0 where the number has none).
        let parts: [Int]

        init(_ major: Int, _ minor: Int, _ patch: Int) { parts = [major, minor, patch, 0] }

        /// "3.50.4" (or "3.50", or "3.50.4.1"); nil for anything else.
        init?(_ text: String) {
            let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
            let numbers = pieces.compactMap { $0.allSatisfy { "0"..."9" ~= $0 } ? Int($0) : nil }
            guard (2...4).contains(pieces.count), numbers.count == pieces.count else { return nil }
            parts = numbers + Array(repeating: 0, count: 4 - numbers.count)
        }

        static func < (a: Version, b: Version) -> Bool { a.parts.lexicographicallyPrecedes(b.parts) }
    }
}

extension KnownSQLiteBug: CustomStringConvertible {
    /// The line a failed run prints for it.
    public var description: String { line(lead: "known SQLite bug this run could have met") }

    /// Its name and fix, for the SDK's details: `wal-rollback-to-checksums (fixed in 3.50.2)`.
    public var tag: String { name + (fixedIn.map { " (fixed in \($0))" } ?? " (not fixed)") }

    /// The line a failed `check` prints for it (`Run.killedWriters`).
    public var checkLine: String { line(lead: "known SQLite bug this database's writers could have met if one was killed") }

    private func line(lead: String) -> String {
        "\(lead): \(name) — \(summary); "
            + (fixedIn.map { "fixed in \($0), so a run on a release with the fix tells (--sqlite)" } ?? "not fixed in any release")
            + "; shown without sqlite-stress by \(reproduction)"
    }
}
