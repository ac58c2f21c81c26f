import CSQLite

/// An error reported by SQLite: the extended result code, SQLite's message
/// taken at the moment of failure, and the SQL that was running.
///
/// Match on the code, never on the message text, which changes across
/// SQLite versions: `catch let error as SQLiteError where error.code.primary == .busy`.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: ResultCode
    public let message: String
    public let sql: String?

    public init(code: ResultCode, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    init(code: Int32, connection: OpaquePointer?, sql: String?) {
        self.code = ResultCode(rawValue: code)
        if let connection, let cString = sqlite3_errmsg(connection) {
            self.message = String(cString: cString)
        } else {
            self.message = String(cString: sqlite3_errstr(code))
        }
        self.sql = sql
    }

    /// The database is locked by another connection (SQLITE_BUSY or SQLITE_LOCKED):
    /// trouble a concurrent workload expects.
    public var isBusy: Bool { code.primary == .busy || code.primary == .locked }

    /// The file is damaged (SQLITE_CORRUPT or SQLITE_NOTADB).
    public var isCorruption: Bool { code.primary == .corrupt || code.primary == .notADatabase }

    /// What a sick disk gives: an I/O error, a full disk, a file that cannot be opened.
    public var isStorageTrouble: Bool {
        code.primary == .ioerr || code.primary == .full || code.primary == .cantOpen
    }

    /// What an I/O error on a WAL database's shared-memory file most often
    /// means, which its own text ("disk I/O error") never says; nil for others.
    public var storageHint: String? {
        switch code.rawValue {
        case SQLITE_IOERR | (18 << 8):
            "SQLite could not open the -shm file beside the WAL database: a directory it cannot write, most often"
        case SQLITE_IOERR | (19 << 8), SQLITE_IOERR | (21 << 8):
            "SQLite could not grow or map the -shm file beside the WAL database: a full disk, most often"
        default: nil
        }
    }

    public var description: String {
        var text = "SQLite error \(code.rawValue) (\(code.name)): \(message)"
        if let sql {
            let shown = sql.count > 200 ? String(sql.prefix(200)) + "…" : sql
            text += " — while executing `\(shown)`"
        }
        return text
    }
}
