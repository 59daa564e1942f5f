/*
 * config_model_repo: one [Repository X] section, with the defaults of
 * offlineimap3's repository/Base.py, Maildir.py, IMAP.py and Gmail.py,
 * folder/Base.py and Maildir.py, and imapserver.py.
 */
#include "config/config_ini_internal.h"
#include "config/config_model_internal.h"

#include "base/xalloc.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* offlineimap's five (its default order), then ours: SCRAM and OAUTHBEARER. */
static const char *const auth_mechs_supported[] = {"GSSAPI", "XOAUTH2", "CRAM-MD5", "PLAIN",
                                                   "LOGIN", "SCRAM-SHA-1", "SCRAM-SHA-256",
                                                   "OAUTHBEARER"};
#define N_AUTH_MECHS (sizeof(auth_mechs_supported) / sizeof(auth_mechs_supported[0]))

const char *config_repo_type_name(enum config_repo_type type)
{
    switch (type) {
    case CONFIG_REPO_MAILDIR:
        return "Maildir";
    case CONFIG_REPO_GMAILMAILDIR:
        return "GmailMaildir";
    case CONFIG_REPO_IMAP:
        return "IMAP";
    case CONFIG_REPO_GMAIL:
        return "Gmail";
    case CONFIG_REPO_UNKNOWN:
        break;
    }
    return "unknown";
}

static char *strip_copy(const char *s)
{
    size_t a, b;
    ini_strip(s, strlen(s), &a, &b);
    return xstrndup(s + a, b - a);
}

/* A value that only counts when it is not empty (tunnels: Python tests truth). */
static char *nonempty(char *v)
{
    if (v && !*v) {
        free(v);
        return NULL;
    }
    return v;
}

static void read_type(struct rd *r, struct config_repository *repo)
{
    static const enum config_repo_type types[] = {CONFIG_REPO_MAILDIR, CONFIG_REPO_GMAILMAILDIR,
                                                  CONFIG_REPO_IMAP, CONFIG_REPO_GMAIL};
    char *raw = rd_str(r, "type", NULL);
    if (!raw) {
        if (!rd_opt(r, "type"))
            rd_section_problem(r, CONFIG_ERROR,
                               "no type; set type = Maildir, GmailMaildir, IMAP or Gmail.");
        return;
    }
    char *type = strip_copy(raw); /* repository/__init__.py strips it */
    free(raw);
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(type, config_repo_type_name(types[i])) == 0) {
            repo->type = types[i];
            free(type);
            return;
        }
    }
    const char *hint = "";
    for (size_t i = 0; i < 4; i++)
        if (strcasecmp(type, config_repo_type_name(types[i])) == 0)
            hint = config_repo_type_name(types[i]);
    char *shown = ini_show_value("type", type);
    if (*hint)
        rd_option_problem(r, CONFIG_ERROR, rd_opt(r, "type"),
                          "\"%s\" is not a repository type; types are case-sensitive, write %s.",
                          shown, hint);
    else
        rd_option_problem(r, CONFIG_ERROR, rd_opt(r, "type"),
                          "\"%s\" is not a repository type (use Maildir, GmailMaildir, IMAP or "
                          "Gmail).",
                          shown);
    free(shown);
    free(type);
}

/* startdate = YYYY-MM-DD (folder/Base.py getstartdate); empty means none. */
static void read_startdate(struct rd *r, struct config_repository *repo)
{
    char *v = rd_str(r, "startdate", NULL);
    if (!v || !*v) {
        free(v);
        return;
    }
    const struct ini_option *opt = rd_opt(r, "startdate");
    struct config_date d;
    if (!config_parse_date(v, &d))
        rd_option_problem(r, CONFIG_ERROR, opt, "\"%s\" is not a date (write YYYY-MM-DD).", v);
    else if (d.year < 1900)
        rd_option_problem(r, CONFIG_ERROR, opt, "%s is before the year 1900.", v);
    else if (config_date_in_future(&d))
        rd_option_problem(r, CONFIG_ERROR, opt, "%s is in the future.", v);
    else {
        repo->has_startdate = true;
        repo->startdate = d;
    }
    free(v);
}

