#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The SQL log: every executed statement, one per line, with the thread,
/// transaction and result in a trailing comment, e.g.
///
///     INSERT INTO "t0" ("c0") VALUES (1); -- t2 x17 ok changes=1
///
/// The `sqlite3` shell replays it as it is (comments are ignored, failing
/// statements are reported and skipped). Each line goes to the kernel with a
/// single `write(2)` as soon as the statement finishes, so a killed run
/// leaves a complete log up to its last statement.
public final class SQLLog: Sendable {
    /// The first characters of every log this tool writes.
    public static let headerPrefix = "-- sqlite-stress "

    private struct State { var fd: Int32; var lines: Int }
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
        state = Mutex(State(fd: fd, lines: 0))
    }

    deinit { state.withLock { if $0.fd >= 0 { _ = Glibc.close($0.fd) } } }

    /// Appends one line (a newline is added) and returns its 1-based line number.
    @discardableResult
    public func append(_ line: String) -> Int {
        var text = line
        text.append("\n")
        return state.withLock { state in
            guard state.fd >= 0 else { return state.lines }
            writeAll(state.fd, &text)  // Disk full or similar: the run goes on; the log is best effort.
            state.lines += 1
            return state.lines
        }
    }

    /// The number of lines this process wrote so far.
    public var lineCount: Int { state.withLock { $0.lines } }

    /// Closes the file; with `sync`, first flushes it to stable storage.
    public func close(sync: Bool = true) {
        state.withLock { state in
            guard state.fd >= 0 else { return }
            if sync { fsync(state.fd) }
            _ = Glibc.close(state.fd)
            state.fd = -1
        }
    }
}
