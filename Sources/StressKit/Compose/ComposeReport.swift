#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite

/// What the SDK output of a run says about each assertion, folded in one
/// command's output at a time (`fold`): memory that follows the assertions,
/// not the run's length.
public struct SDKSummary: Sendable {
    /// One message; a line whose start was torn off by a kill (a write cut short
    /// by SIGKILL, with another message appended after it) still yields the
    /// message that follows the fragment.
    static func parse(_ line: Substring, with decoder: JSONDecoder) -> Message? {
        if let message = try? decoder.decode(Message.self, from: Data(line.utf8)) { return message }
        guard let start = line.ranges(of: "{\"antithesis_").last, start.lowerBound != line.startIndex else { return nil }
        return try? decoder.decode(Message.self, from: Data(line[start.lowerBound...].utf8))
    }

    /// The part of an SDK message this summary reads: any JSON object decodes.
    struct Message: Decodable {
        struct Assert: Decodable {
            var id: String?
            var assertType: String?
            var displayType: String?
            var mustHit: Bool?
            var hit: Bool?
            var condition: Bool?
            var details: [String: Scalar]?

            enum CodingKeys: String, CodingKey {
                case id, hit, condition, details
                case assertType = "assert_type", displayType = "display_type", mustHit = "must_hit"
            }
        }
        var assert: Assert?

        enum CodingKeys: String, CodingKey { case assert = "antithesis_assert" }
    }

    /// A details value as text, whatever its JSON type.
    struct Scalar: Decodable {
        var text: String

        init(from decoder: Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let string = try? value.decode(String.self) {
                text = string
            } else if let bool = try? value.decode(Bool.self) {
                text = bool ? "true" : "false"
            } else if let integer = try? value.decode(Int64.self) {
                text = String(integer)
            } else if let real = try? value.decode(Double.self) {
                text = String(real)
            } else {
                text = value.decodeNil() ? "null" : "(JSON)"
            }
        }
    }

    public struct Entry: Sendable, Codable {
        public var id: String
        public var assertType: String
        public var displayType: String
        public var mustHit: Bool
        public var trueHits = 0
        public var falseHits = 0
        public var firstFalseDetails: [String: String]?

        /// passed / failed / not covered, by the kind's rules.
        public var verdict: String {
            switch displayType {
            case "Always", "AlwaysOrUnreachable":
                if falseHits > 0 { return "failed" }
                if trueHits > 0 { return "passed" }
                return mustHit ? "not covered" : "never reached"
            case "Sometimes": return trueHits > 0 ? "passed" : "not covered"
            case "Reachable": return trueHits + falseHits > 0 ? "passed" : "not covered"
            case "Unreachable": return trueHits + falseHits > 0 ? "failed" : "passed"
            default: return falseHits > 0 ? "failed" : "passed"
            }
        }

        /// Whether one hit with `condition` fails the assertion, by the same rules.
        func failsOnHit(condition: Bool) -> Bool {
            switch displayType {
            case "Sometimes", "Reachable": false
            case "Unreachable": true
            default: !condition
            }
        }
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    /// Lines that were not JSON (a broken command output, or one torn by a kill or a full disk).
    public private(set) var malformedLines = 0
    /// Those of commands that neither the runner killed nor stopped on an error of their environment.
    public private(set) var unexplainedMalformedLines = 0

    init() {}

    /// Folds in one command's SDK output, the file at `path` (`mayBeTorn`: the
    /// runner killed the command, or it stopped on an error of its environment
    /// such as a full disk, so a line may be torn), and returns
    /// whether it holds a hit that fails its assertion. No file means the
    /// command wrote none (commands other than sqlite-stress's); a file that
    /// cannot be read is an error, never an empty output. Bytes that are not
    /// UTF-8 (a write torn by a kill) only make their line malformed.
    mutating func fold(path: String, mayBeTorn: Bool) throws(ToolError) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        let bytes = try DatabaseFile.contents(of: path)
        var failing = false
        let decoder = JSONDecoder()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let object = Self.parse(line, with: decoder) else {
                malformedLines += 1
                if !mayBeTorn { unexplainedMalformedLines += 1 }
                continue
            }
            guard let assert = object.assert, let id = assert.id else { continue }
            let position: Int
            if let known = index[id] {
                position = known
            } else {
                position = entries.count
                index[id] = position
                entries.append(Entry(
                    id: id, assertType: assert.assertType ?? "", displayType: assert.displayType ?? "",
                    mustHit: assert.mustHit ?? false))
            }
            guard assert.hit == true else { continue }
            if entries[position].failsOnHit(condition: assert.condition == true) { failing = true }
            if assert.condition == true {
                entries[position].trueHits += 1
            } else {
                entries[position].falseHits += 1
                if entries[position].firstFalseDetails == nil {
                    entries[position].firstFalseDetails = assert.details?.mapValues(\.text) ?? [:]
                }
            }
        }
        return failing
    }
}

