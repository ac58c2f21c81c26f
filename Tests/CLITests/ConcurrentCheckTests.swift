import Foundation
import Testing

@Suite struct ConcurrentCheckTests {
    // `integrity` run again and again in its own process while `stress --threads 4`
    // writes never reports a violation, in WAL and in a rollback-journal mode, and
    // really checks (most runs take a snapshot rather than giving up as busy).
    @Test(arguments: ["wal", "delete"])
    func integrityBesideFourWritersNeverCriesWolf(_ mode: String) throws {
        let scratch = try Scratch()
        let db = scratch.file("live.db")
        let writer = Process()
        writer.executableURL = CLI.binary
        writer.arguments = [
            "stress", "--seed", "0x1e", "--threads", "4", "--iterations", "1500", "--journal-mode", mode,
            "--busy-timeout", "10000", "--db", db.path, "-q",
        ]
        writer.standardOutput = FileHandle.nullDevice
        writer.standardError = FileHandle.nullDevice
        try writer.run()
        // Wait until the database is set up (it appears once complete) and writers are at work.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !FileManager.default.fileExists(atPath: db.path)
            || ((try? Data(contentsOf: scratch.file("live.db.sql")))?.count ?? 0) < 40_000 { usleep(10_000) }

        var checked = 0, skipped = 0, runs = 0
        while writer.isRunning || runs == 0 {
            let result = try CLI.run(["integrity", "--db", db.path, "--seed", String(runs), "--json", "--busy-timeout", "2000"])
            runs += 1
            #expect(result.status == 0, "run \(runs): \(result.stdout.suffix(3000)) \(result.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            switch json?["result"] as? String {
            case "pass": checked += 1
            case "skipped": skipped += 1
            default: Issue.record("run \(runs): \(result.stdout.suffix(3000))")
            }
            if runs > 400 { break }
        }
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0)
        #expect(checked >= 3, "checked \(checked), skipped \(skipped)")
        let final = try CLI.run(["check", "--db", db.path])
        #expect(final.status == 0, "\(final.stdout)")
    }
}
