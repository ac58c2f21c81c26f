#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite

/// What the SDK output of a run says about each assertion.
public struct SDKSummary: Sendable, Codable {
    /// One message; a line whose start was torn off by a kill (a write cut short
    /// by SIGKILL, with the next process's message appended after it) still
    /// yields the message that follows the fragment.
    static func parse(_ line: Substring) -> Message? {
        let decoder = JSONDecoder()
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
    }

    public var entries: [Entry] = []
    /// Lines that were not JSON (a broken command output).
    public var malformedLines = 0

    /// Reads the SDK output at `path`. No file means no command wrote any (commands
    /// other than sqlite-stress's); a file that cannot be read is an error, never
    /// an empty summary. Bytes that are not UTF-8 (a write torn by a kill) only
    /// make their line malformed.
    init(path: String) throws(ToolError) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ToolError("cannot read the SDK output \(path): \(error)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var index: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let object = Self.parse(line) else {
                malformedLines += 1
                continue
            }
            guard let assert = object.assert, let id = assert.id else { continue }
            if index[id] == nil {
                index[id] = entries.count
                entries.append(Entry(
                    id: id, assertType: assert.assertType ?? "", displayType: assert.displayType ?? "",
                    mustHit: assert.mustHit ?? false))
            }
            guard assert.hit == true else { continue }
            if assert.condition == true {
                entries[index[id]!].trueHits += 1
            } else {
                entries[index[id]!].falseHits += 1
                if entries[index[id]!].firstFalseDetails == nil {
                    entries[index[id]!].firstFalseDetails = assert.details?.mapValues(\.text) ?? [:]
                }
            }
        }
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
        /// Its output files, relative to the run directory (empty ones are not kept).
        public var output: [String]
        /// The last lines of its stderr, when it failed on its own.
        public var stderrTail: String?
    }

    public var settings: ComposeSettings
    public var commands: [CommandRecord]
    public var schedule: [PlannedStart]
    public var plannedFaults: [PlannedFault]
    public var injected: [InjectedFault]
    public var notes: [String]
    public var sdk: SDKSummary
    public var interrupted: Bool
    public var elapsed: Double

    init(
        settings: ComposeSettings, children: [Child], schedule: [PlannedStart], plannedFaults: [PlannedFault],
        injected: [InjectedFault], notes: [String], sdk: SDKSummary, interrupted: Bool, elapsed: Double
    ) {
        self.settings = settings
        let directory = settings.runDirectory.hasSuffix("/") ? settings.runDirectory : settings.runDirectory + "/"
        commands = children.enumerated().map { index, child in
            CommandRecord(
                sequence: index + 1, name: child.name, prefix: child.prefix, seed: child.seed, outcome: child.outcome,
                exitStatus: child.status, signal: child.signal, killedByRunner: child.killedByRunner,
                seconds: (child.ended ?? Date()).timeIntervalSince(child.started),
                output: child.outputFiles.map { $0.hasPrefix(directory) ? String($0.dropFirst(directory.count)) : $0 },
                stderrTail: child.stderrTail)
        }
        self.schedule = schedule
        self.plannedFaults = plannedFaults
        self.injected = injected
        self.notes = notes
        self.sdk = sdk
        self.interrupted = interrupted
        self.elapsed = elapsed
    }

    /// Commands that failed on their own: a non-zero exit or a signal the runner did not send.
    public var failedCommands: [CommandRecord] {
        commands.filter { !$0.killedByRunner && ($0.exitStatus.map { $0 != 0 } ?? true) }
    }

    public var failedAssertions: [SDKSummary.Entry] { sdk.entries.filter { $0.verdict == "failed" } }
    public var notCovered: [SDKSummary.Entry] { sdk.entries.filter { $0.verdict == "not covered" } }

    /// Torn SDK lines are expected when the runner killed commands mid-write; otherwise they are a failure.
    var malformedOutputFails: Bool { sdk.malformedLines > 0 && !commands.contains { $0.killedByRunner } }

    public var passed: Bool { !interrupted && failedCommands.isEmpty && failedAssertions.isEmpty && !malformedOutputFails }

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
                + (malformedOutputFails ? "" : " (torn by commands killed mid-write)"))
        }
        lines.append("")
        var groups: [String: (count: Int, outcomes: [String: Int])] = [:]
        for command in commands {
            var group = groups[command.name] ?? (0, [:])
            group.count += 1
            let outcome = command.killedByRunner ? "killed by the runner" : command.outcome
            group.outcomes[outcome, default: 0] += 1
            groups[command.name] = group
        }
        lines.append("commands: \(commands.count) run")
        for name in groups.keys.sorted() {
            let group = groups[name]!
            let outcomes = group.outcomes.keys.sorted().map { "\($0) ×\(group.outcomes[$0]!)" }.joined(separator: ", ")
            lines.append("    \(name): \(group.count) (\(outcomes))")
        }
        for command in failedCommands.prefix(10) {
            lines.append("FAILED \(command.name) #\(command.sequence): \(command.outcome) (seed \(command.seed); "
                + (command.output.isEmpty ? "no output)" : "output in \(command.output.joined(separator: ", ")))"))
            if let tail = command.stderrTail {
                lines.append("    its stderr ends: " + tail.split(separator: "\n").joined(separator: "\n        "))
            }
        }
        let hit = injected.filter { $0.victim != nil }
        lines.append("faults: \(plannedFaults.count) planned, \(hit.count) injected ("
            + FaultKind.allCases.map { kind in "\(hit.filter { $0.planned.kind == kind }.count) \(kind.rawValue)" }.joined(separator: ", ") + ")")
        for note in notes { lines.append("note: \(note)") }
        if !notCovered.isEmpty {
            lines.append("not covered: " + notCovered.map(\.id).joined(separator: "; "))
        }
        lines.append("elapsed: \(Format.fixed(elapsed, 1)) s")
        if passed {
            lines.append("result: PASS — no property failed and every command ended as expected")
        } else {
            var why: [String] = []
            if !failedAssertions.isEmpty { why.append("\(Format.count(failedAssertions.count, "assertion")) failed") }
            if let first = commands.first, first.prefix == .first, failedCommands.first?.sequence == first.sequence {
                why.append("\(first.name) failed (\(first.outcome)), so nothing after it ran")
            } else if !failedCommands.isEmpty {
                why.append("\(Format.count(failedCommands.count, "command")) failed")
            }
            if malformedOutputFails { why.append("malformed SDK output") }
            if interrupted { why.append("interrupted") }
            lines.append("result: FAIL — " + why.joined(separator: ", "))
        }
        lines.append("reproduce (the same schedule; how commands interleave is timing): \(settings.reproduce)")
        return lines.joined(separator: "\n")
    }

    /// report.json: what `--json` prints, and what `write(to:)` saves in the run directory.
    public func json() -> String {
        struct Document: Encodable {
            let result: String, seed: String, template: String, reproduce: String, interrupted: Bool, elapsedSeconds: Double
            let schedule: [PlannedStart], plannedFaults: [PlannedFault], injectedFaults: [InjectedFault]
            let commands: [CommandRecord], assertions: [AssertionRecord], notes: [String]
            /// The library every command was handed (each names what it loaded in its own output and SDK details).
            let sqlite: SQLiteLibrary
        }
        struct AssertionRecord: Encodable {
            let id: String, kind: String, mustHit: Bool, verdict: String, trueHits: Int, falseHits: Int
            let firstFalseDetails: [String: String]?
        }
        let document = Document(
            result: passed ? "pass" : "fail", seed: Seed.format(settings.seed), template: settings.template,
            reproduce: settings.reproduce, interrupted: interrupted, elapsedSeconds: elapsed, schedule: schedule,
            plannedFaults: plannedFaults, injectedFaults: injected, commands: commands,
            assertions: sdk.entries.map {
                AssertionRecord(id: $0.id, kind: $0.displayType, mustHit: $0.mustHit, verdict: $0.verdict,
                                trueHits: $0.trueHits, falseHits: $0.falseHits, firstFalseDetails: $0.firstFalseDetails)
            },
            notes: notes, sqlite: SQLiteChoice.library)
        return prettyJSON(document)
    }

    /// Saves `json()` at `path`.
    func write(to path: String) throws(ToolError) {
        do {
            try Data(json().utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ToolError("cannot write \(path): \(error)")
        }
    }
}
