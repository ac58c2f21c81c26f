import Foundation
import StressKit
import StressSQLite
import Testing

@Suite struct StressCommandTests {
    // Same seed, one thread ⇒ the same SQL log byte for byte, but for the
    // database's own path (VACUUM INTO names a file beside it), and identical
    // final content (sqlite3 .dump); a different seed ⇒ a different run.
    @Test func sameSeedSameRun() throws {
        let scratch = try Scratch()
        var logs: [String] = []
        var dumps: [String] = []
        for (name, seed) in [("a", "0x5eed"), ("b", "24301"), ("c", "0x5eee")] {
            let db = scratch.file("\(name).db")
            let result = try CLI.run(["stress", "--seed", seed, "--iterations", "300", "--db", db.path])
            #expect(result.status == 0, "\(result.stderr)\(result.stdout)")
            let log = try String(contentsOf: scratch.file("\(name).db.sql"), encoding: .utf8)
            logs.append(log.replacing(db.path, with: "<db>"))
            dumps.append(try CLI.dump(db))
        }
        #expect(logs[0] == logs[1], "0x5eed and 24301 are the same seed; the logs differ")
        #expect(dumps[0] == dumps[1])
        #expect(dumps[0].contains("INSERT INTO"))
        #expect(logs[0] != logs[2])
        #expect(dumps[0] != dumps[2])
    }

    // Replaying a one-thread run's SQL log through the sqlite3 shell into an
    // empty database reproduces the same final content, in every journal mode,
    // ledger compactions included.
    @Test(arguments: [("wal", "1"), ("delete", "2"), ("truncate", "3"), ("persist", "4"), ("wal", "77")])
    func shellReplayReproducesContent(_ mode: String, _ seed: String) throws {
        let scratch = try Scratch()
        let db = scratch.file("run.db")
        let result = try CLI.run(
            ["stress", "--seed", seed, "--iterations", "250", "--compact-every", "100", "--journal-mode", mode, "--db", db.path])
        #expect(result.status == 0, "\(result.stderr)\(result.stdout)")
        let replayed = scratch.file("replayed.db")
        let shell = try CLI.exec(
            URL(fileURLWithPath: "/usr/bin/sqlite3"), [replayed.path], input: scratch.file("run.db.sql"))
        #expect(shell.status == 0 || shell.stderr.contains("constraint failed"), "\(shell.stderr)")
        #expect(try CLI.dump(db) == CLI.dump(replayed))
    }

    // Rollback-journal modes are per connection: every worker really uses the
    // chosen one (PERSIST leaves its journal behind, TRUNCATE an empty one, DELETE none).
    @Test func journalModesReallyApply() throws {
        let scratch = try Scratch()
        for mode in ["delete", "truncate", "persist"] {
            let db = scratch.file("\(mode).db")
            let result = try CLI.run(["stress", "--seed", "12", "--threads", "2", "--iterations", "60", "--journal-mode", mode, "--db", db.path, "-q"])
            #expect(result.status == 0, "\(result.stdout)")
            let journal = try? FileManager.default.attributesOfItem(atPath: db.path + "-journal")[.size] as? Int
            switch mode {
            case "delete": #expect(journal == nil)
            case "truncate": #expect(journal == 0)
            default: #expect((journal ?? 0) > 0)
            }
        }
    }

