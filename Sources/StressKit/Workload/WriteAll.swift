#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StressAntithesis

/// Writes `text` whole and unbuffered to standard output, or to standard error,
/// so lines interleave in the order they are written (`writeAll` is shared with
/// the SDK's output, which has to write whole lines too).
public func writeStandard(_ text: String, toError: Bool = false) {
    var text = text
    writeAll(toError ? STDERR_FILENO : STDOUT_FILENO, &text)
}
