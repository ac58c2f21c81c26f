import StressSQLite

/// Ledger compaction: the ledger kept to what the properties judge by, so that
/// a run of hours costs what its data costs, not what its history cost.
///
/// Compaction is a maintenance step of the workload: one write transaction of
/// plain SQL (`statements`, run between `BEGIN IMMEDIATE` and `COMMIT`, with
/// the writer's commit record last and acknowledged when it commits, as any of
/// its transactions), logged like any other, replayed by `replay` and by the
/// `sqlite3` shell, atomic under SIGKILL and a power loss, and serialised with
/// every other writer by SQLite's write lock. It reads the ledger and the
/// recorded schema, and removes only entries no property judges by any more:
///
/// - an entry of a row (`tbl`, `key`) with a later entry of the same key: `model`
///   judges every row by its key's latest entry only (`ContentScan`), which stays;
/// - a commit record (`tbl = ''`, `key` NULL, no image: the latest is a
///   "deletion" of that one key): it only ever said that its transaction is in
///   the database, which the record below says from then on;
/// - a deletion that is its key's latest entry: "no row here" is what no entry
///   says too (`model` expects no row either way);
/// - every entry of a table the recorded schema no longer has: a dropped
///   table's name never returns, and no property reads them again;
/// - the records of schema changes (`tbl = '#schema'`, numbered 1 … the
///   recorded schema's version) before the latest, up to the first that is
///   missing or doubled: `stress_meta`'s `schema_compacted_through` then says
///   they were there, and `schema` requires the records after it. A record that
///   was never there stays missing, so the property still reports it.
///
/// It never removes a lost row's trace (`tbl` starting `#lost:`, see
/// `Bookkeeping.lostMarker`): `model` reports each one.
///
/// It never removes a live key's latest image (so a schema change's rebase, which
/// reads the latest images, reads what it did before), an entry of undone work
/// (`tx < 0`: `rollback` reports every one), or the latest schema change's record;
/// nor the ledger's last entry, whatever it is, so that `seq` never falls and no
/// `seq` is given twice: `replay` orders commits by it (`orderQuery`).
///
/// ## Folding the acknowledgements
///
/// `durability` asks whether each acknowledged transaction is in the database;
/// `rollback` asks whether a transaction recorded as rolled back left anything
/// there. Both read the acknowledgement log (`AckReview`), which grows by a
/// line per transaction. So that a check's cost follows the work since the
/// last compaction and not the run's history, a compaction first reviews the
/// records written since the last one, in its own write transaction, against
/// the database as it holds the write lock (every commit acknowledged by then
/// is in it): `fold(connection:acknowledgements:length:)`. When every one holds, it
/// folds them: `stress_meta`'s `acks_folded_through` moves to the log's length,
/// and `stress_folded` holds, for each writer (`tx >> 32`) with a record
/// there, the highest id it recorded. A check reviews the log from that offset
/// on. When one does not hold, nothing is folded, and the check that follows
/// reports it.
///
/// A writer's folded ids matter only while the ledger holds an entry of its
/// up to them: a writer's later transactions have higher ids than any of its
/// folded ones (its records are in the order of its transactions, each written
/// after its COMMIT), so an entry it writes later is not folded whether or not
/// its row is there. Each driver invocation is a writer, so the table would
/// gain a row per invocation for the whole run; a compaction therefore prunes
/// the rows no entry needs (`prunesFolded`). Finding them reads the whole
/// ledger, so it runs only once the table has grown to twice what the last
/// pruning kept (`foldedKeptKey`) plus `pruneFloor` rows: its cost, spread over
/// the writers that grew it, stays a small part of theirs.
///
/// ## The record of compacted transactions
///
/// A transaction that a compaction meets before its acknowledgement is folded
/// — it committed just before the compaction began, and its writer had not yet
/// written its record, or never will (killed between COMMIT and the record) —
/// has its id set in `stress_compacted`, a bitmap of ids (`block = tx >> 5`,
/// bit `tx & 31`; one row holds 32 consecutive ids of one writer): every such
/// transaction with an entry written since the last compaction (after the
/// `compacted_through` mark below) or an entry this one removes. So every
/// transaction with an entry up to the mark is folded or in the record, and
/// a compaction's review reads only the ledger after the mark. `durability`
/// and `rollback` read the ledger and the record together: a transaction is in
/// the database when an entry or its bit says so — the bit stands for the
/// entries removed. A fold clears its writers' bits up to the ids it folded, so
/// the record holds only transactions still to be reviewed (and those of
/// writers killed between a commit and its record). A bit cleared behind the
/// tool's back is a lost transaction (`durability`), a bit set for a
/// transaction that rolled back a leak (`rollback`).
///
/// ## Incremental
///
/// After a compaction every key has one entry besides those kept above; only
/// keys written since can have superseded entries. `stress_meta` holds the
/// ledger's last `seq` at the last compaction (`compacted_through`), and the
/// next compaction looks only at the keys of entries after it: its cost follows
/// the work since, not the run's history. The mark only narrows the search: a
/// wrong one can leave superseded entries in place, never remove a latest one.
public enum Compaction {
    /// The record of transactions whose entries compaction removed before their
    /// acknowledgements were folded.
    public static let table = "stress_compacted"
    /// Each writer's highest transaction id whose acknowledgement a compaction folded.
    public static let foldedTable = "stress_folded"
    /// The `stress_meta` key of the ledger's last `seq` at the last compaction.
    public static let markKey = "compacted_through"
    /// The `stress_meta` key of where the last record the latest fold reviewed
    /// ends in the acknowledgement log: the records before it were reviewed
    /// (`AckReview`). It never moves back.
    public static let foldKey = "acks_folded_through"
    /// The `stress_meta` key of the last schema change whose record compaction
    /// removed (records 1 … it were each there once); absent means none.
    public static let schemaMarkKey = "schema_compacted_through"
    /// The `stress_meta` key of the rows `stress_folded` kept at its last pruning.
    public static let foldedKeptKey = "folded_kept"
    /// Rows `stress_folded` may gain beyond twice what its last pruning kept
    /// before a compaction prunes it again.
    static let pruneFloor = 256
    /// Ids per row of the record.
    static let blockBits = 5

