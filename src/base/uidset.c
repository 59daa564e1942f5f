#include "base/uidset.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void uidvec_push(struct uidvec *uv, uint32_t uid)
{
    if (uv->n == uv->cap) {
        uv->cap = uv->cap ? uv->cap * 2 : 16;
        uv->v = xreallocarray(uv->v, uv->cap, sizeof(*uv->v));
    }
    uv->v[uv->n++] = uid;
}

void uidvec_free(struct uidvec *uv)
{
    free(uv->v);
    uv->v = NULL;
    uv->n = uv->cap = 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void uidvec_sort_unique(struct uidvec *uv)
{
    if (uv->n < 2)
        return;
    qsort(uv->v, uv->n, sizeof(*uv->v), cmp_u32);
    size_t j = 1;
    for (size_t i = 1; i < uv->n; i++)
        if (uv->v[i] != uv->v[j - 1])
            uv->v[j++] = uv->v[i];
    uv->n = j;
}

bool uidvec_contains_sorted(const struct uidvec *uv, uint32_t uid)
{
    return uv->n && bsearch(&uid, uv->v, uv->n, sizeof(*uv->v), cmp_u32) != NULL;
}

size_t uidset_format(struct buf *out, const uint32_t *uids, size_t n, size_t max_len)
{
    size_t start = out->len;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j + 1 < n && uids[j + 1] == uids[j] + 1)
            j++;
        char item[32];
        int len = j > i ? snprintf(item, sizeof(item), "%s%u:%u", i ? "," : "", uids[i], uids[j])
                        : snprintf(item, sizeof(item), "%s%u", i ? "," : "", uids[i]);
        if (i > 0 && out->len - start + (size_t)len > max_len)
            break;
        buf_append(out, item, (size_t)len);
        i = j + 1;
    }
    return i;
}

bool uidset_parse(const char *s, size_t len, size_t max_uids, struct uidvec *out)
{
    size_t count = 0;
    size_t pos = 0;
    if (len == 0)
        return false;
    while (pos < len) {
        size_t end = pos;
        while (end < len && s[end] != ',')
            end++;
        const char *colon = memchr(s + pos, ':', end - pos);
        uint32_t lo, hi;
        if (colon) {
            size_t cpos = (size_t)(colon - s);
            if (!str_to_u32(s + pos, cpos - pos, &lo) ||
                !str_to_u32(s + cpos + 1, end - cpos - 1, &hi))
                return false;
        } else {
            if (!str_to_u32(s + pos, end - pos, &lo))
                return false;
            hi = lo;
        }
        if (lo == 0 || hi == 0)
            return false;
        if (lo > hi) {
            uint32_t t = lo;
            lo = hi;
            hi = t;
        }
        if ((uint64_t)hi - lo + 1 > max_uids - count)
            return false;
        for (uint64_t u = lo; u <= hi; u++)
            uidvec_push(out, (uint32_t)u);
        count += (size_t)(hi - lo + 1);
        if (end == len)
            break;
        pos = end + 1;
        if (pos == len)
            return false;
    }
    return true;
}
