/*
 * config_model_check: options and sections offlineimap would ignore.
 *
 * offlineimap reads the options it knows and silently ignores the rest, so a
 * typo ("remoteusr") quietly falls back to a default.  We warn, naming the
 * closest known option.  An unknown option is not warned about when some
 * value refers to it with %(name)s: users keep helper values that way
 * (often in [DEFAULT]).
 */
#include "config/config_model_internal.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const general_opts[] = {"accounts",
                                           "metadata",
                                           "maxsyncaccounts",
                                           "ui",
                                           "ignore-readonly",
                                           "pythonfile",
                                           "socktimeout",
                                           "fsync",
                                           "filename_use_mail_timestamp",
                                           "utime_from_header",
                                           "dry-run",
                                           "ignore-keyring",
                                           "update-keyring",
                                           NULL};
static const char *const mbnames_opts[] = {
    "enabled", "filename",    "header",       "peritem",      "sep",
    "footer",  "incremental", "folderfilter", "sort_keyfunc", NULL};
static const char *const account_opts[] = {"localrepository",
                                           "remoterepository",
                                           "autorefresh",
                                           "quick",
                                           "presynchook",
                                           "postsynchook",
                                           "maxsize",
                                           "maxage",
                                           "maildir-windows-compatible",
                                           "synclabels",
                                           "labelsheader",
                                           "ignorelabels",
                                           "filterheaders",
                                           "proxy",
                                           "authproxy",
                                           "utf8foldernames",
                                           "status_backend",
                                           "skipsleep",
                                           "deleteguard",
                                           "deleteguard_minimum",
                                           NULL};
static const char *const repo_opts[] = {"type",
                                        "readonly",
                                        "nametrans",
                                        "folderfilter",
                                        "folderincludes",
                                        "foldersort",
                                        "createfolders",
                                        "sync_deletes",
                                        "dynamic_folderfilter",
                                        "startdate",
                                        "filename_use_mail_timestamp",
                                        NULL};
static const char *const maildir_opts[] = {"localfolders", "sep", "restoreatime",
                                           "utime_from_header", NULL};
static const char *const imap_opts[] = {"remotehost",
                                        "remotehosteval",
                                        "remoteport",
                                        "remoteporteval",
                                        "ipv6",
                                        "ssl",
                                        "starttls",
                                        "sslcacertfile",
                                        "cert_fingerprint",
                                        "sslclientcert",
                                        "sslclientkey",
                                        "ssl_version",
                                        "tls_level",
                                        "preauthtunnel",
                                        "transporttunnel",
                                        "reference",
                                        "usecompression",
                                        "remoteuser",
                                        "remoteusereval",
                                        "remote_identity",
                                        "remotepass",
                                        "remotepasseval",
                                        "remotepassfile",
                                        "auth_mechanisms",
                                        "allow_plaintext_auth",
                                        "oauth2_client_id",
                                        "oauth2_client_id_eval",
                                        "oauth2_client_secret",
                                        "oauth2_client_secret_eval",
                                        "oauth2_refresh_token",
                                        "oauth2_refresh_token_eval",
                                        "oauth2_access_token",
                                        "oauth2_access_token_eval",
                                        "oauth2_request_url",
                                        "subscribedonly",
                                        "decodefoldernames",
                                        "idlefolders",
                                        "maxconnections",
                                        "singlethreadperfolder",
                                        "holdconnectionopen",
                                        "keepalive",
                                        "expunge",
                                        "retrycount",
                                        "copy_ignore_eval",
                                        "newmail_hook",
                                        "sep",
                                        NULL};
static const char *const gmail_opts[] = {"trashfolder", "spamfolder", NULL};

enum kind {
    KIND_OTHER,
    KIND_GENERAL,
    KIND_MBNAMES,
    KIND_ACCOUNT,
    KIND_REPOSITORY,
};

static bool in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static bool is_customflag(const char *name)
{
    return strncmp(name, "customflag_", 11) == 0 && name[11] >= 'a' && name[11] <= 'z' &&
           name[12] == 0;
}

static bool known_for_repo(const char *name, enum config_repo_type type)
{
    if (in_list(repo_opts, name))
        return true;
    if (config_repo_is_maildir(type))
        return in_list(maildir_opts, name) || is_customflag(name);
    if (config_repo_is_imap(type))
        return in_list(imap_opts, name) || (type == CONFIG_REPO_GMAIL && in_list(gmail_opts, name));
    /* Unknown type: accept anything a repository of some type knows. */
    return in_list(maildir_opts, name) || is_customflag(name) || in_list(imap_opts, name) ||
           in_list(gmail_opts, name);
}

static bool known_anywhere(const char *name)
{
    return in_list(general_opts, name) || in_list(mbnames_opts, name) ||
           in_list(account_opts, name) || known_for_repo(name, CONFIG_REPO_UNKNOWN);
}

