#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import StressAntithesis

/// The SQL log: every executed statement, one per line, with the thread,
/// transaction and result in a trailing comment, e.g.
///
///     INSERT INTO "t0" ("c0") VALUES (1); -- t2 x17 ok changes=1
///
/// The `sqlite3` shell replays it as it is (comments are ignored, failing
/// statements are reported and skipped).
///
/// Lines reach the kernel whole, several to a `write(2)`: a line appended with
/// `flush: false` waits in a buffer until the next flush. The worker appends
/// that way inside a transaction, and flushes before any statement that may
/// make effects durable (one run in autocommit mode, COMMIT, RELEASE) and
/// right after one that left no transaction open; with several writers, also
/// before a ROLLBACK, while the transaction holds its locks, so that no other
/// writer's commit lands in the log ahead of what it did first
/// (`StatementRunner.flushesBefore`). So a killed run leaves a
/// complete log up to the last statement whose effect could be durable: what a
/// kill can take from the buffer is the uncommitted part of an open
/// transaction, which SQLite takes away too.
///
/// In a log with one writer (`soleWriter`: a single-threaded `stress`), the
/// line of a statement that left no transaction open but cannot have made
/// anything durable waits too: a ROLLBACK, and the bookkeeping's statements on
/// the connection's TEMP schema (`StatementRunner.mayHaveMadeDurable`). What a
/// kill takes with it then made nothing durable either (a vanished writer's
/// open transaction is one SQLite rolled back, as `replay` knows). With several
/// writers each such line is written at once: written late, it would land
/// after lines of other writers' later statements, and a replay would run them
/// in an order the run did not.
///
/// In a log that several processes append to (the drivers'), every write but
/// the one that begins the file starts with a form feed (`writeMark`), which
/// SQLite and the `sqlite3` shell read as white space. A process killed inside
/// a `write(2)` can leave part of a line (the kernel copies page by page and
/// stops between pages), and the next process's write then continues that
/// line: the mark says where the next write began, and a reader takes the
/// line after its last mark (`intact`), the fragment before it being a
/// killed writer's last, unfinished work.
///
/// A write that fails (a full disk) does not stop the run, but it is never
/// silent: the lost lines are counted in `losses`, a warning goes to stderr
/// once, the report names what a replay of the log would lack, and the next
/// write starts on a fresh line.
///
/// ## A bounded log
///
/// With a `limit`, the log is rotated once it passes that size: the file moves
/// to `<log>.1` (replacing an older one) and a fresh `<log>` begins with a
/// `continued` line, so a run keeps at most about twice `limit` of log on disk,
/// and always its newest part — where a failure shows. Rotation, not a cap that
/// stops writing: what a long run needs from its log is its end, and a rename
/// costs nothing where cutting the head off a file would copy it. After one
/// rotation nothing is lost: `<log>.1` then `<log>` is the whole log, and
/// `replay` reads them so (`files(of:)`). A second rotation drops the run's
/// first lines for good; the report names that as incomplete evidence.
///
/// Many processes may append to one log (a composed run's drivers). The one
/// that finds the file past its limit takes an exclusive `flock` on it, checks
/// that no other process rotated it meanwhile, and swaps a fresh file in with
/// one atomic `renameat2(RENAME_EXCHANGE)`, so that `<log>` always exists;
/// the others move to the new file when they next look (a process that still
/// writes to the old one adds its lines to `<log>.1`).
public final class SQLLog: Sendable {
    /// The first characters of every log this tool writes.
    public static let headerPrefix = "-- sqlite-stress "
    /// The header line naming the storage faults a run injected.
    public static let faultsPrefix = "-- faults: "
    /// The first line of a log whose earlier lines were rotated to `<log>.1`:
    /// `-- sqlite-stress continued at line N: …` (N: the line's number in the
    /// run's whole log, when one process wrote it), or `-- sqlite-stress continued: …`.
    public static let continuedPrefix = "-- sqlite-stress continued"
    /// The first line of a shared log a driver found missing or empty and
    /// started afresh (`schema` writes the header line first, so its earlier lines are gone).
    static let afreshLine = continuedPrefix + " afresh: the log was missing or empty when a driver began, so its earlier lines are gone"
    /// The log beside the database at `databasePath`, unless `--sql-log` names another.
    public static func path(for databasePath: String) -> String { databasePath + ".sql" }

