import Foundation
import StressSQLite
import Testing

@Suite struct FailureTests {
    // A database corrupted behind the run's back (every page but the first
    // overwritten, again and again until the run ends) is reported as an
    // `integrity` violation: exit 1, naming the property, the thread, the SQL
    // log line, the seed and the reproduce line.
    @Test func corruptionIsAViolation() throws {
        let scratch = try Scratch()
        let db = scratch.file("victim.db")
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = [
            "stress", "--seed", "21", "--iterations", "200000", "--journal-mode", "delete", "--check-every", "5",
            "--db", db.path,
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline {
            scribble(over: db.path)
            usleep(5_000)
        }
        if process.isRunning { process.terminate() }
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(output.suffix(3000))")
        #expect(output.contains("VIOLATION integrity:"), "\(output.suffix(3000))")
        #expect(output.range(of: #"\(thread (t0|final), SQL log line [0-9]+\)"#, options: .regularExpression) != nil)
        #expect(output.contains("result: FAIL"))
        #expect(output.contains("reproduce: sqlite-stress stress --seed 0x0000000000000015"))
    }

    // A full disk: failed writes of the SQL log and the acknowledgement log are
    // incomplete evidence — a warning on stderr when they happen, named in the
    // summary and the JSON, and the verdict says what it could not check. The
    // summary's line count is what the file holds.
    @Test(.enabled(if: Tmpfs.canMount, "mounting a 1 MiB tmpfs needs root"))
    func fullDiskIsIncompleteEvidence() throws {
        let disk = try Tmpfs(kibibytes: 1024)
        // One thread: with two, a full disk in WAL mode meets SQLite's own bug before
        // 3.50.2 (a WAL frame left without its checksum after ROLLBACK TO; recovery
        // then drops committed transactions), which the system library still has.
        let arguments = ["stress", "--seed", "11", "--threads", "1", "--iterations", "1000", "--journal-mode", "wal"]
        let db = disk.url.appendingPathComponent("full.db").path
        let json = try CLI.run(arguments + ["--db", db, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stderr.contains("warning: cannot write the SQL log \(db).sql"), "\(json.stderr)")
        #expect(json.stderr.contains("warning: cannot write the acknowledgement log \(db).acks"), "\(json.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let gaps = try #require(report["incompleteEvidence"] as? [[String: String]])
        #expect(Set(gaps.compactMap { $0["source"] }) == ["SQL log \(db).sql", "acknowledgement log \(db).acks"], "\(gaps)")
        #expect(gaps.allSatisfy { !($0["unchecked"] ?? "").isEmpty })
        let lines = try String(contentsOfFile: db + ".sql", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(report["sqlLogLines"] as? Int == lines)

        // The same run on an empty disk again, for the text report (the same seed fills it the same way).
        let again = try Tmpfs(kibibytes: 1024)
        let textDB = again.url.appendingPathComponent("full.db").path
        let text = try CLI.run(arguments + ["--db", textDB])
        #expect(text.status == 0, "\(text.stderr)")
        let textLines = try String(contentsOfFile: textDB + ".sql", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(text.stdout.contains("SQL log: \(textDB).sql (\(textLines) lines)"), "\(text.stdout.suffix(1500))")
        #expect(text.stdout.contains("incomplete evidence: acknowledgement log \(textDB).acks: "))
        let verdict = try #require(text.stdout.split(separator: "\n").last { $0.hasPrefix("result: ") })
        #expect(verdict.hasPrefix("result: PASS") && verdict.contains("the evidence is incomplete, not checked: "), "\(verdict)")
    }

    // A disk that really fills up, in WAL mode, on Debian's SQLite 3.40.1: with
    // this seed SQLite itself finds its schema corrupt ("orphan index") once a
    // statement has failed on the full disk, and the run fails. The report names
    // the known WAL bug that such a failure meets (fixed in 3.50.2) although no
    // fault was planted: the full disk the run met counts as one. The same run
    // on 3.50.4 passes.
    @Test(.enabled(if: Tmpfs.canMount, "mounting a tmpfs needs root"),
          .enabled(if: SQLiteLibrary.loaded.version == "3.40.1", "the failing half needs Debian 12's SQLite 3.40.1"),
          .enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func aFullDiskTheRunMetNamesTheKnownWALBug() throws {
        let fixed = try SQLiteChoiceTests.built()
        func run(_ extra: [String]) throws -> (status: Int32, violated: [String], known: [String], full: Int) {
            let disk = try Tmpfs(kibibytes: 2048)
            let db = disk.url.appendingPathComponent("full.db").path
            let result = try CLI.run(extra + [
                "stress", "--seed", "11", "--threads", "1", "--iterations", "600", "--journal-mode", "wal", "--db", db, "--json", "-q",
            ])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
            let violated = (report["violations"] as? [[String: Any]] ?? []).compactMap { $0["property"] as? String }
            let known = try #require(report["knownSQLiteBugs"] as? [[String: Any]]).compactMap { $0["name"] as? String }
            let counters = try #require(report["counters"] as? [String: Any])
            return (result.status, violated, known, try #require(counters["full-errors"] as? Int))
        }
        let old = try run([])
        #expect(old.status == 1)
        #expect(old.violated == ["integrity", "integrity"])
        #expect(old.full > 0, "the run met the full disk")
        #expect(old.known == ["wal-rollback-to-checksums"])
        let new = try run(["--sqlite", fixed.path])
        #expect(new.status == 0, "\(new.violated)")
        #expect(new.full > 0, "the run met the full disk")
        #expect(new.known.isEmpty)
    }

    // The database's directory removed under a running `stress`: SQLite then
    // cannot open the database (SQLITE_CANTOPEN) or finds its file gone
    // (SQLITE_READONLY_DBMOVED, which SQLite checks only as it opens a rollback
    // journal), which is its right answer. The run stops with no verdict and
    // exit status 2, naming the storage — never a violation, which it reported
    // before. In WAL mode only the open can fail; in DELETE mode whichever
    // comes first, the worker's next write or its next reconnect (timing).
    @Test(arguments: [("wal", ["SQLITE_CANTOPEN"]), ("delete", ["SQLITE_READONLY_DBMOVED", "SQLITE_CANTOPEN"])])
    func aDirectoryRemovedUnderTheRunIsNoViolation(_ mode: String, _ codes: [String]) throws {
        let scratch = try Scratch()
        let directory = scratch.file("gone")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        let db = directory.appendingPathComponent("s.db").path
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["stress", "--seed", "5", "--iterations", "200000", "--journal-mode", mode, "--db", db, "--json", "-q"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: db), Date() < deadline { usleep(20_000) }
        usleep(500_000)  // Work under way.
        try FileManager.default.removeItem(at: directory)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let report = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any], "\(String(decoding: output, as: UTF8.self))")
        #expect(process.terminationStatus == 2)
        #expect(report["result"] as? String == "error")
        #expect((report["violations"] as? [Any])?.isEmpty == true, "\(report["violations"] ?? "")")
        let failure = try #require(report["storageFailure"] as? String)
        #expect(codes.contains { failure.contains("(\($0))") }, "\(failure)")
    }

    // A driver whose connection cannot map the WAL index for want of space
    // (SQLITE_IOERR_SHMSIZE while it sets the journal mode) stops with no
    // verdict and exit status 2; before, it reported that as an `integrity`
    // violation. The database is sound: `check` passes once space is free.
    @Test(.enabled(if: Tmpfs.canMount, "mounting a tmpfs needs root"))
    func aDriverOnAFullDiskIsNoViolation() throws {
        let disk = try Tmpfs(kibibytes: 1024)
        let db = disk.url.appendingPathComponent("d.db").path
        try #require(try CLI.run(["schema", "--db", db, "--seed", "2", "--journal-mode", "wal", "-q"]).status == 0)
        try #require(try CLI.run(["insert", "--db", db, "--seed", "5", "-q"]).status == 0)
        var info = statvfs()
        try #require(statvfs(disk.url.path, &info) == 0)
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        let filler = disk.url.appendingPathComponent("filler")
        try #require(FileManager.default.createFile(atPath: filler.path, contents: Data(count: free - 32 * 1024)))
        let result = try CLI.run(["create-table", "--db", db, "--seed", "301", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        #expect(result.status == 2)
        #expect(report["result"] as? String == "error")
        #expect((report["violations"] as? [Any])?.isEmpty == true, "\(report["violations"] ?? "")")
        let failure = try #require(report["storageFailure"] as? String, "\(report)")
        #expect(failure.contains("could not open the database"), "\(failure)")
        // SQLite's own words, "disk I/O error", never say why: the report does.
        #expect(failure.hasSuffix("(SQLITE_IOERR_SHMSIZE): disk I/O error — while executing `PRAGMA journal_mode = WAL` (SQLite could "
            + "not grow or map the -shm file beside the WAL database: a full disk, most often)"), "\(failure)")
        try FileManager.default.removeItem(at: filler)
        let check = try CLI.run(["check", "--db", db, "-q"])
        #expect(check.status == 0, "\(check.stdout)")
    }

    // A database SQLite can open only for reading (here a link into a
    // read-only file system, its logs writable beside the link): every write
    // fails with SQLITE_READONLY, which no batch gets past. The driver stops
    // with no verdict and exit status 2, where it once reported PASS over
    // nothing but errors.
    @Test(.enabled(if: Tmpfs.canMount, "mounting a tmpfs needs root"))
    func aDriverThatCannotWriteTheDatabaseGivesNoVerdict() throws {
        let disk = try Tmpfs(kibibytes: 4096)
        let scratch = try Scratch()
        let made = disk.url.appendingPathComponent("d.db").path
        try #require(try CLI.run(["schema", "--db", made, "--seed", "2", "--journal-mode", "delete", "-q"]).status == 0)
        let db = scratch.file("d.db").path
        try FileManager.default.createSymbolicLink(atPath: db, withDestinationPath: made)
        for suffix in [".acks", ".sql"] { try FileManager.default.copyItem(atPath: made + suffix, toPath: db + suffix) }
        try disk.remountReadOnly()
        let result = try CLI.run(["insert", "--db", db, "--seed", "5", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        #expect(result.status == 2)
        #expect(report["result"] as? String == "error")
        #expect((report["storageFailure"] as? String)?.contains("cannot write the database: SQLite error 8 (SQLITE_READONLY)") == true,
                "\(report["storageFailure"] ?? "")")
    }

    // A replay into a disk too small for it: the first statement that meets the
    // full disk stops the replay with exit status 2 and says so, where it once
    // reported "the result differs" (exit 1) as if the log did not replay.
    @Test(.enabled(if: Tmpfs.canMount, "mounting a tmpfs needs root"))
    func aReplayOnAFullDiskIsNoDifference() throws {
        let scratch = try Scratch()
        let made = try CLI.run(["stress", "--seed", "1", "--iterations", "300", "--db", "s.db", "-q"], in: scratch.url)
        try #require(made.status == 0, "\(made.stderr)")
        let disk = try Tmpfs(kibibytes: 256)
        let result = try CLI.run(["replay", scratch.file("s.db.sql").path, "--db", disk.url.appendingPathComponent("r.db").path])
        #expect(result.status == 2, "\(result.stdout)")
        #expect(result.stderr.hasPrefix("sqlite-stress: error: the replay database's storage failed at log line "), "\(result.stderr)")
        #expect(result.stderr.hasSuffix(" (SQLITE_FULL, where the run recorded ok); replay into a directory with room that SQLite "
            + "can write to (--db).\n"), "\(result.stderr)")
        #expect(!result.stdout.contains("differs"), "\(result.stdout)")
    }

    // A WAL database on a read-only file system: SQLite reads one only where it
    // can create its -wal and -shm beside it, so `check`, `integrity` and a
    // driver each say that in one sentence, with exit status 2; `stress
    // --overwrite` cannot replace it and says so before anything is printed.
    @Test(.enabled(if: Tmpfs.canMount, "mounting a tmpfs needs root"))
    func aWALDatabaseOnAReadOnlyFileSystemGetsOneSentence() throws {
        let disk = try Tmpfs(kibibytes: 8192)
        let db = disk.url.appendingPathComponent("ro.db").path
        let made = try CLI.run(["stress", "--seed", "3", "--iterations", "50", "--journal-mode", "wal", "--db", db, "-q"])
        try #require(made.status == 0, "\(made.stderr)")
        try #require([db + "-wal", db + "-shm"].allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        let run = disk.url.appendingPathComponent("run").path
        let template = CLI.packageRoot.appendingPathComponent("composer/composed").path
        let composed = try CLI.run(["compose", template, "--seed", "1", "--runs", "3", "--run-dir", run, "-q"])
        try #require(composed.status == 0, "\(composed.stderr)")
        try disk.remountReadOnly()
        let sentence = "sqlite-stress: error: cannot read \(db): it is a WAL database, and SQLite could not create \(db)-wal "
            + "and \(db)-shm beside it (SQLITE_CANTOPEN), which it needs to read one; copy it to a directory SQLite can write to.\n"
        for command in ["check", "integrity", "insert"] {
            let result = try CLI.run([command, "--db", db])
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr == sentence, "\(command)")
            #expect(result.stdout.isEmpty, "\(command): \(result.stdout)")
        }
        let replace = try CLI.run(["stress", "--db", db, "--overwrite", "--iterations", "5"])
        #expect(replace.status == 2)
        #expect(replace.stderr == "sqlite-stress: error: \(db) is not writable.\n")
        #expect(replace.stdout.isEmpty, "\(replace.stdout)")
        // An old run directory that cannot be removed stops the run, where its files once mixed into the new one's.
        let again = try CLI.run(["compose", template, "--seed", "1", "--runs", "3", "--run-dir", run, "--overwrite", "-q"])
        #expect(again.status == 2)
        #expect(again.stderr == "sqlite-stress: error: cannot remove \(run)/.sqlite-stress-compose of the old run: Read-only file system.\n", "\(again.stderr)")
    }

    // The acknowledgement log removed under a running `stress`: its checks stop
    // for want of it and the run says so — no verdict, incomplete evidence
    // naming the log — instead of a durability "pass" over nothing.
    @Test func ackLogRemovedMidRunIsNoPass() throws {
        let scratch = try Scratch()
        let db = scratch.file("m.db").path
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["stress", "--seed", "21", "--iterations", "300", "--check-every", "100", "--db", db, "--json", "-q"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline, !FileManager.default.fileExists(atPath: db) { usleep(2_000) }
        try FileManager.default.removeItem(atPath: db + ".acks")
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(output)) as? [String: Any])
        #expect(report["result"] as? String == "skipped", "\(report["result"] ?? "")")
        let gaps = try #require(report["incompleteEvidence"] as? [[String: String]])
        #expect(gaps.contains { $0["source"] == "acknowledgement log \(db).acks" && $0["unchecked"]?.contains("every property") == true }, "\(gaps)")
    }

    // The acknowledgement log removed after the first periodic check: that
    // check judged every property, the later ones and the final one could not
    // run. The verdict says the final check did not run, never that every
    // property held.
    @Test func aRunWhoseFinalCheckCouldNotRunSaysSo() throws {
        let scratch = try Scratch()
        let db = scratch.file("f.db").path
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["stress", "--seed", "21", "--iterations", "3000", "--check-every", "100", "--db", db]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline,
              !((try? String(contentsOfFile: db + ".sql", encoding: .utf8))?.contains("-- t0 check integrity=pass") ?? false) {
            usleep(2_000)
        }
        try FileManager.default.removeItem(atPath: db + ".acks")
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let verdict = try #require(output.split(separator: "\n").last { $0.hasPrefix("result: ") })
        #expect(verdict.hasPrefix("result: PASS — no property violated in 1 check, but the final check did not run (see the SQL log); "
            + "the evidence is incomplete, not checked: every property, in "), "\(verdict)")
    }

    // A run killed with SIGKILL leaves a log whose every line is complete and
    // which the sqlite3 shell replays.
    @Test func killedRunLeavesAUsableLog() throws {
        let scratch = try Scratch()
        let db = scratch.file("killed.db")
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["stress", "--seed", "8", "--threads", "2", "--iterations", "1000000", "--db", db.path, "-q"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let log = scratch.file("killed.db.sql")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? Data(contentsOf: log))?.count ?? 0) < 200_000 { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let data = try Data(contentsOf: log)
        #expect(data.count >= 200_000)
        #expect(data.last == UInt8(ascii: "\n"), "the log ends mid-line")
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") {
            #expect(line.hasPrefix("--") || line.contains("; -- t") || line.contains("; -- setup"), "incomplete line: \(line.prefix(120))")
        }
        let replay = try CLI.exec(
            URL(fileURLWithPath: "/usr/bin/sqlite3"), [scratch.file("replayed.db").path], input: log)
        #expect(!replay.stderr.contains("incomplete input"), "\(replay.stderr.suffix(500))")
        #expect(try CLI.dump(scratch.file("replayed.db")).contains("CREATE TABLE"))
    }
}

