/*
 * strutil: small string helpers and a vector of owned strings.
 *
 * Number parsers are strict: the whole input must be digits (no sign, no
 * space, no trailing text) and the value must fit, so that untrusted input
 * never turns into a surprising number.
 */
#ifndef BASE_STRUTIL_H
#define BASE_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool str_to_u64(const char *s, size_t len, uint64_t *value_r);
bool str_to_u32(const char *s, size_t len, uint32_t *value_r);
/* Optional leading '-' or '+'. */
bool str_to_i64(const char *s, size_t len, int64_t *value_r);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
bool str_ieq(const char *a, const char *b);
/* Trim ASCII whitespace at both ends, in place; returns s. */
char *str_trim(char *s);
/* Lower-case ASCII letters in place; returns s. */
char *str_lower(char *s);

struct strvec {
    char **v;
    size_t n;
    size_t cap;
};

#define STRVEC_INIT {NULL, 0, 0}

void strvec_push(struct strvec *sv, const char *s);
void strvec_push_owned(struct strvec *sv, char *s);
void strvec_free(struct strvec *sv);
bool strvec_contains(const struct strvec *sv, const char *s);
/*
 * Split s on sep; each item is trimmed of whitespace; empty items are dropped
 * when skip_empty.
 */
void strvec_split(struct strvec *sv, const char *s, char sep, bool skip_empty);
void strvec_sort(struct strvec *sv);

#endif