    /// Checks, writing nothing, that a command can write the log at `path`:
    /// create it where it is missing, or overwrite (a new run) or append to (a
    /// driver) a log of this tool, or an empty file (a command killed between
    /// creating it and writing its first line), that it may write; a log of
    /// this tool that a new run would overwrite only when `replacing` (another
    /// run's log needs --overwrite). One sentence when it cannot.
    public static func checkWritable(at path: String, appending: Bool, replacing: Bool = true) throws(ToolError) {
        switch DatabaseFile.log(at: path, header: headerPrefix) {
        case .missing:
            try DatabaseFile.checkCreatable(path, what: "SQL log")
        case .directory:
            throw ToolError("the SQL log path \(path) is a directory.")
        case .foreign:
            throw ToolError("refusing to \(appending ? "append to" : "overwrite") \(path): it is not an SQL log written by sqlite-stress.")
        case .ours where !appending && !replacing:
            throw ToolError("\(path) already exists (an SQL log of sqlite-stress); pass --overwrite to replace it.")
        case .empty, .ours:
            guard access(path, W_OK) == 0 else { throw ToolError("the SQL log \(path) is not writable.") }
        }
    }

    /// The environment variable in which `compose` names each command it
    /// starts (`<run>-<sequence>`, the run's part random): a driver started by
    /// it names the command in its first line (`commandLine`), and the runner
    /// names it again once it has killed it (`killedLine`).
    public static let commandVariable = "SQLITE_STRESS_COMMAND"

