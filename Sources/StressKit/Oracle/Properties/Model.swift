import StressSQLite

/// `model`: every row equals the latest image the ledger records for its key
/// (the ledger in commit order), and no row is there that the ledger does not
/// explain. The rows are read by `ContentScan`, shared with `rollback`.
extension Checker {
    /// A row that differs from its key's latest image, is missing, or is unexplained.
    func modelViolation(
        _ table: TrackedTable, key: SQLValue, expected: SQLValue, actual: SQLValue, writer: SQLValue, seq: SQLValue
    ) -> Violation {
        var details = ["table": table.name, "key": Self.shown(key), "expected": Self.shown(expected), "actual": Self.shown(actual)]
        if case .integer(let tx) = writer { details["last-writer"] = TransactionID.describe(tx) }
        if case .integer(let seq) = seq { details["ledger-seq"] = String(seq) }
        let message: String
        switch (expected, actual) {
        case (.null, _): message = "row \(Self.shown(key)) of \(table.name) is present, but no committed transaction left it there"
        case (_, .null): message = "row \(Self.shown(key)) of \(table.name) is missing, though a committed transaction wrote it"
        default: message = "row \(Self.shown(key)) of \(table.name) differs from what its last committed writer wrote"
        }
        return violation(.model, message, details)
    }

    /// The lost rows' traces the ledger holds (`Bookkeeping.lostMarker`): a
    /// row an INSERT found missing though its key's latest entry was an image.
    /// The row check cannot see such a loss once the insert has written its
    /// own entry, whose image the new row matches.
    func lostRows(_ tables: [TrackedTable], into model: inout Findings) throws {
        let names = Dictionary(tables.map { ($0.ledgerName, $0.name) }, uniquingKeysWith: { first, _ in first })
        let traces = try connection.prepare(
            "SELECT tbl, key, image, tx, seq FROM main.\(Bookkeeping.ledger) WHERE \(Bookkeeping.isLostTrace("tbl")) ORDER BY seq")
        while try traces.step() {
            model.add {
                let ledgerName = String((traces.text(0) ?? "").dropFirst(Bookkeeping.lostMarker.count))
                let (table, key, image, tx) = (names[ledgerName] ?? ledgerName, traces.column(1), RowImage.shown(traces, 2), traces.column(3))
                var details = ["table": table, "key": Self.shown(key), "expected": Self.shown(image), "actual": Self.shown(.null)]
                if case .integer(let tx) = tx { details["inserted-by"] = TransactionID.describe(tx) }
                if case .integer(let seq) = traces.column(4) { details["ledger-seq"] = String(seq) }
                let inserter = details["inserted-by"].map { "transaction \($0)" } ?? "a transaction"
                return violation(
                    .model, "row \(Self.shown(key)) of \(table) was missing when \(inserter) inserted its key anew, "
                        + "though a committed transaction wrote it and none deleted it", details)
            }
        }
    }

    /// What `model` examined, and the tables it could not compare (see `ContentScan.unlike`).
    func modelChecked(_ scan: ContentScan) throws -> String {
        let entries = try count("SELECT count(*) FROM main.\(Bookkeeping.ledger)")
        var checked = Format.count(scan.compared, "table") + (scan.comparedAccounts ? " plus the accounts, " : ", ")
            + Format.count(scan.rows, "row") + ", " + Format.count(entries, "ledger entry", plural: "ledger entries")
        if !scan.unlike.isEmpty {
            checked += "; not compared, their columns not the schema's (see schema): " + scan.unlike.joined(separator: ", ")
        }
        return checked
    }
}
