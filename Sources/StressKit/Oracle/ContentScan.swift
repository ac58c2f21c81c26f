#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StressSQLite

/// One pass over every tracked table against the ledger, shared by `model`
/// (each row equals its key's latest image; no row is missing or unexplained)
/// and `rollback` (no visible row carries a rolled-back tag): both read the
/// same rows, so the table is read once.
///
/// Rowid tables are merged with the ledger index in key order (`RowidMerge`);
/// WITHOUT ROWID tables take one ledger index seek per row (`rowQuery`).
final class ContentScan {
    let checker: Checker
    var model: Findings
    var rollback: Findings
    /// Rows read, and tables compared.
    var rows = 0
    var compared = 0
    /// Whether the accounts table was among those compared (the summary names it apart).
    var comparedAccounts = false
    /// Tables not compared: missing, or without every column the schema gives
    /// them (the `schema` property reports how they differ). Columns the schema
    /// does not know are not read: `model` judges the schema's columns.
    var unlike: [String] = []

    init(checker: Checker) {
        self.checker = checker
        model = checker.findings(.model)
        rollback = checker.findings(.rollback)
    }

    func run(_ tables: [TrackedTable]) throws {
        var tables = tables
        for (index, table) in tables.enumerated().reversed() where try !checker.hasColumns(of: table) {
            unlike.insert(table.name, at: 0)
            tables.remove(at: index)
        }
        compared = tables.filter { $0.name != Bookkeeping.accounts }.count
        comparedAccounts = tables.contains { $0.name == Bookkeeping.accounts }
        for table in tables where !table.withoutRowid {
            var merge = try RowidMerge(scan: self, table: table)
            try merge.run()
        }
        for table in tables where table.withoutRowid {
            try scanWithoutRowid(table)
        }
    }

    // MARK: - WITHOUT ROWID tables

    /// For WITHOUT ROWID tables: every row against the latest effect the ledger
    /// records for its key (the fold of the ledger in commit order), in one scan
    /// of the table with one index seek per row (`TrackedTable.latestSeqExpression`).
    /// Rows carrying a rolled-back tag come out of the same scan.
    static func rowQuery(_ table: TrackedTable) -> String {
        """
            SELECT c.k, l.image, c.img, l.tx, l.seq, c.tag, l.image IS NOT c.img \
            FROM (SELECT \(table.keyExpression("t")) AS k, \(table.imageExpression("t")) AS img, \
            t.\(quoteIdentifier(Bookkeeping.tagColumn)) AS tag, \(table.latestSeqExpression("t")) AS s \
            FROM main.\(quoteIdentifier(table.name)) AS t) AS c \
            LEFT JOIN main.\(Bookkeeping.ledger) AS l ON l.seq = c.s \
            WHERE l.image IS NOT c.img OR c.tag < 0
            """
    }

    static func latestQuery(_ table: TrackedTable) -> String { Bookkeeping.latestEntriesQuery(table.ledgerName) }

    private func scanWithoutRowid(_ table: TrackedTable) throws {
        let count = Int(try checker.count("SELECT count(*) FROM main.\(quoteIdentifier(table.name))"))
        rows += count
        var mismatched = 0
        let statement = try checker.connection.prepare(Self.rowQuery(table))
        while try statement.step() {
            let key = statement.column(0), expected = RowImage.shown(statement, 1), actual = RowImage.shown(statement, 2)
            if case .integer(let tag) = statement.column(5), tag < 0 {
                // A rolled-back write that is visible: named as such, not as a model mismatch.
                // SQL's own comparison of the images' bytes says whether it also differs.
                if statement.int64(6) != 0 { mismatched += 1 }
                rollback.add { checker.visibleRolledBackRow(table, key: key, tag: tag, actual: actual) }
                continue
            }
            mismatched += 1
            model.add {
                checker.modelViolation(
                    table.name, key: key, expected: expected, actual: actual, writer: statement.column(3), seq: statement.column(4))
            }
        }
        // Rows that matched their key's latest image, against keys whose latest effect
        // left a row: equal counts mean no row is missing. Otherwise find which.
        let live = try checker.count("SELECT count(*) FROM (\(Self.latestQuery(table))) WHERE image IS NOT NULL")
        if Int(live) != count - mismatched {
            try missingRows(table)
        }
    }

