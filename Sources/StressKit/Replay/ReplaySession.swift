#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StressSQLite

extension Replay {
    /// The replay's writers — a connection each, the entries waiting to run, the
    /// entries of the transaction open in the replay — and the order they run in.
    ///
    /// The log records each statement as it finishes, and a writer can be held up
    /// between a statement and its line while others go on, so the log's order is
    /// the run's only nearly. Where they differ, the replay meets a lock the run
    /// did not meet, or a result that needs another writer's statement logged a
    /// little later. Either way the writer's replay transaction (or its one
    /// autocommit statement) is rolled back, and run again once another writer
    /// has committed or rolled back; entries run in log order otherwise, and
    /// while a writer waits for a lock no other writer starts a transaction that
    /// the log puts after it. With the run's ledger (`order`), commits happen in
    /// the run's own order: one whose turn has not come waits the same way. Only
    /// a difference that this reordering does not remove within `window` log
    /// lines is reported. A writer that holds a lock that long and logs nothing
    /// more vanished in the run (a killed driver): SQLite rolled its transaction
    /// back there, and the replay does too.
    final class Session {
        let databasePath: String
        /// Log lines an entry may wait, for a lock or for a result that other
        /// writers' later lines explain, before the replay says the result differs.
        let window: Int
        /// The run's commit order, from the ledger of the run's database, when it
        /// is beside the log; it also says whether a writer that vanished inside
        /// its COMMIT committed.
        let order: CommitOrder?

        private enum Wait {
            /// `entry` met a lock only the replay holds.
            case lock(Entry)
            /// `entry` commits a transaction whose turn in the run's commit order has not come.
            case turn(Entry)
            /// Got another result than recorded: `mismatch` is reported if no reordering removes it.
            case result(Mismatch)
        }

        private enum Count { case statement, skipped, timing, none }

        private struct Writer {
            var connection: Connection?
            /// Entries not yet run, in log order.
            var queue: [Entry] = []
            /// The entries run in the transaction open in the replay, with what each counted.
            var transaction: [(Entry, Count)] = []
            var wait: Wait?
            /// The first difference its transaction met, while it runs that
            /// transaction again to see whether another writer's work explains
            /// it: a lock or a turn met on the way is not what it waits for, and
            /// a report names this difference (`overdue`).
            var difference: Mismatch?
            /// The `epoch` of the writer's last failed attempt: it tries again after the next one.
            var triedAt = 0
            /// While waiting and running again, it held a lock another writer met:
            /// its rollback lets that one try again.
            var heldAnother = false
            /// The log line of the writer's last entry run (to tell a writer that vanished).
            var lastLine = 0
            /// The log line of its last entry that left no transaction open: its
            /// current snapshot began after that line in the run.
            var settledLine = 0

            var inTransaction: Bool { connection.map { !$0.isAutocommit } ?? false }
            /// The log line of its replay transaction's first entry (or of its next entry).
            var start: Int { transaction.first?.0.line ?? queue.first?.line ?? Int.max }
            /// The savepoint that opened its replay transaction (`RELEASE` of it commits).
            var outermost: String?
            /// The tables its replay transaction renamed or dropped, so far (`goneTables`).
            var removed: [String] = []
            /// The log line of its last entry fed, and whether that entry was its
            /// disconnect: its end, in the log. (A reconnect is no end: its lines
            /// go on, and a kill may take the next one after its statement ran.)
            var lastFed = 0
            var ended = false
            /// The `compose` command it ran in, while its kill may still come (`commands`).
            var command: String?
            /// The replay's schema cookie at the writer's last read of it, until
            /// its next context statement names the run's (`notePair`).
            var readCookie: Int64?
            /// How many schema changes the replay had committed (`schemaChangeCount`)
            /// when the writer's last context statement ran: its ledger triggers'
            /// guard lets its writes through only under the cookie that statement named.
            var schemaChangesAtContext = 0

            /// Whether its lines stop before `line` with no transaction open and no end.
            func betweenStatements(before line: Int) -> Bool {
                !ended && lastFed < line && queue.isEmpty && !inTransaction && transaction.isEmpty
            }
        }

