#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file line by line through a fixed buffer, so a log of any size is
/// read in constant memory (a line is held only while it is being used). A
/// line is returned as its writer wrote it (`SQLLog.intact`).
///
/// Every line a writer writes ends with its newline, so bytes after the file's
/// last newline are a line whose write was cut short (a process killed inside
/// a `write(2)` of more than a page, or one still writing): they are no line,
/// and are left in `unterminated`, not returned.
final class LogReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// Bytes consumed so far (the lines returned, with their newlines).
    private(set) var bytesRead: Int64 = 0
    /// The bytes after the file's last newline, once the end is reached: a line cut short.
    private(set) var unterminated = 0
    /// The file's size when it was opened.
    let size: Int64
    private static let chunk = 1 << 20

    init(path: String) throws(ToolError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ToolError("cannot read \(path): \(String(cString: strerror(errno))).") }
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int64(info.st_size) : 0
    }

    deinit { close(fd) }

    /// The next line without its newline, or nil at the end of the file.
    func next() throws(ToolError) -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[SQLLog.intactStart(buffer[start..<newline])..<newline], as: UTF8.self)
                bytesRead += Int64(newline - start + 1)
                start = newline + 1
                return line
            }
            if atEnd {
                if start < buffer.count {  // Once: a later call finds nothing left, and keeps the count.
                    unterminated = buffer.count - start
                    bytesRead += Int64(unterminated)
                    start = buffer.count
                }
                return nil
            }
            try fill()
        }
    }

    /// Drops what was consumed and appends the next chunk of the file.
    private func fill() throws(ToolError) {
        buffer.removeFirst(start)
        start = 0
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: Self.chunk))
        var n: Int
        repeat {
            n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, Self.chunk) }
        } while n < 0 && errno == EINTR
        guard n >= 0 else { throw ToolError("cannot read the log: \(String(cString: strerror(errno))).") }
        buffer.removeLast(Self.chunk - n)
        if n == 0 { atEnd = true }
    }
}
