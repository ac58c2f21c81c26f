#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
import StressSQLite
@testable import StressKit

/// `AckReview` judged record by record against a database made by hand: the
/// ledger holds ids `ledger`, the record of compacted transactions `compacted`.
@Suite struct AckReviewTests {
    /// A database whose ledger holds ids `ledger`, whose record holds
    /// `compacted`, and whose fold ended at byte `folded` of its log, which
    /// holds `log` after the header (none when nil): a connection to it, and the log's path.
    static func database(
        ledger: [Int64], compacted: [Int64] = [], log: [String]?, folded: Int? = nil, in directory: TemporaryDirectory
    ) throws -> (Connection, String) {
        let db = directory.path("r.db"), acks = directory.path("r.db.acks")
        let entries = ledger.map { "(\($0), 't', \($0), 'x')" }.joined(separator: ", ")
        try bookkeepingDatabase(db, ledger.isEmpty ? "SELECT 1" : "INSERT INTO stress_ledger (tx, tbl, key, image) VALUES \(entries)")
        let connection = try Connection(path: db)
        for tx in compacted {
            try connection.execute("""
                INSERT INTO stress_compacted (block, bits) VALUES (\(tx >> 5), \(1 << (tx & 31)))
                ON CONFLICT (block) DO UPDATE SET bits = bits | excluded.bits
                """)
        }
        if let folded { try connection.execute("UPDATE stress_meta SET value = \(folded) WHERE key = 'acks_folded_through'") }
        if let log {
            try ([AckLog.header] + log).map { $0 + "\n" }.joined().write(toFile: acks, atomically: true, encoding: .utf8)
        }
        return (connection, acks)
    }

    /// `judged` and `settled` as `Checker.run` measures them (the log's length
    /// before the snapshot, and once it is fixed), by default the whole log.
    static func review(
        ledger: [Int64], compacted: [Int64] = [], log: [String]?, folded: Int? = nil, judged: Int? = nil, settled: Int? = nil,
        listed: Int = 20, ledgerAfter: Int64? = nil, in directory: TemporaryDirectory? = nil
    ) throws -> AckReview {
        let directory = try directory ?? TemporaryDirectory()
        let (connection, acks) = try database(ledger: ledger, compacted: compacted, log: log, folded: folded, in: directory)
        try connection.execute("BEGIN")
        defer {
            try? connection.execute("ROLLBACK")
            withExtendedLifetime(directory) {}
        }
        let length = DatabaseFile.existingSize(of: acks).map { Int($0) }
        return try AckReview(
            connection: connection, log: acks, judged: judged ?? length, settled: settled ?? length, listed: listed, ledgerAfter: ledgerAfter)
    }

    static func c(_ tx: Int64) -> String { "c \(tx) \(~tx)" }
    static func r(_ tx: Int64) -> String { "r \(tx) \(~tx)" }
    static func p(_ relaxed: Int64) -> String { "p \(relaxed) \(~relaxed)" }
    static func id(_ writer: Int64, _ number: Int64) -> Int64 { writer << 32 | number }

    // A commit is in the database by a ledger entry or by its bit in the record;
    // one in neither is missing, listed lowest first and counted past the limit.
    @Test func commitsMustBeInTheLedgerOrTheRecord() throws {
        let inLedger = Self.id(300, 1), inRecord = Self.id(300, 2)
        let gone = (3...8).map { Self.id(300, $0) }
        let review = try Self.review(
            ledger: [inLedger], compacted: [inRecord], log: ([inLedger, inRecord] + gone.reversed()).map(Self.c), listed: 4)
        #expect(review.committed == 8)
        #expect(review.missing.ids == Array(gone.prefix(4)))
        #expect(review.missing.count == 6)
        #expect(review.lost == 0 && review.outlivedCount == 0)
    }