    /// The command this process runs in (`commandVariable`), when `compose`
    /// named one a log line can carry (letters, digits and dashes only).
    static var command: String? {
        guard let value = getenv(commandVariable).map({ String(cString: $0) }), !value.isEmpty, value.count <= 64,
              value.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) })
        else { return nil }
        return value
    }

    /// The line a driver started by `compose` logs before its first
    /// statement, `-- <writer> connect command <command>`.
    static func commandLine(writer: String, command: String) -> String { "-- \(writer) connect \(commandWord) \(command)" }

    /// The line `compose` appends to a shared log once a command it killed has
    /// ended, with every process of its group: every line its drivers wrote is
    /// before it, and none comes after, so `replay` ends what they left open
    /// right there instead of waiting for a lock they can no longer free.
    static func killedLine(command: String) -> String { "-- \(commandWord) \(command) killed" }

    static let commandWord = "command"

    /// Appends `killedLine` to the log at `path` in one `write(2)` beginning
    /// with the write mark, when it is a log of sqlite-stress (a template's
    /// database may keep none, or its own elsewhere); nothing otherwise. A line
    /// that cannot be written (a full disk) is only a loss of speed to `replay`,
    /// which then waits as it did before, so the reason is returned, not thrown.
    public static func noteKilled(command: String, at path: String) -> String? {
        guard case .ours = DatabaseFile.log(at: path, header: headerPrefix) else { return nil }
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return "cannot open \(path): \(String(cString: strerror(errno)))" }
        defer { _ = Glibc.close(fd) }
        let bytes = Array((writeMark + killedLine(command: command) + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return written == bytes.count ? nil : "cannot write \(path): \(String(cString: strerror(errno)))"
    }

    /// The default `limit`: a long run keeps at most about twice this much log.
    public static let defaultLimit: Int64 = 1 << 30

    /// What happened to a writer's connection or transaction outside its
    /// statements, logged as `-- <writer> <transaction> <event>` so that
    /// `replay` can follow it.
    public enum Event: String, Sendable {
        /// The connection was closed and a new one opened.
        case reconnect
        /// The writer closed its connection at the end of its work.
        case disconnect
        /// The connection was dropped after a failed ROLLBACK (SQLite finishes the rollback).
        case abandoned = "connection abandoned after a failed ROLLBACK"
        /// SQLite ended the transaction on its own after an error.
        case rolledBackBySQLite = "rolled back by SQLite"
    }

    private struct State {
        var fd: Int32
        var lines = 0
        var pending = ""
        /// The last write failed, perhaps half way: the next starts on a fresh line.
        var mayEndMidLine = false
        /// Lines cut short by a failed write that a later write ended: in the
        /// file as lines, though not whole ones (counted in `unwrittenLines` too).
        var fragmentsEnded = 0
        var losses = Losses()
        /// The file's size as far as this process knows: its size when last
        /// looked at, plus what this process wrote since.
        var size: Int64 = 0
        /// The file's size when this process last looked at it.
        var sizeSeen: Int64 = 0
        /// The run line number of the current file's first line (one writer only).
        var firstLine = 1
        var rotation = Rotation()
        var rotationFailed = false
    }

    /// What rotation moved away from the log file: nothing, unless it passed its limit.
    public struct Rotation: Sendable, Equatable {
        /// Rotations this process made.
        public var count = 0
        /// Whether a rotation replaced an older `<log>.1`, whose lines are gone.
        public var droppedLines = false
        /// With one writer: the run line numbers now in `<log>.1` (the lines
        /// before them are gone when `droppedLines`), and the first in `<log>`.
        public var olderLines: ClosedRange<Int>?
    }

    /// Lines this process could not write, and whether the log could not be
    /// synced: what a replay of the log will lack. Empty when the log is whole.
    public struct Losses: Sendable, Equatable {
        public var unwrittenLines = 0
        public var unsynced = false
        /// The first error, as the system described it.
        public var error: String?

        public var isEmpty: Bool { unwrittenLines == 0 && !unsynced }
    }

    /// A buffer this long is written out even inside a transaction (memory stays flat).
    private static let bufferLimit = 1 << 16
    private let state: Mutex<State>
    public let path: String
    /// The size past which the log is rotated; nil: never.
    public let limit: Int64?
    /// Whether other processes may append to the file too (line numbers are this process's own).
    private let shared: Bool
    /// Whether one writer at a time appends to the log, in one process: the
    /// order of its lines is the order of execution however late each is written.
    public let soleWriter: Bool

    /// What begins each write to a log that several processes append to.
    public static let writeMark = "\u{0C}"

    /// A line of the log as its writer wrote it: after the last write mark,
    /// without the fragment a killed writer left before it.
    static func intact(_ line: Substring) -> Substring {
        guard let mark = line.utf8.lastIndex(of: writeMarkByte) else { return line }
        return line[line.utf8.index(after: mark)...]
    }

    /// Where the intact line (`intact`) of a line's bytes begins.
    static func intactStart(_ line: ArraySlice<UInt8>) -> Int {
        line.lastIndex(of: writeMarkByte).map { $0 + 1 } ?? line.startIndex
    }

    private static let writeMarkByte: UInt8 = 0x0C

    /// Where a rotated log's earlier lines go.
    public static func olderPath(of path: String) -> String { path + ".1" }

    /// Creates (or truncates, removing an old `<log>.1`) the log at `path`; with
    /// `append`, adds to it, as the many processes of a composed run do (each
    /// line is one `write(2)` with O_APPEND); a shared log that is missing or
    /// empty begins with `afreshLine`. With `limit`, rotates it past that size.
    /// `soleWriter`: one writer at a time appends, in this process (never with `append`).
    public init(path: String, append: Bool = false, limit: Int64? = nil, soleWriter: Bool = false) throws(ToolError) {
        let fd = open(path, O_WRONLY | O_CREAT | (append ? 0 : O_TRUNC) | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ToolError("cannot create the SQL log at \(path): \(String(cString: strerror(errno))).")
        }
        if !append { _ = unlink(Self.olderPath(of: path)) }  // A new run's log: an older run's lines are not its own.
        self.path = path
        self.limit = limit.flatMap { $0 > 0 ? $0 : nil }
        shared = append
        self.soleWriter = soleWriter && !append
        var info = stat()
        let known = append && fstat(fd, &info) == 0
        let size = known ? Int64(info.st_size) : 0
        state = Mutex(State(fd: fd, size: size, sizeSeen: size))
        state.withLock { rotateIfFull(&$0) }
        if known && (info.st_mode & S_IFMT) == S_IFREG && size == 0 { self.append(Self.afreshLine) }
    }

    deinit {
        state.withLock { state in
            writePending(&state)
            if state.fd >= 0 { _ = Glibc.close(state.fd) }
        }
    }

    /// Appends one line (a newline is added) and returns its 1-based line number.
    /// With `flush` false the line may wait in the buffer until the next flush.
    @discardableResult
    public func append(_ line: String, flush: Bool = true) -> Int {
        state.withLock { state in
            guard state.fd >= 0 else { return state.lines }
            // Where a write begins, for a reader of a line another process's killed write left unfinished.
            if shared && state.pending.isEmpty && state.size > 0 { state.pending += Self.writeMark }
            state.pending += line
            state.pending.append("\n")
            state.lines += 1
            if flush || state.pending.utf8.count >= Self.bufferLimit { writePending(&state) }
            return state.lines
        }
    }

    /// Writes out the buffered lines, in one `write(2)`.
    public func flush() {
        state.withLock { writePending(&$0) }
    }

    private func writePending(_ state: inout State) {
        guard state.fd >= 0, !state.pending.isEmpty else { return }
        let ending = state.mayEndMidLine  // A newline that ends a fragment is not a line of its own.
        if ending { state.pending = "\n" + state.pending }
        // Disk full or similar: the run goes on, and its report says what the log lacks.
        var written = 0
        state.mayEndMidLine = !writeAll(state.fd, &state.pending, written: &written)
        state.size += Int64(written)
        if ending && written > 0 { state.fragmentsEnded += 1 }
        if state.mayEndMidLine {
            let code = errno
            // Every line not ended in the file is lost (a line cut short included).
            let unended = state.pending.utf8.dropFirst(written).count { $0 == UInt8(ascii: "\n") }
            state.losses.unwrittenLines += unended - (ending && written == 0 ? 1 : 0)
            noteFirstError(&state.losses, "cannot write the SQL log", code)
        }
        state.pending.removeAll(keepingCapacity: true)
        rotateIfFull(&state)
    }

    private func noteFirstError(_ losses: inout Losses, _ what: String, _ code: Int32) {
        guard losses.error == nil else { return }
        let reason = String(cString: strerror(code))
        losses.error = reason
        writeStandard("sqlite-stress: warning: \(what) \(path): \(reason); the report will say what the log lacks.\n", toError: true)
    }

    /// The number of lines this process appended so far (the line numbers it hands out).
    public var lineCount: Int { state.withLock { $0.lines } }

    /// The number of lines the file holds: those that reached it whole, and any
    /// fragment of a line cut short that a later write ended (what `wc -l` counts).
    public var writtenLines: Int { state.withLock { $0.lines - $0.losses.unwrittenLines + $0.fragmentsEnded } }

    /// What this process could not write or sync so far.
    public var losses: Losses { state.withLock { $0.losses } }

    /// What this process's rotations moved out of the log file.
    public var rotation: Rotation { state.withLock { $0.rotation } }

    /// Closes the file; with `sync`, first flushes it to stable storage.
    public func close(sync: Bool = true) {
        state.withLock { state in
            guard state.fd >= 0 else { return }
            writePending(&state)
            if sync, fsync(state.fd) != 0 {
                state.losses.unsynced = true
                noteFirstError(&state.losses, "cannot sync the SQL log", errno)
            }
            _ = Glibc.close(state.fd)
            state.fd = -1
        }
    }
}

