/*
 * config_model_account: one [Account X] section, with the defaults of
 * offlineimap3's accounts.py, the folder classes and imapserver.py, and the checks
 * that involve both of its repositories.
 */
#include "config/config_ini_internal.h"
#include "config/config_model_internal.h"

#include "base/xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* "TYPE:host:port" (imapserver.py _get_proxy, with PySocks' type names). */
static void read_proxy(struct rd *r, const char *name, struct config_proxy *px)
{
    char *v = rd_str(r, name, NULL);
    if (!v || !*v) {
        free(v);
        return;
    }
    const struct ini_option *opt = rd_opt(r, name);
    char *c1 = strchr(v, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || strchr(c2 + 1, ':')) {
        rd_option_problem(r, CONFIG_ERROR, opt,
                          "\"%s\" is not TYPE:host:port (for example SOCKS5:localhost:9050).", v);
        free(v);
        return;
    }
    *c1 = *c2 = 0;
    const char *type = v;
    if (strncmp(type, "PROXY_TYPE_", 11) == 0)
        type += 11; /* PySocks accepts both spellings */
    int64_t port;
    if (strcmp(type, "SOCKS5") != 0 && strcmp(type, "SOCKS4") != 0 && strcmp(type, "HTTP") != 0) {
        rd_option_problem(r, CONFIG_ERROR, opt,
                          "\"%s\" is not a proxy type (use SOCKS5, SOCKS4 or HTTP).", v);
    } else if (!ini_parse_int(c2 + 1, &port) || port < 1 || port > 65535) {
        rd_option_problem(r, CONFIG_ERROR, opt, "\"%s\" is not a port number.", c2 + 1);
    } else {
        px->type = xstrdup(type);
        px->host = xstrdup(c1 + 1);
        px->port = (int)port;
    }
    free(v);
}

static void copy_proxy(struct config_proxy *dst, const struct config_proxy *src)
{
    dst->type = src->type ? xstrdup(src->type) : NULL;
    dst->host = src->host ? xstrdup(src->host) : NULL;
    dst->port = src->port;
}

/* re.split(r'\s*,\s*', value), dropping empty items. */
static void read_list(struct rd *r, const char *name, struct strvec *out)
{
    char *v = rd_str(r, name, NULL);
    if (v)
        strvec_split(out, v, ',', true);
    free(v);
}

static void read_maxage(struct rd *r, struct config_account *acc)
{
    char *v = rd_str(r, "maxage", NULL);
    if (!v)
        return;
    const struct ini_option *opt = rd_opt(r, "maxage");
    int64_t days;
    struct config_date d;
    if (ini_parse_int(v, &days)) {
        if (days < 1 || days > INT_MAX)
            rd_option_problem(r, CONFIG_ERROR, opt,
                              "invalid maxage value %s (use a number of days of at least 1, or "
                              "a date YYYY-MM-DD).",
                              v);
        else {
            acc->maxage_kind = CONFIG_MAXAGE_DAYS;
            acc->maxage_days = (int)days;
        }
    } else if (!config_parse_date(v, &d)) {
        rd_option_problem(r, CONFIG_ERROR, opt,
                          "invalid maxage value \"%s\" (use a number of days, or a date "
                          "YYYY-MM-DD).",
                          v);
    } else if (d.year < 1900) {
        rd_option_problem(r, CONFIG_ERROR, opt, "maxage %s is before the year 1900.", v);
    } else if (config_date_in_future(&d)) {
        rd_option_problem(r, CONFIG_ERROR, opt, "maxage %s is in the future.", v);
    } else {
        acc->maxage_kind = CONFIG_MAXAGE_DATE;
        acc->maxage_date = d;
    }
    free(v);
}

/* The repository an account names, checked against the role it plays. */
static struct config_repository *resolve_repo(struct rd *r, struct config *cfg, const char *option,
                                              const char *name, bool local)
{
    const struct ini_option *opt = rd_opt(r, option);
    struct config_repository *repo = config_find_repository(cfg, name);
    if (!repo) {
        rd_option_problem(r, CONFIG_ERROR, opt, "there is no [Repository %s] section.", name);
        return NULL;
    }
    bool ok = local ? repo->type != CONFIG_REPO_GMAIL
                    : repo->type != CONFIG_REPO_MAILDIR && repo->type != CONFIG_REPO_GMAILMAILDIR;
    if (!ok)
        rd_option_problem(r, CONFIG_ERROR, opt,
                          "[Repository %s] has type = %s, which is not supported for %s "
                          "repositories (use %s).",
                          name, config_repo_type_name(repo->type), local ? "local" : "remote",
                          local ? "Maildir, GmailMaildir or IMAP" : "IMAP or Gmail");
    return repo;
}

