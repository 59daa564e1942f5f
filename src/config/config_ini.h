/*
 * config_ini: offlineimap's configuration file, read with exactly the rules
 * of Python 3.11 configparser.ConfigParser as offlineimap3 creates it
 * (strict=True, allow_no_value=False, empty_lines_in_values=True, comment
 * prefixes "#" and ";", no inline comments, BasicInterpolation).
 *
 * What that means, in short (config_ini.c has the details and the reasons):
 * - "[name]" opens a section; names are case-sensitive and kept as written.
 *   [DEFAULT] is special: its options are visible in every section.
 * - "key = value" or "key: value": the first '=' or ':' splits; key and value
 *   are stripped of whitespace; keys are lower-cased (Unicode str.lower()).
 * - A line indented deeper than the option line continues its value (joined
 *   with "\n"); blank lines inside a value are kept, trailing ones dropped.
 * - Only whole lines starting with '#' or ';' are comments: "x = a # b" is
 *   "a # b".
 * - A duplicate section, a duplicate option in one section, a line that is
 *   none of the above, or an option line before any section header is an
 *   error naming the file and line(s).  The file must be UTF-8.
 * - Values are interpolated when read (not raw): %(name)s is the value of
 *   option name (looked up lower-cased) in the same section, else [DEFAULT];
 *   %% is a literal %.  Any other %, a missing name, or more than 10 levels
 *   of nesting is an error naming file, line, section and option.
 *
 * The struct fields are plain data for reading; change them only through the
 * functions below.  Pointers returned by the lookup functions stay valid
 * until the next ini_set(), ini_remove() or ini_override() on the same ini.
 */
#ifndef CONFIG_INI_H
#define CONFIG_INI_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A configuration file larger than this is refused. */
#define INI_MAX_FILE_SIZE (4u * 1024 * 1024)
/* An interpolated value longer than this is an error (reference bombs). */
#define INI_MAX_VALUE_SIZE (1u * 1024 * 1024)
/* Interpolation depth, as configparser.MAX_INTERPOLATION_DEPTH. */
#define INI_MAX_INTERPOLATION_DEPTH 10
/* At most this many parse errors are listed in one message. */
#define INI_MAX_ERRORS 20

struct ini_option {
    char *name;    /* lower-cased, as ConfigParser.optionxform() */
    char *value;   /* raw (not interpolated); continuation lines joined with "\n" */
    unsigned line; /* line of "name = value"; 0 when set by ini_set() */
    char *origin;  /* NULL when read from the file, else who set it ("-k ...") */
};

struct ini_section {
    char *name;
    unsigned line; /* of the "[name]" header; 0 for a DEFAULT the file lacks */
    struct ini_option *opts;
    size_t nopts;
    /* Private: capacity and a hash index of opts by name. */
    size_t opts_cap;
    uint32_t *index;
    size_t index_cap;
};

struct ini {
    char *path;                   /* file name as given, or the label of in-memory text */
    char *display;                /* path for messages, with $HOME written as ~ */
    struct ini_section defaults;  /* [DEFAULT] */
    struct ini_section *sections; /* in file order, without DEFAULT */
    size_t nsections;
    /* Private. */
    size_t sections_cap;
    uint32_t *index;
    size_t index_cap;
};

enum ini_result {
    INI_FOUND = 0, /* the value is in *value_r */
    INI_MISSING,   /* no such section or option (and no DEFAULT for it) */
    INI_BAD,       /* the value could not be interpolated or converted; e set */
};

/* An empty configuration; label names it in messages (a path, or "<test>"). */
struct ini *ini_new(const char *label);
void ini_free(struct ini **ini);

/* Read a whole file (at most INI_MAX_FILE_SIZE) into an empty ini. */
bool ini_read_file(struct ini *ini, const char *path, struct err *e);
/* Parse in-memory text into an empty ini. */
bool ini_parse_text(struct ini *ini, const char *text, size_t len, struct err *e);

/*
 * The same parser, fed in pieces of any size (a "\r\n" may be split).  All
 * problems found are reported together by ini_parser_finish(), which frees
 * the parser; on failure the ini holds what could be read and should not be
 * used for anything but messages.
 */
struct ini_parser;
struct ini_parser *ini_parser_new(struct ini *ini);
void ini_parser_feed(struct ini_parser *p, const void *data, size_t len);
bool ini_parser_finish(struct ini_parser **p, struct err *e);

/* The section called name ("DEFAULT" gives the defaults), or NULL. */
const struct ini_section *ini_section(const struct ini *ini, const char *name);
/* The option (name not yet lower-cased) in exactly this section, or NULL. */
const struct ini_option *ini_section_option(const struct ini_section *s, const char *name);
/*
 * ConfigParser.has_option() and the lookup behind get(): the option in the
 * section, else in [DEFAULT]; NULL if neither, or if the section does not
 * exist.  A NULL or empty section, or "DEFAULT", means [DEFAULT] itself.
 */
const struct ini_option *ini_lookup(const struct ini *ini, const char *section, const char *option);
/* True if opt lives in [DEFAULT] (so it was inherited, for messages). */
bool ini_option_is_default(const struct ini *ini, const struct ini_option *opt);

/*
 * ConfigParser.get(section, option, raw=raw): the value, interpolated unless
 * raw, in a new string (*value_r, to be freed).
 */
enum ini_result ini_get(const struct ini *ini, const char *section, const char *option, bool raw,
                        char **value_r, struct err *e);
/* getboolean(): 1/yes/true/on or 0/no/false/off, any case. */
enum ini_result ini_get_bool(const struct ini *ini, const char *section, const char *option,
                             bool *value_r, struct err *e);
/* getint(): Python int() syntax (sign, surrounding spaces, 1_000), as int64. */
enum ini_result ini_get_int(const struct ini *ini, const char *section, const char *option,
                            int64_t *value_r, struct err *e);
/* getfloat(): Python float() syntax (1.5, 2e3, .5, inf, nan). */
enum ini_result ini_get_float(const struct ini *ini, const char *section, const char *option,
                              double *value_r, struct err *e);

/* Interpolate text as if it were opt's value read from section (NULL: DEFAULT). */
bool ini_interpolate(const struct ini *ini, const char *section, const struct ini_option *opt,
                     char **value_r, struct err *e);

/*
 * ConfigParser.set(): set option in an existing section (NULL, "" or
 * "DEFAULT" is [DEFAULT]).  The value must be valid interpolation syntax
 * (ConfigParser.before_set).  origin names the setter in messages.
 */
bool ini_set(struct ini *ini, const char *section, const char *option, const char *value,
             const char *origin, struct err *e);
/* ConfigParser.remove_option(); true if the option existed in that section. */
bool ini_remove(struct ini *ini, const char *section, const char *option);
/*
 * offlineimap's -k "[section:]option=value": the section defaults to
 * "general" and '_' in it becomes a space ("Account_Work" is "Account Work").
 */
bool ini_override(struct ini *ini, const char *spec, struct err *e);

/*
 * Where opt comes from, for messages: "~/.offlineimaprc line 12" or the
 * origin given to ini_set().  A new string.
 */
char *ini_where(const struct ini *ini, const struct ini_option *opt);
/*
 * "~/.offlineimaprc line 12: [Repository R] ssl" for messages about opt read
 * from section, with " (set in [DEFAULT])" when it was inherited.
 */
char *ini_describe(const struct ini *ini, const char *section, const struct ini_option *opt);
/*
 * The value as shown in messages: control characters escaped, and hidden as
 * "(hidden)" when the option name looks like a secret (pass, secret, token).
 */
char *ini_show_value(const char *option, const char *value);

#endif
