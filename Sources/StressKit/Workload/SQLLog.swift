#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import StressAntithesis

/// The SQL log: every executed statement, one per line, with the thread,
/// transaction and result in a trailing comment, e.g.
///
///     INSERT INTO "t0" ("c0") VALUES (1); -- t2 x17 ok changes=1
///
/// The `sqlite3` shell replays it as it is (comments are ignored, failing
/// statements are reported and skipped).
///
/// Lines reach the kernel whole, several to a `write(2)`: a line appended with
/// `flush: false` waits in a buffer until the next flush. The worker appends
/// that way only inside a transaction, and flushes before any statement that
/// may make effects durable (one run in autocommit mode, COMMIT, RELEASE) and
/// right after one that left no transaction open. So a killed run leaves a
/// complete log up to the last statement whose effect could be durable: what a
/// kill can take from the buffer is the uncommitted part of an open
/// transaction, which SQLite takes away too.
///
/// A write that fails (a full disk) does not stop the run, but it is never
/// silent: the lost lines are counted in `losses`, a warning goes to stderr
/// once, the report names what a replay of the log would lack, and the next
/// write starts on a fresh line.
public final class SQLLog: Sendable {
    /// The first characters of every log this tool writes.
    public static let headerPrefix = "-- sqlite-stress "
    /// The header line naming the storage faults a run injected.
    public static let faultsPrefix = "-- faults: "

    /// What happened to a writer's connection or transaction outside its
    /// statements, logged as `-- <writer> <transaction> <event>` so that
    /// `replay` can follow it.
    public enum Event: String, Sendable {
        /// The connection was closed and a new one opened.
        case reconnect
        /// The writer closed its connection at the end of its work.
        case disconnect
        /// The connection was dropped after a failed ROLLBACK (SQLite finishes the rollback).
        case abandoned = "connection abandoned after a failed ROLLBACK"
        /// SQLite ended the transaction on its own after an error.
        case rolledBackBySQLite = "rolled back by SQLite"
    }

    private struct State {
        var fd: Int32
        var lines = 0
        var pending = ""
        /// The last write failed, perhaps half way: the next starts on a fresh line.
        var mayEndMidLine = false
        /// Lines cut short by a failed write that a later write ended: in the
        /// file as lines, though not whole ones (counted in `unwrittenLines` too).
        var fragmentsEnded = 0
        var losses = Losses()
    }

    /// Lines this process could not write, and whether the log could not be
    /// synced: what a replay of the log will lack. Empty when the log is whole.
    public struct Losses: Sendable, Equatable {
        public var unwrittenLines = 0
        public var unsynced = false
        /// The first error, as the system described it.
        public var error: String?

        public var isEmpty: Bool { unwrittenLines == 0 && !unsynced }
    }

    /// A buffer this long is written out even inside a transaction (memory stays flat).
    private static let bufferLimit = 1 << 16
    private let state: Mutex<State>
    public let path: String

    /// Creates (or truncates) the log at `path`; with `append`, adds to it, as the
    /// many processes of a composed run do (each line is one `write(2)` with O_APPEND).
    public init(path: String, append: Bool = false) throws(ToolError) {
        let fd = open(path, O_WRONLY | O_CREAT | (append ? 0 : O_TRUNC) | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ToolError("cannot create the SQL log at \(path): \(String(cString: strerror(errno))).")
        }
        self.path = path
        state = Mutex(State(fd: fd))
    }

    deinit {
        state.withLock { state in
            writePending(&state)
            if state.fd >= 0 { _ = Glibc.close(state.fd) }
        }
    }

    /// Appends one line (a newline is added) and returns its 1-based line number.
    /// With `flush` false the line may wait in the buffer until the next flush.
    @discardableResult
    public func append(_ line: String, flush: Bool = true) -> Int {
        state.withLock { state in
            guard state.fd >= 0 else { return state.lines }
            state.pending += line
            state.pending.append("\n")
            state.lines += 1
            if flush || state.pending.utf8.count >= Self.bufferLimit { writePending(&state) }
            return state.lines
        }
    }

