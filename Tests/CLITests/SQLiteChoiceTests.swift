import Foundation
import StressSQLite
import Testing

/// `--sqlite DIR` / `$SQLITE_STRESS_SQLITE`: the library under test is a choice,
/// every output names what was loaded, and a directory that cannot serve is one
/// sentence, exit 2, nothing written.
@Suite struct SQLiteChoiceTests {
    /// Builds a shared library from `source` with the system C compiler.
    static func compile(_ source: String, into library: URL) throws {
        let file = library.deletingLastPathComponent().appendingPathComponent("stand-in.c")
        try Data(source.utf8).write(to: file)
        let cc = try CLI.exec(URL(fileURLWithPath: "/usr/bin/cc"), ["-shared", "-fPIC", "-o", library.path, file.path])
        try #require(cc.status == 0, "\(cc.stderr)")
        try FileManager.default.removeItem(at: file)
    }

    // The symbols the probe demands include every sqlite3_ function the binary
    // imports, so a library that passes the probe cannot fail a call later.
    @Test func probeDemandsEverySymbolTheBinaryImports() throws {
        let nm = try CLI.exec(URL(fileURLWithPath: "/usr/bin/nm"), ["-D", "--undefined-only", CLI.binary.path])
        try #require(nm.status == 0, "\(nm.stderr)")
        let imported = Set(nm.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            .filter { $0.hasPrefix("sqlite3_") })
        #expect(imported.count > 20, "\(imported)")
        #expect(imported.subtracting(SQLiteLibrary.requiredSymbols).isEmpty,
                "imported but not probed: \(imported.subtracting(SQLiteLibrary.requiredSymbols).sorted())")
    }

    /// A directory that cannot serve as the library under test, made in `scratch`.
    enum Bad: String, CaseIterable {
        case missing, empty, notALibrary, noSQLiteSymbols, lacksFunctions

        func make(in scratch: Scratch) throws -> URL {
            let directory = scratch.file("lib-\(rawValue)")
            if self == .missing { return directory }
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let library = directory.appendingPathComponent("libsqlite3.so.0")
            switch self {
            case .missing, .empty: break
            case .notALibrary: try Data("this is not an ELF file\n".utf8).write(to: library)
            case .noSQLiteSymbols: try SQLiteChoiceTests.compile("int not_sqlite(void) { return 1; }\n", into: library)
            case .lacksFunctions:
                // Looks like SQLite from afar, but is far too small to run the tool.
                try SQLiteChoiceTests.compile(
                    "const char *sqlite3_libversion(void) { return \"3.36.0\"; }\nint sqlite3_libversion_number(void) { return 3036000; }\n",
                    into: library)
            }
            return directory
        }

        /// What the one sentence must say (not SQLite's words: ours).
        var says: String {
            switch self {
            case .missing: "no such directory"
            case .empty: "holds no libsqlite3.so.0"
            case .notALibrary: "is not a loadable library"
            case .noSQLiteSymbols: "not an SQLite library"
            case .lacksFunctions: "lacks sqlite3_"
            }
        }
    }

    // Each bad directory, by flag and by environment variable, for a command that
    // would create files: exit 2, one sentence naming the problem, nothing
    // written (no database, no log, no SDK line).
    @Test(arguments: Bad.allCases)
    func badDirectoryIsRejectedBeforeAnythingIsWritten(_ bad: Bad) throws {
        let scratch = try Scratch()
        let directory = try bad.make(in: scratch)
        let sdk = ["ANTITHESIS_SDK_LOCAL_OUTPUT": scratch.file("sdk.jsonl").path]
        let before = try scratch.snapshot()
        let runs = [
            try CLI.run(["stress", "--db", scratch.file("a.db").path, "--seed", "1", "--sqlite", directory.path], environment: sdk),
            try CLI.run(["schema", "--db", scratch.file("b.db").path, "--seed", "1"],
                        environment: sdk.merging(["SQLITE_STRESS_SQLITE": directory.path]) { $1 }),
            try CLI.run(["compose", CLI.packageRoot.appendingPathComponent("composer/composed").path, "--runs", "1",
                         "--run-dir", scratch.file("run").path, "--sqlite=\(directory.path)"], environment: sdk),
        ]
        for result in runs {
            #expect(result.status == 2, "\(bad): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.isEmpty)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(result.stderr.contains(bad.says), "\(result.stderr)")
        }
        #expect(try scratch.snapshot() == before, "\(bad): something was written")
    }

    // The flag is read as argument-parser reads it: the last one wins, and nothing after `--` counts.
    @Test func flagIsFoundWhereArgumentParserFindsIt() throws {
        let scratch = try Scratch()
        let missing = scratch.file("nowhere").path
        let last = try CLI.run(["stress", "--sqlite", missing, "--sqlite", missing + "-2", "--db", scratch.file("x.db").path])
        #expect(last.status == 2)
        #expect(last.stderr.contains("nowhere-2"), "\(last.stderr)")
    }

    // An empty `--sqlite=` is no directory: one sentence and exit 2, nothing
    // written; the parser would otherwise take the next argument as its value.
    @Test func anEmptyFlagIsNoDirectory() throws {
        let scratch = try Scratch()
        let before = try scratch.snapshot()
        for arguments in [["--sqlite=", "help", "insert"], ["stress", "--db", scratch.file("x.db").path, "--sqlite="]] {
            let result = try CLI.run(arguments, in: scratch.url)
            #expect(result.status == 2, "\(arguments): \(result.stdout)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderr == "sqlite-stress: error: --sqlite needs a directory; give the one scripts/build-sqlite made.\n")
        }
        #expect(try scratch.snapshot() == before)
    }

    // --version names the library the process runs on: the system's by default.
    @Test func versionNamesTheLoadedLibrary() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("SQLite \(SQLiteLibrary.loaded.version), source id \(SQLiteLibrary.loaded.sourceId), from "),
                "\(result.stdout)")
    }

    // MARK: - Against a library built from source

    static func built() throws -> URL {
        switch SQLiteBuilds.release3504 {
        case .success(let directory): return directory
        case .failure(let failure): throw failure
        }
    }

    // `stress --sqlite DIR` on a 3.50.4 build runs on it, and says so in the
    // text header, the JSON report, the SQL log and every SDK hit; --version
    // and $SQLITE_STRESS_SQLITE agree.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func stressNamesTheChosenLibrary() throws {
        let directory = try Self.built()
        let library = directory.appendingPathComponent("libsqlite3.so.0").path
        let scratch = try Scratch()
        let sdk = ["ANTITHESIS_SDK_LOCAL_OUTPUT": scratch.file("sdk.jsonl").path]
        let text = try CLI.run(["stress", "--sqlite", directory.path, "--db", scratch.file("t.db").path, "--seed", "7",
                                "--iterations", "60"], environment: sdk)
        #expect(text.status == 0, "\(text.stderr)")
        let header = text.stdout.split(separator: "\n").prefix(4)
        #expect(header.contains { $0.hasPrefix("sqlite: 3.50.4, source id 2025-07-30 19:33:53 4d8adfb30e03") && $0.hasSuffix("from " + library) },
                "\(header)")
        // The reproduce line runs on the same library.
        #expect(header.contains { $0.hasPrefix("reproduce: ") && ($0 + " ").contains(" --sqlite \(directory.path) ") }, "\(header)")

        let json = try CLI.run(["stress", "--db", scratch.file("j.db").path, "--seed", "7", "--iterations", "60", "--json"],
                               environment: ["SQLITE_STRESS_SQLITE": directory.path])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let sqlite = try #require(report["sqlite"] as? [String: String])
        #expect(sqlite["version"] == "3.50.4")
        #expect(sqlite["sourceId"]?.hasPrefix("2025-07-30 19:33:53 4d8adfb30e03") == true)
        #expect(sqlite["path"] == library)

        let log = try String(contentsOf: scratch.file("t.db.sql"), encoding: .utf8).split(separator: "\n")
        #expect(log[1] == "-- sqlite: 3.50.4, source id \(sqlite["sourceId"]!), from \(library)", "\(log[1])")

        let hits = try String(contentsOf: scratch.file("sdk.jsonl"), encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"hit\":true") }
        #expect(!hits.isEmpty)
        for hit in hits { #expect(hit.contains("\"sqlite_version\":\"3.50.4\"") && hit.contains("\"sqlite_path\":\"\(library)\""), "\(hit)") }

        let version = try CLI.run(["--sqlite", directory.path, "--version"])
        #expect(version.stdout.contains("SQLite 3.50.4, source id 2025-07-30 19:33:53 4d8adfb30e03"), "\(version.stdout)")
        #expect(version.stdout.contains("from " + library))
    }

    // A build with SQLite's own assertions on (SQLITE_DEBUG) is one an SQLite
    // developer tests: every connection the tool opens, its final check's and
    // the check's second thread's included, reads columns as SQLite asserts
    // they may be read, so no assertion stops a run, a replay or a check.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func aDebugBuildOfSQLiteRunsToTheEnd() throws {
        let directory = try SQLiteBuilds.debug3504.get()
        let info = try String(contentsOf: directory.appendingPathComponent("BUILD-INFO"), encoding: .utf8)
        try #require(info.contains("-DSQLITE_DEBUG"), "\(info)")
        let scratch = try Scratch()
        let env = ["SQLITE_STRESS_SQLITE": directory.path]
        let stress = try CLI.run(["stress", "--db", scratch.file("s.db").path, "--seed", "8", "--threads", "2",
                                  "--iterations", "150", "--check-every", "50", "--compact-every", "50", "--json"],
                                 environment: env)
        #expect(stress.status == 0, "\(stress.stderr)")
        #expect(!stress.stderr.contains("Assertion"), "\(stress.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stress.stdout.utf8)) as? [String: Any],
                                  "\(stress.stderr)")
        #expect((report["sqlite"] as? [String: String])?["path"] == directory.appendingPathComponent("libsqlite3.so.0").path)
        #expect(report["result"] as? String == "pass")
        let counters = try #require(report["counters"] as? [String: Int])
        #expect(counters["checks"] ?? 0 >= 2, "\(counters)")

        let check = try CLI.run(["check", "--db", scratch.file("s.db").path], environment: env)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        // The replay of a one-thread run's log, which replays exactly: a log of two threads
        // whose ledger was compacted can give no verdict, as the scheduler interleaved them.
        let one = try CLI.run(["stress", "--db", scratch.file("one.db").path, "--seed", "8", "--threads", "1",
                               "--iterations", "150", "--check-every", "50", "--compact-every", "50", "-q"], environment: env)
        #expect(one.status == 0, "\(one.stdout)\(one.stderr)")
        let replay = try CLI.run(["replay", scratch.file("one.db.sql").path, "--db", scratch.file("r.db").path], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(!(check.stderr + one.stderr + replay.stderr).contains("Assertion"))
    }

    // SQLite's WAL bug (forum post b490f726db, fixed in 3.50.2): the same seed
    // loses acknowledged commits on Debian's 3.40.1 — `durability` fails — and
    // keeps them on 3.50.4; once through an I/O error that stops the last
    // checkpoint, once through a power loss with synchronous=FULL. The failed
    // run names the known SQLite bugs its configuration could meet on 3.40.1,
    // in its report and in its failed assertion's details in the SDK output.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"),
          .enabled(if: SQLiteLibrary.loaded.version == "3.40.1", "the failing half needs Debian 12's SQLite 3.40.1 as the system library"),
          arguments: WALBugSeed.allCases)
    func walBugSeedFailsOn3401AndPassesOn3504(_ seed: WALBugSeed) throws {
        let directory = try Self.built()
        let scratch = try Scratch()
        let arguments = seed.arguments
        func run(_ name: String, _ extra: [String]) throws -> (Int32, [String], [String], [[String: Any]]) {
            let sdk = scratch.file("\(name).sdk.jsonl")
            let result = try CLI.run(["stress", "--db", scratch.file("\(name).db").path, "--json", "-q"] + arguments + extra,
                                     environment: ["ANTITHESIS_SDK_LOCAL_OUTPUT": sdk.path])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                      "\(result.stderr)")
            let violated = (report["violations"] as? [[String: Any]] ?? []).compactMap { $0["property"] as? String }
            let known = try #require(report["knownSQLiteBugs"] as? [[String: Any]]).compactMap { $0["name"] as? String }
            return (result.status, violated, known, try CLI.assertionHits(in: sdk))
        }
        func namedBugs(_ hit: [String: Any]) -> String? { (hit["details"] as? [String: Any])?["known_sqlite_bugs"] as? String }
        let (oldStatus, oldViolated, oldKnown, oldHits) = try run("old", [])
        #expect(oldStatus == 1)
        #expect(oldViolated.contains("durability"), "\(oldViolated)")
        // Seed 61 changes the schema under I/O errors, so the DROP COLUMN bug is named too.
        #expect(oldKnown == (seed == .ioError ? ["wal-rollback-to-checksums", "drop-column-failed-read"] : ["wal-rollback-to-checksums"]))
        let tags = seed == .ioError
            ? "wal-rollback-to-checksums (fixed in 3.50.2), drop-column-failed-read (not fixed)" : "wal-rollback-to-checksums (fixed in 3.50.2)"
        let failedDurability = oldHits.filter { ($0["id"] as? String)?.hasPrefix("durability") == true && $0["condition"] as? Bool == false }
        #expect(!failedDurability.isEmpty && failedDurability.allSatisfy { namedBugs($0) == tags }, "\(failedDurability)")
        #expect(oldHits.filter { $0["condition"] as? Bool == true }.allSatisfy { namedBugs($0) == nil },
                "only a failed assertion's details name known bugs")
        let (newStatus, newViolated, newKnown, newHits) = try run("new", ["--sqlite", directory.path])
        #expect(newStatus == 0, "\(newViolated)")
        #expect(newViolated.isEmpty)
        #expect(newKnown.isEmpty)
        #expect(!newHits.isEmpty && newHits.allSatisfy { namedBugs($0) == nil })
    }

    // `compose --sqlite DIR` hands the library to every command it starts: each
    // command's output and each SDK hit (every process reports its own) name it,
    // and report.json says which library the run was handed.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func composeHandsTheLibraryToEveryCommand() throws {
        let directory = try Self.built()
        let library = directory.appendingPathComponent("libsqlite3.so.0").path
        let scratch = try Scratch()
        let run = scratch.file("run")
        let result = try CLI.run([
            "compose", CLI.packageRoot.appendingPathComponent("composer/composed").path, "--seed", "3", "--runs", "8",
            "--run-dir", run.path, "--sqlite", directory.path,
        ])
        #expect(result.status == 0, "\(result.stdout.suffix(2000))")
        #expect(result.stdout.contains("sqlite: 3.50.4, source id 2025-07-30 19:33:53 4d8adfb30e03"))
        let report = try ComposeTests.report(run)
        #expect((report["sqlite"] as? [String: String])?["path"] == library)
        let commands = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("commands").path)
            .filter { $0.hasSuffix(".out") }
        #expect(commands.count >= 8)
        for name in commands {
            let output = try String(contentsOf: run.appendingPathComponent("commands/\(name)"), encoding: .utf8)
            #expect(output.contains("sqlite: 3.50.4, source id 2025-07-30 19:33:53 4d8adfb30e03") && output.contains("from " + library),
                    "\(name): \(output.prefix(400))")
        }
        // Each command's SDK output is a file of its own beside its stdout.
        let outputs = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("commands").path)
            .filter { $0.hasSuffix(".sdk.jsonl") }
        #expect(outputs.count == commands.count)
        let hits = try outputs.flatMap {
            try String(contentsOf: run.appendingPathComponent("commands/\($0)"), encoding: .utf8).split(separator: "\n")
        }.filter { $0.contains("\"hit\":true") }
        #expect(hits.count > 8)
        for hit in hits { #expect(hit.contains("\"sqlite_path\":\"\(library)\""), "\(hit)") }
    }
}

/// Seeds that meet SQLite 3.40.1's WAL bug (see BENCHMARKS.md).
enum WALBugSeed: CaseIterable {
    case ioError, powerLoss

    var arguments: [String] {
        switch self {
        case .ioError: ["--seed", "61", "--fault", "io-error", "--journal-mode", "wal", "--threads", "1"]
        case .powerLoss: ["--seed", "122", "--iterations", "400", "--journal-mode", "wal", "--synchronous", "full", "--crash"]
        }
    }
}