// MARK: - Rotation

extension SQLLog {
    /// Rotates the log when it has passed its limit (see "A bounded log"); a
    /// failure to rotate is warned about once, and the log goes on growing.
    private func rotateIfFull(_ state: inout State) {
        guard let limit, state.fd >= 0, !state.rotationFailed else { return }
        // Others append to a shared log unseen: look at its real size every sixteenth of the limit.
        guard state.size >= limit || (shared && state.size - state.sizeSeen >= limit / 16) else { return }
        var mine = stat()
        guard fstat(state.fd, &mine) == 0 else { return }
        state.size = Int64(mine.st_size)
        state.sizeSeen = state.size
        guard state.size >= limit else { return }
        while flock(state.fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { if state.fd >= 0 { _ = flock(state.fd, LOCK_UN) } }
        if !DatabaseFile.isOpen(state.fd, at: path) {
            // Another process rotated it (or it is gone): go on in the file at `path`.
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return rotationFailed(&state, "cannot reopen", errno) }
            _ = flock(state.fd, LOCK_UN)
            _ = Glibc.close(state.fd)
            state.fd = fd
            var current = stat()
            state.size = fstat(fd, &current) == 0 ? Int64(current.st_size) : 0
            state.sizeSeen = state.size
            return
        }
        let fresh = path + ".rotating", older = Self.olderPath(of: path)
        let fd = open(fresh, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return rotationFailed(&state, "cannot create \(fresh) to rotate", errno) }
        let number = state.lines + 1
        let at: String = shared ? "" : " at line \(number)"
        let olderName: String = older.split(separator: "/").last.map(String.init) ?? older
        let size: String = Self.describe(limit: limit)
        var first = "\(Self.continuedPrefix)\(at): the log passed its limit of \(size) and its earlier lines went to \(olderName)\n"
        guard writeAll(fd, &first) else {
            let code = errno
            _ = Glibc.close(fd)
            _ = unlink(fresh)
            return rotationFailed(&state, "cannot write \(fresh) to rotate", code)
        }
        var existing = stat()
        let replaced = stat(older, &existing) == 0
        if Self.exchange(fresh, path) {
            // `<log>` is the fresh file at every instant; the full one is at `fresh` until renamed.
            guard rename(fresh, older) == 0 else { return rotationFailed(&state, "cannot rename \(fresh) to \(older)", errno) }
        } else {
            // No atomic exchange (another kernel or file system): for a moment
            // there is no `<log>`; a process opening it then starts a file this replaces.
            guard rename(path, older) == 0 else {
                let code = errno
                _ = Glibc.close(fd)
                _ = unlink(fresh)
                return rotationFailed(&state, "cannot rename \(path) to \(older)", code)
            }
            guard rename(fresh, path) == 0 else { return rotationFailed(&state, "cannot rename \(fresh) to \(path)", errno) }
        }
        _ = flock(state.fd, LOCK_UN)
        _ = Glibc.close(state.fd)
        state.fd = fd
        state.size = Int64(first.utf8.count)
        state.sizeSeen = state.size
        state.lines += 1
        state.rotation.count += 1
        state.rotation.droppedLines = state.rotation.droppedLines || replaced
        if !shared {
            state.rotation.olderLines = state.firstLine...(number - 1)
            state.firstLine = number
        }
    }

