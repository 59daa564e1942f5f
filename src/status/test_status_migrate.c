/*
 * Tests for status_migrate: the old plain-text status imported into a new
 * SQLite status, once, completely, and retried after a failure.
 */
#include "base/buf.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "status/status_db.h"
#include "status/status_migrate.h"
#include "testlib/test.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tpath(const char *name)
{
    return fs_join(test_tmpdir(), name);
}

static void write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "wb");
    test_assert(f != NULL);
    if (f) {
        size_t len = strlen(data);
        test_assert(fwrite(data, 1, len, f) == len);
        fclose(f);
    }
}

/* The status rows as "id|flags|mtime|labels\n" lines, by id. */
static char *dump_rows(const char *path)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    test_assert(sqlite3_open(path, &h) == SQLITE_OK);
    test_assert(sqlite3_prepare_v2(h, "SELECT id, flags, mtime, labels FROM status ORDER BY id", -1,
                                   &st, NULL) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < 4; i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            buf_printf(&b, "%s%s", i ? "|" : "", v ? v : "<null>");
        }
        buf_append_char(&b, '\n');
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return buf_detach(&b, NULL);
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *h;
    test_assert(sqlite3_open(path, &h) == SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        test_fail_at(__FILE__, __LINE__, "sql failed: %s", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(h);
}

static char *pending_value(struct status_db *db)
{
    char *v = NULL;
    struct err e = ERR_INIT;
    test_assert(status_db_state_get(db, STATUS_MIGRATE_PENDING_KEY, &v, &e));
    err_clear(&e);
    return v;
}

#define MAGIC2 "OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n"
#define MAGIC1 "OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 1\n"

struct import_case {
    const char *name;
    const char *plain; /* NULL: no plain file */
    bool ok;
    size_t rows;
    const char *dump; /* the status afterwards */
};

static const struct import_case import_cases[] = {
    {"format 2 with flags, mtime and labels",
     MAGIC2 "1|FS|0|\n2|S|0|\n7|S|1700000000|\\Inbox, work\n12||0|\n", true, 4,
     "1|FS|0|\n2|S|0|\n7|S|1700000000|\\Inbox, work\n12||0|\n"},
    {"format 1", MAGIC1 "12:RS\n3:\n4:DFRST\n", true, 3, "3||0|\n4|DFRST|0|\n12|RS|0|\n"},
    {"format 2, CRLF line ends, a later line for a uid wins",
     MAGIC2 "5|S|0|\r\n6|F|0|\r\n5|RS|0|\r\n", true, 2, "5|RS|0|\n6|F|0|\n"},
    {"format 2, flags in any order come out sorted", MAGIC2 "9|TSF|0|\n", true, 1, "9|FST|0|\n"},
    {"only the first line", MAGIC2, true, 0, ""},
    {"no plain file", NULL, true, 0, ""},
    {"an empty plain file", "", false, 0, ""},
    {"a bad line", MAGIC2 "1|S|0|\nxyz\n", false, 0, ""},
    {"not a status file", "hello\n", false, 0, ""},
    {"uid 0", MAGIC1 "0:S\n", false, 0, ""},
};

static void test_import_table(void)
{
    for (size_t i = 0; i < sizeof(import_cases) / sizeof(import_cases[0]); i++) {
        const struct import_case *c = &import_cases[i];
        test_begin(c->name);
        char *dbp = tpath("table.db"), *plain = tpath("table.plain");
        unlink(dbp);
        unlink(plain);
        if (c->plain)
            write_file(plain, c->plain);
        struct status_db *db = NULL;
        struct err e = ERR_INIT;
        test_assert(status_db_open(dbp, &db, &e));
        test_assert(status_db_created(db));
        size_t n = 99;
        bool ok = status_migrate_plain(db, plain, &n, &e);
        test_assert_inteq(ok, c->ok);
        test_assert_inteq(n, c->ok ? c->rows : 0);
        if (!c->ok) {
            test_assert_inteq(e.scope, ERR_FOLDER);
            test_assert(e.msg && strstr(e.msg, plain) != NULL);
            char *v = pending_value(db);
            test_assert_streq(v, plain);
            free(v);
        } else {
            char *v = pending_value(db);
            test_assert(v == NULL);
            free(v);
        }
        err_clear(&e);
        status_db_close(&db);
        char *dump = dump_rows(dbp);
        test_assert_streq(dump, c->dump);
        free(dump);
        /* The plain file is left as it was. */
        test_assert_inteq(fs_exists(plain), c->plain != NULL);
        free(dbp);
        free(plain);
        test_end();
    }
}

/* A database that existed before (ours or offlineimap3's) is never touched. */
static void test_existing_db(void)
{
    test_begin("an existing database is left alone");
    char *dbp = tpath("existing.db"), *plain = tpath("existing.plain");
    unlink(dbp);
    write_file(plain, MAGIC2 "1|S|0|\n2|S|0|\n");
    struct status_db *db = NULL;
    struct err e = ERR_INIT;
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(status_db_put(db, 8, 0, 0, NULL, &e));
    status_db_close(&db);
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(!status_db_created(db));
    size_t n = 99;
    test_assert(status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 0);
    status_db_close(&db);
    char *dump = dump_rows(dbp);
    test_assert_streq(dump, "8||0|\n");
    free(dump);

    /* An empty existing database (offlineimap3 created it, a folder without mail). */
    unlink(dbp);
    test_assert(status_db_open(dbp, &db, &e));
    status_db_close(&db);
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 0);
    status_db_close(&db);
    dump = dump_rows(dbp);
    test_assert_streq(dump, "");
    free(dump);
    err_clear(&e);
    free(dbp);
    free(plain);
    test_end();
}