        private var writers: [String: Writer] = [:]
        /// The writers of each `compose` command the log names (`SQLLog.commandLine`)
        /// and whose kill it has not named yet.
        private var commands: [String: [String]] = [:]
        /// Writers whose command `compose` killed, whose ends the replay has
        /// not reached yet: entries of theirs still queued, or a transaction open.
        private var killed: Set<String> = []
        /// Writers with entries waiting in their queues.
        private var pending: Set<String> = []
        /// Commits and rollbacks so far: a waiting writer tries again after one.
        private var epoch = 0
        /// The most recent commits that changed the database, by log line and writer.
        private var changes: [(line: Int, writer: String)] = []
        /// The log line fed last.
        private var line = 0
        /// The tables (lowercased names) that a committed transaction of the
        /// replay renamed or dropped: a name the workload never gives again
        /// (`Schema.nextName` had passed it when it was given, in a commit).
        private var goneTables: Set<String> = []
        /// How far the replay's schema cookie is behind the run's, as two pairs
        /// in a row of a read of the cookie and a context statement showed,
        /// until the replay has caught up (`catchUpCookie`); and a lag the last
        /// pairs showed instead, with how many in a row.
        private var cookieBehind: Int64 = 0
        private var lagSeen: (lag: Int64, times: Int)?
        /// Whether every writer so far is a thread of one `stress` (or the set-up):
        /// threads end together, so no line of theirs was lost while others went on.
        private var onlyThreads = true
        /// The log line of the last context statement whose pair was counted.
        private var pairedLine = 0
        /// The replay database's schema cookie as last read after a commit
        /// (`noteSchemaChange`) or moved on (`catchUpCookie`); a fresh database's is 0.
        private var cookie: Int64 = 0
        /// How many commits moved the replay's cookie (`noteSchemaChange`), and
        /// the most recent ones, numbered in that count, with the log line of
        /// the statement that committed each and its writer.
        private var schemaChangeCount = 0
        private var schemaChanges: [(number: Int, line: Int, writer: String)] = []
        /// A connection of the replay's own, for `catchUpCookie`.
        private var upkeep: Connection?

        private(set) var statements = 0
        private(set) var skipped = 0
        private(set) var deferred = 0
        private(set) var restarts = 0
        private(set) var abandoned = 0
        private(set) var finished = 0
        private(set) var timed = 0
        private(set) var cookieMoves = 0
        /// Writers whose open transaction the replay ended because no line of
        /// theirs came for `window` lines while another waited for them
        /// (`endVanished`): a guess that they were killed.
        private var takenForVanished: Set<String> = []
        /// Those of them whose lines went on after all, in the order they did:
        /// the replay ended a transaction the run did not, so a difference after
        /// that gives no verdict.
        private(set) var resumed: [String] = []
        var writerCount: Int { writers.count }
        /// Whether the set-up's lines are in the log (it is one of `writerCount`).
        var setUpLogged: Bool { writers[TransactionID.setupLabel] != nil }

        init(databasePath: String, window: Int, order: CommitOrder?) {
            self.databasePath = databasePath
            self.window = window
            self.order = order
            raiseFileLimit()  // A composed run's log has a writer per driver invocation.
        }

        deinit {
            for writer in writers.values { writer.connection?.close() }
            upkeep?.close()
        }

        /// Drivers whose lines stop before `line` with no transaction open and
        /// no disconnect (`ended`), though the log went on: killed between
        /// statements. A kill can take a statement's line after its effect (an
        /// autocommit VACUUM, a first ANALYZE, an autocommit write), so the
        /// run's database may hold what no line of the log says. (A driver is
        /// a process of its own; the monolith's threads are `threadsBetweenStatements`.)
        func vanishedBetweenStatements(before line: Int) -> [String] {
            writers.filter { name, writer in
                TransactionID.driverBase(name) != nil && writer.betweenStatements(before: line)
            }.keys.sorted()
        }

        /// The monolith's threads whose lines stop before `line` with no
        /// transaction open and no disconnect. Its threads die together with
        /// their process, and each writes a disconnect at its end; so one of
        /// them vanished (killed between statements, as a driver above) only
        /// when no later line of the log is its own: the caller reads on.
        func threadsBetweenStatements(before line: Int) -> Set<String> {
            Set(writers.filter { name, writer in
                TransactionID.isThread(name) && writer.betweenStatements(before: line)
            }.keys)
        }

        // MARK: - Scheduling

        /// Queues one log entry and runs what can run; returns the first difference
        /// that no reordering explains, if any.
        func feed(_ entry: Entry) throws(ToolError) -> Mismatch? {
            line = entry.line
            switch entry.action {
            case .command(let command):
                // A writer from here on: one killed before its next line still vanished.
                writers[entry.writer, default: Writer()].command = command
                commands[command, default: []].append(entry.writer)
                return nil
            case .killed(let command):
                // Not a writer of its own: its writers' lines all came before it.
                killed.formUnion((commands.removeValue(forKey: command) ?? []).filter { writers[$0]?.ended == false })
                try pumpEndingKilled()
                return try overdue(endOfLog: false)
            default:
                break
            }
            if takenForVanished.remove(entry.writer) != nil { resumed.append(entry.writer) }
            if writers[entry.writer] == nil, entry.writer != TransactionID.setupLabel, !TransactionID.isThread(entry.writer) {
                onlyThreads = false
            }
            writers[entry.writer, default: Writer()].queue.append(entry)
            writers[entry.writer]!.lastFed = entry.line
            writers[entry.writer]!.ended = entry.action == .disconnect
            if entry.action == .disconnect, let command = writers[entry.writer]!.command {
                // Its end is in the log: a kill of its command no longer concerns it. (A
                // reconnect is no end: its lines go on, and the kill may still take them.)
                writers[entry.writer]!.command = nil
                commands[command]?.removeAll { $0 == entry.writer }
                if commands[command]?.isEmpty == true { commands[command] = nil }
            }
            pending.insert(entry.writer)
            try pumpEndingKilled()
            return try overdue(endOfLog: false)
        }

