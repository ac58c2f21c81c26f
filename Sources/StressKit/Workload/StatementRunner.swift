import StressSQLite

/// The one place a logged statement runs: it runs the statement to completion,
/// says its result in the SQL log's words, writes its log line, and sorts its
/// error into what the run counts. The workers, the setup (through its worker)
/// and `replay` all go through it, so the result a replay compares is rendered
/// by the very code that wrote the log.
///
/// A statement's line is `<sql>; -- <writer> <transaction> <result>`, where the
/// result is `ok`, then ` changes=N` for a DML statement (`isDML`) and ` rows=N`
/// when it returned rows, or the error's code name (`SQLITE_BUSY`, …).
struct StatementRunner {
    /// The result of one statement.
    enum Outcome {
        /// `changes` is `sqlite3_changes` for a DML statement, nil for any other.
        case ok(rows: Int, changes: Int?)
        case failed(SQLiteError)

        var error: SQLiteError? {
            if case .failed(let error) = self { return error }
            return nil
        }

        /// The result in the log's words: `ok`, `ok changes=1`, `ok rows=3`, `SQLITE_BUSY`, ….
        var result: String {
            var text = ""
            appendResult(to: &text)
            return text
        }

        /// Appends `result` to `out`.
        func appendResult(to out: inout String) {
            switch self {
            case .ok(let rows, let changes):
                out += "ok"
                if let changes {
                    out += " changes="
                    out += String(changes)
                }
                if rows > 0 {
                    out += " rows="
                    out += String(rows)
                }
            case .failed(let error):
                out += error.code.name
            }
        }
    }

    /// What separates a statement from its comment on a log line. The comment
    /// never contains it, so the last one on a line starts the comment.
    static let commentMarker = "; -- "

    let log: SQLLog
    /// The writer the lines name (`t0`, `setup`, a driver's label).
    let writer: String

    /// Runs `sql` on `connection` to completion, handing each row to `row`, and
    /// appends its line to the log (in transaction `transaction`). The log's
    /// buffer is written before a statement that may make effects durable
    /// (`mayMakeDurable`), and the line of one that left no transaction open
    /// right after it (`SQLLog`): the lines that wait are those of an open
    /// transaction, and, in a log with one writer (`SQLLog.soleWriter`), those
    /// of statements that cannot have made anything durable (`mayHaveMadeDurable`).
    /// Returns the outcome and the line's number.
    func execute(
        _ sql: String, on connection: Connection, transaction: String, row: ((Statement) -> Void)? = nil
    ) -> (outcome: Outcome, logLine: Int) {
        let autocommit = connection.isAutocommit
        if Self.flushesBefore(sql, autocommit: autocommit, soleWriter: log.soleWriter) { log.flush() }
        let outcome = Self.run(sql, on: connection, row: row)
        let flush = connection.isAutocommit && (!log.soleWriter || Self.mayHaveMadeDurable(sql, autocommit: autocommit))
        let logLine = log.append(Self.line(sql, writer: writer, transaction: transaction, outcome), flush: flush)
        return (outcome, logLine)
    }

    /// Runs `sql` on `connection` to completion, unlogged (the replay logs nothing).
    static func run(_ sql: String, on connection: Connection, row: ((Statement) -> Void)? = nil) -> Outcome {
        do throws(SQLiteError) {
            let statement = try connection.prepare(sql)
            var rows = 0
            while try statement.step() {
                rows += 1
                row?(statement)
            }
            return .ok(rows: rows, changes: isDML(sql) ? connection.changes : nil)
        } catch {
            return .failed(error)
        }
    }

    /// A statement's log line.
    static func line(_ sql: String, writer: String, transaction: String, _ outcome: Outcome) -> String {
        // One allocation: every statement of a run takes this path (a result is
        // at most `ok changes=N rows=N`, or an error's code name).
        var line = ""
        line.reserveCapacity(sql.utf8.count + commentMarker.utf8.count + writer.utf8.count + transaction.utf8.count + 64)
        line += sql
        line += commentMarker
        line += writer
        line += " "
        line += transaction
        line += " "
        outcome.appendResult(to: &line)
        return line
    }

