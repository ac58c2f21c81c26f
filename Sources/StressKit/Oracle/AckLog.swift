#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
import StressAntithesis

/// The acknowledgement log beside a database: after COMMIT returns OK, the
/// writer appends the transaction id here (one line, one `write(2)`), and the
/// record is then synced (`fdatasync`) on a thread of the log's own while the
/// writer goes on. Append-only and shared: many processes may append at once.
/// The `durability` property is that every committed id here is in the ledger.
///
/// ## Synced in groups, beside the writers
///
/// `acknowledge` returns once the record is written (in the kernel: a killed
/// process loses nothing), and the writer goes on. A thread of the log's own
/// syncs the file (`fdatasync`) at most once per `syncInterval`: one sync covers
/// every record written before it began, so the records of many commits, by
/// any writer of the process, share one. A record is never written before its
/// COMMIT returned, so it never names a transaction that did not commit.
///
/// The trade-off is evidence at a real power cut or OS crash, and nothing
/// else. Such a crash can take the records written since the last sync began
/// (`syncInterval` and the time of a sync or two) with it: those commits then
/// go unjudged — the oracle checks less, never on wrong evidence. A synced
/// record per commit, as before, left at most each writer's latest commit
/// unjudged, at the price of a second sync per commit beside SQLite's own:
/// twice the syncs, and 16–31% fewer statements per second where SQLite syncs
/// once per commit or less (BENCHMARKS.md, harness overhead). A killed process
/// loses no record either way, and the tool's own power loss (`--crash`, the
/// fault VFS) rewrites the database's files, never the log's: every record
/// written before it stays, and its marker (`powerLoss`) is synced at once with
/// every record before it.
///
/// What must be on stable storage before the writer goes on is synced at once:
/// a writer's reservation (`reserveWriter`) before its first commit, a power
/// loss's marker, every record before the log is closed (`close`, which
/// `deinit` calls), so a finished driver leaves none unsynced, and the whole
/// file before a compaction commits a fold (`syncFile`), whatever the
/// synchronous level.
///
/// ## When a record is not synced
///
/// A record is synced only where SQLite promises that the commit it records
/// survives a power loss (`DatabaseConfig.commitsSurvivePowerLoss`): not with
/// `synchronous=OFF`, nor with NORMAL in WAL mode. There a power loss (or OS
/// crash) may take the last records away — and SQLite may take the commits they
/// record away too, so no check could hold those commits to them anyway. Killed
/// processes lose nothing either way: a record is in the kernel once `write(2)`
/// returns, and so is a commit SQLite has made. What is given up: a record
/// written just before a power loss under those settings may vanish, where it
/// would have survived (pointlessly) synced. What is gained: the log's syncs,
/// which under those settings are the only syncs of a whole run. (A real crash
/// can also keep a record whose commit SQLite lost; with no power loss's marker
/// to say so, `durability` would report it. The tool's own power loss writes
/// the marker; a database that lived through a real one is judged as if it had not.)
///
/// Transactions that ended in ROLLBACK are recorded too: none of their ids may
/// ever appear in the ledger (`rollback`). A driver reserves its ids here
/// before its first transaction (`reserveWriter`: `w 0 -1`, whose place in the
/// log is the ids' base); a reservation is synced whatever the synchronous level. A simulated power loss leaves a
/// marker (`p 1` when SQLite's synchronous level lets it lose the commits
/// acknowledged before it, `p 0` when every one must survive; none at OFF,
/// where no run loses power). Each record carries its id twice,
/// the second time bit-inverted, so a line torn by a failed write can never be
/// read as some other id.
///
/// ## Evidence, not decoration
///
/// Every writer creates the log (with its header line) before its first
/// transaction, so a database whose ledger holds a committed transaction has
/// a log: one that is missing, empty, not ours or unreadable is never read as
/// "nothing acknowledged" (`forEach` throws). A record that cannot be written
/// or synced (a full disk) is counted in `losses`, warned about on stderr once,
/// and named in the report as evidence the checks lack; the next record starts
/// on a fresh line, so a torn record cannot swallow it.
public final class AckLog: Sendable {
    /// The first line of every acknowledgement log.
    public static let header = "# sqlite-stress acknowledgements"

    /// What a record says about its transaction.
    public enum Outcome: String, Sendable, CaseIterable {
        case committed = "c"
        case rolledBack = "r"
        /// A power loss struck here; the id is 1 if earlier commits may be lost, else 0.
        case powerLoss = "p"
        /// A writer reserved its transaction ids here (`reserveWriter`); the id is always 0.
        case writer = "w"

