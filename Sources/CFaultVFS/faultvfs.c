// The fault-injecting VFS described in include/faultvfs.h.
//
// Every I/O method of a tracked file (main database, rollback journal, WAL)
// runs under one process-wide mutex: fault decisions, the record of unsynced
// writes and the underlying call happen as one step, which keeps the record
// exact and the random stream in operation order. Files SQLite opens for
// anything else (temporary files, the checker's TEMP tables) pass straight through.

#include "faultvfs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The granularity at which a power loss garbles a write in flight.
#define GARBLE_SECTOR 512
#define MAX_EVENTS 100000

typedef struct FaultFile FaultFile;

// One write or truncation not yet made durable by a sync of its file.
typedef struct Pending {
    int op;                  // FAULTVFS_OP_WRITE or FAULTVFS_OP_TRUNCATE
    int64_t offset;          // where the write starts, or the new size
    int64_t length;          // bytes written (writes)
    int64_t size_before;     // the file's size before the operation
    unsigned char *before;   // what the operation overwrote or cut off
    int64_t before_length;
    unsigned char *data;     // what was written (writes)
} Pending;

// The previous contents of one range, for stale reads.
typedef struct Version {
    int64_t offset;          // -1: empty slot
    int64_t length;
    unsigned char *bytes;
} Version;

// What the VFS knows about one path, across opens and closes.
typedef struct Tracked {
    char *path;
    int role;
    FaultFile *open;         // handles open on this path
    Pending *pending;
    size_t pending_count, pending_capacity;
    int64_t pending_bytes;   // held by pending: what each overwrote and wrote
    Version *versions;       // open addressing on offset
    size_t version_count, version_capacity;
    struct Tracked *next;
} Tracked;

struct FaultFile {
    sqlite3_file base;
    sqlite3_file *real;      // the unix VFS's file, allocated right after this struct
    Tracked *tracked;        // NULL for untracked files
    int quiet;               // opened through the quiet VFS: tracked, never faulted
    FaultFile *next_open;
};

static struct {
    pthread_mutex_t mutex;
    sqlite3_vfs vfs, quiet_vfs;
    sqlite3_vfs *root;
    int registered;
    faultvfs_config config;
    int crashed;
    uint64_t state[4];
    uint64_t operations, syncs, writes;
    Tracked *files;
    faultvfs_event *events;
    size_t event_count, event_capacity;
    uint64_t event_total;
} G = { .mutex = PTHREAD_MUTEX_INITIALIZER };