        /// At the end of the log nothing may still wait.
        func finish() throws(ToolError) -> Mismatch? {
            try pumpEndingKilled()
            return try overdue(endOfLog: true)
        }

        /// `pump`, then what killed writers left open once their last entries
        /// have run (`endKilled`), until neither moves.
        private func pumpEndingKilled() throws(ToolError) {
            try pump()
            while !killed.isEmpty, try endKilled() { try pump() }
        }

        /// Runs queued entries, the lowest log line first, until none can run.
        ///
        /// Waiting writers that block each other's attempts while a third holds
        /// the lock they both need (its next line not read yet) would each let
        /// the other try again forever: after a few rounds of attempts without an
        /// entry run, it stops and waits for the log's next line, which the
        /// holder needs to go on.
        private func pump() throws(ToolError) {
            var fruitless = 0
            while true {
                try catchUpCookie()
                // While a writer waits for a lock, no transaction the log puts after it starts.
                let barrier = pending.compactMap { name -> Int? in
                    guard case .lock? = writers[name]!.wait else { return nil }
                    return writers[name]!.queue.first?.line
                }.min() ?? Int.max
                var next: (name: String, line: Int)?
                for name in pending {
                    let writer = writers[name]!
                    guard let head = writer.queue.first, writer.wait == nil || writer.triedAt < epoch,
                          writer.inTransaction || writer.wait != nil || head.line <= barrier,
                          head.line < (next?.line ?? Int.max) else { continue }
                    next = (name, head.line)
                }
                guard let name = next?.name else { return }
                if try attempt(name) {
                    fruitless = 0
                } else {
                    fruitless += 1
                    if fruitless > 4 * pending.count + 8 { return }
                }
            }
        }

        /// Runs the writer's next entry, or rolls its transaction back to wait;
        /// returns whether the entry ran.
        private func attempt(_ name: String) throws(ToolError) -> Bool {
            let head = writers[name]!.queue.first!
            let wasWaiting = writers[name]!.wait != nil
            var step = try perform(name, head)
            if case .blocked = step, woundYounger(than: name) > 0 {
                step = try perform(name, head)
            }
            guard case .done(let count) = step else {
                if case .blocked = step { noteHolders(blocking: name) }
                // A transaction it held until now (or, waiting, one that held up
                // another writer): its rollback may let another writer on.
                let held = !writers[name]!.transaction.isEmpty || writers[name]!.inTransaction
                if held, !wasWaiting || writers[name]!.heldAnother { epoch += 1 }
                writers[name]!.heldAnother = false
                restart(name)
                switch (step, writers[name]!.wait) {
                case (.blocked, .lock?), (.outOfTurn, .turn?), (.differs, .result?): break  // Still waiting, since the first time.
                case (.differs(let mismatch), _):
                    writers[name]!.wait = .result(mismatch)
                    if writers[name]!.difference == nil { writers[name]!.difference = mismatch }
                case (.outOfTurn, _): writers[name]!.wait = .turn(head)
                default: writers[name]!.wait = .lock(head)
                }
                writers[name]!.triedAt = epoch
                return false
            }
            writers[name]!.queue.removeFirst()
            if writers[name]!.queue.isEmpty { pending.remove(name) }
            if wasWaiting { deferred += 1 }
            // Past the entry that had to wait: the wait is over.
            if let start = waitStart(name), head.line >= start { writers[name]!.wait = nil }
            if let difference = writers[name]!.difference, head.line >= difference.line { writers[name]!.difference = nil }
            if writers[name]!.inTransaction {
                writers[name]!.transaction.append((head, count))
            } else {
                // Committed or rolled back: what it waited for is behind it, and others may go on.
                writers[name]!.settledLine = head.line
                writers[name]!.transaction.removeAll()
                writers[name]!.wait = nil
                writers[name]!.difference = nil
                writers[name]!.heldAnother = false
                epoch += 1
            }
            return true
        }

        /// Among writers running a transaction again, the older goes first: when
        /// a writer meets a lock, waiting writers whose transactions began later
        /// in the log than its own and hold one now are rolled back and queued to
        /// run again (it is their turn after it). A transaction running in log
        /// order is never undone: it holds its locks as it did in the run.
        /// Returns how many were rolled back.
        private func woundYounger(than name: String) -> Int {
            let start = writers[name]!.start
            var wounded = 0
            for (other, writer) in writers
            where other != name && writer.wait != nil && writer.inTransaction && writer.start > start {
                restart(other)
                if writers[other]!.wait == nil, let head = writers[other]!.queue.first { writers[other]!.wait = .lock(head) }
                writers[other]!.triedAt = epoch
                if writers[other]!.queue.isEmpty { pending.remove(other) } else { pending.insert(other) }
                wounded += 1
            }
            return wounded
        }