/* Optimal string alignment distance (Damerau-Levenshtein without re-edits). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

struct suggest {
    const char *best;
    size_t dist;
};

static void consider(struct suggest *s, const char *name, const char *candidate)
{
    size_t d = edit_distance(name, candidate);
    size_t len = strlen(name);
    size_t limit = len <= 4 ? 1 : len <= 9 ? 2 : 3;
    bool contained =
        len >= 5 && strlen(candidate) >= 5 && (strstr(candidate, name) || strstr(name, candidate));
    if (d > limit && !contained)
        return;
    if (d > limit)
        d += 100; /* a prefix or part: rank below every real near-miss */
    if (!s->best || d < s->dist) {
        s->best = candidate;
        s->dist = d;
    }
}

static void consider_list(struct suggest *s, const char *name, const char *const *list)
{
    for (; *list; list++)
        consider(s, name, *list);
}

/* Which kind of section knows name, for "it belongs in a [...] section". */
static const char *home_of_option(const char *name)
{
    if (in_list(account_opts, name))
        return "[Account ...]";
    if (known_for_repo(name, CONFIG_REPO_UNKNOWN))
        return "[Repository ...]";
    if (in_list(general_opts, name))
        return "[general]";
    if (in_list(mbnames_opts, name))
        return "[mbnames]";
    return NULL;
}

