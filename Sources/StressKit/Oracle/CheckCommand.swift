#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite

/// `check` and `integrity`: open a database made by this tool and run every property.
public enum CheckCommand {
    public enum Mode: String, Sendable {
        /// `check`: the full reconciliation of a quiescent database. A database that
        /// stays locked past the busy timeout is an environment error.
        case final = "check"
        /// `integrity`: one snapshot while writers go on. A database that stays locked
        /// past the busy timeout is no verdict and no violation.
        case anytime = "integrity"
    }

    /// The outcome of one check command.
    public struct Outcome: Sendable {
        public var mode: Mode
        public var databasePath: String
        /// The seed of the random predicates, or Antithesis's randomness.
        public var randomness: Randomness
        /// The seed that created the database (`antithesis` when Antithesis made
        /// every choice), when it recorded one.
        public var creationSeed: String?
        /// Nil when the snapshot could not be taken (anytime mode, busy).
        public var report: CheckReport?
        public var skipped: String?
        /// The SDK output's first failure to take a message, set as the result is
        /// printed: its JSON then says it, and a "pass" is "error" (exit status 2).
        public var sdkOutputFailure: String?
        /// With violations: the known SQLite bugs the database's writers could
        /// have met on the SQLite this check runs, had one been killed
        /// (`KnownSQLiteBug.Run.killedWriters`); empty for a check that passed.
        public var knownSQLiteBugs: [KnownSQLiteBug] = []

        public var passed: Bool { report?.passed ?? true }

        /// The command that repeats this check; nil without a seed.
        public var reproduce: String? {
            randomness.seed.map {
                (["sqlite-stress", mode.rawValue, "--db", databasePath, "--seed", Seed.format($0)] + SQLiteChoice.reproduceArguments)
                    .map(DatabaseFile.shellQuote).joined(separator: " ")
            }
        }

        public var text: String {
            let creation = creationSeed.map {
                $0 == Randomness.antithesisKind
                    ? " (database created with randomness from Antithesis)" : " (database created by seed \($0))"
            }
            var lines = ["sqlite-stress \(mode.rawValue): \(databasePath), \(randomness.description)" + (creation ?? ""),
                         SQLiteChoice.line]
            guard let report else {
                lines.append("result: NO VERDICT — \(skipped ?? "skipped")")
                return lines.joined(separator: "\n")
            }
            lines.append(report.table)
            for result in report.results {
                for violation in result.violations { lines.append(violation.description) }
                if result.moreViolations > 0 {
                    lines.append("… and " + Format.count(result.moreViolations, "more \(result.property.rawValue) violation"))
                }
            }
            lines += knownSQLiteBugs.map(\.checkLine)
            if report.passed {
                lines.append(passLine(report.passVerdict(), sdkOutputFailure: sdkOutputFailure))
            } else {
                let failed = report.results.filter { $0.status == .fail }.map(\.property.rawValue)
                lines.append("result: FAIL — \(failed.joined(separator: ", ")) violated")
                lines.append("reproduce: " + (reproduce ?? Randomness.notReproducible))
            }
            return lines.joined(separator: "\n")
        }

        public func json() -> String {
            struct Document: Encodable {
                let command: String
                let result: String
                let database: String
                let randomness: String
                let seed: String?
                let creationSeed: String?
                let reproduce: String?
                let skipped: String?
                let properties: [PropertyResult]
                let sqlite: SQLiteLibrary
                let knownSQLiteBugs: [KnownSQLiteBug]
                let sdkOutputFailure: String?
            }
            let document = Document(
                command: mode.rawValue,
                result: resultWord(report == nil ? "skipped" : (passed ? "pass" : "fail"), sdkOutputFailure: sdkOutputFailure),
                database: databasePath, randomness: randomness.kind, seed: randomness.seed.map(Seed.format),
                creationSeed: creationSeed, reproduce: reproduce,
                skipped: skipped, properties: report?.results ?? [], sqlite: SQLiteChoice.library,
                knownSQLiteBugs: knownSQLiteBugs, sdkOutputFailure: sdkOutputFailure)
            return prettyJSON(document)
        }
    }