        /// Waiting writers running their transactions again may hold what `name` met.
        private func noteHolders(blocking name: String) {
            for (other, writer) in writers where other != name && writer.wait != nil && writer.inTransaction {
                writers[other]!.heldAnother = true
            }
        }

        /// Rolls back the writer's replay transaction (if SQLite has not already)
        /// and queues its entries again, to run after another writer has moved on.
        private func restart(_ name: String) {
            if let connection = writers[name]!.connection, !connection.isAutocommit {
                _ = StatementRunner.run("ROLLBACK", on: connection)
            }
            writers[name]!.removed.removeAll()
            let transaction = writers[name]!.transaction
            guard !transaction.isEmpty else { return }
            for (_, count) in transaction { uncount(count) }
            writers[name]!.queue.insert(contentsOf: transaction.map(\.0), at: 0)
            writers[name]!.transaction.removeAll()
            restarts += 1
        }

        /// The log line of the entry a waiting writer waits at.
        private func waitStart(_ name: String) -> Int? {
            switch writers[name]!.wait {
            case .lock(let entry)?, .turn(let entry)?: entry.line
            case .result(let mismatch)?: mismatch.line
            case nil: nil
            }
        }

        /// The waiting writer that waits longest, and the line it waits at.
        private var oldestWait: (name: String, line: Int)? {
            pending.compactMap { name in waitStart(name).map { (name, $0) } }.min { $0.1 < $1.1 }
        }

        /// The difference of a writer that waited too long, if any. First, writers
        /// that hold a transaction open and logged nothing since before the wait
        /// began (or nothing more at all, at the end of the log) vanished in the
        /// run, and SQLite rolled them back there: the replay does too, and runs
        /// what that lets on.
        private func overdue(endOfLog: Bool) throws(ToolError) -> Mismatch? {
            while let (name, start) = oldestWait, endOfLog || line - start > window {
                let vanished = try endVanished(before: endOfLog ? Int.max : start)
                // Every waiting writer tries once more, whatever changed since it last tried.
                epoch += 1
                try pumpEndingKilled()
                guard let current = oldestWait else { return nil }
                if vanished > 0 || current != (name, start) { continue }
                if let difference = writers[name]!.difference { return difference }
                switch writers[name]!.wait! {
                case .result(let mismatch):
                    return mismatch
                case .turn(let head):
                    guard case .statement(let sql, let recorded) = head.action else { return nil }
                    return Mismatch(
                        line: head.line, writer: name, sql: sql, recorded: recorded,
                        replayed: "not run: the run committed other transactions before this one, and they never came")
                case .lock(let head):
                    guard case .statement(let sql, let recorded) = head.action else { return nil }
                    let holders = writers.filter { $0.key != name && $0.value.inTransaction }
                        .map { "\($0.key) (last line \($0.value.lastLine))" }.sorted()
                    let waited = endOfLog ? "to the end of the log" : "for \(window) log lines"
                    return Mismatch(
                        line: head.line, writer: name, sql: sql, recorded: recorded,
                        replayed: "SQLITE_BUSY (the database stayed locked in the replay \(waited); "
                            + (holders.isEmpty ? "no other writer has a transaction open" : "transactions open: "
                                + holders.joined(separator: ", ")) + ")")
                }
            }
            return nil
        }

        /// Ends the open transactions of writers with nothing queued whose last
        /// line came before `line` (they vanished in the run), and closes their
        /// connections; returns how many. SQLite rolled such a transaction back,
        /// unless the writer was killed inside its COMMIT after the commit took
        /// effect and before the line was logged: when its commit record is there
        /// and the run's database (`order`) has the transaction, in its ledger or
        /// in the record of compacted transactions, the replay commits it too.
        private func endVanished(before line: Int) throws(ToolError) -> Int {
            let names = writers.filter { $0.value.queue.isEmpty && $0.value.lastLine < line && $0.value.inTransaction }.keys
            takenForVanished.formUnion(names)
            return try end(names)
        }

        /// Ends what the killed writers whose last entries have run left open, at
        /// once: their process is gone, so their transactions ended in the run
        /// when it died, and no lock of theirs need be waited for up to `window`
        /// lines. A killed writer with no transaction open only has its
        /// connection closed: it still vanished between statements, whose last
        /// line the kill may have taken (`vanishedBetweenStatements`). The
        /// places the run's ledger gives its transactions that never came are
        /// dropped from the commit order (`CommitOrder.forget`). Returns whether
        /// it ended or dropped anything.
        private func endKilled() throws(ToolError) -> Bool {
            let done = killed.filter { writers[$0]!.queue.isEmpty }
            killed.subtract(done)
            for name in done where !writers[name]!.inTransaction {
                writers[name]!.connection?.close()
                writers[name]!.connection = nil
            }
            let ended = try end(done.filter { writers[$0]!.inTransaction })
            var forgotten = false
            for name in done {
                guard let order, let base = TransactionID.driverBase(name) else { continue }
                if try order.forget(base: base) { forgotten = true }
            }
            if forgotten { epoch += 1 }  // A commit that waited for its turn may now run.
            return ended > 0 || forgotten
        }

