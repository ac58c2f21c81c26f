import StressSQLite

/// `conservation`: the accounts' total balance is what it was at creation
/// (transfers move money, never make or destroy it; a lost update shows here).
extension Checker {
    func conservation() throws -> PropertyResult {
        let expected = try connection.scalar("SELECT value FROM \(Bookkeeping.meta) WHERE key = 'total_balance'")
        let row = try connection.query("SELECT count(*), total(balance), sum(balance) FROM \(Bookkeeping.accounts)")[0]
        let count = row[0], actual = row[2]
        let checked = "\(count) accounts, total \(actual)"
        guard expected == actual, count == .integer(Int64(Bookkeeping.accountCount)) else {
            return result(.conservation, checked: checked, [violation(
                .conservation, "the accounts' total balance changed: money was created or destroyed",
                ["table": Bookkeeping.accounts, "expected": "\(expected.map { "\($0)" } ?? "(none)") over \(Bookkeeping.accountCount) accounts",
                 "actual": "\(actual) over \(count) accounts"])])
        }
        return result(.conservation, checked: checked, [])
    }
}
