#include "store/imapmap.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the table: linear probing, backward-shift deletion (no tombstones) ---------- */

static size_t slot_of(uint32_t k, size_t cap)
{
    return (size_t)((k * 2654435761u) & (uint32_t)(cap - 1));
}

static void tab_free(struct imapmap_tab *t)
{
    free(t->key);
    free(t->val);
    memset(t, 0, sizeof(*t));
}

static size_t tab_find(const struct imapmap_tab *t, uint32_t k)
{
    if (k == 0 || t->cap == 0)
        return SIZE_MAX;
    for (size_t i = slot_of(k, t->cap);; i = (i + 1) & (t->cap - 1)) {
        if (t->key[i] == k)
            return i;
        if (t->key[i] == 0)
            return SIZE_MAX;
    }
}

static uint32_t tab_get(const struct imapmap_tab *t, uint32_t k)
{
    size_t i = tab_find(t, k);
    return i == SIZE_MAX ? 0 : t->val[i];
}

static void tab_set(struct imapmap_tab *t, uint32_t k, uint32_t v);

static void tab_grow(struct imapmap_tab *t)
{
    struct imapmap_tab old = *t;
    t->cap = old.cap ? old.cap * 2 : 64;
    t->key = xcalloc(t->cap, sizeof(*t->key));
    t->val = xcalloc(t->cap, sizeof(*t->val));
    t->count = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.key[i])
            tab_set(t, old.key[i], old.val[i]);
    free(old.key);
    free(old.val);
}

static void tab_set(struct imapmap_tab *t, uint32_t k, uint32_t v)
{
    if ((t->count + 1) * 4 > t->cap * 3)
        tab_grow(t);
    size_t i = slot_of(k, t->cap);
    while (t->key[i] != 0 && t->key[i] != k)
        i = (i + 1) & (t->cap - 1);
    if (t->key[i] == 0)
        t->count++;
    t->key[i] = k;
    t->val[i] = v;
}

static void tab_del(struct imapmap_tab *t, uint32_t k)
{
    size_t i = tab_find(t, k);
    if (i == SIZE_MAX)
        return;
    size_t mask = t->cap - 1;
    t->key[i] = 0;
    t->count--;
    /* Move later entries of the run back so that every lookup still reaches them. */
    for (size_t j = (i + 1) & mask; t->key[j] != 0; j = (j + 1) & mask) {
        size_t home = slot_of(t->key[j], t->cap);
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between)
            continue;
        t->key[i] = t->key[j];
        t->val[i] = t->val[j];
        t->key[j] = 0;
        i = j;
    }
}

/* ---- the map ----------------------------------------------------------------------- */

void imapmap_init(struct imapmap *m)
{
    memset(m, 0, sizeof(*m));
}

void imapmap_release(struct imapmap *m)
{
    tab_free(&m->l2r);
    tab_free(&m->r2l);
}

size_t imapmap_count(const struct imapmap *m)
{
    return m->l2r.count;
}

uint32_t imapmap_remote(const struct imapmap *m, uint32_t luid)
{
    return tab_get(&m->l2r, luid);
}

uint32_t imapmap_local(const struct imapmap *m, uint32_t ruid)
{
    return tab_get(&m->r2l, ruid);
}

void imapmap_put(struct imapmap *m, uint32_t luid, uint32_t ruid)
{
    if (luid == 0 || ruid == 0)
        return;
    uint32_t old_r = tab_get(&m->l2r, luid), old_l = tab_get(&m->r2l, ruid);
    if (old_r)
        tab_del(&m->r2l, old_r);
    if (old_l)
        tab_del(&m->l2r, old_l);
    tab_set(&m->l2r, luid, ruid);
    tab_set(&m->r2l, ruid, luid);
}

