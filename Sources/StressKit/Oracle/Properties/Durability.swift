import StressSQLite

/// `durability`: every transaction acknowledged after its COMMIT returned OK
/// is in the ledger (its commit record, or the rows it changed), or in the
/// record of transactions whose entries compaction removed (`Compaction`);
/// those acknowledged before the last compaction's fold were held to the
/// database by that compaction, and the review starts after them. After a power
/// loss that `synchronous=NORMAL` allows to take each writer's latest commits,
/// a lost commit followed by a surviving one of the same writer is still a
/// violation. The log is judged against the snapshot by `AckReview`.
extension Checker {
    func durability(_ acknowledged: AckReview) throws -> PropertyResult {
        var found = findings(.durability)
        for tx in acknowledged.missing.ids {
            found.add {
                violation(
                    .durability, "transaction \(TransactionID.describe(tx)) was acknowledged after COMMIT returned OK, but it is not in the database",
                    ["transaction": TransactionID.describe(tx), "tx": String(tx)])
            }
        }
        found.addCounted(acknowledged.missing.count - acknowledged.missing.ids.count)
        var checked = Format.count(acknowledged.committed, "acknowledged transaction")
        if acknowledged.from > 0 {
            checked += " since byte \(acknowledged.from) of the log (compactions reviewed those before)"
        }
        if acknowledged.relaxed > 0 {
            // synchronous=NORMAL: a power loss may take each writer's latest commits,
            // never one followed by a surviving commit of the same writer (the tx id's
            // high half names the writer).
            checked += " (\(acknowledged.lost) lost to \(Format.count(acknowledged.relaxed, "power loss", plural: "power losses")), as synchronous=NORMAL allows)"
            for (tx, later) in acknowledged.outlived {
                found.add {
                    violation(
                        .durability, "transaction \(TransactionID.describe(tx)) was lost to the power loss, but \(TransactionID.describe(later)), which the same writer committed after it, survived",
                        ["transaction": TransactionID.describe(tx), "tx": String(tx), "survivor": TransactionID.describe(later)])
                }
            }
            found.addCounted(acknowledged.outlivedCount - acknowledged.outlived.count)
        }
        return found.result(checked: checked)
    }
}
