#include "sync/sync_skip.h"

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "status/status_paths.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SKIP_HEADER "oimapc-skip 1\n"
#define SKIP_FILE_MAX (64u * 1024 * 1024)

char *sync_skip_path(const char *metadata, const char *account)
{
    char *dir = status_path_account_dir(metadata, account);
    char *p = fs_join(dir, ".oimapc-skip");
    free(dir);
    return p;
}

void sync_skip_entry_free(struct skip_entry *en)
{
    free(en->status_path);
    free(en->remote);
    free(en->local);
    free(en->local_stamp);
    free(en->select);
    memset(en, 0, sizeof(*en));
}

void sync_skip_free(struct skip_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        sync_skip_entry_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void sync_skip_add(struct skip_list *l, struct skip_entry *en)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = *en;
    memset(en, 0, sizeof(*en));
}

static uint64_t fnv64(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* A field: "=" for the empty string, else bytes with space, controls, '%', '=' and
 * non-ASCII as %XX. */
static void put_field(struct buf *b, const char *s)
{
    buf_append_char(b, ' ');
    if (!*s) {
        buf_append_char(b, '=');
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '%' || *p == '=')
            buf_printf(b, "%%%02X", *p);
        else
            buf_append_char(b, (char)*p);
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *get_field(const char *s)
{
    if (!*s)
        return NULL;
    if (!strcmp(s, "="))
        return xstrdup("");
    size_t n = strlen(s);
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = hi >= 0 ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        i += 2;
    }
    *o = '\0';
    return out;
}

static bool get_u64(const char *s, uint64_t *v)
{
    if (!*s || *s == '-')
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

static bool get_i64(const char *s, int64_t *v)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

static bool get_u32(const char *s, uint32_t *v)
{
    uint64_t x;
    if (!get_u64(s, &x) || x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    return true;
}

#define SKIP_FIELDS 13

static bool parse_line(char *line, struct skip_entry *en)
{
    char *f[SKIP_FIELDS];
    size_t n = 0;
    char *p = line;
    while (p && n < SKIP_FIELDS) {
        f[n++] = p;
        p = strchr(p, ' ');
        if (p)
            *p++ = '\0';
    }
    if (n != SKIP_FIELDS || p) /* a field short, or more after the last */
        return false;
    memset(en, 0, sizeof(*en));
    bool ok = (en->status_path = get_field(f[0])) && (en->remote = get_field(f[1])) &&
              (en->local = get_field(f[2])) && get_u64(f[3], &en->dev) && get_u64(f[4], &en->ino) &&
              get_u64(f[5], &en->size) && get_i64(f[6], &en->mtime_ns) &&
              get_u32(f[7], &en->remote_st.uidvalidity) && get_u32(f[8], &en->remote_st.uidnext) &&
              get_u32(f[9], &en->remote_st.messages) &&
              get_u64(f[10], &en->remote_st.highestmodseq) &&
              (en->local_stamp = get_field(f[11])) && (en->select = get_field(f[12]));
    if (!ok)
        sync_skip_entry_free(en);
    return ok;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct skip_entry *)a)->status_path,
                  ((const struct skip_entry *)b)->status_path);
}

/* The file's text for l (sorted by status path), with its sum. */
static void render(const struct skip_list *l, struct buf *b)
{
    buf_append_str(b, SKIP_HEADER);
    for (size_t i = 0; i < l->n; i++) {
        const struct skip_entry *en = &l->v[i];
        size_t start = b->len;
        put_field(b, en->status_path);
        put_field(b, en->remote);
        put_field(b, en->local);
        buf_printf(b,
                   " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRIu32 " %" PRIu32
                   " %" PRIu32 " %" PRIu64,
                   en->dev, en->ino, en->size, en->mtime_ns, en->remote_st.uidvalidity,
                   en->remote_st.uidnext, en->remote_st.messages, en->remote_st.highestmodseq);
        put_field(b, en->local_stamp);
        put_field(b, en->select);
        /* put_field starts each field with a space; the line does not. */
        memmove(b->data + start, b->data + start + 1, b->len - start - 1);
        b->data[b->len - 1] = '\n';
    }
    buf_printf(b, "sum %016" PRIx64 "\n", fnv64(b->data, b->len));
}