    /// Creates the record and the folded ids; part of the bookkeeping every database carries.
    static let creationStatements = [
        "CREATE TABLE \(table) (block INTEGER PRIMARY KEY, bits INTEGER NOT NULL)",
        "CREATE TABLE \(foldedTable) (writer INTEGER PRIMARY KEY, through INTEGER NOT NULL)",
        "INSERT INTO \(Bookkeeping.meta) (key, value) VALUES ('\(markKey)', 0), ('\(foldKey)', 0)",
    ]

    /// The acknowledgements a compaction folds: where the last record it
    /// reviewed ends, and each writer's highest id among the records reviewed.
    public struct Fold: Sendable, Equatable {
        public var through: Int
        public var writers: [Int64: Int64]
        /// Whether the compaction also prunes the writers' folded ids (see "Folding the acknowledgements").
        public var prunes = false
    }

    /// Reviews the acknowledgement log at `path` since the last fold, up to
    /// `length` (its length once `connection` holds the write lock, in the
    /// compaction's transaction), against the database: the fold when every
    /// record holds, nil when one does not (the check reports it) or when there
    /// is nothing new. The fold ends where the last record reviewed ends, not
    /// at `length`: a length taken while another process appended can end
    /// inside that process's record, which the next review then reads whole
    /// (folded through `length`, its tail would never be judged).
    ///
    /// Throws what `AckReview` throws: `SQLiteError` when the ledger cannot be
    /// read, `ToolError` when the log cannot serve as evidence.
    static func fold(connection: Connection, acknowledgements path: String, length: Int) throws -> Fold? {
        // A mark that is no integer (damage) reads the whole ledger.
        let mark = if case .integer(let value)? = try connection.scalar("SELECT \(Self.mark)") { value } else { Int64(0) }
        let review = try AckReview(connection: connection, log: path, judged: length, settled: length, listed: 0, ledgerAfter: mark)
        guard review.holds, review.judgedBytes > review.from else { return nil }
        return Fold(through: review.judgedBytes, writers: review.reviewedThrough ?? [:], prunes: try prunesFolded(connection))
    }

