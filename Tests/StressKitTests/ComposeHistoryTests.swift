import Foundation
@testable import StressKit
import Testing

/// What a long `compose` run keeps of itself: the last elements of what only
/// grows, every command counted, and which SDK hits fail their assertion.
@Suite struct ComposeHistoryTests {
    @Test func recentKeepsTheLastElementsAndCountsEveryOne() {
        var recent = Recent<Int>(limit: 3)
        var pushedOut: [Int] = []
        for number in 1...10 {
            if let out = recent.append(number) { pushedOut.append(out) }
        }
        #expect(recent.elements == [8, 9, 10])
        #expect(recent.total == 10)
        #expect(recent.count == 3)
        #expect(recent.total - recent.count == 7)
        #expect(pushedOut == Array(1...7))

        var everything = Recent<Int>(limit: nil)
        for number in 1...10 { #expect(everything.append(number) == nil) }
        #expect(everything.elements == Array(1...10))
        #expect(everything.count == everything.total)
    }

    static func record(_ sequence: Int, _ name: String, _ prefix: Template.Prefix, exit: Int32?, killed: Bool = false,
                       assertionFailed: Bool = false, output: [String] = []) -> ComposeReport.CommandRecord {
        ComposeReport.CommandRecord(
            sequence: sequence, name: name, prefix: prefix, seed: "0", outcome: exit.map { "exit \($0)" } ?? "killed by signal 9",
            exitStatus: exit, signal: exit == nil ? 9 : nil, killedByRunner: killed, seconds: 0, output: output,
            stderrTail: nil, assertionFailed: assertionFailed)
    }

    // The first_ and ending commands stay, the first failures stay, the last
    // others stay; the output files of a command that leaves the window go.
    @Test func historyKeepsWhatTheReportNeeds() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.url.path
        try FileManager.default.createDirectory(atPath: directory + "/commands", withIntermediateDirectories: true)
        func output(_ sequence: Int) throws -> [String] {
            let path = "commands/\(sequence).out"
            try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/" + path))
            return [path]
        }
        var history = CommandHistory(limit: 2, directory: directory)
        history.add(Self.record(1, "first_schema", .first, exit: 0, output: try output(1)))
        for sequence in 2...9 {
            let fails = sequence == 3 || sequence == 5 || sequence == 7
            history.add(Self.record(
                sequence, fails ? "parallel_driver_bad" : "parallel_driver_ok", .parallelDriver, exit: fails ? 3 : 0,
                output: try output(sequence)))
        }
        history.add(Self.record(10, "parallel_driver_asserts", .parallelDriver, exit: 0, assertionFailed: true, output: try output(10)))
        history.add(Self.record(11, "parallel_driver_ok", .parallelDriver, exit: nil, killed: true, output: try output(11)))
        history.add(Self.record(12, "eventually_check", .eventually, exit: 0, output: try output(12)))

        // 1 and 12 (first and ending), 3 and 5 (the first two failures), 10 and 11 (the last two others;
        // 7 and 10 failed past the first two, so they take their turn among the others).
        #expect(history.records.map(\.sequence) == [1, 3, 5, 10, 11, 12])
        #expect(history.total == 12)
        #expect(history.total - history.records.count == 6)
        #expect(history.failedOnTheirOwn == 3)
        #expect(history.driverKilledByRunner)
        #expect(history.outcomes["parallel_driver_ok"] == ["exit 0": 5, "killed by the runner": 1])
        #expect(history.outcomes["parallel_driver_bad"] == ["exit 3": 3])
        let left = try FileManager.default.contentsOfDirectory(atPath: directory + "/commands").sorted()
        #expect(left == ["1.out", "10.out", "11.out", "12.out", "3.out", "5.out"].sorted())
    }