    // A power loss that lets SQLite lose the latest commits (`p 1`) excuses the
    // commits before it that are gone, unless a later commit of the same writer
    // survived; a strict one (`p 0`), or none, excuses nothing.
    @Test func aRelaxedPowerLossExcusesOnlyTheLatestCommits() throws {
        let a = Self.id(300, 1), b = Self.id(300, 2), c = Self.id(300, 3)  // Writer 300: b lost, then c survived.
        let d = Self.id(301, 1)  // Writer 301: its last commit lost.
        let e = Self.id(300, 4), f = Self.id(300, 5)  // After a strict power loss: f lost, not excused.
        let review = try Self.review(
            ledger: [a, c, e], log: [Self.c(a), Self.c(b), Self.c(d), Self.c(c), Self.p(1), Self.c(e), Self.p(0), Self.c(f)])
        #expect(review.relaxed == 1)
        #expect(review.lost == 2)
        #expect(review.outlived.map(\.tx) == [b] && review.outlived.map(\.survivor) == [c])
        #expect(review.outlivedCount == 1)
        #expect(review.missing.ids == [f] && review.missing.count == 1)
    }

    // A rolled-back transaction may have no entry in the ledger and no bit in the record.
    @Test func rollbacksMustLeaveNothing() throws {
        let clean = Self.id(300, 1), leaked = Self.id(300, 2), recorded = Self.id(300, 3)
        let review = try Self.review(
            ledger: [leaked, -Self.id(300, 4)], compacted: [recorded], log: [clean, leaked, recorded].map(Self.r))
        #expect(review.rolledBack == 3)
        #expect(review.leaked == [leaked])
        #expect(review.recordedRollbacks.ids == [recorded])
        #expect(review.undoneWork, "an entry with a negative id is undone work")
        #expect(review.missing.count == 0)
    }

    static func length(_ records: [String]) -> Int { ([AckLog.header] + records).map { $0 + "\n" }.joined().utf8.count }

    // Only the records the log held before the snapshot began are judged: one
    // appended after it names a commit the snapshot cannot have.
    @Test func recordsPastTheSnapshotAreNotJudged() throws {
        let before = Self.id(300, 1), after = Self.id(300, 2)
        let review = try Self.review(ledger: [before], log: [Self.c(before), Self.c(after)], judged: Self.length([Self.c(before)]))
        #expect(review.committed == 1 && review.missing.count == 0)
    }

    // A power loss's marker written while the check waited for the database
    // (before its snapshot was fixed) judges the commits before it: the snapshot
    // is the database after that power loss. Without it, the commit is missing.
    @Test func aPowerLossBeforeTheSnapshotExcusesTheCommitsBeforeIt() throws {
        let lost = Self.id(300, 1), unjudged = Self.id(301, 1)
        let log = [Self.c(lost), Self.c(unjudged), Self.p(1)]
        let judged = Self.length([Self.c(lost)])
        let waited = try Self.review(ledger: [], log: log, judged: judged)
        #expect(waited.committed == 1 && waited.relaxed == 1 && waited.lost == 1 && waited.missing.count == 0)
        let strict = try Self.review(ledger: [], log: [Self.c(lost), Self.c(unjudged), Self.p(0)], judged: judged)
        #expect(strict.missing.ids == [lost], "a power loss that must keep every commit excuses none")
        let unseen = try Self.review(ledger: [], log: log, judged: judged, settled: judged)
        #expect(unseen.missing.ids == [lost] && unseen.relaxed == 0, "a marker after the snapshot was fixed says nothing of it")
    }