    /// Whether `stress_folded` has grown to twice the rows its last pruning
    /// kept plus `pruneFloor`: one count of a table that stays that small.
    /// A recorded count that is no integer (damage) counts as 0: pruning only
    /// ever drops rows no entry needs.
    static func prunesFolded(_ connection: Connection) throws -> Bool {
        let kept = "(SELECT value FROM main.\(Bookkeeping.meta) WHERE key = '\(foldedKeptKey)' AND typeof(value) = 'integer')"
        return try connection.scalar(
            "SELECT (SELECT count(*) FROM main.\(foldedTable)) >= 2 * coalesce(\(kept), 0) + \(pruneFloor)") == .integer(1)
    }

    private static let ledger = "main.\(Bookkeeping.ledger)"
    /// The recorded schema's JSON. A schema without tables (there is always
    /// one) is damage for `schema` to report, never a reason to drop entries.
    private static let recordedSchema = "(SELECT value FROM main.\(Bookkeeping.meta) WHERE key = 'schema')"

    /// Whether the acknowledgement of the ledger entry `l`'s transaction is
    /// folded, as an SQL expression: its writer's folded ids reach it.
    private static let folded =
        "l.tx <= coalesce((SELECT f.through FROM main.\(foldedTable) AS f WHERE f.writer = l.tx >> 32), 0)"

