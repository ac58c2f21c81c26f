#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLite

/// The SQLite library a process runs on: what it says it is (version, source
/// id) and the file the dynamic linker loaded it from.
///
/// sqlite-stress links `libsqlite3.so.0` by its soname, so which file that is
/// depends on the dynamic linker's search (LD_LIBRARY_PATH first). `loaded`
/// asks where `sqlite3_libversion` really lives; `probe(directory:)` checks a
/// candidate library on its own before the process is asked to run on it.
public struct SQLiteLibrary: Sendable, Equatable, Encodable {
    /// `sqlite3_libversion()`, e.g. "3.50.4".
    public let version: String
    /// `sqlite3_sourceid()`: the check-in date and hash the library was built from.
    public let sourceId: String
    /// The file it was loaded from, as the dynamic linker names it.
    public let path: String

    public init(version: String, sourceId: String, path: String) {
        self.version = version
        self.sourceId = sourceId
        self.path = path
    }

    /// The library this process is linked to.
    public static let loaded: SQLiteLibrary = {
        let path = sqlite_stress_library_path().map { String(cString: $0) } ?? "(unknown)"
        return SQLiteLibrary(
            version: String(cString: sqlite3_libversion()), sourceId: String(cString: sqlite3_sourceid()), path: path)
    }()

    /// One line for a report: "3.50.4, source id 2025-07-30 19:33:53 4d8a…, from /x/libsqlite3.so.0".
    public var summary: String { "\(version), source id \(sourceId), from \(path)" }

    /// The file name sqlite-stress loads from a directory given to `--sqlite`.
    public static let fileName = "libsqlite3.so.0"

    /// Every SQLite function sqlite-stress calls. A library that lacks one
    /// cannot stand in for the one it was built against (a test holds this
    /// list to the binary's undefined `sqlite3_` symbols).
    public static let requiredSymbols = [
        "sqlite3_bind_blob64", "sqlite3_bind_double", "sqlite3_bind_int64", "sqlite3_bind_null",
        "sqlite3_bind_parameter_count", "sqlite3_bind_text", "sqlite3_busy_timeout", "sqlite3_changes64",
        "sqlite3_clear_bindings", "sqlite3_close_v2", "sqlite3_column_blob", "sqlite3_column_bytes",
        "sqlite3_column_count", "sqlite3_column_double", "sqlite3_column_int64", "sqlite3_column_text",
        "sqlite3_column_type", "sqlite3_column_value", "sqlite3_compileoption_used", "sqlite3_config",
        "sqlite3_db_config", "sqlite3_db_handle", "sqlite3_errmsg", "sqlite3_errstr", "sqlite3_exec",
        "sqlite3_extended_errcode", "sqlite3_file_control", "sqlite3_finalize", "sqlite3_free",
        "sqlite3_get_autocommit", "sqlite3_libversion", "sqlite3_libversion_number", "sqlite3_open_v2",
        "sqlite3_prepare_v2", "sqlite3_reset", "sqlite3_snprintf", "sqlite3_sourceid", "sqlite3_step",
        "sqlite3_threadsafe", "sqlite3_value_blob", "sqlite3_value_bytes", "sqlite3_value_double",
        "sqlite3_value_int64", "sqlite3_value_text", "sqlite3_value_type", "sqlite3_vfs_find", "sqlite3_vfs_register",
    ]

    /// The oldest SQLite sqlite-stress runs on: `sqlite3_changes64` and
    /// `SQLITE_OPEN_EXRESCODE` arrived in 3.37.0 (RETURNING in 3.35.0).
    public static let minimumVersion = (text: "3.37.0", number: Int32(3_037_000))

    /// Features the workload and the oracle cannot do without, by the
    /// `SQLITE_OMIT_*` option that would remove them.
    static let omissionsThatBreakTheTool = [
        "OMIT_WAL", "OMIT_TRIGGER", "OMIT_AUTOVACUUM", "OMIT_INTEGRITY_CHECK", "OMIT_UPSERT", "OMIT_CHECK",
        "OMIT_SUBQUERY", "OMIT_PRAGMA",
        // What the generated schemas and the schema changes use.
        "OMIT_ALTERTABLE", "OMIT_VACUUM", "OMIT_VIEW", "OMIT_FOREIGN_KEY", "OMIT_GENERATED_COLUMNS", "OMIT_JSON",
        "OMIT_AUTOINCREMENT", "OMIT_REINDEX", "OMIT_ANALYZE",
    ]

