import Foundation
import Testing

@testable import StressKit

@Suite struct AckLogTests {
    /// Every record `forEach` reads from the log at `path`, as "c42"-style strings.
    static func records(_ path: String) throws -> [String] {
        var seen: [String] = []
        try AckLog.forEach(at: path) { outcome, id, _ in seen.append("\(outcome.rawValue)\(id)") }
        return seen
    }

    // Records round-trip; a torn record is skipped, and the good record appended
    // right after it (glued onto the fragment) is still read, as that id and no other.
    @Test func recordsRoundTripAndTornLinesAreSkipped() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("x.acks")
        let log = try AckLog(path: path)
        log.acknowledge(42)
        log.rolledBack(1 << 32 | 7)
        log.acknowledge(-5)
        // A write that failed half way (another process's), then a good record appended after it.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        handle.write(Data("c 4294967".utf8))
        try handle.close()
        log.acknowledge(99)
        log.acknowledge(100)
        #expect(try Self.records(path) == ["c42", "r4294967303", "c-5", "c99", "c100"])
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix(AckLog.header + "\n"))
    }

    // A log that cannot serve as evidence is an error, never an empty log:
    // missing, empty, not ours, a directory, or a read that fails part way.
    @Test func unusableLogsAreErrorsNotEmptyLogs() throws {
        let directory = try TemporaryDirectory()
        try Data().write(to: URL(fileURLWithPath: directory.path("empty.acks")))
        try Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }).write(to: URL(fileURLWithPath: directory.path("garbage.acks")))
        try Data("c 1 -2\n".utf8).write(to: URL(fileURLWithPath: directory.path("headless.acks")))
        try FileManager.default.createDirectory(atPath: directory.path("dir.acks"), withIntermediateDirectories: false)
        // /proc/self/mem opens as a regular file and fails to read at offset 0 (EIO).
        for path in ["missing.acks", "empty.acks", "garbage.acks", "headless.acks", "dir.acks"].map(directory.path) + ["/proc/self/mem"] {
            #expect(throws: ToolError.self, "\(path)") { try Self.records(path) }
        }
        // The header alone is a readable log with nothing acknowledged yet.
        #expect(try Self.records(try { let p = directory.path("new.acks"); _ = try AckLog(path: p); return p }()) == [])
    }

    // A record that cannot be written, or synced, is counted (with the system's
    // reason), never silently dropped: the report names the evidence it lacks.
    @Test func failedWritesAndSyncsAreCounted() throws {
        let full = try AckLog(path: "/dev/full")  // Every write fails with ENOSPC.
        full.acknowledge(1)
        full.acknowledge(2)
        full.rolledBack(3)
        #expect(full.losses.unwritten == [.committed: 2, .rolledBack: 1])
        #expect(full.losses.error != nil)
        let unsyncable = try AckLog(path: "/dev/null", syncs: true)  // Writes land; fdatasync fails (EINVAL).
        unsyncable.awaitSync(unsyncable.acknowledge(1))
        #expect(unsyncable.losses.unwritten.isEmpty)
        #expect(unsyncable.losses.unsynced == 2)  // The header line's sync, and the record's.
    }

    // Records share syncs: a record waits up to the interval for the sync of
    // the records written after it, and one sync covers them all; a record
    // someone waits for (a power loss's marker, a run's last records) is synced
    // at once. Every sync of /dev/null fails and is counted, which shows how
    // many there were. (An hour's interval: a record synced early is a fault of
    // the grouping, never of a slow machine; a wait for the interval is one the
    // test gives up after a minute.)
    @Test func recordsShareSyncsUnlessWaitedFor() throws {
        let log = try AckLog(path: "/dev/null", syncs: true, interval: .seconds(3600))
        #expect(log.losses.unsynced == 1)  // The header line, waited for.
        for tx in Int64(1)...100 { log.acknowledge(tx) }
        log.rolledBack(101)
        #expect(log.losses.unsynced == 1, "a record was synced before the interval passed")
        try #require(Self.returns { log.awaitSyncOfAll() }, "waited for the interval")
        #expect(log.losses.unsynced == 2)  // One sync for the 101 records.
        try #require(Self.returns { log.powerLoss(relaxed: true) }, "waited for the interval")
        #expect(log.losses.unsynced == 3)
        log.awaitSyncOfAll()
        #expect(log.losses.unsynced == 3)  // Nothing written since.
    }

    // A record nobody waits for is still synced once the interval has passed
    // (a deadline that never comes would look like grouping above).
    @Test func recordsAreSyncedOnceTheIntervalPasses() throws {
        let log = try AckLog(path: "/dev/null", syncs: true, interval: .milliseconds(50))
        #expect(log.losses.unsynced == 1)  // The header line, waited for.
        log.acknowledge(1)
        let synced = Self.returns {
            while log.losses.unsynced < 2 { usleep(10_000) }
        }
        #expect(synced, "the record was not synced within a minute")
        #expect(log.losses.unsynced == 2)
    }

    // Closing the log syncs its last records at once, whatever the interval:
    // a driver ends with every record synced, and does not wait to.
    @Test func closingSyncsTheLastRecordsAtOnce() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("x.acks")
        nonisolated(unsafe) var log: AckLog? = try AckLog(path: path, syncs: true, interval: .seconds(3600))
        log?.acknowledge(7)
        try #require(Self.returns { log = nil }, "waited for the interval")  // The only reference: the log closes.
        #expect(try Self.records(path) == ["c7"])
    }

    // ... and syncs them: /dev/null counts the sync as it fails.
    @Test func closingSyncsTheLastRecords() throws {
        let log = try AckLog(path: "/dev/null", syncs: true, interval: .seconds(3600))
        #expect(log.losses.unsynced == 1)  // The header line, waited for.
        log.acknowledge(7)
        try #require(Self.returns { log.close() }, "waited for the interval")
        #expect(log.losses.unsynced == 2, "the last record was not synced as the log closed")
    }

    // A compaction syncs the whole file before it commits a fold: at once, on
    // its own thread, whatever `syncs` says and however long the interval. A
    // sync that fails is counted like the log's own and answered false, so
    // that nothing is folded; a closed log syncs nothing.
    @Test func syncingTheFileIsAtOnceAndAFailureIsCounted() throws {
        let directory = try TemporaryDirectory()
        let log = try AckLog(path: directory.path("x.acks"), syncs: false, interval: .seconds(3600))
        log.acknowledge(1)
        #expect(log.syncFile())
        #expect(log.losses.isEmpty)

        let unsyncable = try AckLog(path: "/dev/null", syncs: false, interval: .seconds(3600))  // fdatasync fails (EINVAL).
        let before = unsyncable.losses.unsynced
        unsyncable.acknowledge(1)
        #expect(unsyncable.losses.unsynced == before, "a record was synced without `syncs`")
        #expect(!unsyncable.syncFile())
        #expect(unsyncable.losses.unsynced == before + 1)
        #expect(unsyncable.losses.error != nil)
        unsyncable.close()
        #expect(!unsyncable.syncFile())
        #expect(unsyncable.losses.unsynced == before + 1)
    }

    /// Whether `body`, run on a thread of its own, returns within a minute.
    static func returns(_ body: @escaping @Sendable () -> Void) -> Bool {
        let finished = DispatchSemaphore(value: 0)
        Thread { body(); finished.signal() }.start()
        return finished.wait(timeout: .now() + 60) == .success
    }

    // Records are synced exactly where SQLite promises a commit survives a power
    // loss (https://www.sqlite.org/pragma.html#pragma_synchronous).
    @Test func recordsAreSyncedWhereCommitsSurvivePowerLoss() {
        func survives(_ mode: JournalMode, _ level: String) -> Bool {
            DatabaseConfig(pageSize: 4096, journalMode: mode, synchronous: level, cacheSize: 100, autoVacuum: "NONE")
                .commitsSurvivePowerLoss
        }
        for mode in JournalMode.allCases {
            #expect(!survives(mode, "OFF"))
            #expect(survives(mode, "FULL") && survives(mode, "EXTRA"))
            #expect(survives(mode, "NORMAL") == (mode != .wal))
        }
    }

    // Each record comes with the offset just past its line, across the reads of a long log.
    @Test func recordsComeWithTheirOffsets() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("x.acks")
        let log = try AckLog(path: path, syncs: false)
        for tx in Int64(1)...5_000 { log.acknowledge(tx << 20) }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let ends = bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }.map { $0 + 1 }.dropFirst()  // Past the header.
        var offsets: [Int] = []
        try AckLog.forEach(at: path) { _, _, end in offsets.append(end) }
        #expect(offsets == Array(ends))
        #expect(bytes.count > 1 << 16, "the log spans more than one read")
    }

    // Only a whole record is read, also when it ends a line after a torn fragment.
    @Test func parseRejectsAnythingButAWholeRecord() throws {
        #expect(try #require(AckLog.parse("c 12 -13")) == (.committed, 12))
        #expect(try #require(AckLog.parse("r -4 3")) == (.rolledBack, -4))
        #expect(try #require(AckLog.parse("c 4294967c 12 -13")) == (.committed, 12))
        #expect(try #require(AckLog.parse("r 5p 1 -2")) == (.powerLoss, 1))
        for bad in ["c 12 -12", "c 12", "12 -13", "x 12 -13", "c 1 -2 3", "c 12 -13c", "c 4294967", ""] {
            #expect(AckLog.parse(Substring(bad)) == nil, "accepted \(bad)")
        }
    }
}

