#include "base/buf.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "status/status_db.h"
#include "testlib/test.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const SQL_METADATA =
    "CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, value VARCHAR(128))";
static const char *const SQL_STATUS =
    "CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50), mtime INTEGER, labels "
    "VARCHAR(256))";

/* What status_db_each_flags gave (up to 8 rows). */
struct seen_flags {
    uint32_t uid[8];
    flagset_t flags[8];
    size_t n;
};

static void collect_flags(void *ctx, uint32_t uid, flagset_t flags)
{
    struct seen_flags *sf = ctx;
    if (sf->n < 8) {
        sf->uid[sf->n] = uid;
        sf->flags[sf->n] = flags;
    }
    sf->n++;
}

static char *tpath(const char *name)
{
    return fs_join(test_tmpdir(), name);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    test_assert(f != NULL);
    if (f) {
        test_assert(fwrite(data, 1, len, f) == len);
        fclose(f);
    }
}

static char *read_text(const char *path)
{
    struct buf b;
    struct err e = ERR_INIT;
    buf_init(&b, 1 << 20);
    if (!fs_read_file(path, 1 << 20, &b, &e)) {
        err_clear(&e);
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

/* Run SQL on a raw connection of our own (to build or inspect files). */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *h;
    test_assert(sqlite3_open(path, &h) == SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        test_fail_at(__FILE__, __LINE__, "sql failed: %s", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(h);
}

/* The rows of a query, as "a|b|c\n" lines; NULL prints as "<null>". */
static char *raw_query(const char *path, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    test_assert(sqlite3_open(path, &h) == SQLITE_OK);
    test_assert(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            buf_printf(&b, "%s%s", i ? "|" : "", v ? v : "<null>");
        }
        buf_append_char(&b, '\n');
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return buf_detach(&b, NULL);
}

static void test_db_schema(void)
{
    struct err e = ERR_INIT;
    struct status_db *db = NULL;
    char *path = tpath("meta/Account-A/LocalStatus-sqlite/INBOX");
    test_begin("new status db: offlineimap3's exact schema");
    test_assert(status_db_open(path, &db, &e));
    test_assert(db && status_db_created(db) && status_db_upgraded_from(db) == 0);
    status_db_close(&db);
    test_assert(db == NULL);
    char *got = raw_query(path, "SELECT type, name, sql FROM sqlite_master ORDER BY rowid");
    char *want = xasprintf("table|metadata|%s\nindex|sqlite_autoindex_metadata_1|<null>\n"
                           "table|status|%s\n",
                           SQL_METADATA, SQL_STATUS);
    test_assert_streq(got, want);
    free(got);
    free(want);
    got = raw_query(path, "SELECT key, value, typeof(value) FROM metadata");
    test_assert_streq(got, "db_version|2|text\n");
    free(got);
    got = raw_query(path, "PRAGMA journal_mode");
    test_assert_streq(got, "delete\n");
    free(got);
    char *journal = xasprintf("%s-journal", path);
    test_assert(!fs_exists(journal));
    free(journal);
    test_assert(status_db_open(path, &db, &e));
    test_assert(!status_db_created(db));
    status_db_close(&db);
    test_end();

    test_begin("an empty file gets the schema");
    char *empty = tpath("empty.db");
    write_file(empty, "", 0);
    test_assert(status_db_open(empty, &db, &e));
    test_assert(db && status_db_created(db));
    status_db_close(&db);
    got = raw_query(empty, "SELECT count(*) FROM sqlite_master");
    test_assert_streq(got, "3\n");
    free(got);
    free(empty);
    test_end();

    test_begin("a WAL database is turned back to journal_mode=delete");
    char *wal = tpath("wal.db");
    test_assert(status_db_open(wal, &db, &e));
    status_db_close(&db);
    got = raw_query(wal, "PRAGMA journal_mode=WAL");
    test_assert_streq(got, "wal\n");
    free(got);
    test_assert(status_db_open(wal, &db, &e));
    status_db_close(&db);
    got = raw_query(wal, "PRAGMA journal_mode");
    test_assert_streq(got, "delete\n");
    free(got);
    free(wal);
    test_end();
    free(path);
}

static void test_db_bad_files(void)
{
    static const struct {
        const char *name, *content, *sql, *expect;
    } cases[] = {
        {"garbage.db", "this is not an SQLite database, only some text that is long enough\n", NULL,
         "not an SQLite database"},
        {"other.db", NULL, "CREATE TABLE foo (x);", "no metadata table"},
        {"noversion.db", NULL, "CREATE TABLE metadata (key, value); CREATE TABLE status (id);",
         "no db_version"},
        {"badversion.db", NULL,
         "CREATE TABLE metadata (key, value); INSERT INTO metadata VALUES('db_version','x');"
         "CREATE TABLE status (id);",
         "not a number"},
        {"nostatus.db", NULL,
         "CREATE TABLE metadata (key, value); INSERT INTO metadata VALUES('db_version','2');",
         "no status table"},
        {"future.db", NULL,
         "CREATE TABLE metadata (key, value); INSERT INTO metadata VALUES('db_version','3');"
         "CREATE TABLE status (id);",
         "version 3"},
    };
    test_begin("files that are not status databases: error, file untouched");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = tpath(cases[i].name);
        if (cases[i].content)
            write_file(path, cases[i].content, strlen(cases[i].content));
        else
            raw_exec(path, cases[i].sql);
        char *before = read_text(path);
        struct err e = ERR_INIT;
        struct status_db *db = NULL;
        test_assert(!status_db_open(path, &db, &e));
        test_assert(db == NULL);
        test_assert(e.scope == ERR_FOLDER);
        test_assert(e.msg && strstr(e.msg, path) && strstr(e.msg, cases[i].expect));
        if (e.msg && !strstr(e.msg, cases[i].expect))
            fprintf(stderr, "  %s: %s\n", cases[i].name, e.msg);
        if (i < 5)
            test_assert(e.msg && strstr(e.msg, "Move it away"));
        char *after = read_text(path);
        test_assert(before && after && strcmp(before, after) == 0);
        free(before);
        free(after);
        err_clear(&e);
        free(path);
    }
    char *dir = tpath("adir.db");
    struct err e = ERR_INIT;
    struct status_db *db = NULL;
    test_assert(fs_mkdir_p(dir, 0700, &e));
    test_assert(!status_db_open(dir, &db, &e));
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, dir));
    err_clear(&e);
    free(dir);
    test_end();
}

