#include "base/strutil.h"

#include "base/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool str_to_u64(const char *s, size_t len, uint64_t *value_r)
{
    if (len == 0 || len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *value_r = v;
    return true;
}

bool str_to_u32(const char *s, size_t len, uint32_t *value_r)
{
    uint64_t v;
    if (!str_to_u64(s, len, &v) || v > UINT32_MAX)
        return false;
    *value_r = (uint32_t)v;
    return true;
}

bool str_to_i64(const char *s, size_t len, int64_t *value_r)
{
    bool neg = false;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s++;
        len--;
    }
    uint64_t v;
    if (!str_to_u64(s, len, &v))
        return false;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *value_r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > INT64_MAX)
            return false;
        *value_r = (int64_t)v;
    }
    return true;
}

bool str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool str_ieq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

char *str_trim(char *s)
{
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    size_t start = 0;
    while (isspace((unsigned char)s[start]))
        start++;
    if (start)
        memmove(s, s + start, len - start + 1);
    return s;
}

char *str_lower(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

void strvec_push_owned(struct strvec *sv, char *s)
{
    if (sv->n + 1 >= sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = xreallocarray(sv->v, sv->cap, sizeof(*sv->v));
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
    strvec_push_owned(sv, xstrdup(s));
}

void strvec_free(struct strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

bool strvec_contains(const struct strvec *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (!strcmp(sv->v[i], s))
            return true;
    return false;
}

void strvec_split(struct strvec *sv, const char *s, char sep, bool skip_empty)
{
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *item = str_trim(xstrndup(p, len));
        if (skip_empty && !*item)
            free(item);
        else
            strvec_push_owned(sv, item);
        if (!end)
            break;
        p = end + 1;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort(struct strvec *sv)
{
    if (sv->n > 1)
        qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}