    /// Opens a database this tool initialised, or says in one sentence why not.
    /// Reads only the file header before deciding, so a wrong file is never touched.
    /// With `keepingWAL`, closing the connection leaves a WAL that holds frames
    /// as it was (`Connection.keepWALOnClose`), on every path, refusals
    /// included; an empty one SQLite removes as usual.
    public static func openInitialised(_ path: String, busyTimeout: Int, keepingWAL: Bool = false) throws(ToolError) -> Connection {
        let kind = DatabaseFile.kind(at: path)
        switch kind {
        case .missing: throw ToolError("\(path) does not exist; run `sqlite-stress stress` (or `sqlite-stress schema`) first.")
        case .directory: throw ToolError("\(path) is a directory, not a database file.")
        case .notSQLite: throw ToolError("\(path) is not an SQLite database.")
        case .sqlite(let id) where id != DatabaseFile.applicationID && !DatabaseFile.hasAckLog(path):
            // Without the run's acknowledgement log beside it, someone else's database; with it, ours
            // with a damaged header, which the oracle reports (`Checker.lostIdentity`).
            throw ToolError("\(path) was not initialised by sqlite-stress; run `sqlite-stress stress` (or `sqlite-stress schema`) first.")
        case .sqlite, .damaged: break
        }
        if let odd = DatabaseFile.irregularSidecar(of: path) { throw ToolError("\(odd); remove it.") }
        let connection: Connection
        do {
            // One thread per connection (the checker's second connection is opened on its own thread).
            connection = try Connection(path: path, flags: [.readWrite])
        } catch {
            throw ToolError("cannot open \(path): \(error).")
        }
        connection.setBusyTimeout(milliseconds: busyTimeout)
        if keepingWAL, DatabaseFile.size(of: path + "-wal") > 0 { connection.keepWALOnClose() }
        do {
            // The first read also recovers from a hot journal or a WAL.
            guard try Bookkeeping.missingTables(in: connection).isEmpty else {
                // With the run's acknowledgement log beside it, tables gone is damage the oracle reports.
                if DatabaseFile.hasAckLog(path) { return connection }
                throw ToolError("\(path) has no sqlite-stress bookkeeping; run `sqlite-stress stress` (or `sqlite-stress schema`) first.")
            }
            var recorded: (format: Int64?, sqlite: String?) = (nil, nil)
            for row in try connection.query("SELECT key, value FROM \(Bookkeeping.meta) WHERE key IN ('format', 'sqlite_version')") {
                switch (row[0], row[1]) {
                case (.text("format"), .integer(let format)): recorded.format = format
                case (.text("sqlite_version"), .text(let version)): recorded.sqlite = version
                default: break
                }
            }
            // A format that is not there or not a number is left to the properties, as any damage is.
            if let format = recorded.format, format != Bookkeeping.format {
                throw ToolError("\(path) was made by \(format < Bookkeeping.format ? "an older" : "a newer") sqlite-stress "
                    + "(bookkeeping format \(format); this release reads format \(Bookkeeping.format)); use the release that made it.")
            }
            // Row images hold reals as that SQLite's printf wrote them; another family's printf would
            // write some of the same reals otherwise, and every such row would look changed.
            let loaded = SQLiteChoice.library.version
            let current = Real17.family(ofVersion: loaded)
            if let made = recorded.sqlite, let family = Real17.family(ofVersion: made), family != current {
                throw ToolError("\(path) was made with SQLite \(made), whose printf writes some reals in the ledger's row images "
                    + "otherwise than SQLite \(loaded)'s (\(family.rawValue) against \(current?.rawValue ?? "unknown")); "
                    + "check and drive it with a SQLite of its family (--sqlite).")
            }
        } catch let error as ToolError {
            connection.close()
            throw error
        } catch let error as SQLiteError where error.isBusy {
            connection.close()
            throw locked(path, busyTimeout: busyTimeout, error)
        } catch let error as SQLiteError where error.isCorruption {
            // Ours (its header or its acknowledgement log says so) and damaged
            // past recovery: the oracle reports that as an `integrity` violation.
            return connection
        } catch {
            connection.close()
            throw unreadable(path, error)
        }
        return connection
    }

    /// Why the database at `path` could not be read, in one sentence. SQLite's
    /// rule for a WAL database: whoever reads it creates the WAL and its index
    /// beside it when they are not there, so it cannot be read where that fails
    /// (read-only media, a directory it may not write), which SQLITE_CANTOPEN alone does not say.
    private static func unreadable(_ path: String, _ error: any Error) -> ToolError {
        if let error = error as? SQLiteError, error.code.primary == .cantOpen, DatabaseFile.walInHeader(of: path) == true {
            let missing = [path + "-wal", path + "-shm"].filter { !DatabaseFile.exists($0) }
            if !missing.isEmpty {
                return ToolError("cannot read \(path): it is a WAL database, and SQLite could not create \(missing.joined(separator: " and ")) "
                    + "beside it (\(error.code.name)), which it needs to read one; copy it to a directory SQLite can write to.")
            }
        }
        return ToolError("cannot read \(path): \(error).")
    }

