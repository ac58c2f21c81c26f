import StressSQLite

/// Interpreting `PRAGMA integrity_check`, the `integrity` property.
///
/// SQLite 3.40.0 through 3.41.0 (Debian 12 ships 3.40.1) report
/// "NULL value in T.C" for NOT NULL and key columns of WITHOUT ROWID tables
/// whose PRIMARY KEY order differs from their column order, though no NULL
/// is stored (fixed in 3.41.1). Such a claim is not taken on trust either way:
/// the checker asks the table itself, and discounts the message only when the
/// library is an affected version, the table is WITHOUT ROWID, and a full scan
/// finds no NULL in that column. Any other message is a violation.
public enum IntegrityCheck {
    /// The versions with the false "NULL value in" report.
    public static let falseNullReportVersions = Version(3, 40, 0)..<Version(3, 41, 1)

    /// A `(table, column)` pair when `message` claims a NULL in a NOT NULL column.
    public static func nullClaim(in message: String) -> (table: String, column: String)? {
        let prefix = "NULL value in "
        guard message.hasPrefix(prefix) else { return nil }
        let rest = message.dropFirst(prefix.count)
        guard let dot = rest.lastIndex(of: ".") else { return nil }
        return (String(rest[..<dot]), String(rest[rest.index(after: dot)...]))
    }

    /// Whether the running library has the false NULL report.
    public static var libraryHasFalseNullReport: Bool {
        Version(Connection.libraryVersion).map(falseNullReportVersions.contains) ?? false
    }

    /// The query that settles a NULL claim: 1 when the table is WITHOUT ROWID and
    /// a scan of the table itself finds no NULL in the column, else 0.
    ///
    /// `typeof(c) = 'null'` rather than `c IS NULL`: SQLite folds `IS NULL` on a
    /// NOT NULL column to false without looking at the data.
    public static func verificationQuery(table: String, column: String) -> String {
        "SELECT coalesce((SELECT wr FROM pragma_table_list WHERE name = \(SQLValue.text(table).sqlLiteral)), 0) = 1 "
            + "AND NOT EXISTS (SELECT 1 FROM \(quoteIdentifier(table)) NOT INDEXED "
            + "WHERE typeof(\(quoteIdentifier(column))) = 'null')"
    }
}

/// A SQLite version, comparable.
public struct Version: Comparable, Sendable, CustomStringConvertible {
    public let parts: [Int]
    public init(_ major: Int, _ minor: Int, _ patch: Int) { parts = [major, minor, patch] }
    public init?(_ text: String) {
        let parts = text.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        self.parts = parts
    }
    public static func < (a: Version, b: Version) -> Bool { a.parts.lexicographicallyPrecedes(b.parts) }
    public var description: String { parts.map(String.init).joined(separator: ".") }
}
