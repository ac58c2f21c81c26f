import StressSQLite

/// `integrity`: `PRAGMA integrity_check` returns `ok`. A claim SQLite 3.40.0–3.41.0
/// makes falsely ("NULL value in T.C" for some WITHOUT ROWID tables) is
/// discounted only when a scan disproves it (`IntegrityCheck`).
extension Checker {
    func integrity() throws -> PropertyResult {
        let messages = try connection.query("PRAGMA integrity_check").map { row -> String in
            if case .text(let text) = row[0] { return text }
            return "\(row[0])"
        }
        var problems: [String] = []
        var discounted = 0
        for message in messages where message != "ok" {
            if let claim = IntegrityCheck.nullClaim(in: message), IntegrityCheck.libraryHasFalseNullReport,
               try connection.scalar(IntegrityCheck.verificationQuery(table: claim.table, column: claim.column)) == .integer(1) {
                discounted += 1
                continue
            }
            problems.append(message)
        }
        var checked = "PRAGMA integrity_check"
        if discounted > 0 { checked += "; \(Format.count(discounted, "false \"NULL value in\" claim")) disproved by a scan (SQLite 3.40.0–3.41.0)" }
        guard !problems.isEmpty else { return result(.integrity, checked: checked, []) }
        return result(.integrity, checked: checked, [violation(
            .integrity, "PRAGMA integrity_check did not return ok",
            ["integrity_check": problems.prefix(10).joined(separator: " | ")])])
    }
}
