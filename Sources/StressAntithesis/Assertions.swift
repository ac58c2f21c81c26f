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

/// One assertion the binary can make. The message is its id: keep it stable.
public struct Assertion: Sendable, Hashable {
    public let kind: AssertionKind
    public let message: String
    public let function: String
    public let file: String
    public let line: Int

    public init(_ kind: AssertionKind, _ message: String, function: String = #function, file: String = #fileID, line: Int = #line) {
        self.kind = kind
        self.message = message
        self.function = function
        self.file = file
        self.line = line
    }

    func message(hit: Bool, condition: Bool, details: JSON) -> JSON {
        [
            "antithesis_assert": [
                "assert_type": .string(kind.assertType),
                "display_type": .string(kind.displayType),
                "condition": .bool(condition),
                "message": .string(message),
                "location": [
                    "class": "", "function": .string(function), "file": .string(file),
                    "begin_line": .int(Int64(line)), "begin_column": 0,
                ],
                "hit": .bool(hit),
                "must_hit": .bool(kind.mustHit),
                "id": .string(message),
                "details": details,
            ],
        ]
    }
}

/// Reports assertions through `Output`: the SDK line and the whole catalog when
/// created (every process, before any hit), then each assertion's first true and
/// first false evaluation.
public final class Reporter: Sendable {
    public static let protocolVersion = "1.1.0"
    public static let sdkVersion = "0.1.0"

    private let output: Output
    private let sent = Mutex<Set<String>>([])
    /// Added to the details of every hit (e.g. which SQLite the process runs on).
    private let context: [(String, JSON)]

    public init(catalog: [Assertion], output: Output = .shared, context: [(String, JSON)] = []) {
        self.output = output
        self.context = context
        guard output.isActive else { return }
        output.emit([
            "antithesis_sdk": [
                "language": ["name": "Swift", "version": "6"],
                "sdk_version": .string(Self.sdkVersion),
                "protocol_version": .string(Self.protocolVersion),
            ],
        ])
        for assertion in catalog {
            output.emit(assertion.message(hit: false, condition: false, details: .null))
        }
    }

    /// Evaluates `assertion` with `condition` (ignored for reachability kinds).
    public func record(_ assertion: Assertion, _ condition: Bool, details: JSON = .null) {
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
        output.emit(assertion.message(hit: true, condition: condition, details: merged))
    }

}
