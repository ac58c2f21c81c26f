import Foundation
import StressSQLite
import Testing

@testable import StressKit

/// The simulated power loss takes the latest unsynced writes of a file, not its
/// whole history: past the VFS's limit of bytes held, the oldest unsynced
/// operations count as written back, as the kernel's writeback and a disk's
/// bounded cache make them. So a run that never syncs (synchronous=OFF, a sync
/// that lies) holds bounded memory, and its power loss rewrites a bounded part.
@Suite(.serialized) struct UnsyncedWindowTests {
    /// 200 transactions of one 3,000-byte row each through a sync that always
    /// lies: nothing is ever synced. Returns the power loss's record of the
    /// database file: how many unsynced operations it met.
    private func unsyncedOperationsAtThePowerLoss(limit: Int64) throws -> Int64 {
        let directory = try TemporaryDirectory()
        let db = directory.path("window.db")
        return try FaultVFSAccess.exclusively {
            try FaultInjector.arm(
                FaultPlan(faults: [FaultSpec(kind: .lyingFsync, rate: 1)]), randomness: .seed(1), expectedWork: 1,
                unsyncedLimit: limit)
            let connection = try Connection(path: db, vfs: FaultInjector.vfsName)
            try connection.execute("PRAGMA page_size = 4096")
            try connection.execute("PRAGMA journal_mode = DELETE")
            try connection.execute("PRAGMA synchronous = FULL")
            try connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")
            for _ in 0..<200 { try connection.execute("INSERT INTO t (b) VALUES (randomblob(3000))") }
            connection.close()
            try FaultInjector.applyPowerLoss()
            let losses = FaultInjector.events().filter { $0.kind == "power-loss" && $0.file == "db" }
            let loss = try #require(losses.first, "no power loss applied to the database file")
            #expect(losses.count == 1)
            return loss.bytes
        }
    }

    @Test func aPowerLossMeetsOnlyTheWritesWithinTheLimit() throws {
        // 64 KiB held: a page write holds 4 KiB (an append) or 8 KiB (an overwrite, with what it replaced).
        let operations = try unsyncedOperationsAtThePowerLoss(limit: 64 << 10)
        #expect(operations >= 1, "the latest writes must stay unsynced")
        #expect(operations <= 16)
    }

    @Test func underTheDefaultLimitEveryUnsyncedWriteOfASmallRunIsMet() throws {
        // Each of the 200 commits writes at least its row's page: all of them unsynced, all of them met.
        #expect(try unsyncedOperationsAtThePowerLoss(limit: 0) >= 200)
    }
}
