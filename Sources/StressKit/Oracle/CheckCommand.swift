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
        public var seed: UInt64
        /// The seed that created the database, when it recorded one.
        public var creationSeed: String?
        /// Nil when the snapshot could not be taken (anytime mode, busy).
        public var report: CheckReport?
        public var skipped: String?

        public var passed: Bool { report?.passed ?? true }

        public var reproduce: String {
            "sqlite-stress \(mode.rawValue) --db \(DatabaseFile.shellQuote(databasePath)) --seed \(Seed.format(seed))"
        }

        public var text: String {
            var lines = ["sqlite-stress \(mode.rawValue): \(databasePath), seed \(Seed.format(seed))"
                + (creationSeed.map { " (database created by seed \($0))" } ?? "")]
            guard let report else {
                lines.append("result: NO VERDICT — \(skipped ?? "skipped")")
                return lines.joined(separator: "\n")
            }
            lines.append(report.table)
            for result in report.results {
                for violation in result.violations { lines.append(violation.description) }
                if result.moreViolations > 0 {
                    lines.append("… and \(result.moreViolations) more \(result.property.rawValue) " + (result.moreViolations == 1 ? "violation" : "violations"))
                }
            }
            if report.passed {
                lines.append("result: PASS — every property held")
            } else {
                let failed = report.results.filter { $0.status == .fail }.map(\.property.rawValue)
                lines.append("result: FAIL — \(failed.joined(separator: ", ")) violated")
                lines.append("reproduce: \(reproduce)")
            }
            return lines.joined(separator: "\n")
        }

        public func json() -> String {
            struct Document: Encodable {
                let command: String
                let result: String
                let database: String
                let seed: String
                let creationSeed: String?
                let reproduce: String
                let skipped: String?
                let properties: [PropertyResult]
            }
            let document = Document(
                command: mode.rawValue, result: report == nil ? "skipped" : (passed ? "pass" : "fail"),
                database: databasePath, seed: Seed.format(seed), creationSeed: creationSeed, reproduce: reproduce,
                skipped: skipped, properties: report?.results ?? [])
            return prettyJSON(document)
        }
    }

    /// Opens a database this tool initialised, or says in one sentence why not.
    /// Reads only the file header before deciding, so a wrong file is never touched.
    public static func openInitialised(_ path: String, busyTimeout: Int) throws(ToolError) -> Connection {
        let kind = DatabaseFile.kind(at: path)
        switch kind {
        case .missing: throw ToolError("\(path) does not exist; run `sqlite-stress stress` (or `sqlite-stress schema`) first.")
        case .directory: throw ToolError("\(path) is a directory, not a database file.")
        case .notSQLite: throw ToolError("\(path) is not an SQLite database.")
        case .sqlite(let id) where id != DatabaseFile.applicationID:
            throw ToolError("\(path) was not initialised by sqlite-stress; run `sqlite-stress stress` (or `sqlite-stress schema`) first.")
        case .sqlite, .damaged: break
        }
        let connection: Connection
        do {
            // One thread per connection (the checker's second connection is opened on its own thread).
            connection = try Connection(path: path, flags: [.readWrite, .noMutex])
        } catch {
            throw ToolError("cannot open \(path): \(error).")
        }
        connection.setBusyTimeout(milliseconds: busyTimeout)
        do {
            // The first read also recovers from a hot journal or a WAL.
            let bookkeeping = try connection.scalar(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN (?, ?, ?)",
                [.text(Bookkeeping.meta), .text(Bookkeeping.ledger), .text(Bookkeeping.accounts)])
            guard bookkeeping == .integer(3) else {
                throw ToolError("\(path) has no sqlite-stress bookkeeping; run `sqlite-stress stress` (or `sqlite-stress schema`) first.")
            }
        } catch let error as ToolError {
            connection.close()
            throw error
        } catch let error as SQLiteError where error.isBusy {
            connection.close()
            throw ToolError("cannot read \(path): \(error).", isBusy: true)
        } catch let error as SQLiteError where error.isCorruption {
            // Ours (its header or its acknowledgement log says so) and damaged
            // past recovery: the oracle reports that as an `integrity` violation.
            return connection
        } catch {
            connection.close()
            throw ToolError("cannot read \(path): \(error).")
        }
        return connection
    }

    /// Runs every property on the database at `path`. With `wait` > 0 (an
    /// `eventually_` check after drivers were killed), a database that is locked
    /// or missing its bookkeeping is retried until `wait` seconds have passed.
    public static func run(
        mode: Mode, databasePath path: String, seed: UInt64, busyTimeout: Int, wait: Double = 0
    ) throws(ToolError) -> Outcome {
        guard wait > 0 else { return try runOnce(mode: mode, databasePath: path, seed: seed, busyTimeout: busyTimeout) }
        let deadline = Date().addingTimeInterval(wait)
        while true {
            do {
                let outcome = try runOnce(mode: .final, databasePath: path, seed: seed, busyTimeout: busyTimeout)
                StressAssertions.reporter.record(StressAssertions.reachableAgain, true)
                return outcome
            } catch {
                guard Date() < deadline else {
                    StressAssertions.reporter.record(
                        StressAssertions.reachableAgain, false, details: .details(["error": error.message, "waited": "\(wait) s"]))
                    throw ToolError("\(error.message.dropLast()) (after retrying for \(Int(wait)) s).")
                }
                usleep(250_000)
            }
        }
    }

    static func runOnce(mode: Mode, databasePath path: String, seed: UInt64, busyTimeout: Int) throws(ToolError) -> Outcome {
        let connection = try openInitialised(path, busyTimeout: busyTimeout)
        defer { connection.close() }
        var outcome = Outcome(mode: mode, databasePath: path, seed: seed)
        if case .text(let creation)? = try? connection.scalar("SELECT value FROM \(Bookkeeping.meta) WHERE key = 'seed'") {
            outcome.creationSeed = creation
        }
        let acks = AckLog.path(for: path)
        let checker = Checker(connection: connection, who: mode.rawValue)
        checker.parallel = true
        do {
            var report = try checker.run(
                acknowledgements: FileManager.default.fileExists(atPath: acks) ? acks : nil, seed: seed)
            // A lost transaction is shown where it committed, when the SQL log is beside the database.
            for index in report.results.indices { SQLLog.placeCommits(of: &report.results[index].violations, in: path + ".sql") }
            StressAssertions.record(report)
            outcome.report = report
        } catch let error as SQLiteError where error.isBusy {
            guard mode == .anytime else {
                throw ToolError("\(path) stayed locked for \(busyTimeout) ms; `check` needs a quiescent database.")
            }
            outcome.skipped = "the database stayed locked for \(busyTimeout) ms (\(error.code.name))"
        } catch {
            throw ToolError("cannot check \(path): \(error).")
        }
        return outcome
    }
}