static void check_row(const struct status_rows *rows, uint32_t uid, const char *flags,
                      int64_t mtime, const char *labels)
{
    const struct status_row *r = status_rows_find(rows, uid);
    test_assert(r != NULL);
    if (!r)
        return;
    char letters[64];
    flags_to_letters(r->flags, letters);
    test_assert_streq(letters, flags);
    test_assert_inteq(r->mtime, mtime);
    if (labels)
        test_assert_streq(r->labels, labels);
    else
        test_assert(r->labels == NULL);
}

static void test_db_rows(void)
{
    struct err e = ERR_INIT;
    struct status_db *db = NULL;
    struct status_rows rows = STATUS_ROWS_INIT;
    char *path = tpath("rows.db");
    test_begin("rows round trip");
    test_assert(status_db_open(path, &db, &e));
    test_assert(status_db_put(db, 7, flags_from_letters("SF", 2), 0, NULL, &e));
    test_assert(status_db_put(db, 2, flags_from_letters("S", 1), 0, "", &e));
    test_assert(status_db_put(db, 4294967295u, 0, -5, "\\Inbox, work", &e));
    test_assert(status_db_put(db, 3, flags_from_letters("abRT", 4), 1700000000, NULL, &e));
    test_assert(status_db_put(db, 9, flags_from_letters("D", 1), 0, NULL, &e));
    test_assert(status_db_load(db, &rows, &e));
    test_assert_inteq(rows.n, 5);
    for (size_t i = 1; i < rows.n; i++)
        test_assert(rows.v[i - 1].uid < rows.v[i].uid);
    check_row(&rows, 7, "FS", 0, NULL);
    check_row(&rows, 2, "S", 0, NULL);
    check_row(&rows, 4294967295u, "", -5, "\\Inbox, work");
    check_row(&rows, 3, "RTab", 1700000000, NULL);
    test_assert(status_db_set_flags(db, 7, flags_from_letters("RS", 2), &e));
    test_assert(status_db_set_flags(db, 1000, FLAG_SEEN, &e)); /* no row: nothing */
    test_assert(status_db_set_labels(db, 2, "a, b", 0, &e));
    test_assert(status_db_set_labels(db, 3, "", 42, &e));
    test_assert(status_db_put(db, 9, FLAG_FLAGGED, 1, "x", &e)); /* replace */
    test_assert(status_db_delete(db, 4294967295u, &e));
    test_assert(status_db_delete(db, 12345, &e)); /* absent: fine */
    status_db_close(&db);
    char *raw = raw_query(path, "SELECT id, flags, mtime, labels FROM status ORDER BY id");
    test_assert_streq(raw, "2|S|0|a, b\n3|RTab|42|\n7|RS|0|\n9|F|1|x\n");
    free(raw);
    test_assert(status_db_open(path, &db, &e));
    test_assert(status_db_load(db, &rows, &e));
    test_assert_inteq(rows.n, 4);
    check_row(&rows, 2, "S", 0, "a, b");
    check_row(&rows, 3, "RTab", 42, NULL);
    check_row(&rows, 9, "F", 1, "x");
    uint32_t del[] = {2, 3, 555};
    test_assert(status_db_delete_many(db, del, 3, &e));
    test_assert(status_db_load(db, &rows, &e));
    test_assert_inteq(rows.n, 2);
    test_assert(rows.v[0].uid == 7 && rows.v[1].uid == 9);
    status_db_close(&db);
    test_end();

    test_begin("some rows: only the UIDs asked (absent ones skipped), and the count of all");
    test_assert(status_db_open(path, &db, &e));
    test_assert(status_db_put(db, 20, FLAG_SEEN, 0, "lbl", &e));
    test_assert(status_db_put(db, 30, 0, 0, NULL, &e));
    size_t total = 0;
    uint32_t want[] = {30, 8, 9, 30, 0};
    test_assert(status_db_load_some(db, want, 5, &rows, &total, &e));
    test_assert_inteq(total, 4);
    test_assert_inteq(rows.n, 2);
    test_assert(rows.v[0].uid == 9 && rows.v[1].uid == 30);
    check_row(&rows, 9, "F", 1, "x");
    check_row(&rows, 30, "", 0, NULL);
    test_assert(status_db_load_some(db, NULL, 0, &rows, &total, &e));
    test_assert(rows.n == 0 && total == 4);
    status_db_close(&db);
    raw_exec(path, "INSERT INTO status VALUES (-4, 'S', 0, '')");
    test_assert(status_db_open(path, &db, &e));
    uint32_t bad[] = {7};
    test_assert(status_db_load_some(db, bad, 1, &rows, &total, &e)); /* the bad row not asked */
    test_assert(rows.n == 1 && total == 5);
    status_db_close(&db);
    raw_exec(path, "DELETE FROM status WHERE id IN (-4, 20, 30)"); /* as the next tests expect */
    test_end();

    test_begin("rows written by others: NULLs, bad UIDs");
    char *other = tpath("other-rows.db");
    test_assert(status_db_open(other, &db, &e));
    status_db_close(&db);
    raw_exec(other, "INSERT INTO status VALUES (5, NULL, NULL, NULL);"
                    "INSERT INTO status VALUES (6, 'S', 3, ' , ');");
    test_assert(status_db_open(other, &db, &e));
    test_assert(status_db_load(db, &rows, &e));
    test_assert_inteq(rows.n, 2);
    check_row(&rows, 5, "", 0, NULL);
    check_row(&rows, 6, "S", 3, NULL);
    struct seen_flags sf = {0};
    test_assert(status_db_each_flags(db, collect_flags, &sf, &e));
    test_assert_inteq(sf.n, 2);
    test_assert(sf.uid[0] == 5 && sf.flags[0] == 0 && sf.uid[1] == 6 && sf.flags[1] == FLAG_SEEN);
    status_db_close(&db);
    raw_exec(other, "INSERT INTO status VALUES (-3, 'S', 0, '')");
    test_assert(status_db_open(other, &db, &e));
    test_assert(!status_db_load(db, &rows, &e));
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, "-3") && strstr(e.msg, other));
    test_assert_inteq(rows.n, 0);
    err_clear(&e);
    sf.n = 0;
    test_assert(!status_db_each_flags(db, collect_flags, &sf, &e));
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, "-3") && strstr(e.msg, other));
    test_assert_inteq(sf.n, 0); /* -3 sorts first */
    err_clear(&e);
    status_db_close(&db);
    free(other);
    test_end();

    test_begin("transactions: commit, rollback, no nesting");
    test_assert(status_db_open(path, &db, &e));
    test_assert(status_db_begin(db, &e));
    test_assert(status_db_in_transaction(db));
    for (uint32_t uid = 100; uid < 5100; uid++)
        test_assert(status_db_put(db, uid, FLAG_SEEN, 0, NULL, &e));
    test_assert(!status_db_begin(db, &e));
    test_assert(e.scope == ERR_CRITICAL);
    err_clear(&e);
    status_db_rollback(db);
    test_assert(!status_db_in_transaction(db));
    test_assert(status_db_load(db, &rows, &e));
    test_assert_inteq(rows.n, 2);
    test_assert(!status_db_commit(db, &e));
    err_clear(&e);
    test_assert(status_db_begin(db, &e));
    for (uint32_t uid = 100; uid < 5100; uid++)
        test_assert(status_db_put(db, uid, FLAG_SEEN, 0, NULL, &e));
    uint32_t some[] = {100, 101, 102};
    test_assert(status_db_delete_many(db, some, 3, &e));
    test_assert(status_db_commit(db, &e));
    test_assert(status_db_begin(db, &e));
    test_assert(status_db_put(db, 99999, 0, 0, NULL, &e));
    status_db_close(&db); /* uncommitted: dropped */
    test_assert(status_db_open(path, &db, &e));
    test_assert(status_db_load(db, &rows, &e));
    test_assert_inteq(rows.n, 2 + 5000 - 3);
    test_assert(status_rows_find(&rows, 99999) == NULL);
    test_assert(status_rows_find(&rows, 5099) != NULL);
    status_db_close(&db);
    test_end();

    test_begin("a failed write rolls the caller's transaction back");
    raw_exec(path, "CREATE TRIGGER boom BEFORE INSERT ON status WHEN NEW.id = 7001 "
                   "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END;");
    test_assert(status_db_open(path, &db, &e));
    test_assert(status_db_begin(db, &e));
    test_assert(status_db_put(db, 7000, FLAG_SEEN, 0, NULL, &e));
    test_assert(!status_db_put(db, 7001, FLAG_SEEN, 0, NULL, &e));
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, path) && strstr(e.msg, "UID 7001") &&
                strstr(e.msg, "refused by trigger") && strstr(e.msg, "rolled back"));
    err_clear(&e);
    test_assert(!status_db_in_transaction(db));
    test_assert(!status_db_put(db, 7001, 0, 0, NULL, &e)); /* on its own: no rollback text */
    test_assert(e.msg && !strstr(e.msg, "rolled back"));
    err_clear(&e);
    test_assert(status_db_load(db, &rows, &e));
    test_assert(status_rows_find(&rows, 7000) == NULL);
    test_assert(status_db_put(db, 7000, FLAG_SEEN, 0, NULL, &e)); /* still usable */
    status_db_close(&db);
    test_end();

    test_begin("purge removes the database and its journal");
    char *journal = xasprintf("%s-journal", path);
    write_file(journal, "", 0);
    test_assert(status_db_purge(path, &e));
    test_assert(!fs_exists(path) && !fs_exists(journal));
    test_assert(status_db_purge(path, &e)); /* nothing left: fine */
    free(journal);
    test_end();
    status_rows_free(&rows);
    free(path);
}

