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
public final class AckLog: Sendable {
    /// The first line of every acknowledgement log.
    public static let header = "# sqlite-stress acknowledgements"

    /// What a record says about its transaction.
    public enum Outcome: String, Sendable {
        case committed = "c"
        case rolledBack = "r"
        /// A power loss struck here; the id is 1 if earlier commits may be lost, else 0.
        case powerLoss = "p"
    }

    private let fd: Mutex<Int32>
    public let path: String
    /// Whether each record is flushed to stable storage before `append` returns.
    public let syncs: Bool

    /// The log for the database at `databasePath`.
    public static func path(for databasePath: String) -> String { databasePath + ".acks" }

    /// Opens (creating if needed) the log for appending; with `syncs`, every
    /// record is on stable storage before it counts (see "When a record is not synced").
    public init(path: String, syncs: Bool = true) throws(ToolError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ToolError("cannot open the acknowledgement log \(path): \(String(cString: strerror(errno))).")
        }
        self.path = path
        self.syncs = syncs
        self.fd = Mutex(fd)
        var size = stat()
        if fstat(fd, &size) == 0, size.st_size == 0 { append(Self.header) }
    }

    deinit { fd.withLock { if $0 >= 0 { _ = close($0) } } }

    /// Records that `tx` committed. Durable when this returns (as far as `syncs` says).
    public func acknowledge(_ tx: Int64) { record(.committed, tx) }

    /// Records that `tx` was rolled back (ROLLBACK returned OK, or SQLite rolled it back).
    public func rolledBack(_ tx: Int64) { record(.rolledBack, tx) }

    /// Records that a simulated power loss struck after every record so far.
    /// `relaxed`: the synchronous level lets SQLite lose commits acknowledged before it.
    public func powerLoss(relaxed: Bool) { record(.powerLoss, relaxed ? 1 : 0) }

    private func record(_ outcome: Outcome, _ tx: Int64) { append("\(outcome.rawValue) \(tx) \(~tx)") }

    /// Parses one record line; nil for the header, blank or torn lines.
    static func parse(_ line: Substring) -> (Outcome, Int64)? {
        let fields = line.split(separator: " ")
        guard fields.count == 3, let outcome = Outcome(rawValue: String(fields[0])),
              let id = Int64(fields[1]), let check = Int64(fields[2]), check == ~id else { return nil }
        return (outcome, id)
    }

    private func append(_ line: String) {
        var text = line
        text.append("\n")
        fd.withLock { fd in
            // A record that could not be written whole is never acknowledged; the
            // bit-inverted check keeps a torn remainder from being read as an id.
            if writeAll(fd, &text), syncs { fdatasync(fd) }
        }
    }

    /// Calls `body` with every record in the log at `path`, streaming.
    /// A torn line (a writer killed or refused mid-append) is skipped: it was never acknowledged.
    public static func forEach(at path: String, _ body: (Outcome, Int64) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            pending += chunk[..<n]
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[start..<newline], as: UTF8.self)
                start = newline + 1
                if let (outcome, id) = parse(line[...]) { try body(outcome, id) }
            }
            pending.removeFirst(start)
        }
    }
}
