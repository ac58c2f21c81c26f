import Testing

@testable import StressKit

/// A failed run names the known SQLite bugs its configuration could have met on
/// the SQLite it ran, and no other: never one its release has the fix for, nor
/// one its journal mode, threads or faults cannot reach.
@Suite struct KnownSQLiteBugTests {
    static func names(
        _ version: String, _ mode: JournalMode, threads: Int = 1, faults: [StorageFault] = [], crash: Bool = false,
        schemaChanges: Bool = false, metCleanFailure: Bool = false
    ) -> [String] {
        let plan = FaultPlan(faults: faults.map { FaultSpec(kind: $0, rate: $0.defaultRate) }, crash: crash)
        return KnownSQLiteBug.candidates(for: KnownSQLiteBug.Run(
            sqliteVersion: version, wal: mode == .wal, threads: threads, faults: plan, schemaChanges: schemaChanges,
            metCleanFailure: metCleanFailure)).map(\.name)
    }

    // A disk that really filled up (or an I/O error of the storage's own) is the
    // same trouble as the planted one: SQLite must roll back, where these bugs live.
    @Test func aFullDiskTheRunMetCountsAsOnePlanted() {
        #expect(Self.names("3.40.1", .wal, metCleanFailure: true) == ["wal-rollback-to-checksums"])
        #expect(Self.names("3.40.1", .delete, threads: 2, metCleanFailure: true) == ["hot-journal-pending-race"])
        #expect(Self.names("3.40.1", .delete, threads: 1, metCleanFailure: true) == [])
        #expect(Self.names("3.50.4", .wal, threads: 2, metCleanFailure: true) == [])
        // The DROP COLUMN bug needs a failed read, which only the planted I/O errors promise.
        #expect(Self.names("3.53.4", .delete, schemaChanges: true, metCleanFailure: true) == [])
    }

    @Test func theWALBugNeedsWALARecoveryOnAReleaseWithoutTheFix() {
        #expect(Self.names("3.40.1", .wal, faults: [.ioError]) == ["wal-rollback-to-checksums"])
        #expect(Self.names("3.40.1", .wal, faults: [.diskFull]) == ["wal-rollback-to-checksums"])
        #expect(Self.names("3.49.1", .wal, crash: true) == ["wal-rollback-to-checksums"])
        #expect(Self.names("3.50.1", .wal, faults: [.shortWrite]) == ["wal-rollback-to-checksums"])
        #expect(Self.names("3.50.2", .wal, faults: [.ioError]) == [])
        #expect(Self.names("3.53.4", .wal, crash: true) == [])
        // Several threads: the last connection to close, while another thread
        // opens one, can leave the WAL for the opener to recover.
        #expect(Self.names("3.40.1", .wal, threads: 4) == ["wal-rollback-to-checksums"])
        #expect(Self.names("3.50.2", .wal, threads: 4) == [])
        // One thread with no fault, or only a planted bug: nothing forces the recovery this bug needs.
        #expect(Self.names("3.40.1", .wal) == [])
        #expect(Self.names("3.40.1", .wal, faults: [.bitFlip]) == [])
        #expect(Self.names("3.40.1", .delete, faults: [.ioError]) == [])
    }

    @Test func theHotJournalRaceNeedsConnectionsOfOneProcessInARollbackJournalMode() {
        for mode in [JournalMode.delete, .truncate, .persist] {
            #expect(Self.names("3.40.1", mode, threads: 2, faults: [.ioError]) == ["hot-journal-pending-race"])
            #expect(Self.names("3.43.2", mode, threads: 4, faults: [.diskFull]) == ["hot-journal-pending-race"])
            #expect(Self.names("3.40.1", mode, threads: 1, faults: [.ioError]) == [])
            #expect(Self.names("3.44.0", mode, threads: 2, faults: [.ioError]) == [])
            #expect(Self.names("3.40.1", mode, threads: 2, crash: true) == [])
        }
        #expect(Self.names("3.40.1", .wal, threads: 2, faults: [.ioError]) == ["wal-rollback-to-checksums"])
    }