static void test_db_upgrade(void)
{
    static const char v1[] =
        "CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, value VARCHAR(128));"
        "INSERT INTO metadata VALUES('db_version', '1');"
        "CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50));"
        "INSERT INTO status VALUES (1, 'FS'); INSERT INTO status VALUES (2, 'S');";
    struct err e = ERR_INIT;
    struct status_db *db = NULL;
    struct status_rows rows = STATUS_ROWS_INIT;
    test_begin("version 1 is upgraded to 2 as offlineimap3 does");
    char *path = tpath("v1.db");
    raw_exec(path, v1);
    test_assert(status_db_open(path, &db, &e));
    test_assert(db && status_db_upgraded_from(db) == 1 && !status_db_created(db));
    test_assert(status_db_load(db, &rows, &e));
    test_assert_inteq(rows.n, 2);
    check_row(&rows, 1, "FS", 0, NULL);
    check_row(&rows, 2, "S", 0, NULL);
    status_db_close(&db);
    char *got = raw_query(path, "SELECT sql FROM sqlite_master WHERE name='status'");
    test_assert_streq(got, "CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50), "
                           "mtime INTEGER DEFAULT 0, labels VARCHAR(256) DEFAULT '')\n");
    free(got);
    got = raw_query(path, "SELECT value FROM metadata WHERE key='db_version'");
    test_assert_streq(got, "2\n");
    free(got);
    got = raw_query(path, "SELECT id, flags, mtime, labels FROM status");
    test_assert_streq(got, "1|FS|0|\n2|S|0|\n");
    free(got);
    test_assert(status_db_open(path, &db, &e));
    test_assert(status_db_upgraded_from(db) == 0);
    status_db_close(&db);
    free(path);

    /* offlineimap's upgrade is not atomic: a crash can leave mtime added. */
    path = tpath("v1-half.db");
    raw_exec(path, v1);
    raw_exec(path, "ALTER TABLE status ADD mtime INTEGER DEFAULT 0");
    test_assert(status_db_open(path, &db, &e));
    test_assert(db && status_db_upgraded_from(db) == 1);
    status_db_close(&db);
    got = raw_query(path, "SELECT id, flags, mtime, labels FROM status");
    test_assert_streq(got, "1|FS|0|\n2|S|0|\n");
    free(got);
    free(path);
    status_rows_free(&rows);
    test_end();
}