    private func rotationFailed(_ state: inout State, _ what: String, _ code: Int32) {
        state.rotationFailed = true
        writeStandard("sqlite-stress: warning: \(what) the SQL log \(path) past its limit: "
            + "\(String(cString: strerror(code))); it goes on growing.\n", toError: true)
    }

    /// Swaps the files at `a` and `b` in one step (Linux `renameat2` with
    /// RENAME_EXCHANGE); false where the system or file system cannot.
    private static func exchange(_ a: String, _ b: String) -> Bool {
        guard let renameat2 = Self.renameat2 else { return false }
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) == 0
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    /// Looked up at run time: the C library declares it only for _GNU_SOURCE, which Swift's Glibc module lacks.
    private static let renameat2: RenameAt2? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
        #else
        return nil
        #endif
    }()

    // MARK: - Limits

    /// The smallest limit but 0 (none): below it, each write of the buffer would rotate.
    public static let smallestLimit: Int64 = Int64(bufferLimit)

    /// Parses a size limit: a whole number of bytes, or of K, M, G or T (binary:
    /// `256M` is 256 MiB; `KiB`, `MB` and lower case alike); 0 means no limit.
    /// Nil for anything else, or for more than 2^62 bytes.
    public static func parse(limit text: String) -> Int64? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int64(digits) else { return nil }
        let unit = text.dropFirst(digits.count).uppercased()
        let shifts: [String: Int64] = [
            "": 0, "B": 0, "K": 10, "KB": 10, "KIB": 10, "M": 20, "MB": 20, "MIB": 20,
            "G": 30, "GB": 30, "GIB": 30, "T": 40, "TB": 40, "TIB": 40,
        ]
        guard let shift = shifts[unit], number <= (Int64(1) << (62 - shift)) else { return nil }
        return number << shift
    }

    /// A limit as `parse(limit:)` reads it: `1G`, `256M`, `65536`.
    public static func describe(limit: Int64) -> String {
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where limit >= 1 << shift && limit % (1 << shift) == 0 {
            return "\(limit >> shift)\(unit)"
        }
        return "\(limit)"
    }

    // MARK: - Reading a rotated log

    /// The files that hold the log at `path` from its first line, in order:
    /// `[path]`, or `[<log>.1, path]` when it was rotated once.
    ///
    /// Throws, in one sentence, when the log's beginning is gone: rotated more
    /// than once (or `<log>.1` is missing), so that no fresh database can replay it.
    public static func files(of path: String) throws(ToolError) -> [String] {
        guard let continued = continuation(of: path) else { return [path] }
        let afresh = " was missing or empty when a driver began and started it afresh, so the lines before that are gone and no fresh database can replay it."
        if continued.afresh { throw ToolError("\(path) begins mid-run: the log" + afresh) }
        let older = olderPath(of: path)
        let problem: String
        if !DatabaseFile.starts(older, with: headerPrefix) {
            problem = "\(older), which held them, is missing or not an SQL log"
        } else if continuation(of: older)?.afresh == true {
            throw ToolError("\(path) begins mid-run: its earlier lines are in \(older), whose log" + afresh)
        } else if continuation(of: older) != nil {
            problem = "it was rotated more than once, and \(older) begins mid-run too"
        } else {
            return [older, path]
        }
        let at = continued.line.map { " (at line \($0) of the run's log)" } ?? ""
        let reason = "its earlier lines were dropped when the log passed its size limit (--sql-log-max) and " + problem
        throw ToolError("\(path) begins mid-run\(at): \(reason), so no fresh database can replay it; "
            + "rerun with a larger --sql-log-max, or 0 for no limit.")
    }

    /// The `continued` line a rotated log begins with.
    struct Continuation {
        /// The line's number in the run's whole log; nil when several processes wrote it.
        var line: Int?
        /// The log was missing or empty and a driver started it afresh (`afreshLine`), not rotated.
        var afresh = false
    }

    /// The `continued` line the log at `path` begins with; nil when it begins the run.
    static func continuation(of path: String) -> Continuation? {
        guard let head = DatabaseFile.head(of: path, count: 200) else { return nil }
        let line = String(decoding: head.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        guard line.hasPrefix(continuedPrefix) else { return nil }
        let rest = line.dropFirst(continuedPrefix.count)
        if line == afreshLine { return Continuation(afresh: true) }
        guard rest.hasPrefix(" at line "), let colon = rest.firstIndex(of: ":") else { return Continuation() }
        return Continuation(line: Int(rest[rest.index(rest.startIndex, offsetBy: 9)..<colon]))
    }
}