    /// COMMIT, END or RELEASE: may end a transaction and make its effects durable.
    static func mayCommit(_ sql: String) -> Bool {
        sql.hasPrefix("COMMIT") || sql.hasPrefix("END") || sql.hasPrefix("RELEASE")
    }

    /// Whether `sql` may end the open transaction when it succeeds: COMMIT,
    /// END, ROLLBACK (not ROLLBACK TO), or RELEASE of the savepoint whose
    /// SAVEPOINT opened the transaction (`openedBy`; nil when BEGIN opened it,
    /// and then no RELEASE ends it). Savepoint names compare as SQLite compares
    /// them, ignoring case; a RELEASE whose name cannot be read may end it.
    /// After any other statement that succeeded, the transaction is still open,
    /// unless SQLite ended it on its own.
    static func mayEndTransaction(_ sql: String, openedBy savepoint: String?) -> Bool {
        if isRollback(sql) { return true }
        guard mayCommit(sql) else { return false }
        guard sql.hasPrefix("RELEASE") else { return true }  // COMMIT, END.
        guard let savepoint else { return false }
        guard let released = savepointName(sql, after: "RELEASE") else { return true }
        return released.lowercased() == savepoint.lowercased()
    }

    /// The savepoint `sql` names when it is `SAVEPOINT name`: the name of one
    /// that opens a transaction, for `mayEndTransaction`. Nil for any other statement.
    static func openedSavepoint(_ sql: String) -> String? {
        sql.hasPrefix("SAVEPOINT ") ? savepointName(sql, after: "SAVEPOINT") : nil
    }

    /// The plain name after `keyword` (and an optional `SAVEPOINT`) in `sql`,
    /// e.g. `tx` in `RELEASE SAVEPOINT tx`; nil when it is not one plain word.
    private static func savepointName(_ sql: String, after keyword: String) -> String? {
        var words = sql.dropFirst(keyword.count).split(separator: " ", omittingEmptySubsequences: true)
        if words.count == 2, words[0].uppercased() == "SAVEPOINT" { words.removeFirst() }
        guard words.count == 1, let name = words.first,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else { return nil }
        return String(name)
    }

    /// Whether `sql`, run on a connection in autocommit mode or not, may commit
    /// a change to the database: COMMIT, END or RELEASE, or in autocommit mode
    /// any statement but those that cannot commit one: BEGIN and SAVEPOINT (they
    /// open a transaction), and the bookkeeping's statements on the
    /// connection's TEMP schema (`Bookkeeping.isConnectionStatement`). Erring
    /// towards "may" only costs a write of the log.
    static func mayMakeDurable(_ sql: String, autocommit: Bool) -> Bool {
        if mayCommit(sql) { return true }
        guard autocommit else { return false }
        return !(sql.hasPrefix("BEGIN") || sql.hasPrefix("SAVEPOINT") || Bookkeeping.isConnectionStatement(sql))
    }

    /// Whether the log's buffered lines are written before `sql` runs: before a
    /// statement that may make a change durable (`mayMakeDurable`), so that a
    /// kill never takes the lines of a committed change; and, in a log of
    /// several writers, before a ROLLBACK, while the transaction still holds
    /// its locks. Written after it, its lines could land after those of a
    /// writer that took the lock once it was free and committed, and a replay
    /// would run them after that commit, against a schema or rows the run's
    /// transaction never saw.
    static func flushesBefore(_ sql: String, autocommit: Bool, soleWriter: Bool) -> Bool {
        mayMakeDurable(sql, autocommit: autocommit) || (!soleWriter && !autocommit && isRollback(sql))
    }