extension FailureTests {
    // A driver that finds the database damaged names the violation and a
    // reproduce line that runs the same choices on a copy (the database has
    // changed since, so it says it is not exact): the database and its logs
    // are left as they were.
    @Test func driverReproduceLineWorksOnACopy() throws {
        let scratch = try Scratch()
        #expect(try CLI.run(["schema", "--db", "d.db", "--seed", "3", "--journal-mode", "delete", "-q"], in: scratch.url).status == 0)
        scribble(over: scratch.file("d.db").path, from: try pageSize(of: scratch.file("d.db")))
        let first = try CLI.run(["insert", "--db", "d.db", "--seed", "5"], in: scratch.url)
        #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("VIOLATION integrity: "), "\(first.stdout)")
        let line = try #require(first.stdout.split(separator: "\n").first {
            $0.hasPrefix("reproduce (not exact: other writers changed the database since; this runs the same choices on a copy): ")
        })
        let command = String(line[line.range(of: "a copy): ")!.upperBound...])
        #expect(command.hasSuffix("sqlite-stress insert --db d-repro.db --seed 0x0000000000000005"), "\(command)")
        let before = try scratch.snapshot()

        let again = try CLI.shell(command, in: scratch.url)
        #expect(again.status == 1, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("VIOLATION integrity: "))
        let after = try scratch.snapshot()
        for (name, data) in before { #expect(after[name] == data, "\(name) changed") }
        #expect(after["d-repro.db"] != nil)
    }

    // The reproduce line of a driver that met no violation (its JSON carries
    // one) runs too: the copy takes the acknowledgement log with it, which a
    // driver requires, and the original's files stay as they were.
    @Test func aPassingDriversReproduceLineRunsOnACopy() throws {
        let scratch = try Scratch()
        #expect(try CLI.run(["schema", "--db", "d.db", "--seed", "1", "-q"], in: scratch.url).status == 0)
        let first = try CLI.run(["insert", "--db", "d.db", "--seed", "2", "--json"], in: scratch.url)
        try #require(first.status == 0, "\(first.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        let command = try #require(json["reproduce"] as? String)
        #expect(command.contains(" .acks; do "), "\(command)")
        let before = try scratch.snapshot()
        let again = try CLI.shell(command, in: scratch.url)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let after = try scratch.snapshot()
        for (name, data) in before { #expect(after[name] == data, "\(name) changed") }
        #expect(try CLI.run(["check", "--db", "d-repro.db", "-q"], in: scratch.url).status == 0)
    }
}

