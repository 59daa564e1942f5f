/*
 * maildir_mbsync_state: mbsync's sync state, its .uidvalidity file, and
 * where its states live (see maildir_mbsync.h for the formats).
 */
#include "store/maildir_mbsync.h"

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void mbsync_state_free(struct mbsync_state *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static bool bad_line(struct err *e, const char *name, size_t lineno, const char *what)
{
    err_set(e, ERR_FOLDER, ERRK_GENERIC, "mbsync state %s, line %zu: %s.", name, lineno, what);
    return false;
}

/* A decimal number at *p (moving p past it); "-1" is UINT32_MAX, as mbsync reads it. */
static bool take_u32(const char **p, const char *end, uint32_t *v_r)
{
    const char *s = *p;
    if (end - s >= 2 && s[0] == '-' && s[1] == '1' && (end - s == 2 || s[2] == ' ')) {
        *v_r = UINT32_MAX;
        *p = s + 2;
        return true;
    }
    const char *q = s;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    if (q == s || !str_to_u32(s, (size_t)(q - s), v_r))
        return false;
    *p = q;
    return true;
}

static void skip_blanks(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
}

static bool parse_header_line(struct mbsync_state *st, const char *s, const char *end,
                              const char *name, size_t lineno, struct err *e)
{
    static const struct {
        const char *key;
        int field; /* 0 far uv, 1 near uv, 2 max pulled, 3 max pushed, 4 ignored */
    } keys[] = {
        {"FarUidValidity", 0},   {"MasterUidValidity", 0},   {"NearUidValidity", 1},
        {"SlaveUidValidity", 1}, {"MaxPulledUid", 2},        {"MaxPushedUid", 3},
        {"MaxExpiredFarUid", 4}, {"MaxExpiredMasterUid", 4}, {"MaxExpiredSlaveUid", 4},
    };
    const char *sp = memchr(s, ' ', (size_t)(end - s));
    if (!sp)
        return bad_line(e, name, lineno, "malformed header entry");
    size_t klen = (size_t)(sp - s);
    const char *p = sp;
    skip_blanks(&p, end);
    uint32_t v;
    if (!take_u32(&p, end, &v))
        return bad_line(e, name, lineno, "malformed header entry");
    skip_blanks(&p, end);
    if (p != end)
        return bad_line(e, name, lineno, "malformed header entry");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strlen(keys[i].key) != klen || memcmp(keys[i].key, s, klen) != 0)
            continue;
        switch (keys[i].field) {
        case 0:
            st->far_uidvalidity = v;
            break;
        case 1:
            st->near_uidvalidity = v;
            break;
        case 2:
            st->max_pulled = v;
            break;
        case 3:
            st->max_pushed = v;
            break;
        default:
            break;
        }
        return true;
    }
    return bad_line(e, name, lineno, "unknown header entry");
}

/* Pre-1.1: "<far uv>:<max far> <near uv>:<max expired near>:<max near>". */
static bool parse_legacy_header(struct mbsync_state *st, const char *s, const char *end,
                                const char *name, size_t lineno, struct err *e)
{
    const char *p = s;
    uint32_t x;
    bool ok = take_u32(&p, end, &st->far_uidvalidity) && p < end && *p++ == ':' &&
              take_u32(&p, end, &st->max_pulled) && p < end && *p == ' ';
    skip_blanks(&p, end);
    ok = ok && take_u32(&p, end, &st->near_uidvalidity) && p < end && *p++ == ':' &&
         take_u32(&p, end, &x) && p < end && *p++ == ':' && take_u32(&p, end, &st->max_pushed);
    if (ok)
        skip_blanks(&p, end);
    if (!ok || p != end)
        return bad_line(e, name, lineno, "invalid pre-1.1 header");
    return true;
}

