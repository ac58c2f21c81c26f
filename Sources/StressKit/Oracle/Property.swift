/// The properties the oracle checks, by their stable names.
public enum Property: String, CaseIterable, Sendable, Codable {
    case integrity
    case model
    case rollback
    case durability
    case conservation
    case queryConsistency = "query-consistency"
    case schema
}

/// The outcome of one property in one check.
public struct PropertyResult: Sendable, Codable {
    public enum Status: String, Sendable, Codable { case pass, fail, skipped }
    public var property: Property
    public var status: Status
    /// What was examined, e.g. "3 tables, 1200 rows, 5000 ledger entries".
    public var checked: String
    public var violations: [Violation]
    /// Violations beyond those listed.
    public var moreViolations: Int

    /// A property that could not be judged, and why.
    static func skipped(_ property: Property, _ why: String) -> PropertyResult {
        PropertyResult(property: property, status: .skipped, checked: why, violations: [], moreViolations: 0)
    }
}

/// All properties of one check.
public struct CheckReport: Sendable, Codable {
    public var results: [PropertyResult]
    public var passed: Bool { results.allSatisfy { $0.status != .fail } }
    public var violations: [Violation] { results.flatMap(\.violations) }

    /// The properties that reached no verdict (stopped, or not reached).
    public var unjudged: [Property] { results.filter { $0.status == .skipped }.map(\.property) }

    /// The verdict of a check that found no violation: every property held, or
    /// none was violated but some reached no verdict, which it names. `checks`
    /// ("7 checks") when this is the last of a run's checks.
    func passVerdict(checks: String? = nil) -> String {
        let names = unjudged.map(\.rawValue).joined(separator: ", ")
        guard let checks else { return unjudged.isEmpty ? "every property held" : "no property violated, but no verdict on \(names) (see the table)" }
        return unjudged.isEmpty
            ? "every property held (\(checks))" : "no property violated in \(checks), but the final one reached no verdict on \(names)"
    }

    public func result(_ property: Property) -> PropertyResult? { results.first { $0.property == property } }

    /// A table of properties, one line each.
    public var table: String {
        var lines = ["property           result   checked"]
        for result in results {
            lines.append(result.property.rawValue.column(19)
                + result.status.rawValue.column(9) + result.checked)
        }
        return lines.joined(separator: "\n")
    }
}

/// The violations of one property as a check comes across them: the first
/// `limit` in full, the rest only counted. A violation is built only when it
/// will be listed, so a check that meets millions stays cheap.
struct Findings {
    let property: Property
    let limit: Int
    private(set) var listed: [Violation] = []
    private(set) var total = 0

    init(_ property: Property, limit: Int) {
        self.property = property
        self.limit = limit
    }

    /// Whether further violations are only counted (`add` will not call its closure).
    var isFull: Bool { listed.count >= limit }

    mutating func add(_ violation: () throws -> Violation) rethrows {
        total += 1
        if listed.count < limit { listed.append(try violation()) }
    }

    /// Violations known by number only (found past the listing limit of
    /// whoever found them): counted, never listed.
    mutating func addCounted(_ count: Int) { total += count }

    /// The property's result: failed when anything was found.
    func result(checked: String) -> PropertyResult {
        PropertyResult(
            property: property, status: total == 0 ? .pass : .fail, checked: checked, violations: listed,
            moreViolations: total - listed.count)
    }
}
