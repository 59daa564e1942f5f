/*
 * sqlite_dl: SQLite, loaded when the first status database is opened.
 *
 * A run where nothing changed opens no status database (sync_skip.h); a
 * program linked with libsqlite3 would still map it and, through it, libm,
 * about 600 kB of every process.  So the program is not linked with it: the
 * first status_db_open() calls sqlite_dl_load(), which dlopen()s
 * libsqlite3.so.0 (the soname of every SQLite 3) and fills sqlite_dl with the
 * functions the status layer calls.  The files of the status layer include
 * this header instead of <sqlite3.h>: the names sqlite3_xxx then stand for
 * sqlite_dl.xxx, so their code reads as ordinary SQLite code.
 */
#ifndef STATUS_SQLITE_DL_H
#define STATUS_SQLITE_DL_H

#include "base/err.h"

#include <sqlite3.h>
#include <stdbool.h>

#define SQLITE_DL_FUNCS(X)                                                                         \
    X(libversion)                                                                                  \
    X(threadsafe)                                                                                  \
    X(config)                                                                                      \
    X(open_v2)                                                                                     \
    X(close)                                                                                       \
    X(extended_result_codes)                                                                       \
    X(busy_timeout)                                                                                \
    X(db_config)                                                                                   \
    X(exec)                                                                                        \
    X(errmsg)                                                                                      \
    X(errstr)                                                                                      \
    X(db_readonly)                                                                                 \
    X(get_autocommit)                                                                              \
    X(prepare_v2)                                                                                  \
    X(prepare_v3)                                                                                  \
    X(step)                                                                                        \
    X(reset)                                                                                       \
    X(finalize)                                                                                    \
    X(clear_bindings)                                                                              \
    X(bind_int64)                                                                                  \
    X(bind_text)                                                                                   \
    X(column_text)                                                                                 \
    X(column_int64)                                                                                \
    X(column_bytes)

struct sqlite_api {
#define SQLITE_DL_MEMBER(name) __typeof__(&sqlite3_##name) name;
    SQLITE_DL_FUNCS(SQLITE_DL_MEMBER)
#undef SQLITE_DL_MEMBER
};

/* Written once by the first successful sqlite_dl_load(), read-only after. */
extern struct sqlite_api sqlite_dl;

/*
 * Loads the library once (thread-safe); false, with e saying what is missing
 * and what to do, if it cannot be loaded or lacks a function.
 */
bool sqlite_dl_load(struct err *e);

#ifndef SQLITE_DL_NO_NAMES
#define sqlite3_libversion sqlite_dl.libversion
#define sqlite3_threadsafe sqlite_dl.threadsafe
#define sqlite3_config sqlite_dl.config
#define sqlite3_open_v2 sqlite_dl.open_v2
#define sqlite3_close sqlite_dl.close
#define sqlite3_extended_result_codes sqlite_dl.extended_result_codes
#define sqlite3_busy_timeout sqlite_dl.busy_timeout
#define sqlite3_db_config sqlite_dl.db_config
#define sqlite3_exec sqlite_dl.exec
#define sqlite3_errmsg sqlite_dl.errmsg
#define sqlite3_errstr sqlite_dl.errstr
#define sqlite3_db_readonly sqlite_dl.db_readonly
#define sqlite3_get_autocommit sqlite_dl.get_autocommit
#define sqlite3_prepare_v2 sqlite_dl.prepare_v2
#define sqlite3_prepare_v3 sqlite_dl.prepare_v3
#define sqlite3_step sqlite_dl.step
#define sqlite3_reset sqlite_dl.reset
#define sqlite3_finalize sqlite_dl.finalize
#define sqlite3_clear_bindings sqlite_dl.clear_bindings
#define sqlite3_bind_int64 sqlite_dl.bind_int64
#define sqlite3_bind_text sqlite_dl.bind_text
#define sqlite3_column_text sqlite_dl.column_text
#define sqlite3_column_int64 sqlite_dl.column_int64
#define sqlite3_column_bytes sqlite_dl.column_bytes
#endif

#endif