        /// The outcome whose letter is `byte`.
        init?(byte: UInt8) {
            switch byte {
            case UInt8(ascii: "c"): self = .committed
            case UInt8(ascii: "r"): self = .rolledBack
            case UInt8(ascii: "p"): self = .powerLoss
            case UInt8(ascii: "w"): self = .writer
            default: return nil
            }
        }
    }

    /// Records this process could not write, or could not sync: evidence the
    /// oracle will not have. Empty when every record is in place.
    public struct Losses: Sendable, Equatable {
        /// Records that did not reach the file, by outcome.
        public var unwritten: [Outcome: Int] = [:]
        /// `fdatasync` calls that failed: the records before them may not survive a power loss.
        public var unsynced = 0
        /// The first error, as the system described it.
        public var error: String?

        public var isEmpty: Bool { unwritten.isEmpty && unsynced == 0 }
    }

    private struct State {
        var fd: Int32
        /// The last write failed, possibly half way: the next record starts on a
        /// fresh line, so that the fragment cannot swallow it.
        var mayEndMidLine = false
        var losses = Losses()
        /// Records written so far (the last one's ticket).
        var written: UInt64 = 0
    }

    /// A record's place in the log: `awaitSync` with it returns once the record
    /// (and every one before it) is on stable storage, or its sync failed (counted).
    public struct Ticket: Sendable, Equatable {
        let sequence: UInt64
    }

    private let state: Mutex<State>
    public let path: String
    /// Whether records are flushed to stable storage (in groups, beside the writers).
    public let syncs: Bool
    /// Syncs the file on a thread of its own: every record with `syncs`, else only
    /// writers' reservations (`reserveWriter`).
    private let syncer: Syncer

    /// How long after one sync began the next may begin, unless someone waits
    /// for a record (`awaitSync`): a record waits for the sync it shares with
    /// the records written after it, about this long plus a sync, and that is
    /// what a real power cut can take (see "Synced in groups, beside the writers").
    /// A tenth of a second: about ten syncs a second beside SQLite's own, where
    /// a hundred (10 ms) cost a run whose SQLite syncs at every commit (WAL,
    /// FULL) about 8% of its speed (BENCHMARKS.md, harness overhead).
    public static let syncInterval: Duration = .milliseconds(100)

    /// The log for the database at `databasePath`.
    public static func path(for databasePath: String) -> String { databasePath + ".acks" }

    /// Checks, writing nothing, that a command may write the log at `path`.
    /// A new run overwrites a log of this tool, or an empty file (a run killed
    /// between creating it and writing its header), or creates one. A driver
    /// appends, and the log must hold the records of the database's
    /// transactions: `schema` syncs its header before the database exists, so a
    /// missing or empty log beside a database has lost them, and a fresh one
    /// would let a check pass on the driver's records alone. One sentence when it cannot.
    public static func checkWritable(at path: String, appending: Bool) throws(ToolError) {
        let gone = "the records of the database's transactions are gone, and no check could judge them "
            + "(`sqlite-stress schema` makes a database with its log)."
        switch DatabaseFile.log(at: path, header: header) {
        case .missing:
            if appending { throw ToolError("the acknowledgement log \(path) is missing: " + gone) }
        case .directory:
            throw ToolError("the acknowledgement log path \(path) is a directory.")
        case .empty:
            if appending { throw ToolError("the acknowledgement log \(path) is empty: " + gone) }
        case .foreign:
            throw ToolError(
                "refusing to \(appending ? "append to" : "overwrite") \(path): it is not an acknowledgement log written by sqlite-stress.")
        case .ours:
            break
        }
    }