// MARK: - Randomness (xoshiro256** seeded by SplitMix64)

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_random(void) {
    if (G.config.random) return G.config.random();
    uint64_t *s = G.state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

// 0 ..< bound (bound > 0); the tiny modulo bias does not matter for fault choices.
static uint64_t below(uint64_t bound) { return next_random() % bound; }

// Whether a fault of `kind` strikes this operation. Draws only for active kinds,
// so a configuration's random stream depends on nothing but the operations.
static int strikes(const FaultFile *f, int kind) {
    double rate = G.config.rate[kind];
    if (f->quiet || rate <= 0) return 0;
    return (double)(next_random() >> 11) * 0x1.0p-53 < rate;
}

// MARK: - Events

static void record_event(int kind, int op, int file, int64_t offset, int64_t amount, int64_t detail, int64_t detail2) {
    G.event_total++;
    if (G.event_count == MAX_EVENTS) return;
    if (G.event_count == G.event_capacity) {
        size_t capacity = G.event_capacity ? G.event_capacity * 2 : 64;
        faultvfs_event *grown = realloc(G.events, capacity * sizeof *grown);
        if (!grown) return;
        G.events = grown;
        G.event_capacity = capacity;
    }
    G.events[G.event_count++] = (faultvfs_event){
        .operation = G.operations, .kind = kind, .op = op, .file = file,
        .offset = offset, .amount = amount, .detail = detail, .detail2 = detail2,
    };
}

// MARK: - Tracked files

static Tracked *find_tracked(const char *path) {
    for (Tracked *t = G.files; t; t = t->next) {
        if (strcmp(t->path, path) == 0) return t;
    }
    return NULL;
}

static Tracked *tracked_for(const char *path, int role) {
    Tracked *t = find_tracked(path);
    if (t) return t;
    t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->path = strdup(path);
    if (!t->path) {
        free(t);
        return NULL;
    }
    t->role = role;
    t->next = G.files;
    G.files = t;
    return t;
}

static void clear_pending(Tracked *t) {
    for (size_t i = 0; i < t->pending_count; i++) {
        free(t->pending[i].before);
        free(t->pending[i].data);
    }
    t->pending_count = 0;
    t->pending_bytes = 0;
}

static int64_t held_bytes(const Pending *p) {
    return p->before_length + (p->op == FAULTVFS_OP_WRITE ? p->length : 0);
}

// Counts the operation just recorded (the last) and, past the limit, writes
// the oldest back: they leave the record, durable, until half the limit is
// held (each undo restores what the next older one left, so the operations
// still recorded undo to the file as the written-back ones made it).
static void hold_pending(Tracked *t) {
    t->pending_bytes += held_bytes(&t->pending[t->pending_count - 1]);
    int64_t limit = G.config.unsynced_limit > 0 ? G.config.unsynced_limit : FAULTVFS_DEFAULT_UNSYNCED_LIMIT;
    if (t->pending_bytes <= limit) return;
    size_t retired = 0;
    // The newest operation always stays: a power loss may still take it.
    while (retired + 1 < t->pending_count && t->pending_bytes > limit / 2) {
        t->pending_bytes -= held_bytes(&t->pending[retired]);
        free(t->pending[retired].before);
        free(t->pending[retired].data);
        retired++;
    }
    memmove(t->pending, t->pending + retired, (t->pending_count - retired) * sizeof *t->pending);
    t->pending_count -= retired;
}

static void clear_versions(Tracked *t) {
    for (size_t i = 0; i < t->version_capacity; i++) free(t->versions[i].bytes);
    free(t->versions);
    t->versions = NULL;
    t->version_count = t->version_capacity = 0;
}

static Pending *add_pending(Tracked *t) {
    if (t->pending_count == t->pending_capacity) {
        size_t capacity = t->pending_capacity ? t->pending_capacity * 2 : 16;
        Pending *grown = realloc(t->pending, capacity * sizeof *grown);
        if (!grown) return NULL;
        t->pending = grown;
        t->pending_capacity = capacity;
    }
    Pending *p = &t->pending[t->pending_count++];
    memset(p, 0, sizeof *p);
    return p;
}

static size_t version_slot(Version *table, size_t capacity, int64_t offset) {
    size_t i = (size_t)(((uint64_t)offset * 0x9E3779B97F4A7C15ULL) >> 7) & (capacity - 1);
    while (table[i].offset != -1 && table[i].offset != offset) i = (i + 1) & (capacity - 1);
    return i;
}

// Remembers `bytes` as the previous version of [offset, offset+length).
static void remember_version(Tracked *t, int64_t offset, const unsigned char *bytes, int64_t length) {
    if (t->version_count * 2 >= t->version_capacity) {
        size_t capacity = t->version_capacity ? t->version_capacity * 2 : 256;
        Version *table = malloc(capacity * sizeof *table);
        if (!table) return;
        for (size_t i = 0; i < capacity; i++) table[i] = (Version){ .offset = -1 };
        for (size_t i = 0; i < t->version_capacity; i++) {
            if (t->versions[i].offset == -1) continue;
            table[version_slot(table, capacity, t->versions[i].offset)] = t->versions[i];
        }
        free(t->versions);
        t->versions = table;
        t->version_capacity = capacity;
    }
    unsigned char *copy = malloc((size_t)length);
    if (!copy) return;
    memcpy(copy, bytes, (size_t)length);
    Version *v = &t->versions[version_slot(t->versions, t->version_capacity, offset)];
    if (v->offset == -1) t->version_count++;
    free(v->bytes);
    *v = (Version){ .offset = offset, .length = length, .bytes = copy };
}

static const Version *find_version(Tracked *t, int64_t offset, int64_t length) {
    if (!t->version_capacity) return NULL;
    const Version *v = &t->versions[version_slot(t->versions, t->version_capacity, offset)];
    return v->offset == offset && v->length == length ? v : NULL;
}

// MARK: - I/O on a real file (through an open handle, or by path)

typedef struct Target {
    sqlite3_file *real;      // an open handle, or NULL
    int fd;                  // else a descriptor opened by path
} Target;

// The unix VFS writes at most 128 KiB per call (SQLite itself never asks for
// more than a page), so restoring a long truncated range goes in pieces.
#define HANDLE_WRITE_MAX 65536

static int target_write(Target *t, const void *bytes, int64_t length, int64_t offset) {
    const unsigned char *p = bytes;
    if (t->real) {
        while (length > 0) {
            int n = length > HANDLE_WRITE_MAX ? HANDLE_WRITE_MAX : (int)length;
            if (t->real->pMethods->xWrite(t->real, p, n, offset) != SQLITE_OK) return -1;
            p += n;
            offset += n;
            length -= n;
        }
        return 0;
    }
    while (length > 0) {
        ssize_t n = pwrite(t->fd, p, (size_t)length, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        offset += n;
        length -= n;
    }
    return 0;
}

static int target_resize(Target *t, int64_t size) {
    if (t->real) return t->real->pMethods->xTruncate(t->real, size) == SQLITE_OK ? 0 : -1;
    return ftruncate(t->fd, size);
}

// Reads what [offset, offset+length) of an open file holds now (within its size).
static int read_before(sqlite3_file *real, int64_t offset, int64_t length, int64_t *size,
                       unsigned char **before, int64_t *before_length) {
    sqlite3_int64 current = 0;
    if (real->pMethods->xFileSize(real, &current) != SQLITE_OK) return -1;
    *size = current;
    int64_t available = current - offset;
    if (available > length) available = length;
    *before = NULL;
    *before_length = 0;
    if (available <= 0) return 0;
    unsigned char *buffer = malloc((size_t)available);
    if (!buffer) return -1;
    int rc = real->pMethods->xRead(real, buffer, (int)available, offset);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {
        free(buffer);
        return -1;
    }
    *before = buffer;
    *before_length = available;
    return 0;
}

// MARK: - Writes that land

// Writes through to the real file, first recording what the write replaces.
static int land_write(FaultFile *f, const void *data, int64_t length, int64_t offset) {
    Tracked *t = f->tracked;
    int track = G.config.track_unsynced;
    int versions = G.config.rate[FAULTVFS_STALE_READ] > 0;
    if (track || versions) {
        int64_t size = 0, before_length = 0;
        unsigned char *before = NULL;
        if (read_before(f->real, offset, length, &size, &before, &before_length) != 0) return SQLITE_IOERR_WRITE;
        if (versions && before_length == length) remember_version(t, offset, before, before_length);
        if (track) {
            Pending *p = add_pending(t);
            unsigned char *copy = malloc((size_t)length);
            if (!p || !copy) {
                free(before);
                free(copy);
                if (p) t->pending_count--;
                return SQLITE_NOMEM;
            }
            memcpy(copy, data, (size_t)length);
            *p = (Pending){
                .op = FAULTVFS_OP_WRITE, .offset = offset, .length = length, .size_before = size,
                .before = before, .before_length = before_length, .data = copy,
            };
            hold_pending(t);
        } else {
            free(before);
        }
    }
    return f->real->pMethods->xWrite(f->real, data, (int)length, offset);
}

// MARK: - io methods

static int fault_close(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    if (f->tracked) {
        pthread_mutex_lock(&G.mutex);
        for (FaultFile **p = &f->tracked->open; *p; p = &(*p)->next_open) {
            if (*p == f) {
                *p = f->next_open;
                break;
            }
        }
        pthread_mutex_unlock(&G.mutex);
    }
    return f->real->pMethods->xClose(f->real);
}

static int fault_read(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset) {
    FaultFile *f = (FaultFile *)file;
    if (!f->tracked) return f->real->pMethods->xRead(f->real, buffer, amount, offset);
    pthread_mutex_lock(&G.mutex);
    int rc;
    int role = f->tracked->role;
    if (G.crashed) {
        rc = SQLITE_IOERR_READ;
    } else {
        G.operations += !f->quiet;
        if (strikes(f, FAULTVFS_IO_ERROR)) {
            record_event(FAULTVFS_IO_ERROR, FAULTVFS_OP_READ, role, offset, amount, 0, 0);
            rc = SQLITE_IOERR_READ;
        } else {
            rc = f->real->pMethods->xRead(f->real, buffer, amount, offset);
            if (rc == SQLITE_OK && role != FAULTVFS_FILE_JOURNAL && strikes(f, FAULTVFS_STALE_READ)) {
                const Version *v = find_version(f->tracked, offset, amount);
                if (v) {
                    memcpy(buffer, v->bytes, (size_t)amount);
                    record_event(FAULTVFS_STALE_READ, FAULTVFS_OP_READ, role, offset, amount, 0, 0);
                }
            }
        }
    }
    pthread_mutex_unlock(&G.mutex);
    return rc;
}

static int fault_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset) {
    FaultFile *f = (FaultFile *)file;
    if (!f->tracked) return f->real->pMethods->xWrite(f->real, data, amount, offset);
    pthread_mutex_lock(&G.mutex);
    int rc;
    int role = f->tracked->role;
    int planted = role != FAULTVFS_FILE_JOURNAL;
    if (G.crashed) {
        rc = SQLITE_IOERR_WRITE;
        goto done;
    }
    G.operations += !f->quiet;
    G.writes += !f->quiet;
    if (!f->quiet && G.config.crash_mode == FAULTVFS_CRASH_AT_WRITE && G.writes == G.config.crash_at) {
        // The power fails during this write: it may or may not reach the disk cache.
        int lands = (int)below(2);
        if (lands) land_write(f, data, amount, offset);
        G.crashed = 1;
        record_event(FAULTVFS_CRASH, FAULTVFS_OP_WRITE, role, offset, amount, lands, 0);
        rc = SQLITE_IOERR_WRITE;
        goto done;
    }
    if (strikes(f, FAULTVFS_IO_ERROR)) {
        record_event(FAULTVFS_IO_ERROR, FAULTVFS_OP_WRITE, role, offset, amount, 0, 0);
        rc = SQLITE_IOERR_WRITE;
    } else if (strikes(f, FAULTVFS_DISK_FULL)) {
        record_event(FAULTVFS_DISK_FULL, FAULTVFS_OP_WRITE, role, offset, amount, 0, 0);
        rc = SQLITE_FULL;
    } else if (amount > 1 && strikes(f, FAULTVFS_SHORT_WRITE)) {
        // What the unix VFS reports when write(2) comes back short.
        int64_t landed = 1 + (int64_t)below((uint64_t)amount - 1);
        land_write(f, data, landed, offset);
        record_event(FAULTVFS_SHORT_WRITE, FAULTVFS_OP_WRITE, role, offset, amount, landed, 0);
        rc = SQLITE_FULL;
    } else if (planted && strikes(f, FAULTVFS_DROPPED_WRITE)) {
        record_event(FAULTVFS_DROPPED_WRITE, FAULTVFS_OP_WRITE, role, offset, amount, 0, 0);
        rc = SQLITE_OK;
    } else if (planted && amount > 1 && strikes(f, FAULTVFS_TORN_WRITE)) {
        int64_t landed = 1 + (int64_t)below((uint64_t)amount - 1);
        rc = land_write(f, data, landed, offset);
        record_event(FAULTVFS_TORN_WRITE, FAULTVFS_OP_WRITE, role, offset, amount, landed, 0);
    } else if (planted && strikes(f, FAULTVFS_MISDIRECTED_WRITE)) {
        sqlite3_int64 size = 0;
        f->real->pMethods->xFileSize(f->real, &size);
        // Another slot of the same size: a neighbour within the file, else the next one.
        int64_t candidates[4] = { offset - 2 * (int64_t)amount, offset - amount, offset + amount, offset + 2 * (int64_t)amount };
        int64_t target = offset + amount;
        for (int tries = 0; tries < 4; tries++) {
            int64_t c = candidates[below(4)];
            if (c >= 0 && c + amount <= size) {
                target = c;
                break;
            }
        }
        rc = land_write(f, data, amount, target);
        record_event(FAULTVFS_MISDIRECTED_WRITE, FAULTVFS_OP_WRITE, role, offset, amount, target, 0);
    } else if (planted && strikes(f, FAULTVFS_BIT_FLIP)) {
        unsigned char *copy = malloc((size_t)amount);
        if (!copy) {
            rc = SQLITE_NOMEM;
            goto done;
        }
        memcpy(copy, data, (size_t)amount);
        int64_t bit = (int64_t)below((uint64_t)amount * 8);
        copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        rc = land_write(f, copy, amount, offset);
        free(copy);
        record_event(FAULTVFS_BIT_FLIP, FAULTVFS_OP_WRITE, role, offset, amount, bit, 0);
    } else {
        rc = land_write(f, data, amount, offset);
    }
done:
    pthread_mutex_unlock(&G.mutex);
    return rc;
}

static int fault_truncate(sqlite3_file *file, sqlite3_int64 size) {
    FaultFile *f = (FaultFile *)file;
    if (!f->tracked) return f->real->pMethods->xTruncate(f->real, size);
    pthread_mutex_lock(&G.mutex);
    int rc;
    int role = f->tracked->role;
    if (G.crashed) {
        rc = SQLITE_IOERR_TRUNCATE;
    } else {
        G.operations += !f->quiet;
        if (strikes(f, FAULTVFS_IO_ERROR)) {
            record_event(FAULTVFS_IO_ERROR, FAULTVFS_OP_TRUNCATE, role, size, 0, 0, 0);
            rc = SQLITE_IOERR_TRUNCATE;
        } else {
            rc = SQLITE_OK;
            if (G.config.track_unsynced) {
                int64_t before_size = 0, before_length = 0;
                unsigned char *before = NULL;
                if (read_before(f->real, size, INT64_MAX / 2, &before_size, &before, &before_length) != 0) {
                    rc = SQLITE_IOERR_TRUNCATE;
                } else {
                    Pending *p = add_pending(f->tracked);
                    if (!p) {
                        free(before);
                        rc = SQLITE_NOMEM;
                    } else {
                        *p = (Pending){
                            .op = FAULTVFS_OP_TRUNCATE, .offset = size, .size_before = before_size,
                            .before = before, .before_length = before_length,
                        };
                        hold_pending(f->tracked);
                    }
                }
            }
            if (rc == SQLITE_OK) rc = f->real->pMethods->xTruncate(f->real, size);
        }
    }
    pthread_mutex_unlock(&G.mutex);
    return rc;
}

static int fault_sync(sqlite3_file *file, int flags) {
    FaultFile *f = (FaultFile *)file;
    if (!f->tracked) return G.config.simulated_sync ? SQLITE_OK : f->real->pMethods->xSync(f->real, flags);
    pthread_mutex_lock(&G.mutex);
    int rc;
    int role = f->tracked->role;
    if (G.crashed) {
        rc = SQLITE_IOERR_FSYNC;
    } else {
        G.operations += !f->quiet;
        if (strikes(f, FAULTVFS_IO_ERROR)) {
            record_event(FAULTVFS_IO_ERROR, FAULTVFS_OP_SYNC, role, 0, 0, 0, 0);
            rc = SQLITE_IOERR_FSYNC;
        } else if (strikes(f, FAULTVFS_LYING_FSYNC)) {
            // Success reported; the writes stay as volatile as they were.
            record_event(FAULTVFS_LYING_FSYNC, FAULTVFS_OP_SYNC, role, 0, (int64_t)f->tracked->pending_count, 0, 0);
            rc = SQLITE_OK;
        } else {
            rc = G.config.simulated_sync ? SQLITE_OK : f->real->pMethods->xSync(f->real, flags);
            if (rc == SQLITE_OK) clear_pending(f->tracked);
        }
        G.syncs += !f->quiet;
        if (rc == SQLITE_OK && !f->quiet && G.config.crash_mode == FAULTVFS_CRASH_AFTER_SYNC && G.syncs == G.config.crash_at) {
            G.crashed = 1;
            record_event(FAULTVFS_CRASH, FAULTVFS_OP_SYNC, role, 0, 0, 0, 0);
        }
    }
    pthread_mutex_unlock(&G.mutex);
    return rc;
}

static int fault_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int fault_lock(sqlite3_file *file, int level) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int fault_unlock(sqlite3_file *file, int level) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int fault_check_reserved(sqlite3_file *file, int *out) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int fault_file_control(sqlite3_file *file, int op, void *arg) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int fault_sector_size(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int fault_device_characteristics(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int fault_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

static int fault_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void fault_shm_barrier(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int fault_shm_unmap(sqlite3_file *file, int delete_flag) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

// Memory-mapped reads would bypass xRead; SQLite falls back to xRead on NULL.
static int fault_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out) {
    (void)file, (void)offset, (void)amount;
    *out = NULL;
    return SQLITE_OK;
}

static int fault_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *pointer) {
    (void)file, (void)offset, (void)pointer;
    return SQLITE_OK;
}

static const sqlite3_io_methods fault_methods = {
    3,
    fault_close, fault_read, fault_write, fault_truncate, fault_sync, fault_file_size,
    fault_lock, fault_unlock, fault_check_reserved, fault_file_control, fault_sector_size,
    fault_device_characteristics, fault_shm_map, fault_shm_lock, fault_shm_barrier, fault_shm_unmap,
    fault_fetch, fault_unfetch,
};

// MARK: - vfs methods

#define REAL_OFFSET ((sizeof(FaultFile) + 7) & ~(size_t)7)

static int role_of(int flags) {
    if (flags & SQLITE_OPEN_MAIN_DB) return FAULTVFS_FILE_DB;
    if (flags & SQLITE_OPEN_MAIN_JOURNAL) return FAULTVFS_FILE_JOURNAL;
    if (flags & SQLITE_OPEN_WAL) return FAULTVFS_FILE_WAL;
    return 0;
}

static int fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags) {
    FaultFile *f = (FaultFile *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((char *)f + REAL_OFFSET);
    f->quiet = vfs == &G.quiet_vfs;
    int role = name ? role_of(flags) : 0;
    if (role) {
        pthread_mutex_lock(&G.mutex);
        int crashed = G.crashed;
        pthread_mutex_unlock(&G.mutex);
        if (crashed) return SQLITE_CANTOPEN;
    }
    int rc = G.root->xOpen(G.root, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        // The real file is not open, so there is nothing for xClose to do.
        if (f->real->pMethods) f->real->pMethods->xClose(f->real);
        return rc;
    }
    f->base.pMethods = &fault_methods;
    if (role) {
        pthread_mutex_lock(&G.mutex);
        f->tracked = tracked_for(name, role);
        if (f->tracked) {
            f->next_open = f->tracked->open;
            f->tracked->open = f;
        }
        pthread_mutex_unlock(&G.mutex);
    }
    return SQLITE_OK;
}

static int fault_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    pthread_mutex_lock(&G.mutex);
    if (G.crashed) {
        pthread_mutex_unlock(&G.mutex);
        return SQLITE_IOERR_DELETE;
    }
    // Directory entries are modelled as durable at once: the file's unsynced
    // writes go with it.
    Tracked *t = find_tracked(name);
    if (t) {
        clear_pending(t);
        clear_versions(t);
    }
    pthread_mutex_unlock(&G.mutex);
    return G.root->xDelete(G.root, name, sync_dir);
}

static int fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return G.root->xAccess(G.root, name, flags, out);
}

