import Foundation
import StressSQLite
import Synchronization
import Testing

/// Each driver invocation writes under transaction ids no other invocation on
/// the database has: the ids are how the oracle tells a committed write from a
/// rolled-back one, so two writers sharing them would be a false alarm waiting.
@Suite struct DriverIdentityTests {
    /// The `c`/`r` records of the database's acknowledgement log, as "c <id>" strings.
    static func outcomes(_ db: URL) throws -> [String] {
        try String(contentsOf: URL(fileURLWithPath: db.path + ".acks"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("c ") || $0.hasPrefix("r ") }
            .map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
    }

    static func label(_ result: CommandResult) throws -> String {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(json["label"] as? String)
    }

    // A driver rerun with its seed draws the same work, but not the same ids.
    // This sequence once reported `rollback` violated on a clean SQLite: the
    // second insert rolled back a transaction whose id the first had committed.
    @Test func aRerunDriverWritesUnderIdsOfItsOwn() throws {
        let scratch = try Scratch()
        let db = scratch.file("rerun.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "1", "-q"]).status == 0)
        var labels: [String] = []
        for driver in ["insert", "drop-table", "insert"] {
            let result = try CLI.run([driver, "--db", db.path, "--seed", "8", "--json"])
            #expect(result.status == 0, "\(driver): \(result.stderr)")
            labels.append(try Self.label(result))
        }
        #expect(Set(labels).count == 3, "\(labels)")
        let outcomes = try Self.outcomes(db)
        #expect(!outcomes.isEmpty)
        #expect(Set(outcomes.map { $0.dropFirst(2) }).count == outcomes.count, "an id was recorded twice: \(outcomes)")
        let check = try CLI.run(["check", "--db", db.path])
        #expect(check.status == 0, "\(check.stdout)")
    }

    // Drivers started at once, all with one seed, still get ids of their own.
    @Test func concurrentDriversWriteUnderIdsOfTheirOwn() throws {
        let scratch = try Scratch()
        let db = scratch.file("together.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "1", "-q"]).status == 0)
        let results = Mutex<[Int: Result<CommandResult, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: 6) { index in
            let result = Result { try CLI.run(["update", "--db", db.path, "--seed", "8", "--json"]) }
            results.withLock { $0[index] = result }
        }
        let finished = try results.withLock { $0 }.values.map { try $0.get() }
        #expect(finished.count == 6)
        for result in finished { #expect(result.status == 0, "\(result.stderr)") }
        let labels = try finished.map(Self.label)
        #expect(Set(labels).count == labels.count, "\(labels)")
        let outcomes = try Self.outcomes(db)
        #expect(Set(outcomes.map { $0.dropFirst(2) }).count == outcomes.count, "an id was recorded twice: \(outcomes)")
        let check = try CLI.run(["check", "--db", db.path])
        #expect(check.status == 0, "\(check.stdout)")
    }

    /// A library that, preloaded, makes every sync of an acknowledgement log
    /// (`*.acks`) take 300 ms longer, and appends to the file `$SLOW_ACKS_TRACE`,
    /// in the order they happen, `synced <path>` when such a sync returns and
    /// `wrote <path>` for each write to a file whose name ends in `.db` or
    /// `.db-wal`: what a commit writes (a rollback journal's undo copies of
    /// pages, written before, are no commit).
    static let slowAcksSync = #"""
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>

        static int path_of(int fd, char *path, size_t size) {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(link, path, size - 1);
            if (n < 0) return 0;
            path[n] = 0;
            return 1;
        }
        static int ends_with(const char *text, const char *end) {
            size_t t = strlen(text), e = strlen(end);
            return t >= e && strcmp(text + t - e, end) == 0;
        }
        static void note(const char *what, const char *path) {
            const char *trace = getenv("SLOW_ACKS_TRACE");
            if (!trace) return;
            int fd = open(trace, O_WRONLY | O_APPEND | O_CREAT, 0644);
            if (fd < 0) return;
            char line[4200];
            int n = snprintf(line, sizeof line, "%s %s\n", what, path);
            if (write(fd, line, n) != n) abort();
            close(fd);
        }
        static int sync_file(const char *name, int fd) {
            int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
            char path[4096];
            int acks = path_of(fd, path, sizeof path) && ends_with(path, ".acks");
            if (acks) usleep(300000);
            int result = real(fd);
            if (acks) note("synced", path);
            return result;
        }
        int fsync(int fd) { return sync_file("fsync", fd); }
        int fdatasync(int fd) { return sync_file("fdatasync", fd); }
        static void note_write(int fd) {
            char path[4096];
            if (path_of(fd, path, sizeof path) && (ends_with(path, ".db") || ends_with(path, ".db-wal")))
                note("wrote", path);
        }
        ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset) {
            note_write(fd);
            return ((ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite"))(fd, buffer, count, offset);
        }
        ssize_t pwrite64(int fd, const void *buffer, size_t count, off_t offset) {
            note_write(fd);
            return ((ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64"))(fd, buffer, count, offset);
        }
        """#

    // A driver's ids are its reservation's place in the acknowledgement log, so
    // the reservation must be on stable storage before anything under those ids
    // can be: a power loss that took it away would hand the place, and ids
    // already in the database, to the next writer. With that sync slowed down,
    // the driver writes nothing to the database file until it has returned.
    // (The database is in DELETE mode: the rollback journal's undo copies go
    // first, and the commit writes the database file.)
    @Test func aDriverWritesNothingBeforeItsReservationIsSynced() throws {
        let scratch = try Scratch()
        let db = scratch.file("r.db")
        #expect(try CLI.run(["schema", "--db", db.path, "--seed", "1", "-q"]).status == 0)
        let shim = scratch.file("slow-acks-sync.so")
        try SQLiteChoiceTests.compile(Self.slowAcksSync, into: shim)
        let trace = scratch.file("trace")

        let insert = try CLI.run(["insert", "--db", db.path, "--seed", "2", "-q"],
                                 environment: ["LD_PRELOAD": shim.path, "SLOW_ACKS_TRACE": trace.path])
        #expect(insert.status == 0, "\(insert.stdout)\(insert.stderr)")
        let events = try String(contentsOf: trace, encoding: .utf8).split(separator: "\n")
        let synced = try #require(events.firstIndex { $0.hasPrefix("synced ") && $0.hasSuffix("/r.db.acks") }, "no sync of the acknowledgement log: \(events)")
        let wrote = try #require(events.firstIndex { $0.hasPrefix("wrote ") }, "no write to the database: \(events.prefix(5))")
        #expect(synced < wrote, "\(events[wrote]) came before the reservation was synced")
        let connection = try Connection(path: db.path)
        #expect(try connection.scalar("PRAGMA journal_mode") == .text("delete"), "the journal mode the comment above assumes")
        connection.close()
        #expect(try CLI.run(["check", "--db", db.path]).status == 0)
    }
}