bool sync_skip_parse(struct skip_list *l, const char *data, size_t len)
{
    memset(l, 0, sizeof(*l));
    size_t hl = strlen(SKIP_HEADER);
    /* The last line is "sum <16 hex digits>" over everything before it. */
    if (len < hl + 21 || memcmp(data, SKIP_HEADER, hl) != 0 || data[len - 1] != '\n')
        return false;
    size_t body = len - 21;
    char want[22];
    snprintf(want, sizeof(want), "sum %016" PRIx64 "\n", fnv64(data, body));
    if (memcmp(data + body, want, 21) != 0)
        return false;
    char *copy = xmalloc(body + 1);
    memcpy(copy, data, body);
    copy[body] = '\0';
    char *p = copy + hl, *end = copy + body;
    bool ok = true;
    while (ok && p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || memchr(p, '\0', (size_t)(nl - p))) {
            ok = false;
            break;
        }
        *nl = '\0';
        struct skip_entry en;
        if (!parse_line(p, &en)) {
            ok = false;
            break;
        }
        sync_skip_add(l, &en);
        p = nl + 1;
    }
    free(copy);
    if (!ok)
        sync_skip_free(l);
    else if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
    return ok;
}

void sync_skip_render(const struct skip_list *l, struct buf *out)
{
    struct skip_list sorted = *l;
    sorted.v = xcalloc(l->n ? l->n : 1, sizeof(*sorted.v));
    if (l->n)
        memcpy(sorted.v, l->v, l->n * sizeof(*l->v));
    qsort(sorted.v, sorted.n, sizeof(*sorted.v), cmp_entry);
    render(&sorted, out);
    free(sorted.v);
}

void sync_skip_load(struct skip_list *l, const char *path)
{
    memset(l, 0, sizeof(*l));
    struct buf b;
    buf_init(&b, SKIP_FILE_MAX);
    struct err e = ERR_INIT;
    if (fs_read_file(path, SKIP_FILE_MAX, &b, &e) && !sync_skip_parse(l, b.data, b.len))
        log_debug(LOGC_SYNC, "%s: damaged, ignored (the folders are checked in full)", path);
    err_clear(&e);
    buf_release(&b);
}

bool sync_skip_save(const struct skip_list *l, const char *path, struct err *e)
{
    struct buf now, old;
    buf_init(&now, SKIP_FILE_MAX);
    buf_init(&old, SKIP_FILE_MAX);
    sync_skip_render(l, &now);
    struct err re = ERR_INIT;
    bool same = fs_read_file(path, SKIP_FILE_MAX, &old, &re) && old.len == now.len &&
                !memcmp(old.data, now.data, now.len);
    err_clear(&re);
    bool ok = same || fs_write_atomic(path, now.data, now.len, false, e);
    buf_release(&now);
    buf_release(&old);
    return ok;
}

char *sync_selection_text(const struct sync_folder_job *j)
{
    uint32_t h = 2166136261u; /* FNV-1a of the ignored UIDs */
    for (size_t i = 0; j->copy_ignore && i < j->copy_ignore->n; i++) {
        h ^= j->copy_ignore->v[i];
        h *= 16777619u;
    }
    return xasprintf("v1 maxsize=%llu,%llu ro=%d%d deletes=%d%d ignore=%zu:%08x",
                     (unsigned long long)j->remote_list.max_size,
                     (unsigned long long)j->local_list.max_size, j->plan.local_readonly,
                     j->plan.remote_readonly, j->plan.remote_sync_deletes,
                     j->plan.local_sync_deletes, j->copy_ignore ? j->copy_ignore->n : 0, h);
}

bool sync_job_windowed(const struct sync_folder_job *j)
{
    return j->maxage_cutoff || j->startdate_side || j->remote_list.min_date ||
           j->remote_list.min_uid || j->local_list.min_date || j->local_list.min_uid;
}

/* The status file's identity; false if it or a WAL beside it says "cannot tell". */
static bool status_identity(const char *path, struct stat *sb)
{
    if (stat(path, sb) != 0 || !S_ISREG(sb->st_mode))
        return false;
    char *wal = xasprintf("%s-wal", path);
    struct stat wb;
    bool has_wal = stat(wal, &wb) == 0;
    free(wal);
    return !has_wal;
}

