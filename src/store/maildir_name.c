#include "store/maildir_name.h"

#include "base/hash.h"
#include "base/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

/*
 * Python's \w on a file name decoded from UTF-8: ASCII letters, digits and
 * '_', and (approximately) any non-ASCII character, most of which are letters
 * when they appear at all.
 */
static bool is_word(unsigned char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80;
}

/* First occurrence of needle in hay[from..len), or len if none. */
static size_t find(const char *hay, size_t len, size_t from, const char *needle, size_t nlen)
{
    if (nlen > len)
        return len;
    for (size_t i = from; i + nlen <= len; i++)
        if (memcmp(hay + i, needle, nlen) == 0)
            return i;
    return len;
}

/* re.search(',U=(\d+)'): the first ",U=" that is followed by a digit. */
static void parse_uid(const char *name, size_t len, struct maildir_name *out)
{
    for (size_t at = find(name, len, 0, ",U=", 3); at < len;
         at = find(name, len, at + 1, ",U=", 3)) {
        size_t i = at + 3;
        if (i >= len || !is_digit((unsigned char)name[i]))
            continue;
        uint64_t v = 0;
        bool fits = true;
        for (; i < len && is_digit((unsigned char)name[i]); i++) {
            if (fits)
                v = v * 10 + (uint64_t)(name[i] - '0');
            if (v > UINT32_MAX)
                fits = false;
        }
        /* A number no IMAP UID can be is no UID: the file counts as new. */
        out->has_uid = fits;
        out->uid = fits ? (uint32_t)v : 0;
        return;
    }
}

static void parse_fmd5(const char *name, size_t len, const char *folder_fmd5,
                       struct maildir_name *out)
{
    for (size_t at = find(name, len, 0, ",FMD5=", 6); at < len;
         at = find(name, len, at + 1, ",FMD5=", 6)) {
        size_t i = at + 6, n = 0;
        while (n < MAILDIR_FMD5_LEN && i + n < len && is_lower_hex((unsigned char)name[i + n]))
            n++;
        if (n == MAILDIR_FMD5_LEN) {
            memcpy(out->fmd5, name + i, MAILDIR_FMD5_LEN);
            out->fmd5[MAILDIR_FMD5_LEN] = '\0';
            out->has_fmd5 = true;
            break;
        }
    }
    if (folder_fmd5) {
        /* offlineimap: ',FMD5=%s' % foldermd5 in filename. */
        char needle[6 + MAILDIR_FMD5_LEN + 1];
        int n = snprintf(needle, sizeof(needle), ",FMD5=%.32s", folder_fmd5);
        out->in_folder = n > 0 && find(name, len, 0, needle, (size_t)n) < len;
    }
}

static void parse_info(const char *name, size_t len, char infosep, struct maildir_name *out)
{
    const char info[3] = {infosep, '2', ','};
    size_t at = find(name, len, 0, info, 3);
    out->base_len = at;
    if (at == len)
        return;
    out->has_info = true;
    for (size_t i = at + 3; i < len && is_word((unsigned char)name[i]); i++)
        out->flags |= flag_bit(name[i]);
}

static void parse_time(const char *name, size_t len, struct maildir_name *out)
{
    size_t i = 0;
    while (i < len && !is_digit((unsigned char)name[i]))
        i++;
    if (i == len)
        return;
    int64_t v = 0;
    for (; i < len && is_digit((unsigned char)name[i]); i++) {
        int d = name[i] - '0';
        v = v > (INT64_MAX - d) / 10 ? INT64_MAX : v * 10 + d;
    }
    out->has_time = true;
    out->time = v;
}

bool maildir_name_parse(const char *name, size_t len, char infosep, const char *folder_fmd5,
                        struct maildir_name *out)
{
    memset(out, 0, sizeof(*out));
    if (len == 0 || len > MAILDIR_NAME_MAX || memchr(name, '\0', len) || memchr(name, '/', len))
        return false;
    out->len = len;
    parse_info(name, len, infosep, out);
    parse_uid(name, len, out);
    parse_fmd5(name, len, folder_fmd5, out);
    parse_time(name, len, out);
    return true;
}

size_t maildir_name_unique(const char *name, const struct maildir_name *p, char *out)
{
    size_t base = p->base_len, n = 0, i = 0;
    /* The first item is the unique name proper and always stays. */
    while (i < base && name[i] != ',')
        out[n++] = name[i++];
    while (i < base) {
        /* name[i] == ','; the item runs to the next comma. */
        size_t end = i + 1;
        while (end < base && name[end] != ',')
            end++;
        size_t ilen = end - (i + 1);
        const char *item = name + i + 1;
        bool ours = (ilen >= 2 && memcmp(item, "U=", 2) == 0) ||
                    (ilen >= 5 && memcmp(item, "FMD5=", 5) == 0);
        if (!ours) {
            memcpy(out + n, name + i, end - i);
            n += end - i;
        }
        i = end;
    }
    out[n] = '\0';
    return n;
}