    /// The statements of one compaction, in order, for a write transaction:
    /// the fold's (its writers' ids, the log's length, their bits cleared),
    /// then the superseded entries into a TEMP table, the transactions not
    /// folded among theirs and among those written since the mark into the
    /// record, the entries out of the ledger, the mark moved; and, when the
    /// fold says so, the writers' folded ids pruned.
    public static func statements(folding fold: Fold?) -> [String] {
        let schema = SQLValue.text(Bookkeeping.schemaMarker).sqlLiteral
        var statements: [String] = []
        if let fold {
            statements.append(
                "INSERT INTO main.\(Bookkeeping.meta) (key, value) VALUES ('\(foldKey)', \(fold.through)) "
                    + "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)")
        }
        // Records of no transaction (writers' reservations, power losses' markers) move the mark alone.
        if let fold, !fold.writers.isEmpty {
            let writers = fold.writers.sorted { $0.key < $1.key }
            statements.append(
                "INSERT INTO main.\(foldedTable) (writer, through) VALUES "
                    + writers.map { "(\($0.key), \($0.value))" }.joined(separator: ", ")
                    + " ON CONFLICT (writer) DO UPDATE SET through = max(through, excluded.through)")
            // Each writer's blocks from its first id up to the block of the last id
            // folded: whole blocks go, and the last keeps only the ids above it.
            func block(_ tx: Int64) -> Int64 { tx >> Int64(blockBits) }
            func upTo(_ tx: Int64) -> Int64 {  // The bits of `tx`'s block up to its own.
                Int64(bitPattern: (UInt64(2) << UInt64(tx & ((1 << blockBits) - 1))) &- 1)
            }
            let clear = writers.map { writer, through in
                "(block >= \(block(writer << 32)) AND block < \(block(through))) OR (block = \(block(through)) AND bits & ~\(upTo(through)) = 0)"
            }
            let keep = writers.map { _, through in "WHEN \(block(through)) THEN bits & ~\(upTo(through))" }
            statements += [
                "DELETE FROM main.\(table) WHERE " + clear.joined(separator: " OR "),
                "UPDATE main.\(table) SET bits = CASE block " + keep.joined(separator: " ") + " ELSE bits END WHERE block IN ("
                    + writers.map { String(block($0.value)) }.joined(separator: ", ") + ")",
            ]
        }
        return statements + [
            "CREATE TEMP TABLE IF NOT EXISTS stress_compacting (seq INTEGER PRIMARY KEY, tx INTEGER NOT NULL)",
            "DELETE FROM temp.stress_compacting",
            """
            INSERT INTO temp.stress_compacting (seq, tx) \
            SELECT l.seq, l.tx FROM (SELECT DISTINCT tbl, key FROM \(ledger) \
            WHERE seq > \(mark) AND tbl <> \(schema) AND NOT \(Bookkeeping.isLostTrace("tbl"))) AS k \
            JOIN \(ledger) AS l ON l.tbl = k.tbl AND l.key IS k.key \
            WHERE l.tx > 0 AND (l.image IS NULL OR l.seq < (SELECT max(m.seq) FROM \(ledger) AS m WHERE m.tbl = k.tbl AND m.key IS k.key))
            """,
            // The tables in the ledger, one index seek each; those the recorded schema no longer has.
            """
            INSERT OR IGNORE INTO temp.stress_compacting (seq, tx) \
            WITH RECURSIVE names (tbl) AS (SELECT min(tbl) FROM \(ledger) \
            UNION ALL SELECT (SELECT min(tbl) FROM \(ledger) WHERE tbl > names.tbl) FROM names WHERE names.tbl IS NOT NULL) \
            SELECT l.seq, l.tx FROM names JOIN \(ledger) AS l ON l.tbl = names.tbl \
            WHERE names.tbl NOT IN ('\(Bookkeeping.commitMarker)', \(schema), '\(Bookkeeping.accounts)') \
            AND NOT \(Bookkeeping.isLostTrace("names.tbl")) AND l.tx > 0 \
            AND names.tbl NOT IN (SELECT json_extract(t.value, '$.id') FROM json_each(\(recordedSchema), '$.tables') AS t) \
            AND EXISTS (SELECT 1 FROM json_each(\(recordedSchema), '$.tables'))
            """,
            // The schema changes' records before the latest, from the mark on,
            // as far as each is there exactly once.
            """
            INSERT OR IGNORE INTO temp.stress_compacting (seq, tx) \
            WITH RECURSIVE bounds (done, last) AS (SELECT \(schemaMark), coalesce(json_extract(\(recordedSchema), '$.version'), 0) - 1), \
            numbers (n) AS (SELECT done + 1 FROM bounds WHERE done < last UNION ALL SELECT n + 1 FROM numbers, bounds WHERE n < last), \
            through (k) AS (SELECT coalesce((SELECT min(n) - 1 FROM numbers WHERE (SELECT count(*) FROM \(ledger) \
            WHERE tbl = \(schema) AND key = numbers.n AND tx > 0) <> 1), (SELECT last FROM bounds))) \
            SELECT l.seq, l.tx FROM \(ledger) AS l, bounds, through \
            WHERE l.tbl = \(schema) AND l.tx > 0 AND l.key > bounds.done AND l.key <= through.k
            """,
            // The ledger's last entry stays, so that its last `seq` never falls: SQLite gives
            // a new row the last rowid plus one, and a `seq` given twice would put a later
            // transaction before an earlier one in the order `replay` follows.
            "DELETE FROM temp.stress_compacting WHERE seq = (SELECT max(seq) FROM \(ledger))",
            """
            INSERT INTO main.\(Bookkeeping.meta) (key, value) \
            SELECT '\(schemaMarkKey)', k FROM (SELECT max(l.key) AS k FROM temp.stress_compacting AS c \
            JOIN \(ledger) AS l ON l.seq = c.seq WHERE l.tbl = \(schema)) WHERE k IS NOT NULL \
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """,
            // The transactions not folded, among those of the entries removed and
            // those written since the last compaction (see "The record of compacted transactions").
            """
            INSERT INTO main.\(table) (block, bits) \
            SELECT tx >> \(blockBits), sum(1 << (tx & \((1 << blockBits) - 1))) FROM (SELECT tx FROM temp.stress_compacting AS l \
            WHERE NOT (\(folded)) UNION SELECT tx FROM \(ledger) AS l \
            WHERE l.seq > \(mark) AND l.tx > 0 AND NOT (\(folded))) \
            GROUP BY tx >> \(blockBits) \
            ON CONFLICT (block) DO UPDATE SET bits = bits | excluded.bits
            """,
            orderQuery,
            "DELETE FROM \(ledger) WHERE seq IN (SELECT seq FROM temp.stress_compacting)",
            markStatement,
        ] + (fold?.prunes == true ? pruningStatements : [])
    }