static int fault_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return G.root->xFullPathname(G.root, name, size, out);
}

static void *fault_dlopen(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return G.root->xDlOpen(G.root, name);
}

static void fault_dlerror(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    G.root->xDlError(G.root, size, out);
}

static void (*fault_dlsym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return G.root->xDlSym(G.root, handle, symbol);
}

static void fault_dlclose(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    G.root->xDlClose(G.root, handle);
}

static int fault_randomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return G.root->xRandomness(G.root, size, out);
}

static int fault_sleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return G.root->xSleep(G.root, microseconds);
}

static int fault_current_time(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return G.root->xCurrentTime(G.root, out);
}

static int fault_last_error(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return G.root->xGetLastError ? G.root->xGetLastError(G.root, size, out) : 0;
}

static int fault_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return G.root->xCurrentTimeInt64(G.root, out);
}

// MARK: - The public interface

int faultvfs_register(void) {
    pthread_mutex_lock(&G.mutex);
    int rc = SQLITE_OK;
    if (!G.registered) {
        sqlite3_vfs *root = sqlite3_vfs_find(NULL);
        if (!root || root->iVersion < 2) {
            rc = SQLITE_ERROR;
        } else {
            G.root = root;
            G.vfs = (sqlite3_vfs){
                .iVersion = 2,
                .szOsFile = (int)(REAL_OFFSET + (size_t)root->szOsFile),
                .mxPathname = root->mxPathname,
                .zName = FAULTVFS_NAME,
                .xOpen = fault_open,
                .xDelete = fault_delete,
                .xAccess = fault_access,
                .xFullPathname = fault_full_pathname,
                .xDlOpen = fault_dlopen,
                .xDlError = fault_dlerror,
                .xDlSym = fault_dlsym,
                .xDlClose = fault_dlclose,
                .xRandomness = fault_randomness,
                .xSleep = fault_sleep,
                .xCurrentTime = fault_current_time,
                .xGetLastError = fault_last_error,
                .xCurrentTimeInt64 = fault_current_time64,
            };
            G.quiet_vfs = G.vfs;
            G.quiet_vfs.zName = FAULTVFS_QUIET_NAME;
            rc = sqlite3_vfs_register(&G.vfs, 0);
            if (rc == SQLITE_OK) rc = sqlite3_vfs_register(&G.quiet_vfs, 0);
            if (rc == SQLITE_OK) G.registered = 1;
        }
    }
    pthread_mutex_unlock(&G.mutex);
    return rc;
}

