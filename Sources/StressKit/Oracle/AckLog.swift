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
import Synchronization
import StressAntithesis

/// The acknowledgement log beside a database: after COMMIT returns OK, the
/// writer appends the transaction id here (one line, one `write(2)`, then
/// `fdatasync`). Append-only and shared: many processes may append at once.
/// The `durability` property is that every committed id here is in the ledger.
///
/// ## When a record is not synced
///
/// A record is synced only where SQLite promises that the commit it records
/// survives a power loss (`DatabaseConfig.commitsSurvivePowerLoss`): not with
/// `synchronous=OFF`, nor with NORMAL in WAL mode. There a power loss (or OS
/// crash) may take the last records away — and SQLite may take the commits they
/// record away too, so no check could hold those commits to them anyway. Killed
/// processes lose nothing either way: a record is in the kernel once `write(2)`
/// returns, and so is a commit SQLite has made. What is given up: a record
/// written just before a power loss under those settings may vanish, where it
/// would have survived (pointlessly) synced. What is gained: one `fdatasync` per
/// transaction, which under those settings is the only sync of a whole run and
/// its largest cost (BENCHMARKS.md, harness overhead).
///
/// Transactions that ended in ROLLBACK are recorded too: none of their ids may
/// ever appear in the ledger (`rollback`). A simulated power loss leaves a
/// marker (`p 1` when SQLite's synchronous level lets it lose the commits
/// acknowledged before it, `p 0` when every one must survive). Each record carries its id twice,
/// the second time bit-inverted, so a line torn by a failed write can never be
/// read as some other id.
///
/// ## Evidence, not decoration
///
/// Every writer creates the log (with its header line) before its first
/// transaction, so a database whose ledger holds a committed transaction has
/// a log: one that is missing, empty, not ours or unreadable is never read as
/// "nothing acknowledged" (`forEach` throws). A record that cannot be written
/// or synced (a full disk) is counted in `losses`, warned about on stderr once,
/// and named in the report as evidence the checks lack; the next record starts
/// on a fresh line, so a torn record cannot swallow it.
public final class AckLog: Sendable {
    /// The first line of every acknowledgement log.
    public static let header = "# sqlite-stress acknowledgements"

    /// What a record says about its transaction.
    public enum Outcome: String, Sendable, CaseIterable {
        case committed = "c"
        case rolledBack = "r"
        /// A power loss struck here; the id is 1 if earlier commits may be lost, else 0.
        case powerLoss = "p"
    }

    /// Records this process could not write, or could not sync: evidence the
    /// oracle will not have. Empty when every record is in place.
    public struct Losses: Sendable, Equatable {
        /// Records that did not reach the file, by outcome.
        public var unwritten: [Outcome: Int] = [:]
        /// `fdatasync` calls that failed: the records before them may not survive a power loss.
        public var unsynced = 0
        /// The first error, as the system described it.
        public var error: String?

        public var isEmpty: Bool { unwritten.isEmpty && unsynced == 0 }
    }

    private struct State {
        var fd: Int32
        /// The last write failed, possibly half way: the next record starts on a
        /// fresh line, so that the fragment cannot swallow it.
        var mayEndMidLine = false
        var losses = Losses()
    }

    private let state: Mutex<State>
    public let path: String
    /// Whether each record is flushed to stable storage before `append` returns.
    public let syncs: Bool

    /// The log for the database at `databasePath`.
    public static func path(for databasePath: String) -> String { databasePath + ".acks" }

