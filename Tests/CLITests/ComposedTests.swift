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

    static let drivers = ["insert", "update", "delete", "rollback", "transfer"]

    // The install script makes exactly the layout the Dockerfile promises.
    @Test func installLayout() throws {
        let installed = try Installed()
        let fm = FileManager.default
        #expect(fm.isExecutableFile(atPath: installed.root.appendingPathComponent("usr/local/bin/sqlite-stress").path))
        #expect(fm.isExecutableFile(atPath: installed.root.appendingPathComponent("usr/local/bin/sqlite-stress-entrypoint").path))
        let composed = try fm.contentsOfDirectory(atPath: installed.root.appendingPathComponent("opt/antithesis/test/v1/composed").path)
        #expect(Set(composed) == Set(["first_schema", "anytime_integrity", "eventually_check", "finally_check"]
            + Self.drivers.map { "parallel_driver_\($0)" }))
        let monolith = try fm.contentsOfDirectory(atPath: installed.root.appendingPathComponent("opt/antithesis/test/v1/monolith").path)
        #expect(Set(monolith) == ["singleton_driver_stress", "finally_check"])
        for name in composed { #expect(fm.isExecutableFile(atPath: installed.command("composed", name).path)) }
    }

    // The entrypoint appends setup_complete (keeping what is there) and runs its arguments.
    @Test func entrypointSignalsSetupComplete() throws {
        let installed = try Installed()
        let directory = installed.scratch.file("out")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("earlier\n".utf8).write(to: directory.appendingPathComponent("sdk.jsonl"))
        let result = try CLI.exec(
            installed.root.appendingPathComponent("usr/local/bin/sqlite-stress-entrypoint"), ["sh", "-c", "echo ran"],
            environment: ["ANTITHESIS_OUTPUT_DIR": directory.path])
        #expect(result.status == 0)
        #expect(result.stdout == "ran\n")
        let lines = try String(contentsOf: directory.appendingPathComponent("sdk.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines == ["earlier", #"{"antithesis_setup":{"status":"complete","details":null}}"#])
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
                processes.append((kind, try installed.start("composed", "parallel_driver_\(kind)", ["--seed", "\(round * 10 + kind.count)"])))
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
        #expect(properties.count == 6)
        #expect(properties.allSatisfy { $0["status"] as? String == "pass" }, "\(properties)")

        // Every line is JSON; some catalog precedes the first hit; no always failed.
        let lines = try installed.sdkLines()
        let asserts = lines.compactMap { $0["antithesis_assert"] as? [String: Any] }
        let firstHit = try #require(asserts.firstIndex { $0["hit"] as? Bool == true })
        #expect(asserts[..<firstHit].count >= 10)
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
                processes.append(try installed.start("composed", "parallel_driver_\(kind)", ["--seed", "\(wave * 100 + index)"]))
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
        #expect(asserts.contains { $0["id"] as? String == "eventually: the database opens after drivers were killed" && $0["hit"] as? Bool == true })
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

    // A stand-in libvoidstar (built here from C) receives every message, and with
    // no --seed it supplies every random choice: two drivers fed the same
    // stand-in sequence on the same database do exactly the same work.
    @Test func voidstarCarriesMessagesAndRandomness() throws {
        let scratch = try Scratch()
        let source = scratch.file("voidstar.c")
        try Data("""
            #include <stdint.h>
            #include <stdio.h>
            #include <stdlib.h>
            static uint64_t state = 0x2545F4914F6CDD1DULL;
            static void append(const char *name, const char *bytes, size_t length) {
                FILE *file = fopen(getenv(name), "a");
                if (!file) return;
                fwrite(bytes, 1, length, file);
                fputc('\\n', file);
                fclose(file);
            }
            void fuzz_json_data(const char *message, size_t length) { append("STANDIN_MESSAGES", message, length); }
            void fuzz_flush(void) {}
            uint64_t fuzz_get_random(void) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                append("STANDIN_RANDOM", "r", 1);
                return state;
            }
            """.utf8).write(to: source)
        let library = scratch.file("libvoidstar.so")
        let cc = try CLI.exec(URL(fileURLWithPath: "/usr/bin/cc"), ["-shared", "-fPIC", "-o", library.path, source.path])
        #expect(cc.status == 0, "\(cc.stderr)")

        var logs: [String] = []
        for round in 0..<2 {
            let db = scratch.file("v\(round).db").path
            #expect(try CLI.run(["schema", "--db", db, "--seed", "5", "-q"]).status == 0)
            let environment = [
                "SQLITE_STRESS_VOIDSTAR": library.path,
                "STANDIN_MESSAGES": scratch.file("messages-\(round)").path,
                "STANDIN_RANDOM": scratch.file("random-\(round)").path,
                "ANTITHESIS_SDK_LOCAL_OUTPUT": scratch.file("ignored.jsonl").path,
            ]
            let result = try CLI.run(["insert", "--db", db, "--json"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["seed"] == nil || json["seed"] is NSNull)
            let messages = try String(contentsOf: scratch.file("messages-\(round)"), encoding: .utf8).split(separator: "\n")
            #expect(messages.first?.contains("antithesis_sdk") == true)
            #expect(messages.contains { $0.contains("\"hit\":true") })
            let draws = try Data(contentsOf: scratch.file("random-\(round)")).count / 2
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
}
