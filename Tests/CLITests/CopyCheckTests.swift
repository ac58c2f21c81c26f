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
