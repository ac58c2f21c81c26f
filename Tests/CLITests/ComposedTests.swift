import Foundation
import StressSQLite
import Testing

/// The Test Composer lifecycle by hand, from the layout the container image has.
@Suite struct ComposedTests {
    /// An installation made by scripts/install-layout, and an environment that runs from it.
    struct Installed {
        let scratch: Scratch
        let root: URL
        let environment: [String: String]

        init() throws {
            scratch = try Scratch()
            root = scratch.file("root")
            let install = try CLI.exec(
                URL(fileURLWithPath: "/bin/bash"),
                [CLI.packageRoot.appendingPathComponent("scripts/install-layout").path, root.path, CLI.binary.path])
            #expect(install.status == 0, "\(install.stderr)")
            environment = [
                "PATH": root.appendingPathComponent("usr/local/bin").path + ":/usr/bin:/bin",
                "SQLITE_STRESS_DB": scratch.file("shared.db").path,
                "ANTITHESIS_SDK_LOCAL_OUTPUT": scratch.file("sdk.jsonl").path,
            ]
        }

        func command(_ template: String, _ name: String) -> URL {
            root.appendingPathComponent("opt/antithesis/test/v1/\(template)/\(name)")
        }

        func run(_ template: String, _ name: String, _ arguments: [String] = []) throws -> CommandResult {
            try CLI.exec(command(template, name), arguments, in: scratch.url, environment: environment)
        }

        func start(_ template: String, _ name: String, _ arguments: [String] = []) throws -> Process {
            let process = Process()
            process.executableURL = command(template, name)
            process.arguments = arguments
            process.currentDirectoryURL = scratch.url
            var env = ProcessInfo.processInfo.environment
            env["SQLITE_STRESS_SEED"] = nil
            for (key, value) in environment { env[key] = value }
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        /// Every line of the SDK output, parsed; with `tornAllowed` (commands were
        /// SIGKILLed, which can cut a write short), lines that are not JSON are skipped.
        func sdkLines(tornAllowed: Bool = false) throws -> [[String: Any]] {
            let text = (try? String(contentsOf: scratch.file("sdk.jsonl"), encoding: .utf8)) ?? ""
            return try text.split(separator: "\n").compactMap { line -> [String: Any]? in
                let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                if tornAllowed { return object }
                let parsed: [String: Any] = try #require(object, "not JSON: \(line)")
                return parsed
            }
        }
    }

    static let drivers = [
        "insert", "update", "delete", "rollback", "transfer", "savepoint", "create-table", "drop-table", "create-index",
        "drop-index", "alter-table", "schema-rollback", "vacuum", "checkpoint", "analyze", "compact",
    ]

    // The install script makes exactly the layout the Dockerfile promises.
    @Test func installLayout() throws {
        let installed = try Installed()
        let fm = FileManager.default
        #expect(fm.isExecutableFile(atPath: installed.root.appendingPathComponent("usr/local/bin/sqlite-stress").path))
        #expect(fm.isExecutableFile(atPath: installed.root.appendingPathComponent("usr/local/bin/sqlite-stress-entrypoint").path))
        let composed = try fm.contentsOfDirectory(atPath: installed.root.appendingPathComponent("opt/antithesis/test/v1/composed").path)
        #expect(Set(composed) == Set(["first_schema", "anytime_integrity", "eventually_check", "finally_check"]
            + Self.drivers.map { "parallel_driver_" + $0.replacing("-", with: "_") }))
        let monolith = try fm.contentsOfDirectory(atPath: installed.root.appendingPathComponent("opt/antithesis/test/v1/monolith").path)
        #expect(Set(monolith) == ["singleton_driver_stress", "finally_check"])
        for name in composed { #expect(fm.isExecutableFile(atPath: installed.command("composed", name).path)) }
    }

    static let setupComplete = #"{"antithesis_setup":{"status":"complete","details":null}}"#

    /// Runs the installed entrypoint with `environment` on top of the test's own.
    func entrypoint(_ installed: Installed, _ environment: [String: String], _ command: [String] = ["sh", "-c", "echo ran"]) throws -> CommandResult {
        try CLI.exec(installed.root.appendingPathComponent("usr/local/bin/sqlite-stress-entrypoint"), command, environment: environment)
    }