static void test_db_state(void)
{
    struct err e = ERR_INIT;
    struct status_db *db = NULL;
    char *v = NULL;
    uint64_t n = 0;
    char *path = tpath("state.db");
    test_begin("our own state table");
    test_assert(status_db_open(path, &db, &e));
    test_assert(status_db_state_get(db, "uidnext", &v, &e) && v == NULL);
    test_assert(status_db_state_get_u64(db, "uidnext", 77, &n, &e) && n == 77);
    test_assert(status_db_state_del(db, "uidnext", &e));
    char *got = raw_query(path, "SELECT count(*) FROM sqlite_master WHERE name='oimapc_state'");
    test_assert_streq(got, "0\n"); /* not created by reads */
    free(got);
    /* A rolled-back transaction takes the new table with it. */
    test_assert(status_db_begin(db, &e));
    test_assert(status_db_state_set(db, "k", "v", &e));
    status_db_rollback(db);
    test_assert(status_db_state_get(db, "k", &v, &e) && v == NULL);
    test_assert(status_db_state_set_u64(db, "highestmodseq", 18446744073709551615ull, &e));
    test_assert(status_db_state_set(db, "uidnext", "12", &e));
    test_assert(status_db_state_set(db, "uidnext", "13", &e));
    test_assert(status_db_state_set(db, "note", "", &e));
    status_db_close(&db);
    got = raw_query(path, "SELECT sql FROM sqlite_master WHERE name='oimapc_state'");
    test_assert_streq(got, "CREATE TABLE oimapc_state (key TEXT PRIMARY KEY, value TEXT)\n");
    free(got);
    test_assert(status_db_open(path, &db, &e));
    test_assert(status_db_state_get_u64(db, "highestmodseq", 0, &n, &e));
    test_assert(n == 18446744073709551615ull);
    test_assert(status_db_state_get(db, "uidnext", &v, &e));
    test_assert_streq(v, "13");
    free(v);
    test_assert(status_db_state_get(db, "note", &v, &e));
    test_assert_streq(v, "");
    free(v);
    test_assert(!status_db_state_get_u64(db, "note", 0, &n, &e));
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, "note"));
    err_clear(&e);
    test_assert(status_db_state_del(db, "uidnext", &e));
    test_assert(status_db_state_get(db, "uidnext", &v, &e) && v == NULL);
    status_db_close(&db);
    raw_exec(path, "INSERT INTO oimapc_state VALUES ('huge', printf('%.5000c', 'x'));"
                   "INSERT INTO oimapc_state VALUES ('null', NULL);");
    test_assert(status_db_open(path, &db, &e));
    test_assert(!status_db_state_get(db, "huge", &v, &e) && v == NULL);
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, "huge"));
    err_clear(&e);
    test_assert(status_db_state_get(db, "null", &v, &e) && v == NULL);
    test_assert(!status_db_state_set(db, "", "x", &e));
    err_clear(&e);
    status_db_close(&db);
    free(path);
    test_end();
}

