import Foundation
import StressSQLite
import Testing

@testable import StressKit

/// Setting a database up: corruption of the file being created is a finding.
@Suite(.serialized) struct SetupTests {
    // integrity: a storage stack that corrupts the pages of the database being
    // set up is caught as an `integrity` violation of the setup (exit 1 in the
    // CLI), not waved off as an environment error, and the files stay as evidence.
    @Test(arguments: [(FaultSpec(kind: .droppedWrite, rate: 0.1), JournalMode.delete), (FaultSpec(kind: .misdirectedWrite, rate: 1), .wal)])
    func corruptionDuringSetupIsAnIntegrityViolation(_ fault: FaultSpec, _ mode: JournalMode) throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("setup.db")
        let run = try StressRun.prepare(StressSettings(databasePath: db, randomness: .seed(1), iterations: 10, journalMode: mode))
        // The fault VFS is process-wide, but only connections opened through it (here: the setup's) meet the fault;
        // no other test may arm it meanwhile.
        let report = try FaultVFSAccess.exclusively {
            try FaultInjector.arm(FaultPlan(faults: [fault]), randomness: .seed(1), expectedWork: 1)
            return try run.run(setupVFS: FaultInjector.vfsName)
        }
        #expect(!report.passed)
        #expect(Set(report.violations.map(\.property)) == [.integrity], "\(report.violations)")
        #expect(report.violations.allSatisfy { $0.thread == "setup" })
        #expect(report.counters[.statements] == 0, "the workload ran on a damaged database")
        for path in [db, db + ".sql", db + ".acks"] { #expect(FileManager.default.fileExists(atPath: path), "\(path) was removed") }
    }
}