static void check_pair(struct rd *r, struct config_account *acc)
{
    struct config_repository *l = acc->local, *rm = acc->remote;
    int limits = (acc->maxage_kind != CONFIG_MAXAGE_NONE) + (l && l->has_startdate) +
                 (rm && rm->has_startdate);
    if (limits > 1)
        rd_section_problem(r, CONFIG_ERROR,
                           "only one of maxage, startdate (in [%s]) and startdate (in [%s]) may "
                           "be set.",
                           l ? l->section : "local repository",
                           rm ? rm->section : "remote repository");
    if (acc->maxage_kind != CONFIG_MAXAGE_NONE && l && l->type == CONFIG_REPO_IMAP)
        rd_option_problem(r, CONFIG_ERROR, rd_opt(r, "maxage"),
                          "maxage is not supported on IMAP-IMAP sync.");
    if (acc->utf8foldernames && rm && rm->decodefoldernames)
        rd_section_problem(r, CONFIG_ERROR,
                           "utf8foldernames and decodefoldernames (in [%s]) may not be used at "
                           "the same time.",
                           rm->section);
    bool gmail =
        (l && l->type == CONFIG_REPO_GMAILMAILDIR) || (rm && rm->type == CONFIG_REPO_GMAIL);
    if (acc->synclabels && l && rm && !gmail)
        rd_option_problem(r, CONFIG_WARNING, rd_opt(r, "synclabels"),
                          "has no effect: labels are synced only with Gmail or GmailMaildir "
                          "repositories.");
}

void config_read_account(struct rd *r, struct config *cfg, struct config_account *acc)
{
    acc->localrepository = rd_str(r, "localrepository", NULL);
    acc->remoterepository = rd_str(r, "remoterepository", NULL);
    if (!acc->localrepository && !rd_opt(r, "localrepository"))
        rd_section_problem(r, CONFIG_ERROR,
                           "no localrepository; name the [Repository ...] section that holds "
                           "the local side.");
    if (!acc->remoterepository && !rd_opt(r, "remoterepository"))
        rd_section_problem(r, CONFIG_ERROR,
                           "no remoterepository; name the [Repository ...] section of the IMAP "
                           "server.");
    if (acc->localrepository)
        acc->local = resolve_repo(r, cfg, "localrepository", acc->localrepository, true);
    if (acc->remoterepository)
        acc->remote = resolve_repo(r, cfg, "remoterepository", acc->remoterepository, false);

    acc->autorefresh = rd_float(r, "autorefresh", 0.0);
    if (acc->autorefresh < 0) {
        rd_option_problem(r, CONFIG_WARNING, rd_opt(r, "autorefresh"),
                          "autorefresh for %s is negative, fixing it to 0.", acc->name);
        acc->autorefresh = 0;
    }
    acc->quick = (int)rd_int(r, "quick", 0, INT_MIN, INT_MAX);
    acc->presynchook = rd_str(r, "presynchook", "");
    acc->postsynchook = rd_str(r, "postsynchook", "");
    if (rd_opt(r, "maxsize")) {
        acc->maxsize = rd_int(r, "maxsize", -1, 1, INT64_MAX);
        acc->has_maxsize = acc->maxsize > 0;
    }
    read_maxage(r, acc);
    acc->maildir_windows_compatible = rd_bool(r, "maildir-windows-compatible", false);
    acc->synclabels = rd_bool(r, "synclabels", false);
    acc->labelsheader = rd_str(r, "labelsheader", "X-Keywords");
    read_list(r, "ignorelabels", &acc->ignorelabels);
    read_list(r, "filterheaders", &acc->filterheaders);
    read_proxy(r, "proxy", &acc->proxy);
    if (rd_opt(r, "authproxy"))
        read_proxy(r, "authproxy", &acc->authproxy); /* empty: explicitly no proxy */
    else
        copy_proxy(&acc->authproxy, &acc->proxy);
    acc->utf8foldernames = rd_bool(r, "utf8foldernames", false);
    /* Ours: the mass-deletion guard (0 or 100 turns it off). */
    acc->deleteguard = (int)rd_int(r, "deleteguard", 50, 0, 100);
    acc->deleteguard_minimum = (int)rd_int(r, "deleteguard_minimum", 10, 0, INT_MAX);
    if (rd_opt(r, "status_backend"))
        rd_option_problem(r, CONFIG_ERROR, rd_opt(r, "status_backend"),
                          "the 'status_backend' configuration option is not supported anymore; "
                          "please, remove this configuration option.");
    check_pair(r, acc);
}

void config_account_release(struct config_account *acc)
{
    free(acc->name);
    free(acc->section);
    free(acc->localrepository);
    free(acc->remoterepository);
    free(acc->presynchook);
    free(acc->postsynchook);
    free(acc->labelsheader);
    strvec_free(&acc->ignorelabels);
    strvec_free(&acc->filterheaders);
    free(acc->proxy.type);
    free(acc->proxy.host);
    free(acc->authproxy.type);
    free(acc->authproxy.host);
    memset(acc, 0, sizeof(*acc));
}