static bool parse_entry(struct mbsync_state *st, const char *s, const char *end, const char *name,
                        size_t lineno, struct err *e)
{
    struct mbsync_pair pr = {0};
    const char *p = s;
    if (!take_u32(&p, end, &pr.far) || p == end || *p != ' ')
        return bad_line(e, name, lineno, "invalid entry");
    skip_blanks(&p, end);
    if (!take_u32(&p, end, &pr.near))
        return bad_line(e, name, lineno, "invalid entry");
    if (p < end && *p != ' ' && *p != '\t')
        return bad_line(e, name, lineno, "invalid entry");
    skip_blanks(&p, end);
    if (p < end && (*p == '<' || *p == '>')) {
        pr.placeholder = *p == '<' ? MBSYNC_PH_FAR : MBSYNC_PH_NEAR;
        p++;
    }
    if (p < end && *p == '^') {
        pr.skipped = true;
        p++;
    } else if (p < end && (*p == '~' || *p == 'X')) {
        pr.expired = true;
        p++;
    }
    /* mbsync's flags are these six letters (MsgFlags in sync.c), written in this order. */
    const char *fl = p;
    while (p < end && *p && strchr("DFPRST", *p))
        p++;
    pr.flags = flags_from_letters(fl, (size_t)(p - fl));
    skip_blanks(&p, end);
    if (p != end)
        return bad_line(e, name, lineno, "invalid flags in entry");
    /* Pre-1.3: a uid of -1 marked a skipped message (unless it had a mark of its own). */
    if (pr.far == UINT32_MAX || pr.near == UINT32_MAX) {
        pr.skipped = !pr.expired;
        pr.far = pr.far == UINT32_MAX ? 0 : pr.far;
        pr.near = pr.near == UINT32_MAX ? 0 : pr.near;
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 256;
        st->v = xreallocarray(st->v, st->cap, sizeof(*st->v));
    }
    st->v[st->n++] = pr;
    return true;
}

bool mbsync_state_parse(const char *data, size_t len, const char *name, struct mbsync_state *out,
                        struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (len >= strlen(MBSYNC_STUB_MARK) &&
        !memcmp(data, MBSYNC_STUB_MARK, strlen(MBSYNC_STUB_MARK))) {
        out->stub = true;
        return true;
    }
    const char *p = data, *end = data + len;
    size_t lineno = 0;
    bool in_header = true;
    while (p < end) {
        lineno++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            bad_line(e, name, lineno, "the last line is incomplete (no newline)");
            goto fail;
        }
        if ((size_t)(nl - p) > MBSYNC_LINE_MAX) {
            bad_line(e, name, lineno, "the line is too long");
            goto fail;
        }
        if (memchr(p, '\0', (size_t)(nl - p))) {
            bad_line(e, name, lineno, "the line holds a NUL byte");
            goto fail;
        }
        bool ok;
        if (!in_header) {
            ok = parse_entry(out, p, nl, name, lineno, e);
        } else if (nl == p) {
            in_header = false;
            ok = true;
        } else if (lineno == 1 && *p >= '0' && *p <= '9') {
            ok = parse_legacy_header(out, p, nl, name, lineno, e);
            in_header = false;
        } else {
            ok = parse_header_line(out, p, nl, name, lineno, e);
        }
        if (!ok)
            goto fail;
        p = nl + 1;
    }
    if (in_header) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "mbsync state %s: the header does not end (no empty line after it).", name);
        goto fail;
    }
    return true;
fail:
    mbsync_state_free(out);
    return false;
}

bool mbsync_state_read(const char *path, struct mbsync_state *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct buf b;
    buf_init(&b, MBSYNC_STATE_MAX);
    bool ok = fs_read_file(path, MBSYNC_STATE_MAX, &b, e) &&
              mbsync_state_parse(b.data, b.len, path, out, e);
    if (!ok && e->scope < ERR_FOLDER)
        e->scope = ERR_FOLDER;
    buf_release(&b);
    return ok;
}