    /// Opens (creating if needed) the log for appending; with `syncs`, every
    /// record is synced about `syncInterval` after it is written at the latest
    /// (see "When a record is not synced").
    /// `interval` is `syncInterval` but in tests.
    ///
    /// The process holds a shared `flock` on the log while it is open, so that
    /// `DatabaseFile.openingProcess(of:)` can tell that a process of this tool is writing the database.
    public init(path: String, syncs: Bool = true, interval: Duration = syncInterval) throws(ToolError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ToolError("cannot open the acknowledgement log \(path): \(String(cString: strerror(errno))).")
        }
        while flock(fd, LOCK_SH) != 0 && errno == EINTR {}
        self.path = path
        self.syncs = syncs
        state = Mutex(State(fd: fd))
        syncer = Syncer(fd: fd, path: path, interval: interval)
        var size = stat()
        if fstat(fd, &size) == 0, size.st_size == 0 { awaitSync(append(Self.header, nil)) }
    }

    deinit {
        close()
    }

    /// Syncs the records not yet synced, at once (with `syncs`), ends the log's
    /// thread and closes the file; `losses` still tells what was lost, the last
    /// sync included. A log that goes away closes so; a record appended after
    /// this cannot be written (counted in `losses`).
    func close() {
        syncer.stop()  // After the syncs asked for, at once: every record is synced (or counted) first.
        state.withLock { state in
            if state.fd >= 0 { closeFile(state.fd) }
            state.fd = -1
        }
    }

    /// Records that `tx` committed. Written when this returns; with `syncs`, on
    /// stable storage about `syncInterval` later, or once `awaitSync` with the ticket returns.
    @discardableResult
    public func acknowledge(_ tx: Int64) -> Ticket { record(.committed, tx) }

    /// Records that `tx` was rolled back (ROLLBACK returned OK, or SQLite rolled it back).
    @discardableResult
    public func rolledBack(_ tx: Int64) -> Ticket { record(.rolledBack, tx) }

    /// Records that a simulated power loss struck after every record so far,
    /// and, with `syncs`, waits for its sync. `relaxed`: the synchronous level lets SQLite lose
    /// commits acknowledged before it.
    public func powerLoss(relaxed: Bool) { awaitSync(record(.powerLoss, relaxed ? 1 : 0)) }

    /// Returns once the record of `ticket`, and every record before it, is on
    /// stable storage or its sync failed (counted in `losses`), syncing at once
    /// rather than within `syncInterval`; at once for a record that is not
    /// synced (any but a reservation, without `syncs`).
    public func awaitSync(_ ticket: Ticket) {
        if ticket.sequence > 0 { syncer.await(ticket.sequence) }
    }

    /// Returns once every record this process asked to sync so far (every
    /// record with `syncs`, else the reservations) is on stable storage or its
    /// sync failed (counted in `losses`), syncing at once.
    public func awaitSyncOfAll() { syncer.awaitRequested() }

    /// Syncs the whole file at once, on the caller's thread, with or without
    /// `syncs`: every record written before the call, by any process, is on
    /// stable storage when this returns true. False when the sync failed
    /// (counted in `losses`, as the log's own syncs are) or the log is closed.
    /// A compaction calls it before it commits a fold (`Worker.compact`), so
    /// that the mark it commits never lies past the log's end after a real
    /// power cut or OS crash.
    public func syncFile() -> Bool {
        state.withLock { state in
            guard state.fd >= 0 else { return false }
            guard fdatasync(state.fd) != 0 else { return true }
            let code = errno
            state.losses.unsynced += 1
            if state.losses.error == nil { state.losses.error = Self.warn("cannot sync the acknowledgement log", path, code) }
            return false
        }
    }

    /// What this process could not write or sync so far.
    public var losses: Losses {
        var losses = state.withLock { $0.losses }
        let failed = syncer.failures
        losses.unsynced += failed.count
        losses.error = losses.error ?? failed.error
        return losses
    }

    /// The record `reserveWriter` appends: always exactly these bytes.
    static let reservation = "w 0 -1\n"

    /// Reserves transaction ids that no other writer of this database has had or
    /// will have: returns the base of a driver's ids (`TransactionID.make(base:number:)`,
    /// 257 or more) and the ticket of the reservation's record.
    ///
    /// The base says where the reservation record landed in the log: `257 +
    /// offset / 7`, 7 being the record's length. Records are only appended
    /// (`O_APPEND`: each `write(2)` lands whole after everything before it) and the
    /// log never shrinks, so any two reservations, by any processes at any time in
    /// the database's life, start at least 7 bytes apart and get different bases.
    /// A base drawn at random could be drawn twice (a driver rerun with its seed
    /// always drew the same one): two writers then shared ids, and a transaction one
    /// committed and the other rolled back read as a violation by a clean SQLite.
    ///
    /// The record is synced on the log's thread, with or without `syncs`, and the
    /// writer waits for the ticket before its first commit (`awaitSync`): the
    /// reservation is on stable storage before any of its ids can be, since a
    /// power loss that took it away could otherwise hand its place, and ids
    /// already in the database, to the next writer.
    ///
    /// Throws when the record cannot be written whole (its place would be unknown),
    /// or the log has grown past what ids can name (about 14 GiB).
    public func reserveWriter() throws(ToolError) -> (base: Int64, ticket: Ticket) {
        let record = Self.reservation.utf8.count
        let reserved = state.withLock { state -> Result<(base: Int64, ticket: Ticket), ToolError> in
            var text = state.mayEndMidLine ? "\n" + Self.reservation : Self.reservation
            // One `write(2)`, never `writeAll`'s retries: a second write could land
            // after another process's record, and the place would say nothing.
            var written: Int
            repeat {
                written = text.withUTF8 { write(state.fd, $0.baseAddress, $0.count) }
            } while written < 0 && errno == EINTR
            guard written == text.utf8.count else {
                let reason = written < 0 ? String(cString: strerror(errno)) : "only part of the record was written"
                state.mayEndMidLine = written != 0
                return .failure(ToolError("cannot reserve transaction ids in the acknowledgement log \(path): \(reason)."))
            }
            state.mayEndMidLine = false
            let end = lseek(state.fd, 0, SEEK_CUR)
            guard end >= record else {
                return .failure(ToolError(
                    "cannot reserve transaction ids in the acknowledgement log \(path): its offset is unknown (\(String(cString: strerror(errno))))."))
            }
            let base = TransactionID.firstDriverBase + Int64(end - off_t(record)) / Int64(record)
            guard base <= TransactionID.lastDriverBase else {
                return .failure(ToolError(
                    "the acknowledgement log \(path) has grown past the transaction ids new writers can have; start a fresh database (`sqlite-stress schema --overwrite`)."))
            }
            state.written += 1
            return .success((base, Ticket(sequence: state.written)))
        }
        let (base, ticket) = try reserved.get()
        syncer.request(ticket.sequence)
        return (base, ticket)
    }

    private func record(_ outcome: Outcome, _ tx: Int64) -> Ticket { append("\(outcome.rawValue) \(tx) \(~tx)", outcome) }

    /// Parses one record line, its bytes without the newline (a long log is read
    /// record by record without making a string of each); nil for the header,
    /// blank or torn lines. A record glued to the fragment of a torn one (a
    /// write cut short, then the next record appended after it) is still read: a
    /// whole record ends such a line, and the bit-inverted check keeps any other
    /// split from reading as one.
    static func parse(_ line: UnsafeBufferPointer<UInt8>) -> (Outcome, Int64)? {
        if let record = parseWhole(line, from: 0) { return record }
        var start = 1
        while start < line.count {
            if Outcome(byte: line[start]) != nil, let record = parseWhole(line, from: start) { return record }
            start += 1
        }
        return nil
    }

    /// The record that is all of `line[start...]`: three fields between spaces
    /// (as many as there are), the outcome's letter, the id, and the id bit-inverted.
    private static func parseWhole(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> (Outcome, Int64)? {
        var index = start
        func field() -> Range<Int>? {
            while index < line.count, line[index] == UInt8(ascii: " ") { index += 1 }
            let begin = index
            while index < line.count, line[index] != UInt8(ascii: " ") { index += 1 }
            return begin < index ? begin..<index : nil
        }
        guard let letter = field(), letter.count == 1, let outcome = Outcome(byte: line[letter.lowerBound]),
              let idField = field(), let id = integer(line[idField]),
              let checkField = field(), let check = integer(line[checkField]), check == ~id,
              field() == nil else { return nil }
        return (outcome, id)
    }

    /// A decimal integer as `Int64("…")` reads one: an optional sign, then digits, in range.
    private static func integer(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> Int64? {
        var index = digits.startIndex
        let negative = digits.first == UInt8(ascii: "-")
        if negative || digits.first == UInt8(ascii: "+") { index += 1 }
        guard index < digits.endIndex else { return nil }
        var value: Int64 = 0  // Negated as it goes, so that Int64.min fits.
        while index < digits.endIndex {
            let digit = digits[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (tens, overflow) = value.multipliedReportingOverflow(by: 10)
            let (next, underflow) = tens.subtractingReportingOverflow(Int64(digit))
            guard !overflow, !underflow else { return nil }
            value = next
            index += 1
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    /// Writes one line; with `syncs`, its sync is asked of the syncer, not waited
    /// for. Without, its ticket is one `awaitSync` does not wait for.
    private func append(_ line: String, _ outcome: Outcome?) -> Ticket {
        let ticket = state.withLock { state -> Ticket? in
            var text = state.mayEndMidLine ? "\n" + line + "\n" : line + "\n"
            guard writeAll(state.fd, &text) else {
                let code = errno
                // Never acknowledged, so never held against the database; but the
                // evidence is thinner, and the report says so.
                state.mayEndMidLine = true
                if let outcome { state.losses.unwritten[outcome, default: 0] += 1 }
                if state.losses.error == nil {
                    state.losses.error = Self.warn("cannot write the acknowledgement log", path, code)
                }
                return nil
            }
            state.mayEndMidLine = false
            state.written += 1
            return Ticket(sequence: state.written)
        }
        guard syncs else { return Ticket(sequence: 0) }  // Synced by none: nothing to wait for.
        guard let ticket else { return state.withLock { Ticket(sequence: $0.written) } }
        syncer.request(ticket.sequence)
        return ticket
    }

    /// Warns on stderr that the log could not be written or synced; returns the system's reason.
    fileprivate static func warn(_ what: String, _ path: String, _ code: Int32) -> String {
        let reason = String(cString: strerror(code))
        writeStandard("sqlite-stress: warning: \(what) \(path): \(reason); the checks will say what they could not verify.\n", toError: true)
        return reason
    }

    /// Calls `body` with every record in the log at `path`, streaming, and the
    /// offset just past the record's line. A torn line (a writer killed or
    /// refused mid-append) is skipped: it was never acknowledged.
    ///
    /// Throws `ToolError` when the log cannot serve as evidence: it is missing,
    /// not a regular file, does not start with `header` (empty, or something
    /// else), or cannot be read to its end. Errors `body` throws pass through.
    /// With `limit`, only the log's first `limit` bytes are read (a record cut
    /// there is torn, and skipped): the log as long as it was at some moment.
    /// With `from`, the records before that offset are skipped unread (the
    /// header is still checked): a log shorter than `from` is not the log the
    /// offset was taken from, and throws.
    public static func forEach(
        at path: String, from: Int = 0, limit: Int? = nil, _ body: (Outcome, Int64, _ end: Int) throws -> Void
    ) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "is missing" : "cannot be opened (\(String(cString: strerror(errno))))"
            throw ToolError("the acknowledgement log \(path) \(reason).")
        }
        defer { closeFile(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ToolError("the acknowledgement log \(path) is not a regular file.")
        }
        let notOurs = ToolError(
            "\(path) is not an acknowledgement log sqlite-stress wrote (it does not start with the header line).")
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var lines = 0
        var consumed = 0  // Bytes of the file before `pending`.
        var remaining = limit ?? Int.max
        let headerLine = header.utf8.count + 1
        if from > headerLine {
            guard Int(info.st_size) >= from else {
                throw ToolError(
                    "the acknowledgement log \(path) is \(info.st_size) bytes long, but the database records that its first \(from) bytes were reviewed: it is not that database's log.")
            }
            var first = [UInt8](repeating: 0, count: headerLine)
            let n = first.withUnsafeMutableBytes { pread(fd, $0.baseAddress, headerLine, 0) }
            guard n == headerLine, first.dropLast().elementsEqual(header.utf8), first.last == UInt8(ascii: "\n") else { throw notOurs }
            guard lseek(fd, off_t(from), SEEK_SET) == off_t(from) else {
                throw ToolError("the acknowledgement log \(path) cannot be read (\(String(cString: strerror(errno)))).")
            }
            lines = 1
            consumed = from
            remaining = max(0, remaining - from)
        }
        while remaining > 0 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, remaining)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw ToolError("the acknowledgement log \(path) cannot be read (\(String(cString: strerror(errno)))).")
            }
            guard n > 0 else { break }
            remaining -= n
            pending += chunk[..<n]
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { start = newline + 1 }
                lines += 1
                if lines == 1 {
                    guard pending[start..<newline].elementsEqual(header.utf8) else { throw notOurs }
                    continue
                }
                let record = pending.withUnsafeBufferPointer { parse(UnsafeBufferPointer(rebasing: $0[start..<newline])) }
                if let (outcome, id) = record { try body(outcome, id, consumed + newline + 1) }
            }
            pending.removeFirst(start)
            consumed += start
            if lines == 0 && pending.count > header.utf8.count { throw notOurs }
        }
        if lines == 0 { throw notOurs }  // Empty, or not even the header line.
    }
}

