/*
 * store_maildir_relocate: find a message whose file name changed behind our
 * back (a mail reader set a flag, moved it from new/ to cur/) since the
 * folder was scanned.  offlineimap rescans the folder and looks the UID up;
 * here one rescan serves a whole operation, and a message is found by its
 * unique part first (which survives any rename that keeps the Maildir
 * identity, also for files without UID), then by UID.  A file that another
 * listed message still owns is never taken: a duplicate copy of a message
 * must not be mistaken for the message itself.
 */
#include "store/maildir_priv.h"

#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct relo_ent {
    const char *uniq;
    const char *name;
    flagset_t flags;
    uint32_t uid;
    uint8_t sub;
    bool taken; /* the file of another listed message, or already claimed */
};

struct maildir_relocation {
    struct arena a;
    struct relo_ent *v;
    size_t n, cap;
    struct relo_ent **by_uid; /* entries with a UID, sorted by it */
    size_t nuid;
};

void maildir_relocation_end(struct store_folder *f)
{
    struct maildir_relocation *r = f->relo;
    if (!r)
        return;
    arena_free(&r->a);
    free(r->v);
    free(r->by_uid);
    free(r);
    f->relo = NULL;
}

static int cmp_uniq(const void *a, const void *b)
{
    const struct relo_ent *x = a, *y = b;
    return strcmp(x->uniq, y->uniq);
}

static int cmp_uid(const void *a, const void *b)
{
    const struct relo_ent *x = *(struct relo_ent *const *)a, *y = *(struct relo_ent *const *)b;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static bool read_sub(struct store_folder *f, struct maildir_relocation *r, enum maildir_sub sub,
                     struct err *e)
{
    int fd = openat(f->dfd[sub], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        err_set(e, ERR_FOLDER, maildir_errkind(errno), "Maildir folder %s: cannot read %s/: %s.",
                f->path, maildir_sub_names[sub], strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        struct maildir_name p;
        if (name[0] == '.' || de->d_type == DT_DIR ||
            !maildir_name_parse(name, strlen(name), f->st->infosep, f->fmd5, &p))
            continue;
        char *uniq = arena_alloc(&r->a, p.base_len + 1);
        maildir_name_unique(name, &p, uniq);
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 256;
            r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
        }
        r->v[r->n++] = (struct relo_ent){uniq, arena_strdup(&r->a, name), p.flags,
                                         maildir_name_folder_uid(&p), (uint8_t)sub};
    }
    closedir(d);
    return true;
}

static int cmp_name(const void *a, const void *b)
{
    const struct maildir_msg *x = *(const struct maildir_msg *const *)a;
    const struct maildir_msg *y = *(const struct maildir_msg *const *)b;
    if (x->sub != y->sub)
        return x->sub < y->sub ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Mark the files that listed messages still own. */
static void mark_taken(struct store_folder *f, struct maildir_relocation *r)
{
    const struct maildir_msg **known = xreallocarray(NULL, f->n ? f->n : 1, sizeof(*known));
    size_t nk = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].name)
            known[nk++] = &f->v[i];
    if (nk)
        qsort(known, nk, sizeof(*known), cmp_name);
    for (size_t i = 0; i < r->n; i++) {
        struct maildir_msg key = {.name = r->v[i].name, .sub = r->v[i].sub};
        const struct maildir_msg *kp = &key;
        r->v[i].taken = nk && bsearch(&kp, known, nk, sizeof(*known), cmp_name) != NULL;
    }
    free(known);
}

static bool build(struct store_folder *f, struct err *e)
{
    struct maildir_relocation *r = xcalloc(1, sizeof(*r));
    arena_init(&r->a, 64 * 1024);
    f->relo = r;
    if (!read_sub(f, r, MD_NEW, e) || !read_sub(f, r, MD_CUR, e)) {
        maildir_relocation_end(f);
        return false;
    }
    if (r->n)
        qsort(r->v, r->n, sizeof(*r->v), cmp_uniq);
    mark_taken(f, r);
    r->by_uid = xreallocarray(NULL, r->n ? r->n : 1, sizeof(*r->by_uid));
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].uid)
            r->by_uid[r->nuid++] = &r->v[i];
    if (r->nuid)
        qsort(r->by_uid, r->nuid, sizeof(*r->by_uid), cmp_uid);
    return true;
}

static struct relo_ent *find_uniq(struct maildir_relocation *r, const char *uniq, uint32_t uid)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(r->v[mid].uniq, uniq) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    struct relo_ent *best = NULL;
    for (size_t i = lo; i < r->n && !strcmp(r->v[i].uniq, uniq); i++) {
        if (!r->v[i].taken && (!best || (uid && r->v[i].uid == uid && best->uid != uid)))
            best = &r->v[i];
    }
    return best;
}

static struct relo_ent *find_uid(struct maildir_relocation *r, uint32_t uid)
{
    size_t lo = 0, hi = r->nuid;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->by_uid[mid]->uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < r->nuid && r->by_uid[lo]->uid == uid; lo++)
        if (!r->by_uid[lo]->taken)
            return r->by_uid[lo];
    return NULL;
}

bool maildir_relocate(struct store_folder *f, struct maildir_msg *m, struct err *e)
{
    if (!f->relo && !build(f, e))
        return false;
    struct maildir_name p;
    if (!maildir_name_parse(m->name, strlen(m->name), f->st->infosep, NULL, &p))
        return false;
    char *uniq = xmalloc(p.base_len + 1);
    maildir_name_unique(m->name, &p, uniq);
    struct relo_ent *r = *uniq ? find_uniq(f->relo, uniq, m->uid) : NULL;
    free(uniq);
    if (!r && m->uid)
        r = find_uid(f->relo, m->uid);
    if (!r)
        return false;
    r->taken = true;
    m->name = arena_strdup(&f->names, r->name);
    m->sub = r->sub;
    m->flags = r->flags;
    return true;
}
