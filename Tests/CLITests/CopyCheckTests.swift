import Foundation
import StressSQLite
import Testing

/// Each VACUUM INTO copy is checked (on a thread beside the work that goes on)
/// against what was acknowledged when it was taken: a copy that passes is
/// removed, one that fails is kept (as `<db>.failed-copy-<writer>`) and named,
/// and the run fails. Copies their writers left behind (killed before the
/// verdict) are removed by the next VACUUM INTO; copies being checked are not.
@Suite struct CopyCheckTests {
    /// A database `schema` made and an `insert` batch wrote, and the `vacuum`
    /// driver's result on it: with seed 3 its batch takes one VACUUM INTO copy,
    /// with seed 4 three (each check ends before the next copy, which has its name).
    static func vacuum(seed: Int = 3, tamper: (Connection) throws -> Void) throws -> (Scratch, URL, [String: Any]) {
        let scratch = try Scratch()
        let db = scratch.file("v.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "1", "-q"]).status == 0)
        #expect(try CLI.run(["insert", "--db", db.path, "--seed", "2", "-q"]).status == 0)
        let connection = try Connection(path: db.path)
        try tamper(connection)
        connection.close()
        let result = try CLI.run(["vacuum", "--db", db.path, "--seed", String(seed), "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        #expect(result.status == (json["result"] as? String == "pass" ? 0 : 1))
        return (scratch, db, json)
    }

    static func counters(_ json: [String: Any]) -> [String: Int] { json["counters"] as? [String: Int] ?? [:] }

    // A clean database's copy passes its check, and is removed.
    @Test func cleanCopyPassesAndIsRemoved() throws {
        let (scratch, db, json) = try Self.vacuum { _ in }
        #expect(json["result"] as? String == "pass")
        #expect(Self.counters(json)["copies-checked"] == 1)
        let label = try #require(json["label"] as? String)
        #expect(!FileManager.default.fileExists(atPath: db.path + ".copy-" + label))
        withExtendedLifetime(scratch) {}
    }

    // A row deleted behind the tool's back is missing from the copy too: the
    // copy's check names the row, the copy is kept for inspection, and the
    // driver fails; with more copies to take, it takes none after the failure.
    @Test(arguments: [3, 4])
    func tamperedDatabaseFailsInItsCopy(seed: Int) throws {
        nonisolated(unsafe) var deleted: (table: String, rowid: Int64)?
        let (scratch, db, json) = try Self.vacuum(seed: seed) { c in
            let tables = try c.query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 't%' AND sql NOT LIKE '%WITHOUT ROWID%' ORDER BY name")
            for row in tables {
                guard case .text(let table) = row[0],
                      case .integer(let rowid)? = try c.scalar("SELECT min(rowid) FROM \"\(table)\"") else { continue }
                try c.execute("DELETE FROM \"\(table)\" WHERE rowid = \(rowid)")
                deleted = (table, rowid)
                return
            }
        }
        let (table, rowid) = try #require(deleted, "no rowid table with rows")
        #expect(json["result"] as? String == "fail")
        let label = try #require(json["label"] as? String)
        let copy = db.path + ".failed-copy-" + label
        let violations = (json["violations"] as? [[String: Any]] ?? []).filter { $0["property"] as? String == "model" }
        let named = violations.compactMap { $0["details"] as? [String: String] }
        #expect(named.contains { $0["table"] == table && $0["key"] == String(rowid) && $0["database"] == copy }, "\(json)")
        #expect(FileManager.default.fileExists(atPath: copy), "the failing copy was not kept")
        #expect(!FileManager.default.fileExists(atPath: db.path + ".copy-" + label))
        #expect(Self.counters(json)["copies-checked"] == 1)
        #expect((json["maintenance"] as? [String: Int])?["vacuum-into"] == 1)
        withExtendedLifetime(scratch) {}
    }

    /// `stress` with one thread and seed 103: its swarm takes VACUUM INTO
    /// copies, the first at iteration 158 and the next 95 iterations later;
    /// the run is too short to compact the ledger.
    static let monolith = ["stress", "--seed", "103", "--threads", "1", "--iterations", "300", "--check-every", "0", "--json"]

    /// The iteration (`xN`) a line of the monolith's thread `t0` names.
    static func iteration(_ line: Substring) -> Int? {
        guard let range = line.firstRange(of: "-- t0 x") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    // In the monolith each copy is checked beside the thread's next
    // iterations, and the thread takes the verdict 64 iterations after the
    // copy (sooner only at its next VACUUM INTO, a periodic check or its
    // end). A clean run's copies all pass and are removed.
    @Test func monolithsCopiesPassAndAreRemoved() throws {
        let scratch = try Scratch()
        let db = scratch.file("m.db")
        let result = try CLI.run(Self.monolith + ["--db", db.path])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        #expect(result.status == 0, "\(result.stdout)")
        let copies = try String(contentsOf: scratch.file("m.db.sql"), encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("VACUUM INTO ") && $0.hasSuffix(" ok") }
        #expect(copies.count >= 2)
        #expect(Self.counters(json)["copies-checked"] == copies.count)
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).filter { $0.contains("copy") }
        #expect(left.isEmpty, "\(left)")
    }

    /// One try at deleting the ledger entries of the first transaction of a
    /// monolith's database that another followed (so it is acknowledged: one
    /// thread acknowledges each commit before its next transaction): its id, or
    /// nil when the database is locked or holds no such transaction yet.
    static func deleteFirstAcknowledged(in db: URL) throws -> Int64? {
        let connection = try Connection(path: db.path, flags: [.readWrite])
        defer { connection.close() }
        do throws(SQLiteError) {
            try connection.execute("BEGIN IMMEDIATE")
        } catch {
            guard error.isBusy else { throw error }
            return nil
        }
        // Held: readers the COMMIT waits for cannot come back (their lock is pending).
        connection.setBusyTimeout(milliseconds: 10_000)
        var deleted: Int64?
        if case .integer(let tx)? = try connection.scalar(
            "SELECT min(tx) FROM stress_ledger WHERE tx > 0 AND tx < (SELECT max(tx) FROM stress_ledger)") {
            try connection.execute("DELETE FROM stress_ledger WHERE tx = \(tx)")
            deleted = tx
        }
        try connection.execute("COMMIT")
        return deleted
    }

    // The ledger's entries of an acknowledged transaction, deleted behind the
    // monolith's back while it runs, are missing from its next copy too: the
    // verdict, taken at the start of the 64th iteration after that copy's,
    // names the transaction in the copy, which is kept, and the run stops
    // there. (The ledger, not a row: the run may insert a row with the key of
    // one deleted behind its back, and a transaction's id is never given again.)
    @Test func monolithsCopyCheckFailsSixtyFourIterationsOn() throws {
        let scratch = try Scratch()
        let db = scratch.file("m.db")
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = Self.monolith + ["--db", db.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        nonisolated(unsafe) var stdout = Data()
        let reader = DispatchGroup()
        reader.enter()
        DispatchQueue.global().async { stdout = out.fileHandleForReading.readDataToEndOfFile(); reader.leave() }
        // The lock is taken by trying again at once, not by SQLite's busy handler, whose
        // growing sleeps a writer that keeps taking it can hold off for seconds.
        var deleted: Int64?
        while deleted == nil, process.isRunning {
            if FileManager.default.fileExists(atPath: db.path) { deleted = try Self.deleteFirstAcknowledged(in: db) }
            if deleted == nil { usleep(200) }
        }
        process.waitUntilExit()
        reader.wait()
        let tx = try #require(deleted, "the run ended before it committed two transactions")
        let json = try #require(try JSONSerialization.jsonObject(with: stdout) as? [String: Any])
        #expect(process.terminationStatus == 1)
        #expect(json["result"] as? String == "fail")
        let copy = db.path + ".failed-copy-t0"
        let named = (json["violations"] as? [[String: Any]] ?? []).filter { $0["property"] as? String == "durability" }
            .compactMap { $0["details"] as? [String: String] }
        #expect(named.contains { $0["tx"] == String(tx) && $0["database"] == copy }, "\(json)")
        #expect(FileManager.default.fileExists(atPath: copy), "the failing copy was not kept")

        let lines = try String(contentsOf: scratch.file("m.db.sql"), encoding: .utf8).split(separator: "\n")
        let failed = try #require(lines.firstIndex { $0.hasSuffix("the VACUUM INTO copy failed its check; kept as \(copy)") })
        let taken = try #require(lines[..<failed].lastIndex { $0.hasPrefix("VACUUM INTO ") && $0.hasSuffix(" ok") })
        let (copyAt, verdictAt) = (try #require(Self.iteration(lines[taken])), try #require(Self.iteration(lines[failed])))
        // Taken at the start of iteration copyAt + 64, before its work: after transaction x(copyAt + 63).
        #expect(copyAt == 158)
        #expect(verdictAt == copyAt + 63, "copy at x\(copyAt), verdict after x\(verdictAt)")
        #expect(json["iterationsDone"] as? Int == verdictAt, "the run stops at the verdict")
    }

    // What killed writers left (a copy no process holds, its journal, a journal
    // whose copy is gone) goes at the next VACUUM INTO; a copy another process
    // holds (its check still running), a kept failed copy, and files of names
    // no writer gives its copy (a user's) stay.
    @Test func abandonedCopiesAreRemovedAndHeldOnesKept() throws {
        let scratch = try Scratch()
        let db = scratch.file("v.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "1", "-q"]).status == 0)
        let abandoned = db.path + ".copy-d900", orphan = db.path + ".copy-d901-journal"
        let held = db.path + ".copy-d902", failed = db.path + ".failed-copy-d903"
        let users = [db.path + ".copy-of-monday", db.path + ".copy-d9x", db.path + ".copy-t1.txt", db.path + ".copy-notes-journal"]
        for path in [abandoned, abandoned + "-journal", orphan, held, failed] + users {
            #expect(FileManager.default.createFile(atPath: path, contents: Data("left behind".utf8)))
        }
        let fd = open(held, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX) == 0)
        let result = try CLI.run(["vacuum", "--db", db.path, "--seed", "3", "-q"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        for path in [abandoned, abandoned + "-journal", orphan] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) was left")
        }
        for path in [held, failed] + users {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) was removed")
        }
    }
}
