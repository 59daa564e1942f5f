/*
 * store_maildir_fmd5: --migrate-fmd5-using-nametrans for one folder (see
 * store_maildir.h).  offlineimap3's MaildirFolder.migratefmd5() meant to do
 * this and crashes on Python 3 (md5() of a str); here it works.
 */
#include "store/maildir_priv.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The 32 hex digits after the first "FMD5=" in name, lower-cased; false if none. */
static bool fmd5_of(const char *name, char out[MAILDIR_FMD5_LEN + 1], size_t *at_r)
{
    const char *p = strstr(name, "FMD5=");
    if (!p)
        return false;
    p += 5;
    size_t n = strspn(p, "0123456789abcdefABCDEF");
    if (n != MAILDIR_FMD5_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 'a' : p[i]);
    out[n] = '\0';
    *at_r = (size_t)(p - name);
    return true;
}

static bool migrate_sub(struct maildir_store *st, const char *dir, const char *oldmd5,
                        const char *newmd5, bool dry_run, struct maildir_fmd5_result *r,
                        struct err *e)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        err_set(e, ERR_FOLDER, maildir_errkind(errno), "Maildir repository %s: cannot open %s: %s.",
                st->base.name, dir, strerror(errno));
        return false;
    }
    DIR *d = fdopendir(dup(dfd));
    if (!d) {
        err_set(e, ERR_FOLDER, maildir_errkind(errno), "Maildir repository %s: cannot read %s: %s.",
                st->base.name, dir, strerror(errno));
        close(dfd);
        return false;
    }
    /* Names first: renaming while readdir() runs could show a file twice. */
    struct strvec names = STRVEC_INIT;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            strvec_push(&names, de->d_name);
    closedir(d);
    bool ok = true;
    for (size_t i = 0; i < names.n && ok; i++) {
        const char *name = names.v[i];
        char md5[MAILDIR_FMD5_LEN + 1];
        size_t at;
        if (!fmd5_of(name, md5, &at)) {
            log_debug(LOGC_MAILDIR, "File `%s/%s' doesn't have an FMD5 assigned", dir, name);
            r->without++;
            continue;
        }
        if (!strcmp(md5, newmd5)) {
            r->current++;
            continue;
        }
        if (strcmp(md5, oldmd5) != 0) {
            log_warn("Inconsistent FMD5 for file `%s/%s': Neither `%s' nor `%s' found", dir, name,
                     oldmd5, newmd5);
            r->foreign++;
            continue;
        }
        char *to = xstrdup(name);
        memcpy(to + at, newmd5, MAILDIR_FMD5_LEN);
        log_info("%sMigrating file `%s/%s' to FMD5 `%s'", dry_run ? "[DRYRUN] " : "", dir, name,
                 newmd5);
        if (!dry_run) {
            /* A file of that name already there would be overwritten: never. */
            if (faccessat(dfd, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                err_set(e, ERR_FOLDER, ERRK_GENERIC,
                        "Can't rename file '%s/%s' to '%s': a file of that name exists.", dir, name,
                        to);
                ok = false;
            } else if (renameat(dfd, name, dfd, to) != 0) {
                err_set(e, ERR_FOLDER, maildir_errkind(errno),
                        "Can't rename file '%s/%s' to '%s': %s.", dir, name, to, strerror(errno));
                ok = false;
            }
        }
        if (ok)
            r->renamed++;
        free(to);
    }
    if (ok && r->renamed && !dry_run && st->fsync && fsync(dfd) != 0) {
        err_set(e, ERR_FOLDER, maildir_errkind(errno), "Maildir repository %s: cannot sync %s: %s.",
                st->base.name, dir, strerror(errno));
        ok = false;
    }
    strvec_free(&names);
    close(dfd);
    return ok;
}

bool store_maildir_migrate_fmd5(struct store *s, const char *name, bool dry_run,
                                struct maildir_fmd5_result *r, struct err *e)
{
    struct maildir_store *st = (struct maildir_store *)s;
    memset(r, 0, sizeof(*r));
    const char *canon;
    if (!maildir_check_folder_name(st, name, &canon, e))
        return false;
    /* Before 6.3.5 the hash was of the folder's own name; since then of its visible name. */
    char oldmd5[MAILDIR_FMD5_LEN + 1], newmd5[MAILDIR_FMD5_LEN + 1];
    maildir_name_fmd5(canon, oldmd5);
    char *visible = st->visible_name ? st->visible_name(st->visible_ctx, canon) : NULL;
    const char *v = visible ? visible : canon;
    if (v[0] == st->sep && v[1] == '\0')
        v = "";
    maildir_name_fmd5(v, newmd5);
    free(visible);
    if (!strcmp(oldmd5, newmd5)) {
        log_debug(LOGC_MAILDIR, "Maildir folder %s: no nametrans, nothing to migrate", canon);
        return true;
    }
    char *path = *canon ? fs_join(st->root, canon) : xstrdup(st->root);
    bool ok = true;
    for (int i = MD_NEW; i <= MD_CUR && ok; i++) {
        char *dir = fs_join(path, maildir_sub_names[i]);
        ok = migrate_sub(st, dir, oldmd5, newmd5, dry_run, r, e);
        free(dir);
    }
    free(path);
    return ok;
}