static void read_maildir(struct rd *r, const struct config_general *g,
                         struct config_repository *repo)
{
    repo->localfolders = rd_path(r, "localfolders", NULL, RD_PATH_USER_VARS);
    if (!repo->localfolders && !rd_opt(r, "localfolders"))
        rd_section_problem(r, CONFIG_ERROR,
                           "no localfolders; a %s repository needs the directory that holds "
                           "its folders (localfolders = ~/Mail).",
                           config_repo_type_name(repo->type));
    char *sep = rd_str(r, "sep", ".");
    repo->sep = strip_copy(sep);
    free(sep);
    if (!*repo->sep)
        rd_option_problem(r, CONFIG_ERROR, rd_opt(r, "sep"),
                          "the folder separator is empty (the default is \".\").");
    repo->restoreatime = rd_bool(r, "restoreatime", false);
    repo->utime_from_header = rd_bool(r, "utime_from_header", g->utime_from_header);
    for (int i = 0; i < 26; i++) {
        char name[] = "customflag_x";
        name[11] = (char)('a' + i);
        repo->customflag[i] = rd_str(r, name, NULL);
    }
}

static bool valid_fingerprint(const char *f, size_t n)
{
    size_t hex = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i] == ':')
            continue;
        if (!isxdigit((unsigned char)f[i]))
            return false;
        hex++;
    }
    /* sha1, sha224, sha256, sha384, sha512 */
    return hex == 40 || hex == 56 || hex == 64 || hex == 96 || hex == 128;
}

static void read_tls(struct rd *r, struct config_repository *repo)
{
    char *ca = rd_str(r, "sslcacertfile", NULL);
    if (ca && strcmp(ca, "OS-DEFAULT") == 0) {
        repo->sslcacertfile = ca;
    } else if (ca) {
        free(ca);
        repo->sslcacertfile = rd_path(r, "sslcacertfile", NULL, RD_PATH_USER_VARS_ABS);
        struct stat st;
        if (repo->sslcacertfile && (stat(repo->sslcacertfile, &st) != 0 || !S_ISREG(st.st_mode)))
            rd_option_problem(r, CONFIG_ERROR, rd_opt(r, "sslcacertfile"),
                              "the CA certificate file %s does not exist.", repo->sslcacertfile);
    }
    repo->cert_fingerprint = rd_str(r, "cert_fingerprint", NULL);
    for (const char *p = repo->cert_fingerprint; p && *p;) {
        size_t n = strcspn(p, ",");
        size_t a, b;
        ini_strip(p, n, &a, &b);
        if (b > a && !valid_fingerprint(p + a, b - a))
            rd_option_problem(r, CONFIG_ERROR, rd_opt(r, "cert_fingerprint"),
                              "\"%.*s\" is not a SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512 "
                              "fingerprint in hex.",
                              (int)(b - a), p + a);
        p += n + (p[n] == ',');
    }
    repo->sslclientcert = rd_path(r, "sslclientcert", NULL, RD_PATH_USER_VARS_ABS);
    repo->sslclientkey = rd_path(r, "sslclientkey", NULL, RD_PATH_USER_VARS_ABS);
    repo->ssl_version = rd_str(r, "ssl_version", NULL);
    repo->tls_level = rd_str(r, "tls_level", "tls_compat");

    /*
     * imaplib2's TLS_MAP: the versions each level allows; and tls1_3 at every
     * level (ours: imaplib2 predates it, our TLS layer has it).
     */
    static const char *const levels[] = {"tls_secure", "tls_no_ssl", "tls_compat"};
    static const char *const versions[] = {"tls1_3", "tls1_2", "tls1_1", "tls1", "ssl23", "ssl3"};
    static const size_t allowed[] = {3, 4, 6};
    size_t level = 3;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(repo->tls_level, levels[i]) == 0)
            level = i;
    /* Without ssl, Python only checks these if the server offers STARTTLS. */
    enum config_severity sev = repo->ssl ? CONFIG_ERROR : CONFIG_WARNING;
    if (level == 3) {
        rd_option_problem(r, sev, rd_opt(r, "tls_level"),
                          "\"%s\" is not a TLS level (use tls_compat, tls_no_ssl or tls_secure).",
                          repo->tls_level);
        return;
    }
    if (!repo->ssl_version) {
        if (repo->ssl && level != 2)
            rd_option_problem(r, CONFIG_ERROR, rd_opt(r, "tls_level"),
                              "when tls_level is not tls_compat, ssl_version must be set too.");
        return;
    }
    for (size_t i = 0; i < allowed[level]; i++)
        if (strcmp(repo->ssl_version, versions[i]) == 0)
            return;
    static const char *const allowed_text[] = {"tls1_3, tls1_2, tls1_1",
                                               "tls1_3, tls1_2, tls1_1, tls1",
                                               "tls1_3, tls1_2, tls1_1, tls1, ssl23, ssl3"};
    rd_option_problem(r, sev, rd_opt(r, "ssl_version"),
                      "\"%s\" is not an SSL version allowed with tls_level = %s (use %s).",
                      repo->ssl_version, repo->tls_level, allowed_text[level]);
}

