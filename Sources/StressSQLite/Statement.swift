import CSQLite

/// A prepared statement. Finalized when the last reference goes away.
///
/// Text and blob columns are copied out as they are read, so values stay
/// valid after the next `step()`.
public final class Statement {
    let handle: OpaquePointer
    /// The SQL the statement was prepared from.
    public let sql: String

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// The number of result columns (0 for most writes without RETURNING).
    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    /// Advances to the next row. Returns `true` when a row is available and
    /// `false` when the statement is done; throws on any other result.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            // The statement's own connection: still there after `Connection.close()`
            // (a zombie until its last statement is finalized), unlike the handle of the wrapper.
            let db = sqlite3_db_handle(handle)
            throw SQLiteError(code: sqlite3_extended_errcode(db), connection: db, sql: sql)
        }
    }

    /// Resets the statement and clears its bindings, ready for reuse.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds `value` to the 1-based parameter `index`.
    public func bind(_ value: SQLValue, at index: Int) {
        precondition(index >= 1 && index <= Int(sqlite3_bind_parameter_count(handle)), "bind index out of range")
        let position = Int32(index)
        let code: Int32
        switch value {
        case .null: code = sqlite3_bind_null(handle, position)
        case .integer(let v): code = sqlite3_bind_int64(handle, position, v)
        case .real(let v): code = sqlite3_bind_double(handle, position, v)
        case .text(let v): code = sqlite3_bind_text(handle, position, v, -1, sqliteTransient)
        case .blob(let bytes):
            code = bytes.withUnsafeBytes { raw in
                sqlite3_bind_blob64(handle, position, raw.baseAddress, sqlite3_uint64(raw.count), sqliteTransient)
            }
        }
        precondition(code == SQLITE_OK, "binding failed with code \(code)")
    }

    /// Binds `values` to parameters 1…n.
    public func bind(_ values: [SQLValue]) {
        for (offset, value) in values.enumerated() { bind(value, at: offset + 1) }
    }

    /// The value of column `index` in the current row.
    public func column(_ index: Int) -> SQLValue {
        let i = Int32(index)
        switch sqlite3_column_type(handle, i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, i))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(handle, i) else { return .text("") }
            let count = Int(sqlite3_column_bytes(handle, i))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, i))
            guard count > 0, let bytes = sqlite3_column_blob(handle, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    /// Integer value of column `index` (SQLite's conversion rules apply).
    public func int64(_ index: Int) -> Int64 { sqlite3_column_int64(handle, Int32(index)) }

    /// Text value of column `index`, or nil for NULL.
    public func text(_ index: Int) -> String? {
        guard let text = sqlite3_column_text(handle, Int32(index)) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// A column's storage class in the current row.
    public enum ColumnType: Sendable, Equatable {
        case integer, real, text, blob, null

        /// The storage class SQLite's type code (`SQLITE_INTEGER` …) names.
        init(code: Int32) {
            switch code {
            case SQLITE_INTEGER: self = .integer
            case SQLITE_FLOAT: self = .real
            case SQLITE_TEXT: self = .text
            case SQLITE_BLOB: self = .blob
            default: self = .null
            }
        }
    }

    /// The storage class of column `index` in the current row.
    public func columnType(_ index: Int) -> ColumnType { ColumnType(code: sqlite3_column_type(handle, Int32(index))) }

    /// Real value of column `index` (SQLite's conversion rules apply).
    public func double(_ index: Int) -> Double { sqlite3_column_double(handle, Int32(index)) }

    /// The stored bytes of a text (UTF-8) or blob column, without copying them.
    /// Valid only until the statement steps, resets or converts this column:
    /// read them at once. Empty for NULL and numbers (call it on text and blobs).
    public func unsafeBytes(_ index: Int) -> UnsafeRawBufferPointer {
        let value = value(index)
        return value.bytes(value.type)
    }

    /// All columns of the current row.
    public func row() -> [SQLValue] { (0..<columnCount).map(column) }

    /// Column `index` of the current row as SQLite holds it, reached with one
    /// call into the library; its type and contents are then read without
    /// another (each `sqlite3_column_*` call checks the statement and the
    /// library's state again, which a loop over every column of every row pays
    /// for). Valid only until the statement steps, resets or converts this
    /// column: read it at once, on the statement's own thread (SQLite's
    /// "unprotected" value, which only that thread may read).
    public func value(_ index: Int) -> Value { Value(handle: sqlite3_column_value(handle, Int32(index))) }

    /// A column of the current row (see `value(_:)`).
    public struct Value {
        let handle: OpaquePointer?

        /// Its storage class.
        public var type: ColumnType { ColumnType(code: sqlite3_value_type(handle)) }

        /// As an integer (SQLite's conversion rules apply).
        public var int64: Int64 { sqlite3_value_int64(handle) }

        /// As a real (SQLite's conversion rules apply).
        public var double: Double { sqlite3_value_double(handle) }

        /// The stored bytes of a text (UTF-8) or blob value whose type the caller
        /// has just read, without copying them; empty for NULL and numbers.
        public func bytes(_ type: ColumnType) -> UnsafeRawBufferPointer {
            let start: UnsafeRawPointer?
            switch type {
            case .text: start = sqlite3_value_text(handle).map { UnsafeRawPointer($0) }
            case .blob: start = sqlite3_value_blob(handle)
            default: return UnsafeRawBufferPointer(start: nil, count: 0)
            }
            // sqlite3_value_bytes after the pointer: the documented order that avoids a conversion.
            let count = Int(sqlite3_value_bytes(handle))
            return UnsafeRawBufferPointer(start: count == 0 ? nil : start, count: count)
        }
    }
}

@available(*, unavailable)
extension Statement: Sendable {}