    /// Why a library with these traits cannot run sqlite-stress, or nil.
    static func shortcoming(versionNumber: Int32, version: String, threadsafe: Int32, uses: (String) -> Bool) -> String? {
        if versionNumber < minimumVersion.number {
            return "is SQLite \(version); sqlite-stress needs \(minimumVersion.text) or newer"
        }
        if threadsafe == 0 {
            return "was built with SQLITE_THREADSAFE=0; sqlite-stress runs a connection per thread and needs 1 or 2"
        }
        // The JSON functions are built in from 3.38.0; 3.37 has them only with SQLITE_ENABLE_JSON1.
        if versionNumber < 3_038_000, !uses("ENABLE_JSON1") {
            return "was built without the JSON functions (SQLite \(version) has them only with SQLITE_ENABLE_JSON1), which sqlite-stress uses"
        }
        let omitted = omissionsThatBreakTheTool.filter(uses)
        if !omitted.isEmpty {
            return "was built with " + omitted.map { "SQLITE_" + $0 }.joined(separator: ", ")
                + ", which sqlite-stress needs"
        }
        return nil
    }

    /// Turns off SQLite's memory statistics for this process, before SQLite
    /// initializes; false when it already had (`sqlite3_config` is then refused).
    ///
    /// With them on (SQLite's default), every allocation SQLite makes takes one
    /// process-wide mutex to count it, and the threads of a process that each run
    /// a connection (stress's writers, `check`'s second thread, the check of a
    /// VACUUM INTO copy) queue on it. Nothing sqlite-stress does reads the counts
    /// (`sqlite3_memory_used`, `sqlite3_status`), the workload sets no heap
    /// limit, and SQLite's own documentation recommends this setting
    /// (`SQLITE_DEFAULT_MEMSTATUS=0`) for speed; it changes no result of any
    /// statement.
    public static func stopMemoryStatistics() -> Bool {
        sqlite_stress_config_memstatus(0) == SQLITE_OK
    }

    /// Why the linked library cannot run sqlite-stress, or nil.
    public static var loadedShortcoming: String? {
        shortcoming(
            versionNumber: sqlite3_libversion_number(), version: loaded.version, threadsafe: sqlite3_threadsafe(),
            uses: { sqlite3_compileoption_used($0) != 0 })
    }

    /// Why a library cannot stand in, in words that finish the sentence "DIR/libsqlite3.so.0 …".
    public struct Unusable: Error, Sendable {
        public let reason: String
    }

    /// Loads `directory/libsqlite3.so.0` on its own (RTLD_LOCAL, so nothing in
    /// this process starts using it), checks it exports every function in
    /// `requiredSymbols`, is new enough and was not built without what the tool
    /// needs, then unloads it. Returns what it says it is.
    public static func probe(directory: String) -> Result<SQLiteLibrary, Unusable> {
        let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            return .failure(Unusable(reason: "is not a loadable library (\(reason))"))
        }
        defer { dlclose(handle) }
        let missing = requiredSymbols.filter { dlsym(handle, $0) == nil }
        guard missing.count < requiredSymbols.count else {
            return .failure(Unusable(reason: "has no sqlite3_* functions; it is not an SQLite library"))
        }
        guard missing.isEmpty else {
            let named = missing.prefix(4).joined(separator: ", ") + (missing.count > 4 ? " and \(missing.count - 4) more" : "")
            return .failure(Unusable(reason: "lacks \(named), which sqlite-stress calls (SQLite \(minimumVersion.text) or newer has them)"))
        }
        typealias Text = @convention(c) () -> UnsafePointer<CChar>?
        typealias Number = @convention(c) () -> Int32
        typealias Uses = @convention(c) (UnsafePointer<CChar>?) -> Int32
        let libversion = unsafeBitCast(dlsym(handle, "sqlite3_libversion"), to: Text.self)
        let sourceid = unsafeBitCast(dlsym(handle, "sqlite3_sourceid"), to: Text.self)
        let versionNumber = unsafeBitCast(dlsym(handle, "sqlite3_libversion_number"), to: Number.self)
        let threadsafe = unsafeBitCast(dlsym(handle, "sqlite3_threadsafe"), to: Number.self)
        let used = unsafeBitCast(dlsym(handle, "sqlite3_compileoption_used"), to: Uses.self)
        let version = libversion().map { String(cString: $0) } ?? "?"
        if let reason = shortcoming(
            versionNumber: versionNumber(), version: version, threadsafe: threadsafe(), uses: { used($0) != 0 })
        {
            return .failure(Unusable(reason: reason))
        }
        return .success(SQLiteLibrary(
            version: version, sourceId: sourceid().map { String(cString: $0) } ?? "?", path: path))
    }
}