/* auth_mechanisms: getconflist(..., r',\s*'): stripped, then split. */
static void read_auth_mechanisms(struct rd *r, struct config_repository *repo)
{
    char *v = rd_str(r, "auth_mechanisms", NULL);
    if (!v) {
        for (size_t i = 0; i < 5; i++)
            strvec_push(&repo->auth_mechanisms, auth_mechs_supported[i]);
        return;
    }
    char *all = strip_copy(v);
    free(v);
    const char *p = all;
    for (;;) {
        size_t n = strcspn(p, ",");
        char *item = xstrndup(p, n);
        strvec_push_owned(&repo->auth_mechanisms, item);
        bool known = false;
        for (size_t i = 0; i < N_AUTH_MECHS; i++)
            known = known || strcmp(item, auth_mechs_supported[i]) == 0;
        if (!known)
            rd_option_problem(r, CONFIG_ERROR, rd_opt(r, "auth_mechanisms"),
                              "unknown authentication mechanism \"%s\" (known: GSSAPI, XOAUTH2, "
                              "CRAM-MD5, PLAIN, LOGIN, SCRAM-SHA-1, SCRAM-SHA-256, "
                              "OAUTHBEARER; names are case-sensitive).",
                              item);
        if (!p[n])
            break;
        p += n + 1;
        size_t a, b;
        ini_strip(p, strlen(p), &a, &b);
        p += a; /* \s* after the comma */
    }
    free(all);
}

static void read_imap(struct rd *r, struct config_repository *repo)
{
    bool gmail = repo->type == CONFIG_REPO_GMAIL;
    char *preauth = nonempty(rd_str(r, "preauthtunnel", NULL));
    if (gmail && preauth) {
        rd_option_problem(r, CONFIG_WARNING, rd_opt(r, "preauthtunnel"),
                          "ignored, as offlineimap ignores it for Gmail repositories.");
        XFREE(preauth);
    }
    repo->preauthtunnel = preauth;
    repo->transporttunnel = nonempty(rd_str(r, "transporttunnel", NULL));
    if (repo->preauthtunnel && repo->transporttunnel)
        rd_section_problem(r, CONFIG_ERROR,
                           "both preauthtunnel and transporttunnel are set; enable precisely one "
                           "type of tunnel.");

    repo->remotehosteval = rd_expr(r, "remotehosteval");
    repo->remotehost = nonempty(rd_str(r, "remotehost", NULL));
    if (!repo->remotehost && !repo->remotehosteval.text) {
        if (gmail)
            repo->remotehost = xstrdup("imap.gmail.com");
        else if (!repo->preauthtunnel && !repo->transporttunnel)
            rd_section_problem(r, CONFIG_ERROR,
                               "no remotehost; an IMAP repository needs remotehost (or "
                               "remotehosteval, or a tunnel).");
    }
    repo->ssl = rd_bool(r, "ssl", true);
    repo->remoteporteval = rd_expr(r, "remoteporteval");
    repo->remoteport = (int)rd_int(r, "remoteport", gmail || repo->ssl ? 993 : 143, 1, 65535);
    repo->ipv6 = rd_tristate(r, "ipv6");
    repo->starttls = rd_bool(r, "starttls", true);
    read_tls(r, repo);
    repo->reference = rd_str(r, "reference", "\"\"");
    repo->usecompression = rd_bool(r, "usecompression", false);
    repo->allow_plaintext_auth = rd_bool(r, "allow_plaintext_auth", false);

    repo->remoteuser = rd_str(r, "remoteuser", NULL);
    repo->remoteusereval = rd_expr(r, "remoteusereval");
    repo->remote_identity = rd_str(r, "remote_identity", NULL);
    repo->remotepass = rd_str(r, "remotepass", NULL);
    repo->remotepasseval = rd_expr(r, "remotepasseval");
    repo->remotepassfile = rd_path(r, "remotepassfile", NULL, RD_PATH_USER);
    read_auth_mechanisms(r, repo);

    repo->oauth2_client_id = rd_str(r, "oauth2_client_id", NULL);
    repo->oauth2_client_secret = rd_str(r, "oauth2_client_secret", NULL);
    repo->oauth2_refresh_token = rd_str(r, "oauth2_refresh_token", NULL);
    repo->oauth2_access_token = rd_str(r, "oauth2_access_token", NULL);
    repo->oauth2_client_id_eval = rd_expr(r, "oauth2_client_id_eval");
    repo->oauth2_client_secret_eval = rd_expr(r, "oauth2_client_secret_eval");
    repo->oauth2_refresh_token_eval = rd_expr(r, "oauth2_refresh_token_eval");
    repo->oauth2_access_token_eval = rd_expr(r, "oauth2_access_token_eval");
    repo->oauth2_request_url = rd_str(r, "oauth2_request_url",
                                      gmail ? "https://accounts.google.com/o/oauth2/token" : NULL);

    repo->subscribedonly = rd_bool(r, "subscribedonly", false);
    repo->decodefoldernames = rd_bool(r, "decodefoldernames", false);
    repo->idlefolders = rd_expr(r, "idlefolders");
    repo->maxconnections_set = rd_opt(r, "maxconnections") != NULL;
    repo->maxconnections = (int)rd_int(r, "maxconnections", 1, 1, INT_MAX);
    repo->singlethreadperfolder = rd_tristate(r, "singlethreadperfolder");
    repo->holdconnectionopen = rd_bool(r, "holdconnectionopen", false);
    repo->keepalive = (int)rd_int(r, "keepalive", 0, 0, INT_MAX);
    repo->expunge = rd_bool(r, "expunge", true);
    repo->retrycount = (int)rd_int(r, "retrycount", 2, 0, INT_MAX);
    repo->copy_ignore_eval = rd_expr(r, "copy_ignore_eval");
    repo->newmail_hook = rd_expr(r, "newmail_hook");
    if (gmail) {
        repo->trashfolder = rd_str(r, "trashfolder", "[Gmail]/Trash");
        repo->spamfolder = rd_str(r, "spamfolder", "[Gmail]/Spam");
    }

    char *sep = rd_str(r, "sep", NULL);
    if (sep && *sep)
        rd_option_problem(r, CONFIG_INFO, rd_opt(r, "sep"),
                          "the 'sep' setting is being ignored for IMAP repository '%s' (it's "
                          "autodetected).",
                          repo->name);
    free(sep);
}