/// The thread that syncs an acknowledgement log: it syncs up to the latest
/// record asked for (`request`), at most once per `interval` unless someone
/// waits for a record (`await`), and wakes those who wait. Each sync covers
/// every record written before it began.
private final class Syncer: @unchecked Sendable {
    // `requested`, `synced`, `waiting`, `idle`, `stopping` and `failed` are guarded by `mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when there is a sync to do, someone waits, or the thread is to stop.
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Signalled when a sync has finished.
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var requested: UInt64 = 0
    private var synced: UInt64 = 0
    /// Threads in `await`: the next sync starts at once.
    private var waiting = 0
    /// The thread waits for a request (not for a deadline, when a request need not wake it).
    private var idle = false
    private var stopping = false
    private var failed: (count: Int, error: String?) = (0, nil)
    private var thread: OSThread?

    init(fd: Int32, path: String, interval: Duration) {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if canImport(Glibc)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)  // Deadlines that a clock step cannot move.
        #endif
        pthread_cond_init(work, &attributes)
        pthread_condattr_destroy(&attributes)
        pthread_cond_init(done, nil)
        thread = OSThread { [self] in
            pthread_mutex_lock(mutex)
            var lastStart: timespec?
            while true {
                while requested == synced && !stopping {
                    idle = true
                    pthread_cond_wait(work, mutex)
                    idle = false
                }
                if requested == synced { break }  // Stopping, with nothing left to sync.
                // Records written within `interval` of the last sync's start wait for the next, together.
                if let lastStart {
                    var deadline = Self.adding(interval, to: lastStart)
                    while waiting == 0 && !stopping && Self.now() < deadline {
                        pthread_cond_timedwait(work, mutex, &deadline)
                    }
                }
                let target = requested
                lastStart = Self.now()
                pthread_mutex_unlock(mutex)
                let code = fdatasync(fd) == 0 ? 0 : errno
                pthread_mutex_lock(mutex)
                synced = target
                if code != 0 {
                    failed.count += 1
                    if failed.error == nil { failed.error = AckLog.warn("cannot sync the acknowledgement log", path, code) }
                }
                pthread_cond_broadcast(done)
            }
            pthread_mutex_unlock(mutex)
        }
    }

    deinit {
        pthread_cond_destroy(done)
        pthread_cond_destroy(work)
        pthread_mutex_destroy(mutex)
        done.deallocate()
        work.deallocate()
        mutex.deallocate()
    }

    /// Asks for the records up to `sequence` to be synced, within `interval`.
    func request(_ sequence: UInt64) {
        pthread_mutex_lock(mutex)
        if sequence > requested {
            requested = sequence
            if idle { pthread_cond_signal(work) }  // Else the sync under way, or the one due, takes it.
        }
        pthread_mutex_unlock(mutex)
    }

    /// Waits until the records up to `sequence` are synced (or their sync
    /// failed); the sync they need starts at once.
    func await(_ sequence: UInt64) {
        pthread_mutex_lock(mutex)
        if synced < sequence {
            waiting += 1
            pthread_cond_signal(work)
            while synced < sequence { pthread_cond_wait(done, mutex) }
            waiting -= 1
        }
        pthread_mutex_unlock(mutex)
    }

    /// Waits until every record asked for so far is synced (or its sync failed).
    func awaitRequested() {
        pthread_mutex_lock(mutex)
        let target = requested
        pthread_mutex_unlock(mutex)
        self.await(target)
    }

    /// Syncs that failed, and the first reason.
    var failures: (count: Int, error: String?) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return failed
    }

    /// Finishes the syncs asked for, at once, then ends the thread.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(work)
        pthread_mutex_unlock(mutex)
        thread?.join()
        thread = nil
    }

    /// The time by the clock `work`'s deadlines are on.
    private static func now() -> timespec {
        var time = timespec()
        #if canImport(Glibc)
        clock_gettime(CLOCK_MONOTONIC, &time)
        #else
        clock_gettime(CLOCK_REALTIME, &time)
        #endif
        return time
    }

    private static func adding(_ interval: Duration, to time: timespec) -> timespec {
        let nanoseconds = Int(time.tv_nsec) + Int(interval.components.attoseconds / 1_000_000_000)
        var result = time
        result.tv_sec += Int(interval.components.seconds) + nanoseconds / 1_000_000_000
        result.tv_nsec = nanoseconds % 1_000_000_000
        return result
    }
}

/// `close(2)`, where a method of the same name would hide it.
private func closeFile(_ fd: Int32) {
    _ = close(fd)
}

private func < (left: timespec, right: timespec) -> Bool {
    (left.tv_sec, left.tv_nsec) < (right.tv_sec, right.tv_nsec)
}
