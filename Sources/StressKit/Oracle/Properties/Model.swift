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