    // The printed reproduce line repeats a one-thread run exactly — the same
    // SQL log, byte for byte but for the name of the database in VACUUM INTO
    // copies — into fresh files: the database and logs it came
    // from stay as they were, and run again it refuses to replace even the
    // reproduction.
    @Test func reproduceLineReproducesIntoFreshFiles() throws {
        let scratch = try Scratch()
        let first = try CLI.run(["stress", "--iterations", "120", "--db", "r.db"], in: scratch.url)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("sqlite-stress stress: seed 0x") == true)
        let reproduce = String(try #require(lines.first { $0.hasPrefix("reproduce: ") }).dropFirst("reproduce: ".count))
        #expect(reproduce.hasPrefix("sqlite-stress stress --seed 0x"))
        #expect(reproduce.contains(" --db r-repro.db"), "\(reproduce)")
        #expect(!reproduce.contains("--overwrite"))
        let before = try scratch.snapshot()
        #expect(Set(before.keys).isSuperset(of: ["r.db", "r.db.sql", "r.db.acks"]), "\(before.keys)")

        let again = try CLI.shell(reproduce, in: scratch.url)
        #expect(again.status == 0, "\(again.stderr)")
        let after = try scratch.snapshot()
        for (name, data) in before { #expect(after[name] == data, "\(name) changed") }
        // The log names the database only in the paths of VACUUM INTO copies, which sit beside it.
        let replayedLog = String(decoding: try #require(after["r-repro.db.sql"]), as: UTF8.self)
        let recordedLog = String(decoding: try #require(before["r.db.sql"]), as: UTF8.self)
        #expect(replayedLog.replacing("r-repro.db.copy-", with: "r.db.copy-") == recordedLog, "the reproduction's log differs")
        #expect(try CLI.dump(scratch.file("r-repro.db")) == CLI.dump(scratch.file("r.db")))

        let third = try CLI.shell(reproduce, in: scratch.url)
        #expect(third.status == 2)
        #expect(third.stderr.contains("r-repro.db already exists"), "\(third.stderr)")
        #expect(try scratch.snapshot() == after)
    }

    // With several threads the reproduce line says it is not exact, and the
    // exact one-thread line for the same seed follows it; that line does
    // reproduce exactly, as --json says.
    @Test func multiThreadReproduceLinesSayTheyAreNotExact() throws {
        let scratch = try Scratch()
        let run = try CLI.run(["stress", "--seed", "31", "--threads", "3", "--iterations", "60", "--db", "m.db"], in: scratch.url)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(!lines.contains { $0.hasPrefix("reproduce: ") })
        let inexact = try #require(lines.first { $0.hasPrefix("reproduce (not exact: 3 threads interleave as the scheduler runs them): ") })
        #expect(inexact.contains("--threads 3"))
        let exactLine = try #require(lines.first { $0.hasPrefix("reproduce exactly with one thread") })
        let exact = String(exactLine[exactLine.range(of: "): ")!.upperBound...])
        #expect(exact.hasPrefix("sqlite-stress stress --seed 0x000000000000001f --threads 1 "), "\(exact)")

        let once = try CLI.shell(exact, in: scratch.url)
        #expect(once.status == 0, "\(exact)\n\(once.stderr)")
        let log = try Data(contentsOf: scratch.file("m-repro.db.sql"))
        for name in try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) where name.hasPrefix("m-repro.db") {
            try FileManager.default.removeItem(at: scratch.file(name))
        }
        #expect(try CLI.shell(exact, in: scratch.url).status == 0)
        #expect(try Data(contentsOf: scratch.file("m-repro.db.sql")) == log)

        let json = try CLI.run(["stress", "--seed", "31", "--threads", "3", "--iterations", "20", "--db", "j.db", "--json"], in: scratch.url)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["reproduceExact"] as? Bool == false)
        #expect((document["reproduceOneThread"] as? String)?.contains("--threads 1 ") == true)
    }

    // Four threads of 1500 iterations: no violation, and every transaction
    // outcome the issue names really happens (commits, rollbacks, savepoint
    // rollbacks, busy errors).
    @Test func fourThreadsShowEveryOutcome() throws {
        let scratch = try Scratch()
        let result = try CLI.run([
            "stress", "--seed", "0x4444", "--threads", "4", "--iterations", "1500", "--journal-mode", "wal",
            "--check-every", "300", "--json", "--db", scratch.file("four.db").path,
        ])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        // On a failure, what was violated first and the known bugs named: the report's head, not its tail.
        let violations = (json["violations"] as? [[String: Any]] ?? []).prefix(4).map {
            "\($0["property"] ?? "?"): \($0["message"] ?? "?") (line \($0["logLine"] ?? "?"))"
        }
        let known = (json["knownSQLiteBugs"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(result.status == 0, "\(violations) known: \(known) counters: \(json["counters"] ?? "")")
        let counters = try #require(json["counters"] as? [String: Int])
        #expect(json["result"] as? String == "pass")
        #expect(counters["commits", default: 0] > 0)
        #expect(counters["rollbacks", default: 0] > 0)
        #expect(counters["savepoint-rollbacks", default: 0] > 0)
        #expect(counters["busy-errors", default: 0] > 0)
        #expect(counters["unexpected-errors"] == 0)
        #expect(counters["checks", default: 0] >= 21)  // 4 threads × 5 + final
        #expect((json["violations"] as? [Any])?.isEmpty == true)
    }

    // The summary names the run's three files with their sizes: the SQL log,
    // the database and the acknowledgement log, in KiB below 1 MiB.
    @Test func theSummaryGivesEachFilesSize() throws {
        let scratch = try Scratch()
        let db = scratch.file("sized.db").path
        let result = try CLI.run(["stress", "--seed", "5", "--iterations", "100", "--db", db])
        #expect(result.status == 0, "\(result.stdout)")
        func kib(_ path: String) throws -> Int {
            let bytes = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            try #require(bytes < 1_048_576, "\(path) is past 1 MiB")
            return (bytes + 1023) / 1024
        }
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("SQL log: ") })
        #expect(line.hasSuffix(" — \(try kib(db + ".sql")) KiB, the database \(try kib(db)) KiB, "
            + "the acknowledgement log \(try kib(db + ".acks")) KiB"), "\(line)")
    }

    // --json puts one JSON document on stdout; the human lines go to stderr.
    @Test func jsonOutputIsOneDocument() throws {
        let scratch = try Scratch()
        let result = try CLI.run(["stress", "--seed", "9", "--iterations", "50", "--json", "--db", scratch.file("j.db").path])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["seed"] as? String == "0x0000000000000009")
        #expect((json["reproduce"] as? String)?.contains("--seed 0x0000000000000009") == true)
        #expect(result.stderr.contains("reproduce: "))
    }

    // --quiet prints nothing on a clean run; the environment supplies db and seed.
    @Test func quietAndEnvironment() throws {
        let scratch = try Scratch()
        let result = try CLI.run(
            ["stress", "-q", "--iterations", "30"], in: scratch.url,
            environment: ["SQLITE_STRESS_DB": scratch.file("env.db").path, "SQLITE_STRESS_SEED": "0x10"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let log = try String(contentsOf: scratch.file("env.db.sql"), encoding: .utf8)
        #expect(log.hasPrefix("-- sqlite-stress stress seed=0x0000000000000010 "))
    }

    // --overwrite replaces a database this tool made.
    @Test func overwriteReplacesOurOwnDatabase() throws {
        let scratch = try Scratch()
        let db = scratch.file("o.db").path
        #expect(try CLI.run(["stress", "--seed", "1", "--iterations", "20", "--db", db]).status == 0)
        #expect(try CLI.run(["stress", "--seed", "2", "--iterations", "20", "--db", db, "--overwrite"]).status == 0)
        let log = try String(contentsOfFile: db + ".sql", encoding: .utf8)
        #expect(log.hasPrefix("-- sqlite-stress stress seed=0x0000000000000002 "))
    }

    // Journal modes and synchronous levels are taken in any case, as SQLite's pragmas take them.
    @Test func journalModeInAnyCase() throws {
        let scratch = try Scratch()
        let result = try CLI.run([
            "stress", "--seed", "3", "--iterations", "20", "--journal-mode", "WAL", "--synchronous", "Normal",
            "--db", scratch.file("w.db").path, "-q",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let log = try String(contentsOf: scratch.file("w.db.sql"), encoding: .utf8)
        #expect(log.contains("journal_mode=wal synchronous=normal"), "\(log.prefix(300))")
    }

    // The help says once that the seed draws what is not given, and
    // --check-every says it checks every property.
    @Test func helpSaysThingsOnce() throws {
        for command in ["stress", "schema"] {
            let help = try CLI.run([command, "--help"]).stdout.lowercased()
            #expect(!help.contains("(default: drawn from the seed)"), "\(help)")
            #expect(help.components(separatedBy: "the seed draws what is not given").count == 2, "\(help)")
        }
        let help = try CLI.run(["stress", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("--check-every <k> Check every property (integrity, model, rollback, durability, conservation, query-consistency, schema)"), "\(help)")
        #expect(!help.contains("Run PRAGMA integrity_check every"))
    }

    // Every command's help names each option's value (<n>, <path>, <k>, …),
    // never echoes the option's own name as its value (`--threads
    // <threads>`, the parser's fallback), and states no default twice (the
    // parser adds "(default: …)" after a help text that must not say it
    // itself), nor a whole number of seconds as "900.0".
    @Test func everyCommandsHelpNamesValuesAndStatesEachDefaultOnce() throws {
        let top = try CLI.run(["--help"]).stdout
        let listing = try #require(top.range(of: "SUBCOMMANDS:")).upperBound
        let commands = top[listing...].split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }
        #expect(commands.contains("stress") && commands.contains("shrink") && commands.contains("compact"), "\(commands)")
        for command in commands where command != "help" {
            let help = try CLI.run([command, "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(help.firstMatch(of: /\(default: [^)]*\) \(default:/) == nil, "\(command): \(help)")
            #expect(help.firstMatch(of: /--([a-z-]+) <\1>/) == nil, "\(command): \(help)")
            #expect(help.firstMatch(of: /\(default: [0-9]+\.0\)/) == nil, "\(command): \(help)")
        }
    }

    // Every driver's help says which files it writes beside the database: the
    // SQL log it appends to and the acknowledgement log that must be there.
    @Test func everyDriversHelpNamesTheLogsItAppendsTo() throws {
        for kind in DriverKind.allCases {
            let help = try CLI.run([kind.rawValue, "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(help.contains("Appends every statement to the SQL log beside it, <db>.sql"), "\(kind): \(help)")
            #expect(help.contains("the acknowledgement log <db>.acks, which must be there."), "\(kind): \(help)")
        }
    }

    // The summary reads as English and says each thing once: counts agree with
    // their nouns, the schema line and the model line count the same tables,
    // the fault plan and what the faults did are two different lines.
    @Test func summaryWording() throws {
        let scratch = try Scratch()
        let result = try CLI.run([
            "stress", "--seed", "12", "--tables", "1", "--iterations", "40", "--fault", "io-error:0.001",
            "--db", scratch.file("s.db").path,
        ])
        #expect(result.status == 0, "\(result.stdout)")
        let text = result.stdout
        #expect(text.contains("schema: 1 table plus the accounts: t0("), "\(text)")
        #expect(text.contains("model              pass     1 table plus the accounts, "), "\(text)")
        #expect(!text.contains("(s)"))
        #expect(text.firstMatch(of: /(^|[^0-9])1 (cols|columns|checks|tables|rows|predicates|reconnects|lookups|large rows|commits|rollbacks|savepoints|savepoint rollbacks|releases|statements met)\b/) == nil)
        let lines = text.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("fault plan: ") }.count == 1)
        #expect(lines.filter { $0.hasPrefix("faults: ") }.count == 1)
    }

    // A seed that adds an audit table to --tables says which table it is:
    // seed 6 draws 10 tables and the audit table t10, which triggers write.
    @Test func theSchemaLineNamesTheAuditTable() throws {
        let scratch = try Scratch()
        let result = try CLI.run(["stress", "--seed", "6", "--iterations", "5", "--db", scratch.file("a.db").path])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains(" --tables 10 "), "\(result.stdout)")
        #expect(result.stdout.contains("\nschema: 11 tables (t10 written by triggers, an audit trail) plus the accounts: t0("), "\(result.stdout)")
    }

    // A driver's summary and `check`'s lines agree with their counts too: one
    // commit, one rollback, one savepoint rollback, one acknowledged and one
    // rolled-back transaction are each said in the singular. (On a fresh
    // `schema --seed 1` database, one process after another: the same counts every time.)
    @Test func driverAndCheckCountsAgreeWithTheirNouns() throws {
        let scratch = try Scratch()
        func lines(_ arguments: [String], _ prefixes: [String]) throws -> [String] {
            let result = try CLI.run(arguments + ["--db", "d.db"], in: scratch.url)
            #expect(result.status == 0, "\(arguments): \(result.stdout)\(result.stderr)")
            return result.stdout.split(separator: "\n").map(String.init).filter { line in prefixes.contains { line.hasPrefix($0) } }
        }
        func fresh() throws {
            for suffix in ["", ".sql", ".acks"] { try? FileManager.default.removeItem(at: scratch.file("d.db" + suffix)) }
            try #require(try CLI.run(["schema", "--seed", "1", "--db", "d.db", "-q"], in: scratch.url).status == 0)
        }
        try fresh()
        #expect(try lines(["check"], ["durability"]) == ["durability         pass     1 acknowledged transaction"])
        #expect(try lines(["rollback", "--seed", "4"], ["transactions: "])
            == ["transactions: 1 commit, 0 rollbacks, 1 savepoint rollback; errors: busy 0, locked 0, constraint 5, full 0, i/o 0, unexpected 0"])
        try fresh()
        #expect(try lines(["rollback", "--seed", "5"], ["transactions: "])
            == ["transactions: 0 commits, 1 rollback, 2 savepoint rollbacks; errors: busy 0, locked 0, constraint 3, full 0, i/o 0, unexpected 0"])
        #expect(try lines(["check"], ["rollback "])
            == ["rollback           pass     the tags of 16 rows, ledger entries of 1 rolled-back transaction and of undone statements"])
    }

    // A checkpoint outside WAL mode does nothing, and is not counted as one:
    // the same seed counts checkpoints in WAL mode and none in DELETE mode.
    @Test func checkpointsCountOnlyInWALMode() throws {
        let scratch = try Scratch()
        func counters(_ mode: String) throws -> (Int, String) {
            let result = try CLI.run([
                "stress", "--seed", "7", "--iterations", "300", "--journal-mode", mode, "--db", scratch.file("\(mode).db").path, "--json",
            ])
            #expect(result.status == 0, "\(result.stdout)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let swarm = try #require(json["swarm"] as? [String: Any])
            #expect("\(swarm)".contains("checkpoint"), "seed 7 must plan checkpoints: \(swarm)")
            return (try #require((json["counters"] as? [String: Int])?["checkpoints"]), result.stderr + result.stdout)
        }
        #expect(try counters("wal").0 > 0)
        let (count, text) = try counters("delete")
        #expect(count == 0)
        #expect(!text.contains("checkpoints ("))
    }

    // By default a run compacts only once a thread has run 2,000 iterations,
    // then every 200: the log holds exactly those compactions, the header and
    // the reproduce line say `auto`, and the run passes.
    @Test func aLongRunCompactsByDefault() throws {
        let scratch = try Scratch()
        let db = scratch.file("long.db")
        let result = try CLI.run(["stress", "--seed", "3", "--threads", "1", "--iterations", "2450", "--check-every", "0",
                                  "--db", db.path])
        #expect(result.status == 0, "\(result.stdout.suffix(2000))")
        #expect(result.stdout.contains("--compact-every auto"), "\(result.stdout)")
        let log = try String(contentsOf: URL(fileURLWithPath: db.path + ".sql"), encoding: .utf8)
        #expect(log.hasPrefix("-- sqlite-stress stress seed=0x0000000000000003 threads=1 iterations=2450 check-every=0 compact-every=auto "))
        // One compaction after each of iterations 2000, 2200 and 2400.
        let compactions = log.split(separator: "\n").filter { $0.hasPrefix("DELETE FROM temp.stress_compacting;") }
        #expect(compactions.count == 3)

        let short = scratch.file("short.db")
        #expect(try CLI.run(["stress", "--seed", "3", "--threads", "1", "--iterations", "1999", "--check-every", "0",
                             "--db", short.path, "-q"]).status == 0)
        let shortLog = try String(contentsOf: URL(fileURLWithPath: short.path + ".sql"), encoding: .utf8)
        #expect(!shortLog.contains("stress_compacting"))
    }

    // A lost transaction is shown where it committed: `check` points the
    // durability violation at the transaction's COMMIT line in the SQL log.
    @Test func durabilityViolationPointsAtTheCommit() throws {
        let scratch = try Scratch()
        let db = scratch.file("d.db")
        // The whole ledger (no compaction): the commit records stay.
        #expect(try CLI.run(["stress", "--seed", "5", "--iterations", "200", "--compact-every", "0", "--db", db.path, "-q"]).status == 0)
        // A committed transaction that changed no row: only its commit record is in the ledger.
        let sqlite3 = URL(fileURLWithPath: "/usr/bin/sqlite3")
        let found = try CLI.exec(sqlite3, [db.path, "SELECT tx FROM stress_ledger GROUP BY tx HAVING count(*) = 1 AND max(tbl) = '' AND tx > 1 ORDER BY tx LIMIT 1"])
        let tx = try #require(Int64(found.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(found.stdout)")
        #expect(try CLI.exec(sqlite3, [db.path, "DELETE FROM stress_ledger WHERE tx = \(tx)"]).status == 0)

        let check = try CLI.run(["check", "--db", db.path])
        #expect(check.status == 1, "\(check.stdout)")
        let label = "t\((tx >> 32) - 1) x\(tx & 0xFFFF_FFFF)"
        let line = try #require(check.stdout.firstMatch(of: /VIOLATION durability: .*\(thread t0, SQL log line ([0-9]+)\)/)?.1, "\(check.stdout)")
        let logLines = try String(contentsOf: scratch.file("d.db.sql"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let commit = logLines[try #require(Int(line)) - 1]
        #expect(commit.hasPrefix("COMMIT;") || commit.hasPrefix("RELEASE ") || commit.hasPrefix("END"), "\(commit)")
        #expect(commit.hasSuffix("; -- \(label) ok"), "\(commit)")
        #expect(check.stdout.contains("    seen: by check"))
    }

    // --overwrite never replaces a database another process has open: a running
    // `stress` (its lock on the acknowledgement log), a connection in WAL mode
    // (the wal-index lock), a transaction (SQLite's lock bytes). Exit 2 with one
    // sentence, and the run in progress goes on unharmed.
    @Test func overwriteRefusesADatabaseInUse() throws {
        let scratch = try Scratch()
        let db = scratch.file("b.db").path
        let first = Process()
        first.executableURL = CLI.binary
        first.arguments = ["stress", "--seed", "5", "--threads", "2", "--iterations", "300", "--db", db, "-q"]
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        let deadline = Date().addingTimeInterval(60)
        while first.isRunning, Date() < deadline, !FileManager.default.fileExists(atPath: db) { usleep(5_000) }
        try #require(first.isRunning, "the first run ended before the second could start")
        let second = try CLI.run(["stress", "--seed", "6", "--iterations", "10", "--db", db, "--overwrite"])
        #expect(second.status == 2, "\(second.stdout)")
        #expect(second.stderr.split(separator: "\n").count == 1 && second.stderr.contains("refusing to replace"), "\(second.stderr)")
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(try String(contentsOfFile: db + ".sql", encoding: .utf8).hasPrefix("-- sqlite-stress stress seed=0x0000000000000005 "))
        #expect(try CLI.run(["check", "--db", db]).status == 0)

        for (mode, hold) in [("wal", "SELECT count(*) FROM stress_ledger"), ("delete", "BEGIN IMMEDIATE")] {
            let other = scratch.file("\(mode).db").path
            #expect(try CLI.run(["stress", "--seed", "7", "--iterations", "20", "--journal-mode", mode, "--db", other]).status == 0)
            let holder = try Connection(path: other)
            try holder.execute(hold)
            let refused = try CLI.run(["stress", "--seed", "8", "--iterations", "20", "--db", other, "--overwrite"])
            #expect(refused.status == 2, "\(mode): \(refused.stderr)")
            #expect(try CLI.run(["schema", "--seed", "8", "--db", other, "--overwrite"]).status == 2)
            if mode == "delete" { try holder.execute("ROLLBACK") }
            holder.close()
            #expect(try CLI.run(["stress", "--seed", "8", "--iterations", "20", "--db", other, "--overwrite"]).status == 0)
        }
    }

    // A run killed at any moment, during setup included, leaves either no
    // database or one of this tool's that `check` accepts and `--overwrite`
    // replaces: never a half set-up file that `check` calls "not initialised"
    // (the application id still in the WAL) and `--overwrite` refuses.
    @Test func killedAtAnyMomentLeavesAReplaceableDatabase() throws {
        let scratch = try Scratch()
        let db = scratch.file("k.db").path
        var caught = 0, delay = 0
        // From before the setup to well into the run, however slow the machine is today.
        while caught < 4, delay < 5_000 {
            defer { delay += max(6, delay / 8) }
            let process = try CLI.start(["stress", "--seed", "3", "--journal-mode", "wal", "--threads", "4", "--iterations", "3000", "--db", db, "--overwrite"])
            usleep(UInt32(delay * 1_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let check = try CLI.run(["check", "--db", db])
            if FileManager.default.fileExists(atPath: db) {
                caught += 1
                #expect(check.status == 0, "killed after \(delay) ms: \(check.stdout)\(check.stderr)")
            } else {
                #expect(check.status == 2 && check.stderr.contains("does not exist"), "killed after \(delay) ms: \(check.stderr)")
            }
        }
        #expect(caught > 0, "no kill landed after the setup")
        let replaced = try CLI.run(["stress", "--seed", "4", "--iterations", "20", "--db", db, "--overwrite"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
    }

    // `schema --json` is one valid JSON document whatever the path holds (quotes, backslashes).
    @Test func schemaJSONQuotesThePath() throws {
        let scratch = try Scratch()
        let db = scratch.file(#"odd "name" \ here.db"#).path
        let result = try CLI.run(["schema", "--db", db, "--seed", "1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(json["database"] as? String == db)
        #expect(json["result"] as? String == "pass")
    }

    // The top-level help names the subcommand and the exit statuses.
    @Test func help() throws {
        let result = try CLI.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("stress"))
        #expect(result.stdout.contains("Exit status"))
        let sub = try CLI.run(["stress", "--help"])
        #expect(sub.status == 0)
        #expect(sub.stdout.contains("--journal-mode"))
    }
}
