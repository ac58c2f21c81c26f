import Foundation
import Testing

/// scripts/build-sqlite and scripts/install-layout, the steps the Dockerfile
/// runs to put the SQLite under test where the binary loads it.
@Suite struct SQLiteBuildTests {
    static let buildScript = CLI.packageRoot.appendingPathComponent("scripts/build-sqlite")
    static let installScript = CLI.packageRoot.appendingPathComponent("scripts/install-layout")

    static func bash(_ script: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try CLI.exec(URL(fileURLWithPath: "/bin/bash"), [script.path] + arguments, environment: environment)
    }

    /// The first program called `name` on PATH.
    static func onPath(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    // The Dockerfile builds its SQLite with these scripts and installs it with
    // install-layout; the runtime image installs no other libsqlite3.
    @Test func dockerfileUsesTheseScripts() throws {
        let dockerfile = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("scripts/fetch-sqlite \"$SQLITE_SOURCE\""))
        #expect(dockerfile.contains("scripts/build-sqlite ${SQLITE_SHA3_256:+--sha3-256 \"$SQLITE_SHA3_256\"}"))
        #expect(dockerfile.contains("scripts/install-layout /install .build/release/sqlite-stress /sqlite"))
        #expect(!dockerfile.contains("libsqlite3-0"))
    }

    // A wrong SHA3-256 stops the build before anything is compiled or written.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func wrongHashIsRefused() throws {
        let scratch = try Scratch()
        let out = scratch.file("out")
        let result = try Self.bash(Self.buildScript, ["--sha3-256", String(repeating: "0", count: 64), SQLiteBuilds.sdist.path, out.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("SHA3-256 of") && result.stderr.contains("is \(SQLiteBuilds.sdistSHA3), not 000"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    // install-layout puts the built library in /usr/local/lib and its shell in
    // /usr/local/bin; the installed binary, with the linker searching that
    // directory (ldconfig makes it so in the image), runs on that library.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func installLayoutPutsTheSQLiteWhereTheBinaryLoadsIt() throws {
        let built = try SQLiteChoiceTests.built()
        let scratch = try Scratch()
        let root = scratch.file("root")
        let install = try Self.bash(Self.installScript, [root.path, CLI.binary.path, built.path])
        try #require(install.status == 0, "\(install.stderr)")
        let lib = root.appendingPathComponent("usr/local/lib")
        let library = lib.appendingPathComponent("libsqlite3.so.0")
        #expect(FileManager.default.isExecutableFile(atPath: root.appendingPathComponent("usr/local/bin/sqlite-stress").path))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("opt/antithesis/test/v1/composed/first_schema").path))
        let info = try String(contentsOf: root.appendingPathComponent("usr/local/share/sqlite-stress/sqlite-BUILD-INFO"), encoding: .utf8)
        #expect(info.contains("version: 3.50.4"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("symbols").path), "not an instrumented build")

        let soname = try CLI.exec(URL(fileURLWithPath: "/usr/bin/readelf"), ["-d", library.path])
        #expect(soname.stdout.contains("Library soname: [libsqlite3.so.0]"))
        let environment = ["LD_LIBRARY_PATH": lib.path]
        let shell = try CLI.exec(root.appendingPathComponent("usr/local/bin/sqlite3"), [":memory:", "SELECT sqlite_version()"],
                                 environment: environment)
        #expect(shell.stdout == "3.50.4\n", "\(shell.stderr)")
        let version = try CLI.exec(root.appendingPathComponent("usr/local/bin/sqlite-stress"), ["--version"], environment: environment)
        #expect(version.stdout.contains("SQLite 3.50.4, source id 2025-07-30 19:33:53 4d8adfb30e03"), "\(version.stdout)")
        #expect(version.stdout.contains("from \(library.path)"), "\(version.stdout)")
    }

    // --coverage antithesis: every edge of SQLite's code reports to libvoidstar
    // (here a stand-in that counts the guards it is given), the library needs
    // libvoidstar.so and carries it, sqlite-stress runs on it, and
    // install-layout adds libvoidstar and the symbols Antithesis reads.
    // Built at -O0 to keep the test short.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"),
          .enabled(if: onPath("clang") != nil, "no clang on PATH (the Swift toolchain ships one)"))
    func coverageBuildReportsEdgesToLibvoidstar() throws {
        let scratch = try Scratch()
        let standIn = scratch.file("voidstar/libvoidstar.so")
        try FileManager.default.createDirectory(at: standIn.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SQLiteChoiceTests.compile("""
            #include <stdint.h>
            #include <stdio.h>
            #include <stdlib.h>
            void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop) {
                FILE *file = fopen(getenv("STANDIN_GUARDS"), "a");
                if (file) { fprintf(file, "%ld\\n", (long)(stop - start)); fclose(file); }
            }
            void __sanitizer_cov_trace_pc_guard(uint32_t *guard) { (void)guard; }
            """, into: standIn)
        let out = scratch.file("covered")
        let build = try Self.bash(
            Self.buildScript, ["--coverage", "antithesis", "--voidstar", standIn.path, SQLiteBuilds.sdist.path, out.path],
            environment: ["CFLAGS_EXTRA": "-O0", "CC": try #require(Self.onPath("clang"))])
        try #require(build.status == 0, "\(build.stderr)")
        let library = out.appendingPathComponent("libsqlite3.so.0")
        #expect(try CLI.exec(URL(fileURLWithPath: "/usr/bin/readelf"), ["-d", library.path]).stdout
            .contains("Shared library: [libvoidstar.so]"))
        #expect(try CLI.exec(URL(fileURLWithPath: "/usr/bin/nm"), ["-D", "--undefined-only", library.path]).stdout
            .contains("__sanitizer_cov_trace_pc_guard"))

        let guards = scratch.file("guards")
        let run = try CLI.run(["stress", "--sqlite", out.path, "--db", scratch.file("c.db").path, "--seed", "2", "--iterations", "30", "-q"],
                              environment: ["STANDIN_GUARDS": guards.path])
        #expect(run.status == 0, "\(run.stderr)")
        let counts = try String(contentsOf: guards, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        #expect(counts.contains { $0 > 10_000 }, "SQLite's edges were not registered: \(counts)")

        let root = scratch.file("root")
        let install = try Self.bash(Self.installScript, [root.path, CLI.binary.path, out.path])
        try #require(install.status == 0, "\(install.stderr)")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("usr/lib/libvoidstar.so").path))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("symbols/libsqlite3.so.0").path))
    }
}