bool maildir_name_compose(struct buf *out, const char *unique, size_t unique_len, uint32_t uid,
                          const char *fmd5, char infosep, flagset_t flags)
{
    char letters[53];
    size_t nl = flags_to_letters(flags, letters);
    char items[64] = "";
    int ni = 0;
    if (uid != 0)
        ni = snprintf(items, sizeof(items), ",U=%u,FMD5=%.32s", (unsigned)uid, fmd5);
    size_t total = unique_len + (size_t)ni + 3 + nl;
    if (unique_len == 0 || total > MAILDIR_NAME_MAX)
        return false;
    /* "x:2" + ",U=" would read as an info part: no such name can be built. */
    if (uid != 0 && unique_len >= 2 && unique[unique_len - 2] == infosep &&
        unique[unique_len - 1] == '2')
        return false;
    size_t start = out->len;
    char info[3] = {infosep, '2', ','};
    if (!buf_append(out, unique, unique_len) || !buf_append(out, items, (size_t)ni) ||
        !buf_append(out, info, 3) || !buf_append(out, letters, nl)) {
        buf_truncate(out, start);
        return false;
    }
    return true;
}

size_t maildir_name_format_unique(char *out, size_t size, int64_t timeval, uint64_t seq, long pid,
                                  const char *host)
{
    int n = snprintf(out, size, "%lld_%llu.%ld.", (long long)timeval, (unsigned long long)seq, pid);
    if (n < 0 || (size_t)n >= size)
        return 0;
    size_t len = (size_t)n;
    for (const char *h = host; *h; h++) {
        unsigned char c = (unsigned char)*h;
        if (len + 1 >= size)
            return 0;
        bool bad = c == '/' || c == ':' || c == '!' || c == ',' || c < 0x20 || c == 0x7f;
        out[len++] = bad ? '-' : (char)c;
    }
    out[len] = '\0';
    return len;
}

/*
 * timeval -> next sequence number, an open-addressing table that only grows,
 * as offlineimap's timehash dict does.  One entry per distinct second used
 * for a name: small for a run's lifetime.
 */
static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static struct seq_slot {
    int64_t timeval;
    uint64_t next;
    bool used;
} * seq_tab;
static size_t seq_cap, seq_count;

static size_t seq_hash(int64_t t, size_t cap)
{
    uint64_t x = (uint64_t)t * 0x9e3779b97f4a7c15u;
    return (size_t)(x >> 17) & (cap - 1);
}

static struct seq_slot *seq_lookup(struct seq_slot *tab, size_t cap, int64_t t)
{
    size_t i = seq_hash(t, cap);
    while (tab[i].used && tab[i].timeval != t)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

uint64_t maildir_name_timeseq(int64_t timeval)
{
    pthread_mutex_lock(&seq_lock);
    if ((seq_count + 1) * 2 > seq_cap) {
        size_t ncap = seq_cap ? seq_cap * 2 : 64;
        struct seq_slot *ntab = xcalloc(ncap, sizeof(*ntab));
        for (size_t i = 0; i < seq_cap; i++)
            if (seq_tab[i].used)
                *seq_lookup(ntab, ncap, seq_tab[i].timeval) = seq_tab[i];
        free(seq_tab);
        seq_tab = ntab;
        seq_cap = ncap;
    }
    struct seq_slot *s = seq_lookup(seq_tab, seq_cap, timeval);
    if (!s->used) {
        s->used = true;
        s->timeval = timeval;
        s->next = 0;
        seq_count++;
    }
    uint64_t seq = s->next++;
    pthread_mutex_unlock(&seq_lock);
    return seq;
}

static char hostname[MAILDIR_NAME_MAX + 1];
static pthread_once_t hostname_once = PTHREAD_ONCE_INIT;

static void hostname_init(void)
{
    if (gethostname(hostname, sizeof(hostname) - 1) != 0 || hostname[0] == '\0')
        snprintf(hostname, sizeof(hostname), "localhost");
    hostname[sizeof(hostname) - 1] = '\0';
}

const char *maildir_name_hostname(void)
{
    pthread_once(&hostname_once, hostname_init);
    return hostname;
}

size_t maildir_name_new_unique(char *out, int64_t timeval)
{
    if (timeval == 0)
        timeval = (int64_t)time(NULL);
    uint64_t seq = maildir_name_timeseq(timeval);
    size_t n = maildir_name_format_unique(out, MAILDIR_NAME_MAX + 1, timeval, seq, (long)getpid(),
                                          maildir_name_hostname());
    if (n == 0 || n > 160) {
        /* A host name too long to leave room for the items: keep a prefix of it. */
        char host[64];
        snprintf(host, sizeof(host), "%.63s", maildir_name_hostname());
        n = maildir_name_format_unique(out, MAILDIR_NAME_MAX + 1, timeval, seq, (long)getpid(),
                                       host);
    }
    return n;
}

void maildir_name_fmd5(const char *visible_name, char out[MAILDIR_FMD5_LEN + 1])
{
    hash_md5_hex(visible_name, strlen(visible_name), out);
}
