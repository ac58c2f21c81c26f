import Foundation
import Testing

/// The binary that ships works as the debug build the other tests run does.
/// `scripts/build-release` (the Dockerfile's and `bench/build`'s build) links
/// it differently: the Swift runtime and the C++ standard library in
/// statically, position-dependent, its own symbols not exported, generic
/// metadata reached by accessor. Each of
/// those changes how the program starts and finds what it needs at run time,
/// and one that broke it would show in no other test.
@Suite(.serialized) struct ShippedBinaryTests {
    /// The binary `scripts/build-release` makes, built once per test process
    /// into `.build-shipped` (gitignored), or why not.
    static let shipped: Result<URL, SQLiteBuilds.BuildFailure> = {
        do {
            let build = try CLI.exec(
                URL(fileURLWithPath: "/bin/sh"),
                [CLI.packageRoot.appendingPathComponent("scripts/build-release").path,
                 CLI.packageRoot.appendingPathComponent(".build-shipped").path])
            guard build.status == 0 else {
                return .failure(SQLiteBuilds.BuildFailure(description: "scripts/build-release failed: \(build.stderr)"))
            }
            return .success(URL(fileURLWithPath: build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        } catch {
            return .failure(SQLiteBuilds.BuildFailure(description: "cannot run scripts/build-release: \(error)"))
        }
    }()

    static func binary() throws -> URL { try shipped.get() }

    // The workload, the checks, a driver with the Antithesis SDK's output, and
    // a composed run under kills and pauses, all by the shipped binary.
    @Test func theShippedBinaryRunsTheWorkloadAndTheChecks() throws {
        let binary = try Self.binary()
        #expect(binary.lastPathComponent == "sqlite-stress")

        let version = try CLI.exec(binary, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("sqlite-stress "), "\(version.stdout)")
        // The shared libraries it loads: SQLite and the C library's, not libstdc++.
        let libraries = try CLI.exec(URL(fileURLWithPath: "/usr/bin/ldd"), [binary.path])
        #expect(libraries.status == 0, "\(libraries.stderr)")
        #expect(libraries.stdout.contains("libsqlite3.so"), "\(libraries.stdout)")
        #expect(!libraries.stdout.contains("libstdc++"), "\(libraries.stdout)")

        let scratch = try Scratch()
        let db = scratch.file("shipped.db")
        let stress = try CLI.exec(binary, [
            "stress", "--seed", "5", "--threads", "2", "--iterations", "300", "--compact-every", "50", "--db", db.path, "-q",
        ])
        #expect(stress.status == 0, "\(stress.stdout)\(stress.stderr)")
        let check = try CLI.exec(binary, ["check", "--db", db.path, "--json"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains(#""result" : "pass""#), "\(check.stdout)")

        let sdk = scratch.file("sdk.jsonl")
        let insert = try CLI.exec(
            binary, ["insert", "--db", db.path, "--seed", "9", "-q"], environment: ["ANTITHESIS_SDK_LOCAL_OUTPUT": sdk.path])
        #expect(insert.status == 0, "\(insert.stderr)")
        let lines = try String(contentsOf: sdk, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix(#"{"antithesis_sdk":"#) }, "\(lines.prefix(2))")
        #expect(!(try CLI.assertionHits(in: sdk)).isEmpty, "every line JSON, and assertions among them")

        let compose = try CLI.exec(binary, [
            "compose", CLI.packageRoot.appendingPathComponent("composer/composed").path, "--seed", "5", "--duration", "10",
            "--faults", "kill,pause", "--run-dir", scratch.file("run").path, "-q",
        ])
        #expect(compose.status == 0, "\(compose.stdout)\(compose.stderr)")
    }

    // `--sqlite` re-executes the binary with the chosen library first on the
    // loader's path: the shipped binary does that too, and runs on 3.50.4.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func theShippedBinaryRunsOnAChosenSQLite() throws {
        let binary = try Self.binary()
        let directory = try SQLiteBuilds.release3504.get()
        let version = try CLI.exec(binary, ["--sqlite", directory.path, "--version"])
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.contains("SQLite 3.50.4, source id 2025-07-30 19:33:53 4d8adfb30e03"), "\(version.stdout)")

        let scratch = try Scratch()
        let stress = try CLI.exec(binary, [
            "stress", "--sqlite", directory.path, "--seed", "6", "--iterations", "200", "--db", scratch.file("s.db").path, "--json",
        ])
        #expect(stress.status == 0, "\(stress.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stress.stdout.utf8)) as? [String: Any])
        #expect(report["result"] as? String == "pass")
        #expect((report["sqlite"] as? [String: Any])?["version"] as? String == "3.50.4")
    }
}
