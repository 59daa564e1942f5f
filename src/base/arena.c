#include "base/arena.h"

#include "base/xalloc.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN (alignof(max_align_t))

void arena_init(struct arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 4096;
    a->total = 0;
}

static struct arena_chunk *chunk_new(size_t size)
{
    struct arena_chunk *c = xmalloc(sizeof(*c) + size);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
    size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (need < size)
        abort();
    struct arena_chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t csize = need > a->chunk_size ? need : a->chunk_size;
        c = chunk_new(csize);
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    return p;
}

void *arena_zalloc(struct arena *a, size_t size)
{
    void *p = arena_alloc(a, size);
    memset(p, 0, size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void arena_reset(struct arena *a)
{
    struct arena_chunk *keep = NULL;
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        /* Keep one chunk of the standard size to avoid churn. */
        if (!keep && c->size == a->chunk_size) {
            keep = c;
            keep->used = 0;
            keep->next = NULL;
        } else {
            free(c);
        }
        c = next;
    }
    a->head = keep;
    a->total = 0;
}

void arena_free(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}