    /// Whether `sql`, run on a connection in autocommit mode or not, may commit
    /// a ledger entry, which carries its writer's transaction id: any statement
    /// that may commit a change (`mayMakeDurable`) but a PRAGMA or a SELECT,
    /// which fire no trigger and write no entry. Before a driver's first such
    /// statement the reservation of its ids must be on stable storage
    /// (`AckLog.reserveWriter`); the statements before it (the connection's
    /// settings, the schema's read, the ledger's TEMP triggers) run while the
    /// reservation is synced. Erring towards "may" only costs a wait.
    static func mayCommitLedgerEntries(_ sql: String, autocommit: Bool) -> Bool {
        mayMakeDurable(sql, autocommit: autocommit) && !sql.hasPrefix("PRAGMA") && !sql.hasPrefix("SELECT")
    }

    /// Whether `sql`, which ran on a connection in autocommit mode or not
    /// (`autocommit`) and left it in autocommit mode, may have made a change
    /// durable. Run in autocommit mode: as `mayMakeDurable` says. Run inside a
    /// transaction: any statement but ROLLBACK (not ROLLBACK TO), which ends a
    /// transaction by undoing it; a statement after which SQLite ended the
    /// transaction on its own may have run on its own, and committed.
    static func mayHaveMadeDurable(_ sql: String, autocommit: Bool) -> Bool {
        autocommit ? mayMakeDurable(sql, autocommit: true) : !isRollback(sql)
    }

    /// ROLLBACK, not ROLLBACK TO: ends the transaction by undoing it.
    static func isRollback(_ sql: String) -> Bool {
        sql.hasPrefix("ROLLBACK") && !sql.hasPrefix("ROLLBACK TO")
    }

    /// INSERT, REPLACE, UPDATE or DELETE: the statements whose rows `sqlite3_changes`
    /// counts, decided by the statement's first word. After any other statement
    /// (ROLLBACK, RELEASE, REINDEX, DROP, a PRAGMA…) it still reports the last of
    /// those, which would be a stale count on that statement's line.
    static func isDML(_ sql: String) -> Bool {
        // The first word's letters, upper-cased, packed one byte each: no allocation on a path every statement takes.
        var word: UInt64 = 0
        var length = 0
        for byte in sql.utf8 {
            let upper = byte & 0xDF
            guard (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(upper) else { break }
            length += 1
            if length > 7 { return false }
            word = word << 8 | UInt64(upper)
        }
        return Self.dmlWords.contains(word)
    }

    /// INSERT, REPLACE, UPDATE and DELETE as `isDML` packs a word.
    private static let dmlWords: Set<UInt64> = Set(["INSERT", "REPLACE", "UPDATE", "DELETE"].map { word in
        word.utf8.reduce(0) { $0 << 8 | UInt64($1) }
    })

    // MARK: - Classifying errors

    /// What an error of a statement means to the run.
    enum Trouble: Equatable {
        /// Expected trouble, counted in `counter` (busy, locked, constraint, full disk, I/O).
        case counted(Counter)
        /// An error a schema change by another connection explains (SQLITE_ERROR,
        /// SQLITE_SCHEMA, or the ledger triggers' guard); whether one happened is
        /// for the caller to settle.
        case schema
        /// SQLITE_CORRUPT or SQLITE_NOTADB: an integrity violation, reported, not counted.
        case corruption
        /// An error a healthy SQLite does not give this workload: a tool bug or an environment problem.
        case unexpected
    }

    /// Sorts `error`. `faultsInjected`: the run's writers go through the
    /// fault-injecting VFS, where a journal that cannot be opened after the
    /// power failed is I/O trouble.
    static func classify(_ error: SQLiteError, faultsInjected: Bool) -> Trouble {
        if error.code.primary == .error || error.code.primary == .schema
            || (error.code == .constraintTrigger && error.message == Bookkeeping.schemaChangedMessage) {
            return .schema
        }
        switch error.code.primary {
        case .busy: return .counted(.busyErrors)
        case .locked: return .counted(.lockedErrors)
        case .constraint: return .counted(.constraintErrors)
        case .full: return .counted(.fullErrors)
        case .ioerr: return .counted(.ioErrors)
        case .cantOpen where faultsInjected: return .counted(.ioErrors)
        case .corrupt, .notADatabase: return .corruption
        default: return .unexpected
        }
    }
}