static int64_t mtime_ns(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
}

/* j's line in l if it still describes j's status database and selection, else NULL. */
static const struct skip_entry *line_of(const struct skip_list *l, const struct sync_folder_job *j)
{
    struct skip_entry key = {.status_path = (char *)j->status_path};
    const struct skip_entry *en = l->n ? bsearch(&key, l->v, l->n, sizeof(*l->v), cmp_entry) : NULL;
    if (!en || strcmp(en->remote, j->remote_name) != 0 || strcmp(en->local, j->local_name) != 0)
        return NULL;
    struct stat sb;
    if (!status_identity(j->status_path, &sb) || (uint64_t)sb.st_dev != en->dev ||
        (uint64_t)sb.st_ino != en->ino || (uint64_t)sb.st_size != en->size ||
        mtime_ns(&sb) != en->mtime_ns)
        return NULL;
    char *sel = sync_selection_text(j);
    bool same = !strcmp(sel, en->select);
    free(sel);
    return same ? en : NULL;
}

const char *sync_skip_local_hint(const struct skip_list *l, const struct sync_folder_job *j)
{
    if (j->local_absent || j->remote_absent || sync_job_windowed(j))
        return NULL;
    const struct skip_entry *en = line_of(l, j);
    return en ? en->local_stamp : NULL;
}

bool sync_skip_check(const struct skip_list *l, const struct sync_folder_job *j,
                     struct skip_entry *kept)
{
    const struct store_folder_status *rs = j->remote_status;
    if (!l->n || !rs || !rs->highestmodseq || j->local_absent || j->remote_absent ||
        sync_job_windowed(j) || !j->local->ops->folder_stamp)
        return false;
    const struct skip_entry *en = line_of(l, j);
    if (!en || rs->uidvalidity != en->remote_st.uidvalidity ||
        rs->uidnext != en->remote_st.uidnext || rs->messages != en->remote_st.messages ||
        rs->highestmodseq != en->remote_st.highestmodseq)
        return false;
    struct buf stamp;
    buf_init(&stamp, 1024);
    bool racy = false;
    struct err se = ERR_INIT;
    bool same = j->local->ops->folder_stamp(j->local, j->local_name, &stamp, &racy, &se) && !racy &&
                stamp.len && !strcmp(stamp.data, en->local_stamp);
    err_clear(&se);
    buf_release(&stamp);
    if (!same)
        return false;
    *kept = *en;
    kept->status_path = xstrdup(en->status_path);
    kept->remote = xstrdup(en->remote);
    kept->local = xstrdup(en->local);
    kept->local_stamp = xstrdup(en->local_stamp);
    kept->select = xstrdup(en->select);
    return true;
}

bool sync_skip_entry_pending(const struct sync_folder_job *j, const struct sync_state *st,
                             struct skip_entry *out)
{
    memset(out, 0, sizeof(*out));
    if (!st->have_remote || !st->remote.highestmodseq || !st->select || j->dry_run ||
        sync_job_windowed(j))
        return false;
    out->status_path = xstrdup(j->status_path);
    out->remote = xstrdup(j->remote_name);
    out->local = xstrdup(j->local_name);
    out->remote_st = st->remote;
    out->select = xstrdup(st->select);
    return true;
}

bool sync_skip_entry_settle(struct skip_entry *en, const char *local_stamp)
{
    struct stat sb;
    if (!local_stamp || !*local_stamp || !status_identity(en->status_path, &sb))
        return false;
    if (fs_now_ns() - mtime_ns(&sb) < fs_time_window_ns(en->status_path, &sb.st_mtim))
        return false;
    en->dev = (uint64_t)sb.st_dev;
    en->ino = (uint64_t)sb.st_ino;
    en->size = (uint64_t)sb.st_size;
    en->mtime_ns = mtime_ns(&sb);
    free(en->local_stamp);
    en->local_stamp = xstrdup(local_stamp);
    return true;
}

bool sync_skip_entry_make(const struct sync_folder_job *j, const struct sync_state *st,
                          struct skip_entry *out)
{
    if (!sync_skip_entry_pending(j, st, out))
        return false;
    if (sync_skip_entry_settle(out, st->local_stamp))
        return true;
    sync_skip_entry_free(out);
    return false;
}
