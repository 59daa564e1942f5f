/*
 * config_ini_internal: what the parts of config_ini share (storage with hash
 * indexes, UTF-8 and whitespace helpers).  Not for other modules.
 */
#ifndef CONFIG_INI_INTERNAL_H
#define CONFIG_INI_INTERNAL_H

#include "config/config_ini.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INI_NOT_FOUND ((size_t)-1)

/* Length of the valid UTF-8 sequence at s (n > 0), storing the code point. */
size_t ini_utf8_decode(const char *s, size_t n, uint32_t *cp_r);
/* True if s[0..n) is valid UTF-8 without NUL; else *bad_r is the bad offset. */
bool ini_utf8_check(const char *s, size_t n, size_t *bad_r);
/* Python str.strip() on valid UTF-8: the kept part is s[*a_r, *b_r). */
void ini_strip(const char *s, size_t n, size_t *a_r, size_t *b_r);
/* Number of leading whitespace code points (the column of regex \S). */
size_t ini_indent(const char *s, size_t n);
/* Python str.lower() of valid UTF-8, as a new string. */
char *ini_lower(const char *s, size_t n);

/* Python int(text): surrounding whitespace, a sign, digits with underscores. */
bool ini_parse_int(const char *text, int64_t *value_r);

void ini_section_init(struct ini_section *s, const char *name, size_t len, unsigned line);
void ini_section_release(struct ini_section *s);
/* Index of the option whose lower-cased name is lname, or INI_NOT_FOUND. */
size_t ini_section_find(const struct ini_section *s, const char *lname);
/* Append an option (name already lower-cased, taken over); returns its index. */
size_t ini_section_append(struct ini_section *s, char *lname, char *value, unsigned line,
                          char *origin);
void ini_section_remove_at(struct ini_section *s, size_t i);

/* Index of the section called name (not DEFAULT), or INI_NOT_FOUND. */
size_t ini_find_section(const struct ini *ini, const char *name, size_t len);
/* Append a new section (the name must not exist yet); returns its index. */
size_t ini_append_section(struct ini *ini, const char *name, size_t len, unsigned line);

#endif
