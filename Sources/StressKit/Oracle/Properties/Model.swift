import StressSQLite

/// `model`: every row equals the latest image the ledger records for its key
/// (the ledger in commit order), and no row is there that the ledger does not
/// explain. The rows are read by `ContentScan`, shared with `rollback`.
extension Checker {
    /// A row that differs from its key's latest image, is missing, or is
    /// unexplained; or, with `takenBy`, one found missing by the transaction
    /// that inserted a row at its key or moved one onto it (`lostRows`).
    func modelViolation(
        _ table: String, key: SQLValue, expected: SQLValue, actual: SQLValue, writer: SQLValue, seq: SQLValue,
        takenBy: SQLValue = .null
    ) -> Violation {
        var details = ["table": table, "key": Self.shown(key), "expected": Self.shown(expected), "actual": Self.shown(actual)]
        if case .integer(let tx) = writer { details["last-writer"] = TransactionID.describe(tx) }
        if case .integer(let seq) = seq { details["ledger-seq"] = String(seq) }
        let row = "row \(Self.shown(key)) of \(table)"
        let message: String
        switch (expected, actual, takenBy) {
        case (_, _, .integer(let tx)):
            details["taken-by"] = TransactionID.describe(tx)
            message = "\(row) was missing when transaction \(TransactionID.describe(tx)) wrote a row at its key, "
                + "though a committed transaction wrote it and none deleted it"
        case (.null, _, _): message = "\(row) is present, but no committed transaction left it there"
        case (_, .null, _): message = "\(row) is missing, though a committed transaction wrote it"
        default: message = "\(row) differs from what its last committed writer wrote"
        }
        return violation(.model, message, details)
    }

    /// The lost rows' traces the ledger holds (`Bookkeeping.lostMarker`): a
    /// row found missing, though its key's latest entry was an image, by an
    /// INSERT of its key or an UPDATE that moved a row onto it. The row check
    /// cannot see such a loss once that write has left its own entry, whose
    /// image the new row matches.
    func lostRows(_ tables: [TrackedTable], into model: inout Findings) throws {
        let names = Dictionary(tables.map { ($0.ledgerName, $0.name) }, uniquingKeysWith: { first, _ in first })
        let traces = try connection.prepare(
            "SELECT tbl, key, image, tx, seq FROM main.\(Bookkeeping.ledger) WHERE \(Bookkeeping.isLostTrace("tbl")) ORDER BY seq")
        while try traces.step() {
            model.add {
                let ledgerName = String((traces.text(0) ?? "").dropFirst(Bookkeeping.lostMarker.count))
                return modelViolation(
                    names[ledgerName] ?? ledgerName, key: traces.column(1), expected: RowImage.shown(traces, 2), actual: .null,
                    writer: .null, seq: traces.column(4), takenBy: traces.column(3))
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
