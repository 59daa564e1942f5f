/*
 * config_model_internal: the reading helpers the parts of config_model
 * share.  A struct rd reads one section the way offlineimap's getconf*()
 * helpers do (the section, else [DEFAULT]; interpolated) and turns every
 * failure into a problem instead of stopping.
 */
#ifndef CONFIG_MODEL_INTERNAL_H
#define CONFIG_MODEL_INTERNAL_H

#include "config/config_ini.h"
#include "config/config_model.h"

#include <stdbool.h>
#include <stdint.h>

struct rd {
    const struct ini *ini;
    struct config_problems *probs;
    const char *section;
    unsigned section_line;
    /* Non-NULL when this run does not use the section: errors become warnings ending so. */
    const char *unused_note;
};

__attribute__((format(printf, 4, 5))) void problem_add(struct config_problems *p,
                                                       enum config_severity severity, unsigned line,
                                                       const char *fmt, ...);
/* A problem about the whole section: "<file> line N: [S]: <msg>". */
__attribute__((format(printf, 3, 4))) void
rd_section_problem(struct rd *r, enum config_severity severity, const char *fmt, ...);
/* A problem about one option: "<file> line N: [S] opt: <msg>". */
__attribute__((format(printf, 4, 5))) void rd_option_problem(struct rd *r,
                                                             enum config_severity severity,
                                                             const struct ini_option *opt,
                                                             const char *fmt, ...);
/* An error from config_ini (interpolation, conversion) at line. */
void rd_ini_error(struct rd *r, struct err *e, unsigned line);

/* The option in the section or [DEFAULT], or NULL. */
const struct ini_option *rd_opt(struct rd *r, const char *name);
/* getconf(name, def): the interpolated value, or a copy of def (NULL stays NULL). */
char *rd_str(struct rd *r, const char *name, const char *def);
/* The value read raw (no interpolation), or NULL. */
char *rd_raw(struct rd *r, const char *name);
bool rd_bool(struct rd *r, const char *name, bool def);
enum config_tristate rd_tristate(struct rd *r, const char *name);
/* getconfint(); a value outside [min, max] is an error and gives def. */
int64_t rd_int(struct rd *r, const char *name, int64_t def, int64_t min, int64_t max);
double rd_float(struct rd *r, const char *name, double def);
struct config_expr rd_expr(struct rd *r, const char *name);

enum rd_path_mode {
    RD_PATH_USER,         /* os.path.expanduser */
    RD_PATH_USER_VARS,    /* expanduser, then expandvars */
    RD_PATH_USER_VARS_ABS /* ... then os.path.abspath */
};
char *rd_path(struct rd *r, const char *name, const char *def, enum rd_path_mode mode);

/*
 * time.strptime(text, "%Y-%m-%d") as offlineimap uses it for maxage and
 * startdate: false if it does not parse (no problem is added).
 */
bool config_parse_date(const char *text, struct config_date *d);
/* The date is after the current local time (midnight of that day). */
bool config_date_in_future(const struct config_date *d);

void config_expr_free(struct config_expr *x);

/* config_model_repo.c */
void config_read_repository(struct rd *r, const struct config_general *g,
                            struct config_repository *repo);
void config_repository_release(struct config_repository *repo);

/* config_model_account.c */
void config_read_account(struct rd *r, struct config *cfg, struct config_account *acc);
void config_account_release(struct config_account *acc);

/* config_model_check.c: unknown options, sections and typos. */
void config_check_names(const struct config *cfg, struct config_problems *probs);

#endif