        /// Ends the open transactions of the writers `names` (see `endVanished`).
        private func end(_ names: some Sequence<String>) throws(ToolError) -> Int {
            var count = 0
            for name in names {
                let writer = writers[name]!
                let record = writer.transaction.lazy.compactMap { entry -> Int64? in
                    guard case .statement(let sql, _) = entry.0.action else { return nil }
                    return Bookkeeping.commitRecordTransaction(sql)
                }.last
                var fateKnown = true
                var committedInRun = false
                if let record, let order { committedInRun = try order.committedInRun(record) }
                if committedInRun, commitVanished(name) {
                    if changesSchema(writer.transaction) { noteSchemaChange(by: name, at: line, on: writer.connection!) }
                    goneTables.formUnion(writer.removed)
                    finished += 1
                    if let order, let record, let position = try order.position(of: record) {
                        // Committed before its turn (an earlier place of the run's order has not
                        // committed here, its line still to come): the replay's order is no
                        // longer the run's, so a difference after it gives no verdict.
                        if let next = order.next, position > next { fateKnown = false }
                        try order.committed(at: position)
                    }
                } else {
                    if committedInRun {
                        // The run committed it, but its COMMIT could not run here
                        // (another replayed connection's read holds the database):
                        // the replay goes on without a commit the run had, so a
                        // difference after it gives no verdict.
                        fateKnown = false
                    } else if record == nil, case .statement(let sql, _)? = writer.transaction.last?.0.action {
                        // A compaction of an earlier version of sqlite-stress, killed after its
                        // last statement: its COMMIT may have taken effect, and it has no commit
                        // record to show it.
                        // Rolled back here, it stays a writer that vanished between
                        // statements, so a difference after it gives no verdict.
                        fateKnown = !Compaction.mayEndCompaction(sql)
                    }
                    _ = StatementRunner.run("ROLLBACK", on: writer.connection!)
                    abandoned += 1
                }
                writer.connection!.close()
                writers[name]!.connection = nil
                writers[name]!.ended = fateKnown  // Its end is known: not one that vanished between statements.
                writers[name]!.transaction.removeAll()
                writers[name]!.removed.removeAll()
                count += 1
            }
            if count > 0 { epoch += 1 }
            return count
        }

        /// Commits a vanished writer's transaction, making way if younger
        /// transactions hold the database (their turn comes after it).
        private func commitVanished(_ name: String) -> Bool {
            let connection = writers[name]!.connection!
            var result = StatementRunner.run("COMMIT", on: connection).result
            if Replay.isContention(result), woundYounger(than: name) > 0 { result = StatementRunner.run("COMMIT", on: connection).result }
            return result == "ok"
        }

        // MARK: - Running one entry

        private enum Step { case done(Count), blocked, outOfTurn, differs(Mismatch) }