    // No log is no acknowledgement only while nothing was ever committed.
    @Test func aMissingLogIsEvidenceMissing() throws {
        let empty = try Self.review(ledger: [], log: nil)
        #expect(empty.committed == 0 && empty.missing.count == 0)
        for (ledger, compacted) in [([Self.id(300, 1)], []), ([], [Self.id(300, 1)])] {
            let directory = try TemporaryDirectory()
            let missing = "cannot check durability or rollback: the acknowledgement log \(directory.path("r.db.acks")) is missing."
            #expect {
                _ = try Self.review(ledger: ledger, compacted: compacted, log: nil, in: directory)
            } throws: { error in
                (error as? ToolError)?.message == missing
            }
        }
    }

    // A review starts where the last compaction's fold ended: the records
    // before it were held to the database by that compaction, and are not
    // read again (here one that would fail now).
    @Test func aReviewStartsWhereTheLastFoldEnded() throws {
        let folded = Self.id(300, 1), gone = Self.id(300, 2), after = Self.id(300, 3), lost = Self.id(300, 4)
        let mark = Self.length([Self.c(folded), Self.c(gone)])
        let review = try Self.review(ledger: [after], log: [folded, gone, after, lost].map(Self.c), folded: mark)
        #expect(review.from == mark)
        #expect(review.committed == 2)
        #expect(review.missing.ids == [lost])
        #expect(review.reviewedThrough == nil, "a check's review notes no writers")
        let compaction = try Self.review(ledger: [after], log: [folded, gone, after, lost].map(Self.c), folded: mark, ledgerAfter: 0)
        #expect(compaction.reviewedThrough == [300: lost])
        // A snapshot older than the fold's end (a copy taken before it) reviews nothing.
        let copy = try Self.review(ledger: [], log: [folded, gone, after, lost].map(Self.c), folded: mark, judged: Self.length([Self.c(folded)]))
        #expect(copy.committed == 0 && copy.missing.count == 0)
    }

    // A log shorter than the part the database records as reviewed is not its
    // log; nor is a missing one, once a fold says there was one.
    @Test func aLogShorterThanItsFoldIsNotTheDatabasesLog() throws {
        let directory = try TemporaryDirectory()
        let log = [Self.c(Self.id(300, 1))]
        let short = "cannot check durability or rollback: the acknowledgement log \(directory.path("r.db.acks")) is \(Self.length(log)) bytes long, "
            + "but the database records that its first 10000 bytes were reviewed: it is not that database's log."
        #expect {
            _ = try Self.review(ledger: [], log: log, folded: 10_000, in: directory)
        } throws: { error in
            (error as? ToolError)?.message == short
        }
        let other = try TemporaryDirectory()
        #expect {
            _ = try Self.review(ledger: [], log: nil, folded: 100, in: other)
        } throws: { error in
            (error as? ToolError)?.message == "cannot check durability or rollback: the acknowledgement log \(other.path("r.db.acks")) is missing."
        }
    }

    // A compaction folds the records since the last fold only when every one
    // holds, and only when there is something new: the log's length, and each
    // writer's highest id recorded (a rollback's too).
    @Test func aCompactionFoldsOnlyRecordsThatHold() throws {
        let a = Self.id(300, 1), b = Self.id(300, 2), c = Self.id(301, 7), gone = Self.id(301, 8)
        let holding = [Self.c(a), Self.r(b), Self.c(c)]
        let directory = try TemporaryDirectory()
        let (connection, acks) = try Self.database(ledger: [a, c], log: holding, in: directory)
        let length = Self.length(holding)
        #expect(try Compaction.fold(connection: connection, acknowledgements: acks, length: length)
            == Compaction.Fold(through: length, writers: [300: b, 301: c]))
        try connection.execute("UPDATE stress_meta SET value = \(length) WHERE key = 'acks_folded_through'")
        #expect(try Compaction.fold(connection: connection, acknowledgements: acks, length: length) == nil, "nothing new")
        // A driver's reservation alone: the mark moves past it, no writer's ids do.
        let reserved = holding + ["w 0 -1"]
        try ([AckLog.header] + reserved).map { $0 + "\n" }.joined().write(toFile: acks, atomically: true, encoding: .utf8)
        #expect(try Compaction.fold(connection: connection, acknowledgements: acks, length: Self.length(reserved))
            == Compaction.Fold(through: Self.length(reserved), writers: [:]))
        // Once the writers' folded ids have grown to the floor, the fold prunes them too.
        try connection.execute("""
            INSERT INTO stress_folded (writer, through) WITH RECURSIVE w (n) AS \
            (SELECT 1000 UNION ALL SELECT n + 1 FROM w WHERE n < \(999 + Compaction.pruneFloor)) SELECT n, n << 32 FROM w
            """)
        #expect(try Compaction.fold(connection: connection, acknowledgements: acks, length: Self.length(reserved))
            == Compaction.Fold(through: Self.length(reserved), writers: [:], prunes: true))
        connection.close()

        let failing = holding + [Self.c(gone)]
        let otherDirectory = try TemporaryDirectory()
        let (other, otherAcks) = try Self.database(ledger: [a, c], log: failing, in: otherDirectory)
        #expect(try Compaction.fold(connection: other, acknowledgements: otherAcks, length: Self.length(failing)) == nil)
        other.close()
    }

    // A compaction's review reads only the ledger since the last compaction's
    // mark: every transaction with an entry before it is folded already or in
    // the record, so an acknowledged one that is neither does not hold.
    @Test func aCompactionReviewsOnlyTheLedgerSinceItsMark() throws {
        let old = Self.id(300, 1), new = Self.id(300, 2)
        let log = [Self.c(old), Self.c(new)]
        for (compacted, holds) in [([Int64](), false), ([old], true)] {
            let directory = try TemporaryDirectory()
            let (connection, acks) = try Self.database(ledger: [old, new], compacted: compacted, log: log, in: directory)
            try connection.execute("UPDATE stress_meta SET value = (SELECT seq FROM stress_ledger WHERE tx = \(old)) WHERE key = 'compacted_through'")
            let fold = try Compaction.fold(connection: connection, acknowledgements: acks, length: Self.length(log))
            #expect((fold != nil) == holds, "record \(compacted)")
            connection.close()
        }
    }

    // Each record is judged on its own: an id recorded as committed and then as
    // rolled back (which no clean run writes) is held to both.
    @Test func anIDRecordedTwiceIsJudgedTwice() throws {
        let twice = Self.id(300, 1)
        let review = try Self.review(ledger: [twice], log: [Self.c(twice), Self.r(twice)])
        #expect(review.committed == 1 && review.missing.count == 0)
        #expect(review.rolledBack == 1 && review.leaked == [twice])
    }

    // One bit per id, negative ids and whole blocks of the record included.
    @Test func transactionSetsHoldExactlyWhatWasPut() {
        var rng = Xoshiro(seed: 5)
        var set = TransactionSet(), reference = Set<Int64>()
        for _ in 0..<5_000 {
            let tx = Int64(rng.int(in: -2_000...2_000)) + (rng.int(in: 0...1) == 0 ? 0 : Self.id(300, 0))
            set.insert(tx)
            reference.insert(tx)
        }
        set.insert(block: 7, bits: Int64(bitPattern: 0xFFFF_FFFF_8000_0001), width: 5)  // Bits past 32 are not ids of the block.
        reference.formUnion([7 << 5, 7 << 5 + 31])
        for tx in Int64(-2_100)...Int64(2_100) {
            #expect(set.contains(tx) == reference.contains(tx))
            #expect(set.contains(tx + Self.id(300, 0)) == reference.contains(tx + Self.id(300, 0)))
        }
        #expect(set.hasPositive && !TransactionSet().hasPositive)
    }

    // The lowest ids, in order, however they arrive; all of them counted.
    @Test func lowestIDsKeepTheLowest() {
        var rng = Xoshiro(seed: 6)
        for limit in [0, 1, 5, 20] {
            var lowest = LowestIDs(limit: limit), all: [Int64] = []
            for _ in 0..<500 {
                let tx = Int64(rng.int(in: -1_000...1_000))
                lowest.add(tx)
                all.append(tx)
            }
            #expect(lowest.ids == Array(all.sorted().prefix(limit)))
            #expect(lowest.count == 500)
        }
    }
}