extension AckLog {
    /// `parse` of a line given as text.
    static func parse(_ line: Substring) -> (Outcome, Int64)? {
        Array(line.utf8).withUnsafeBufferPointer { parse($0) }
    }
}

@Suite struct AckRecordParsingTests {
    /// A record line as the standard library reads it: fields split on spaces,
    /// each read by `Int64("…")` and `Outcome(rawValue:)`. `parse`, which reads
    /// bytes, must read every line as this does.
    static func reference(_ line: Substring) -> (AckLog.Outcome, Int64)? {
        func whole(_ line: Substring) -> (AckLog.Outcome, Int64)? {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let outcome = AckLog.Outcome(rawValue: String(fields[0])),
                  let id = Int64(fields[1]), let check = Int64(fields[2]), check == ~id else { return nil }
            return (outcome, id)
        }
        if let record = whole(line) { return record }
        var rest = line.dropFirst()
        while let letter = rest.firstIndex(where: { AckLog.Outcome(rawValue: String($0)) != nil }) {
            if let record = whole(line[letter...]) { return record }
            rest = line[line.index(after: letter)...]
        }
        return nil
    }

    // Whole records, torn ones, records glued to fragments, signs, spacing,
    // overflow and stray bytes: 50,000 lines drawn from pieces of each, read
    // alike by both (and a few thousand of them as records).
    @Test func bytesAreReadAsTheStandardLibraryReadsThem() {
        var rng = Xoshiro(seed: 16)
        func id() -> Int64 {
            switch rng.int(in: 0...5) {
            case 0: return 0
            case 1: return .max
            case 2: return .min
            case 3: return Int64(rng.int(in: -3...3))
            default: return Int64(bitPattern: rng.next())
            }
        }
        func number(_ value: Int64) -> String {
            switch rng.int(in: 0...9) {
            case 0: return "+\(value)"
            case 1: return "\(value)0"  // Too long, or a different number.
            case 2: return value < 0 ? "-" : "+"
            case 3: return "9223372036854775808"
            case 4: return "-9223372036854775809"
            case 5: return String("\(value)".prefix(rng.int(in: 0...3)))  // Torn.
            default: return "\(value)"
            }
        }
        let letters = ["c", "r", "p", "w", "x", "", "é", "c\u{301}", "cc"]
        let spaces = [" ", " ", " ", "  ", "", " \u{301}"]
        var read = 0
        for _ in 0..<50_000 {
            var line = ""
            for _ in 0..<rng.int(in: 1...3) {
                let value = id()
                let check = rng.int(in: 0...3) == 0 ? value : ~value
                line += letters[rng.int(in: 0...(letters.count - 1))] + spaces[rng.int(in: 0...(spaces.count - 1))] + number(value)
                    + spaces[rng.int(in: 0...(spaces.count - 1))] + number(check)
                if rng.int(in: 0...4) == 0 { line = String(line.prefix(rng.int(in: 0...line.count))) }
            }
            if rng.int(in: 0...9) == 0 { line = " " + line + " " }
            let expected = Self.reference(line[...])
            let actual = AckLog.parse(line[...])
            #expect(expected?.0 == actual?.0 && expected?.1 == actual?.1, "\(line.debugDescription)")
            if actual != nil { read += 1 }
        }
        #expect(read > 1_000, "only \(read) lines read as records")
    }
}