    /// Writes out the buffered lines, in one `write(2)`.
    public func flush() {
        state.withLock { writePending(&$0) }
    }

    private func writePending(_ state: inout State) {
        guard state.fd >= 0, !state.pending.isEmpty else { return }
        let ending = state.mayEndMidLine  // A newline that ends a fragment is not a line of its own.
        if ending { state.pending = "\n" + state.pending }
        // Disk full or similar: the run goes on, and its report says what the log lacks.
        var written = 0
        state.mayEndMidLine = !writeAll(state.fd, &state.pending, written: &written)
        if ending && written > 0 { state.fragmentsEnded += 1 }
        if state.mayEndMidLine {
            let code = errno
            // Every line not ended in the file is lost (a line cut short included).
            let unended = state.pending.utf8.dropFirst(written).count { $0 == UInt8(ascii: "\n") }
            state.losses.unwrittenLines += unended - (ending && written == 0 ? 1 : 0)
            noteFirstError(&state.losses, "cannot write the SQL log", code)
        }
        state.pending.removeAll(keepingCapacity: true)
    }

    private func noteFirstError(_ losses: inout Losses, _ what: String, _ code: Int32) {
        guard losses.error == nil else { return }
        let reason = String(cString: strerror(code))
        losses.error = reason
        writeStandard("sqlite-stress: warning: \(what) \(path): \(reason); the report will say what the log lacks.\n", toError: true)
    }

    /// The number of lines this process appended so far (the line numbers it hands out).
    public var lineCount: Int { state.withLock { $0.lines } }

    /// The number of lines the file holds: those that reached it whole, and any
    /// fragment of a line cut short that a later write ended (what `wc -l` counts).
    public var writtenLines: Int { state.withLock { $0.lines - $0.losses.unwrittenLines + $0.fragmentsEnded } }

    /// What this process could not write or sync so far.
    public var losses: Losses { state.withLock { $0.losses } }

    /// Closes the file; with `sync`, first flushes it to stable storage.
    public func close(sync: Bool = true) {
        state.withLock { state in
            guard state.fd >= 0 else { return }
            writePending(&state)
            if sync, fsync(state.fd) != 0 {
                state.losses.unsynced = true
                noteFirstError(&state.losses, "cannot sync the SQL log", errno)
            }
            _ = Glibc.close(state.fd)
            state.fd = -1
        }
    }
}

extension SQLLog {
    /// Points each `durability` violation at the line of the SQL log at `path`
    /// where its transaction committed (its COMMIT, or its one autocommit
    /// statement) and at the writer that committed it, instead of where the
    /// check saw it missing (kept in the details). Reads the log only when there
    /// is such a violation; a log that cannot be read leaves them as they are.
    public static func placeCommits(of violations: inout [Violation], in path: String) {
        var wanted: [String: String] = [:]  // "t0 x425" → "t0x425"
        for violation in violations where violation.property == .durability {
            guard let id = violation.details["transaction"], let x = id.lastIndex(of: "x") else { continue }
            wanted[id[..<x] + " " + id[x...]] = id
        }
        guard !wanted.isEmpty, let reader = try? LogReader(path: path) else { return }
        var found: [String: (writer: String, line: Int)] = [:]
        var number = 0
        while let line = try? reader.next() {
            number += 1
            guard let entry = Replay.parse(line, number: number), case .statement(_, let result) = entry.action,
                  result.hasPrefix("ok"), let id = wanted[entry.writer + " " + entry.transaction] else { continue }
            found[id] = (entry.writer, number)  // The last statement that succeeded: its COMMIT.
        }
        for index in violations.indices {
            guard let id = violations[index].details["transaction"], let commit = found[id] else { continue }
            if violations[index].details["seen"] == nil {
                violations[index].details["seen"] = "by \(violations[index].thread)"
                    + (violations[index].logLine > 0 ? " at SQL log line \(violations[index].logLine)" : "")
            }
            violations[index].thread = commit.writer
            violations[index].logLine = commit.line
        }
    }
}