    /// Opens (creating if needed) the log for appending; with `syncs`, every
    /// record is on stable storage before it counts (see "When a record is not synced").
    ///
    /// The process holds a shared `flock` on the log while it is open, so that
    /// `DatabaseFile.openingProcess(of:)` can tell that a process of this tool is writing the database.
    public init(path: String, syncs: Bool = true) throws(ToolError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ToolError("cannot open the acknowledgement log \(path): \(String(cString: strerror(errno))).")
        }
        while flock(fd, LOCK_SH) != 0 && errno == EINTR {}
        self.path = path
        self.syncs = syncs
        state = Mutex(State(fd: fd))
        var size = stat()
        if fstat(fd, &size) == 0, size.st_size == 0 { append(Self.header, nil) }
    }

    deinit { state.withLock { if $0.fd >= 0 { _ = close($0.fd) } } }

    /// Records that `tx` committed. Durable when this returns (as far as `syncs` says).
    public func acknowledge(_ tx: Int64) { record(.committed, tx) }

    /// Records that `tx` was rolled back (ROLLBACK returned OK, or SQLite rolled it back).
    public func rolledBack(_ tx: Int64) { record(.rolledBack, tx) }

    /// Records that a simulated power loss struck after every record so far.
    /// `relaxed`: the synchronous level lets SQLite lose commits acknowledged before it.
    public func powerLoss(relaxed: Bool) { record(.powerLoss, relaxed ? 1 : 0) }

    /// What this process could not write or sync so far.
    public var losses: Losses { state.withLock { $0.losses } }

    private func record(_ outcome: Outcome, _ tx: Int64) { append("\(outcome.rawValue) \(tx) \(~tx)", outcome) }

    /// Parses one record line; nil for the header, blank or torn lines. A record
    /// glued to the fragment of a torn one (a write cut short, then the next
    /// record appended after it) is still read: a whole record ends such a line,
    /// and the bit-inverted check keeps any other split from reading as one.
    static func parse(_ line: Substring) -> (Outcome, Int64)? {
        if let record = parseWhole(line) { return record }
        var rest = line.dropFirst()
        while let letter = rest.firstIndex(where: { Outcome(rawValue: String($0)) != nil }) {
            if let record = parseWhole(line[letter...]) { return record }
            rest = line[line.index(after: letter)...]
        }
        return nil
    }

    private static func parseWhole(_ line: Substring) -> (Outcome, Int64)? {
        let fields = line.split(separator: " ")
        guard fields.count == 3, let outcome = Outcome(rawValue: String(fields[0])),
              let id = Int64(fields[1]), let check = Int64(fields[2]), check == ~id else { return nil }
        return (outcome, id)
    }

    private func append(_ line: String, _ outcome: Outcome?) {
        state.withLock { state in
            var text = state.mayEndMidLine ? "\n" + line + "\n" : line + "\n"
            guard writeAll(state.fd, &text) else {
                let code = errno
                // Never acknowledged, so never held against the database; but the
                // evidence is thinner, and the report says so.
                state.mayEndMidLine = true
                if let outcome { state.losses.unwritten[outcome, default: 0] += 1 }
                noteFirstError(&state.losses, "cannot write the acknowledgement log", code)
                return
            }
            state.mayEndMidLine = false
            if syncs, fdatasync(state.fd) != 0 {
                state.losses.unsynced += 1
                noteFirstError(&state.losses, "cannot sync the acknowledgement log", errno)
            }
        }
    }

    private func noteFirstError(_ losses: inout Losses, _ what: String, _ code: Int32) {
        guard losses.error == nil else { return }
        let reason = String(cString: strerror(code))
        losses.error = reason
        writeStandard("sqlite-stress: warning: \(what) \(path): \(reason); the checks will say what they could not verify.\n", toError: true)
    }

    /// Calls `body` with every record in the log at `path`, streaming.
    /// A torn line (a writer killed or refused mid-append) is skipped: it was never acknowledged.
    ///
    /// Throws `ToolError` when the log cannot serve as evidence: it is missing,
    /// not a regular file, does not start with `header` (empty, or something
    /// else), or cannot be read to its end. Errors `body` throws pass through.
    /// With `limit`, only the log's first `limit` bytes are read (a record cut
    /// there is torn, and skipped): the log as long as it was at some moment.
    public static func forEach(at path: String, limit: Int? = nil, _ body: (Outcome, Int64) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "is missing" : "cannot be opened (\(String(cString: strerror(errno))))"
            throw ToolError("the acknowledgement log \(path) \(reason).")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ToolError("the acknowledgement log \(path) is not a regular file.")
        }
        let notOurs = ToolError(
            "\(path) is not an acknowledgement log sqlite-stress wrote (it does not start with the header line).")
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var lines = 0
        var remaining = limit ?? Int.max
        while remaining > 0 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, remaining)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw ToolError("the acknowledgement log \(path) cannot be read (\(String(cString: strerror(errno)))).")
            }
            guard n > 0 else { break }
            remaining -= n
            pending += chunk[..<n]
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { start = newline + 1 }
                lines += 1
                if lines == 1 {
                    guard pending[start..<newline].elementsEqual(header.utf8) else { throw notOurs }
                    continue
                }
                let line = String(decoding: pending[start..<newline], as: UTF8.self)
                if let (outcome, id) = parse(line[...]) { try body(outcome, id) }
            }
            pending.removeFirst(start)
            if lines == 0 && pending.count > header.utf8.count { throw notOurs }
        }
        if lines == 0 { throw notOurs }  // Empty, or not even the header line.
    }
}
