import Foundation
import Testing

@Suite struct ComposeTests {
    /// PATH with the built binary first, as the templates exec `sqlite-stress`.
    static let path = ["PATH": CLI.binary.deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]

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
    // with kills really injected.
    @Test func composedTemplatePassesUnderFaults() throws {
        let scratch = try Scratch()
        let run = scratch.file("run")
        let result = try CLI.run([
            "compose", CLI.packageRoot.appendingPathComponent("composer/composed").path, "--seed", "7", "--runs", "30",
            "--faults", "kill,pause", "--run-dir", run.path,
        ], environment: Self.path)
        #expect(result.status == 0, "\(result.stdout.suffix(3000))")
        #expect(result.stdout.contains("result: PASS"))
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
            ], environment: Self.path)
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
        ], environment: Self.path).status == 0)
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
            ], environment: Self.path)
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
            "parallel_driver_block": #"mkdir -p "$(dirname "$ANTITHESIS_SDK_LOCAL_OUTPUT")/report.json""#,
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
    // what they started) before it exits.
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
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        // At least one driver (a shell and its background sleep) is running.
        while Date() < deadline, ((try? String(contentsOf: pids, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 2 {
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
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
    // result as recorded.
    @Test func logsReplayExactly() throws {
        let scratch = try Scratch()
        let db = scratch.file("m.db").path
        #expect(try CLI.run(["stress", "--seed", "6", "--iterations", "200", "--db", db, "-q"]).status == 0)
        let monolith = try CLI.run(["replay", db + ".sql"])
        #expect(monolith.status == 0, "\(monolith.stdout)")
        #expect(monolith.stdout.contains("every result as recorded"))

        let shared = scratch.file("c.db").path
        #expect(try CLI.run(["schema", "--db", shared, "--seed", "2", "-q"]).status == 0)
        for (index, kind) in ["insert", "update", "delete", "rollback", "transfer", "insert"].enumerated() {
            #expect(try CLI.run([kind, "--db", shared, "--seed", "\(index)", "-q"]).status == 0)
        }
        let drivers = try CLI.run(["replay", shared + ".sql", "--db", scratch.file("r.db").path])
        #expect(drivers.status == 0, "\(drivers.stdout)")
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
        // The recovered message is an always(false): the run fails on it, and the fragment
        // (no command was killed) is reported too.
        #expect(result.status == 1, "\(result.stdout)")
        #expect(ComposeTests.assertion(try ComposeTests.report(runDirectory), "m")?["verdict"] as? String == "failed")
        #expect(result.stdout.contains("line(s) are not JSON"))
    }
}
