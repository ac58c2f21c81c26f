/// Evidence a run could not record or read (a full disk, a vanished log): what
/// was lost, and what the checks therefore could not verify. A verdict given
/// without it says so, on stderr as it happens and in the summary and JSON.
public struct EvidenceGap: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The file, e.g. "acknowledgement log stress.db.acks".
    public var source: String
    /// What went wrong, e.g. "414 records could not be written (No space left on device)".
    public var problem: String
    /// What no check could verify because of it.
    public var unchecked: String

    public var description: String { "\(source): \(problem); not checked: \(unchecked)" }

    /// The gaps left by a run's writers (`acks`, `log`) and by checks that could
    /// not read the acknowledgement log (`unreadableAcks`: the first reason, and how many checks).
    static func gaps(
        acks: AckLog, log: SQLLog, unreadableAcks: (reason: String, checks: Int)? = nil
    ) -> [EvidenceGap] {
        var gaps: [EvidenceGap] = []
        let ackSource = "acknowledgement log \(acks.path)"
        let lost = acks.losses
        let unwritten = lost.unwritten.values.reduce(0, +)
        if unwritten > 0 {
            var unchecked: [String] = []
            if let n = lost.unwritten[.committed] { unchecked.append("durability of \(Format.count(n, "committed transaction"))") }
            if let n = lost.unwritten[.rolledBack] { unchecked.append("rollback of \(Format.count(n, "rolled-back transaction"))") }
            if let n = lost.unwritten[.powerLoss] {
                unchecked.append("\(Format.count(n, "power loss marker")), so durability may report commits a power loss was allowed to take")
            }
            gaps.append(EvidenceGap(
                source: ackSource, problem: "\(Format.count(unwritten, "record")) could not be written (\(lost.error ?? "unknown error"))",
                unchecked: unchecked.joined(separator: ", ")))
        }
        if lost.unsynced > 0 {
            gaps.append(EvidenceGap(
                source: ackSource, problem: "\(Format.count(lost.unsynced, "sync")) failed (\(lost.error ?? "unknown error"))",
                unchecked: "after a power loss, the transactions whose records it took"))
        }
        if let (reason, checks) = unreadableAcks {
            gaps.append(EvidenceGap(
                source: ackSource, problem: reason.hasSuffix(".") ? String(reason.dropLast()) : reason,
                unchecked: "every property, in \(Format.count(checks, "check")) that stopped for want of it"))
        }
        let logLost = log.losses
        if logLost.unwrittenLines > 0 {
            gaps.append(EvidenceGap(
                source: "SQL log \(log.path)",
                problem: "\(logLost.unwrittenLines) of \(Format.count(log.lineCount, "line")) could not be written (\(logLost.error ?? "unknown error"))",
                unchecked: "a replay of the run from its log (statements are missing)"))
        }
        let rotation = log.rotation
        if rotation.droppedLines {
            let older = SQLLog.olderPath(of: log.path)
            let problem = rotation.olderLines.map { lines in
                "rotated \(rotation.count) times past its limit of \(SQLLog.describe(limit: log.limit ?? 0)): "
                    + "lines 1–\(lines.lowerBound - 1) of the run's log are gone (lines \(lines.lowerBound)–\(lines.upperBound) "
                    + "are in \(older), the rest in \(log.path))"
            } ?? "rotated past its limit of \(SQLLog.describe(limit: log.limit ?? 0)), replacing an older \(older): "
                + "the run's first lines are gone"
            gaps.append(EvidenceGap(
                source: "SQL log \(log.path)", problem: problem,
                unchecked: "a replay of the run from its log (its beginning was dropped; a larger --sql-log-max keeps it)"))
        }
        if logLost.unsynced {
            gaps.append(EvidenceGap(
                source: "SQL log \(log.path)", problem: "the final sync failed (\(logLost.error ?? "unknown error"))",
                unchecked: "that the log survives a power loss"))
        }
        return gaps
    }

    /// The verdict's clause for `gaps`: what went unchecked, or nothing.
    static func verdictClause(_ gaps: [EvidenceGap]) -> String {
        gaps.isEmpty ? "" : "; the evidence is incomplete, not checked: " + gaps.map(\.unchecked).joined(separator: "; ")
    }
}
