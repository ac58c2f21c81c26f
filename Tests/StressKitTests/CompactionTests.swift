import Foundation
import StressSQLite
import Testing

@testable import StressKit

/// Ledger compaction removes exactly what no property judges by, records the
/// transactions whose entries it removed, and is incremental and idempotent.
@Suite struct CompactionTests {
    static let t0 = TransactionID.make(thread: 0, number: 0)

    /// A bookkeeping database whose recorded schema has one table, `kept`
    /// (the ledger also names `dropped`, which the schema no longer has), and
    /// the ledger entries `entries` (tx, tbl, key, image), in order, after the
    /// opening accounts' (`seq` 1 … 16, transaction 1).
    static func database(_ path: String, _ entries: [(Int64, String, SQLValue, String?)]) throws -> Connection {
        try bookkeepingDatabase(path, "")
        let connection = try Connection(path: path)
        try connection.execute(#"INSERT INTO stress_meta (key, value) VALUES ('schema', '{"tables":[{"id":"kept"}]}')"#)
        try connection.execute(TrackedTable.accounts.triggerStatements.joined(separator: ";\n"))
        try connection.execute(Bookkeeping.contextStatements.joined(separator: ";\n"))
        try connection.execute(
            Bookkeeping.contextStatement(tx: 1, cookie: try schemaCookie(connection)) + ";\n" + Bookkeeping.openAccountsStatement(tx: 1))
        let insert = try connection.prepare("INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (?, ?, ?, ?)")
        for (tx, table, key, image) in entries {
            insert.reset()
            insert.bind([.integer(tx), .text(table), key, image.map { .text($0) } ?? .null])
            try insert.step()
        }
        return connection
    }

    /// Runs one compaction; the places it lists (`Compaction.orderQuery`'s rows, in `seq` order).
    @discardableResult
    static func compact(_ connection: Connection, folding fold: Compaction.Fold? = nil) throws -> [[SQLValue]] {
        var places: [[SQLValue]] = []
        try connection.execute("BEGIN IMMEDIATE")
        for sql in Compaction.statements(folding: fold) {
            if sql == Compaction.orderQuery { places = try connection.query(sql + " ORDER BY 2") } else { try connection.execute(sql) }
        }
        try connection.execute("COMMIT")
        return places
    }

    /// Sets the bits of `ids` in the record, as compactions before would have.
    static func record(_ ids: [Int64], in connection: Connection) throws {
        for tx in ids {
            try connection.execute("""
                INSERT INTO stress_compacted (block, bits) VALUES (\(tx >> 5), \(1 << (tx & 31)))
                ON CONFLICT (block) DO UPDATE SET bits = bits | excluded.bits
                """)
        }
    }

    /// The ledger's entries after the accounts' as (tx, tbl, key).
    static func entries(_ connection: Connection) throws -> [[SQLValue]] {
        try connection.query("SELECT tx, tbl, key FROM stress_ledger WHERE seq > 16 ORDER BY seq")
    }

    /// The transactions the record names, in order.
    static func recorded(_ connection: Connection) throws -> [Int64] {
        var ids: [Int64] = []
        for row in try connection.query("SELECT block, bits FROM stress_compacted ORDER BY block") {
            guard case .integer(let block) = row[0], case .integer(let bits) = row[1] else { continue }
            ids += (0..<32).filter { (bits >> $0) & 1 == 1 }.map { block << 5 | Int64($0) }
        }
        return ids
    }

    static func tx(_ n: Int) -> Int64 { TransactionID.make(thread: 0, number: n) }

    // Kept: each live key's latest image, entries of undone work, schema-change
    // records. Removed: superseded images, commit records, a deletion that is
    // its key's latest, every entry of a dropped table; each removed entry's
    // transaction is in the record, and so is every other transaction with an
    // entry since the last compaction, none of whose acknowledgements is folded.
    @Test func removesWhatNoPropertyReadsAndRecordsItsTransactions() throws {
        let directory = try TemporaryDirectory()
        let c = try Self.database(directory.path("c.db"), [
            (Self.tx(2), "kept", .integer(1), "1,'a'"),       // superseded by tx 3
            (Self.tx(2), "", .null, nil),                     // commit record, superseded
            (Self.tx(3), "kept", .integer(1), "1,'b'"),       // latest of key 1: kept
            (Self.tx(3), "kept", .integer(2), "2,'x'"),       // superseded by a deletion…
            (Self.tx(3), "", .null, nil),                     // commit record, superseded
            (Self.tx(4), "kept", .integer(2), nil),           // …which is key 2's latest: removed too
            (-Self.tx(5), "kept", .integer(1), nil),          // undone work: kept, whatever came later
            (Self.tx(6), "dropped", .integer(1), "1"),        // a dropped table's: removed
            (Self.tx(7), "#schema", .integer(1), "DROP TABLE dropped"),  // kept
            (Self.tx(7), "kept", .integer(1), "1,'c'"),       // supersedes tx 3's image of key 1
            (Self.tx(7), "", .null, nil),                     // the last commit record: removed too
            (Self.tx(8), "kept", .text("1"), "'1'"),          // text key '1' is not integer key 1: kept
        ])
        try Self.compact(c)
        #expect(try Self.entries(c) == [
            [.integer(-Self.tx(5)), .text("kept"), .integer(1)],
            [.integer(Self.tx(7)), .text("#schema"), .integer(1)],
            [.integer(Self.tx(7)), .text("kept"), .integer(1)],
            [.integer(Self.tx(8)), .text("kept"), .text("1")],
        ])
        // Nothing folded: every transaction written since the last compaction (none) is in the record.
        #expect(try Self.recorded(c) == [1] + [2, 3, 4, 6, 7, 8].map(Self.tx))
        // The accounts' opening entries are each key's latest.
        #expect(try c.scalar("SELECT count(*) FROM stress_ledger WHERE seq <= 16") == .integer(16))
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'compacted_through'") == c.scalar("SELECT max(seq) FROM stress_ledger"))
        c.close()
    }

    // Before its entries go, a compaction lists where each transaction with an
    // entry among them committed (`orderQuery`: its first such entry's seq),
    // which the worker logs for `replay`: here every transaction whose entries
    // are removed, at its first removed entry, and none whose entries all stay.
    @Test func listsWhereEachTransactionWhoseEntriesItRemovesCommitted() throws {
        let directory = try TemporaryDirectory()
        let c = try Self.database(directory.path("c.db"), [
            (Self.tx(2), "kept", .integer(1), "1,'a'"),       // 17: superseded by tx 3
            (Self.tx(2), "", .null, nil),                     // 18: commit record
            (Self.tx(3), "kept", .integer(1), "1,'b'"),       // 19: superseded by tx 5
            (Self.tx(3), "kept", .integer(2), "2,'x'"),       // 20: key 2's latest: kept
            (Self.tx(4), "dropped", .integer(1), "1"),        // 21: a dropped table's
            (Self.tx(5), "kept", .integer(3), "3,'y'"),       // 22: kept
            (Self.tx(5), "kept", .integer(1), "1,'c'"),       // 23: key 1's latest: kept
            (Self.tx(5), "", .null, nil),                     // 24: commit record
            (Self.tx(6), "kept", .integer(4), "4,'z'"),       // 25: kept: no entry of tx 6 goes
        ])
        let places = try Self.compact(c)
        #expect(places == [[.integer(Self.tx(2)), .integer(17)], [.integer(Self.tx(3)), .integer(19)],
                           [.integer(Self.tx(4)), .integer(21)], [.integer(Self.tx(5)), .integer(24)]])
        #expect(try Self.entries(c).map { $0[0] } == [Self.tx(3), Self.tx(5), Self.tx(5), Self.tx(6)].map { .integer($0) })
        c.close()
    }

    // A compaction keeps the ledger's last entry, whatever it is (here a
    // commit record, which goes otherwise): SQLite gives a new row the last
    // rowid plus one, so were the last entries removed, the next entry would
    // take a `seq` a removed one had, and a transaction logged as committed
    // there (`orderQuery`) would seem to come after a later one.
    @Test func keepsTheLedgersLastEntrySoNoSeqIsGivenTwice() throws {
        let directory = try TemporaryDirectory()
        let c = try Self.database(directory.path("c.db"), [
            (Self.tx(2), "kept", .integer(1), "1,'a'"),       // 17: superseded by tx 3
            (Self.tx(3), "kept", .integer(1), "1,'b'"),       // 18: key 1's latest: kept
            (Self.tx(3), "", .null, nil),                     // 19: commit record, the ledger's last: kept
        ])
        let places = try Self.compact(c)
        #expect(places == [[.integer(Self.tx(2)), .integer(17)]])
        #expect(try Self.entries(c).map { $0[1] } == [.text("kept"), .text("")])
        try c.execute("INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (\(Self.tx(4)), '', NULL, NULL)")
        #expect(try c.scalar("SELECT max(seq) FROM stress_ledger") == .integer(20))
        c.close()
    }

    // An order line holds its places as `transaction:seq` words; a line of any
    // other kind, or one whose places do not read as such, gives none.
    @Test func anOrderLineReadsBackItsPlaces() {
        let line = Compaction.orderLine(writer: "t1", transaction: "compact", places: [(4294967298, 17), (8589934593, 19)])
        #expect(line == "-- t1 compact order 4294967298:17 8589934593:19")
        let places = Compaction.places(inOrderLine: line)
        #expect(places?.map(\.tx) == [4294967298, 8589934593])
        #expect(places?.map(\.position) == [17, 19])
        #expect(Compaction.orderLine(writer: "t1", transaction: "compact", places: []) == "-- t1 compact order")
        #expect(Compaction.places(inOrderLine: "-- t1 compact order")?.isEmpty == true, "a compaction that removed nothing")
        #expect(Compaction.places(inOrderLine: "-- t1 x3 disconnect") == nil)
        #expect(Compaction.places(inOrderLine: "-- t1 compact order 12:x") == nil)
        #expect(Compaction.places(inOrderLine: "SELECT 1; -- t1 compact order 1:2") == nil)
    }

    // The records of schema changes before the latest go, their transactions
    // into the record and the last one's number into the mark; the latest
    // stays. Records are removed only up to the first change that has none (or
    // two): from there on `schema` still sees the gap.
    @Test(arguments: [
        (present: [1, 2, 3, 4], removed: [1, 2, 3], mark: 3),
        (present: [1, 3, 4], removed: [1], mark: 1),
        (present: [1, 2, 2, 4], removed: [1], mark: 1),
        (present: [2, 3, 4], removed: [], mark: nil),
    ] as [(present: [Int], removed: [Int], mark: Int?)])
    func removesSchemaRecordsBeforeTheLatestUpToAGap(_ example: (present: [Int], removed: [Int], mark: Int?)) throws {
        let directory = try TemporaryDirectory()
        let c = try Self.database(directory.path("c.db"), example.present.map { (Self.tx(10 + $0), "#schema", .integer(Int64($0)), "CREATE INDEX i\($0) ON kept (a)") })
        try c.execute(#"UPDATE stress_meta SET value = '{"version":4,"tables":[{"id":"kept"}]}' WHERE key = 'schema'"#)
        try Self.compact(c)
        let kept = example.present.filter { !example.removed.contains($0) }
        #expect(try Self.entries(c) == kept.map { [.integer(Self.tx(10 + $0)), .text("#schema"), .integer(Int64($0))] })
        #expect(try Self.recorded(c) == [1] + Set(example.present).sorted().map { Self.tx(10 + $0) })
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'schema_compacted_through'") == example.mark.map { .integer(Int64($0)) })
        // A second compaction moves nothing.
        let before = try Snapshot(c)
        try Self.compact(c)
        #expect(try Snapshot(c) == before)
        c.close()
    }

    // A second compaction with nothing new removes nothing; one after new work
    // looks only at keys written since the mark, and merges its transactions
    // into the record's existing rows.
    @Test func isIncrementalAndIdempotent() throws {
        let directory = try TemporaryDirectory()
        let c = try Self.database(directory.path("c.db"), [
            (Self.tx(2), "kept", .integer(1), "1"), (Self.tx(3), "kept", .integer(1), "2"),
        ])
        try Self.compact(c)
        let before = try Snapshot(c)
        try Self.compact(c)
        #expect(try Snapshot(c) == before)
        let insert = try c.prepare("INSERT INTO stress_ledger (tx, tbl, key, image) VALUES (?, 'kept', 1, ?)")
        insert.bind([.integer(Self.tx(9)), .text("3")])
        try insert.step()
        try Self.compact(c)
        #expect(try Self.recorded(c) == [1, Self.tx(2), Self.tx(3), Self.tx(9)])
        #expect(try Self.entries(c) == [[.integer(Self.tx(9)), .text("kept"), .integer(1)]])
        #expect(try c.scalar("SELECT count(*) FROM stress_compacted") == .integer(2), "the setup's block, and thread 0's")
        c.close()
    }

    // A recorded schema that lists no table (damage: there is always one) takes
    // no table's entries with it; only superseded ones go.
    @Test func aSchemaWithoutTablesDropsNoTable() throws {
        let directory = try TemporaryDirectory()
        let c = try Self.database(directory.path("c.db"), [
            (Self.tx(2), "kept", .integer(1), "1"), (Self.tx(3), "kept", .integer(1), "2"), (Self.tx(3), "kept", .integer(2), "2"),
        ])
        try c.execute(#"UPDATE stress_meta SET value = '{"tables":[]}' WHERE key = 'schema'"#)
        try Self.compact(c)
        #expect(try Self.entries(c) == [[.integer(Self.tx(3)), .text("kept"), .integer(1)], [.integer(Self.tx(3)), .text("kept"), .integer(2)]])
        #expect(try c.scalar("SELECT count(*) FROM stress_ledger WHERE seq <= 16") == .integer(16))
        c.close()
    }

    // A fold moves the log's reviewed length and each writer's folded ids; a
    // transaction the compaction meets gets a bit only if its acknowledgement
    // is not folded (here tx 6 and 7 committed after the records the fold
    // reviewed: 6's entries removed, 7's kept).
    @Test func foldedTransactionsNeedNoBit() throws {
        let directory = try TemporaryDirectory()
        let c = try Self.database(directory.path("c.db"), [
            (Self.tx(2), "kept", .integer(1), "1,'a'"), (Self.tx(2), "", .null, nil),
            (Self.tx(3), "kept", .integer(1), "1,'b'"), (Self.tx(3), "", .null, nil),
            (Self.tx(6), "kept", .integer(1), "1,'c'"), (Self.tx(6), "", .null, nil),
            (Self.tx(7), "kept", .integer(1), "1,'d'"),
        ])
        let writer = Self.tx(0) >> 32
        try Self.compact(c, folding: Compaction.Fold(through: 4096, writers: [0: 1, writer: Self.tx(5)]))
        #expect(try Self.entries(c) == [[.integer(Self.tx(7)), .text("kept"), .integer(1)]])
        #expect(try Self.recorded(c) == [Self.tx(6), Self.tx(7)])
        #expect(try c.query("SELECT writer, through FROM stress_folded ORDER BY writer") == [[.integer(0), .integer(1)], [.integer(writer), .integer(Self.tx(5))]])
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'acks_folded_through'") == .integer(4096))
        // A later fold never moves a writer's folded ids back, and takes the bits of what it folds with it.
        try Self.compact(c, folding: Compaction.Fold(through: 5000, writers: [writer: Self.tx(6)]))
        try Self.compact(c, folding: Compaction.Fold(through: 5100, writers: [writer: Self.tx(4)]))
        #expect(try c.scalar("SELECT through FROM stress_folded WHERE writer = \(writer)") == .integer(Self.tx(6)))
        #expect(try Self.recorded(c) == [Self.tx(7)])
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'acks_folded_through'") == .integer(5100))
        // Records of no transaction (a driver's reservation) move the mark alone.
        try Self.compact(c, folding: Compaction.Fold(through: 5107, writers: [:]))
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'acks_folded_through'") == .integer(5107))
        // Nor does a fold move the mark back: the records before it stay reviewed.
        try Self.compact(c, folding: Compaction.Fold(through: 5000, writers: [:]))
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'acks_folded_through'") == .integer(5107))
        #expect(try c.query("SELECT writer, through FROM stress_folded ORDER BY writer") == [[.integer(0), .integer(1)], [.integer(writer), .integer(Self.tx(6))]])
        c.close()
    }

    // A pruning keeps a writer's folded ids while the ledger holds an entry of
    // its up to them (the last one included), and drops the rest: a writer
    // whose entries compaction removed, and one whose entries all came after
    // its folded ids. A writer whose row went and that folds again gets its
    // row back.
    @Test func pruningKeepsTheFoldedIdsAnEntryNeeds() throws {
        let directory = try TemporaryDirectory()
        func tx(_ thread: Int, _ n: Int) -> Int64 { TransactionID.make(thread: thread, number: n) }
        let c = try Self.database(directory.path("c.db"), [
            (tx(1, 3), "kept", .integer(1), "1,'a'"),  // writer 1's live image, within its folded ids: kept
            (tx(2, 4), "kept", .integer(2), "2,'b'"),  // writer 2's, superseded by writer 3's below
            (tx(3, 7), "kept", .integer(2), "2,'c'"),  // writer 3's, after its folded ids
            (tx(4, 6), "kept", .integer(3), "3,'d'"),  // writer 4's, its last folded id
        ])
        let writers = (1...4).map { tx($0, 0) >> 32 }
        try Self.compact(c, folding: Compaction.Fold(
            through: 100, writers: [0: 1, writers[0]: tx(1, 5), writers[1]: tx(2, 4), writers[2]: tx(3, 2), writers[3]: tx(4, 6)],
            prunes: true))
        #expect(try c.query("SELECT writer, through FROM stress_folded ORDER BY writer") == [
            [.integer(0), .integer(1)], [.integer(writers[0]), .integer(tx(1, 5))], [.integer(writers[3]), .integer(tx(4, 6))],
        ], "the setup's accounts, writer 1's image and writer 4's")
        #expect(try c.scalar("SELECT value FROM stress_meta WHERE key = 'folded_kept'") == .integer(3))
        #expect(try Self.recorded(c) == [tx(3, 7)], "writer 3's transaction is not folded, with its row or without")
        try Self.compact(c, folding: Compaction.Fold(through: 200, writers: [writers[2]: tx(3, 7)]))
        #expect(try c.scalar("SELECT through FROM stress_folded WHERE writer = \(writers[2])") == .integer(tx(3, 7)))
        #expect(try Self.recorded(c) == [])
        c.close()
    }

    // A compaction prunes once the folded ids have grown to twice what the last
    // pruning kept plus the floor; a kept count that is no integer counts as none.
    @Test func prunesOnceTheFoldedIdsHaveDoubled() throws {
        let directory = try TemporaryDirectory()
        let c = try Self.database(directory.path("c.db"), [])
        func grow(to rows: Int) throws {
            try c.execute("""
                INSERT OR IGNORE INTO stress_folded (writer, through) WITH RECURSIVE w (n) AS (SELECT 1000 UNION ALL SELECT n + 1 FROM w WHERE n < \(999 + rows)) \
                SELECT n, n << 32 FROM w
                """)
            #expect(try c.scalar("SELECT count(*) FROM stress_folded") == .integer(Int64(rows)))
        }
        let floor = Compaction.pruneFloor
        try grow(to: floor - 1)
        #expect(try Compaction.prunesFolded(c) == false)
        try grow(to: floor)
        #expect(try Compaction.prunesFolded(c) == true)
        try c.execute("INSERT INTO stress_meta (key, value) VALUES ('folded_kept', 100)")
        try grow(to: 200 + floor - 1)
        #expect(try Compaction.prunesFolded(c) == false)
        try grow(to: 200 + floor)
        #expect(try Compaction.prunesFolded(c) == true)
        try c.execute("UPDATE stress_meta SET value = 'x' WHERE key = 'folded_kept'")
        try c.execute("DELETE FROM stress_folded WHERE writer >= 1000 + \(floor)")
        #expect(try Compaction.prunesFolded(c) == true)
        c.close()
    }

    // A fold clears its writers' bits up to the last id it folded, whole
    // blocks and the part of the last one, and no other writer's.
    @Test(arguments: [Int64(40), 63, 64, 95])
    func aFoldClearsItsWritersBitsUpToWhatItFolded(_ through: Int64) throws {
        let directory = try TemporaryDirectory()
        let c = try Self.database(directory.path("c.db"), [])
        let mine: [Int64] = [1, 2, 31, 32, 40, 41, 63, 64, 70, 95, 96, 200]
        let other = TransactionID.make(thread: 1, number: 5)
        try Self.record(mine.map { Self.tx(Int($0)) } + [other], in: c)
        try Self.compact(c, folding: Compaction.Fold(through: 100, writers: [Self.tx(0) >> 32: Self.tx(Int(through))]))
        // The setup's transaction (the accounts' entries, written since no compaction) is not folded: it gets its bit.
        #expect(try Self.recorded(c) == [1] + mine.filter { $0 > through }.map { Self.tx(Int($0)) } + [other])
        #expect(try c.scalar("SELECT count(*) FROM stress_compacted WHERE bits = 0") == .integer(0), "no empty block is left")
        c.close()
    }

    // A compaction measures the acknowledgement log's length while other
    // processes may append to it, and the kernel can grow a file page by page
    // under one append: the length can end inside a record. The fold ends where
    // the last whole record ends, so the next review reads the cut record
    // whole: a lost commit there is named, a present one holds.
    @Test(arguments: [false, true])
    func aFoldEndsWhereTheLastWholeRecordEnds(_ cutOneIsInTheDatabase: Bool) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("c.db")
        let cut = Self.tx(9)
        let c = try Self.database(path, [(Self.tx(2), "kept", .integer(1), "1,'a'"), (Self.tx(2), "", .null, nil)]
            + (cutOneIsInTheDatabase ? [(cut, "kept", .integer(2), "2,'b'"), (cut, "", .null, nil)] : []))
        let acks = path + ".acks"
        let whole = [AckLog.header, "c 1 \(~Int64(1))", "c \(Self.tx(2)) \(~Self.tx(2))", "c \(cut) \(~cut)"].map { $0 + "\n" }
        try whole.joined().write(toFile: acks, atomically: true, encoding: .utf8)
        let beforeCut = whole.dropLast().joined().utf8.count

        let fold = try #require(try Compaction.fold(connection: c, acknowledgements: acks, length: beforeCut + 5))
        #expect(fold.through == beforeCut, "the fold ends before the record the length cut")
        #expect(fold.writers == [0: 1, Self.tx(0) >> 32: Self.tx(2)], "the cut record is not folded")
        try Self.compact(c, folding: fold)

        let length = whole.joined().utf8.count
        try c.execute("BEGIN")
        let review = try AckReview(connection: c, log: acks, judged: length, settled: length, listed: 10)
        try c.execute("ROLLBACK")
        #expect(review.from == beforeCut)
        #expect(review.committed == 1, "the cut record, read whole")
        #expect(review.missing.ids == (cutOneIsInTheDatabase ? [] : [cut]))
        c.close()
    }

    /// The ledger and the record, for comparing two moments.
    struct Snapshot: Equatable {
        var ledger: [[SQLValue]]
        var record: [[SQLValue]]
        init(_ c: Connection) throws {
            ledger = try c.query("SELECT * FROM stress_ledger ORDER BY seq")
            record = try c.query("SELECT * FROM stress_compacted ORDER BY block")
        }
    }
}
