/*
 * xalloc: allocation that never returns NULL.
 *
 * Running out of memory aborts the process with a message, as in isync,
 * Dovecot and Redis.  Growth driven by input (the network, a file) must never
 * reach these functions unchecked: it goes through a bounded buffer (buf.h)
 * with a named maximum instead.
 */
#ifndef BASE_XALLOC_H
#define BASE_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow an array of nmemb elements of size bytes, checking for overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Free *p and set it to NULL. */
#define XFREE(p)                                                                                   \
    do {                                                                                           \
        free(p);                                                                                   \
        (p) = NULL;                                                                                \
    } while (0)

#endif