/* Every name written as %(name)s in some value, lower-cased. */
static void collect_references(const struct ini *ini, struct strvec *refs)
{
    for (size_t si = 0; si <= ini->nsections; si++) {
        const struct ini_section *s = si < ini->nsections ? &ini->sections[si] : &ini->defaults;
        for (size_t i = 0; i < s->nopts; i++) {
            for (const char *p = s->opts[i].value; (p = strstr(p, "%(")) != NULL;) {
                const char *close = strchr(p + 2, ')');
                if (!close)
                    break;
                char *name = xstrndup(p + 2, (size_t)(close - p - 2));
                str_lower(name);
                strvec_push_owned(refs, name);
                p = close;
            }
        }
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool referenced(const struct strvec *refs, const char *name)
{
    return refs->n && bsearch(&name, refs->v, refs->n, sizeof(*refs->v), cmp_str) != NULL;
}

static enum kind kind_of(const char *section)
{
    if (strcmp(section, "general") == 0)
        return KIND_GENERAL;
    if (strcmp(section, "mbnames") == 0)
        return KIND_MBNAMES;
    if (strncmp(section, "Account ", 8) == 0)
        return KIND_ACCOUNT;
    if (strncmp(section, "Repository ", 11) == 0)
        return KIND_REPOSITORY;
    return KIND_OTHER;
}

static void warn_option(const struct config *cfg, struct config_problems *probs,
                        const struct ini_section *sect, const struct ini_option *opt,
                        enum kind kind, const struct config_repository *repo)
{
    char *where = ini_where(cfg->ini, opt);
    const char *home = home_of_option(opt->name);
    if (kind == KIND_REPOSITORY && repo && known_for_repo(opt->name, CONFIG_REPO_UNKNOWN)) {
        problem_add(probs, CONFIG_WARNING, opt->line,
                    "%s: [%s] %s: not used by %s repositories, ignored.", where, sect->name,
                    opt->name, config_repo_type_name(repo->type));
    } else if (kind != KIND_OTHER && home) {
        problem_add(probs, CONFIG_WARNING, opt->line,
                    "%s: [%s] %s: not an option of this section (it belongs in a %s section), "
                    "ignored.",
                    where, sect->name, opt->name, home);
    } else {
        struct suggest s = {NULL, 0};
        switch (kind) {
        case KIND_GENERAL:
            consider_list(&s, opt->name, general_opts);
            break;
        case KIND_MBNAMES:
            consider_list(&s, opt->name, mbnames_opts);
            break;
        case KIND_ACCOUNT:
            consider_list(&s, opt->name, account_opts);
            break;
        case KIND_REPOSITORY:
            consider_list(&s, opt->name, repo_opts);
            if (!repo || config_repo_is_maildir(repo->type) || repo->type == CONFIG_REPO_UNKNOWN)
                consider_list(&s, opt->name, maildir_opts);
            if (!repo || !config_repo_is_maildir(repo->type))
                consider_list(&s, opt->name, imap_opts);
            if (!repo || repo->type == CONFIG_REPO_GMAIL)
                consider_list(&s, opt->name, gmail_opts);
            break;
        case KIND_OTHER:
            break; /* the whole section was reported instead */
        }
        /* Nothing close here: a near-miss of another section's option ("remoteusr"). */
        struct suggest other = {NULL, 0};
        if (!s.best && kind != KIND_OTHER) {
            const char *const *lists[] = {general_opts, mbnames_opts, account_opts,
                                          repo_opts,    maildir_opts, imap_opts};
            for (size_t k = 0; k < 6; k++)
                consider_list(&other, opt->name, lists[k]);
        }
        if (s.best)
            problem_add(probs, CONFIG_WARNING, opt->line,
                        "%s: [%s] %s: unknown option, ignored (did you mean %s?).", where,
                        sect->name, opt->name, s.best);
        else if (other.best && home_of_option(other.best))
            problem_add(probs, CONFIG_WARNING, opt->line,
                        "%s: [%s] %s: unknown option, ignored (did you mean %s? It belongs in a "
                        "%s section).",
                        where, sect->name, opt->name, other.best, home_of_option(other.best));
        else
            problem_add(probs, CONFIG_WARNING, opt->line, "%s: [%s] %s: unknown option, ignored.",
                        where, sect->name, opt->name);
    }
    free(where);
}

static void check_section_name(const struct config *cfg, struct config_problems *probs,
                               const struct ini_section *sect)
{
    const char *name = sect->name;
    const char *space = strchr(name, ' ');
    struct suggest s = {NULL, 0};
    char *word = space ? xstrndup(name, (size_t)(space - name)) : xstrdup(name);
    char *lower = str_lower(xstrdup(word));
    static const char *const heads[] = {"general", "mbnames", "account", "repository", NULL};
    consider_list(&s, lower, heads);
    char *hint = NULL;
    if (s.best && strcmp(s.best, "general") == 0)
        hint = xstrdup("[general]");
    else if (s.best && strcmp(s.best, "mbnames") == 0)
        hint = xstrdup("[mbnames]");
    else if (s.best && strcmp(s.best, "account") == 0)
        hint = xasprintf("[Account%s]", space ? space : " <name>");
    else if (s.best)
        hint = xasprintf("[Repository%s]", space ? space : " <name>");
    if (hint)
        problem_add(probs, CONFIG_WARNING, sect->line,
                    "%s line %u: [%s]: offlineimap does not use this section (did you mean "
                    "%s? section names are case-sensitive).",
                    cfg->ini->display, sect->line, name, hint);
    else
        problem_add(probs, CONFIG_WARNING, sect->line,
                    "%s line %u: [%s]: offlineimap does not use this section.", cfg->ini->display,
                    sect->line, name);
    free(hint);
    free(lower);
    free(word);
}

static void check_legacy(const struct config *cfg, struct config_problems *probs,
                         const struct ini_section *sect, const struct ini_option *opt,
                         const struct config_repository *repo)
{
    char *where = ini_where(cfg->ini, opt);
    if (strcmp(opt->name, "realdelete") == 0)
        problem_add(probs, CONFIG_INFO, opt->line,
                    "%s: [%s] realdelete: this option was removed from offlineimap and is "
                    "ignored.",
                    where, sect->name);
    else if (repo && repo->type == CONFIG_REPO_GMAIL &&
             (strcmp(opt->name, "trashfolder") == 0 || strcmp(opt->name, "spamfolder") == 0))
        problem_add(probs, CONFIG_INFO, opt->line,
                    "%s: [%s] %s: has no effect; offlineimap reads it but never uses it.", where,
                    sect->name, opt->name);
    free(where);
}

void config_check_names(const struct config *cfg, struct config_problems *probs)
{
    const struct ini *ini = cfg->ini;
    struct strvec refs = STRVEC_INIT;
    collect_references(ini, &refs);
    strvec_sort(&refs);
    for (size_t si = 0; si < ini->nsections; si++) {
        const struct ini_section *sect = &ini->sections[si];
        enum kind kind = kind_of(sect->name);
        const struct config_repository *repo = NULL;
        if (kind == KIND_REPOSITORY)
            repo = config_find_repository(cfg, sect->name + 11);
        if (kind == KIND_OTHER)
            check_section_name(cfg, probs, sect);
        for (size_t i = 0; i < sect->nopts; i++) {
            const struct ini_option *opt = &sect->opts[i];
            bool known;
            switch (kind) {
            case KIND_GENERAL:
                known = in_list(general_opts, opt->name);
                break;
            case KIND_MBNAMES:
                known = in_list(mbnames_opts, opt->name);
                break;
            case KIND_ACCOUNT:
                known = in_list(account_opts, opt->name);
                break;
            case KIND_REPOSITORY:
                known = known_for_repo(opt->name, repo ? repo->type : CONFIG_REPO_UNKNOWN);
                break;
            default:
                known = true; /* the whole section was reported */
                break;
            }
            if (strcmp(opt->name, "realdelete") == 0 || known)
                check_legacy(cfg, probs, sect, opt, repo);
            else if (!referenced(&refs, opt->name))
                warn_option(cfg, probs, sect, opt, kind, repo);
        }
    }
    for (size_t i = 0; i < ini->defaults.nopts; i++) {
        const struct ini_option *opt = &ini->defaults.opts[i];
        if (known_anywhere(opt->name) || referenced(&refs, opt->name))
            continue;
        char *where = ini_where(ini, opt);
        struct suggest s = {NULL, 0};
        const char *const *lists[] = {general_opts, mbnames_opts, account_opts,
                                      repo_opts,    maildir_opts, imap_opts};
        for (size_t k = 0; k < 6; k++)
            consider_list(&s, opt->name, lists[k]);
        problem_add(probs, CONFIG_WARNING, opt->line,
                    "%s: [DEFAULT] %s: not an option of any section and not referred to as "
                    "%%(%s)s, so it has no effect%s%s%s.",
                    where, opt->name, opt->name, s.best ? " (did you mean " : "",
                    s.best ? s.best : "", s.best ? "?)" : "");
        free(where);
    }
    strvec_free(&refs);
}