        private func perform(_ name: String, _ entry: Entry) throws(ToolError) -> Step {
            defer { writers[name]!.lastLine = max(writers[name]!.lastLine, entry.line) }
            switch entry.action {
            case .command, .killed:
                return .done(.none)  // Taken in by `feed`, never queued.
            case .disconnect, .reconnect:
                writers[name]!.removed.removeAll()
                writers[name]!.connection?.close()
                writers[name]!.connection = nil
                return .done(.none)
            case .rolledBackBySQLite:
                writers[name]!.removed.removeAll()
                if let connection = writers[name]!.connection, !connection.isAutocommit {
                    _ = StatementRunner.run("ROLLBACK", on: connection)
                }
                return .done(.none)
            case .statement(let sql, let recorded):
                if Replay.isContention(recorded) {
                    skipped += 1  // No effect in the run: SQLite undid it.
                    return .done(.skipped)
                }
                if recorded.hasPrefix("SQLITE_SCHEMA") {
                    // Another writer changed the schema while SQLite prepared it, again and again:
                    // SQLite ran none of it. Not run here either: timing, not content.
                    return notHeld()
                }
                let connection = try connection(name)
                let autocommit = connection.isAutocommit
                // A commit waits for its turn in the run's order.
                var position: Int64?
                if let order, commits(sql, name, autocommit: autocommit, recorded: recorded), let tx = entry.transactionID {
                    position = try order.position(of: tx)
                    if let position, let next = order.next, position > next { return .outOfTurn }
                }
                // An autocommit write runs in a transaction of its own, so that it can be undone.
                let wrapped = autocommit && StatementRunner.isDML(sql)
                // One that changed nothing in the run, and meets a lock here, ran there before the
                // lock's holder took it and logged after it: nothing to run, as for SQLITE_BUSY.
                let passes = wrapped && Self.hadNoEffect(recorded)
                if wrapped, Replay.isContention(StatementRunner.run("BEGIN", on: connection).result) { return passes ? notHeld() : .blocked }
                var read: Int64?
                let replayed = StatementRunner.run(
                    Replay.redirected(sql, besides: databasePath), on: connection,
                    row: Replay.readsCookie(sql) ? { read = $0.int64(0) } : nil
                ).result
                if let read { writers[name]!.readCookie = read }
                if replayed.hasPrefix("ok") {
                    notePair(sql, name, entry.line)
                    if Bookkeeping.context(of: sql) != nil { writers[name]!.schemaChangesAtContext = schemaChangeCount }
                }
                // The run removed each copy once it had checked it; a replay checks none, and leaves none behind.
                if Replay.isVacuumInto(sql) { try DatabaseFile.remove(Replay.copyPath(besides: databasePath)) }
                if Replay.isContention(replayed) {
                    guard passes, !connection.isAutocommit else { return .blocked }
                    _ = StatementRunner.run("ROLLBACK", on: connection)
                    return notHeld()
                }
                var count = Count.statement
                var undo = false
                if replayed != recorded, Replay.isStorageTrouble(replayed), !Replay.isStorageTrouble(recorded) {
                    // The replay's own disk or directory failed, not the statement: no difference to report.
                    throw ToolError("the replay database's storage failed at log line \(entry.line) (\(replayed), where the run "
                        + "recorded \(recorded)); replay into a directory with room that SQLite can write to (--db).")
                }
                if replayed.hasPrefix("SQLITE_ERROR"), recorded == "ok", let table = Replay.tableOfUpkeep(sql),
                   goneTables.contains(table.lowercased()) {
                    // A ledger trigger the run made, or an ANALYZE or REINDEX it ran, on a table
                    // the replay had renamed or dropped by then. SQLite finds a TEMP trigger's
                    // table in the schema the connection read last, and checks that schema
                    // afresh only when the table is not in it; the run's connection read its
                    // schema before the rename or drop committed (a driver reads it before its
                    // first line), and the log does not date that read. An autocommit ANALYZE
                    // or REINDEX is logged once its lock is free, after which the rename or
                    // drop can commit and log first. The trigger could never fire there (a
                    // table's name is never given again), and statistics change no result: the
                    // replay goes on without them. (A table the replay does not have yet waits,
                    // as any difference does, for the commit that makes it.)
                    return notHeld()
                }
                if replayed != recorded {
                    if wrapped, Self.hadNoEffect(recorded), changedByOthers(name, before: entry.line) {
                        // Run at another moment than the run ran it: it had no effect there, and has none here.
                        undo = true
                    } else if !isTiming(sql, name, entry.line, recorded: recorded, replayed: replayed) {
                        return .differs(Mismatch(line: entry.line, writer: name, sql: sql, recorded: recorded, replayed: replayed))
                    }
                    count = .timing
                }
                if wrapped, !connection.isAutocommit,
                   Replay.isContention(StatementRunner.run(undo ? "ROLLBACK" : "COMMIT", on: connection).result) {
                    return .blocked
                }
                if autocommit, !connection.isAutocommit, sql.hasPrefix("SAVEPOINT ") {
                    writers[name]!.outermost = String(sql.dropFirst("SAVEPOINT ".count))
                }
                if replayed.hasPrefix("ok"), let gone = Replay.removedTable(sql) { writers[name]!.removed.append(gone.lowercased()) }
                if connection.isAutocommit, !writers[name]!.removed.isEmpty {
                    // Renamed or dropped for good once it committed.
                    if replayed.hasPrefix("ok"), !undo, !StatementRunner.isRollback(sql) { goneTables.formUnion(writers[name]!.removed) }
                    writers[name]!.removed.removeAll()
                }
                if replayed.hasPrefix("ok"), connection.isAutocommit, !undo,
                   Replay.mayChangeSchema(sql) || (StatementRunner.mayCommit(sql) && changesSchema(writers[name]!.transaction)) {
                    noteSchemaChange(by: name, at: entry.line, on: connection)
                }
                if replayed.hasPrefix("ok"), connection.isAutocommit, !undo, StatementRunner.isDML(sql) || StatementRunner.mayCommit(sql) {
                    changes.append((entry.line, name))
                    if changes.count > 4096 { changes.removeFirst(2048) }
                    if let position { try order?.committed(at: position) }
                }
                if count == .timing { timed += 1 } else { statements += 1 }
                return .done(count)
            }
        }

