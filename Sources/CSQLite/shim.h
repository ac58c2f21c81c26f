#ifndef SQLITE_STRESS_CSQLITE_SHIM_H
#define SQLITE_STRESS_CSQLITE_SHIM_H

// sqlite3.h declares the preupdate-hook API only when this is defined first.
// Debian's libsqlite3 is built with it; the oracle checks compile_options at run time.
#ifndef SQLITE_ENABLE_PREUPDATE_HOOK
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#endif

#include <sqlite3.h>

// sqlite3_db_config is variadic, which Swift cannot call.
static inline int sqlite_stress_db_config_int(sqlite3 *db, int op, int value, int *out) {
    return sqlite3_db_config(db, op, value, out);
}

// sqlite3_config is variadic too. Turns the process's memory statistics on or
// off; SQLITE_MISUSE once SQLite is initialized.
static inline int sqlite_stress_config_memstatus(int on) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, on);
}

// sqlite3_snprintf is variadic too. Formats a real exactly as SQL's
// printf('%!.17g', x) does (the same code), returning the length written.
static inline int sqlite_stress_format_real17(char *buffer, int size, double value) {
    sqlite3_snprintf(size, buffer, "%!.17g", value);
    int length = 0;
    while (length < size && buffer[length] != 0) length++;
    return length;
}

#ifdef __linux__
// dladdr is a GNU extension the Glibc module does not declare: its signature
// under a name of our own, bound to the same symbol, with Dl_info's layout.
typedef struct {
    const char *fname;
    void *fbase;
    const char *sname;
    void *saddr;
} sqlite_stress_dl_info;
extern int sqlite_stress_dladdr(const void *address, sqlite_stress_dl_info *info) __asm__("dladdr");

// The file the dynamic linker loaded SQLite from (the object that defines
// sqlite3_libversion), or NULL when it cannot tell.
static inline const char *sqlite_stress_library_path(void) {
    sqlite_stress_dl_info info = {0, 0, 0, 0};
    if (sqlite_stress_dladdr((const void *)sqlite3_libversion, &info) == 0) return 0;
    return info.fname;
}
#endif

#endif
