import Foundation
import Testing

@testable import StressKit

@Suite struct AckLogTests {
    // Records round-trip; torn or glued lines are never read as another id.
    @Test func recordsRoundTripAndTornLinesAreSkipped() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("x.acks")
        let log = try AckLog(path: path)
        log.acknowledge(42)
        log.rolledBack(1 << 32 | 7)
        log.acknowledge(-5)
        // A write that failed half way, then a good record appended after it.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        handle.write(Data("c 4294967".utf8))
        try handle.close()
        log.acknowledge(99)
        var seen: [String] = []
        try AckLog.forEach(at: path) { outcome, id in seen.append("\(outcome.rawValue)\(id)") }
        #expect(seen == ["c42", "r4294967303", "c-5"])  // The glued line is dropped whole.
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix(AckLog.header + "\n"))
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

    @Test func parseRejectsAnythingButAWholeRecord() {
        #expect(AckLog.parse("c 12 -13")! == (.committed, 12))
        #expect(AckLog.parse("r -4 3")! == (.rolledBack, -4))
        for bad in ["c 12 -12", "c 12", "12 -13", "x 12 -13", "c 1 -2 3", "c 4294967c 12 -13", ""] {
            #expect(AckLog.parse(Substring(bad)) == nil, "accepted \(bad)")
        }
    }
}