/* A version 1 database (offlineimap 7.0) is upgraded by the open, not imported into. */
static void test_v1_db(void)
{
    test_begin("a version 1 database is upgraded, its rows kept, the plain file ignored");
    char *dbp = tpath("v1.db"), *plain = tpath("v1.plain");
    unlink(dbp);
    raw_exec(dbp, "CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, value VARCHAR(128));"
                  "INSERT INTO metadata VALUES('db_version', '1');"
                  "CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50));"
                  "INSERT INTO status VALUES(3, 'RS'), (4, '');");
    write_file(plain, MAGIC2 "1|S|0|\n");
    struct status_db *db = NULL;
    struct err e = ERR_INIT;
    test_assert(status_db_open(dbp, &db, &e));
    test_assert_inteq(status_db_upgraded_from(db), 1);
    size_t n = 99;
    test_assert(status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 0);
    status_db_close(&db);
    char *dump = dump_rows(dbp);
    test_assert_streq(dump, "3|RS|0|\n4||0|\n");
    free(dump);
    err_clear(&e);
    free(dbp);
    free(plain);
    test_end();
}

/* A failed import is tried again on every open until it works. */
static void test_retry(void)
{
    test_begin("a failed import is retried on the next runs");
    char *dbp = tpath("retry.db"), *plain = tpath("retry.plain");
    unlink(dbp);
    write_file(plain, MAGIC2 "1|S|0|\n2|S|zz|\n");
    struct status_db *db = NULL;
    struct err e = ERR_INIT;
    size_t n = 0;
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(!status_migrate_plain(db, plain, &n, &e));
    test_assert(e.msg && strstr(e.msg, "line 3") != NULL);
    err_clear(&e);
    status_db_close(&db);

    /* Second run: still broken; still nothing imported, still pending. */
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(!status_db_created(db));
    test_assert(!status_migrate_plain(db, plain, &n, &e));
    err_clear(&e);
    status_db_close(&db);

    /* Repaired: imported, and never again. */
    write_file(plain, MAGIC2 "1|S|0|\n2|FS|0|\n");
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 2);
    char *v = pending_value(db);
    test_assert(v == NULL);
    free(v);
    test_assert(status_db_delete(db, 1, &e));
    status_db_close(&db);
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 0);
    status_db_close(&db);
    char *dump = dump_rows(dbp);
    test_assert_streq(dump, "2|FS|0|\n");
    free(dump);

    /* The file moved away: the pending mark goes, nothing imported. */
    unlink(dbp);
    write_file(plain, MAGIC2 "bad\n");
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(!status_migrate_plain(db, plain, &n, &e));
    err_clear(&e);
    status_db_close(&db);
    unlink(plain);
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 0);
    v = pending_value(db);
    test_assert(v == NULL);
    free(v);
    status_db_close(&db);

    /* Pending, but a run went on and filled the status: its rows win. */
    unlink(dbp);
    write_file(plain, MAGIC2 "bad\n");
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(!status_migrate_plain(db, plain, &n, &e));
    err_clear(&e);
    test_assert(status_db_put(db, 40, flag_bit('S'), 0, NULL, &e));
    status_db_close(&db);
    write_file(plain, MAGIC2 "1|S|0|\n");
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 0);
    v = pending_value(db);
    test_assert(v == NULL);
    free(v);
    status_db_close(&db);
    dump = dump_rows(dbp);
    test_assert_streq(dump, "40|S|0|\n");
    free(dump);
    err_clear(&e);
    free(dbp);
    free(plain);
    test_end();
}