extension SQLLog {
    /// Points each `durability` violation at the line of the SQL log at `path`
    /// where its transaction committed (its COMMIT, or its one autocommit
    /// statement) and at the writer that committed it, instead of where the
    /// check saw it missing (kept in the details). Reads the log only when there
    /// is such a violation. A log that cannot be read leaves them where the
    /// check saw them, each with the reason in its `commit` detail.
    public static func placeCommits(of violations: inout [Violation], in path: String) {
        var wanted: [String: String] = [:]  // "t0 x425" → "t0x425"
        for violation in violations where violation.property == .durability {
            guard let id = violation.details["transaction"], let x = id.lastIndex(of: "x") else { continue }
            wanted[id[..<x] + " " + id[x...]] = id
        }
        guard !wanted.isEmpty, let (files, first) = numberedFiles(of: path) else { return }
        var found: [String: (writer: String, line: Int)] = [:]
        var number = first - 1
        do throws(ToolError) {
            for file in files {
                let reader = try LogReader(path: file)
                while let line = try reader.next() {
                    number += 1
                    guard let entry = Replay.parse(line, number: number), case .statement(_, let result) = entry.action,
                          result.hasPrefix("ok"), let id = wanted[entry.writer + " " + entry.transaction] else { continue }
                    found[id] = (entry.writer, number)  // The last statement that succeeded: its COMMIT.
                }
            }
        } catch {
            for index in violations.indices where violations[index].property == .durability {
                violations[index].details["commit"] = "not found: \(error.message)"
            }
            return
        }
        for index in violations.indices {
            guard let id = violations[index].details["transaction"], let commit = found[id] else { continue }
            if violations[index].details["seen"] == nil {
                violations[index].details["seen"] = "by \(violations[index].thread)"
                    + (violations[index].logLine > 0 ? " at SQL log line \(violations[index].logLine)" : "")
            }
            violations[index].thread = commit.writer
            violations[index].logLine = commit.line
        }
    }

    /// The files to read for the run's line numbers, and the number of the first
    /// one's first line: the whole log from line 1 when it is there, else the
    /// rotated log from the line its `continued` line names; nil when it names none.
    private static func numberedFiles(of path: String) -> (files: [String], first: Int)? {
        do throws(ToolError) {
            return (try files(of: path), 1)
        } catch {
            // The beginning is gone: the log alone, numbered as the run numbered it.
            return continuation(of: path)?.line.map { ([path], $0) }
        }
    }
}
