import Synchronization

/// The kinds of assertion, with the fields the protocol gives each.
public enum AssertionKind: String, Sendable, CaseIterable {
    case always
    case alwaysOrUnreachable
    case sometimes
    case reachable
    case unreachable

    var assertType: String {
        switch self {
        case .always, .alwaysOrUnreachable: "always"
        case .sometimes: "sometimes"
        case .reachable, .unreachable: "reachability"
        }
    }

    var displayType: String {
        switch self {
        case .always: "Always"
        case .alwaysOrUnreachable: "AlwaysOrUnreachable"
        case .sometimes: "Sometimes"
        case .reachable: "Reachable"
        case .unreachable: "Unreachable"
        }
    }

    var mustHit: Bool {
        switch self {
        case .always, .sometimes, .reachable: true
        case .alwaysOrUnreachable, .unreachable: false
        }
    }
}

/// A place in the source: where an assertion is declared, or where it was evaluated.
public struct Location: Sendable, Hashable {
    public let function: String
    public let file: String
    public let line: Int

    public init(function: String = #function, file: String = #fileID, line: Int = #line) {
        self.function = function
        self.file = file
        self.line = line
    }

    var json: JSON {
        ["class": "", "function": .string(function), "file": .string(file), "begin_line": .int(Int64(line)), "begin_column": 0]
    }
}

/// One assertion the binary can make. The message is its id: keep it stable.
public struct Assertion: Sendable, Hashable {
    public let kind: AssertionKind
    public let message: String
    /// Where it is declared: the location its catalog entry names, since no
    /// call site is known before it is evaluated. Hits name their call site.
    public let declared: Location

    public init(_ kind: AssertionKind, _ message: String, function: String = #function, file: String = #fileID, line: Int = #line) {
        self.kind = kind
        self.message = message
        declared = Location(function: function, file: file, line: line)
    }

    func message(hit: Bool, condition: Bool, details: JSON, at location: Location) -> JSON {
        [
            "antithesis_assert": [
                "assert_type": .string(kind.assertType),
                "display_type": .string(kind.displayType),
                "condition": .bool(condition),
                "message": .string(message),
                "location": location.json,
                "hit": .bool(hit),
                "must_hit": .bool(kind.mustHit),
                "id": .string(message),
                "details": details,
            ],
        ]
    }
}

/// Reports assertions through `Output`: the SDK line and the process's catalog
/// when created (before any hit), then each assertion's first true and first
/// false evaluation, with the location of the call that evaluated it.
public final class Reporter: Sendable {
    private let output: Output
    private let declared: Set<String>
    private let sent = Mutex<Set<String>>([])
    /// Added to the details of every hit (e.g. which SQLite the process runs on).
    private let context: [(String, JSON)]

    /// `catalog` is every assertion this process can evaluate, and only those:
    /// Antithesis counts a declared `must_hit` assertion that nothing hits as failing.
    /// `context` is added to the details of every hit.
    public init(catalog: [Assertion], output: Output = .shared, context: [(String, JSON)] = []) {
        self.output = output
        self.context = context
        declared = Set(catalog.map(\.message))
        guard output.isActive else { return }
        output.emitSDKInfo()
        for assertion in catalog {
            output.emit(assertion.message(hit: false, condition: false, details: .null, at: assertion.declared))
        }
    }

    /// Whether `assertion` is in this process's catalog.
    public func declares(_ assertion: Assertion) -> Bool { declared.contains(assertion.message) }

    /// Evaluates `assertion` with `condition` (ignored for reachability kinds), at
    /// the caller's location. The assertion must be in the catalog.
    public func record(
        _ assertion: Assertion, _ condition: Bool, details: JSON = .null,
        function: String = #function, file: String = #fileID, line: Int = #line
    ) {
        assert(declares(assertion), "'\(assertion.message)' is not in this process's catalog")
        let condition: Bool = switch assertion.kind {
        case .reachable: true
        case .unreachable: false
        default: condition
        }
        guard output.isActive else { return }
        let first = sent.withLock { $0.insert("\(condition)|\(assertion.message)").inserted }
        guard first else { return }
        var merged = details
        if !context.isEmpty {
            var pairs: [(String, JSON)] = if case .object(let existing) = details { existing } else { [] }
            for (key, value) in context where !pairs.contains(where: { $0.0 == key }) { pairs.append((key, value)) }
            merged = .object(pairs)
        }
        let location = Location(function: function, file: file, line: line)
        output.emit(assertion.message(hit: true, condition: condition, details: merged, at: location))
    }
}
