import Foundation
import Synchronization
import Testing

/// Each driver invocation writes under transaction ids no other invocation on
/// the database has: the ids are how the oracle tells a committed write from a
/// rolled-back one, so two writers sharing them would be a false alarm waiting.
@Suite struct DriverIdentityTests {
    /// The `c`/`r` records of the database's acknowledgement log, as "c <id>" strings.
    static func outcomes(_ db: URL) throws -> [String] {
        try String(contentsOf: URL(fileURLWithPath: db.path + ".acks"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("c ") || $0.hasPrefix("r ") }
            .map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
    }

    static func label(_ result: CommandResult) throws -> String {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(json["label"] as? String)
    }

    // A driver rerun with its seed draws the same work, but not the same ids.
    // This sequence once reported `rollback` violated on a clean SQLite: the
    // second insert rolled back a transaction whose id the first had committed.
    @Test func aRerunDriverWritesUnderIdsOfItsOwn() throws {
        let scratch = try Scratch()
        let db = scratch.file("rerun.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "1", "-q"]).status == 0)
        var labels: [String] = []
        for driver in ["insert", "drop-table", "insert"] {
            let result = try CLI.run([driver, "--db", db.path, "--seed", "8", "--json"])
            #expect(result.status == 0, "\(driver): \(result.stderr)")
            labels.append(try Self.label(result))
        }
        #expect(Set(labels).count == 3, "\(labels)")
        let outcomes = try Self.outcomes(db)
        #expect(!outcomes.isEmpty)
        #expect(Set(outcomes.map { $0.dropFirst(2) }).count == outcomes.count, "an id was recorded twice: \(outcomes)")
        let check = try CLI.run(["check", "--db", db.path])
        #expect(check.status == 0, "\(check.stdout)")
    }

    // Drivers started at once, all with one seed, still get ids of their own.
    @Test func concurrentDriversWriteUnderIdsOfTheirOwn() throws {
        let scratch = try Scratch()
        let db = scratch.file("together.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "1", "-q"]).status == 0)
        let results = Mutex<[Int: Result<CommandResult, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: 6) { index in
            let result = Result { try CLI.run(["update", "--db", db.path, "--seed", "8", "--json"]) }
            results.withLock { $0[index] = result }
        }
        let finished = try results.withLock { $0 }.values.map { try $0.get() }
        #expect(finished.count == 6)
        for result in finished { #expect(result.status == 0, "\(result.stderr)") }
        let labels = try finished.map(Self.label)
        #expect(Set(labels).count == labels.count, "\(labels)")
        let outcomes = try Self.outcomes(db)
        #expect(Set(outcomes.map { $0.dropFirst(2) }).count == outcomes.count, "an id was recorded twice: \(outcomes)")
        let check = try CLI.run(["check", "--db", db.path])
        #expect(check.status == 0, "\(check.stdout)")
    }
}
