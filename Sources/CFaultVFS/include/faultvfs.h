#ifndef SQLITE_STRESS_FAULTVFS_H
#define SQLITE_STRESS_FAULTVFS_H

// A fault-injecting SQLite VFS over the default unix VFS.
//
// Connections opened with the VFS name FAULTVFS_NAME pass every call through to
// the default VFS, except that, per the configuration, the VFS
//   - fails reads, writes, syncs and truncates the way a sick disk does
//     (benign faults SQLite is built to survive);
//   - plants the bugs of a dishonest storage stack (a sync that lies, a write
//     that is dropped, torn, bit-flipped or misdirected, a read that returns an
//     older version of the page);
//   - keeps, for every file, the writes not yet synced, so that a simulated
//     power loss can drop, keep or garble each of them: the latest of them, as
//     a disk's volatile cache and the kernel's dirty pages hold the latest
//     writes, not a run's whole history (see unsynced_limit).
// Every decision is drawn from one seeded generator, so a single-threaded
// workload sees the same faults at the same operations for the same seed.
// Only the main database, its rollback journal and its WAL are touched.

#include <stddef.h>
#include <stdint.h>

#define FAULTVFS_NAME "sqlite-stress-fault"
// The same files and the same power-loss record, never a fault: for the
// oracle's reads while the workload runs under faults.
#define FAULTVFS_QUIET_NAME "sqlite-stress-quiet"

// Fault kinds. The first three are benign; the rest are planted bugs.
enum {
    FAULTVFS_IO_ERROR = 0,       // read/write/sync/truncate fails with SQLITE_IOERR_*
    FAULTVFS_DISK_FULL,          // a write fails with SQLITE_FULL, nothing written
    FAULTVFS_SHORT_WRITE,        // a prefix of a write lands, SQLITE_FULL reported
    FAULTVFS_LYING_FSYNC,        // a sync reports success and makes nothing durable
    FAULTVFS_DROPPED_WRITE,      // a write reports success and is discarded
    FAULTVFS_BIT_FLIP,           // one bit of a write changes
    FAULTVFS_TORN_WRITE,         // only a prefix of a write lands, success reported
    FAULTVFS_STALE_READ,         // a read returns the previous version of the range
    FAULTVFS_MISDIRECTED_WRITE,  // a write lands at another page's offset
    FAULTVFS_KIND_COUNT,
    // Event kinds that are not configurable faults:
    FAULTVFS_CRASH = 100,        // the simulated power loss struck (offset: operation)
    FAULTVFS_POWER_LOSS = 101,   // the power loss applied to one file (see event fields)
};

// Operations, for events.
enum { FAULTVFS_OP_READ = 1, FAULTVFS_OP_WRITE, FAULTVFS_OP_SYNC, FAULTVFS_OP_TRUNCATE, FAULTVFS_OP_NONE };

// File roles.
enum { FAULTVFS_FILE_DB = 1, FAULTVFS_FILE_JOURNAL, FAULTVFS_FILE_WAL };

// Where a simulated power loss strikes.
enum {
    FAULTVFS_CRASH_NEVER = 0,    // only when faultvfs_crash_now() is called
    FAULTVFS_CRASH_AFTER_SYNC,   // right after the Nth successful sync
    FAULTVFS_CRASH_AT_WRITE,     // at the Nth write, which may or may not land
};

typedef struct faultvfs_config {
    uint64_t seed;
    // When set, every decision calls this instead of the seeded generator
    // (Antithesis's fuzz_get_random, so its fuzzer steers each fault).
    uint64_t (*random)(void);
    // Probability per eligible operation, 0 = off, for each kind.
    double rate[FAULTVFS_KIND_COUNT];
    int crash_mode;
    uint64_t crash_at;           // N for AFTER_SYNC / AT_WRITE
    // Keep unsynced writes so that a power loss can be simulated.
    int track_unsynced;
    // Syncs succeed without reaching the disk, yet count as syncs for the
    // power-loss record: for replays (sqlite-stress shrink) whose power loss is
    // simulated anyway and that would otherwise wait on the disk at every commit.
    int simulated_sync;
    // At most this many bytes of unsynced writes kept per file (what each
    // overwrote plus what it wrote), 0 for FAULTVFS_DEFAULT_UNSYNCED_LIMIT.
    // Past it the oldest unsynced operations count as written back: durable,
    // as the kernel's writeback and a disk's cache of bounded size make old
    // writes, synced or not. Without a bound a run that never syncs
    // (synchronous=OFF, a lying sync) would hold a copy of everything it
    // wrote, and its power loss would rewrite all of it.
    int64_t unsynced_limit;
} faultvfs_config;

#define FAULTVFS_DEFAULT_UNSYNCED_LIMIT ((int64_t)64 << 20)

typedef struct faultvfs_event {
    uint64_t operation;          // ordinal of the I/O operation (reads, writes, syncs, truncates)
    int kind;                    // FAULTVFS_* kind or event kind
    int op;                      // FAULTVFS_OP_*
    int file;                    // FAULTVFS_FILE_*
    int64_t offset;
    int64_t amount;              // bytes affected; for POWER_LOSS: unsynced writes
    int64_t detail;              // bit index, landed bytes, target offset; for POWER_LOSS: kept
    int64_t detail2;             // for POWER_LOSS: garbled (the rest were dropped)
} faultvfs_event;

// Registers both VFSes (neither as the default). Idempotent. Returns an SQLite code.
int faultvfs_register(void);

// Replaces the configuration and clears all state: events, unsynced writes,
// history, counters, the crashed flag. Call with no connection open on the VFS.
void faultvfs_configure(const faultvfs_config *config);

// Whether the simulated power loss has struck. Once it has, every read, write,
// sync, truncate, delete and open on the VFS fails until faultvfs_configure.
int faultvfs_crashed(void);

// Makes the power loss strike now (if it has not yet).
void faultvfs_crash_now(void);

// Applies the power loss to the files: every write not yet synced is dropped,
// kept or garbled sector by sector, each truncation kept or dropped. Files
// still open on the VFS are rewritten through their open handles (so locks
// held on them stay held), the others by path. Returns the number of files
// touched, or -1 if a file could not be rewritten.
int faultvfs_apply_power_loss(void);

// The events recorded so far (capped; faultvfs_event_total counts all).
size_t faultvfs_event_count(void);
uint64_t faultvfs_event_total(void);
int faultvfs_event_at(size_t index, faultvfs_event *out);

#endif