    /// Keys whose latest ledger effect left a row that is not there. Only run when
    /// the counts say some are missing: WITHOUT ROWID keys need a TEMP copy of the
    /// table's keys to be looked up quickly.
    private func missingRows(_ table: TrackedTable) throws {
        let connection = checker.connection
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS stress_check_keys (k PRIMARY KEY) WITHOUT ROWID;
            DELETE FROM temp.stress_check_keys;
            INSERT INTO temp.stress_check_keys SELECT \(table.keyExpression("t")) FROM main.\(quoteIdentifier(table.name)) AS t
            """)
        let statement = try connection.prepare(
            "SELECT key, image, tx, seq FROM (\(Self.latestQuery(table))) AS l WHERE image IS NOT NULL "
                + "AND NOT EXISTS (SELECT 1 FROM temp.stress_check_keys WHERE k = l.key)")
        while try statement.step() {
            model.add {
                checker.modelViolation(
                    table.name, key: statement.column(0), expected: RowImage.shown(statement, 1), actual: .null,
                    writer: statement.column(2), seq: statement.column(3))
            }
        }
    }

    // MARK: - Rowid tables

    /// The model and rollback check of a rowid table, as one merge of two ordered
    /// scans: the table in rowid order, and the table's ledger entries from the
    /// ledger index in (key, seq) order, of which the last entry of each key is
    /// that key's latest effect. Each row is compared with the latest image
    /// in Swift, byte for byte as SQL renders it (`RowImage`); where they
    /// differ, SQL renders and compares that row again, as `rowQuery` would, and
    /// only its verdict counts.
    ///
    /// Why the orders agree: a rowid is an integer, and the index orders the
    /// untyped `key` column as SQLite orders values (NULL, then numbers by value,
    /// then text, then blobs), which `compare` follows, integers against reals
    /// included. WITHOUT ROWID tables' keys are `quote()`d text whose order is
    /// not the table's, so they keep one index seek per row (`rowQuery`).
    private struct RowidMerge {
        let scan: ContentScan
        let table: TrackedTable
        private var checker: Checker { scan.checker }

        private let rowScan: Statement
        private var haveRow = false
        /// The rowid of the row `rowScan` stands on, when `haveRow`.
        private var rowid: Int64 = 0
        /// Whether `rowScan` has stepped (its first row follows no other).
        private var steppedRows = false
        private let tagIndex: Int
        private var confirm: Statement?
        private var entryBySeq: Statement?

        /// The latest ledger entry of one key: its key (`keyBytes` for text and blobs), seq, and image.
        private enum Key { case null, integer(Int64), real(Double), text, blob }
        private var key = Key.null
        private var keyBytes: [UInt8] = []
        private var seq: Int64 = 0
        private var imageType = Statement.ColumnType.null
        private let image = ByteBuffer()

        init(scan: ContentScan, table: TrackedTable) throws {
            self.scan = scan
            self.table = table
            let columns = table.columns.map { "t." + quoteIdentifier($0) }.joined(separator: ", ")
            rowScan = try scan.checker.connection.prepare(
                "SELECT t.rowid, \(columns) FROM main.\(quoteIdentifier(table.name)) AS t ORDER BY t.rowid")
            tagIndex = 1 + (table.columns.firstIndex(of: Bookkeeping.tagColumn) ?? -1)
        }

        /// Merges the two scans. Both must come in order — the rows by rowid,
        /// the ledger's entries by key, then seq — or the merge would pair rows
        /// with the wrong images; SQLite reads a table or an index in its order,
        /// so only a damaged file can break it, and the merge then stops (a
        /// `ToolError` naming the table) rather than report rows that are fine.
        mutating func run() throws {
            let ledger = try checker.connection.prepare(
                "SELECT key, seq, image FROM main.\(Bookkeeping.ledger) WHERE tbl = ? ORDER BY key, seq")
            ledger.bind([.text(table.ledgerName)])
            try stepRow()
            var haveKey = false
            while try ledger.step() {
                let entryKey = ledger.value(0), entrySeq = ledger.int64(1)
                let order = haveKey ? orderAfterKey(entryKey) : 1
                if order == 0 {
                    guard entrySeq > seq else { throw outOfOrder("the ledger's index returned the entries of", "out of seq order") }
                    takeEntry(ledger, seq: entrySeq)
                    continue
                }
                if haveKey {
                    guard order > 0 else { throw outOfOrder("the ledger's index returned the entries of", "out of key order") }
                    try settleKey()
                }
                startKey(entryKey)
                takeEntry(ledger, seq: entrySeq)
                haveKey = true
            }
            if haveKey { try settleKey() }
            while haveRow {
                try checkRow(expectedSeq: nil)
                try stepRow()
            }
        }

        private mutating func stepRow() throws {
            let before = rowid, first = !steppedRows
            haveRow = try rowScan.step()
            steppedRows = true
            guard haveRow else { return }
            rowid = rowScan.int64(0)
            guard first || rowid > before else { throw outOfOrder("a scan returned the rows of", "out of rowid order") }
        }

        /// The merge's stop when a scan is out of order (see `run`).
        private func outOfOrder(_ what: String, _ order: String) -> ToolError {
            ToolError("\(what) \(table.name) \(order), as only a damaged file does: rows cannot be paired with their images")
        }

        private mutating func startKey(_ entry: Statement.Value) {
            switch entry.type {
            case .null: key = .null
            case .integer: key = .integer(entry.int64)
            case .real: key = .real(entry.double)
            case let type:
                key = type == .text ? .text : .blob
                keyBytes.removeAll(keepingCapacity: true)
                keyBytes.append(contentsOf: entry.bytes(type))
            }
        }

        private mutating func takeEntry(_ ledger: Statement, seq: Int64) {
            self.seq = seq
            let entry = ledger.value(2)
            imageType = entry.type
            image.set(entry.bytes(imageType == .text ? .text : .null))
        }

        /// A ledger entry's key (`entry`) against the current key, as the index
        /// orders keys: negative when it sorts before, 0 when it is the same key,
        /// positive after. NULL, then numbers by value (an integer and a real
        /// compared exactly), then text, then blobs, text and blobs byte by byte
        /// (the column's BINARY collation; the tool's databases are UTF-8). A
        /// rowid table's keys are its rowids, all integers: the other cases meet
        /// only keys a damaged file returns, or a tampered ledger.
        private func orderAfterKey(_ entry: Statement.Value) -> Int {
            func rank(_ type: Statement.ColumnType) -> Int {
                switch type {
                case .null: 0
                case .integer, .real: 1
                case .text: 2
                case .blob: 3
                }
            }
            let type = entry.type
            switch (key, type) {
            case (.null, .null): return 0
            case (.integer(let a), .integer): let b = entry.int64; return a < b ? 1 : a == b ? 0 : -1
            case (.integer(let a), .real): return -Self.compare(a, entry.double)
            case (.real(let a), .integer): return Self.compare(entry.int64, a)
            case (.real(let a), .real): let b = entry.double; return a < b ? 1 : a == b ? 0 : -1
            case (.text, .text), (.blob, .blob):
                let bytes = entry.bytes(type)
                if bytes.elementsEqual(keyBytes) { return 0 }
                return keyBytes.lexicographicallyPrecedes(bytes) ? 1 : -1
            case (.null, _): return 1
            case (.integer, _), (.real, _): return rank(type) > 1 ? 1 : -1
            case (.text, _): return rank(type) > 2 ? 1 : -1
            case (.blob, _): return -1
            }
        }

        /// The current key against `rowid`: negative when the key sorts first.
        private func compareKey(to rowid: Int64) -> Int {
            switch key {
            case .null: return -1
            case .integer(let k): return k < rowid ? -1 : k == rowid ? 0 : 1
            case .real(let k): return -Self.compare(rowid, k)
            case .text, .blob: return 1
            }
        }

        /// An integer against a real, as SQLite compares them (exactly, not by
        /// converting the integer to a double).
        static func compare(_ i: Int64, _ r: Double) -> Int {
            if r.isNaN { return 1 }
            if r < -9223372036854775808.0 { return 1 }
            if r >= 9223372036854775808.0 { return -1 }
            let floor = r.rounded(.down)
            let truncated = Int64(floor)
            if i != truncated { return i < truncated ? -1 : 1 }
            return floor == r ? 0 : -1
        }

        /// Rows before the current key have no ledger entry; a row with the key
        /// is compared with the key's latest image; a key without a row is a missing row
        /// unless its latest effect deleted it.
        private mutating func settleKey() throws {
            while haveRow, compareKey(to: rowid) > 0 {
                try checkRow(expectedSeq: nil)
                try stepRow()
            }
            if haveRow, compareKey(to: rowid) == 0 {
                try checkRow(expectedSeq: seq)
                try stepRow()
            } else if imageType != .null {
                let entry = try ledgerEntry(seq)
                let seq = seq, table = table, checker = checker
                scan.model.add {
                    checker.modelViolation(table.name, key: entry[0], expected: entry[1], actual: .null, writer: entry[2], seq: .integer(seq))
                }
            }
        }

        /// One row against the latest image of its key (`expectedSeq`), or against no entry.
        private mutating func checkRow(expectedSeq: Int64?) throws {
            scan.rows += 1
            if case let tagValue = rowScan.value(tagIndex), tagValue.type == .integer, case let tag = tagValue.int64, tag < 0 {
                // A rolled-back write that is visible: named as such, not as a model mismatch.
                let actual = scan.rollback.isFull ? .null : try sqlImage(rowid: rowid, expectedSeq: expectedSeq).image
                let table = table, checker = checker
                scan.rollback.add { checker.visibleRolledBackRow(table, key: .integer(rowid), tag: tag, actual: actual) }
                return
            }
            if expectedSeq != nil, imageType == .text {
                let columns = 1..<(1 + table.columns.count)
                if RowImage.matches(rowScan, columns: columns, image: image.bytes) { return }
            }
            // Different as rendered here: SQL has the last word.
            let (differs, actual) = try sqlImage(rowid: rowid, expectedSeq: expectedSeq)
            guard differs else { return }
            let none: [SQLValue] = [.null, .null, .null]
            let entry = scan.model.isFull ? none : try expectedSeq.map { try ledgerEntry($0) } ?? none
            let table = table, checker = checker
            scan.model.add {
                checker.modelViolation(
                    table.name, key: .integer(rowid), expected: entry[1], actual: actual, writer: entry[2],
                    seq: expectedSeq.map { .integer($0) } ?? .null)
            }
        }

        /// The row's image as SQL renders it (as reports show it), and whether it differs from the ledger entry `expectedSeq`.
        private mutating func sqlImage(rowid: Int64, expectedSeq: Int64?) throws -> (differs: Bool, image: SQLValue) {
            if confirm == nil {
                let image = table.imageExpression("t")
                confirm = try checker.connection.prepare(
                    "SELECT (\(image)) IS NOT (SELECT image FROM main.\(Bookkeeping.ledger) WHERE seq = ?2), \(image) "
                        + "FROM main.\(quoteIdentifier(table.name)) AS t WHERE t.rowid = ?1")
            }
            let statement = confirm!
            statement.reset()
            statement.bind([.integer(rowid), expectedSeq.map { .integer($0) } ?? .null])
            guard try statement.step() else { return (true, .null) }
            return (statement.int64(0) != 0, RowImage.shown(statement, 1))
        }

        /// Key, image (as reports show it) and writer of ledger entry `seq`.
        private mutating func ledgerEntry(_ seq: Int64) throws -> [SQLValue] {
            if entryBySeq == nil {
                entryBySeq = try checker.connection.prepare("SELECT key, image, tx FROM main.\(Bookkeeping.ledger) WHERE seq = ?")
            }
            let statement = entryBySeq!
            statement.reset()
            statement.bind([.integer(seq)])
            return try statement.step() ? [statement.column(0), RowImage.shown(statement, 1), statement.column(2)] : [.null, .null, .null]
        }
    }
}

/// Bytes copied out of a statement's column, kept until the next copy: one
/// allocation that only grows, and a plain `memcpy` per copy (the merge keeps
/// every ledger entry's image until it knows whether the key's next entry supersedes it).
private final class ByteBuffer {
    private var storage = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 1)
    private var capacity = 256
    private var count = 0

    deinit { storage.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    func set(_ source: UnsafeRawBufferPointer) {
        if source.count > capacity {
            storage.deallocate()
            capacity = max(source.count, capacity * 2)
            storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
        }
        if let base = source.baseAddress, source.count > 0 { storage.copyMemory(from: base, byteCount: source.count) }
        count = source.count
    }
}
