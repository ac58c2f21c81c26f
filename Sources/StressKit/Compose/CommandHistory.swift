#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The last `limit` elements of a sequence that only grows, and how many there
/// were in all: what a run of hours keeps of its schedule and its faults.
public struct Recent<Element: Sendable>: Sendable {
    /// At most this many are kept; nil keeps every one.
    public let limit: Int?
    public private(set) var total = 0
    private var kept: [Element] = []
    /// Where the oldest kept element is in `kept` once it is full (a ring).
    private var oldest = 0

    public init(limit: Int?) { self.limit = limit }

    /// Adds `element`; returns the one it pushed out, if any.
    @discardableResult
    public mutating func append(_ element: Element) -> Element? {
        total += 1
        guard let limit, kept.count == limit else {
            kept.append(element)
            return nil
        }
        guard limit > 0 else { return element }
        let out = kept[oldest]
        kept[oldest] = element
        oldest = (oldest + 1) % limit
        return out
    }

    /// The kept elements, oldest first.
    public var elements: [Element] { Array(kept[oldest...] + kept[..<oldest]) }

    /// How many are kept.
    public var count: Int { kept.count }
}

/// The commands a run has finished. Every one is counted, by name and outcome;
/// in full — its record, and its output files in the run directory — only
/// those a reader of the report needs, so that a run of hours leaves a
/// directory and a report of the size of a short one:
/// - the `first_` command and the one that ends the run;
/// - those that failed on their own (`ComposeReport.CommandRecord.failedOnItsOwn`)
///   or whose SDK output holds a failing assertion, the first `limit` of them,
///   and apart from them the first `limit` that stopped on a usage or
///   environment error (`stoppedOnAnError`);
/// - the last `limit` of the others.
///
/// The output files of a command that leaves the last `limit` are removed
/// then; nil keeps every command.
struct CommandHistory {
    let limit: Int?
    /// The run directory, which the records' output paths are relative to.
    let directory: String
    private(set) var total = 0
    /// Commands by name, then by outcome (`killed by the runner` for those the runner killed).
    private(set) var outcomes: [String: [String: Int]] = [:]
    private(set) var failedOnTheirOwn = 0
    /// Those of them that stopped on a usage or environment error.
    private(set) var stoppedOnAnError = 0
    private(set) var driverKilledByRunner = false
    /// The first_ and ending commands, the first `limit` failures, and the
    /// first `limit` commands that stopped on an error: a budget of their own,
    /// so that a disk that fills (every command stopping) leaves room for the
    /// failure that matters.
    private var flagged: [ComposeReport.CommandRecord] = []
    private var flaggedFailures = 0
    private var flaggedStops = 0
    private var recent: Recent<ComposeReport.CommandRecord>

    init(limit: Int?, directory: String) {
        self.limit = limit
        self.directory = directory
        recent = Recent(limit: limit)
    }

    mutating func add(_ record: ComposeReport.CommandRecord) {
        total += 1
        outcomes[record.name, default: [:]][record.killedByRunner ? "killed by the runner" : record.outcome, default: 0] += 1
        if record.prefix.isDriver, record.killedByRunner { driverKilledByRunner = true }
        if record.failedOnItsOwn { failedOnTheirOwn += 1 }
        if record.stoppedOnAnError { stoppedOnAnError += 1 }
        let failure = (record.failedOnItsOwn && !record.stoppedOnAnError) || record.assertionFailed
        if !record.prefix.isDriver && record.prefix != .anytime {
            flagged.append(record)
        } else if failure, limit.map({ flaggedFailures < $0 }) ?? true {
            flaggedFailures += 1
            flagged.append(record)
        } else if record.stoppedOnAnError, !record.assertionFailed, limit.map({ flaggedStops < $0 }) ?? true {
            flaggedStops += 1
            flagged.append(record)
        } else if let out = recent.append(record) {
            for path in out.output { unlink(DatabaseFile.join(directory, path)) }
        }
    }

    /// The records kept, in the order the commands started.
    var records: [ComposeReport.CommandRecord] { (flagged + recent.elements).sorted { $0.sequence < $1.sequence } }
}