bool mbsync_state_is_stub(const char *path)
{
    char head[sizeof(MBSYNC_STUB_MARK)];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t want = sizeof(head) - 1, got = 0;
    ssize_t r;
    while (got < want && ((r = read(fd, head + got, want - got)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            got += (size_t)r;
    close(fd);
    return got == want && !memcmp(head, MBSYNC_STUB_MARK, want);
}

bool mbsync_uidvalidity_read(const char *dir, bool *present_r, uint32_t *uidvalidity_r,
                             struct err *e)
{
    *present_r = false;
    *uidvalidity_r = 0;
    char *path = fs_join(dir, MBSYNC_UIDVALIDITY);
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT) {
        free(path);
        return true;
    }
    struct buf b;
    buf_init(&b, 4096);
    bool ok = fs_read_file(path, 4096, &b, e);
    if (ok) {
        const char *nl = memchr(b.data, '\n', b.len);
        size_t n = nl ? (size_t)(nl - b.data) : b.len;
        if (!str_to_u32(b.data, n, uidvalidity_r)) {
            err_set(e, ERR_FOLDER, ERRK_GENERIC,
                    "mbsync's %s does not start with a UIDVALIDITY number.", path);
            ok = false;
        }
    }
    if (!ok && e->scope < ERR_FOLDER)
        e->scope = ERR_FOLDER;
    *present_r = ok;
    buf_release(&b);
    free(path);
    return ok;
}

/* ---- where the states are ------------------------------------------------------------ */

/* One configuration value at p: "quoted with \\ escapes" or up to a blank. */
static char *rc_value(const char *p, const char *end)
{
    struct buf v;
    buf_init(&v, MBSYNC_LINE_MAX);
    if (p < end && *p == '"') {
        for (p++; p < end && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < end)
                p++;
            if (!buf_append_char(&v, *p))
                break;
        }
    } else {
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && buf_append_char(&v, *p))
            p++;
    }
    return buf_detach(&v, NULL);
}

void mbsync_rc_sync_states(const char *text, size_t len, const char *home, struct strvec *dirs_r,
                           struct strvec *prefixes_r, char *delim_r)
{
    *delim_r = ':';
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = p;
        p = nl ? nl + 1 : end;
        skip_blanks(&s, le);
        const char *k = s;
        while (s < le && *s != ' ' && *s != '\t')
            s++;
        size_t klen = (size_t)(s - k);
        skip_blanks(&s, le);
        bool is_state = klen == 9 && !strncasecmp(k, "SyncState", 9);
        bool is_delim = klen == 14 && !strncasecmp(k, "FieldDelimiter", 14);
        if (!is_state && !is_delim)
            continue;
        char *v = rc_value(s, le);
        if (is_delim) {
            if (strlen(v) == 1)
                *delim_r = v[0];
        } else if (strcmp(v, "*") != 0) {
            char *full = NULL;
            if (v[0] == '/')
                full = xstrdup(v);
            else if (home && v[0] == '~' && (v[1] == '/' || v[1] == '\0'))
                full = xasprintf("%s%s", home, v + 1);
            char *slash = full ? strrchr(full, '/') : NULL;
            if (slash) {
                strvec_push(prefixes_r, slash + 1);
                *slash = '\0';
                strvec_push(dirs_r, *full ? full : "/");
            }
            free(full);
        }
        free(v);
    }
}