    /// Runs every property on the database at `path`. With `wait` > 0 (an
    /// `eventually_` or `finally_` check after the workload stopped), a database
    /// that is locked, missing or missing its bookkeeping is retried until `wait`
    /// seconds have passed; then `integrity` gives no verdict on a database still
    /// locked, as it does without `--wait`, and everything else is an error.
    public static func run(
        mode: Mode, databasePath path: String, randomness: Randomness, busyTimeout: Int, wait: Double = 0
    ) throws(ToolError) -> Outcome {
        guard wait > 0 else { return try runOnce(mode: mode, databasePath: path, randomness: randomness, busyTimeout: busyTimeout) }
        let deadline = Date().addingTimeInterval(wait)
        while true {
            do {
                let outcome = try runOnce(
                    mode: mode, databasePath: path, randomness: randomness, busyTimeout: busyTimeout, retrying: true)
                if mode == .final { StressAssertions.opensAfterWait(true) }
                return outcome
            } catch {
                guard Date() < deadline else {
                    if mode == .anytime && error.isBusy {
                        return locked(path, randomness: randomness, busyTimeout: busyTimeout, waited: wait)
                    }
                    if mode == .final {
                        StressAssertions.opensAfterWait(false, details: ["error": error.message, "waited": "\(Format.number(wait)) s"])
                    }
                    throw ToolError(
                        error.isBusy
                            ? "\(path) stayed locked at every try for \(Format.number(wait)) s: another connection holds it."
                            : "\(error.message.dropLast()) (after retrying for \(Format.number(wait)) s).",
                        isBusy: error.isBusy)
                }
                usleep(250_000)
            }
        }
    }

    /// A database that stayed locked past the busy timeout, for a check that needs it: what to do.
    private static func locked(_ path: String, busyTimeout: Int, _ error: SQLiteError) -> ToolError {
        ToolError(
            "\(path) stayed locked for \(busyTimeout) ms: another connection holds it (\(error.code.name)); "
                + "stop its writers, or give a longer --busy-timeout or --wait S to retry.", isBusy: true)
    }

    /// `integrity`'s answer for a database that stayed locked: no verdict, and no violation.
    private static func locked(_ path: String, randomness: Randomness, busyTimeout: Int, waited: Double = 0) -> Outcome {
        var outcome = Outcome(mode: .anytime, databasePath: path, randomness: randomness)
        outcome.skipped = "the database stayed locked for \(busyTimeout) ms"
            + (waited > 0 ? " at every try for \(Format.number(waited)) s" : "")
        return outcome
    }

    /// One check. `retrying`: a locked database is an error to retry, even for `integrity`.
    static func runOnce(
        mode: Mode, databasePath path: String, randomness: Randomness, busyTimeout: Int, retrying: Bool = false
    ) throws(ToolError) -> Outcome {
        let connection: Connection
        do {
            // The files stay as the check found them: a WAL a crash left is evidence
            // that a second check (its reproduce line) must find again.
            connection = try openInitialised(path, busyTimeout: busyTimeout, keepingWAL: true)
        } catch let error where error.isBusy && mode == .anytime && !retrying {
            return locked(path, randomness: randomness, busyTimeout: busyTimeout)
        }
        defer { connection.close() }
        var outcome = Outcome(mode: mode, databasePath: path, randomness: randomness)
        let checker = Checker(connection: connection, who: mode.rawValue)
        checker.parallel = true
        // The journal mode `schema` recorded: what the known SQLite bugs depend on
        // (when it cannot be read, the header says WAL or a rollback journal).
        var journalMode: JournalMode?
        do {
            for row in try connection.query("SELECT key, value FROM \(Bookkeeping.meta) WHERE key IN ('seed', 'journal_mode')") {
                guard case .text(let key) = row[0], case .text(let value) = row[1] else { continue }
                if key == "seed" { outcome.creationSeed = value } else { journalMode = JournalMode(rawValue: value) }
            }
        } catch where error.isCorruption {
            // The check below reports the damage as an `integrity` violation.
        } catch where error.isBusy {
            // The check below meets the lock again and says what it means.
        } catch {
            throw ToolError("cannot read \(path): \(error).")
        }
        do {
            // What `openInitialised` let through for the acknowledgement log beside it: a damaged header or bookkeeping.
            var report = try checker.identityReport()
                ?? checker.run(acknowledgements: AckLog.path(for: path), randomness: randomness)
            // A lost transaction is shown where it committed, when the SQL log is beside the database.
            for index in report.results.indices { SQLLog.placeCommits(of: &report.results[index].violations, in: SQLLog.path(for: path)) }
            if !report.passed { outcome.knownSQLiteBugs = KnownSQLiteBug.ofKilledWriters(of: path, recorded: journalMode) }
            StressAssertions.record(report, knownSQLiteBugs: outcome.knownSQLiteBugs)
            outcome.report = report
        } catch let error as SQLiteError where error.isBusy {
            guard mode == .anytime, !retrying else { throw locked(path, busyTimeout: busyTimeout, error) }
            outcome.skipped = "the database stayed locked for \(busyTimeout) ms (\(error.code.name))"
        } catch let error as ToolError {
            throw error
        } catch {
            throw ToolError("cannot check \(path): \(error).")
        }
        return outcome
    }
}
