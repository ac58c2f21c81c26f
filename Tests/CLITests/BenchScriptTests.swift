import Foundation
import StressSQLite
import Testing

/// The benchmark scripts take their arguments as the tool does: `--help` says
/// what a script measures and how to call it, and an option it does not know
/// is refused with exit status 2 before anything is built or measured (a
/// mistyped option once ran the whole benchmark, or a different one).
@Suite struct BenchScriptTests {
    /// Every script in bench/ but `build`, which takes no arguments and only builds.
    static let scripts: [String] = {
        let directory = CLI.packageRoot.appendingPathComponent("bench").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0 != "build" && FileManager.default.isExecutableFile(atPath: directory + "/" + $0) }.sorted()
    }()

    @Test func everyScriptIsCovered() {
        #expect(Self.scripts == [
            "bug-finding", "check-cost", "delete-ioerr-threads-bug", "drop-column-ioerr-bug", "harness", "harness-profile", "ledger-history",
            "ledger-size", "long-run", "run", "sqlite-versions", "sweep", "wal-rollback-to-bug",
        ])
    }

    @Test(arguments: scripts)
    func helpAndUnknownOptions(_ name: String) throws {
        let script = CLI.packageRoot.appendingPathComponent("bench/" + name)
        let help = try CLI.exec(script, ["--help"])
        #expect(help.status == 0, "\(help.stderr)")
        #expect(help.stdout.count > 200, "\(name) --help: \(help.stdout)")
        #expect(help.stderr.isEmpty, "\(name) --help: \(help.stderr)")
        let unknown = try CLI.exec(script, ["--frobnicate"])
        #expect(unknown.status == 2, "\(name): \(unknown.stderr)")
        #expect(unknown.stdout.isEmpty, "\(name): \(unknown.stdout)")
        #expect(unknown.stderr.contains("--frobnicate"), "\(name): \(unknown.stderr)")
    }

    // The WAL bug's reproduction without a crash: the last connection closes
    // while another process holds the database's shared lock, so its checkpoint
    // leaves the WAL, and the next open recovers it. The system's 3.40.1 loses
    // the commit; a 3.50.4 shell keeps it.
    @Test(.enabled(if: SQLiteLibrary.loaded.version == "3.40.1", "the losing half needs Debian 12's SQLite 3.40.1 shell"),
          .enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func theWALBugIsMetWhenTheLastCloseCannotCheckpoint() throws {
        let script = CLI.packageRoot.appendingPathComponent("bench/wal-rollback-to-bug")
        let old = try CLI.exec(script, ["--last-close", "/usr/bin/sqlite3"])
        #expect(old.status == 1, "\(old.stdout)\(old.stderr)")
        #expect(old.stdout == "lost: SQLite 3.40.1 recovered 1 of 4002 committed rows from the WAL\n")
        let shell = try SQLiteChoiceTests.built().appendingPathComponent("sqlite3")
        let fixed = try CLI.exec(script, ["--last-close", shell.path])
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
        #expect(fixed.stdout == "kept: SQLite 3.50.4 recovered the committed transaction (4002 rows)\n")
    }

    // The same loss in one process, with no crash and no other process: a
    // thread closes the last connection while other threads keep opening
    // connections, so the close's checkpoint is at times skipped and the WAL
    // recovered from the file. The system's 3.40.1 loses the commit; 3.50.4
    // keeps it through 20 recoveries or more, which SQLite's own log counts (fewer
    // would be no verdict, exit 2, not a pass).
    @Test(.enabled(if: SQLiteLibrary.loaded.version == "3.40.1", "the losing half needs Debian 12's SQLite 3.40.1"),
          .enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func theWALBugIsMetByThreadsOpeningAsTheLastConnectionCloses() throws {
        let script = CLI.packageRoot.appendingPathComponent("bench/wal-rollback-to-bug")
        let old = try CLI.exec(script, ["--threads"])
        #expect(old.status == 1, "\(old.stdout)\(old.stderr)")
        #expect(old.stdout.hasPrefix("lost: SQLite 3.40.1 recovered 1 of 4002 committed rows from the WAL, "
            + "in one process whose threads opened connections as its last one closed (session "), "\(old.stdout)")
        let fixed = try CLI.exec(script, ["--threads", try SQLiteChoiceTests.built().path])
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
        #expect(fixed.stdout.hasPrefix("kept: SQLite 3.50.4 kept the committed transaction (4002 rows) each time it recovered "
            + "the WAL, in one process whose threads opened connections as its last one closed ("), "\(fixed.stdout)")
        let recoveries = try #require(fixed.stdout.split(separator: "(").last?.split(separator: " ").first.flatMap { Int($0) })
        #expect(recoveries >= 20, "\(fixed.stdout)")
    }
}
