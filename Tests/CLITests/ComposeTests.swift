import Foundation
import StressSQLite
import Testing

@testable import StressKit
@testable import sqlite_stress

@Suite struct ComposeTests {
    /// A PATH without the built binary: the runner must give the templates' `exec sqlite-stress` its own.
    static let bareEnvironment = ["PATH": "/usr/bin:/bin"]

    /// A template directory made of small shell scripts.
    final class ScriptTemplate {
        let scratch: Scratch
        let directory: URL

        init(_ files: [String: String], executable: Bool = true) throws {
            scratch = try Scratch()
            directory = scratch.file("template")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, body) in files {
                let url = directory.appendingPathComponent(name)
                try Data(("#!/bin/sh\n" + body + "\n").utf8).write(to: url)
                try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: url.path)
            }
        }
    }

    static func report(_ runDirectory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: runDirectory.appendingPathComponent("report.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func assertion(_ report: [String: Any], _ id: String) -> [String: Any]? {
        (report["assertions"] as? [[String: Any]])?.first { $0["id"] as? String == id }
    }

    // Our composed template under kill and pause faults passes on clean SQLite,
    // with kills really injected — with no sqlite-stress on PATH: the commands
    // run the binary that runs them.
    @Test func composedTemplatePassesUnderFaults() throws {
        let scratch = try Scratch()
        let run = scratch.file("run")
        let result = try CLI.run([
            "compose", CLI.packageRoot.appendingPathComponent("composer/composed").path, "--seed", "7", "--runs", "30",
            "--faults", "kill,pause", "--run-dir", run.path,
        ], environment: Self.bareEnvironment)
        #expect(result.status == 0, "\(result.stdout.suffix(3000))")
        #expect(result.stdout.contains("result: PASS"))
        #expect(result.stdout.contains("commands run with \(CLI.binary.resolvingSymlinksInPath().deletingLastPathComponent().path) first on their PATH"))
        let report = try Self.report(run)
        let injected = try #require(report["injectedFaults"] as? [[String: Any]])
        #expect(injected.contains { ($0["planned"] as? [String: Any])?["kind"] as? String == "kill" && $0["victim"] != nil })
        let commands = try #require(report["commands"] as? [[String: Any]])
        #expect(commands.contains { $0["killedByRunner"] as? Bool == true })
        for property in ["integrity", "model", "rollback", "durability", "conservation", "query-consistency"] {
            let entry = (report["assertions"] as? [[String: Any]])?.first { ($0["id"] as? String)?.hasPrefix(property + ":") == true }
            #expect(entry?["verdict"] as? String == "passed", "\(property): \(String(describing: entry))")
        }
    }

    // The seed picks the ending: eventually_ on some seeds, finally_ on others
    // (finally_ only when no driver was killed); --end forces one.
    @Test func seedPicksTheEnding() throws {
        let scratch = try Scratch()
        var endings = Set<String>()
        for seed in 1...6 {
            let run = scratch.file("run-\(seed)")
            let result = try CLI.run([
                "compose", CLI.packageRoot.appendingPathComponent("composer/composed").path, "--seed", "\(seed)",
                "--runs", "6", "--run-dir", run.path, "-q",
            ], environment: Self.bareEnvironment)
            #expect(result.status == 0, "\(result.stdout.suffix(2000))")
            let commands = try #require(try Self.report(run)["commands"] as? [[String: Any]])
            let last = try #require(commands.last?["name"] as? String)
            #expect(last == "finally_check" || last == "eventually_check")
            endings.insert(last)
        }
        #expect(endings == ["finally_check", "eventually_check"])
        let forced = scratch.file("forced")
        #expect(try CLI.run([
            "compose", CLI.packageRoot.appendingPathComponent("composer/composed").path, "--seed", "1", "--runs", "3",
            "--end", "eventually", "--run-dir", forced.path, "-q",
        ], environment: Self.bareEnvironment).status == 0)
        #expect((try Self.report(forced)["commands"] as? [[String: Any]])?.last?["name"] as? String == "eventually_check")
    }

    // The same seed gives the same schedule: commands, sub-seeds and planned faults.
    @Test func sameSeedSameSchedule() throws {
        let scratch = try Scratch()
        var schedules: [String] = []
        for attempt in 0..<2 {
            let run = scratch.file("run-\(attempt)")
            let result = try CLI.run([
                "compose", CLI.packageRoot.appendingPathComponent("composer/composed").path, "--seed", "0x5c4ed",
                "--runs", "15", "--faults", "kill,pause", "--run-dir", run.path, "-q",
            ], environment: Self.bareEnvironment)
            #expect(result.status == 0, "\(result.stdout.suffix(2000))")
            let report = try Self.report(run)
            let plan = try JSONSerialization.data(
                withJSONObject: ["schedule": report["schedule"]!, "faults": report["plannedFaults"]!], options: [.sortedKeys])
            schedules.append(String(decoding: plan, as: UTF8.self))
            #expect((report["schedule"] as? [Any])?.count == 15)
        }
        #expect(schedules[0] == schedules[1])
        #expect(schedules[0].contains("parallel_driver_"))
    }

    // An anytime command whose always assertion is false fails the run, and the
    // report names it with its details.
    @Test func failingAlwaysIsReported() throws {
        let template = try ScriptTemplate([
            "parallel_driver_ok": "exit 0",
            "anytime_check": #"""
                printf '%s\n' '{"antithesis_assert":{"assert_type":"always","display_type":"Always","condition":false,"message":"x holds","location":{"class":"","function":"f","file":"f.sh","begin_line":1,"begin_column":0},"hit":false,"must_hit":true,"id":"x holds","details":null}}' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT"
                printf '%s\n' '{"antithesis_assert":{"assert_type":"always","display_type":"Always","condition":false,"message":"x holds","location":{"class":"","function":"f","file":"f.sh","begin_line":1,"begin_column":0},"hit":true,"must_hit":true,"id":"x holds","details":{"why":"planted"}}}' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT"
                """#,
        ])
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "1", "--runs", "8", "--run-dir", run.path])
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("x holds"))
        #expect(result.stdout.contains("why: planted"))
        #expect(Self.assertion(try Self.report(run), "x holds")?["verdict"] as? String == "failed")
    }

    // SDK output with a byte that is not UTF-8 (a write torn by a kill) still
    // yields every assertion in it: a failing `always` beside it fails the run,
    // where an unreadable file once read as no assertions at all.
    @Test func nonUTF8SDKOutputStillCounts() throws {
        let template = try ScriptTemplate([
            "parallel_driver_ok": "exit 0",
            "anytime_check": #"""
                printf '%s\n' '{"antithesis_assert":{"assert_type":"always","display_type":"Always","condition":false,"message":"x holds","location":{"class":"","function":"f","file":"f.sh","begin_line":1,"begin_column":0},"hit":true,"must_hit":true,"id":"x holds","details":{"why":"planted"}}}' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT"
                printf '\377\n' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT"
                """#,
        ])
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "1", "--runs", "4", "--run-dir", run.path])
        #expect(result.status == 1, "\(result.stdout)")
        #expect(Self.assertion(try Self.report(run), "x holds")?["verdict"] as? String == "failed")
    }

    // report.json that cannot be written is a note, and --json still prints the
    // whole report (built in memory), never an empty "{}".
    @Test func unwritableReportIsANote() throws {
        let template = try ScriptTemplate([
            "parallel_driver_block": #"mkdir -p "$(dirname "$SQLITE_STRESS_DB")/report.json""#,
        ])
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "1", "--runs", "2", "--run-dir", run.path, "--json"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect((json["commands"] as? [Any])?.count == 2)
        #expect((json["notes"] as? [String])?.contains { $0.contains("report.json") } == true, "\(json["notes"] ?? "")")
    }

    // A driver that exits 3 fails the run, and the report names it.
    @Test func failingDriverIsReported() throws {
        let template = try ScriptTemplate(["parallel_driver_bad": "exit 3"])
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "1", "--runs", "3", "--run-dir", run.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAILED parallel_driver_bad"))
        #expect(result.stdout.contains("exit 3"))
    }

    // A first_ command that fails stops the run at once: nothing else starts
    // (though the driver phase had 30 s to go), and the report names the
    // command, its exit status and the end of its stderr.
    @Test func failingFirstStopsTheRun() throws {
        let template = try ScriptTemplate([
            "first_setup": "echo 'setting up' >&2; echo 'setup: no database here' >&2; exit 3",
            "parallel_driver_ok": "exit 0",
            "finally_check": "exit 0",
        ])
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "1", "--duration", "30", "--run-dir", run.path])
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("result: FAIL — first_setup failed (exit 3), so nothing after it ran"), "\(result.stdout)")
        #expect(result.stdout.contains("its stderr ends: setting up\n        setup: no database here"), "\(result.stdout)")
        let commands = try #require(try Self.report(run)["commands"] as? [[String: Any]])
        #expect(commands.count == 1)
        #expect(commands.first?["exitStatus"] as? Int == 3)
        #expect(commands.first?["stderrTail"] as? String == "setting up\nsetup: no database here")
    }

    // A command that stops on a usage or environment error (exit 2: a full
    // disk, say, which may also tear its SDK output) judged nothing: the run
    // gives no verdict, exit 2, and lists it as STOPPED with its stderr; its
    // torn SDK line is no failure of its own. A first_ command that stops so
    // ends the run the same way. Beside a command that fails, the run fails.
    @Test func aCommandThatStopsOnAnErrorGivesNoVerdict() throws {
        let stops = #"echo 'sqlite-stress: error: the disk is full.' >&2; printf '{"antithesis_ass' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT"; exit 2"#
        let template = try ScriptTemplate(["parallel_driver_full": stops])
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "1", "--runs", "3", "--run-dir", run.path])
        #expect(result.status == 2, "\(result.stdout)")
        #expect(result.stdout.contains("STOPPED parallel_driver_full #1: exit 2"), "\(result.stdout)")
        #expect(result.stdout.contains("its stderr ends: sqlite-stress: error: the disk is full."))
        #expect(result.stdout.contains("result: NO VERDICT — no property failed, but 3 commands stopped on a usage or environment "
            + "error (exit 2); their stderr says why"), "\(result.stdout)")
        let report = try Self.report(run)
        #expect(report["result"] as? String == "error")
        #expect(report["stoppedCommandCount"] as? Int == 3)

        let first = try ScriptTemplate(["first_setup": stops, "parallel_driver_ok": "exit 0"])
        let firstRun = first.scratch.file("run")
        let stopped = try CLI.run(["compose", first.directory.path, "--seed", "1", "--runs", "3", "--run-dir", firstRun.path])
        #expect(stopped.status == 2, "\(stopped.stdout)")
        #expect(stopped.stdout.contains("result: NO VERDICT — first_setup stopped on a usage or environment error (exit 2), so nothing "
            + "after it ran; its stderr says why"), "\(stopped.stdout)")

        // Stops and failures: the first failure keeps its record and its line, ahead of the stopped ones,
        // though --keep-commands 1 keeps one of each and (seed 2) four commands stop before any fails.
        let mixed = try ScriptTemplate(["serial_driver_full": stops, "serial_driver_bad": "exit 3"])
        let mixedRun = mixed.scratch.file("run")
        let failed = try CLI.run(["compose", mixed.directory.path, "--seed", "2", "--runs", "12", "--keep-commands", "1", "--run-dir", mixedRun.path])
        let mixedReport = try Self.report(mixedRun)
        let outcomes = try #require(mixedReport["outcomes"] as? [String: [String: Int]])
        let bad = try #require(outcomes["serial_driver_bad"]?["exit 3"]), full = try #require(outcomes["serial_driver_full"]?["exit 2"])
        #expect(failed.status == 1, "\(failed.stdout)")
        #expect(failed.stdout.contains("result: FAIL — \(Format.count(bad, "command")) failed, \(full) stopped on a usage or environment "
            + "error (exit 2)\n"), "\(failed.stdout)")
        let kept = try #require(mixedReport["commands"] as? [[String: Any]])
        #expect(kept.contains { $0["sequence"] as? Int == 5 && $0["name"] as? String == "serial_driver_bad" && $0["exitStatus"] as? Int == 3 },
                "\(kept)")
        let failedLine = try #require(failed.stdout.range(of: "\nFAILED serial_driver_bad #"), "\(failed.stdout)")
        let stoppedLine = try #require(failed.stdout.range(of: "\nSTOPPED serial_driver_full #"), "\(failed.stdout)")
        #expect(failedLine.lowerBound < stoppedLine.lowerBound)
    }

    // The run directory's disk fills under the composed template: the
    // commands that cannot write their files stop with exit 2, their torn SDK
    // lines with them, and the run gives no verdict — never a failure SQLite
    // did not cause. (SQLite 3.50.4: 3.40.1 can really lose a WAL commit
    // after a write fails, bench/wal-rollback-to-bug.)
    @Test(.enabled(if: Tmpfs.canMount && SQLiteBuilds.hasAmalgamation, "needs root for a tmpfs, and SQLite 3.50.4's amalgamation"))
    func aFullRunDirectoryGivesNoVerdict() throws {
        let disk = try Tmpfs(kibibytes: 1024)
        let run = disk.url.appendingPathComponent("run")
        let result = try CLI.run([
            "--sqlite", try SQLiteBuilds.release3504.get().path, "compose", CLI.packageRoot.appendingPathComponent("composer/composed").path,
            "--seed", "5", "--runs", "40", "--run-dir", run.path,
        ])
        #expect(result.status == 2, "\(result.stdout)")
        #expect(result.stdout.contains("STOPPED "), "\(result.stdout)")
        #expect(!result.stdout.contains("malformed SDK output"), "\(result.stdout)")
        #expect(result.stdout.contains("\nresult: NO VERDICT — "), "\(result.stdout)")
    }

    // Commands that print nothing leave no empty files: only output that
    // exists is kept, and the report lists what is there.
    @Test func emptyOutputIsNotKept() throws {
        let template = try ScriptTemplate([
            "parallel_driver_quiet": "exit 0",
            "parallel_driver_talks": "echo hello",
            "anytime_complains": "echo 'a warning' >&2",
        ])
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "4", "--runs", "12", "--run-dir", run.path, "-q"])
        #expect(result.status == 0, "\(result.stdout)")
        let files = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("commands").path)
        #expect(!files.isEmpty)
        for name in files {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: run.appendingPathComponent("commands/" + name).path)[.size] as? Int)
            #expect(size > 0, "\(name) is empty")
            #expect(name.hasSuffix("talks.out") || name.hasSuffix("complains.err"), "\(name)")
        }
        let commands = try #require(try Self.report(run)["commands"] as? [[String: Any]])
        for command in commands {
            let output = try #require(command["output"] as? [String])
            #expect(output.allSatisfy { files.contains(String($0.dropFirst("commands/".count))) }, "\(output)")
            #expect(output.isEmpty == (command["name"] as? String == "parallel_driver_quiet"))
        }
    }

    // The reproduce line repeats the schedule into a fresh run directory and
    // database: running it leaves the run it came from as it was.
    @Test func reproduceLineKeepsTheEvidence() throws {
        let scratch = try Scratch()
        let template = CLI.packageRoot.appendingPathComponent("composer/composed").path
        let first = try CLI.run(["compose", template, "--seed", "9", "--runs", "4"], in: scratch.url)
        #expect(first.status == 0, "\(first.stdout.suffix(2000))")
        let line = try #require(first.stdout.split(separator: "\n").last { $0.hasPrefix("reproduce (the same schedule") })
        let command = String(line[line.range(of: "): ")!.upperBound...])
        #expect(command.hasSuffix("--run-dir compose-0x0000000000000009-repro"), "\(command)")
        let original = scratch.file("compose-0x0000000000000009")
        let before = try Self.contents(original)
        let again = try CLI.shell(command, in: scratch.url)
        #expect(again.status == 0, "\(again.stdout.suffix(2000))\(again.stderr)")
        #expect(try Self.contents(original) == before, "the reproduction changed the original run")
        #expect(FileManager.default.fileExists(atPath: scratch.file("compose-0x0000000000000009-repro/stress.db").path))
        // Its schedule is the original's.
        let plan = { (dir: String) throws -> String in
            let data = try JSONSerialization.data(withJSONObject: try Self.report(scratch.file(dir))["schedule"]!, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
        #expect(try plan("compose-0x0000000000000009") == plan("compose-0x0000000000000009-repro"))
        // Run again, it refuses to replace even its own earlier reproduction.
        let third = try CLI.shell(command, in: scratch.url)
        #expect(third.status == 2, "\(third.stderr)")
        #expect(try Self.contents(original) == before)
    }

    /// Every file under `directory`, with its bytes.
    static func contents(_ directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        while let name = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = directory.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[name] = try Data(contentsOf: URL(fileURLWithPath: path))
            }
        }
        return files
    }

    // A sometimes assertion never satisfied is listed as not covered; the run still passes.
    @Test func unsatisfiedSometimesIsNotCovered() throws {
        let template = try ScriptTemplate([
            "parallel_driver_try": #"""
                printf '%s\n' '{"antithesis_assert":{"assert_type":"sometimes","display_type":"Sometimes","condition":false,"message":"rare thing","location":{"class":"","function":"f","file":"f.sh","begin_line":1,"begin_column":0},"hit":true,"must_hit":true,"id":"rare thing","details":null}}' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT"
                """#,
        ])
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "2", "--runs", "4", "--run-dir", run.path])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("not covered: rare thing"))
        #expect(Self.assertion(try Self.report(run), "rare thing")?["verdict"] as? String == "not covered")
    }

    // A property a command declared it must hit (its catalog line) and nothing
    // hit was never checked: the run gives no verdict, exit 2, naming it —
    // never a PASS without the evidence. Once a command hits it, the run passes.
    @Test func aDeclaredPropertyNeverHitGivesNoVerdict() throws {
        let declare = #"""
            printf '%s\n' '{"antithesis_assert":{"assert_type":"always","display_type":"Always","condition":false,"message":"durability holds","location":{"class":"","function":"f","file":"f.sh","begin_line":1,"begin_column":0},"hit":false,"must_hit":true,"id":"durability holds","details":null}}' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT"
            """#
        let hit = #"""
            printf '%s\n' '{"antithesis_assert":{"assert_type":"always","display_type":"Always","condition":true,"message":"durability holds","location":{"class":"","function":"f","file":"f.sh","begin_line":1,"begin_column":0},"hit":true,"must_hit":true,"id":"durability holds","details":null}}' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT"
            """#
        // Ended by `finally_`, so that every driver runs to its end: an ending that kills the
        // drivers still running could kill one before it wrote its declaration (a loaded machine).
        let unchecked = try ScriptTemplate(["parallel_driver_declares": declare, "finally_quiet": "exit 0"])
        let run = unchecked.scratch.file("run")
        let result = try CLI.run(["compose", unchecked.directory.path, "--seed", "2", "--runs", "3", "--end", "finally", "--run-dir", run.path])
        #expect(result.status == 2, "\(result.stdout)")
        #expect(result.stdout.contains("result: NO VERDICT — no property failed, but 1 assertion that commands declared they must hit was "
            + "never hit, so never checked: durability holds\n"), "\(result.stdout)")
        #expect(try Self.report(run)["result"] as? String == "error")

        let checked = try ScriptTemplate(["parallel_driver_declares": declare, "finally_checks": declare + "\n" + hit])
        let checkedRun = checked.scratch.file("run")
        let passing = try CLI.run(["compose", checked.directory.path, "--seed", "2", "--runs", "3", "--end", "finally", "--run-dir", checkedRun.path])
        #expect(passing.status == 0, "\(passing.stdout)")
        #expect(passing.stdout.contains("result: PASS"), "\(passing.stdout)")
    }

    /// Three drivers: one that talks and passes, one that fails on its own,
    /// one whose SDK output fails an assertion (and which exits 0); and a
    /// finally_ command, so that `--end finally` lets every driver end on its
    /// own (a driver killed at the end could not be counted exactly).
    static func mixedTemplate() throws -> ScriptTemplate {
        try ScriptTemplate([
            "finally_ok": "exit 0",
            "parallel_driver_talks": "echo hello",
            "parallel_driver_fails": "echo 'it broke' >&2; exit 3",
            "parallel_driver_asserts": #"""
                printf '%s\n' '{"antithesis_assert":{"assert_type":"always","display_type":"Always","condition":false,"message":"y holds","location":{"class":"","function":"f","file":"f.sh","begin_line":1,"begin_column":0},"hit":true,"must_hit":true,"id":"y holds","details":{"why":"planted"}}}' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT"
                """#,
        ])
    }

    // A run longer than ten seconds says how it goes on stderr (a line every
    // ten seconds when stderr is not a terminal): time, drivers, faults and
    // failures so far; -q says nothing.
    @Test func aLongRunReportsProgress() throws {
        let template = try Self.mixedTemplate()
        for quiet in [false, true] {
            let run = template.scratch.file("run-\(quiet)")
            let result = try CLI.run(
                ["compose", template.directory.path, "--seed", "2", "--duration", "11", "--run-dir", run.path] + (quiet ? ["-q"] : []))
            #expect(result.status == 1, "\(result.stdout)")
            let lines = result.stderr.split(separator: "\n")
            if quiet {
                #expect(lines.isEmpty, "\(result.stderr)")
            } else {
                // At 10 s the driver phase is on; a slow end may add a line of its own.
                #expect(lines.first?.wholeMatch(of: /progress: 1[01] of 11 s, [0-9]+ drivers started; [0-9]+ commands? running, 0 faults injected, [1-9][0-9]* commands? failed on (its|their) own, 1 assertion failed/) != nil,
                        "\(result.stderr)")
                #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("progress: the driver phase over (") }, "\(result.stderr)")
            }
        }
    }

    // The reproduce line gives --duration as it was typed: 10, not 10.0.
    @Test func reproduceLineGivesTheDurationAsTyped() {
        for (duration, typed) in [(10.0, "--duration 10 "), (2.5, "--duration 2.5 ")] {
            let settings = ComposeSettings(
                template: "t", seed: 1, duration: duration, runs: nil, maxParallel: 4, faults: [], end: nil, runDirectory: "r",
                overwrite: false, sharedDatabase: nil)
            #expect(settings.reproduce.contains(typed), "\(settings.reproduce)")
        }
    }

    // The progress line of a run by time and of a run by count, with counts that agree with their nouns.
    @Test func progressLines() {
        let timed = ComposeProgress(
            phase: .drivers, elapsed: 310.4, duration: 4500, runs: nil, drivers: 12_345, running: 1, faults: 56, failedCommands: 0,
            failedAssertions: 1)
        #expect(timed.line == "progress: 310 of 4500 s, 12345 drivers started; 1 command running, 56 faults injected, "
            + "0 commands failed on their own, 1 assertion failed")
        #expect(timed.fraction == 310.4 / 4500)
        let counted = ComposeProgress(
            phase: .drivers, elapsed: 31, duration: nil, runs: 4000, drivers: 1, running: 3, faults: 1, failedCommands: 1,
            failedAssertions: 0)
        #expect(counted.line == "progress: 1 of 4000 drivers started, 31 s; 3 commands running, 1 fault injected, "
            + "1 command failed on its own, 0 assertions failed")
        #expect(counted.fraction == 1.0 / 4000)
        // Past the driver phase (its time up, or its one singleton started), the run is ending: all of it done.
        var ending = timed
        ending.phase = .ending
        ending.elapsed = 4512
        #expect(ending.line == "progress: the driver phase over (12345 drivers started), ending, 4512 s; 1 command running, "
            + "56 faults injected, 0 commands failed on their own, 1 assertion failed")
        #expect(ending.fraction == 1)
        var first = counted
        first.phase = .first
        #expect(first.line.hasPrefix("progress: the first_ command, 31 s; "))
        #expect(first.fraction == 0)
    }

    // A long run keeps in full (its record in report.json, its output files)
    // only the first failures and the last --keep-commands commands; every
    // command is still counted, every failure still fails the run, and no file
    // of a command that was not kept is left in the run directory.
    @Test func aLongRunKeepsTheFirstFailuresAndTheLastCommands() throws {
        let template = try Self.mixedTemplate()
        let run = template.scratch.file("run")
        let result = try CLI.run([
            "compose", template.directory.path, "--seed", "2", "--runs", "40", "--end", "finally", "--keep-commands", "2",
            "--run-dir", run.path,
        ])
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("commands: 41 run\n"), "\(result.stdout)")  // 40 drivers and finally_ok
        let report = try Self.report(run)
        let outcomes = try #require(report["outcomes"] as? [String: [String: Int]])
        #expect(outcomes.values.flatMap(\.values).reduce(0, +) == 41)
        #expect(outcomes.values.allSatisfy { $0["killed by the runner"] == nil }, "\(outcomes)")
        #expect(report["commandCount"] as? Int == 41)
        let fails = try #require(outcomes["parallel_driver_fails"]?["exit 3"])
        let asserts = try #require(outcomes["parallel_driver_asserts"]?["exit 0"])
        try #require(fails + asserts > 4, "the seed must fail more often than the report keeps")
        #expect(report["failedCommandCount"] as? Int == fails)
        #expect(result.stdout.contains("result: FAIL — 1 assertion failed, \(fails) commands failed"), "\(result.stdout)")
        #expect(Self.assertion(report, "y holds")?["falseHits"] as? Int == asserts)

        let commands = try #require(report["commands"] as? [[String: Any]])
        let failures = commands.filter {
            ($0["name"] as? String) != "parallel_driver_talks" && ($0["exitStatus"] as? Int != 0 || $0["assertionFailed"] as? Bool == true)
        }
        // The first two failures, the ending command, and the last two others to end
        // (failures past the first two among them).
        #expect((2...4).contains(failures.count), "\(commands)")
        #expect(commands.count == 5, "\(commands)")
        #expect(commands.last?["name"] as? String == "finally_ok")
        let sequences = commands.compactMap { $0["sequence"] as? Int }
        #expect(sequences == sequences.sorted())
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("commands").path))
        let listed = Set(commands.flatMap { ($0["output"] as? [String]) ?? [] }.map { String($0.dropFirst("commands/".count)) })
        #expect(files == listed)
        for command in commands where command["assertionFailed"] as? Bool == true {
            let sdk = try #require((command["output"] as? [String])?.first { $0.hasSuffix(".sdk.jsonl") })
            #expect(try String(contentsOf: run.appendingPathComponent(sdk), encoding: .utf8).contains(#""condition":false"#))
        }
        #expect((report["schedule"] as? [Any])?.count == 2)
        #expect(report["scheduleCount"] as? Int == 40)
    }

    // --keep-commands 0 keeps every command in full.
    @Test func keepCommandsZeroKeepsEveryCommand() throws {
        let template = try Self.mixedTemplate()
        let run = template.scratch.file("run")
        let result = try CLI.run([
            "compose", template.directory.path, "--seed", "2", "--runs", "40", "--end", "finally", "--keep-commands", "0",
            "--run-dir", run.path, "-q",
        ])
        #expect(result.status == 1, "\(result.stdout)")
        let report = try Self.report(run)
        let commands = try #require(report["commands"] as? [[String: Any]])
        #expect(commands.count == 41)
        #expect(commands.compactMap { $0["sequence"] as? Int } == Array(1...41))
        #expect((report["schedule"] as? [Any])?.count == 40)
        let files = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("commands").path)
        #expect(files.count == commands.map { ($0["output"] as? [String])?.count ?? 0 }.reduce(0, +))
        #expect(!files.isEmpty)
    }

    // A negative --keep-commands is bad input: one sentence, exit 2, no run directory.
    @Test func negativeKeepCommandsIsRefused() throws {
        let template = try Self.mixedTemplate()
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--runs", "2", "--keep-commands=-1", "--run-dir", run.path])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("--keep-commands must be 0 (keep all) or more (got -1)."), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run.path))
    }

    // An old run directory is replaced only with --overwrite, and only when all
    // it holds is what a run makes: a file of the user's there refuses the
    // overwrite, naming it, with nothing removed; otherwise the old run's files
    // go and nothing of them mixes into the new run's.
    @Test func overwriteRemovesOnlyWhatARunMakes() throws {
        let template = try ScriptTemplate(["parallel_driver_talks": "echo hello", "first_db": #"touch "$SQLITE_STRESS_DB""#])
        let run = template.scratch.file("run")
        let compose = ["compose", template.directory.path, "--seed", "4", "--runs", "2", "--run-dir", run.path, "-q"]
        let first = try CLI.run(compose)
        try #require(first.status == 0, "\(first.stderr)")
        func path(_ name: String) -> String { run.appendingPathComponent(name).path }
        try #require(FileManager.default.fileExists(atPath: path("stress.db")))

        let again = try CLI.run(compose)
        #expect(again.status == 2)
        #expect(again.stderr == "sqlite-stress: error: \(run.path) already exists; pass --overwrite to replace a run directory sqlite-stress made.\n")

        // Old output of a run, and files beside its database, as a killed driver leaves them.
        let leftovers = ["commands/9999-parallel_driver_old.out", "stress.db.copy-d17", "stress.db-journal", "stress.db.sql.1"]
        for name in leftovers { try Data("old".utf8).write(to: URL(fileURLWithPath: path(name))) }
        for name in ["notes.txt", "commands/mine.txt"] {
            try Data("the user's".utf8).write(to: URL(fileURLWithPath: path(name)))
            let refused = try CLI.run(compose + ["--overwrite"])
            #expect(refused.status == 2, "\(name)")
            #expect(refused.stderr == "sqlite-stress: error: refusing to overwrite \(run.path): \(name) in it "
                + "is not a file a compose run makes; move it out first.\n", "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
            for kept in leftovers + [name, "report.json", ComposeRunner.marker] {
                #expect(FileManager.default.fileExists(atPath: path(kept)), "\(kept) was removed")
            }
            try FileManager.default.removeItem(atPath: path(name))
        }
        try FileManager.default.createDirectory(atPath: path("stress.db.dir"), withIntermediateDirectories: false)
        let directoryRefused = try CLI.run(compose + ["--overwrite"])
        #expect(directoryRefused.status == 2)
        #expect(directoryRefused.stderr.contains(": stress.db.dir in it is not a file a compose run makes"), "\(directoryRefused.stderr)")
        try FileManager.default.removeItem(atPath: path("stress.db.dir"))

        let replaced = try CLI.run(compose + ["--overwrite"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        for name in leftovers { #expect(!FileManager.default.fileExists(atPath: path(name)), "\(name) was kept") }
        #expect(FileManager.default.fileExists(atPath: path("stress.db")))
        #expect(FileManager.default.fileExists(atPath: path("report.json")))
        let outputs = try FileManager.default.contentsOfDirectory(atPath: path("commands")).sorted()
        #expect(outputs.count == 2 && outputs.allSatisfy { $0.hasSuffix("-parallel_driver_talks.out") }, "\(outputs)")
    }

    // Each command the runner kills gets a line in the shared SQL log once it
    // and every process of its group have ended, naming the command as the
    // runner named it to the command ($SQLITE_STRESS_COMMAND), which a driver
    // names in its first line (`replay` ends what that driver left open
    // there). Commands that end on their own get none, and a run whose
    // database keeps no SQL log of sqlite-stress gets no file made for it.
    @Test func aKilledCommandIsNamedInTheSharedLog() throws {
        let template = try ScriptTemplate([
            "first_schema": "exec sqlite-stress schema --seed 1 -q",
            "parallel_driver_insert": "exec sqlite-stress insert -q",
            "parallel_driver_sleeps": "exec sleep 30",
            "eventually_check": "exec sqlite-stress check -q",
        ])
        let run = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "3", "--duration", "1", "--end", "eventually",
                                  "--run-dir", run.path, "--json", "-q"])
        #expect(result.status == 0, "\(result.stdout)")
        let report = try Self.report(run)
        let outcomes = try #require(report["outcomes"] as? [String: [String: Int]])
        let killed = outcomes.values.reduce(0) { $0 + ($1["killed by the runner"] ?? 0) }
        try #require(killed >= 1, "\(outcomes)")
        let log = try String(contentsOf: run.appendingPathComponent("stress.db.sql"), encoding: .utf8)
        let lines = log.split(separator: "\n").map { $0.drop { $0 == "\u{0C}" } }
        let killLines = lines.filter { $0.hasPrefix("-- command ") && $0.hasSuffix(" killed") }
        #expect(killLines.count == killed, "\(killLines)")
        let named = lines.filter { $0.hasPrefix("-- d") && $0.contains(" connect command ") }
        // A command's name is the run's random part and its place in the run: the kill lines name
        // exactly the commands the report says the runner killed, and each insert driver that ended
        // on its own named itself so (one the runner killed may have died before its first line).
        let names = Set(killLines.map { String($0.dropFirst("-- command ".count).dropLast(" killed".count)) })
        let runPart = try #require(names.first?.split(separator: "-").first)
        #expect(names.allSatisfy { $0.wholeMatch(of: /[0-9a-f]+-[0-9]+/) != nil && $0.hasPrefix(runPart + "-") }, "\(names)")
        let commands = try #require(report["commands"] as? [[String: Any]])
        let killedRecords = commands.filter { $0["killedByRunner"] as? Bool == true }
        #expect(Set(killedRecords.compactMap { ($0["sequence"] as? Int).map { "\(runPart)-\($0)" } }) == names)
        let namedByDrivers = Set(named.map { String($0.split(separator: " ").last!) })
        let inserts = commands.filter { $0["name"] as? String == "parallel_driver_insert" && $0["killedByRunner"] as? Bool == false }
        try #require(!inserts.isEmpty, "\(outcomes)")
        for record in inserts {
            #expect(namedByDrivers.contains("\(runPart)-\(record["sequence"] as? Int ?? 0)"), "\(record)")
        }

        let noLog = try ScriptTemplate(["parallel_driver_sleeps": "exec sleep 30", "eventually_done": "exit 0"])
        let bare = noLog.scratch.file("run")
        let quiet = try CLI.run(["compose", noLog.directory.path, "--seed", "3", "--duration", "1", "--end", "eventually",
                                 "--run-dir", bare.path, "-q"])
        #expect(quiet.status == 0, "\(quiet.stdout)")
        #expect(!FileManager.default.fileExists(atPath: bare.appendingPathComponent("stress.db.sql").path))
    }

    // Invalid templates: one sentence each, exit 2, no run directory.
    @Test func invalidTemplatesAreRefused() throws {
        let noDriver = try ScriptTemplate(["first_setup": "exit 0", "finally_check": "exit 0"])
        let notExecutable = try ScriptTemplate(["parallel_driver_x": "exit 0"], executable: false)
        let unknownPrefix = try ScriptTemplate(["parallel_driver_x": "exit 0", "drive_y": "exit 0"])
        let cases: [(String, String)] = [
            (noDriver.scratch.file("missing").path, "does not exist"),
            (noDriver.directory.path, "no driver or anytime command"),
            (notExecutable.directory.path, "is not executable"),
            (unknownPrefix.directory.path, "has no Test Composer prefix"),
        ]
        for (directory, words) in cases {
            let run = noDriver.scratch.file("run")
            let result = try CLI.run(["compose", directory, "--runs", "2", "--run-dir", run.path])
            #expect(result.status == 2, "\(directory): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(result.stderr.contains(words), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: run.path))
        }
    }

    // Interrupted with SIGINT, the runner kills every command it started (and
    // what they started) before it exits, and with nothing failed says it was
    // interrupted (exit 130), not that the run failed.
    @Test func interruptLeavesNoChildren() throws {
        let template = try ScriptTemplate([
            "parallel_driver_sleep": #"echo $$ >> "$PIDS"; sleep 60 & echo $! >> "$PIDS"; wait"#,
        ])
        let pids = template.scratch.file("pids")
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["compose", template.directory.path, "--seed", "3", "--runs", "4", "--max-parallel", "4",
                             "--run-dir", template.scratch.file("run").path, "-q"]
        var environment = ProcessInfo.processInfo.environment
        environment["PIDS"] = pids.path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        // At least one driver (a shell and its background sleep) is running.
        while Date() < deadline, ((try? String(contentsOf: pids, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 2 {
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGINT)
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        // Nothing failed: the report says it was interrupted, not that it failed (as stress does).
        #expect(report.contains("\nresult: INTERRUPTED after "), "\(report)")
        #expect(report.contains(" s — nothing failed so far; the run did not reach its end\n"), "\(report)")
        let started = try String(contentsOf: pids, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        #expect(started.count >= 2)
        usleep(100_000)
        for pid in started {
            // Gone, or a zombie waiting for init to reap it (an orphan's parent is gone): not running.
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            #expect(stat.isEmpty || state == "Z", "process \(pid) outlived the runner: \(stat)")
        }
    }
}

@Suite struct ReplayTests {
    // A one-thread run's log, and several drivers' shared log, replay with every
    // result as recorded, and the replay names the database it wrote.
    @Test func logsReplayExactly() throws {
        let scratch = try Scratch()
        let db = scratch.file("m.db").path
        #expect(try CLI.run(["stress", "--seed", "6", "--iterations", "200", "--db", db, "-q"]).status == 0)
        let monolith = try CLI.run(["replay", db + ".sql"])
        #expect(monolith.status == 0, "\(monolith.stdout)")
        #expect(monolith.stdout.contains("every result as recorded"))
        #expect(monolith.stdout.contains("\nreplay database: \(db).sql.replay.db\n"), "\(monolith.stdout)")

        let shared = scratch.file("c.db").path
        #expect(try CLI.run(["schema", "--db", shared, "--seed", "2", "-q"]).status == 0)
        for (index, kind) in ["insert", "update", "delete", "rollback", "transfer", "insert"].enumerated() {
            #expect(try CLI.run([kind, "--db", shared, "--seed", "\(index)", "-q"]).status == 0)
        }
        let drivers = try CLI.run(["replay", shared + ".sql", "--db", scratch.file("r.db").path])
        #expect(drivers.status == 0, "\(drivers.stdout)")
        #expect(drivers.stdout.contains("\nreplay database: \(scratch.file("r.db").path)\n"), "\(drivers.stdout)")
    }

    // A replay reads the commit order from the run's database and leaves the
    // run's files as they were: no WAL or WAL index beside a WAL-mode database
    // (a read-only connection to one would leave both), and no copy where the
    // log's VACUUM INTO wrote one.
    @Test func aReplayLeavesTheRunsFilesAsTheyWere() throws {
        let run = try Scratch(), elsewhere = try Scratch()
        let stress = try CLI.run(
            ["stress", "--seed", "3", "--iterations", "300", "--threads", "2", "--journal-mode", "wal", "--db", "s.db", "-q"], in: run.url)
        try #require(stress.status == 0, "\(stress.stdout)\(stress.stderr)")
        let log = try String(contentsOf: run.file("s.db.sql"), encoding: .utf8)
        try #require(log.contains("\nVACUUM INTO 's.db.copy-t"), "the run made a VACUUM INTO copy")
        let before = try run.snapshot()
        #expect(Set(before.keys) == ["s.db", "s.db.sql", "s.db.acks"])
        let replay = try CLI.run(["replay", "s.db.sql", "--db", elsewhere.file("r.db").path, "-q"], in: run.url)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(try run.snapshot() == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.url.path) == ["r.db"])
    }

    // --overwrite replaces a replay database of ours with its sidecars; one that
    // cannot be removed is one sentence and exit 2, never a replay into what is left.
    @Test func overwriteReplacesTheDatabaseOrSaysWhyNot() throws {
        let scratch = try Scratch()
        let db = scratch.file("m.db").path, target = scratch.file("r.db").path
        #expect(try CLI.run(["stress", "--seed", "6", "--iterations", "50", "--db", db, "-q"]).status == 0)
        #expect(try CLI.run(["replay", db + ".sql", "--db", target, "-q"]).status == 0)
        try Data("stale".utf8).write(to: scratch.file("r.db-journal"))
        let again = try CLI.run(["replay", db + ".sql", "--db", target, "--overwrite", "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target + "-journal"), "the old journal went with its database")

        try FileManager.default.createDirectory(atPath: target + "-wal", withIntermediateDirectories: false)
        let refused = try CLI.run(["replay", db + ".sql", "--db", target, "--overwrite", "-q"])
        #expect(refused.status == 2)
        #expect(refused.stderr == "sqlite-stress: error: \(target)-wal is a directory, not a file SQLite could use beside its "
            + "database; refusing to remove it.\n")
    }

    // A VACUUM whose line a kill took moved the run's schema cookie and not
    // the replay's; here one runs behind the log's back. Each driver logs its
    // read of the schema and its cookie, which the replay pairs with the
    // cookie the driver's context statements name: once two pairs show the
    // same lag, the replay moves its own cookie on by it, and the drivers'
    // guarded writes replay as recorded. A result planted after the VACUUM is still a
    // difference, at its line.
    @Test(arguments: [false, true])
    func aVacuumTheLogDoesNotHoldIsNoDifference(planted: Bool) throws {
        let scratch = try Scratch()
        let db = scratch.file("v.db").path
        #expect(try CLI.run(["schema", "--db", db, "--seed", "2", "-q"]).status == 0)
        #expect(try CLI.run(["insert", "--db", db, "--seed", "1", "-q"]).status == 0)
        let vacuum = try Connection(path: db)
        try vacuum.execute("VACUUM")
        vacuum.close()
        for (index, kind) in ["insert", "update", "insert", "delete"].enumerated() {
            #expect(try CLI.run([kind, "--db", db, "--seed", "\(10 + index)", "-q"]).status == 0)
        }
        var lines = try String(contentsOfFile: db + ".sql", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        // A driver's lines begin with a form feed where one of its writes does.
        let reads = lines.map { $0.drop { $0 == "\u{0C}" } }.filter {
            $0.hasPrefix(Bookkeeping.schemaQuery + "; -- d") && $0.hasSuffix(" connect ok rows=1")
        }
        #expect(reads.count == 5, "each driver logs its read of the schema: \(reads)")
        let target = try #require(lines.lastIndex { $0.hasPrefix("INSERT INTO \"t") && $0.hasSuffix(" ok changes=1") })
        if planted {
            lines[target] = Substring(lines[target].replacingOccurrences(of: " ok changes=1", with: " ok changes=2"))
            try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: db + ".sql"))
        }
        let replay = try CLI.run(["replay", db + ".sql", "--db", scratch.file("r.db").path])
        if planted {
            #expect(replay.status == 1, "\(replay.stdout)")
            #expect(replay.stdout.contains("log line \(target + 1),"), "\(replay.stdout)")
            #expect(replay.stdout.contains("replayed: ok changes=1"), "\(replay.stdout)")
        } else {
            #expect(replay.status == 0, "\(replay.stdout)")
            #expect(replay.stdout.contains("every result as recorded"), "\(replay.stdout)")
            #expect(replay.stdout.contains("the schema cookie moved on 1 time where the run's moved without a line"), "\(replay.stdout)")
        }
    }

    // A recorded result that no longer holds stops the replay there, naming the line.
    @Test func differenceStopsAtItsLine() throws {
        let scratch = try Scratch()
        let db = scratch.file("m.db").path
        #expect(try CLI.run(["stress", "--seed", "6", "--iterations", "100", "--db", db, "-q"]).status == 0)
        var lines = try String(contentsOfFile: db + ".sql", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let target = try #require(lines.firstIndex { $0.hasSuffix(" ok changes=1") && $0.hasPrefix("INSERT") })
        lines[target] = Substring(lines[target].replacingOccurrences(of: " ok changes=1", with: " ok changes=2"))
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: db + ".sql"))
        let result = try CLI.run(["replay", db + ".sql"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("log line \(target + 1)"), "\(result.stdout)")
        #expect(result.stdout.contains("recorded: ok changes=2"))
        #expect(result.stdout.contains("replayed: ok changes=1"))
    }

    // A four-thread run's log replays to the end in each journal mode: lock
    // contention and the log's near-order are timing, not content. (Without
    // schema changes: a reordering across one is reported; see the README.)
    @Test(arguments: ["wal", "delete"])
    func fourThreadLogsReplay(_ mode: String) throws {
        let scratch = try Scratch()
        let db = scratch.file("four.db").path
        let run = try CLI.run(["stress", "--seed", "44", "--threads", "4", "--iterations", "200", "--journal-mode", mode,
                               "--no-schema-changes", "--db", db, "-q"])
        #expect(run.status == 0, "\(run.stdout)")
        let replay = try CLI.run(["replay", db + ".sql"])
        #expect(replay.status == 0, "\(replay.stdout)")
        #expect(replay.stdout.contains("of 4 writers and the set-up, every result as recorded"), "\(replay.stdout)")
    }

    // A content difference planted in a four-thread log — an account deleted
    // right after the setup — is caught where the workload next touches that
    // account, not waved through as timing: beside its database, whose ledger
    // gives the commit order the replay follows. A log away from its database
    // has no order to follow, so the same difference there may be that order's:
    // the replay still shows it but gives no verdict (exit 2), never a finding.
    @Test func plantedDifferenceInAFourThreadLogIsCaught() throws {
        let scratch = try Scratch()
        let db = scratch.file("four.db").path
        let (account, setupEnd) = try Self.plantDifference(db, compactEvery: nil)
        let replay = try CLI.run(["replay", db + ".sql"])
        #expect(replay.status == 1, "\(replay.stdout)")
        let number = try #require(replay.stdout.firstMatch(of: /differs at log line ([0-9]+)/)?.1)
        let line = try #require(Int(number))
        #expect(line > setupEnd + 1)
        #expect(replay.stdout.contains("statement: UPDATE stress_accounts SET balance = ")
            || replay.stdout.contains("statement: SELECT balance FROM stress_accounts"), "\(replay.stdout)")
        #expect(replay.stdout.contains("WHERE id = \(account)\n"), "\(replay.stdout)")

        let moved = scratch.file("moved.sql").path
        try FileManager.default.copyItem(atPath: db + ".sql", toPath: moved)
        let away = try CLI.run(["replay", moved])
        #expect(away.status == 2, "\(away.stdout)")
        #expect(away.stdout.contains("replay: the result differs at log line \(line),"), "\(away.stdout)")
        #expect(away.stdout.contains("\nresult: NO VERDICT — the run's database is not beside the log,"), "\(away.stdout)")
    }

    /// Runs `stress` (seed 44, four threads, 200 iterations, no schema changes) into `db`,
    /// then plants a content difference in its log: the account the first
    /// transfer debits, deleted right after the setup. Returns the account and
    /// the log's index of the setup's last line.
    static func plantDifference(_ db: String, compactEvery: Int?) throws -> (account: Substring, setupEnd: Int) {
        let run = try CLI.run(["stress", "--seed", "44", "--threads", "4", "--iterations", "200", "--no-schema-changes", "--db", db, "-q"]
            + (compactEvery.map { ["--compact-every", "\($0)"] } ?? []))
        #expect(run.status == 0, "\(run.stdout)")
        var lines = try String(contentsOfFile: db + ".sql", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let debit = try #require(lines.firstIndex { $0.hasPrefix("UPDATE stress_accounts SET balance = ") && $0.contains(" ok changes=1") })
        let account = try #require(lines[debit].firstMatch(of: /WHERE id = ([0-9]+);/)?.1)
        let setupEnd = try #require(lines.lastIndex { $0.contains("; -- setup ") })
        lines.insert("DELETE FROM stress_accounts WHERE id = \(account); -- planted x1 ok changes=1", at: setupEnd + 1)
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: db + ".sql"))
        return (account, setupEnd)
    }

    // A compaction removes ledger entries that placed their transactions in
    // the commit order a replay of several writers follows, and logs their
    // places first; so the same planted difference in a compacted four-thread
    // log is still a finding (exit 1) where the workload next touches that
    // account. A log whose compactions logged no places (an earlier version's:
    // here, its order lines taken out) has lost that order: the difference may
    // be the order's, so the replay shows it but gives no verdict (exit 2),
    // never a finding. One in a one-thread log, compacted, is a finding (exit 1).
    @Test func aDifferenceInACompactedLogIsAFindingWhileItsCompactionsLogTheOrder() throws {
        let scratch = try Scratch()
        let four = scratch.file("four.db").path
        let (account, setupEnd) = try Self.plantDifference(four, compactEvery: 20)
        let log = try String(contentsOfFile: four + ".sql", encoding: .utf8)
        // A compaction's order line: `-- <writer> <transaction> order <transaction id>:<seq> …`.
        let orderLine = /^-- t[0-9]+ x[0-9]+ order( |$)/
        let logLines = log.split(separator: "\n", omittingEmptySubsequences: false)
        try #require(logLines.contains { $0.contains(orderLine) }, "the run compacted, and logged the places")
        let replay = try CLI.run(["replay", four + ".sql"])
        #expect(replay.status == 1, "\(replay.stdout)")
        let number = try #require(replay.stdout.firstMatch(of: /differs at log line ([0-9]+)/)?.1)
        #expect(try #require(Int(number)) > setupEnd + 1)
        #expect(replay.stdout.contains("WHERE id = \(account)\n"), "\(replay.stdout)")
        #expect(!replay.stdout.contains("NO VERDICT"), "\(replay.stdout)")

        let unordered = logLines.filter { !$0.contains(orderLine) }
        try Data(unordered.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: four + ".sql"))
        let withoutOrder = try CLI.run(["replay", four + ".sql", "--overwrite"])
        #expect(withoutOrder.status == 2, "\(withoutOrder.stdout)")
        #expect(withoutOrder.stdout.contains("replay: the result differs at log line "), "\(withoutOrder.stdout)")
        #expect(withoutOrder.stdout.contains("\nresult: NO VERDICT — the run compacted its ledger, and its log does not say where "
            + "the transactions a compaction removed committed"), "\(withoutOrder.stdout)")

        // One thread, compacted: the last insert's recorded row count changed.
        let one = scratch.file("one.db").path
        let run = try CLI.run(["stress", "--seed", "44", "--iterations", "200", "--no-schema-changes", "--compact-every", "20", "--db", one, "-q"])
        try #require(run.status == 0, "\(run.stdout)")
        var lines = try String(contentsOfFile: one + ".sql", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(lines.contains { $0.contains("INSERT INTO temp.stress_compacting") }, "the run compacted")
        let insert = try #require(lines.lastIndex { $0.hasPrefix("INSERT INTO \"t") && $0.contains(" -- t0 ") && $0.hasSuffix(" ok changes=1") })
        lines[insert] = String(lines[insert].dropLast(1)) + "2"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: one + ".sql"))
        let exact = try CLI.run(["replay", one + ".sql"])
        #expect(exact.status == 1, "\(exact.stdout)")
        #expect(exact.stdout.contains("replay: the result differs at log line \(insert + 1),"), "\(exact.stdout)")
        #expect(!exact.stdout.contains("NO VERDICT"), "\(exact.stdout)")
    }

    // Bad input: one sentence, exit 2.
    @Test func badLogsAreRefused() throws {
        let scratch = try Scratch()
        try Data("SELECT 1;\n".utf8).write(to: scratch.file("plain.sql"))
        for log in [scratch.file("missing.sql").path, scratch.file("plain.sql").path] {
            let result = try CLI.run(["replay", log])
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
    }
}

@Suite struct SDKOutputParsingTests {
    // A message glued after a fragment torn by a kill is still read; a lone fragment is not a message.
    @Test func tornLinesYieldTheMessageAfterThem() throws {
        let scratch = try Scratch()
        let message = #"{"antithesis_assert":{"assert_type":"always","display_type":"Always","condition":false,"message":"m","location":{},"hit":true,"must_hit":true,"id":"m","details":null}}"#
        try Data((#"{"antithesis_assert":{"assert_ty"# + message + "\n" + #"{"antithesis_sdk":{"#).utf8)
            .write(to: scratch.file("sdk.jsonl"))
        // Through the runner: a template whose anytime command writes exactly that file content.
        let template = try ComposeTests.ScriptTemplate([
            "parallel_driver_ok": "exit 0",
            "anytime_torn": "cat '\(scratch.file("sdk.jsonl").path)' >> \"$ANTITHESIS_SDK_LOCAL_OUTPUT\"",
        ])
        let runDirectory = template.scratch.file("run")
        let result = try CLI.run(["compose", template.directory.path, "--seed", "1", "--runs", "6", "--run-dir", runDirectory.path])
        // The recovered message is an always(false): the run fails on it, and the
        // fragment each run of the command leaves at the end of its own output (no
        // command was killed) is reported too.
        #expect(result.status == 1, "\(result.stdout)")
        let report = try ComposeTests.report(runDirectory)
        #expect(ComposeTests.assertion(report, "m")?["verdict"] as? String == "failed")
        let runs = try #require((report["outcomes"] as? [String: [String: Int]])?["anytime_torn"]?["exit 0"])
        #expect(result.stdout.contains("SDK output: \(runs == 1 ? "1 line" : "\(runs) lines") not JSON\n"), "\(result.stdout)")
    }

    // A torn line is excused only in the output of a command the runner
    // killed (or of one that stopped with exit 2, as a full disk tears a write;
    // see aCommandThatStopsOnAnErrorGivesNoVerdict), which each command's file of its own tells apart: a driver
    // killed at the end leaves a fragment and the run passes; a first_
    // command that ended on its own leaving one fails the run beside it.
    @Test func onlyAKilledCommandsTornLineIsExcused() throws {
        let fragment = #"printf '%s' '{"antithesis_assert":{"assert_ty' >> "$ANTITHESIS_SDK_LOCAL_OUTPUT""#
        // One driver at a time, for 2 s: the one started first writes its fragment
        // and sleeps until the end kills it, and no other starts beside it.
        func run(_ files: [String: String]) throws -> CommandResult {
            let template = try ComposeTests.ScriptTemplate(files.merging([
                "parallel_driver_torn": fragment + "\nexec sleep 30", "eventually_ok": "exit 0",
            ]) { own, _ in own })
            let result = try CLI.run([
                "compose", template.directory.path, "--seed", "1", "--duration", "2", "--max-parallel", "1", "--end", "eventually",
                "--run-dir", template.scratch.file("run").path,
            ])
            #expect(result.stdout.contains("parallel_driver_torn: 1 (killed by the runner ×1)"), "\(result.stdout)")
            return result
        }
        let passing = try run([:])
        #expect(passing.status == 0, "\(passing.stdout)")
        #expect(passing.stdout.contains("SDK output: 1 line not JSON (torn by commands killed mid-write or stopped on an error of "
            + "their environment)"), "\(passing.stdout)")

        let failing = try run(["first_torn": fragment])
        #expect(failing.status == 1, "\(failing.stdout)")
        #expect(failing.stdout.contains("SDK output: 2 lines not JSON\n"), "\(failing.stdout)")
        #expect(failing.stdout.contains("result: FAIL — malformed SDK output"), "\(failing.stdout)")
    }
}
