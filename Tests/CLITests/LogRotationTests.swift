import Foundation
import Testing

/// `--sql-log-max`: the SQL log rotates to `<log>.1` past its limit, keeps the
/// run's newest lines, and says what a replay of it lacks.
@Suite struct LogRotationTests {
    /// A one-thread run of seed 42, 450 iterations: about 1.2 MiB of log.
    static func run(_ scratch: Scratch, _ name: String, _ extra: [String]) throws -> CommandResult {
        let db = scratch.file("\(name).db")
        let result = try CLI.run(["stress", "--seed", "42", "--iterations", "450", "--db", db.path, "--json", "-q"] + extra)
        #expect(result.status == 0, "\(result.stderr)\(result.stdout)")
        return result
    }

    static func json(_ result: CommandResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    // Rotated once, nothing is lost: `<log>.1` then `<log>` (without its
    // `continued` line) is the unrotated run's log byte for byte, the report
    // names no incomplete evidence, and `replay` reads both files and passes.
    @Test func rotatedOnceTheLogIsWholeAndReplays() throws {
        let scratch = try Scratch()
        _ = try Self.run(scratch, "whole", ["--sql-log-max", "0"])
        let rotated = try Self.json(try Self.run(scratch, "rot", ["--sql-log-max", "1M"]))
        #expect((rotated["incompleteEvidence"] as? [Any])?.isEmpty == true, "\(rotated)")
        let older = try #require(rotated["sqlLogOlder"] as? [String: Any])
        #expect(older["rotations"] as? Int == 1)
        #expect(older["firstLine"] as? Int == 1)
        #expect(older["earlierLinesDropped"] as? Bool == false)

        let whole = try String(contentsOf: scratch.file("whole.db.sql"), encoding: .utf8)
        let first = try String(contentsOf: scratch.file("rot.db.sql.1"), encoding: .utf8)
        let rest = try String(contentsOf: scratch.file("rot.db.sql"), encoding: .utf8)
        #expect(first.utf8.count >= 1 << 20 && first.utf8.count < (1 << 20) + (1 << 16))
        let continued = try #require(rest.split(separator: "\n", maxSplits: 1).first)
        #expect(continued.hasPrefix("-- sqlite-stress continued at line \((older["lastLine"] as? Int ?? 0) + 1): "))
        let joined = first + rest.dropFirst(continued.count + 1)
        #expect(joined.replacing(scratch.file("rot.db").path, with: "<db>") == whole.replacing(scratch.file("whole.db").path, with: "<db>"))

        let replay = try CLI.run(["replay", scratch.file("rot.db.sql").path])
        #expect(replay.status == 0, "\(replay.stderr)\(replay.stdout)")
        #expect(replay.stdout.contains("rot.db.sql.1, then "), "\(replay.stdout)")
    }

    // Rotated twice, the run's first lines are gone: the JSON names the SQL log
    // as incomplete evidence for a replay, with the line numbers kept, and
    // `replay` refuses the log in one sentence with exit status 2.
    @Test func rotatedTwiceTheBeginningIsGoneAndSaidSo() throws {
        let scratch = try Scratch()
        let report = try Self.json(try Self.run(scratch, "short", ["--sql-log-max", "512K"]))
        #expect(report["result"] as? String == "pass")
        let gaps = try #require(report["incompleteEvidence"] as? [[String: String]])
        let gap = try #require(gaps.first { $0["source"]?.hasPrefix("SQL log ") == true })
        #expect(gap["unchecked"]?.contains("replay") == true, "\(gap)")
        let older = try #require(report["sqlLogOlder"] as? [String: Any])
        #expect(older["rotations"] as? Int == 2)
        #expect((older["firstLine"] as? Int ?? 0) > 1)
        #expect(older["earlierLinesDropped"] as? Bool == true)
        for file in ["short.db.sql", "short.db.sql.1"] {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: scratch.file(file).path)[.size] as? Int)
            #expect(size < 512 * 1024 + 65536, "\(file): \(size) bytes")
        }

        let replay = try CLI.run(["replay", scratch.file("short.db.sql").path])
        #expect(replay.status == 2)
        #expect(replay.stderr.contains("begins mid-run"), "\(replay.stderr)")
        #expect(replay.stderr.split(separator: "\n").count == 1, "\(replay.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("short.db.sql.replay.db").path))
    }

    // Drivers share one log: processes appending side by side rotate it once
    // between them, and every line any of them wrote is in `<log>.1` or `<log>`.
    @Test func driversRotateASharedLogWithoutLosingLines() throws {
        let scratch = try Scratch()
        let db = scratch.file("d.db").path
        #expect(try CLI.run(["schema", "--db", db, "--seed", "3", "-q"]).status == 0)
        // The schema's log is ~16 KiB and these six drivers add ~280 KiB: they pass 192K once.
        let limit = "192K"
        let drivers = try (1...6).map { seed in
            try CLI.start(["insert", "--db", db, "--seed", "\(seed)", "--sql-log-max", limit, "-q"])
        }
        for driver in drivers { driver.waitUntilExit(); #expect(driver.terminationStatus == 0) }
        let older = try String(contentsOfFile: db + ".sql.1", encoding: .utf8)
        let current = try String(contentsOfFile: db + ".sql", encoding: .utf8)
        #expect(older.hasPrefix("-- sqlite-stress insert") || older.hasPrefix("-- sqlite-stress schema"))
        #expect(current.hasPrefix("-- sqlite-stress continued: "))
        // Every driver's statements are somewhere: each writes its label `dN` on its lines.
        let labels = Set((older + current).split(separator: "\n").compactMap { line -> Substring? in
            guard let marker = line.ranges(of: "; -- ").last else { return nil }
            return line[marker.upperBound...].split(separator: " ").first
        })
        #expect(labels.filter { $0.hasPrefix("d") }.count == 6, "\(labels)")
        #expect(try CLI.run(["check", "--db", db, "-q"]).status == 0)
    }

    // A size that is not one, or below the smallest limit: one sentence on
    // stderr, exit status 2, nothing written — for a driver as for `stress`.
    @Test(arguments: ["lots", "-1", "1K", "5X", "12.5M", ""])
    func badSizesAreRejected(_ size: String) throws {
        let scratch = try Scratch()
        for command in ["stress", "insert"] {
            let result = try CLI.run([command, "--db", scratch.file("x.db").path, "--sql-log-max=\(size)"])
            #expect(result.status == 2, "\(command) \(size): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("--sql-log-max"), "\(result.stderr)")
            #expect(try scratch.snapshot().isEmpty)
        }
    }
}
