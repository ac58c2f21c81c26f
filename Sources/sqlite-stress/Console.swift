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
import StressKit
import Synchronization

/// Where human output goes: stdout normally; stderr when stdout carries JSON;
/// nowhere under --quiet. Progress goes to stderr: a bar on a terminal, a line
/// every ten seconds otherwise.
struct Console: Sendable {
    let quiet: Bool
    let json: Bool

    func say(_ text: String) {
        guard !quiet else { return }
        if json {
            writeStandard(text + "\n", toError: true)
        } else {
            Console.out(text)
        }
    }

    /// Writes a line to stdout, unbuffered, so it interleaves correctly with stderr.
    static func out(_ text: String) {
        writeStandard(text + "\n")
    }

    var isTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    func progressHandler() -> (@Sendable (StressProgress) -> Void)? {
        guard !quiet else { return nil }
        if isTerminal {
            return { progress in
                writeStandard("\r" + Console.bar(progress), toError: true)
            }
        }
        let lastReport = Mutex<Double>(0)
        return { progress in
            let due = lastReport.withLock { last in
                guard progress.elapsed - last >= 10 else { return false }
                last = progress.elapsed
                return true
            }
            if due { writeStandard(Console.line(progress) + "\n", toError: true) }
        }
    }

    func endProgress() {
        if !quiet, isTerminal { writeStandard("\r\u{1B}[K", toError: true) }
    }

    static func bar(_ p: StressProgress) -> String {
        let fraction = p.iterationsTotal > 0 ? Double(p.iterationsDone) / Double(p.iterationsTotal) : 0
        let width = 30
        let filled = min(width, Int(fraction * Double(width)))
        let rate = p.elapsed > 0 ? Double(p.statements) / p.elapsed : 0
        let eta = fraction > 0 ? p.elapsed / fraction - p.elapsed : 0
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(Format.right(Format.fixed(fraction * 100, 0), 3))% \(p.iterationsDone)/\(p.iterationsTotal) iterations, "
            + "\(Format.fixed(rate, 0)) stmt/s, ETA \(Format.fixed(eta, 0))s "
    }

    static func line(_ p: StressProgress) -> String {
        let rate = p.elapsed > 0 ? Double(p.statements) / p.elapsed : 0
        return "progress: \(p.iterationsDone)/\(p.iterationsTotal) iterations, \(p.statements) statements, "
            + "\(Format.fixed(rate, 0)) stmt/s, \(Format.fixed(p.elapsed, 0))s elapsed"
    }
}
