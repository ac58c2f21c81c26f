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

    /// A progress callback: each report redraws a bar on a terminal, else a line
    /// goes out every ten seconds. Nil under --quiet.
    func progressHandler<Report: ProgressReport>() -> (@Sendable (Report) -> Void)? {
        guard !quiet else { return nil }
        let warnings = Mutex(GrowthWarnings())
        if isTerminal {
            return { progress in
                let warning = warnings.withLock { $0.check(progress.files) }
                writeStandard("\r" + progress.bar + (warning.map { "\r\u{1B}[K" + $0 + "\n" } ?? ""), toError: true)
            }
        }
        let lastReport = Mutex<Double>(0)
        return { progress in
            if let warning = warnings.withLock({ $0.check(progress.files) }) { writeStandard(warning + "\n", toError: true) }
            let due = lastReport.withLock { last in
                guard progress.elapsed - last >= 10 else { return false }
                last = progress.elapsed
                return true
            }
            if due { writeStandard(progress.line + "\n", toError: true) }
        }
    }

    func endProgress() {
        if !quiet, isTerminal { writeStandard("\r\u{1B}[K", toError: true) }
    }
}

/// What a long-running command reports as it goes.
protocol ProgressReport: Sendable {
    var elapsed: Double { get }
    /// The terminal's bar (redrawn in place).
    var bar: String { get }
    /// The line written every ten seconds when stderr is not a terminal.
    var line: String { get }
    /// Files that grow as the command runs, with their sizes in bytes.
    var files: [(path: String, bytes: Int64)] { get }
}

extension ProgressReport {
    var files: [(path: String, bytes: Int64)] { [] }

    /// `[#####.....]  50%`: the bar itself.
    static func meter(_ fraction: Double) -> String {
        let width = 30
        let filled = min(width, max(0, Int(fraction * Double(width))))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + Format.right(Format.fixed(fraction * 100, 0), 3) + "%"
    }

    /// Seconds left at the rate so far.
    static func eta(_ fraction: Double, _ elapsed: Double) -> String {
        fraction > 0 ? Format.fixed(elapsed / fraction - elapsed, 0) + "s" : "?"
    }
}

extension StressProgress: ProgressReport {
    var bar: String {
        let fraction = iterationsTotal > 0 ? Double(iterationsDone) / Double(iterationsTotal) : 0
        let rate = elapsed > 0 ? Double(statements) / elapsed : 0
        return Self.meter(fraction) + " \(iterationsDone)/\(iterationsTotal) iterations, "
            + "\(Format.fixed(rate, 0)) stmt/s, ETA \(Self.eta(fraction, elapsed)) "
    }

    var line: String {
        let rate = elapsed > 0 ? Double(statements) / elapsed : 0
        return "progress: \(iterationsDone)/\(iterationsTotal) iterations, \(statements) statements, "
            + "\(Format.fixed(rate, 0)) stmt/s, \(Format.fixed(elapsed, 0))s elapsed"
    }

    var files: [(path: String, bytes: Int64)] { fileSizes }
}

extension StressKit.Replay.Progress: ProgressReport {
    private var fraction: Double { bytesTotal > 0 ? Double(bytesRead) / Double(bytesTotal) : 0 }

    var bar: String {
        Self.meter(fraction) + " \(Format.mebibytes(bytesRead))/\(Format.mebibytes(bytesTotal)) of the log, "
            + "\(statements) statements, ETA \(Self.eta(fraction, elapsed)) "
    }

    var line: String {
        "progress: \(Format.mebibytes(bytesRead)) of \(Format.mebibytes(bytesTotal)) of the log "
            + "(\(Format.fixed(fraction * 100, 0))%), \(statements) statements, \(Format.fixed(elapsed, 0))s elapsed"
    }
}

extension ComposeProgress: ProgressReport {
    /// `310 of 4500 s, 1234 drivers started`, or `1234 of 4000 drivers started, 31 s`; before and after the driver phase, what runs.
    private var length: String {
        switch phase {
        case .first: return "the first_ command, \(Format.fixed(elapsed, 0)) s"
        case .ending: return "the driver phase over (\(Format.count(drivers, "driver")) started), ending, \(Format.fixed(elapsed, 0)) s"
        case .drivers:
            if let duration {
                return "\(Format.fixed(elapsed, 0)) of \(Format.number(duration)) s, \(Format.count(drivers, "driver")) started"
            }
            return "\(drivers) of \(Format.count(runs ?? 0, "driver")) started, \(Format.fixed(elapsed, 0)) s"
        }
    }

    private var tally: String {
        "\(Format.count(running, "command")) running, \(Format.count(faults, "fault")) injected, "
            + "\(Format.count(failedCommands, "command")) failed on \(failedCommands == 1 ? "its" : "their") own, "
            + (stoppedCommands > 0 ? "\(stoppedCommands) stopped on an error (exit 2), " : "")
            + "\(Format.count(failedAssertions, "assertion")) failed"
    }

    var bar: String {
        Self.meter(fraction) + " \(length); \(tally)" + (phase == .drivers ? ", ETA \(Self.eta(fraction, elapsed)) " : " ")
    }

    var line: String { "progress: \(length); \(tally)" }
}