bool imapmap_del_local(struct imapmap *m, uint32_t luid)
{
    uint32_t r = tab_get(&m->l2r, luid);
    if (!r)
        return false;
    tab_del(&m->l2r, luid);
    tab_del(&m->r2l, r);
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t *imapmap_locals(const struct imapmap *m, size_t *n_r)
{
    uint32_t *v = xcalloc(m->l2r.count ? m->l2r.count : 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < m->l2r.cap; i++)
        if (m->l2r.key[i])
            v[n++] = m->l2r.key[i];
    qsort(v, n, sizeof(*v), cmp_u32);
    *n_r = n;
    return v;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* A positive decimal number that fits in 32 bits, blanks around it allowed. */
static bool parse_uid(const char *s, size_t len, uint32_t *out)
{
    while (len && is_blank(*s))
        s++, len--;
    while (len && is_blank(s[len - 1]))
        len--;
    if (len == 0 || len > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v == 0 || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool imapmap_parse(struct imapmap *m, const char *data, size_t len, const char *name, struct err *e)
{
    size_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        const char *line = data + pos;
        size_t n = end - pos;
        pos = nl ? end + 1 : len;
        lineno++;
        size_t k = 0;
        while (k < n && is_blank(line[k]))
            k++;
        if (k == n)
            continue;
        const char *colon = memchr(line, ':', n);
        uint32_t l = 0, r = 0;
        if (!colon || memchr(colon + 1, ':', n - (size_t)(colon + 1 - line)) ||
            !parse_uid(line, (size_t)(colon - line), &l) ||
            !parse_uid(colon + 1, n - (size_t)(colon + 1 - line), &r)) {
            err_set(e, ERR_FOLDER, ERRK_GENERIC,
                    "Corrupt line %zu in UID mapping file %s (expected \"localuid:remoteuid\"). "
                    "Move the file aside to start the folder's mapping afresh (its messages are "
                    "then copied again).",
                    lineno, name);
            return false;
        }
        if (imapmap_local(m, r) || imapmap_remote(m, l))
            log_warn("UID mapping file %s, line %zu: UID %u or %u is mapped twice; the last "
                     "line counts",
                     name, lineno, l, r);
        imapmap_put(m, l, r);
    }
    return true;
}

void imapmap_format(const struct imapmap *m, struct buf *out)
{
    size_t n = 0;
    uint32_t *loc = imapmap_locals(m, &n);
    for (size_t i = 0; i < n; i++)
        buf_printf(out, "%u:%u\n", loc[i], imapmap_remote(m, loc[i]));
    free(loc);
}

/* "<path>.lock", locked with lockf() as offlineimap does; -1 on failure. */
static int lock_open(const char *path, struct err *e)
{
    char *lp = xasprintf("%s.lock", path);
    int fd = open(lp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || lockf(fd, F_LOCK, 0) != 0) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "cannot lock the UID mapping file %s: %s", lp,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    free(lp);
    return fd;
}

bool imapmap_load(struct imapmap *m, const char *path, struct err *e)
{
    int lock = lock_open(path, e);
    if (lock < 0)
        return false;
    char *tmp = xasprintf("%s.tmp", path);
    if (fs_exists(tmp)) {
        log_warn("a previous run might have leave the UIDMaps file in incorrect state; some sync "
                 "operations might be done again and some emails might become duplicated.");
        unlink(tmp);
    }
    free(tmp);
    bool ok = true;
    if (fs_exists(path)) {
        struct buf b;
        buf_init(&b, IMAPMAP_FILE_MAX);
        ok =
            fs_read_file(path, IMAPMAP_FILE_MAX, &b, e) && imapmap_parse(m, b.data, b.len, path, e);
        buf_release(&b);
    }
    close(lock);
    return ok;
}

bool imapmap_save(const struct imapmap *m, const char *path, bool durable, struct err *e)
{
    int lock = lock_open(path, e);
    if (lock < 0)
        return false;
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    imapmap_format(m, &b);
    bool ok = fs_write_atomic(path, b.data ? b.data : "", b.len, durable, e);
    buf_release(&b);
    close(lock);
    return ok;
}