void faultvfs_configure(const faultvfs_config *config) {
    pthread_mutex_lock(&G.mutex);
    G.config = *config;
    uint64_t x = config->seed;
    for (int i = 0; i < 4; i++) G.state[i] = splitmix(&x);
    G.crashed = 0;
    G.operations = G.syncs = G.writes = 0;
    for (Tracked *t = G.files; t; t = t->next) {
        clear_pending(t);
        clear_versions(t);
    }
    G.event_count = 0;
    G.event_total = 0;
    pthread_mutex_unlock(&G.mutex);
}

int faultvfs_crashed(void) {
    pthread_mutex_lock(&G.mutex);
    int crashed = G.crashed;
    pthread_mutex_unlock(&G.mutex);
    return crashed;
}

void faultvfs_crash_now(void) {
    pthread_mutex_lock(&G.mutex);
    if (!G.crashed) {
        G.crashed = 1;
        record_event(FAULTVFS_CRASH, FAULTVFS_OP_NONE, 0, 0, 0, 0, 0);
    }
    pthread_mutex_unlock(&G.mutex);
}

// Rewrites one file as the power loss leaves it. Returns 0, or -1 on an I/O failure.
static int lose_power(Tracked *t) {
    Target target = { .real = t->open ? t->open->real : NULL, .fd = -1 };
    if (!target.real) {
        target.fd = open(t->path, O_RDWR | O_CLOEXEC);
        if (target.fd < 0) return errno == ENOENT ? 0 : -1;
    }
    int failed = 0;
    // Back to the state of the last sync: undo every operation, newest first.
    for (size_t i = t->pending_count; i-- > 0;) {
        Pending *p = &t->pending[i];
        failed |= target_resize(&target, p->size_before);
        failed |= target_write(&target, p->before, p->before_length, p->offset);
    }
    // Then replay each operation as the disk may have kept it.
    int64_t kept = 0, garbled = 0;
    for (size_t i = 0; i < t->pending_count; i++) {
        Pending *p = &t->pending[i];
        uint64_t fate = below(3);  // 0 kept, 1 dropped, 2 garbled
        if (p->op == FAULTVFS_OP_TRUNCATE) {
            if (fate != 1) {
                failed |= target_resize(&target, p->offset);
                kept++;
            }
            continue;
        }
        if (fate == 0) {
            failed |= target_write(&target, p->data, p->length, p->offset);
            kept++;
        } else if (fate == 2) {
            // Sector by sector: new bytes, old bytes, or noise.
            garbled++;
            int64_t start = p->offset, end = p->offset + p->length;
            while (start < end) {
                int64_t stop = (start / GARBLE_SECTOR + 1) * GARBLE_SECTOR;
                if (stop > end) stop = end;
                int64_t n = stop - start;
                uint64_t piece = below(3);
                if (piece == 0) {
                    failed |= target_write(&target, p->data + (start - p->offset), n, start);
                } else if (piece == 2) {
                    unsigned char noise[GARBLE_SECTOR];
                    for (int64_t j = 0; j < n; j++) noise[j] = (unsigned char)next_random();
                    failed |= target_write(&target, noise, n, start);
                }
                start = stop;
            }
        }
    }
    record_event(FAULTVFS_POWER_LOSS, FAULTVFS_OP_NONE, t->role, 0, (int64_t)t->pending_count, kept, garbled);
    if (target.fd >= 0) close(target.fd);
    clear_pending(t);
    return failed ? -1 : 0;
}

int faultvfs_apply_power_loss(void) {
    pthread_mutex_lock(&G.mutex);
    if (!G.crashed) {
        G.crashed = 1;
        record_event(FAULTVFS_CRASH, FAULTVFS_OP_NONE, 0, 0, 0, 0, 0);
    }
    int touched = 0, failed = 0;
    for (Tracked *t = G.files; t; t = t->next) {
        if (!t->pending_count) continue;
        touched++;
        if (lose_power(t) != 0) failed = 1;
    }
    pthread_mutex_unlock(&G.mutex);
    return failed ? -1 : touched;
}

size_t faultvfs_event_count(void) {
    pthread_mutex_lock(&G.mutex);
    size_t n = G.event_count;
    pthread_mutex_unlock(&G.mutex);
    return n;
}

uint64_t faultvfs_event_total(void) {
    pthread_mutex_lock(&G.mutex);
    uint64_t n = G.event_total;
    pthread_mutex_unlock(&G.mutex);
    return n;
}

int faultvfs_event_at(size_t index, faultvfs_event *out) {
    pthread_mutex_lock(&G.mutex);
    int ok = index < G.event_count;
    if (ok) *out = G.events[index];
    pthread_mutex_unlock(&G.mutex);
    return ok;
}