/// The page size recorded in a database file's header.
private func pageSize(of url: URL) throws -> Int {
    let header = try Data(contentsOf: url).prefix(18)
    let size = Int(header[16]) << 8 | Int(header[17])
    return size == 1 ? 65_536 : size
}

/// A small tmpfs, mounted for one test and unmounted after (mounting needs root).
final class Tmpfs {
    let url: URL

    /// Whether this machine lets the tests mount one (tried once).
    static let canMount: Bool = {
        guard getuid() == 0, let probe = try? Tmpfs(kibibytes: 64) else { return false }
        _ = probe
        return true
    }()

    init(kibibytes: Int) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-stress-tmpfs-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let mount = try CLI.exec(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=\(kibibytes)k", "tmpfs", url.path])
        guard mount.status == 0 else {
            try? FileManager.default.removeItem(at: url)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: mount.stderr])
        }
    }

    /// Makes the file system read-only, as read-only media are.
    func remountReadOnly() throws {
        let remount = try CLI.exec(URL(fileURLWithPath: "/bin/mount"), ["-o", "remount,ro", url.path])
        try #require(remount.status == 0, "\(remount.stderr)")
    }

    deinit {
        _ = try? CLI.exec(URL(fileURLWithPath: "/bin/umount"), [url.path])
        try? FileManager.default.removeItem(at: url)
    }
}

/// Overwrites everything after the first page of the file with garbage.
private func scribble(over path: String, from offset: Int = 512) {
    guard let handle = FileHandle(forUpdatingAtPath: path) else { return }
    defer { try? handle.close() }
    guard let size = try? handle.seekToEnd(), size > offset + 512 else { return }
    try? handle.seek(toOffset: UInt64(offset))
    handle.write(Data(repeating: 0x5A, count: Int(size) - offset))
}