void config_read_repository(struct rd *r, const struct config_general *g,
                            struct config_repository *repo)
{
    read_type(r, repo);
    repo->readonly = rd_bool(r, "readonly", false);
    repo->nametrans = rd_expr(r, "nametrans");
    repo->folderfilter = rd_expr(r, "folderfilter");
    repo->folderincludes = rd_expr(r, "folderincludes");
    repo->foldersort = rd_expr(r, "foldersort");
    repo->createfolders = rd_bool(r, "createfolders", true);
    repo->sync_deletes = rd_bool(r, "sync_deletes", true);
    repo->dynamic_folderfilter = rd_bool(r, "dynamic_folderfilter", false);
    read_startdate(r, repo);
    repo->filename_use_mail_timestamp =
        rd_bool(r, "filename_use_mail_timestamp", g->filename_use_mail_timestamp);
    if (config_repo_is_maildir(repo->type))
        read_maildir(r, g, repo);
    else if (config_repo_is_imap(repo->type))
        read_imap(r, repo);
}

void config_repository_release(struct config_repository *repo)
{
    free(repo->name);
    free(repo->section);
    config_expr_free(&repo->nametrans);
    config_expr_free(&repo->folderfilter);
    config_expr_free(&repo->folderincludes);
    config_expr_free(&repo->foldersort);
    free(repo->localfolders);
    free(repo->sep);
    for (int i = 0; i < 26; i++)
        free(repo->customflag[i]);
    free(repo->remotehost);
    config_expr_free(&repo->remotehosteval);
    config_expr_free(&repo->remoteporteval);
    free(repo->sslcacertfile);
    free(repo->cert_fingerprint);
    free(repo->sslclientcert);
    free(repo->sslclientkey);
    free(repo->ssl_version);
    free(repo->tls_level);
    free(repo->preauthtunnel);
    free(repo->transporttunnel);
    free(repo->reference);
    free(repo->remoteuser);
    config_expr_free(&repo->remoteusereval);
    free(repo->remote_identity);
    free(repo->remotepass);
    config_expr_free(&repo->remotepasseval);
    free(repo->remotepassfile);
    strvec_free(&repo->auth_mechanisms);
    free(repo->oauth2_client_id);
    free(repo->oauth2_client_secret);
    free(repo->oauth2_refresh_token);
    free(repo->oauth2_access_token);
    config_expr_free(&repo->oauth2_client_id_eval);
    config_expr_free(&repo->oauth2_client_secret_eval);
    config_expr_free(&repo->oauth2_refresh_token_eval);
    config_expr_free(&repo->oauth2_access_token_eval);
    free(repo->oauth2_request_url);
    config_expr_free(&repo->idlefolders);
    config_expr_free(&repo->copy_ignore_eval);
    config_expr_free(&repo->newmail_hook);
    free(repo->trashfolder);
    free(repo->spamfolder);
    memset(repo, 0, sizeof(*repo));
}
