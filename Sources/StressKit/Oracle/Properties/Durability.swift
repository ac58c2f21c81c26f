import StressSQLite

/// `durability`: every transaction acknowledged after its COMMIT returned OK
/// is in the ledger (its commit record, or the rows it changed), or in the
/// record of transactions whose entries compaction removed (`Compaction`). After a power
/// loss that `synchronous=NORMAL` allows to take each writer's latest commits,
/// a lost commit followed by a surviving one of the same writer is still a violation.
extension Checker {
    func durability(_ acknowledged: Acknowledged) throws -> PropertyResult {
        let transactions = try ledgerTransactions()
        let statement = try connection.prepare(
            "SELECT tx FROM temp.stress_check_acks WHERE committed = 1 AND NOT \(Compaction.present("tx", transactions: transactions)) ORDER BY tx")
        var found = findings(.durability)
        while try statement.step() {
            let tx = statement.int64(0)
            found.add {
                violation(
                    .durability, "transaction \(TransactionID.describe(tx)) was acknowledged after COMMIT returned OK, but it is not in the database",
                    ["transaction": TransactionID.describe(tx), "tx": String(tx)])
            }
        }
        var checked = "\(acknowledged.committed) acknowledged transactions"
        if acknowledged.relaxed > 0 {
            // synchronous=NORMAL: a power loss may take each writer's latest commits,
            // never one followed by a surviving commit of the same writer (the tx id's
            // high half names the writer; `seq` is its commit order).
            let lost = try count(
                "SELECT count(*) FROM temp.stress_check_acks WHERE committed = 2 AND NOT \(Compaction.present("tx", transactions: transactions))")
            checked += " (\(lost) lost to \(acknowledged.relaxed) power loss(es), as synchronous=NORMAL allows)"
            let gaps = try connection.prepare("""
                SELECT a.tx, (SELECT b.tx FROM temp.stress_check_acks b
                              WHERE b.committed = 2 AND b.era = a.era AND (b.tx >> 32) = (a.tx >> 32) AND b.seq > a.seq
                                AND \(Compaction.present("b.tx", transactions: transactions)) LIMIT 1)
                FROM temp.stress_check_acks a
                WHERE a.committed = 2 AND NOT \(Compaction.present("a.tx", transactions: transactions))
                ORDER BY a.seq
                """)
            while try gaps.step() {
                guard case .integer(let later) = gaps.column(1) else { continue }
                let tx = gaps.int64(0)
                found.add {
                    violation(
                        .durability, "transaction \(TransactionID.describe(tx)) was lost to the power loss, but \(TransactionID.describe(later)), which the same writer committed after it, survived",
                        ["transaction": TransactionID.describe(tx), "tx": String(tx), "survivor": TransactionID.describe(later)])
                }
            }
        }
        return found.result(checked: checked)
    }
}