    /// The query, before the entries go, of where each transaction that has
    /// an entry among them committed: its first such entry's `seq`, with one
    /// writer at a time its place in the run's commit order (`CommitOrder`).
    /// The worker logs its rows on a line of their own (`orderLine`), so that
    /// `replay` keeps the order of the transactions whose entries no ledger
    /// holds any more: the log, not the database, carries what only the
    /// history needs.
    static let orderQuery = "SELECT tx, min(seq) FROM temp.stress_compacting GROUP BY tx"

    /// The word of `orderLine`.
    static let orderWord = "order"

    /// One transaction's place in the commit order: its first entry's `seq`.
    typealias Place = (tx: Int64, position: Int64)

    /// The log line of `orderQuery`'s rows, by `writer`'s compaction,
    /// `-- <writer> <transaction> order <tx>:<seq> …`: a comment to SQLite and the
    /// shell, which `CommitOrder` reads before a replay (`places(inOrderLine:)`).
    static func orderLine(writer: String, transaction: String, places: [Place]) -> String {
        places.reduce(into: "-- \(writer) \(transaction) \(orderWord)") { line, place in line += " \(place.tx):\(place.position)" }
    }

    /// The places an `orderLine` holds, nil for any other line (a line whose
    /// places do not read as such is damage, and gives nil too: no place is
    /// taken from it).
    static func places(inOrderLine line: String) -> [Place]? {
        guard line.hasPrefix("-- ") else { return nil }
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count >= 4, words[3] == orderWord else { return nil }
        var places: [Place] = []
        places.reserveCapacity(words.count - 4)
        for word in words.dropFirst(4) {
            let parts = word.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let tx = Int64(parts[0]), let position = Int64(parts[1]) else { return nil }
            places.append((tx, position))
        }
        return places
    }

    /// The statement that moves the mark, after the entries are removed.
    static let markStatement =
        "UPDATE main.\(Bookkeeping.meta) SET value = (SELECT coalesce(max(seq), 0) FROM \(ledger)) WHERE key = '\(markKey)'"

    /// Whether `sql` could be the last statement before its COMMIT of a
    /// compaction that wrote no commit record (the mark's, or the pruning's
    /// last), as those of logs of earlier versions of sqlite-stress did: when
    /// its writer was killed after one of these, the run's database cannot tell
    /// `replay` whether the COMMIT took effect. A compaction now writes a commit
    /// record after these statements, as any transaction of its writer does.
    public static func mayEndCompaction(_ sql: String) -> Bool {
        sql == markStatement || sql == pruningStatements.last
    }

    /// The writers' folded ids that no entry left in the ledger is folded by,
    /// out, in one scan of the ledger (each entry looks up its writer's row),
    /// and the rows kept recorded for the next decision (`prunesFolded`).
    static let pruningStatements = [
        """
        DELETE FROM main.\(foldedTable) WHERE writer NOT IN (SELECT f.writer FROM \(ledger) AS l \
        CROSS JOIN main.\(foldedTable) AS f ON f.writer = l.tx >> 32 WHERE l.tx > 0 AND l.tx <= f.through)
        """,
        """
        INSERT INTO main.\(Bookkeeping.meta) (key, value) SELECT '\(foldedKeptKey)', count(*) FROM main.\(foldedTable) WHERE true \
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
        """,
    ]

    /// The ledger's last `seq` at the last compaction, as an SQL expression (0: none).
    static let mark = "coalesce((SELECT value FROM main.\(Bookkeeping.meta) WHERE key = '\(markKey)'), 0)"

    /// The last schema change whose record compaction removed, as an SQL expression (0: none).
    static let schemaMark = "coalesce((SELECT value FROM main.\(Bookkeeping.meta) WHERE key = '\(schemaMarkKey)'), 0)"
}
