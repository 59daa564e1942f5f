/*
 * arena: a bump allocator for one unit of work (a response line, a folder
 * pass).  Everything allocated from it is freed at once by arena_reset() or
 * arena_free().  Allocations are aligned for any scalar type.
 */
#ifndef BASE_ARENA_H
#define BASE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t chunk_size;
    size_t total; /* bytes handed out since the last reset */
};

void arena_init(struct arena *a, size_t chunk_size);
void *arena_alloc(struct arena *a, size_t size);
void *arena_zalloc(struct arena *a, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Free everything but keep one chunk for reuse. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