        /// Notes how far the replay's schema cookie is behind the run's, when
        /// `sql` is a context statement and the writer's read of the cookie
        /// came before it.
        ///
        /// The workload names in each context statement the cookie it last read
        /// (`Bookkeeping.schemaQuery`, or `cookieQuery` inside a schema change
        /// it rolls back), and its ledger triggers let a write through only
        /// while the database's cookie is still that one. The replay's cookie
        /// falls behind the run's by schema changes the log does not carry: a
        /// driver killed after its autocommit VACUUM took effect and before its
        /// line was written moved the run's cookie and not the replay's, and
        /// every later guarded write would stop in the replay. Where a writer's
        /// read of the cookie is in the log (a driver logs the one it made
        /// before its first line), the replay reads its own there, and the
        /// writer's next context statement names the run's: the difference is
        /// the lag at that point. Once two pairs in a row show the same lag,
        /// the replay moves its cookie on by it (`catchUpCookie`), as the lost
        /// VACUUM moved the run's. One pair alone can be off by a schema change
        /// that the log puts on the other side of the read than the run did;
        /// none counts while another writer's replay transaction holds a schema
        /// change whose COMMIT line has not come (a read logged after the run's
        /// COMMIT and before its line), nor in a log whose writers are all
        /// threads of one `stress` (`onlyThreads`): a kill ends them together,
        /// so a lag there is a VACUUM's line held up, which comes later.
        private func notePair(_ sql: String, _ name: String, _ line: Int) {
            guard let read = writers[name]!.readCookie, let context = Bookkeeping.context(of: sql) else { return }
            writers[name]!.readCookie = nil
            // A transaction run again pairs its reads again: each pair counts once.
            guard line > pairedLine else { return }
            // The threads of one `stress` end together: a lag among them is a VACUUM's line
            // held up, never one a kill took while others went on logging.
            guard !onlyThreads else { return }
            pairedLine = line
            // A schema change whose COMMIT line is still to come (its writer held up before writing
            // it) explains a lag, if it ran before the read in the run: no pair while one is open.
            // Only a transaction that ran one is read: a read of the cookie in any other would begin
            // a read of the database there, which its transaction would then hold, and in a rollback
            // journal no other writer could commit until its lines came.
            guard !writers.contains(where: { other, writer in
                other != name && writer.inTransaction && changesSchema(writer.transaction)
                    && Self.cookie(of: writer.connection!).map { $0 > read } != false
            }) else { return }
            let lag = context.cookie - read
            guard lag > 0 else {
                lagSeen = nil
                return
            }
            let times = lagSeen?.lag == lag ? lagSeen!.times + 1 : 1
            if times >= 2 {
                cookieBehind = lag
                lagSeen = nil
            } else {
                lagSeen = (lag, times)
            }
        }

        /// The schema cookie `connection` reads (in its transaction, if one is
        /// open: with the schema changes it made); nil when the read fails.
        private static func cookie(of connection: Connection) -> Int64? {
            var cookie: Int64?
            guard StatementRunner.run(Bookkeeping.cookieQuery, on: connection, row: { cookie = $0.int64(0) }).error == nil else { return nil }
            return cookie
        }

        /// Whether a replay transaction's entries may have changed the schema: a
        /// statement that may (`Replay.mayChangeSchema`) and went through (its
        /// result, as recorded and replayed, `ok`; one that failed as SQLite
        /// prepared it took no lock and changed nothing).
        private func changesSchema(_ transaction: [(Entry, Count)]) -> Bool {
            transaction.contains { entry, _ in
                if case .statement(let sql, let recorded) = entry.action { recorded.hasPrefix("ok") && Replay.mayChangeSchema(sql) } else { false }
            }
        }

        /// Notes a commit of `name` that moved the replay's schema cookie, read
        /// on `connection` once a statement that may have committed a schema
        /// change (`Replay.mayChangeSchema`, or the COMMIT of a transaction
        /// that ran one) has run.
        private func noteSchemaChange(by name: String, at line: Int, on connection: Connection) {
            guard let now = Self.cookie(of: connection), now != cookie else { return }
            cookie = now
            schemaChangeCount += 1
            schemaChanges.append((schemaChangeCount, line, name))
            if schemaChanges.count > 1024 { schemaChanges.removeFirst(512) }
        }

        /// The other writers whose schema changes the replay committed after
        /// `name`'s last context statement (`noteSchemaChange`), in commit order
        /// and each once: after one, that writer's guard stops its writes here,
        /// as it did in the run only if the change committed first there too.
        func schemaChanged(since name: String) -> [String] {
            guard let since = writers[name]?.schemaChangesAtContext else { return [] }
            var seen: Set<String> = []
            return schemaChanges.filter { $0.number > since && $0.writer != name }.map(\.writer).filter { seen.insert($0).inserted }
        }

