import Foundation
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
            FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
            Console.out(text)
        }
    }

    /// Writes a line to stdout, unbuffered, so it interleaves correctly with stderr.
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    var isTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    func progressHandler() -> (@Sendable (StressProgress) -> Void)? {
        guard !quiet else { return nil }
        if isTerminal {
            return { progress in
                FileHandle.standardError.write(Data(("\r" + Console.bar(progress)).utf8))
            }
        }
        let lastReport = Mutex<Double>(0)
        return { progress in
            let due = lastReport.withLock { last in
                guard progress.elapsed - last >= 10 else { return false }
                last = progress.elapsed
                return true
            }
            if due { FileHandle.standardError.write(Data((Console.line(progress) + "\n").utf8)) }
        }
    }

    func endProgress() {
        if !quiet, isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    static func bar(_ p: StressProgress) -> String {
        let fraction = p.iterationsTotal > 0 ? Double(p.iterationsDone) / Double(p.iterationsTotal) : 0
        let width = 30
        let filled = min(width, Int(fraction * Double(width)))
        let rate = p.elapsed > 0 ? Double(p.statements) / p.elapsed : 0
        let eta = fraction > 0 ? p.elapsed / fraction - p.elapsed : 0
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + String(format: "%3.0f%% %d/%d iterations, %.0f stmt/s, ETA %.0fs ", fraction * 100, p.iterationsDone,
                     p.iterationsTotal, rate, eta)
    }

    static func line(_ p: StressProgress) -> String {
        let rate = p.elapsed > 0 ? Double(p.statements) / p.elapsed : 0
        return String(format: "progress: %d/%d iterations, %d statements, %.0f stmt/s, %.0fs elapsed",
                      p.iterationsDone, p.iterationsTotal, p.statements, rate, p.elapsed)
    }
}
