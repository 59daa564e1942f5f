#include "status/status_rows.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

bool status_labels_present(const char *labels)
{
    /* offlineimap keeps the comma-separated items that are not blank. */
    for (const char *p = labels; p && *p; p++)
        if (*p != ',' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\v' &&
            *p != '\f')
            return true;
    return false;
}

void status_rows_push(struct status_rows *rows, uint32_t uid, flagset_t flags, int64_t mtime,
                      const char *labels)
{
    if (rows->n == rows->cap) {
        rows->cap = rows->cap ? rows->cap * 2 : 64;
        rows->v = xreallocarray(rows->v, rows->cap, sizeof(*rows->v));
    }
    struct status_row *r = &rows->v[rows->n++];
    r->uid = uid;
    r->flags = flags;
    r->mtime = mtime;
    r->labels = status_labels_present(labels) ? xstrdup(labels) : NULL;
}

struct row_pos {
    struct status_row row;
    size_t pos;
};

static int row_pos_cmp(const void *a, const void *b)
{
    const struct row_pos *x = a, *y = b;
    if (x->row.uid != y->row.uid)
        return x->row.uid < y->row.uid ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void status_rows_sort(struct status_rows *rows)
{
    bool sorted = true;
    for (size_t i = 1; i < rows->n && sorted; i++)
        sorted = rows->v[i - 1].uid < rows->v[i].uid;
    if (sorted)
        return;
    /* qsort is not stable: carry the position so that the last push wins. */
    struct row_pos *tmp = xreallocarray(NULL, rows->n, sizeof(*tmp));
    for (size_t i = 0; i < rows->n; i++) {
        tmp[i].row = rows->v[i];
        tmp[i].pos = i;
    }
    qsort(tmp, rows->n, sizeof(*tmp), row_pos_cmp);
    size_t out = 0;
    for (size_t i = 0; i < rows->n; i++) {
        if (i + 1 < rows->n && tmp[i + 1].row.uid == tmp[i].row.uid) {
            free(tmp[i].row.labels);
            continue;
        }
        rows->v[out++] = tmp[i].row;
    }
    rows->n = out;
    free(tmp);
}

struct status_row *status_rows_find(const struct status_rows *rows, uint32_t uid)
{
    size_t lo = 0, hi = rows->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rows->v[mid].uid == uid)
            return &rows->v[mid];
        if (rows->v[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void status_rows_clear(struct status_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++)
        free(rows->v[i].labels);
    rows->n = 0;
}

void status_rows_free(struct status_rows *rows)
{
    status_rows_clear(rows);
    XFREE(rows->v);
    rows->cap = 0;
}