    // The entrypoint appends setup_complete to $ANTITHESIS_OUTPUT_DIR/sdk.jsonl
    // (keeping what is there, after the SDK line) and runs its arguments.
    @Test func entrypointSignalsSetupComplete() throws {
        let installed = try Installed()
        let directory = installed.scratch.file("out")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("earlier\n".utf8).write(to: directory.appendingPathComponent("sdk.jsonl"))
        let result = try entrypoint(installed, ["ANTITHESIS_OUTPUT_DIR": directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ran\n")
        let lines = try String(contentsOf: directory.appendingPathComponent("sdk.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first == "earlier")
        #expect(lines.dropFirst().first?.hasPrefix(#"{"antithesis_sdk":"#) == true)
        #expect(lines.last.map(String.init) == Self.setupComplete)
    }

    // With only $ANTITHESIS_SDK_LOCAL_OUTPUT set, setup_complete lands in that file,
    // as every other SDK message does.
    @Test func entrypointFollowsTheLocalOutput() throws {
        let installed = try Installed()
        let file = installed.scratch.file("local.jsonl")
        let result = try entrypoint(installed, ["ANTITHESIS_SDK_LOCAL_OUTPUT": file.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ran\n")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.last == Self.setupComplete)
        #expect(lines.count == 2)
    }

    // Inside Antithesis setup_complete goes to libvoidstar, not to any file.
    @Test func entrypointUsesLibvoidstar() throws {
        let installed = try Installed()
        let directory = installed.scratch.file("out")
        var environment = StandIn.environment(installed.scratch, "entrypoint")
        environment["ANTITHESIS_OUTPUT_DIR"] = directory.path
        let result = try entrypoint(installed, environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(StandIn.messages(installed.scratch, "entrypoint").last == Self.setupComplete)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("sdk.jsonl").path))
    }

    // A container told not to announce (all but the last to come up) sends
    // nothing and still runs its command.
    @Test func entrypointCanStayQuiet() throws {
        let installed = try Installed()
        let file = installed.scratch.file("local.jsonl")
        let result = try entrypoint(installed, ["ANTITHESIS_SDK_LOCAL_OUTPUT": file.path, "SQLITE_STRESS_ANNOUNCE_SETUP": "0"])
        #expect(result.status == 0)
        #expect(result.stdout == "ran\n")
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    // An SDK output that cannot be written stops the container with one sentence
    // (Antithesis would otherwise wait for setup forever), and runs nothing.
    @Test func entrypointFailsLoudlyWhenItCannotAnnounce() throws {
        let installed = try Installed()
        let file = installed.scratch.file("missing-directory/local.jsonl")
        let result = try entrypoint(installed, ["ANTITHESIS_SDK_LOCAL_OUTPUT": file.path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("setup_complete"), "\(result.stderr)")
    }

    // first_schema; then ten drivers of every kind at once, as separate processes,
    // with anytime_integrity alongside; then finally_check: every exit 0, every
    // property passing, and the SDK output well formed.
    @Test func composedLifecycle() throws {
        let installed = try Installed()
        let first = try installed.run("composed", "first_schema", ["--seed", "0xf1"])
        #expect(first.status == 0, "\(first.stderr)")
        var processes: [(String, Process)] = []
        for round in 0..<2 {
            for kind in Self.drivers {
                processes.append((kind, try installed.start(
                    "composed", "parallel_driver_" + kind.replacing("-", with: "_"), ["--seed", "\(round * 10 + kind.count)"])))
            }
        }
        var integrityRuns = 0
        while processes.contains(where: { $0.1.isRunning }) || integrityRuns == 0 {
            let integrity = try installed.run("composed", "anytime_integrity")
            #expect(integrity.status == 0, "\(integrity.stdout)")
            integrityRuns += 1
        }
        for (kind, process) in processes {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(kind) exited \(process.terminationStatus)")
        }
        let final = try installed.run("composed", "finally_check", ["--json"])
        #expect(final.status == 0, "\(final.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(final.stdout.utf8)) as? [String: Any])
        let properties = try #require(json["properties"] as? [[String: Any]])
        #expect(properties.count == 7)
        #expect(properties.allSatisfy { $0["status"] as? String == "pass" }, "\(properties)")

        // Every line is JSON; every hit follows a catalog entry of its id; no always failed.
        let lines = try installed.sdkLines()
        let asserts = lines.compactMap { $0["antithesis_assert"] as? [String: Any] }
        var declared = Set<String>()
        for assert in asserts {
            let id = assert["id"] as? String ?? ""
            if assert["hit"] as? Bool == false { declared.insert(id) } else { #expect(declared.contains(id), "\(id) hit before it was declared") }
        }
        #expect(!asserts.contains { $0["hit"] as? Bool == true && $0["assert_type"] as? String == "always" && $0["condition"] as? Bool == false })
        #expect(asserts.contains { $0["id"] as? String == "model: contents equal the fold of the ledger" && $0["hit"] as? Bool == true && $0["condition"] as? Bool == true })
        #expect(asserts.contains { $0["id"] as? String == "coverage: a transaction committed" && $0["condition"] as? Bool == true })
    }

    // Drivers killed with SIGKILL at random moments, mid-transaction; then
    // eventually_check waits for the database and finds every property intact.
    @Test func killedDriversThenEventually() throws {
        let installed = try Installed()
        #expect(try installed.run("composed", "first_schema", ["--seed", "0xb1"]).status == 0)
        var rng = SystemRandomNumberGenerator()
        var killed = 0
        for wave in 0..<6 {
            var processes: [Process] = []
            for (index, kind) in Self.drivers.enumerated() {
                processes.append(try installed.start("composed", "parallel_driver_" + kind.replacing("-", with: "_"), ["--seed", "\(wave * 100 + index)"]))
            }
            // A driver runs for some tens of milliseconds: kill most of those still running.
            usleep(UInt32.random(in: 2_000...30_000, using: &rng))
            for process in processes where process.isRunning && Double.random(in: 0..<1, using: &rng) < 0.7 {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            for process in processes {
                process.waitUntilExit()
                #expect(process.terminationReason == .uncaughtSignal || process.terminationStatus == 0)
            }
        }
        #expect(killed > 0, "no driver was killed mid-run")
        let eventually = try installed.run("composed", "eventually_check", ["--json"])
        #expect(eventually.status == 0, "\(eventually.stdout)\(eventually.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(eventually.stdout.utf8)) as? [String: Any])
        #expect(json["result"] as? String == "pass", "killed \(killed): \(eventually.stdout)")
        let asserts = try installed.sdkLines(tornAllowed: true).compactMap { $0["antithesis_assert"] as? [String: Any] }
        #expect(asserts.contains { $0["id"] as? String == "check --wait: the database opens once the workload has stopped" && $0["hit"] as? Bool == true })
    }

    // A driver before first_schema, or against a database made by something else:
    // one sentence, exit 2, nothing created.
    @Test func driversNeedTheSchema() throws {
        let scratch = try Scratch()
        let other = try Connection(path: scratch.file("other.db").path)
        try other.execute("CREATE TABLE x(a)")
        other.close()
        let before = try scratch.snapshot()
        for kind in Self.drivers {
            for name in ["missing.db", "other.db"] {
                let result = try CLI.run([kind, "--db", scratch.file(name).path, "--seed", "1"])
                #expect(result.status == 2, "\(kind) on \(name): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1)
                #expect(result.stderr.contains("schema"), "\(result.stderr)")
            }
        }
        #expect(try scratch.snapshot() == before)
    }

    // A stress_meta whose schema is damaged (a blob default of odd-length hex,
    // a missing key) stops every driver with one sentence and exit 2 naming
    // stress_meta — never a crash, and never blamed on SQLite.
    @Test func damagedSchemaRecordIsOneSentence() throws {
        let scratch = try Scratch()
        let db = scratch.file("meta.db").path
        #expect(try CLI.run(["schema", "--db", db, "--seed", "2", "-q"]).status == 0)
        let connection = try Connection(path: db)
        let recorded = try connection.scalar("SELECT value FROM stress_meta WHERE key = 'schema'")
        let text = try #require({ if case .text(let json)? = recorded { json } else { nil } }(), "no schema recorded")
        var schema = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var tables = try #require(schema["tables"] as? [[String: Any]])
        var columns = try #require(tables[0]["columns"] as? [[String: Any]])
        columns[0]["defaultValue"] = ["blob": "abc"]
        tables[0]["columns"] = columns
        schema["tables"] = tables
        let damaged = String(decoding: try JSONSerialization.data(withJSONObject: schema), as: UTF8.self)
        let update = try connection.prepare("UPDATE stress_meta SET value = ? WHERE key = 'schema'")
        update.bind([.text(damaged)])
        try update.step()
        for (edit, name) in [("", "odd-length hex"), ("DELETE FROM stress_meta WHERE key = 'config'", "no config")] {
            if !edit.isEmpty { try connection.execute(edit) }
            for kind in Self.drivers {
                let result = try CLI.run([kind, "--db", db, "--seed", "1"])
                #expect(result.status == 2, "\(kind), \(name): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("stress_meta"), "\(result.stderr)")
                #expect(!result.stderr.contains("SQLITE_"), "\(result.stderr)")
            }
        }
        connection.close()
    }

    // A deliberately failing property shows in the SDK output as an always hit
    // with condition false and its details.
    @Test func failingPropertyIsAnAlwaysFalse() throws {
        let installed = try Installed()
        #expect(try installed.run("composed", "first_schema", ["--seed", "3"]).status == 0)
        #expect(try installed.run("composed", "parallel_driver_transfer", ["--seed", "4"]).status == 0)
        let db = try Connection(path: installed.environment["SQLITE_STRESS_DB"]!)
        try db.execute("UPDATE stress_accounts SET balance = balance + 7 WHERE id = 1")
        db.close()
        let check = try installed.run("composed", "finally_check")
        #expect(check.status == 1)
        let asserts = try installed.sdkLines().compactMap { $0["antithesis_assert"] as? [String: Any] }
        let failed = try #require(asserts.first {
            $0["id"] as? String == "conservation: the accounts' total never changes" && $0["hit"] as? Bool == true
                && $0["condition"] as? Bool == false
        })
        let details = try #require(failed["details"] as? [String: String])
        #expect(details["table"] == "stress_accounts")
        #expect(details["actual"]?.hasPrefix("16007") == true, "\(details)")
    }

    // A command whose SDK output cannot take its messages (a full disk, here
    // /dev/full; a directory that is not there) says so in one sentence and,
    // where it found nothing, exits 2: its assertions may be missing from what
    // the runner judges. A violation it found keeps exit 1.
    @Test func anSDKOutputThatFailsIsNoPass() throws {
        let scratch = try Scratch()
        let db = scratch.file("s.db").path
        try #require(try CLI.run(["schema", "--db", db, "--seed", "3", "-q"]).status == 0)
        let working = try CLI.run(["insert", "--db", db, "--seed", "1", "-q"], environment: ["ANTITHESIS_SDK_LOCAL_OUTPUT": scratch.file("sdk.jsonl").path])
        #expect(working.status == 0 && working.stderr.isEmpty, "\(working.stdout)\(working.stderr)")
        let full = ["ANTITHESIS_SDK_LOCAL_OUTPUT": "/dev/full"]
        let sentence = "sqlite-stress: error: cannot write the SDK output /dev/full: No space left on device, "
            + "so this command's assertions may be missing from it.\n"
        for command in [["insert", "--db", db, "--seed", "2", "-q"], ["check", "--db", db, "-q"]] {
            let result = try CLI.run(command, environment: full)
            #expect(result.status == 2, "\(command[0]): \(result.stdout)")
            #expect(result.stderr == sentence, "\(command[0])")
        }
        // Its report says no verdict where it would say PASS.
        let text = try CLI.run(["check", "--db", db], environment: full)
        #expect(text.status == 2)
        #expect(!text.stdout.contains("result: PASS"), "\(text.stdout)")
        #expect(text.stdout.hasSuffix("\nresult: NO VERDICT — every property held, but the SDK output failed, so assertions may be missing from it\n"),
                "\(text.stdout)")
        #expect(text.stderr == sentence)
        let run = try CLI.run(["stress", "--db", scratch.file("r.db").path, "--seed", "1", "--iterations", "20"], environment: full)
        #expect(run.status == 2)
        let last = try #require(run.stdout.split(separator: "\n").last)
        #expect(last.hasPrefix("result: NO VERDICT — every property held (")
            && last.hasSuffix("), but the SDK output failed, so assertions may be missing from it"), "\(run.stdout)")
        // Its JSON says the same: no "pass" beside exit 2, and the failure named.
        func document(_ result: CommandResult) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        }
        let fine = try CLI.run(["insert", "--db", db, "--seed", "4", "--json"], environment: ["ANTITHESIS_SDK_LOCAL_OUTPUT": scratch.file("sdk.jsonl").path])
        #expect(fine.status == 0)
        #expect(try document(fine)["result"] as? String == "pass")
        #expect(try document(fine)["sdkOutputFailure"] == nil)
        for command in [["insert", "--db", db, "--seed", "5", "--json"], ["check", "--db", db, "--json"]] {
            let result = try CLI.run(command, environment: full)
            #expect(result.status == 2, "\(command[0]): \(result.stderr)")
            #expect(try document(result)["result"] as? String == "error", "\(command[0])")
            #expect(try document(result)["sdkOutputFailure"] as? String == "cannot write the SDK output /dev/full: No space left on device")
        }
        let missing = scratch.file("gone/sdk.jsonl").path
        let unopened = try CLI.run(["insert", "--db", db, "--seed", "3", "-q"], environment: ["ANTITHESIS_SDK_LOCAL_OUTPUT": missing])
        #expect(unopened.status == 2, "\(unopened.stdout)")
        #expect(unopened.stderr == "sqlite-stress: error: cannot open the SDK output \(missing): No such file or directory, "
            + "so this command's assertions may be missing from it.\n")
        let tamper = try Connection(path: db)
        try tamper.execute("UPDATE stress_accounts SET balance = balance + 7 WHERE id = 1")
        tamper.close()
        let violated = try CLI.run(["check", "--db", db, "-q"], environment: full)
        #expect(violated.status == 1, "\(violated.stdout)")
        #expect(violated.stdout.contains("VIOLATION conservation"), "\(violated.stdout)")
        #expect(violated.stderr == sentence)
        let violatedJSON = try CLI.run(["check", "--db", db, "--json"], environment: full)
        #expect(violatedJSON.status == 1)
        #expect(try document(violatedJSON)["result"] as? String == "fail")
        #expect(try document(violatedJSON)["sdkOutputFailure"] as? String == "cannot write the SDK output /dev/full: No space left on device")
    }

    // A stand-in libvoidstar receives every message, and with no --seed it
    // supplies every random choice: two drivers fed the same stand-in sequence
    // on the same database do exactly the same work.
    @Test func voidstarCarriesMessagesAndRandomness() throws {
        let scratch = try Scratch()
        var logs: [String] = []
        for round in 0..<2 {
            let db = scratch.file("v\(round).db").path
            #expect(try CLI.run(["schema", "--db", db, "--seed", "5", "-q"]).status == 0)
            var environment = StandIn.environment(scratch, "insert-\(round)")
            environment["ANTITHESIS_SDK_LOCAL_OUTPUT"] = scratch.file("ignored.jsonl").path
            let result = try CLI.run(["insert", "--db", db, "--json"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["seed"] == nil)
            #expect(json["randomness"] as? String == "antithesis")
            let messages = StandIn.messages(scratch, "insert-\(round)")
            #expect(messages.first?.contains("antithesis_sdk") == true)
            #expect(messages.contains { $0.contains("\"hit\":true") })
            let draws = StandIn.draws(scratch, "insert-\(round)")
            #expect(draws > 10, "only \(draws) random draws")
            // The driver's own lines in the SQL log (after the schema's).
            let log = try String(contentsOfFile: db + ".sql", encoding: .utf8)
            logs.append(log.split(separator: "\n").filter { $0.contains("; -- d") }.joined(separator: "\n"))
        }
        #expect(!logs[0].isEmpty)
        #expect(logs[0] == logs[1])
        #expect(!FileManager.default.fileExists(atPath: scratch.file("ignored.jsonl").path))
    }

    // docker-compose accepts the compose file (no Docker engine needed).
    @Test func composeFileIsValid() throws {
        let result = try CLI.exec(
            URL(fileURLWithPath: "/usr/bin/docker-compose"),
            ["-f", CLI.packageRoot.appendingPathComponent("docker-compose.yaml").path, "config", "-q"])
        #expect(result.status == 0, "\(result.stderr)")
    }

    // The image builds with exactly the tested dependencies and compiler:
    // Package.resolved is part of the repository and the build may not
    // re-resolve; the Swift image tag names an exact release, which the build
    // checks against the compiler inside it.
    @Test func imageBuildIsPinned() throws {
        let root = CLI.packageRoot
        let dockerfile = try String(contentsOf: root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.resolved").path))
        let ignored = try String(contentsOf: root.appendingPathComponent(".gitignore"), encoding: .utf8).split(separator: "\n")
        #expect(!ignored.contains { $0.contains("Package.resolved") })
        let version = try #require(dockerfile.firstMatch(of: /ARG SWIFT_VERSION=(\d+\.\d+\.\d+)\n/)?.1)
        #expect(!version.isEmpty)
        #expect(dockerfile.contains("FROM swift:${SWIFT_VERSION}-bookworm AS build"))
        #expect(dockerfile.contains(#"RUN check-swift-version "$SWIFT_VERSION""#))
        // The binary is built by scripts/build-release (bench/build's too), with the pinned versions.
        #expect(dockerfile.contains("RUN scripts/build-release \\\n    && scripts/install-layout /install .build/release/sqlite-stress"))
        let script = try String(contentsOf: root.appendingPathComponent("scripts/build-release"), encoding: .utf8)
        let build = try #require(script.replacing("\\\n", with: " ").split(separator: "\n").first { $0.hasPrefix("swift build ") })
        #expect(build.contains("--force-resolved-versions"), "\(build)")
        #expect(build.contains("--static-swift-stdlib"), "\(build)")
        #expect(build.contains("-Xswiftc -Xclang-linker -Xswiftc -no-pie"), "\(build)")
        #expect(build.contains("--disable-local-rpath"), "\(build)")
        #expect(build.contains("-Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors"), "\(build)")
        #expect(build.contains("-Xlinker --no-export-dynamic"), "\(build)")
    }

    // scripts/check-swift-version passes the compiler it names (an x.y.0
    // release prints as x.y) and stops a build with any other, in one sentence.
    @Test func swiftVersionCheck() throws {
        let scratch = try Scratch()
        let fake = scratch.file("swift")
        try Data("#!/bin/sh\necho 'Swift version 6.3 (swift-6.3-RELEASE)'\necho 'Target: x86_64-unknown-linux-gnu'\n".utf8).write(to: fake)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let script = CLI.packageRoot.appendingPathComponent("scripts/check-swift-version")
        let environment = ["PATH": scratch.url.path + ":/usr/bin:/bin"]
        for (version, passes) in [("6.3.0", true), ("6.3", true), ("6.3.1", false), ("6.2", false)] {
            let result = try CLI.exec(script, [version], environment: environment)
            #expect((result.status == 0) == passes, "\(version): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == (passes ? 0 : 1), "\(version): \(result.stderr)")
        }
    }

    // Antithesis takes the first setup_complete from any process: exactly one
    // workload container announces, and it starts only once every other one is
    // healthy (read from docker-compose's normalized configuration).
    @Test func oneContainerAnnouncesSetupWhenTheOthersAreHealthy() throws {
        let result = try CLI.exec(
            URL(fileURLWithPath: "/usr/bin/docker-compose"),
            ["-f", CLI.packageRoot.appendingPathComponent("docker-compose.yaml").path, "config"])
        #expect(result.status == 0, "\(result.stderr)")
        // Each service's block: the lines indented under "  <name>:" in "services:".
        var services: [String: [String]] = [:]
        var section = "", current: String?
        for line in result.stdout.split(separator: "\n").map(String.init) {
            if !line.hasPrefix(" ") { section = line; current = nil; continue }
            guard section == "services:" else { continue }
            if line.hasPrefix("  "), !line.hasPrefix("   ") {
                current = String(line.dropFirst(2).dropLast())
                services[current!] = []
            } else if let current {
                services[current]!.append(line.trimmingCharacters(in: .whitespaces))
            }
        }
        #expect(services.count == 2, "\(services.keys)")
        let announcers = services.filter { !$0.value.contains("SQLITE_STRESS_ANNOUNCE_SETUP: '0'") }
        #expect(announcers.count == 1, "\(announcers.keys)")
        let announcer = try #require(announcers.first)
        for (name, lines) in services where name != announcer.key {
            #expect(lines.contains("healthcheck:"), "\(name) has no healthcheck")
            let dependency = try #require(announcer.value.firstIndex(of: "\(name):"), "\(announcer.key) does not wait for \(name)")
            #expect(announcer.value.dropFirst(dependency + 1).first == "condition: service_healthy")
        }
    }
}