        /// Moves the replay's schema cookie on by `cookieBehind`, on a
        /// connection of its own (`PRAGMA schema_version = N`: every connection
        /// then reads the schema afresh, as after the VACUUM the log lost).
        /// While a writer holds a transaction the write waits for a later try.
        private func catchUpCookie() throws(ToolError) {
            guard cookieBehind > 0 else { return }
            var moved = false
            do throws(SQLiteError) {
                if upkeep == nil { upkeep = try Connection(path: databasePath, flags: [.readWrite]) }
                let connection = upkeep!
                if case .integer(let current)? = try connection.scalar(Bookkeeping.cookieQuery) {
                    try connection.execute("\(Bookkeeping.cookieQuery) = \(current + cookieBehind)")
                    moved = try connection.scalar(Bookkeeping.cookieQuery) == .integer(current + cookieBehind)
                }
            } catch where error.isBusy {
                return
            } catch {
                throw ToolError("cannot move the replay database's schema cookie on: \(error).")
            }
            guard moved else {
                throw ToolError("cannot move the replay database's schema cookie on (`PRAGMA schema_version = N` "
                    + "left it as it was): the run's moved where the log says nothing.")
            }
            cookie = Self.cookie(of: upkeep!) ?? cookie
            cookieBehind = 0
            cookieMoves += 1
            epoch += 1  // A write its guard stopped may now run.
        }

        /// Whether running `sql` would commit the writer's work: COMMIT or END, the
        /// RELEASE of the savepoint that opened the transaction, or a write to the
        /// database's own tables that changed rows outside a transaction.
        private func commits(_ sql: String, _ name: String, autocommit: Bool, recorded: String) -> Bool {
            if autocommit {
                return StatementRunner.isDML(sql) && !sql.hasPrefix("UPDATE temp.") && !sql.contains(" INTO temp.")
                    && recorded.hasPrefix("ok changes=") && !recorded.hasPrefix("ok changes=0")
            }
            if sql.hasPrefix("COMMIT") || sql.hasPrefix("END") { return true }
            guard let outermost = writers[name]!.outermost else { return false }
            return sql == "RELEASE " + outermost || sql == "RELEASE SAVEPOINT " + outermost
        }

        /// A statement whose recorded result is timing, not content: counted, not held to it.
        private func notHeld() -> Step {
            timed += 1
            return .done(.timing)
        }

        private func uncount(_ count: Count) {
            switch count {
            case .statement: statements -= 1
            case .skipped: skipped -= 1
            case .timing: timed -= 1
            case .none: break
            }
        }

        /// A successful read (rows, no change) whose row count differs is timing,
        /// not content, when another writer committed a change after the read's
        /// snapshot could have begun (in WAL mode a read sees the database as of its
        /// start, and the log records it at its end), or when it counts pages, not
        /// rows (`PRAGMA incremental_vacuum`); and a read the replay's schema
        /// refused where another writer's schema change committed after its
        /// snapshot could have begun. So is an autocommit write that changed
        /// nothing in the run (the log records it when its lock is already free, so
        /// another writer's commit can come first in the log): it is undone.
        private func isTiming(_ sql: String, _ name: String, _ line: Int, recorded: String, replayed: String) -> Bool {
            guard recorded.hasPrefix("ok"), !StatementRunner.isDML(sql), !StatementRunner.mayCommit(sql) else { return false }
            if replayed.hasPrefix(ResultCode.error.name) {
                // A read the replay's schema refused (a table or column gone) where the
                // run's read went through: its snapshot began after the writer's last
                // settled line, and there it may have begun before another writer's
                // schema change committed (a deferred transaction that read, then met
                // SQLITE_BUSY on a write, logs its lines after that change's). A read
                // changes nothing: timing, and the replay goes on.
                let after = writers[name]!.settledLine
                return sql.hasPrefix("SELECT")
                    && schemaChanges.contains { $0.line > after && $0.line < line && $0.writer != name }
            }
            guard replayed.hasPrefix("ok") else { return false }
            if sql.hasPrefix("PRAGMA incremental_vacuum") { return true }
            return changedByOthers(name, before: line)
        }

        /// Whether another writer committed a change that the log puts between
        /// the start of the writer's current snapshot (after its last entry that
        /// left no transaction open) and `line`: in the run, the entry at `line`
        /// may have run before that change or after it.
        private func changedByOthers(_ name: String, before line: Int) -> Bool {
            let after = writers[name]!.settledLine
            return changes.reversed().contains { $0.line > after && $0.line < line && $0.writer != name }
        }

        /// A recorded result of a write that changed nothing: no row, or an error.
        static func hadNoEffect(_ recorded: String) -> Bool {
            !recorded.hasPrefix("ok") || recorded == "ok changes=0" || recorded.hasPrefix("ok changes=0 ")
        }

        private func connection(_ name: String) throws(ToolError) -> Connection {
            if let existing = writers[name]!.connection { return existing }
            do {
                // No busy timeout: a lock the run waited out is met at once, and the entry waits here.
                let opened = try Connection(path: databasePath, flags: [.readWrite, .create])
                writers[name]!.connection = opened
                return opened
            } catch {
                throw ToolError("cannot open \(databasePath): \(error).")
            }
        }
    }
}

/// Raises the soft limit on open files to the hard limit.
private func raiseFileLimit() {
    #if canImport(Glibc)
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    let resource = RLIMIT_NOFILE
    #endif
    var limit = rlimit()
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(resource, &limit)
}