    @Test func theDropColumnBugNeedsSchemaChangesUnderIOErrorsOnAnyReleaseWithDropColumn() {
        #expect(Self.names("3.53.4", .delete, faults: [.ioError], schemaChanges: true) == ["drop-column-failed-read"])
        #expect(Self.names("3.40.1", .wal, faults: [.ioError], schemaChanges: true)
                == ["wal-rollback-to-checksums", "drop-column-failed-read"])
        #expect(Self.names("3.53.4", .delete, faults: [.ioError], schemaChanges: false) == [])
        #expect(Self.names("3.53.4", .delete, faults: [.diskFull], schemaChanges: true) == [])
        #expect(Self.names("3.34.1", .delete, faults: [.ioError], schemaChanges: true) == [])
    }

    // `check` knows the file, not the run: it assumes writers of one connection
    // each that may have been killed, without this tool's storage faults.
    @Test func aCheckNamesWhatAKilledWriterCouldHaveMet() {
        func names(_ version: String, _ mode: JournalMode) -> [String] {
            KnownSQLiteBug.candidates(for: .killedWriters(sqliteVersion: version, wal: mode == .wal)).map(\.name)
        }
        #expect(names("3.40.1", .wal) == ["wal-rollback-to-checksums"])
        #expect(names("3.50.1", .wal) == ["wal-rollback-to-checksums"])
        #expect(names("3.50.2", .wal) == [])
        for mode in [JournalMode.delete, .truncate, .persist] {
            #expect(names("3.40.1", mode) == [], "\(mode)")
        }
        // A kill alone is what the WAL bug needs: the WAL recovered from the file.
        #expect(KnownSQLiteBug.candidates(for: KnownSQLiteBug.Run(
            sqliteVersion: "3.40.1", wal: true, threads: 2, faults: FaultPlan(), schemaChanges: false, killed: true
        )).map(\.name) == ["wal-rollback-to-checksums"])
    }

    @Test func releaseNumbersCompareAsNumbers() throws {
        let v = { (text: String) in try #require(KnownSQLiteBug.Version(text)) }
        #expect(try v("3.9.2") < v("3.10.0"))
        #expect(try v("3.50.1") < v("3.50.2"))
        #expect(try v("3.50") == v("3.50.0"))
        #expect(try v("3.50.4.1") > v("3.50.4"))
        for bad in ["", "3", "3.x.1", "3..1", "3.50.4.1.2", "-3.1", "+3.1", "3.50.4-beta"] {
            #expect(KnownSQLiteBug.Version(bad) == nil, "\(bad)")
        }
        // An unreadable version names no bug rather than guessing.
        #expect(Self.names("trunk", .wal, faults: [.ioError]) == [])
        // Each fix's release reads as one: a misspelt one would leave its bug named on every release.
        for rule in KnownSQLiteBug.all {
            if let fixed = rule.bug.fixedIn { #expect(KnownSQLiteBug.Version(fixed) != nil, "\(rule.bug.name): \(fixed)") }
        }
    }

    @Test func theLineNamesTheFixAndTheReproduction() throws {
        let wal = try #require(KnownSQLiteBug.all.first { $0.bug.name == "wal-rollback-to-checksums" }).bug
        #expect(wal.description.hasPrefix("known SQLite bug this run could have met: wal-rollback-to-checksums — in WAL mode"))
        #expect(wal.description.hasSuffix("; fixed in 3.50.2, so a run on a release with the fix tells (--sqlite); shown without sqlite-stress by bench/wal-rollback-to-bug"))
        #expect(wal.checkLine.hasPrefix(
            "known SQLite bug this database's writers could have met if one was killed: wal-rollback-to-checksums — in WAL mode"))
        #expect(wal.checkLine.hasSuffix(wal.description.drop { $0 != "—" }))
        #expect(wal.tag == "wal-rollback-to-checksums (fixed in 3.50.2)")
        let dropColumn = try #require(KnownSQLiteBug.all.first { $0.bug.name == "drop-column-failed-read" }).bug
        #expect(dropColumn.description.contains("; not fixed in any release; shown without sqlite-stress by bench/drop-column-ioerr-bug"))
        #expect(dropColumn.tag == "drop-column-failed-read (not fixed)")
    }
}
