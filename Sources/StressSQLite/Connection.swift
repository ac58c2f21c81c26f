import CSQLite

/// A connection to one SQLite database.
///
/// Not thread-safe by design: one thread uses a connection at a time, so
/// every connection is opened without SQLite's per-connection mutex
/// (`SQLITE_OPEN_NOMUTEX`). That is also what `Statement.value(_:)` needs: a
/// column read as SQLite's "unprotected" value, which SQLite built with
/// `SQLITE_DEBUG` asserts is read under the connection's mutex, if it has one.
/// `close()` is explicit and idempotent; `deinit` closes a connection left open.
public final class Connection {
    /// How to open a database file. See <https://www.sqlite.org/c3ref/open.html>.
    public struct OpenFlags: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let readOnly = OpenFlags(rawValue: SQLITE_OPEN_READONLY)
        public static let readWrite = OpenFlags(rawValue: SQLITE_OPEN_READWRITE)
        public static let create = OpenFlags(rawValue: SQLITE_OPEN_CREATE)
        public static let uri = OpenFlags(rawValue: SQLITE_OPEN_URI)
    }

    private(set) var handle: OpaquePointer?
    /// The path the connection was opened with.
    public let path: String

    private let flags: OpenFlags
    private var busyTimeout = 0
    private var keepsWAL = false

    /// Opens `path` through the VFS named `vfs` (nil: the default one).
    /// Extended result codes are always on, the connection's mutex always off.
    public init(path: String, flags: OpenFlags = [.readWrite, .create], vfs: String? = nil) throws(SQLiteError) {
        self.path = path
        self.flags = flags
        var db: OpaquePointer?
        let code = sqlite3_open_v2(path, &db, flags.rawValue | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX, vfs)
        guard code == SQLITE_OK, let db else {
            let error = SQLiteError(code: code, connection: db, sql: nil)
            sqlite3_close_v2(db)  // A failed open still allocates a handle.
            throw error
        }
        handle = db
    }

    deinit { close() }

    /// Closes the connection. Statements still alive keep the handle until
    /// they are finalized (`sqlite3_close_v2`). Calling it again does nothing.
    public func close() {
        guard let db = handle else { return }
        sqlite3_close_v2(db)
        handle = nil
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { handle == nil }

    private var db: OpaquePointer {
        guard let handle else { preconditionFailure("use of a closed connection") }
        return handle
    }

    /// Compiles one SQL statement.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard code == SQLITE_OK else {
            throw SQLiteError(code: sqlite3_extended_errcode(db), connection: db, sql: sql)
        }
        guard let statement else {
            // Only whitespace or a comment: nothing to run.
            throw SQLiteError(code: .misuse, message: "no statement in SQL", sql: sql)
        }
        return Statement(handle: statement, sql: sql)
    }

    /// Runs one or more statements, discarding any rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard code == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            throw SQLiteError(code: ResultCode(rawValue: sqlite3_extended_errcode(db)), message: message, sql: sql)
        }
    }

    /// Runs a single statement to completion and returns every row.
    public func query(_ sql: String, _ arguments: [SQLValue] = []) throws(SQLiteError) -> [[SQLValue]] {
        let statement = try prepare(sql)
        statement.bind(arguments)
        var rows: [[SQLValue]] = []
        while try statement.step() { rows.append(statement.row()) }
        return rows
    }

    /// The first column of the first row, or nil when there is no row.
    public func scalar(_ sql: String, _ arguments: [SQLValue] = []) throws(SQLiteError) -> SQLValue? {
        let statement = try prepare(sql)
        statement.bind(arguments)
        return try statement.step() ? statement.column(0) : nil
    }

    /// Sets how long SQLite retries a locked database before returning SQLITE_BUSY.
    public func setBusyTimeout(milliseconds: Int) {
        busyTimeout = milliseconds
        sqlite3_busy_timeout(db, Int32(clamping: milliseconds))
    }

    /// Leaves a WAL file as it is when this connection closes. Otherwise the
    /// last connection to close checkpoints the WAL into the database and
    /// removes it (and the WAL index): a reader that must leave the files as it
    /// found them — the evidence a crash left — keeps it. Siblings keep it too.
    public func keepWALOnClose() {
        sqlite_stress_db_config_int(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nil)
        keepsWAL = true
    }

    /// What it takes to open another connection like this one, on another thread.
    public struct Sibling: Sendable {
        let path: String
        let flags: OpenFlags
        let vfs: String?
        let busyTimeout: Int
        let keepsWAL: Bool

        /// Opens the connection: same file, flags, VFS, busy timeout and WAL on close.
        public func open() throws(SQLiteError) -> Connection {
            let connection = try Connection(path: path, flags: flags, vfs: vfs)
            connection.setBusyTimeout(milliseconds: busyTimeout)
            if keepsWAL { connection.keepWALOnClose() }
            return connection
        }
    }

    /// How to open another connection to this database as this one was opened
    /// (its VFS included), for a thread of its own.
    public var sibling: Sibling {
        var vfs: UnsafeMutablePointer<sqlite3_vfs>?
        let named = sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) == SQLITE_OK
        return Sibling(
            path: path, flags: flags, vfs: named ? vfs.flatMap { $0.pointee.zName.map { String(cString: $0) } } : nil,
            busyTimeout: busyTimeout, keepsWAL: keepsWAL)
    }

    /// Whether no transaction is open. SQLite may roll a transaction back on
    /// its own (SQLITE_FULL, SQLITE_IOERR, OR ROLLBACK); this says so.
    public var isAutocommit: Bool { sqlite3_get_autocommit(db) != 0 }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes64(db)) }

    /// The version of the SQLite library in use, e.g. "3.40.1".
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    /// Whether the library was compiled with `SQLITE_<option>`, e.g. "ENABLE_PREUPDATE_HOOK".
    public static func isCompiled(with option: String) -> Bool {
        sqlite3_compileoption_used(option) != 0
    }
}

@available(*, unavailable)
extension Connection: Sendable {}
