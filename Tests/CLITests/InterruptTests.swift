import Foundation
import Testing

/// Ctrl-C (SIGINT) stops `stress` and the drivers cleanly: they finish the
/// transaction they are in, print what they did and exit 130.
@Suite struct InterruptTests {
    /// Starts `sqlite-stress arguments…` with stdout captured.
    static func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SQLITE_STRESS_SEED"] = nil
        environment["SQLITE_STRESS_DB"] = nil
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out)
    }

    /// Waits until the file at `path` is larger than `bytes` (the command is at work), at most a minute.
    static func waitForGrowth(_ path: String, beyond bytes: Int) {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) <= bytes {
            usleep(20_000)
        }
    }

    // Ctrl-C on a long stress run: it stops after the current transactions,
    // prints the partial summary with the command that checks what it left,
    // and exits 130; the database it leaves passes that check.
    @Test func stressStopsCleanly() throws {
        let scratch = try Scratch()
        let db = scratch.file("i.db").path
        let (process, out) = try Self.start(["stress", "--seed", "4", "--threads", "2", "--iterations", "1000000", "--db", db])
        Self.waitForGrowth(db + ".sql", beyond: 100_000)
        kill(process.processIdentifier, SIGINT)
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 130, "\(output.suffix(2000))")
        #expect(output.contains("\noperations: insert "), "\(output.suffix(2000))")
        #expect(output.contains("\nresult: INTERRUPTED after "), "\(output.suffix(2000))")
        #expect(output.contains("the final check did not run: sqlite-stress check --db \(db)"))
        let check = try CLI.run(["check", "--db", db])
        #expect(check.status == 0, "\(check.stdout)")
    }

    // Ctrl-C on a driver waiting for a database another process holds: it
    // stops after the unit of work it is in, prints what it did and exits 130.
    @Test func driverStopsCleanly() throws {
        let scratch = try Scratch()
        let db = scratch.file("d.db").path
        #expect(try CLI.run(["schema", "--db", db, "--seed", "3", "--journal-mode", "delete", "-q"]).status == 0)
        // The sqlite3 shell takes the write lock and keeps it while its stdin stays open.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        holder.arguments = [db]
        let input = Pipe(), held = Pipe()
        holder.standardInput = input
        holder.standardOutput = held
        try holder.run()
        defer {
            try? input.fileHandleForWriting.close()
            holder.waitUntilExit()
        }
        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\nSELECT 'locked';\n".utf8))
        #expect(String(decoding: held.fileHandleForReading.availableData, as: UTF8.self).contains("locked"))

        let logSize = try #require(try FileManager.default.attributesOfItem(atPath: db + ".sql")[.size] as? Int)
        let (driver, out) = try Self.start(["transfer", "--db", db, "--seed", "1", "--busy-timeout", "2000"])
        Self.waitForGrowth(db + ".sql", beyond: logSize)
        kill(driver.processIdentifier, SIGINT)
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        driver.waitUntilExit()
        #expect(driver.terminationReason == .exit)
        #expect(driver.terminationStatus == 130, "\(output)")
        #expect(output.contains("\ntransactions: "), "\(output)")
        #expect(output.contains("\nresult: INTERRUPTED after "), "\(output)")
    }
}
