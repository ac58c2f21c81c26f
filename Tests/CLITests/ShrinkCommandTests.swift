import Foundation
import StressSQLite
import Testing

/// `sqlite-stress shrink`: a failing run becomes the smallest script the
/// sqlite3 shell runs that still fails, with the smallest fault setting.
@Suite struct ShrinkCommandTests {
    static let shell = URL(fileURLWithPath: "/usr/bin/sqlite3")

    /// The SQL statements of a script (not comments, not dot-commands).
    static func statements(_ script: URL) throws -> [String] {
        try String(contentsOf: script, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("--") && !$0.hasPrefix(".") }.map(String.init)
    }

    /// What `shell` prints running `script` in an empty directory.
    static func runScript(_ script: URL, with shell: URL = shell) throws -> CommandResult {
        let directory = try Scratch()
        return try CLI.exec(shell, [], in: directory.url, input: script)
    }

    // SQLite's WAL bug (forum post b490f726db, fixed in 3.50.2), found under
    // --fault io-error by seed 61: shrink writes a script of at most 60
    // statements (22 today: shrink keeps the run's schema, four tables here)
    // that loses a committed transaction in the stock sqlite3 shell
    // with no fault, only the files copied after COMMIT; with a cache that
    // spills nothing the same script keeps every row; SQLite 3.50.4, built here, holds — and
    // shrink's release check says so.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"),
          .enabled(if: SQLiteLibrary.loaded.version == "3.40.1", "the bug needs Debian 12's SQLite 3.40.1 as the system library"))
    func walBugShrinksToAScriptTheStockShellReproduces() throws {
        let release = try SQLiteChoiceTests.built()
        let scratch = try Scratch()
        let script = scratch.file("wal-bug.sql")
        let result = try CLI.run(
            ["shrink", "--out", script.path, "--against", release.path, "--time-limit", "600"] + WALBugSeed.ioError.arguments)
        try #require(result.status == 0, "\(result.stderr)\(result.stdout)")
        #expect(result.stdout.contains("property: durability"))
        #expect(result.stdout.contains("setting: no fault, a crash right after the last statement — the run's faults (io-error:0.01) are not needed"))
        #expect(result.stdout.contains("release: SQLite 3.50.4 (\(release.path)) holds — durability: held"), "\(result.stdout)")
        #expect(result.stdout.contains("verify: cd \"$(mktemp -d)\" && sqlite3 < "))

        let statements = try Self.statements(script)
        #expect(statements.count <= 60, "\(statements.count) statements")
        #expect(!statements.contains { $0.contains("io-error") })

        let old = try Self.runScript(script)
        #expect(old.stdout.hasPrefix("durability: VIOLATED — "), "\(old.stdout)\(old.stderr)")
        let new = try Self.runScript(script, with: release.appendingPathComponent("sqlite3"))
        #expect(new.stdout.hasPrefix("durability: held — "), "\(new.stdout)\(new.stderr)")
        let verify = try CLI.run(["shrink", "--verify", script.path])
        #expect(verify.status == 1 && verify.stdout.contains("durability: VIOLATED — "), "\(verify.stdout)")

        // Must pass: the script's own check cries no wolf once the bug's trigger is
        // gone. The bug needs a page spilled to the WAL before a savepoint or
        // statement rollback (a ROLLBACK TO, or a statement that fails inside the
        // transaction): with a cache large enough that nothing spills, it holds.
        let text = try String(contentsOf: script, encoding: .utf8)
        let cache = try #require(text.split(separator: "\n").first { $0.hasPrefix("PRAGMA cache_size = ") }, "no small cache in the script")
        let untriggered = scratch.file("untriggered.sql")
        try text.replacingOccurrences(of: cache + "\n", with: "PRAGMA cache_size = -65536;\n")
            .write(to: untriggered, atomically: true, encoding: .utf8)
        let held = try Self.runScript(untriggered)
        #expect(held.stdout.hasPrefix("durability: held — "), "\(held.stdout)\(held.stderr)")
    }

    // A planted storage fault (dropped writes, seed 6) shrinks to a small script
    // and the smallest fault setting that still fails: the fault is needed (no
    // fault, no crash and a crash alone do not fail), its rate is no higher than
    // the run's, and `shrink --verify` shows the failure. The same input gives
    // the same script, byte for byte.
    @Test func plantedFaultShrinksToASmallScriptAndItsFaultSetting() throws {
        let scratch = try Scratch()
        let arguments = ["--seed", "6", "--fault", "dropped-write", "--iterations", "200"]
        let first = scratch.file("first.sql"), second = scratch.file("second.sql")
        // In a directory of its own: no SQLite build of ./.build-sqlite to check the script against.
        let result = try CLI.run(["shrink", "--out", first.path] + arguments, in: scratch.url)
        try #require(result.status == 0, "\(result.stderr)\(result.stdout)")
        #expect(result.stdout.contains("property: integrity"))
        let setting = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("setting: ") })
        #expect(setting.hasPrefix("setting: fault dropped-write:"), "\(setting)")
        let rate = try #require(Double(setting.dropFirst("setting: fault dropped-write:".count).prefix { $0 != " " }))
        #expect(rate <= 0.01)
        #expect(result.stdout.contains("verify: sqlite-stress shrink --verify "))
        #expect(!result.stdout.contains("release: "))
        #expect(try Self.statements(first).count <= 30)

        let verify = try CLI.run(["shrink", "--verify", first.path])
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("integrity: VIOLATED — "))

        let again = try CLI.run(["shrink", "--out", second.path, "-q"] + arguments, in: scratch.url)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: first) == Data(contentsOf: second), "the same run shrank to different scripts")
    }

    // A run that violates nothing is one sentence on stderr and exit 2; nothing is written.
    @Test func aRunThatDoesNotFailIsRefused() throws {
        let scratch = try Scratch()
        let script = scratch.file("out.sql")
        let result = try CLI.run(["shrink", "--out", script.path, "--seed", "1", "--iterations", "20", "-q"])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("sqlite-stress: error: ") && result.stderr.contains("violates no property; there is nothing to shrink."))
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: script.path))
    }

    // Shrink takes a stress run's reproduce line as it is printed, every
    // option of it: the run it repeats (whose line the refusal quotes) keeps
    // the workload's options (--no-schema-changes here), and the log's own
    // options are accepted and left alone, as its help says of each.
    @Test func aReproduceLineIsTakenWhole() throws {
        let help = try CLI.run(["shrink", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for option in ["--db <path>", "--overwrite", "--sql-log <path>", "--sql-log-max <size>"] {
            #expect(help.contains(option + " Accepted from a reproduce line and not used: shrink "), "\(option)")
        }
        let scratch = try Scratch()
        let stress = try CLI.run(
            ["stress", "--seed", "1", "--iterations", "20", "--sql-log-max", "64M", "--no-schema-changes", "--sql-log", "s.log",
             "--db", "s.db", "--fault", "io-error"], in: scratch.url)
        try #require(stress.status == 0, "\(stress.stdout)")
        let line = try #require(stress.stdout.split(separator: "\n").first { $0.hasPrefix("reproduce: sqlite-stress stress ") })
        let arguments = line.dropFirst("reproduce: sqlite-stress stress ".count).split(separator: " ").map(String.init)
        #expect(arguments.contains("--sql-log-max") && arguments.contains("--no-schema-changes") && arguments.contains("--sql-log"))
        let result = try CLI.run(["shrink", "--out", "out.sql", "-q"] + arguments, in: scratch.url)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("sqlite-stress: error: ") && result.stderr.contains(" --no-schema-changes")
            && result.stderr.hasSuffix(" violates no property; there is nothing to shrink.\n"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out.sql").path))
    }

    // A failure its log cannot reproduce — a lying sync caught at the power
    // loss that ends the run, with synchronous=NORMAL, across which SQLite may
    // lose the latest commits, so shrink replays only a crash of the process —
    // is said to be so, with exit 1 and no script.
    @Test func aFailureTheLogCannotReproduceIsSaidSo() throws {
        let scratch = try Scratch()
        let script = scratch.file("out.sql")
        let result = try CLI.run([
            "shrink", "--out", script.path, "--seed", "1", "--fault", "lying-fsync", "--synchronous", "normal", "--journal-mode", "wal",
            "--iterations", "100",
        ])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("result: NOT REPRODUCED — the run fails integrity, but replaying its SQL log"), "\(result.stdout)")
        #expect(result.stdout.contains(
            "note: the run lost power with synchronous=normal, across which SQLite does not promise that every commit survives"))
        #expect(!FileManager.default.fileExists(atPath: script.path))
    }

    // A work directory too small for the replays (a small TMPDIR) stops the
    // shrink at the first replay, naming the directory, with exit 2 and no
    // script: a replay that met a full disk would otherwise read as one that
    // does not fail, and the reduction would go elsewhere.
    @Test(.enabled(if: Tmpfs.canMount, "mounting a tmpfs needs root"))
    func aFullWorkDirectoryStopsTheShrink() throws {
        let scratch = try Scratch()
        let stress = try CLI.run(["stress", "--seed", "3", "--iterations", "200", "--db", "s.db", "-q"], in: scratch.url)
        try #require(stress.status == 0, "\(stress.stdout)\(stress.stderr)")
        let disk = try Tmpfs(kibibytes: 128)
        let result = try CLI.run(["shrink", "--log", "s.db.sql", "--out", "out.sql", "-q"], in: scratch.url, environment: ["TMPDIR": disk.url.path])
        #expect(result.status == 2, "\(result.stdout)")
        let prefix = "sqlite-stress: error: shrink's work directory \(disk.url.path)/sqlite-stress-shrink-"
        #expect(result.stderr.hasPrefix(prefix), "\(result.stderr)")
        #expect(result.stderr.hasSuffix(" failed under a replay (SQLITE_FULL: database or disk is full); give it room, or set TMPDIR to "
            + "a directory with room.\n"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out.sql").path))
    }

    // Shrink works in a directory of its own: replaying a run's log, it
    // writes nothing beside the run's database, not even the copies the
    // log's VACUUM INTO statements name there.
    @Test func aLogIsShrunkWithoutTouchingTheRunsDirectory() throws {
        let scratch = try Scratch()
        let stress = try CLI.run(["stress", "--seed", "3", "--iterations", "200", "--db", "s.db", "-q"], in: scratch.url)
        try #require(stress.status == 0, "\(stress.stdout)\(stress.stderr)")
        let log = try String(contentsOf: scratch.file("s.db.sql"), encoding: .utf8)
        try #require(log.contains("\nVACUUM INTO 's.db.copy-t0'; -- t0 "), "the run made a VACUUM INTO copy")
        let before = try scratch.snapshot()
        let result = try CLI.run(["shrink", "--log", "s.db.sql", "--out", "out.sql", "-q"], in: scratch.url)
        #expect(result.status == 1, "nothing fails: \(result.stdout)\(result.stderr)")
        #expect(try scratch.snapshot() == before)
    }

    // A lying fsync shows only at a power loss: shrink replays one (the run's
    // synchronous=FULL promises durability across it), and the script, which
    // the shell cannot run, fails under `shrink --verify`; a crash of the
    // process alone does not make it fail.
    @Test func aLyingFsyncShrinksWithAPowerLoss() throws {
        let scratch = try Scratch()
        let script = scratch.file("out.sql")
        let result = try CLI.run([
            "shrink", "--out", script.path, "--seed", "1", "--fault", "lying-fsync", "--iterations", "100",
            "--journal-mode", "wal", "--synchronous", "full",
        ], in: scratch.url)
        try #require(result.status == 0, "\(result.stderr)\(result.stdout)")
        #expect(result.stdout.contains("setting: fault lying-fsync:"), "\(result.stdout)")
        #expect(result.stdout.contains("a power loss right after the last statement"))
        let verify = try CLI.run(["shrink", "--verify", script.path])
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        let text = try String(contentsOf: script, encoding: .utf8)
        let crashOnly = scratch.file("crash-only.sql")
        try text.replacingOccurrences(of: "crash=power-loss", with: "crash=kill").write(to: crashOnly, atomically: true, encoding: .utf8)
        let held = try CLI.run(["shrink", "--verify", crashOnly.path])
        #expect(held.status == 0, "\(held.stdout)\(held.stderr)")
    }

    // Bad input is one sentence and exit 2, and nothing is written: a file
    // shrink did not write is never replaced; --verify reads only shrink's
    // scripts; a run needs its seed.
    @Test func badInputIsOneSentence() throws {
        let scratch = try Scratch()
        let foreign = scratch.file("notes.sql")
        try "my notes\n".write(to: foreign, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["shrink", "--out", foreign.path, "--seed", "82"], "refusing to overwrite"),
            (["shrink", "--verify", foreign.path], "is not a script written by sqlite-stress shrink"),
            (["shrink", "--out", scratch.file("x.sql").path], "needs the failing run's --seed"),
            (["shrink", "--out", scratch.file("x.sql").path, "--seed", "1", "--property", "speed"], "--property must be one of"),
            (["shrink", "--seed", "1"], "needs --out FILE"),
            (["shrink", "--out", scratch.file("x.sql").path, "--seed", "1", "--against", scratch.url.path], "holds no libsqlite3.so.0"),
            (["shrink", "--verify", foreign.path, "--out", scratch.file("x.sql").path], "--verify and --out do not go together."),
            (["shrink", "--verify", foreign.path, "--log", foreign.path], "--verify and --log do not go together."),
        ]
        for (arguments, message) in cases {
            let result = try CLI.run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try String(contentsOf: foreign, encoding: .utf8) == "my notes\n")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("x.sql").path))
    }
}
