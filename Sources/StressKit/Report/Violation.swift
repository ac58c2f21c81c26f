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

    public var description: String {
        // Inside the monolith a violation has a thread and a place in the SQL log;
        // a standalone command has neither.
        let context = logLine > 0 ? "thread \(thread), SQL log line \(logLine)" : "seen by \(thread)"
        var text = "VIOLATION \(property.rawValue): \(message) (\(context))"
        for key in details.keys.sorted() { text += "\n    \(key): \(details[key]!)" }
        return text
    }
}
