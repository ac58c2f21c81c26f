import StressSQLite

/// `rollback`: no visible row carries a rolled-back tag (read by `ContentScan`,
/// with `model`), and the ledger holds no entry of undone work or of a
/// transaction recorded as rolled back, nor does the record of compacted
/// transactions name one (`Compaction`).
extension Checker {
    /// A row written by work that was rolled back, visible nonetheless.
    func visibleRolledBackRow(_ table: TrackedTable, key: SQLValue, tag: Int64, actual: SQLValue) -> Violation {
        violation(
            .rollback,
            "row \(Self.shown(key)) of \(table.name) was written by \(TransactionID.describe(-tag)) in work that was rolled back, yet it is visible",
            ["table": table.name, "key": Self.shown(key), "rolled-back-writer": TransactionID.describe(-tag),
             "actual": Self.shown(actual)])
    }

    static func rollbackChecked(rows: Int, rolledBack: Int) -> String {
        "the tags of \(Format.count(rows, "row")), ledger entries of \(Format.count(rolledBack, "rolled-back transaction")) and of undone statements"
    }

    /// Ledger entries of work that was rolled back: entries written by a statement
    /// the plan undoes carry a negative id, and a transaction recorded as rolled
    /// back must have none. Catches leaked deletions and leaked ledger rows, which
    /// leave no tagged row behind.
    func leakedLedgerEntries(_ acknowledged: AckReview, into found: inout Findings) throws {
        // Which transactions the ledger holds is known (`AckReview`): only when one
        // of them is undone work or rolled back is the ledger read for their entries.
        if acknowledged.undoneWork || !acknowledged.leaked.isEmpty {
            try connection.execute("""
                CREATE TEMP TABLE IF NOT EXISTS stress_check_leaked (tx INTEGER PRIMARY KEY);
                DELETE FROM temp.stress_check_leaked
                """)
            let insert = try connection.prepare("INSERT INTO temp.stress_check_leaked (tx) VALUES (?)")
            for tx in acknowledged.leaked {
                insert.reset()
                insert.bind(.integer(tx), at: 1)
                try insert.step()
            }
            let statement = try connection.prepare(
                "SELECT seq, tx, tbl, key, image FROM main.\(Bookkeeping.ledger) "
                    + "WHERE tx < 0 OR tx IN (SELECT tx FROM temp.stress_check_leaked) ORDER BY seq")
            while try statement.step() {
                found.add {
                    let tx = statement.int64(1)
                    let table = statement.text(2) ?? ""
                    let what = statement.column(4) == .null ? "a deletion of" : "a write to"
                    let writer = TransactionID.describe(tx < 0 ? -tx : tx)
                    return violation(
                        .rollback,
                        table.isEmpty
                            ? "the commit record of \(writer), which was rolled back, is in the ledger"
                            : "\(what) row \(Self.shown(statement.column(3))) of \(table) by \(writer), in work that was rolled back, is in the ledger",
                        ["table": table, "key": Self.shown(statement.column(3)), "rolled-back-writer": writer,
                         "ledger-seq": String(statement.int64(0))])
                }
            }
        }
        // Entries of a transaction compaction removed leave its id in the record.
        for tx in acknowledged.recordedRollbacks.ids {
            found.add {
                let writer = TransactionID.describe(tx)
                return violation(
                    .rollback, "\(writer), which was rolled back, is in the record of compacted transactions: its writes were in the ledger",
                    ["rolled-back-writer": writer, "tx": String(tx)])
            }
        }
        found.addCounted(acknowledged.recordedRollbacks.count - acknowledged.recordedRollbacks.ids.count)
    }
}
