import Foundation
import StressSQLite
import Testing

/// Bad input gets one sentence on stderr, exit status 2, and nothing written.
@Suite struct BadInputTests {
    static let cases: [(String, [String])] = [
        ("zero threads", ["--threads", "0"]),
        ("negative threads", ["--threads=-3"]),
        ("zero iterations", ["--iterations", "0"]),
        ("negative iterations", ["--iterations=-1"]),
        ("too many tables", ["--tables", "11"]),
        ("zero tables", ["--tables", "0"]),
        ("negative busy timeout", ["--busy-timeout=-5"]),
        ("negative check-every", ["--check-every=-1"]),
        ("negative compact-every", ["--compact-every=-1"]),
        ("compact-every neither auto nor a number", ["--compact-every", "often"]),
        ("unknown journal mode", ["--journal-mode", "memory2"]),
        ("malformed seed", ["--seed", "0xZZ"]),
        ("negative seed", ["--seed=-1"]),
        ("seed too large", ["--seed", "18446744073709551616"]),
        ("unknown flag", ["--frobnicate"]),
        ("non-numeric count", ["--threads", "many"]),
        ("unknown synchronous level", ["--synchronous", "sometimes"]),
        ("unknown fault", ["--fault", "gremlins"]),
        ("zero fault rate", ["--fault", "io-error:0"]),
        ("fault rate above one", ["--fault", "bit-flip:1.5"]),
        ("non-numeric fault rate", ["--fault", "io-error:often"]),
        ("empty fault rate", ["--fault", "torn-write:"]),
        ("fault given twice", ["--fault", "io-error", "--fault", "io-error:0.5"]),
    ]

    @Test(arguments: cases)
    func rejected(_ name: String, _ arguments: [String]) throws {
        let scratch = try Scratch()
        let result = try CLI.run(["stress", "--db", scratch.file("x.db").path] + arguments)
        try expectRejected(result, scratch: scratch, before: [:], name)
    }

    // A malformed $SQLITE_STRESS_SEED is as bad as a malformed --seed.
    @Test func malformedEnvironmentSeed() throws {
        let scratch = try Scratch()
        let result = try CLI.run(["stress", "--db", scratch.file("x.db").path], environment: ["SQLITE_STRESS_SEED": "seed"])
        try expectRejected(result, scratch: scratch, before: [:], "env seed")
    }

    // A directory that cannot be written, or does not exist.
    @Test(arguments: ["/proc/self/stress.db", "/nonexistent-dir/stress.db"])
    func unwritableDirectory(_ path: String) throws {
        let result = try CLI.run(["stress", "--db", path, "--iterations", "5"])
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: path + ".sql"))
    }

    // An existing file that is not SQLite is left alone, with or without --overwrite.
    @Test(arguments: [false, true])
    func existingNonSQLiteFile(_ overwrite: Bool) throws {
        let scratch = try Scratch()
        try Data("precious notes\n".utf8).write(to: scratch.file("notes.db"))
        let before = try scratch.snapshot()
        let result = try CLI.run(["stress", "--db", scratch.file("notes.db").path] + (overwrite ? ["--overwrite"] : []))
        try expectRejected(result, scratch: scratch, before: before, "non-SQLite file")
    }

    // An existing database needs --overwrite; one this tool did not create is refused even then.
    @Test func existingDatabases() throws {
        let scratch = try Scratch()
        let theirs = try Connection(path: scratch.file("theirs.db").path)
        try theirs.execute("CREATE TABLE important(x); INSERT INTO important VALUES (42)")
        theirs.close()
        let before = try scratch.snapshot()
        for arguments in [[], ["--overwrite"]] {
            let result = try CLI.run(["stress", "--db", scratch.file("theirs.db").path] + arguments)
            try expectRejected(result, scratch: scratch, before: before, "foreign database \(arguments)")
        }

        #expect(try CLI.run(["stress", "--seed", "1", "--iterations", "10", "--db", scratch.file("ours.db").path]).status == 0)
        let ours = try scratch.snapshot()
        let again = try CLI.run(["stress", "--seed", "2", "--db", scratch.file("ours.db").path])
        try expectRejected(again, scratch: scratch, before: ours, "our database without --overwrite")
    }

    // An existing file at --sql-log that is not our log is never replaced.
    @Test func foreignSQLLogIsRefused() throws {
        let scratch = try Scratch()
        try Data("my own script\n".utf8).write(to: scratch.file("script.sql"))
        let before = try scratch.snapshot()
        let result = try CLI.run([
            "stress", "--db", scratch.file("new.db").path, "--sql-log", scratch.file("script.sql").path,
        ])
        try expectRejected(result, scratch: scratch, before: before, "foreign log")
    }

    // --sql-log naming one of the database's own files (SQLite would delete the
    // log, or two logs would mix in one file) is refused, however it is spelled.
    @Test(arguments: ["q.db-wal", "q.db-shm", "q.db-journal", "q.db.acks", "./q.db", "sub/../q.db-wal", "q.db.setup"])
    func sqlLogNamingTheDatabasesOwnFilesIsRefused(_ log: String) throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(at: scratch.file("sub"), withIntermediateDirectories: false)
        let before = try scratch.snapshot()
        let result = try CLI.run(["stress", "--db", "q.db", "--sql-log", log, "--iterations", "5"], in: scratch.url)
        try expectRejected(result, scratch: scratch, before: before, "--sql-log \(log)")
    }

    private func expectRejected(
        _ result: CommandResult, scratch: Scratch, before: [String: Data], _ name: String
    ) throws {
        #expect(result.status == 2, "\(name): status \(result.status), stderr \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(name): expected one line on stderr, got \(result.stderr)")
        #expect(lines.first?.hasPrefix("sqlite-stress: error: ") == true, "\(name): \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(name): \(result.stdout)")
        #expect(try scratch.snapshot() == before, "\(name): files changed")
    }
}