/* Another process holds the write lock for a moment: we wait, then write. */
static void test_db_busy(void)
{
    struct err e = ERR_INIT;
    struct status_db *db = NULL;
    char *path = tpath("busy.db");
    test_begin("a database held by another process is waited for");
    test_assert(status_db_open(path, &db, &e));
    status_db_close(&db); /* a child must not inherit an open connection */
    int ready[2];
    test_assert(pipe(ready) == 0);
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        sqlite3 *h;
        close(ready[0]);
        bool ok = sqlite3_open(path, &h) == SQLITE_OK &&
                  sqlite3_exec(h, "BEGIN IMMEDIATE; INSERT INTO status VALUES (1, 'S', 0, '')",
                               NULL, NULL, NULL) == SQLITE_OK;
        ok = ok && write(ready[1], "r", 1) == 1;
        usleep(300 * 1000);
        ok = ok && sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
        sqlite3_close(h);
        free(path);
        _exit(ok ? 0 : 1); /* not exit(): test_done() belongs to the parent */
    }
    close(ready[1]);
    char c;
    test_assert(read(ready[0], &c, 1) == 1);
    close(ready[0]);
    test_assert(status_db_open(path, &db, &e)); /* reading is not blocked */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    test_assert(status_db_put(db, 2, FLAG_FLAGGED, 0, NULL, &e));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    test_assert(ms >= 100); /* it really waited for the other writer */
    int status = -1;
    test_assert(waitpid(child, &status, 0) == child);
    test_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct status_rows rows = STATUS_ROWS_INIT;
    test_assert(status_db_load(db, &rows, &e));
    test_assert_inteq(rows.n, 2);
    status_rows_free(&rows);
    status_db_close(&db);
    free(path);
    test_end();
}

int main(void)
{
    test_db_schema();
    test_db_bad_files();
    test_db_rows();
    test_db_busy();
    test_db_upgrade();
    test_db_state();
    return test_done();
}
