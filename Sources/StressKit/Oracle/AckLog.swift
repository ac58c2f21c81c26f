#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The acknowledgement log beside a database: after COMMIT returns OK, the
/// writer appends the transaction id here (one line, one `write(2)`, then
/// `fdatasync`). Append-only and shared: many processes may append at once.
/// The `durability` property is that every id here is in the ledger.
public final class AckLog: Sendable {
    /// The first line of every acknowledgement log.
    public static let header = "# sqlite-stress acknowledgements"

    private let fd: Mutex<Int32>
    public let path: String

    /// The log for the database at `databasePath`.
    public static func path(for databasePath: String) -> String { databasePath + ".acks" }

    /// Opens (creating if needed) the log for appending.
    public init(path: String) throws(ToolError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ToolError("cannot open the acknowledgement log \(path): \(String(cString: strerror(errno))).")
        }
        self.path = path
        self.fd = Mutex(fd)
        var size = stat()
        if fstat(fd, &size) == 0, size.st_size == 0 { append(Self.header) }
    }

    deinit { fd.withLock { if $0 >= 0 { _ = close($0) } } }

    /// Records that `tx` committed. Durable when this returns.
    public func acknowledge(_ tx: Int64) { append(String(tx)) }

    private func append(_ line: String) {
        var text = line
        text.append("\n")
        fd.withLock { fd in
            text.withUTF8 { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
            fdatasync(fd)
        }
    }

    /// Calls `body` with every acknowledged id in the log at `path`, streaming.
    /// A torn last line (a writer killed mid-append) is skipped: it was never acknowledged.
    public static func forEach(at path: String, _ body: (Int64) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        var pending = Data()
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending.removeSubrange(pending.startIndex...newline)
                if let id = Int64(String(decoding: line, as: UTF8.self)) { try body(id) }
            }
        }
    }
}