@Suite struct WriterReservationTests {
    // Every reservation, by any log open on the file (each process has its own),
    // gets a base of its own: 257 + the record's offset / 7. So a driver rerun,
    // or thousands of drivers over hours, never share transaction ids.
    @Test func reservationsNeverShareABase() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("x.acks")
        let first = try AckLog(path: path, syncs: false), second = try AckLog(path: path, syncs: true)
        var bases: [Int64] = []
        for round in 0..<20 {
            let log = round % 3 == 0 ? second : first
            let (base, ticket) = try log.reserveWriter()
            log.awaitSync(ticket)
            bases.append(base)
            // Records of other lengths between reservations (waiting for one that is not synced returns at once).
            for n in 0..<(round % 4) { log.awaitSync(log.acknowledge(TransactionID.make(base: base, number: n + 1))) }
        }
        let reopened = try AckLog(path: path)
        bases.append(try reopened.reserveWriter().base)
        #expect(Set(bases).count == bases.count)
        #expect(bases.allSatisfy { $0 >= TransactionID.firstDriverBase })

        // Each base names where its record starts.
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        var offsets: [Int] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            if bytes[start...index].elementsEqual(AckLog.reservation.utf8) { offsets.append(start) }
            start = index + 1
        }
        #expect(bases == offsets.map { TransactionID.firstDriverBase + Int64($0 / 7) })
        #expect(try AckLogTests.records(path).filter { $0.hasPrefix("w") } == Array(repeating: "w0", count: bases.count))
    }

    // A reservation that cannot be written whole, or that no id can name any
    // more, is an error: never a base that might be someone else's.
    @Test func reservationsThatCannotBeMadeAreErrors() throws {
        #expect(throws: ToolError.self) { try AckLog(path: "/dev/full").reserveWriter() }
        let directory = try TemporaryDirectory()
        let path = directory.path("huge.acks")
        _ = try AckLog(path: path)
        // A sparse log grown past what a base can name (7 × 2^31 bytes).
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 7 << 31)
        try handle.close()
        let error = try #require(throws: ToolError.self) { try AckLog(path: path, syncs: false).reserveWriter() }
        #expect(error.message.contains("start a fresh database"))
    }
}