/// The outcome of a `compose` run.
public struct ComposeReport: Sendable {
    public struct CommandRecord: Sendable, Codable {
        public var sequence: Int
        public var name: String
        public var prefix: Template.Prefix
        public var seed: String
        public var outcome: String
        public var exitStatus: Int32?
        public var signal: Int32?
        public var killedByRunner: Bool
        public var seconds: Double
        /// Its output files (stdout, stderr, SDK output), relative to the run
        /// directory (empty ones are not kept).
        public var output: [String]
        /// The last lines of its stderr, when it failed on its own.
        public var stderrTail: String?
        /// Its SDK output holds a hit that fails its assertion.
        public var assertionFailed: Bool

        /// A non-zero exit, or a signal the runner did not send.
        public var failedOnItsOwn: Bool { !killedByRunner && (exitStatus.map { $0 != 0 } ?? true) }
        /// Exit status 2: the command stopped on a usage or environment error
        /// (a full disk, a database that is not there), which judges nothing.
        public var stoppedOnAnError: Bool { !killedByRunner && exitStatus == 2 }
    }

    public var settings: ComposeSettings
    /// The SDK output's first failure to take a message, set as the result is
    /// printed: its JSON then says it, and a "pass" is "error" (exit status 2).
    public var sdkOutputFailure: String?
    /// The commands kept in full (`CommandHistory`), in the order they started.
    public var commands: [CommandRecord]
    /// Every command run, and by name and outcome.
    public var commandCount: Int
    public var outcomes: [String: [String: Int]]
    public var failedCommandCount: Int
    /// Those of them that stopped on a usage or environment error (`CommandRecord.stoppedOnAnError`).
    public var stoppedCommandCount: Int
    /// The last starts planned and faults planned and injected (`Recent`), and how many there were.
    public var schedule: Recent<PlannedStart>
    public var plannedFaults: Recent<PlannedFault>
    public var injected: Recent<InjectedFault>
    /// Faults injected into a running driver, by kind (all of them, kept or not).
    public var injectedByKind: [FaultKind: Int]
    public var notes: [String]
    public var sdk: SDKSummary
    public var interrupted: Bool
    public var elapsed: Double

    init(
        settings: ComposeSettings, history: CommandHistory, schedule: Recent<PlannedStart>, plannedFaults: Recent<PlannedFault>,
        injected: Recent<InjectedFault>, injectedByKind: [FaultKind: Int], notes: [String], sdk: SDKSummary,
        interrupted: Bool, elapsed: Double
    ) {
        self.settings = settings
        commands = history.records
        commandCount = history.total
        outcomes = history.outcomes
        failedCommandCount = history.failedOnTheirOwn
        stoppedCommandCount = history.stoppedOnAnError
        self.schedule = schedule
        self.plannedFaults = plannedFaults
        self.injected = injected
        self.injectedByKind = injectedByKind
        self.notes = notes
        self.sdk = sdk
        self.interrupted = interrupted
        self.elapsed = elapsed
    }

    /// Commands that failed on their own: a non-zero exit or a signal the runner
    /// did not send (the first ones, as kept; `failedCommandCount` counts all).
    public var failedCommands: [CommandRecord] { commands.filter(\.failedOnItsOwn) }

    public var failedAssertions: [SDKSummary.Entry] { sdk.entries.filter { $0.verdict == "failed" } }
    public var notCovered: [SDKSummary.Entry] { sdk.entries.filter { $0.verdict == "not covered" } }
    /// Those that are not coverage goals: a property (`always`) or a point
    /// (`reachable`) that a command declared it must hit, never hit. What it
    /// stands for was never checked, so the run cannot pass; a `sometimes`
    /// goal a short run misses is only listed (Antithesis's many runs cover it).
    public var neverChecked: [SDKSummary.Entry] { notCovered.filter { $0.displayType != "Sometimes" } }

