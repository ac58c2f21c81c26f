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

    // A negative number after its option is that option's value, not an
    // option of its own: the sentence says what is wrong with the number
    // (not that a value is missing), for the monolith, the checks and compose.
    @Test(arguments: [
        (["stress", "--iterations", "-1"], "--iterations must be at least 1 (got -1)."),
        (["stress", "--threads", "-3"], "--threads must be at least 1 (got -3)."),
        (["stress", "--seed", "-1"], "--seed must be a 64-bit number in decimal or 0x hex (got '-1')."),
        (["check", "--wait", "-0.5"], "--wait must be a non-negative number of seconds (got -0.5)."),
        (["compose", "composer", "--runs", "-1"], "--runs must be at least 1 (got -1)."),
    ])
    func negativeNumbersAreValues(_ arguments: [String], _ sentence: String) throws {
        let scratch = try Scratch()
        let result = try CLI.run(arguments, in: scratch.url)
        try expectRejected(result, scratch: scratch, before: [:], "\(arguments)")
        #expect(result.stderr == "sqlite-stress: error: \(sentence)\n")
    }

    // An empty path names no file (SQLite would open a private temporary
    // database for it): every command says which one is empty, before
    // anything runs — the drivers' fast reading of their command line included.
    @Test(arguments: [
        (["stress", "--db", ""], "--db must not be empty."),
        (["stress", "--sql-log", ""], "--sql-log must not be empty."),
        (["schema", "--db", ""], "--db must not be empty."),
        (["insert", "--db", ""], "--db must not be empty."),
        (["check", "--db", ""], "--db must not be empty."),
        (["integrity", "--db", ""], "--db must not be empty."),
        (["replay", ""], "the SQL log's path must not be empty."),
        (["replay", "x.sql", "--db", ""], "--db must not be empty."),
        (["shrink", "--log", "", "--out", "o.sql"], "--log must not be empty."),
        (["shrink", "--seed", "1", "--out", ""], "--out must not be empty."),
        (["shrink", "--verify", ""], "--verify must not be empty."),
        (["compose", "", "--runs", "1"], "the template directory's path must not be empty."),
        (["compose", "composer", "--runs", "1", "--run-dir", ""], "--run-dir must not be empty."),
    ])
    func emptyPathsAreRefused(_ arguments: [String], _ sentence: String) throws {
        let scratch = try Scratch()
        let result = try CLI.run(arguments, in: scratch.url)
        try expectRejected(result, scratch: scratch, before: [:], "\(arguments)")
        #expect(result.stderr == "sqlite-stress: error: \(sentence)\n")
    }

    // The argument parser's own errors read as the tool's: one sentence in
    // lower case with a full stop, the choices in it. A misspelt command is
    // named, with the nearest command when one is close, never blamed on the
    // options after it; a misspelt option is named before a check that an
    // option is missing (`--duraton` is not "give --duration"); a database
    // path given without --db is told where it goes.
    @Test(arguments: [
        (["stress", "--frobnicate"], "unknown option '--frobnicate'."),
        (["stress", "--iterations", "many"], "the value 'many' is invalid for '--iterations <n>'."),
        (["compose", "composer", "--runs", "3", "--end", "sometimes"],
         "the value 'sometimes' is invalid for '--end <kind>'; give one of 'finally' and 'eventually'."),
        (["stres", "--threads", "4"], "there is no command named 'stres'; did you mean 'stress'? `sqlite-stress --help` lists them."),
        (["chek", "--db", "x.db"], "there is no command named 'chek'; did you mean 'check'? `sqlite-stress --help` lists them."),
        (["replya", "x.sql"], "there is no command named 'replya'; did you mean 'replay'? `sqlite-stress --help` lists them."),
        (["frobnicate"], "there is no command named 'frobnicate'; `sqlite-stress --help` lists them."),
        (["hlep"], "there is no command named 'hlep'; did you mean 'help'? `sqlite-stress --help` lists them."),
        // A hidden command is never offered.
        (["setup-complet"], "there is no command named 'setup-complet'; `sqlite-stress --help` lists them."),
        (["compose", "composer", "--duraton", "10"], "unknown option '--duraton'. Did you mean '--duration'?"),
        (["compose", "composer"], "give --duration or --runs."),
        (["shrink", "--ot", "x.sql"], "unknown option '--ot'. Did you mean '--out'?"),
        (["shrink"], "shrink needs --out FILE (or --verify FILE)."),
        // A database given where only --db takes one.
        (["check", "runs/s.db"], "unexpected argument 'runs/s.db'; give the database with --db runs/s.db."),
        (["insert", "s.db"], "unexpected argument 's.db'; give the database with --db s.db."),
        (["replay", "a.sql", "b.sql"], "unexpected argument 'b.sql'."),
        // No hint for what is no database path, nor where --db is given.
        (["stress", "--threads", "4", "8"], "unexpected argument '8'."),
        (["check", "--db", "x.db", "extra.db"], "unexpected argument 'extra.db'."),
    ])
    func parserErrorsAreSentences(_ arguments: [String], _ sentence: String) throws {
        let scratch = try Scratch()
        let result = try CLI.run(arguments, in: scratch.url)
        try expectRejected(result, scratch: scratch, before: [:], "\(arguments)")
        #expect(result.stderr == "sqlite-stress: error: \(sentence)\n")
    }

    // `help` names a command; a name that is none is an error, not the tool's help.
    @Test func helpForNoCommandIsAnError() throws {
        let result = try CLI.run(["help", "bogus"])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "sqlite-stress: error: there is no command named 'bogus'; `sqlite-stress --help` lists them.\n")
        let help = try CLI.run(["help", "stress"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: sqlite-stress stress"), "\(help.stdout)")
    }

    // A database path with a line break (or another control character) would
    // split the SQL log's VACUUM INTO lines, and no replay could read the log: every command that takes a
    // database refuses it, given or in the environment, the drivers' fast
    // reading of their command line included, and writes nothing.
    @Test(arguments: [["stress", "--iterations", "5"], ["schema"], ["insert"], ["check"]])
    func aDatabasePathWithAControlCharacterIsRefused(_ command: [String]) throws {
        let scratch = try Scratch()
        let path = scratch.file("a\nb.db").path
        let given = try CLI.run(command + ["--db", path], in: scratch.url)
        try expectRejected(given, scratch: scratch, before: [:], "\(command) --db")
        #expect(given.stderr == "sqlite-stress: error: --db must not hold a control character (a line break, say): the SQL "
            + "log keeps a statement to a line, and a VACUUM INTO statement names the database's path.\n")
        let inherited = try CLI.run(command, in: scratch.url, environment: ["SQLITE_STRESS_DB": scratch.file("c\u{0C}d.db").path])
        try expectRejected(inherited, scratch: scratch, before: [:], "\(command) $SQLITE_STRESS_DB")
        #expect(inherited.stderr.hasPrefix("sqlite-stress: error: $SQLITE_STRESS_DB must not hold a control character"), "\(inherited.stderr)")
    }

    // A symbolic link where a command makes a new database or script is
    // refused: the new file would replace the link and leave what it points to
    // as it was (a link to nothing was once quietly dropped for a file). The
    // link, its target and the directory stay as they were.
    @Test(arguments: [
        (["stress", "--iterations", "5"], "database"), (["schema"], "database"),
        (["replay", "made.db.sql"], "replay database"),
    ])
    func aNewFileThroughASymbolicLinkIsRefused(_ command: [String], _ what: String) throws {
        let scratch = try Scratch()
        let made = try CLI.run(["stress", "--seed", "2", "--iterations", "20", "--db", "made.db", "-q"], in: scratch.url)
        try #require(made.status == 0, "\(made.stderr)")
        try FileManager.default.createSymbolicLink(atPath: scratch.file("to-nothing.db").path, withDestinationPath: "gone/x.db")
        try FileManager.default.createSymbolicLink(atPath: scratch.file("to-made.db").path, withDestinationPath: "made.db")
        let before = try scratch.snapshot()
        for (link, target, missing) in [("to-nothing.db", "gone/x.db", ", which does not exist"), ("to-made.db", "made.db", "")] {
            let result = try CLI.run(command + ["--db", link, "--overwrite"], in: scratch.url)
            try expectRejected(result, scratch: scratch, before: before, "\(command[0]) --db \(link)")
            #expect(result.stderr == "sqlite-stress: error: \(link) is a symbolic link to \(target)\(missing): a new \(what) would "
                + "replace the link, not what it points to; give the \(what)'s own path.\n")
        }
    }

    // The same for shrink's script.
    @Test func aScriptThroughASymbolicLinkIsRefused() throws {
        let scratch = try Scratch()
        try FileManager.default.createSymbolicLink(atPath: scratch.file("out.sql").path, withDestinationPath: "gone/x.sql")
        let before = try scratch.snapshot()
        let result = try CLI.run(["shrink", "--seed", "1", "--out", "out.sql"], in: scratch.url)
        try expectRejected(result, scratch: scratch, before: before, "shrink --out link")
        #expect(result.stderr == "sqlite-stress: error: out.sql is a symbolic link to gone/x.sql, which does not exist: a new "
            + "script would replace the link, not what it points to; give the script's own path.\n")
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

    // A directory where SQLite's file beside the database (or beside the one
    // being set up) would be is none a run made: it is refused with what is in
    // it, where a run once removed it whole.
    @Test(arguments: ["ours.db-wal", "ours.db-journal", "ours.db.setup-shm"])
    func aDirectoryAmongTheDatabasesFilesIsKept(_ name: String) throws {
        let scratch = try Scratch()
        let made = try CLI.run(["stress", "--seed", "1", "--iterations", "10", "--db", "ours.db", "-q"], in: scratch.url)
        try #require(made.status == 0, "\(made.stderr)")
        try FileManager.default.createDirectory(at: scratch.file(name), withIntermediateDirectories: false)
        try Data("kept\n".utf8).write(to: scratch.file(name).appendingPathComponent("notes"))
        let before = try scratch.snapshot()
        for command in ["stress", "schema"] {
            let result = try CLI.run([command, "--db", "ours.db", "--overwrite"], in: scratch.url)
            try expectRejected(result, scratch: scratch, before: before, "\(command) with \(name)")
            #expect(result.stderr == "sqlite-stress: error: ours.db\(name.dropFirst(7)) is a directory, not a file SQLite could use "
                + "beside its database; refusing to remove it.\n")
        }
        #expect(try Data(contentsOf: scratch.file(name).appendingPathComponent("notes")) == Data("kept\n".utf8))
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

    // Another run's SQL log named with --sql-log is replaced only with
    // --overwrite, as a database is; the `<db>.sql` a deleted database left is
    // what is left of that run, and a new run on the path replaces it.
    @Test func anotherRunsSQLLogIsReplacedOnlyWithOverwrite() throws {
        let scratch = try Scratch()
        let first = try CLI.run(["stress", "--seed", "1", "--iterations", "5", "--db", "old.db", "-q"], in: scratch.url)
        try #require(first.status == 0, "\(first.stderr)")
        let before = try scratch.snapshot()
        let result = try CLI.run(["stress", "--seed", "2", "--iterations", "5", "--db", "new.db", "--sql-log", "old.db.sql"], in: scratch.url)
        try expectRejected(result, scratch: scratch, before: before, "another run's log")
        #expect(result.stderr == "sqlite-stress: error: old.db.sql already exists (an SQL log of sqlite-stress); pass --overwrite to replace it.\n")
        let replaced = try CLI.run(
            ["stress", "--seed", "2", "--iterations", "5", "--db", "new.db", "--sql-log", "old.db.sql", "--overwrite", "-q"], in: scratch.url)
        #expect(replaced.status == 0, "\(replaced.stderr)")

        try FileManager.default.removeItem(at: scratch.file("old.db"))
        let again = try CLI.run(["stress", "--seed", "3", "--iterations", "5", "--db", "old.db", "-q"], in: scratch.url)
        #expect(again.status == 0, "the log a deleted database left: \(again.stderr)")
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

    // The same through a symbolic link to one of those files not made yet: the
    // link names the file the log would be written into.
    @Test(arguments: ["q.db", "q.db.acks", "q.db-journal", "sub/../q.db-wal"])
    func sqlLogThroughALinkToTheDatabasesOwnFilesIsRefused(_ target: String) throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(at: scratch.file("sub"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: scratch.file("link").path, withDestinationPath: target)
        let before = try scratch.snapshot()
        let result = try CLI.run(["stress", "--db", "q.db", "--sql-log", "link", "--iterations", "5"], in: scratch.url)
        try expectRejected(result, scratch: scratch, before: before, "--sql-log link to \(target)")
        #expect(result.stderr == "sqlite-stress: error: the SQL log link would be one of the database's own files; give --sql-log another path.\n")
    }

    // A driver appends to the logs `schema` left beside the database, and to
    // nothing else: an acknowledgement log that is missing or empty (its records
    // are gone, and a fresh one would let a check pass on this batch's records
    // alone), a directory or a file this tool did not write is refused before
    // anything is written (no reservation in the log), and so is an SQL log
    // that is a directory or another program's file.
    @Test(arguments: [
        ("acks", "missing", "the acknowledgement log d.db.acks is missing: the records of the database's transactions are gone, and no check could judge them (`sqlite-stress schema` makes a database with its log)."),
        ("acks", "empty", "the acknowledgement log d.db.acks is empty: the records of the database's transactions are gone, and no check could judge them (`sqlite-stress schema` makes a database with its log)."),
        ("acks", "directory", "the acknowledgement log path d.db.acks is a directory."),
        ("acks", "foreign", "refusing to append to d.db.acks: it is not an acknowledgement log written by sqlite-stress."),
        ("sql", "directory", "the SQL log path d.db.sql is a directory."),
        ("sql", "foreign", "refusing to append to d.db.sql: it is not an SQL log written by sqlite-stress."),
    ])
    func aDriverAppendsOnlyToTheLogsSchemaLeft(_ log: String, _ state: String, _ sentence: String) throws {
        let scratch = try Scratch()
        // A rollback journal: a read of the database leaves no -wal or -shm file behind.
        let schema = try CLI.run(["schema", "--seed", "1", "--journal-mode", "delete", "--db", "d.db", "-q"], in: scratch.url)
        try #require(schema.status == 0, "\(schema.stderr)")
        let path = scratch.file("d.db.\(log)")
        try FileManager.default.removeItem(at: path)
        switch state {
        case "directory": try FileManager.default.createDirectory(at: path, withIntermediateDirectories: false)
        case "foreign": try Data("my own notes\n".utf8).write(to: path)
        case "empty": try Data().write(to: path)
        default: break
        }
        let before = try scratch.snapshot()
        let result = try CLI.run(["insert", "--seed", "2", "--db", "d.db"], in: scratch.url)
        try expectRejected(result, scratch: scratch, before: before, "\(log) \(state)")
        #expect(result.stderr == "sqlite-stress: error: \(sentence)\n")
    }

    // The SQL log is the run's script, not evidence: a driver whose log is
    // missing starts it afresh with a line that says its beginning is gone, the
    // next driver appends to it, the database still checks, and `replay` says
    // in one sentence why it cannot rebuild the database from it.
    @Test func aDriverStartsAMissingSQLLogAfresh() throws {
        let scratch = try Scratch()
        try #require(try CLI.run(["schema", "--seed", "1", "--db", "d.db", "-q"], in: scratch.url).status == 0)
        try FileManager.default.removeItem(at: scratch.file("d.db.sql"))
        for seed in ["2", "3"] {
            let insert = try CLI.run(["insert", "--seed", seed, "--db", "d.db", "-q"], in: scratch.url)
            #expect(insert.status == 0, "\(insert.stderr)")
        }
        let log = try String(contentsOf: scratch.file("d.db.sql"), encoding: .utf8).split(separator: "\n")
        #expect(log.first == "-- sqlite-stress continued afresh: the log was missing or empty when a driver began, so its earlier lines are gone")
        #expect(log.count { $0.hasPrefix("-- sqlite-stress continued") } == 1)
        #expect(try CLI.run(["check", "--db", "d.db", "-q"], in: scratch.url).status == 0)
        let replay = try CLI.run(["replay", "d.db.sql", "--db", "r.db"], in: scratch.url)
        #expect(replay.status == 2)
        #expect(replay.stderr == "sqlite-stress: error: d.db.sql begins mid-run: the log was missing or empty when a driver began "
            + "and started it afresh, so the lines before that are gone and no fresh database can replay it.\n")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("r.db").path))
        // Refused before anything is replaced: a database of ours given with --overwrite stays as it was.
        try #require(try CLI.run(["schema", "--seed", "3", "--db", "old.db", "-q"], in: scratch.url).status == 0)
        let old = try Data(contentsOf: scratch.file("old.db"))
        let overwrite = try CLI.run(["replay", "d.db.sql", "--db", "old.db", "--overwrite"], in: scratch.url)
        #expect(overwrite.status == 2)
        #expect(try Data(contentsOf: scratch.file("old.db")) == old)
    }

    // `replay` names the problem with its paths: a log that is missing or a
    // directory, a database path that is a directory; nothing is written.
    @Test func replayNamesWhatIsWrongWithItsPaths() throws {
        let scratch = try Scratch()
        try #require(try CLI.run(["schema", "--seed", "1", "--db", "s.db", "-q"], in: scratch.url).status == 0)
        try FileManager.default.createDirectory(at: scratch.file("dir"), withIntermediateDirectories: false)
        let before = try scratch.snapshot()
        for (arguments, sentence) in [
            (["none.sql"], "none.sql does not exist."),
            (["dir"], "dir is a directory, not an SQL log."),
            (["s.db.sql", "--db", "dir"], "the replay database path dir is a directory."),
            (["s.db.sql", "--db", "./s.db.sql", "--overwrite"], "--db must differ from the log: the replay writes its database there."),
        ] {
            let result = try CLI.run(["replay"] + arguments, in: scratch.url)
            try expectRejected(result, scratch: scratch, before: before, "replay \(arguments)")
            #expect(result.stderr == "sqlite-stress: error: \(sentence)\n")
        }
    }

    // A FIFO where a database or one of SQLite's files beside it would be:
    // opening it would wait for a writer forever (SQLite itself waits on a
    // FIFO at `-journal`). Every command says so at once, and touches nothing.
    @Test func aFIFOIsRefusedAtOnce() throws {
        let scratch = try Scratch()
        try #require(try CLI.run(["schema", "--seed", "1", "--db", "s.db", "-q"], in: scratch.url).status == 0)
        try #require(mkfifo(scratch.file("fifo.db").path, 0o644) == 0)
        try #require(mkfifo(scratch.file("s.db-journal").path, 0o644) == 0)
        let before = try scratch.snapshot()
        let journal = "s.db-journal is a FIFO, not a file SQLite could use beside its database"
        for (arguments, sentence) in [
            (["stress", "--db", "fifo.db"], "fifo.db exists and is not an SQLite database; refusing to touch it."),
            (["check", "--db", "fifo.db"], "fifo.db is not an SQLite database."),
            (["check", "--db", "s.db"], journal + "; remove it."),
            (["integrity", "--db", "s.db"], journal + "; remove it."),
            (["insert", "--db", "s.db"], journal + "; remove it."),
            (["stress", "--db", "s.db", "--overwrite"], journal + "; refusing to remove it."),
            (["replay", "s.db.sql", "--db", "fifo.db", "--overwrite"], "refusing to overwrite fifo.db: it was not created by sqlite-stress."),
        ] {
            let result = try CLI.exec(URL(fileURLWithPath: "/usr/bin/timeout"), ["-k", "5", "20", CLI.binary.path] + arguments, in: scratch.url)
            try expectRejected(result, scratch: scratch, before: before, "\(arguments)")
            #expect(result.stderr == "sqlite-stress: error: \(sentence)\n", "\(arguments)")
        }
    }

    // `replay` treats SQLite's files beside its database as `stress` does: left
    // without their database, they are replaced only with --overwrite; and a
    // run's database (its acknowledgement log beside it) is never a replay's to
    // replace, where once a replay wrote over it and a later `check` of it failed.
    @Test func replayReplacesOnlyAReplaysFiles() throws {
        let scratch = try Scratch()
        try #require(try CLI.run(["schema", "--seed", "1", "--db", "s.db", "-q"], in: scratch.url).status == 0)
        try Data("user data\n".utf8).write(to: scratch.file("r.db-journal"))
        let before = try scratch.snapshot()
        for (arguments, sentence) in [
            (["s.db.sql", "--db", "r.db"], "r.db-journal exists without its database; remove it or pass --overwrite."),
            (["s.db.sql", "--db", "s.db", "--overwrite"],
             "refusing to overwrite s.db: it is a run's database (s.db.acks is beside it), not a replay's."),
        ] {
            let result = try CLI.run(["replay"] + arguments, in: scratch.url)
            try expectRejected(result, scratch: scratch, before: before, "replay \(arguments)")
            #expect(result.stderr == "sqlite-stress: error: \(sentence)\n")
        }
        let replaced = try CLI.run(["replay", "s.db.sql", "--db", "r.db", "--overwrite", "-q"], in: scratch.url)
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("r.db-journal").path))
        #expect(try CLI.run(["check", "--db", "s.db", "-q"], in: scratch.url).status == 0)
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
