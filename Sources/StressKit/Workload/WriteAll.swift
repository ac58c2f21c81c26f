#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes all of `line` to `fd` (retrying after EINTR and short writes).
/// Returns false when the write failed, e.g. with ENOSPC.
@discardableResult
func writeAll(_ fd: Int32, _ line: inout String) -> Bool {
    line.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}

/// Writes `text` whole and unbuffered to standard output, or to standard error,
/// so lines interleave in the order they are written.
public func writeStandard(_ text: String, toError: Bool = false) {
    var text = text
    writeAll(toError ? STDERR_FILENO : STDOUT_FILENO, &text)
}
