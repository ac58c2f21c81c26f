import CSQLite
import Foundation
import Testing

@testable import StressSQLite

@Suite struct ConnectionTests {
    // Every storage class survives binding and reading back unchanged.
    @Test func valuesRoundTripThroughBinding() throws {
        let db = try Connection(path: ":memory:")
        let values: [SQLValue] = [
            .null, .integer(0), .integer(.min), .integer(.max), .real(-0.5), .real(.infinity),
            .text(""), .text("a'b\"c 💾"), .blob([]), .blob([0, 1, 255]),
        ]
        for value in values {
            let read = try db.scalar("SELECT ?", [value])
            // SQLite returns a zero-length blob as an empty blob.
            #expect(read == value, "\(value) came back as \(String(describing: read))")
        }
    }

    // A column read in place (`Statement.value`) is what `column` copies out: the
    // check compares every row through it.
    @Test func valuesReadInPlaceAreTheColumns() throws {
        let db = try Connection(path: ":memory:")
        let values: [SQLValue] = [
            .null, .integer(.min), .integer(7), .real(-0.5), .text(""), .text("a'b 💾"), .blob([]), .blob([0, 1, 255]),
        ]
        let statement = try db.prepare("SELECT " + Array(repeating: "?", count: values.count).joined(separator: ", "))
        statement.bind(values)
        try #require(try statement.step())
        for (index, expected) in values.enumerated() {
            let value = statement.value(index)
            let read: SQLValue
            switch value.type {
            case .null: read = .null
            case .integer: read = .integer(value.int64)
            case .real: read = .real(value.double)
            case .text: read = .text(String(decoding: value.bytes(.text), as: UTF8.self))
            case .blob: read = .blob(Array(value.bytes(.blob)))
            }
            #expect(read == expected, "column \(index)")
            #expect(read == statement.column(index), "column \(index)")
        }
    }

    // Reading a column in place is reading SQLite's unprotected value, which a
    // SQLITE_DEBUG build of SQLite asserts happens under the connection's mutex
    // if it has one: so no connection has one, whatever it was opened for.
    @Test(arguments: [Connection.OpenFlags([.readWrite, .create]), [.readWrite], [.readOnly], [.readWrite, .create, .uri]])
    func connectionsHaveNoMutex(_ flags: Connection.OpenFlags) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("no-mutex-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("a.db").path
        try Connection(path: path).execute("CREATE TABLE t(x)")
        let db = try Connection(path: path, flags: flags)
        // The library is thread-safe (serialized by default), so a connection opened without
        // SQLITE_OPEN_NOMUTEX would have a mutex.
        #expect(sqlite3_threadsafe() != 0)
        #expect(sqlite3_db_mutex(db.handle) == nil)
        #expect(try db.scalar("SELECT count(*) FROM t") == .integer(0))
    }

    // A value's SQL literal, parsed by SQLite, is the same value: the SQL log depends on it.
    @Test(arguments: [
        SQLValue.integer(.min), .integer(.max), .integer(-1), .real(0.1), .real(-1e-300), .real(1.7976931348623157e308),
        .real(.leastNonzeroMagnitude), .real(.infinity), .real(-.infinity), .real(3.0), .text("it's"), .text(""),
        .text("日本語"), .text("'"), .text("''"), .text("'a'b''c'"), .text("'日本'語'"), .text("e'\u{301}'👍🏽'"),
        .blob([0xDE, 0xAD, 0xBE, 0xEF]), .blob([]), .null,
    ])
    func literalsParseBackToTheSameValue(_ value: SQLValue) throws {
        let db = try Connection(path: ":memory:")
        let read = try db.scalar("SELECT " + value.sqlLiteral)
        #expect(read == value, "\(value.sqlLiteral) parsed as \(String(describing: read))")
    }

    // Errors carry the extended code, SQLite's message and the SQL that failed.
    @Test func constraintErrorsCarryExtendedCodeAndSQL() throws {
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE t(a UNIQUE); INSERT INTO t VALUES (1)")
        let sql = "INSERT INTO t VALUES (1)"
        do {
            try db.execute(sql)
            Issue.record("a duplicate insert succeeded")
        } catch {
            #expect(error.code == .constraintUnique)
            #expect(error.code.primary == .constraint)
            #expect(error.sql == sql)
            #expect(!error.message.isEmpty)
            #expect(error.description.contains("SQLITE_CONSTRAINT_UNIQUE"))
        }
        let statement = try db.prepare(sql)
        #expect(throws: SQLiteError.self) { try statement.step() }
    }