/* Many rows: one transaction, all of them. */
static void test_many(void)
{
    test_begin("50000 rows in one transaction");
    char *dbp = tpath("many.db"), *plain = tpath("many.plain");
    unlink(dbp);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_append_str(&b, MAGIC2);
    for (unsigned uid = 1; uid <= 50000; uid++)
        buf_printf(&b, "%u|%s|0|\n", uid * 3, uid % 2 ? "S" : "FRS");
    write_file(plain, b.data);
    buf_release(&b);
    struct status_db *db = NULL;
    struct err e = ERR_INIT;
    size_t n = 0;
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 50000);
    struct status_rows rows = STATUS_ROWS_INIT;
    test_assert(status_db_load(db, &rows, &e));
    test_assert_inteq(rows.n, 50000);
    test_assert(rows.n == 50000 && rows.v[0].uid == 3 && rows.v[49999].uid == 150000);
    test_assert(rows.n == 50000 && rows.v[1].flags == (FLAG_FLAGGED | FLAG_ANSWERED | FLAG_SEEN));
    status_rows_free(&rows);
    status_db_close(&db);
    err_clear(&e);
    free(dbp);
    free(plain);
    test_end();
}

/* A write that fails half-way leaves no row behind (one transaction). */
static void test_atomic(void)
{
    test_begin("a failed write imports nothing");
    char *dbp = tpath("atomic.db"), *plain = tpath("atomic.plain");
    unlink(dbp);
    write_file(plain, MAGIC2 "1|S|0|\n2|S|0|\n3|S|0|\n");
    struct status_db *db = NULL;
    struct err e = ERR_INIT;
    size_t n = 0;
    test_assert(status_db_open(dbp, &db, &e));
    /* A trigger that refuses the third row makes the import fail in the middle. */
    raw_exec(dbp, "CREATE TRIGGER no3 BEFORE INSERT ON status WHEN NEW.id = 3 "
                  "BEGIN SELECT RAISE(ABORT, 'refused'); END;");
    test_assert(!status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 0);
    test_assert_inteq(e.scope, ERR_FOLDER);
    err_clear(&e);
    test_assert(!status_db_in_transaction(db));
    status_db_close(&db);
    char *dump = dump_rows(dbp);
    test_assert_streq(dump, "");
    free(dump);
    /* The next run tries again and succeeds. */
    raw_exec(dbp, "DROP TRIGGER no3");
    test_assert(status_db_open(dbp, &db, &e));
    test_assert(status_migrate_plain(db, plain, &n, &e));
    test_assert_inteq(n, 3);
    status_db_close(&db);
    err_clear(&e);
    free(dbp);
    free(plain);
    test_end();
}

int main(void)
{
    test_import_table();
    test_existing_db();
    test_v1_db();
    test_retry();
    test_many();
    test_atomic();
    return test_done();
}