    /// Torn SDK lines are expected in the output of a command the runner killed
    /// mid-write, or of one that stopped on an error of its environment; elsewhere they are a failure.
    var malformedOutputFails: Bool { sdk.unexplainedMalformedLines > 0 }

    /// An assertion failed, a command failed other than by stopping on a usage or
    /// environment error, or SDK output was malformed.
    public var failed: Bool {
        failedCommandCount > stoppedCommandCount || !failedAssertions.isEmpty || malformedOutputFails
    }

    public var passed: Bool { !failed && !interrupted && stoppedCommandCount == 0 && neverChecked.isEmpty }

    /// 0 passed; 1 failed (interrupted or not); 130 (128 + the signal)
    /// interrupted by Ctrl-C with nothing failed so far; 2 nothing failed, but
    /// a command stopped on a usage or environment error, or a declared
    /// property was never checked, so the run gives no verdict.
    public var exitStatus: Int32 {
        if failed { return 1 }
        if interrupted { return Interrupt.exitStatus }
        return passed ? 0 : 2
    }

    public var text: String {
        var lines = ["sqlite-stress compose: \(settings.template), seed \(Seed.format(settings.seed)), run directory \(settings.runDirectory)",
                     SQLiteChoice.line + " (every command inherits it)"]
        if let binary = ComposeRunner.binaryDirectory { lines.append("commands run with \(binary) first on their PATH") }
        lines.append("")
        lines.append("assertion".column(72) + "kind                 result")
        for entry in sdk.entries {
            var result = entry.verdict
            if entry.trueHits + entry.falseHits > 0 { result += " (\(entry.trueHits) true, \(entry.falseHits) false)" }
            lines.append(String(entry.id.prefix(70)).column(72)
                + entry.displayType.column(21) + result)
            if let details = entry.firstFalseDetails, entry.verdict == "failed" {
                for key in details.keys.sorted() { lines.append("    \(key): \(details[key]!)") }
            }
        }
        if sdk.entries.isEmpty { lines.append("(no assertions in the SDK output)") }
        if sdk.malformedLines > 0 {
            lines.append("SDK output: \(Format.count(sdk.malformedLines, "line")) not JSON"
                + (malformedOutputFails ? "" : " (torn by commands killed mid-write or stopped on an error of their environment)"))
        }
        lines.append("")
        lines.append("commands: \(commandCount) run")
        for name in outcomes.keys.sorted() {
            let counts = outcomes[name]!
            let listed = counts.keys.sorted().map { "\($0) ×\(counts[$0]!)" }.joined(separator: ", ")
            lines.append("    \(name): \(counts.values.reduce(0, +)) (\(listed))")
        }
        if commandCount > commands.count {
            lines.append("    kept in full (record and output files): \(commands.count) — the first_ and ending commands, the first "
                + "failures, the last \(settings.keptCommands.map(String.init) ?? "all") others (--keep-commands)")
        }
        // The failures first, then the commands that stopped on an error: a full disk stops many.
        for command in (failedCommands.filter { !$0.stoppedOnAnError } + failedCommands.filter(\.stoppedOnAnError)).prefix(10) {
            lines.append("\(command.stoppedOnAnError ? "STOPPED" : "FAILED") \(command.name) #\(command.sequence): \(command.outcome) (seed \(command.seed); "
                + (command.output.isEmpty ? "no output)" : "output in \(command.output.joined(separator: ", ")))"))
            if let tail = command.stderrTail {
                lines.append("    its stderr ends: " + tail.split(separator: "\n").joined(separator: "\n        "))
            }
        }
        lines.append("faults: \(plannedFaults.total) planned, \(injectedByKind.values.reduce(0, +)) injected ("
            + FaultKind.allCases.map { kind in "\(injectedByKind[kind] ?? 0) \(kind.rawValue)" }.joined(separator: ", ") + ")")
        for note in notes { lines.append("note: \(note)") }
        if !notCovered.isEmpty {
            lines.append("not covered: " + notCovered.map(\.id).joined(separator: "; "))
        }
        lines.append("elapsed: \(Format.fixed(elapsed, 1)) s")
        // The first_ command, when it failed or stopped (nothing after it ran).
        let failingFirst = commands.first.flatMap { first in
            first.prefix == .first && failedCommands.first?.sequence == first.sequence ? first : nil
        }
        if passed {
            lines.append(passLine("no property failed and every command ended as expected", sdkOutputFailure: sdkOutputFailure))
        } else if failed {
            var why: [String] = []
            if !failedAssertions.isEmpty { why.append("\(Format.count(failedAssertions.count, "assertion")) failed") }
            if let first = failingFirst {
                why.append("\(first.name) \(first.stoppedOnAnError ? "stopped" : "failed") (\(first.outcome)), so nothing after it ran")
            } else if failedCommandCount > stoppedCommandCount {
                why.append("\(Format.count(failedCommandCount - stoppedCommandCount, "command")) failed")
            }
            if stoppedCommandCount > 0, failingFirst == nil {
                why.append("\(stoppedCommandCount) stopped on a usage or environment error (exit 2)")
            }
            if malformedOutputFails { why.append("malformed SDK output") }
            if interrupted { why.append("interrupted") }
            lines.append("result: FAIL — " + why.joined(separator: ", "))
        } else if interrupted {
            lines.append("result: INTERRUPTED after \(Format.fixed(elapsed, 1)) s — nothing failed so far; the run did not reach its end")
        } else if let first = failingFirst {
            lines.append("result: NO VERDICT — \(first.name) stopped on a usage or environment error (exit 2), so nothing after it ran; "
                + "its stderr says why")
        } else {
            var why: [String] = []
            if stoppedCommandCount > 0 {
                why.append("\(Format.count(stoppedCommandCount, "command")) stopped on a usage or environment error (exit 2); "
                    + (stoppedCommandCount == 1 ? "its stderr says why" : "their stderr says why"))
            }
            if !neverChecked.isEmpty {
                why.append("\(Format.count(neverChecked.count, "assertion")) that commands declared they must hit "
                    + "\(neverChecked.count == 1 ? "was" : "were") never hit, so never checked: " + neverChecked.map(\.id).joined(separator: "; "))
            }
            lines.append("result: NO VERDICT — no property failed, but " + why.joined(separator: ", and "))
        }
        lines.append("reproduce (the same schedule; how commands interleave is timing): \(settings.reproduce)")
        return lines.joined(separator: "\n")
    }

