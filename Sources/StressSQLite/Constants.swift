import CSQLite

/// `SQLITE_TRANSIENT`: SQLite copies bound text and blobs before the call returns.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