bool mbsync_state_name_matches(const char *fname, const char *prefix, const char *box, char delim)
{
    size_t plen = strlen(prefix), blen = strlen(box), flen = strlen(fname);
    if (blen == 0 || flen < plen + blen || memcmp(fname, prefix, plen) != 0 ||
        memcmp(fname + flen - blen, box, blen) != 0)
        return false;
    const char *r = fname + plen;
    size_t rlen = flen - plen - blen;
    if (rlen == 0)
        return true; /* a Channel's SyncState: prefix + near box */
    /* <d><far store><d><far box>_<d><near store><d> */
    if (rlen < 7 || r[0] != delim || r[rlen - 1] != delim)
        return false;
    size_t us = SIZE_MAX; /* the last "_<d>" before the near store */
    for (size_t i = rlen - 1; i-- > 1;)
        if (r[i] == '_' && r[i + 1] == delim) {
            us = i;
            break;
        }
    if (us == SIZE_MAX || us + 2 >= rlen - 1)
        return false;
    for (size_t i = us + 2; i < rlen - 1; i++)
        if (r[i] == delim)
            return false;
    /* <d><far store><d><far box>: a second delimiter with something on both sides. */
    const char *d2 = memchr(r + 1, delim, us - 1);
    return d2 && d2 > r + 1 && (size_t)(d2 - r) + 1 < us;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static void scan_dir(const char *dir, const char *prefix, const char *box, char delim,
                     struct mbsync_found **found_r, size_t *n_r)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (has_suffix(n, ".journal") || has_suffix(n, ".new") || has_suffix(n, ".lock") ||
            strstr(n, MBSYNC_TAKEN_SUFFIX) || !mbsync_state_name_matches(n, prefix, box, delim))
            continue;
        char *path = fs_join(dir, n);
        struct stat sb;
        bool dup = false;
        for (size_t i = 0; i < *n_r; i++)
            dup |= !strcmp((*found_r)[i].path, path);
        if (dup || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(path);
            continue;
        }
        struct mbsync_state st;
        struct err e = ERR_INIT;
        if (!mbsync_state_read(path, &st, &e) || st.stub) {
            if (err_isset(&e))
                log_warn("Ignoring what looks like an mbsync state: %s", e.msg);
            err_clear(&e);
            mbsync_state_free(&st);
            free(path);
            continue;
        }
        *found_r = xreallocarray(*found_r, *n_r + 1, sizeof(**found_r));
        (*found_r)[(*n_r)++] =
            (struct mbsync_found){path, st.far_uidvalidity, st.near_uidvalidity, sb.st_mtime};
        mbsync_state_free(&st);
    }
    closedir(d);
}

static void read_rc(const char *path, const char *home, struct strvec *dirs,
                    struct strvec *prefixes, char *delim)
{
    struct buf b;
    buf_init(&b, MBSYNC_RC_MAX);
    struct err e = ERR_INIT;
    if (fs_exists(path) && fs_read_file(path, MBSYNC_RC_MAX, &b, &e)) {
        char d = ':';
        mbsync_rc_sync_states(b.data, b.len, home, dirs, prefixes, &d);
        if (d != ':')
            *delim = d;
    }
    err_clear(&e);
    buf_release(&b);
}

/* $XDG_<name>_HOME, or home/<fallback>. */
static char *xdg_dir(const char *var, const char *home, const char *fallback)
{
    const char *v = getenv(var);
    if (v && v[0] == '/')
        return xstrdup(v);
    return fs_join(home, fallback);
}

void mbsync_find_states(const char *home, const char *box, struct mbsync_found **found_r,
                        size_t *n_r)
{
    struct strvec dirs = STRVEC_INIT, prefixes = STRVEC_INIT;
    char delim = ':';
    char *d = fs_join(home, ".mbsync");
    strvec_push_owned(&dirs, d);
    strvec_push(&prefixes, "");
    char *state = xdg_dir("XDG_STATE_HOME", home, ".local/state");
    strvec_push_owned(&dirs, fs_join(state, "isync"));
    strvec_push(&prefixes, "");
    free(state);
    char *rc = fs_join(home, ".mbsyncrc");
    read_rc(rc, home, &dirs, &prefixes, &delim);
    free(rc);
    char *conf = xdg_dir("XDG_CONFIG_HOME", home, ".config");
    rc = fs_join(conf, "isyncrc");
    read_rc(rc, home, &dirs, &prefixes, &delim);
    free(rc);
    free(conf);
    for (size_t i = 0; i < dirs.n; i++)
        scan_dir(dirs.v[i], prefixes.v[i], box, delim, found_r, n_r);
    strvec_free(&dirs);
    strvec_free(&prefixes);
}

void mbsync_found_free(struct mbsync_found *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}