    /// report.json: what `--json` prints, and what `write(to:)` saves in the run directory.
    public func json() -> String {
        struct Document: Encodable {
            let result: String, seed: String, template: String, reproduce: String, interrupted: Bool, elapsedSeconds: Double
            /// The last starts and faults (`--keep-commands` of each), and how many there were in all.
            let schedule: [PlannedStart], plannedFaults: [PlannedFault], injectedFaults: [InjectedFault]
            let scheduleCount: Int, plannedFaultCount: Int, injectedFaultCount: Int
            /// The commands kept in full; every command counted by name and outcome.
            let commands: [CommandRecord], commandCount: Int, failedCommandCount: Int, stoppedCommandCount: Int
            let outcomes: [String: [String: Int]]
            let assertions: [AssertionRecord], notes: [String]
            /// The library every command was handed (each names what it loaded in its own output and SDK details).
            let sqlite: SQLiteLibrary
            let sdkOutputFailure: String?
        }
        struct AssertionRecord: Encodable {
            let id: String, kind: String, mustHit: Bool, verdict: String, trueHits: Int, falseHits: Int
            let firstFalseDetails: [String: String]?
        }
        let document = Document(
            result: resultWord(failed ? "fail" : interrupted ? "interrupted" : passed ? "pass" : "error", sdkOutputFailure: sdkOutputFailure),
            seed: Seed.format(settings.seed), template: settings.template,
            reproduce: settings.reproduce, interrupted: interrupted, elapsedSeconds: elapsed, schedule: schedule.elements,
            plannedFaults: plannedFaults.elements, injectedFaults: injected.elements, scheduleCount: schedule.total,
            plannedFaultCount: plannedFaults.total, injectedFaultCount: injected.total, commands: commands,
            commandCount: commandCount, failedCommandCount: failedCommandCount, stoppedCommandCount: stoppedCommandCount, outcomes: outcomes,
            assertions: sdk.entries.map {
                AssertionRecord(id: $0.id, kind: $0.displayType, mustHit: $0.mustHit, verdict: $0.verdict,
                                trueHits: $0.trueHits, falseHits: $0.falseHits, firstFalseDetails: $0.firstFalseDetails)
            },
            notes: notes, sqlite: SQLiteChoice.library, sdkOutputFailure: sdkOutputFailure)
        return prettyJSON(document)
    }

    /// Saves `json()` at `path`.
    func write(to path: String) throws(ToolError) {
        do {
            try Data(json().utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ToolError("cannot write \(path): \(ToolError.reason(error)).")
        }
    }
}
