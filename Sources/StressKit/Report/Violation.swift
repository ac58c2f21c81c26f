/// A property that did not hold, with enough context to find and reproduce it.
public struct Violation: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The property, e.g. `integrity` (its stable name in text and JSON).
    public var property: Property
    /// One sentence saying what went wrong.
    public var message: String
    /// Which thread saw it (`t0`…, or `final`).
    public var thread: String
    /// The line of the SQL log at which it was seen.
    public var logLine: Int
    /// Property-specific details (table, key, expected, actual, SQLite's messages…).
    public var details: [String: String]

    public init(property: Property, message: String, thread: String, logLine: Int, details: [String: String] = [:]) {
        self.property = property
        self.message = message
        self.thread = thread
        self.logLine = logLine
        self.details = details
    }

    /// The violation for a terminal: its sentence on one line, then one line per
    /// detail. Text that spans lines (an SQL statement the oracle ran, the
    /// messages of `integrity_check`) is folded onto its line.
    public var description: String {
        // Inside the monolith a violation has a thread and a place in the SQL log;
        // a standalone command has neither.
        let context = logLine > 0 ? "thread \(thread), SQL log line \(logLine)" : "seen by \(thread)"
        var text = "VIOLATION \(property.rawValue): \(Self.oneLine(message, separator: " ")) (\(context))"
        for key in details.keys.sorted() { text += "\n    \(key): \(Self.oneLine(details[key]!, separator: " | "))" }
        return text
    }

    /// `text` on one line: its lines trimmed and joined with `separator`, at most 500 characters.
    static func oneLine(_ text: String, separator: String) -> String {
        let joined = text.split(whereSeparator: \.isNewline)
            .map { $0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed() }
            .filter { !$0.isEmpty }.map { String($0) }.joined(separator: separator)
        return joined.count > 500 ? String(joined.prefix(500)) + "…" : joined
    }
}