    // A statement stepped after its connection was closed fails as what it is,
    // SQLITE_MISUSE: the error is read from the statement's own (zombie)
    // connection, not from the closed wrapper's nil handle (which says SQLITE_NOMEM).
    @Test func errorsAfterCloseNameTheirOwnCause() throws {
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE t(a UNIQUE); INSERT INTO t VALUES (1)")
        let statement = try db.prepare("INSERT INTO t VALUES (1)")
        db.close()
        #expect { try statement.step() } throws: { ($0 as? SQLiteError)?.code == .misuse }
    }

    // A blob in JSON must be an even number of hex digits; anything else is a
    // decoding error (stress_meta is read by every command), never a trap.
    @Test func malformedBlobHexIsADecodingError() throws {
        #expect(try JSONDecoder().decode(SQLValue.self, from: Data(#"{"blob": "00ff7A"}"#.utf8)) == .blob([0, 255, 0x7A]))
        for hex in ["abc", "0", "zz", "0g", "é0", "0 "] {
            #expect(throws: DecodingError.self, "\(hex)") {
                try JSONDecoder().decode(SQLValue.self, from: Data(#"{"blob": "\#(hex)"}"#.utf8))
            }
        }
    }

    // SQLite takes its process-wide configuration only before it initializes:
    // once a connection has opened, stopping the memory statistics is refused
    // (and `SQLiteChoice.activate`, which every sqlite-stress process runs
    // first, turns that refusal into an error rather than running on).
    @Test func memoryStatisticsCannotBeStoppedOnceSQLiteRuns() throws {
        let db = try Connection(path: ":memory:")
        _ = try db.scalar("SELECT 1")
        #expect(!SQLiteLibrary.stopMemoryStatistics())
    }

    // A syntax error fails at prepare time with SQLITE_ERROR.
    @Test func prepareRejectsBadSQL() throws {
        let db = try Connection(path: ":memory:")
        #expect { try db.prepare("SELEC 1") } throws: { ($0 as? SQLiteError)?.code == .error }
    }

    // Opening a non-database file fails when it is read, and a missing file without
    // .create fails at open; neither leaves the connection half-open.
    @Test func openFailuresThrow() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("missing.db").path
        #expect { try Connection(path: missing, flags: [.readWrite]) } throws: { ($0 as? SQLiteError)?.code.primary == .cantOpen }
        #expect(!FileManager.default.fileExists(atPath: missing))

        let text = directory.appendingPathComponent("text.db").path
        try Data(String(repeating: "not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: text))
        let db = try Connection(path: text, flags: [.readOnly])
        #expect { try db.scalar("SELECT count(*) FROM sqlite_schema") } throws: { ($0 as? SQLiteError)?.code == .notADatabase }
    }

    // close() is idempotent and reports the state.
    @Test func closeIsIdempotent() throws {
        let db = try Connection(path: ":memory:")
        db.close()
        db.close()
        #expect(db.isClosed)
    }

    // Transactions opened with BEGIN are visible through isAutocommit.
    @Test func autocommitTracksTransactions() throws {
        let db = try Connection(path: ":memory:")
        #expect(db.isAutocommit)
        try db.execute("BEGIN")
        #expect(!db.isAutocommit)
        try db.execute("ROLLBACK")
        #expect(db.isAutocommit)
    }

    // Result codes print their symbolic names, extended ones included.
    @Test func resultCodeNames() {
        #expect(ResultCode.busySnapshot.name == "SQLITE_BUSY_SNAPSHOT")
        #expect(ResultCode.busySnapshot.primary == .busy)
        #expect(ResultCode(rawValue: 5 | (99 << 8)).name == "SQLITE_BUSY(25349)")
    }

    // The oracle relies on the preupdate hook being compiled in.
    @Test func libraryHasThePreupdateHook() {
        #expect(Connection.isCompiled(with: "ENABLE_PREUPDATE_HOOK"))
        #expect(!Connection.libraryVersion.isEmpty)
    }
}