    // A command's SDK output is folded in as it ends: no file is no output; an
    // empty file (a command killed before its first line) adds nothing; a
    // declaration, a passing and a failing hit, and a line torn by the kill are
    // counted as such; a file that cannot be read stops the fold, naming it.
    @Test func aCommandsSDKOutputFoldsInAsItEnds() throws {
        let directory = try TemporaryDirectory()
        var summary = SDKSummary()
        #expect(try summary.fold(path: directory.path("none"), mayBeTorn: false) == false)
        let empty = directory.path("empty")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(try summary.fold(path: empty, mayBeTorn: true) == false)
        #expect(summary.entries.isEmpty && summary.malformedLines == 0)

        func assert(hit: Bool, condition: Bool) -> String {
            #"{"antithesis_assert":{"id":"model holds","assert_type":"always","display_type":"Always","must_hit":true,"#
                + #""hit":\#(hit),"condition":\#(condition),"details":{"table":"t0"}}}"#
        }
        let output = directory.path("output")
        let lines = [assert(hit: false, condition: false), assert(hit: true, condition: true), assert(hit: true, condition: false), #"{"antithesis_as"#]
        #expect(FileManager.default.createFile(atPath: output, contents: Data(lines.joined(separator: "\n").utf8)))
        #expect(try summary.fold(path: output, mayBeTorn: true) == true)
        let entry = try #require(summary.entries.first)
        #expect(summary.entries.count == 1)
        #expect((entry.id, entry.trueHits, entry.falseHits, entry.verdict) == ("model holds", 1, 1, "failed"))
        #expect(entry.firstFalseDetails == ["table": "t0"])
        #expect((summary.malformedLines, summary.unexplainedMalformedLines) == (1, 0))

        let unreadable = #expect(throws: ToolError.self) { try summary.fold(path: directory.url.path, mayBeTorn: false) }
        #expect(unreadable?.message == "cannot read \(directory.url.path): Is a directory.")
    }

    // A hit fails its assertion as the verdict says: an always or
    // always-or-unreachable with a false condition, any unreachable; never a
    // sometimes or a reachable.
    @Test(arguments: [
        ("Always", false, true), ("Always", true, false), ("AlwaysOrUnreachable", false, true),
        ("Unreachable", true, true), ("Sometimes", false, false), ("Reachable", false, false),
    ])
    func aHitFailsItsAssertionAsTheVerdictSays(_ kind: String, _ condition: Bool, _ fails: Bool) {
        var entry = SDKSummary.Entry(id: "x", assertType: "", displayType: kind, mustHit: true)
        #expect(entry.failsOnHit(condition: condition) == fails)
        if condition { entry.trueHits += 1 } else { entry.falseHits += 1 }
        #expect((entry.verdict == "failed") == fails)
    }

    // `--overwrite` removes an old run's files in the order `runFiles` lists
    // them. A file put there between the listing and the removal (another
    // process writing into the old run) stops it at the entry it blocks, and
    // the sentence says how much is gone already.
    @Test func aRemovalStoppedPartWaySaysHowFarItGot() throws {
        let scratch = try TemporaryDirectory()
        let run = scratch.url.path
        let commands = scratch.path(ComposeRunner.commandsName)
        try FileManager.default.createDirectory(atPath: commands, withIntermediateDirectories: false)
        for name in [ComposeRunner.marker, ComposeRunner.reportName, ComposeRunner.commandsName + "/0001-insert.out"] {
            #expect(FileManager.default.createFile(atPath: scratch.path(name), contents: Data()))
        }
        let files = try ComposeRunner.runFiles(in: run)
        #expect(files == [scratch.path(ComposeRunner.marker), commands + "/0001-insert.out", commands, scratch.path(ComposeRunner.reportName)])

        #expect(FileManager.default.createFile(atPath: commands + "/late.txt", contents: Data()))
        let stopped = #expect(throws: ToolError.self) { try ComposeRunner.removeRunFiles(files, in: run) }
        #expect(stopped?.message == "cannot remove \(commands) of the old run: Directory not empty; 2 of its 4 files are removed already.")
        #expect(try FileManager.default.contentsOfDirectory(atPath: run).sorted() == [ComposeRunner.commandsName, ComposeRunner.reportName])

        // Nothing blocks: all of it goes, and an entry already gone is no error.
        try FileManager.default.removeItem(atPath: commands + "/late.txt")
        try ComposeRunner.removeRunFiles(files, in: run)
        #expect(try FileManager.default.contentsOfDirectory(atPath: run) == [])
    }
}
