import Foundation
import Testing

@testable import StressKit

@Suite struct AckLogTests {
    /// Every record `forEach` reads from the log at `path`, as "c42"-style strings.
    static func records(_ path: String) throws -> [String] {
        var seen: [String] = []
        try AckLog.forEach(at: path) { outcome, id in seen.append("\(outcome.rawValue)\(id)") }
        return seen
    }

    // Records round-trip; a torn record is skipped, and the good record appended
    // right after it (glued onto the fragment) is still read, as that id and no other.
    @Test func recordsRoundTripAndTornLinesAreSkipped() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("x.acks")
        let log = try AckLog(path: path)
        log.acknowledge(42)
        log.rolledBack(1 << 32 | 7)
        log.acknowledge(-5)
        // A write that failed half way (another process's), then a good record appended after it.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        handle.write(Data("c 4294967".utf8))
        try handle.close()
        log.acknowledge(99)
        log.acknowledge(100)
        #expect(try Self.records(path) == ["c42", "r4294967303", "c-5", "c99", "c100"])
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix(AckLog.header + "\n"))
    }

    // A log that cannot serve as evidence is an error, never an empty log:
    // missing, empty, not ours, a directory, or a read that fails part way.
    @Test func unusableLogsAreErrorsNotEmptyLogs() throws {
        let directory = try TemporaryDirectory()
        try Data().write(to: URL(fileURLWithPath: directory.path("empty.acks")))
        try Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }).write(to: URL(fileURLWithPath: directory.path("garbage.acks")))
        try Data("c 1 -2\n".utf8).write(to: URL(fileURLWithPath: directory.path("headless.acks")))
        try FileManager.default.createDirectory(atPath: directory.path("dir.acks"), withIntermediateDirectories: false)
        // /proc/self/mem opens as a regular file and fails to read at offset 0 (EIO).
        for path in ["missing.acks", "empty.acks", "garbage.acks", "headless.acks", "dir.acks"].map(directory.path) + ["/proc/self/mem"] {
            #expect(throws: ToolError.self, "\(path)") { try Self.records(path) }
        }
        // The header alone is a readable log with nothing acknowledged yet.
        #expect(try Self.records(try { let p = directory.path("new.acks"); _ = try AckLog(path: p); return p }()) == [])
    }

    // A record that cannot be written, or synced, is counted (with the system's
    // reason), never silently dropped: the report names the evidence it lacks.
    @Test func failedWritesAndSyncsAreCounted() throws {
        let full = try AckLog(path: "/dev/full")  // Every write fails with ENOSPC.
        full.acknowledge(1)
        full.acknowledge(2)
        full.rolledBack(3)
        #expect(full.losses.unwritten == [.committed: 2, .rolledBack: 1])
        #expect(full.losses.error != nil)
        let unsyncable = try AckLog(path: "/dev/null", syncs: true)  // Writes land; fdatasync fails (EINVAL).
        unsyncable.awaitSync(unsyncable.acknowledge(1))
        #expect(unsyncable.losses.unwritten.isEmpty)
        #expect(unsyncable.losses.unsynced == 2)  // The header line's sync, and the record's.
    }

    // Records are synced exactly where SQLite promises a commit survives a power
    // loss (https://www.sqlite.org/pragma.html#pragma_synchronous).
    @Test func recordsAreSyncedWhereCommitsSurvivePowerLoss() {
        func survives(_ mode: JournalMode, _ level: String) -> Bool {
            DatabaseConfig(pageSize: 4096, journalMode: mode, synchronous: level, cacheSize: 100, autoVacuum: "NONE")
                .commitsSurvivePowerLoss
        }
        for mode in JournalMode.allCases {
            #expect(!survives(mode, "OFF"))
            #expect(survives(mode, "FULL") && survives(mode, "EXTRA"))
            #expect(survives(mode, "NORMAL") == (mode != .wal))
        }
    }

    // Only a whole record is read, also when it ends a line after a torn fragment.
    @Test func parseRejectsAnythingButAWholeRecord() throws {
        #expect(try #require(AckLog.parse("c 12 -13")) == (.committed, 12))
        #expect(try #require(AckLog.parse("r -4 3")) == (.rolledBack, -4))
        #expect(try #require(AckLog.parse("c 4294967c 12 -13")) == (.committed, 12))
        #expect(try #require(AckLog.parse("r 5p 1 -2")) == (.powerLoss, 1))
        for bad in ["c 12 -12", "c 12", "12 -13", "x 12 -13", "c 1 -2 3", "c 12 -13c", "c 4294967", ""] {
            #expect(AckLog.parse(Substring(bad)) == nil, "accepted \(bad)")
        }
    }
}
