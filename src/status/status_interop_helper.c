/*
 * status-interop-helper: drives the status module from the command line for
 * interop_offlineimap3.py, which checks our files against offlineimap3's own
 * code.  Not installed.
 *
 *   create DB              open (creating) and close
 *   write DB               write a fixed set of rows and a state entry
 *   modify DB              change some of those rows
 *   dump DB                print "created=C upgraded=N", the rows as
 *                          "uid|flags|mtime|labels" and the state entries
 *   plain FILE             print the rows of a plain status file, same format
 *   basename NAME [SEP]    print status_folder_basename()
 *   validity-read FILE     print the value or "none"
 *   validity-write FILE N  write N
 *   lock META ACCOUNT      take the lock, print "locked", hold it until stdin
 *                          closes, release; on failure print the error
 * Errors go to stdout with the exit status 1.
 */
#include "base/err.h"
#include "base/strutil.h"
#include "status/status_db.h"
#include "status/status_lock.h"
#include "status/status_paths.h"
#include "status/status_plain.h"
#include "status/status_validity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(struct err *e)
{
    printf("error: %s\n", e->msg ? e->msg : "?");
    err_clear(e);
    return 1;
}

static void print_rows(const struct status_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        char letters[64];
        flags_to_letters(rows->v[i].flags, letters);
        printf("%u|%s|%lld|%s\n", (unsigned)rows->v[i].uid, letters, (long long)rows->v[i].mtime,
               rows->v[i].labels ? rows->v[i].labels : "");
    }
}

static int cmd_db(const char *what, const char *path)
{
    struct err e = ERR_INIT;
    struct status_db *db;
    if (!status_db_open(path, &db, &e))
        return fail(&e);
    bool ok = true;
    if (strcmp(what, "write") == 0) {
        ok = status_db_begin(db, &e) &&
             status_db_put(db, 1, flags_from_letters("FS", 2), 0, NULL, &e) &&
             status_db_put(db, 2, flags_from_letters("S", 1), 0, NULL, &e) &&
             status_db_put(db, 5, flags_from_letters("abRT", 4), 1700000000, "\\Inbox, work", &e) &&
             status_db_put(db, 10, 0, 0, NULL, &e) &&
             status_db_put(db, 4294967295u, flags_from_letters("D", 1), 0, NULL, &e) &&
             status_db_commit(db, &e) && status_db_state_set(db, "highestmodseq", "12345", &e);
    } else if (strcmp(what, "modify") == 0) {
        uint32_t del[] = {10, 4294967295u};
        ok = status_db_set_flags(db, 1, flags_from_letters("RS", 2), &e) &&
             status_db_delete(db, 2, &e) && status_db_delete_many(db, del, 2, &e) &&
             status_db_put(db, 30, flags_from_letters("F", 1), 0, NULL, &e) &&
             status_db_set_labels(db, 5, "x", 99, &e);
    } else if (strcmp(what, "dump") == 0) {
        struct status_rows rows = STATUS_ROWS_INIT;
        printf("created=%d upgraded=%d\n", status_db_created(db), status_db_upgraded_from(db));
        ok = status_db_load(db, &rows, &e);
        if (ok)
            print_rows(&rows);
        status_rows_free(&rows);
        char *v = NULL;
        if (ok && (ok = status_db_state_get(db, "highestmodseq", &v, &e)) && v)
            printf("state highestmodseq=%s\n", v);
        free(v);
    }
    status_db_close(&db);
    return ok ? 0 : fail(&e);
}

static int cmd_plain(const char *path)
{
    struct err e = ERR_INIT;
    struct status_rows rows = STATUS_ROWS_INIT;
    bool present;
    int format;
    if (!status_plain_read(path, &rows, &present, &format, &e)) {
        status_rows_free(&rows);
        return fail(&e);
    }
    printf("present=%d format=%d\n", present, format);
    print_rows(&rows);
    status_rows_free(&rows);
    return 0;
}

static int cmd_validity(int argc, char **argv)
{
    struct err e = ERR_INIT;
    if (strcmp(argv[1], "validity-read") == 0) {
        bool present;
        uint32_t v;
        if (!status_validity_read(argv[2], &present, &v, &e))
            return fail(&e);
        if (present)
            printf("%u\n", (unsigned)v);
        else
            printf("none\n");
        return 0;
    }
    uint32_t v;
    if (argc < 4 || !str_to_u32(argv[3], strlen(argv[3]), &v)) {
        printf("error: bad value\n");
        return 1;
    }
    return status_validity_write(argv[2], v, true, &e) ? 0 : fail(&e);
}

static int cmd_lock(const char *meta, const char *account)
{
    struct err e = ERR_INIT;
    struct status_lock *l;
    if (!status_lock_acquire(meta, account, &l, &e))
        return fail(&e);
    printf("locked\n");
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    status_lock_release(&l);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: see the comment at the top of status_interop_helper.c\n");
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "create") || !strcmp(cmd, "write") || !strcmp(cmd, "modify") ||
        !strcmp(cmd, "dump"))
        return cmd_db(cmd, argv[2]);
    if (!strcmp(cmd, "plain"))
        return cmd_plain(argv[2]);
    if (!strcmp(cmd, "basename")) {
        char *b = status_folder_basename(argv[2], argc > 3 ? argv[3] : NULL);
        printf("%s", b);
        free(b);
        return 0;
    }
    if (!strncmp(cmd, "validity-", 9))
        return cmd_validity(argc, argv);
    if (!strcmp(cmd, "lock") && argc > 3)
        return cmd_lock(argv[2], argv[3]);
    fprintf(stderr, "unknown command %s\n", cmd);
    return 2;
}
