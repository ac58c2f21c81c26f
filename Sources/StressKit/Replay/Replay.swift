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

/// `sqlite-stress replay`: re-executes an SQL log against a database, each
/// statement on the connection of the writer that logged it (so a
/// multi-threaded run's or several drivers' interleaving replays in the order
/// the statements finished), and stops at the first statement whose result
/// differs from the one recorded.
public enum Replay {
    /// One logged statement: the SQL, the writer, and the recorded result.
    struct Entry {
        var sql: String
        var writer: String
        var result: String
    }

    /// Splits a log line into its statement and trailing comment; nil for
    /// comment-only lines. The comment is the last `; -- ` on the line: the
    /// comment itself never contains one.
    static func parse(_ line: Substring) -> Entry? {
        guard !line.hasPrefix("--"), let marker = line.ranges(of: "; -- ").last else { return nil }
        let sql = String(line[..<marker.lowerBound])
        let comment = line[marker.upperBound...].split(separator: " ", maxSplits: 2)
        guard comment.count == 3 else { return nil }
        return Entry(sql: sql, writer: String(comment[0]), result: String(comment[2]))
    }

    /// A reconnect line (`-- t0 x5 reconnect`) names the writer whose connection reopened.
    static func reconnect(_ line: Substring) -> String? {
        let words = line.split(separator: " ")
        guard words.count == 4, words[0] == "--", words[3] == "reconnect" else { return nil }
        return String(words[1])
    }

    /// The result of one statement, in the log's words.
    static func describe(_ connection: Connection, _ sql: String) -> String {
        do throws(SQLiteError) {
            let statement = try connection.prepare(sql)
            var rows = 0
            while try statement.step() { rows += 1 }
            var text = "ok"
            if Worker.isDML(sql) { text += " changes=\(connection.changes)" }
            if rows > 0 { text += " rows=\(rows)" }
            return text
        } catch {
            return error.code.name
        }
    }

    /// A VACUUM INTO writes its copy beside the replay database, not where the
    /// recorded run wrote it (beside the original, which it must not touch); a
    /// copy left by an earlier statement is removed first. Every other statement is as logged.
    static func redirected(_ sql: String, besides databasePath: String) -> String {
        guard sql.hasPrefix("VACUUM INTO ") else { return sql }
        let copy = databasePath + ".copy"
        for path in [copy] + DatabaseFile.sidecarSuffixes.map({ copy + $0 }) { _ = unlink(path) }
        return "VACUUM INTO \(SQLValue.text(copy).sqlLiteral)"
    }

    /// Results match exactly, except that lock contention is timing: any
    /// SQLITE_BUSY variant matches another, and so does any SQLITE_LOCKED.
    static func same(_ replayed: String, _ recorded: String) -> Bool {
        if replayed == recorded { return true }
        for family in ["SQLITE_BUSY", "SQLITE_LOCKED"] where replayed.hasPrefix(family) && recorded.hasPrefix(family) {
            return true
        }
        return false
    }

    public struct Outcome: Sendable {
        public var statements: Int
        /// The first difference: log line, SQL, recorded and replayed results.
        public var mismatch: (line: Int, sql: String, recorded: String, replayed: String)?

        public var text: String {
            guard let mismatch else { return "replay: \(statements) statements, every result as recorded\n" + SQLiteChoice.line }
            let sql = mismatch.sql.count > 300 ? String(mismatch.sql.prefix(300)) + "…" : mismatch.sql
            return """
                replay: the result differs at log line \(mismatch.line), after \(statements - 1) matching statements
                    statement: \(sql)
                    recorded: \(mismatch.recorded)
                    replayed: \(mismatch.replayed)
                \(SQLiteChoice.line)
                """
        }
    }

    /// Replays the log at `logPath` into `databasePath`, which must not exist
    /// unless `overwrite` is set (and then only a database sqlite-stress made).
    public static func run(logPath: String, databasePath: String, overwrite: Bool) throws(ToolError) -> Outcome {
        guard FileManager.default.fileExists(atPath: logPath) else { throw ToolError("\(logPath) does not exist.") }
        guard DatabaseFile.starts(logPath, with: SQLLog.headerPrefix) else {
            throw ToolError("\(logPath) is not an SQL log written by sqlite-stress.")
        }
        switch DatabaseFile.kind(at: databasePath) {
        case .missing: try DatabaseFile.checkCreatable(databasePath, what: "replay database")
        case .sqlite(DatabaseFile.applicationID) where overwrite, .damaged where overwrite:
            for path in [databasePath] + DatabaseFile.sidecarSuffixes.map({ databasePath + $0 }) {
                try? FileManager.default.removeItem(atPath: path)
            }
        case .sqlite where !overwrite, .damaged:
            throw ToolError("\(databasePath) already exists; pass --overwrite to replace a database sqlite-stress created.")
        default:
            throw ToolError("refusing to overwrite \(databasePath): it was not created by sqlite-stress.")
        }
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else {
            throw ToolError("cannot read \(logPath).")
        }

        var connections: [String: Connection] = [:]
        defer { connections.values.forEach { $0.close() } }
        func connection(_ writer: String) throws(ToolError) -> Connection {
            if let existing = connections[writer] { return existing }
            do {
                // Sequential replay: a lock the original waited out is a difference, not a wait.
                let opened = try Connection(path: databasePath)
                connections[writer] = opened
                return opened
            } catch {
                throw ToolError("cannot open \(databasePath): \(error).")
            }
        }

        var statements = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let writer = reconnect(line) {
                connections.removeValue(forKey: writer)?.close()
                continue
            }
            guard let entry = parse(line) else { continue }
            statements += 1
            let replayed = describe(try connection(entry.writer), redirected(entry.sql, besides: databasePath))
            if !same(replayed, entry.result) {
                return Outcome(statements: statements, mismatch: (index + 1, entry.sql, entry.result, replayed))
            }
        }
        return Outcome(statements: statements, mismatch: nil)
    }
}
