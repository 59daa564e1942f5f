/*
 * config_model: offlineimap's configuration as plain typed data.
 *
 * config_load() reads the file with config_ini (ConfigParser rules), applies
 * the -k overrides and builds one struct config: [general], [mbnames], every
 * [Account X] and every [Repository X], with offlineimap3's defaults filled
 * in, so that other modules only read fields.  Options whose values are
 * Python expressions (nametrans, folderfilter, remotepasseval, ...) are kept
 * as text with their line (struct config_expr); the module that embeds
 * Python evaluates them.  Paths are expanded (~ and $VAR) where offlineimap
 * expands them.
 *
 * Validation collects every problem, not just the first, each a sentence
 * naming the file, line, section and option:
 *   ~/.offlineimaprc line 12: [Repository Remote] ssl = maybe: not a boolean (use yes or no).
 * Errors make config_load() fail.  Problems in accounts that this run does
 * not sync (and in repositories only they use) are reported as warnings,
 * since offlineimap never reads those sections.  Unknown options are
 * warnings with the closest known name (offlineimap ignores them silently);
 * options offlineimap ignores on purpose give an info note.
 */
#ifndef CONFIG_MODEL_H
#define CONFIG_MODEL_H

#include "base/strutil.h"
#include "config/config_ini.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_severity {
    CONFIG_INFO = 0,
    CONFIG_WARNING,
    CONFIG_ERROR,
};

struct config_problem {
    enum config_severity severity;
    unsigned line; /* the line concerned, 0 if none (or a -k override) */
    char *msg;     /* a complete sentence starting with the file and line */
};

struct config_problems {
    struct config_problem *v;
    size_t n, cap;
};

#define CONFIG_PROBLEMS_INIT                                                                       \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void config_problems_free(struct config_problems *p);
size_t config_problems_count(const struct config_problems *p, enum config_severity severity);
/* Add a problem (msg formatted; a complete sentence starting with the file and line). */
__attribute__((format(printf, 4, 5))) void config_problems_add(struct config_problems *p,
                                                               enum config_severity severity,
                                                               unsigned line, const char *fmt,
                                                               ...);
/* Sort by line, stably; problems without a line (0) first.  For listing them. */
void config_problems_sort(struct config_problems *p);

/* A Python expression, after %-interpolation, for the evaluating module. */
struct config_expr {
    char *text;    /* NULL when the option is not set */
    unsigned line; /* where it was written; 0 when set by -k */
};

enum config_tristate {
    CONFIG_UNSET = -1,
    CONFIG_NO = 0,
    CONFIG_YES = 1,
};

enum config_repo_type {
    CONFIG_REPO_UNKNOWN = 0, /* missing or misspelt type (an error was reported) */
    CONFIG_REPO_MAILDIR,
    CONFIG_REPO_GMAILMAILDIR,
    CONFIG_REPO_IMAP,
    CONFIG_REPO_GMAIL,
};

/* "Maildir", "GmailMaildir", "IMAP", "Gmail" as written in type = ... */
const char *config_repo_type_name(enum config_repo_type type);
static inline bool config_repo_is_maildir(enum config_repo_type t)
{
    return t == CONFIG_REPO_MAILDIR || t == CONFIG_REPO_GMAILMAILDIR;
}
static inline bool config_repo_is_imap(enum config_repo_type t)
{
    return t == CONFIG_REPO_IMAP || t == CONFIG_REPO_GMAIL;
}

struct config_date {
    int year, month, day;
};

struct config_general {
    struct strvec accounts; /* accounts = a, b: split on ',', each left-stripped */
    char *metadata;         /* expanded; default ~/.offlineimap */
    int maxsyncaccounts;    /* 1 */
    char *ui;               /* "ttyui" unless set; validated by the command line */
    bool ignore_readonly;
    char *pythonfile; /* expanded, or NULL */
    unsigned pythonfile_line;
    int socktimeout; /* seconds; 0 = no timeout */
    bool fsync;      /* true */
    bool filename_use_mail_timestamp;
    bool utime_from_header;
    bool dry_run;
    bool ignore_keyring;
    bool update_keyring;
};

struct config_mbnames {
    bool present; /* [mbnames] exists: then its five main options are required */
    bool enabled;
    char *filename; /* expanded */
    struct config_expr header, sep, footer;
    char *peritem; /* raw (never interpolated): a %-format applied to each item */
    unsigned peritem_line;
    bool incremental;
    struct config_expr folderfilter; /* unset: lambda acct, folder: True */
    struct config_expr sort_keyfunc; /* unset: lambda d: (d['accountname'], d['foldername']) */
};

enum config_maxage_kind {
    CONFIG_MAXAGE_NONE = 0,
    CONFIG_MAXAGE_DAYS, /* maxage = N */
    CONFIG_MAXAGE_DATE, /* maxage = YYYY-MM-DD */
};

/* proxy = TYPE:host:port */
struct config_proxy {
    char *type; /* "SOCKS5", "SOCKS4" or "HTTP"; NULL: no proxy */
    char *host;
    int port;
};

struct config_repository;

struct config_account {
    char *name;
    char *section; /* "Account <name>" */
    unsigned line;
    char *localrepository, *remoterepository; /* NULL if missing (an error) */
    struct config_repository *local, *remote; /* NULL if missing (an error) */
    double autorefresh;                       /* minutes; 0 = sync once (negative is fixed to 0) */
    int quick;                        /* 0 never, -1 always, N: N quick syncs between full ones */
    char *presynchook, *postsynchook; /* "" when not set */
    bool has_maxsize;
    int64_t maxsize; /* bytes */
    enum config_maxage_kind maxage_kind;
    int maxage_days;
    struct config_date maxage_date;
    bool maildir_windows_compatible;
    bool synclabels;
    char *labelsheader;         /* "X-Keywords" */
    struct strvec ignorelabels; /* split on ',', stripped, empty items dropped */
    struct strvec filterheaders;
    struct config_proxy proxy;
    struct config_proxy authproxy; /* unset: same as proxy; authproxy = (empty): none */
    bool utf8foldernames;
    /*
     * Ours, not offlineimap's: refuse a folder's deletions when they would
     * remove more than deleteguard percent of what its status knows and at
     * least deleteguard_minimum messages (defaults 50 and 10; 0 or 100: off).
     */
    int deleteguard;
    int deleteguard_minimum;
};

struct config_repository {
    char *name;
    char *section; /* "Repository <name>" */
    unsigned line;
    enum config_repo_type type;

    /* Every type. */
    bool readonly;
    struct config_expr nametrans;      /* unset: identity */
    struct config_expr folderfilter;   /* unset: lambda f: 1 */
    struct config_expr folderincludes; /* unset: [] */
    struct config_expr foldersort;     /* unset: case-insensitive sort of translated names */
    bool createfolders;                /* true */
    bool sync_deletes;                 /* true */
    bool dynamic_folderfilter;
    bool has_startdate;
    struct config_date startdate;
    bool filename_use_mail_timestamp; /* default: [general]'s */

    /* Maildir and GmailMaildir. */
    char *localfolders; /* expanded */
    char *sep;          /* ".", stripped */
    bool restoreatime;
    bool utime_from_header; /* default: [general]'s */
    char *customflag[26];   /* customflag_a .. customflag_z: IMAP keyword, or NULL */

    /* IMAP and Gmail. */
    /* The *eval expressions, when set, take precedence over the plain options. */
    char *remotehost; /* Gmail: "imap.gmail.com" when neither host option is set */
    struct config_expr remotehosteval;
    int remoteport; /* remoteport, else 993 with ssl (always for Gmail), else 143 */
    struct config_expr remoteporteval;
    enum config_tristate ipv6;          /* unset: any address family */
    bool ssl;                           /* true */
    bool starttls;                      /* true */
    char *sslcacertfile;                /* expanded and absolute, "OS-DEFAULT", or NULL */
    char *cert_fingerprint;             /* comma list as written, or NULL */
    char *sslclientcert, *sslclientkey; /* expanded and absolute, or NULL */
    char *ssl_version;                  /* NULL, or tls1, tls1_1, tls1_2, ssl3, ssl23 */
    char *tls_level;                    /* "tls_compat", "tls_no_ssl" or "tls_secure" */
    char *preauthtunnel;                /* NULL when unset or empty; always NULL for Gmail */
    char *transporttunnel;              /* NULL when unset or empty */
    char *reference;                    /* "\"\"" (two double quotes) unless set */
    bool usecompression;
    char *remoteuser;
    struct config_expr remoteusereval;
    char *remote_identity;
    char *remotepass; /* after %% unescaping */
    struct config_expr remotepasseval;
    char *remotepassfile;          /* ~ expanded */
    struct strvec auth_mechanisms; /* GSSAPI, XOAUTH2, CRAM-MD5, PLAIN, LOGIN */
    /* Ours: send passwords and tokens over an unencrypted network connection. */
    bool allow_plaintext_auth;
    /* Here the plain options take precedence over the *_eval ones. */
    char *oauth2_client_id, *oauth2_client_secret;
    char *oauth2_refresh_token, *oauth2_access_token;
    struct config_expr oauth2_client_id_eval, oauth2_client_secret_eval;
    struct config_expr oauth2_refresh_token_eval, oauth2_access_token_eval;
    char *oauth2_request_url; /* Gmail: Google's token URL unless set */
    bool subscribedonly;
    bool decodefoldernames;
    struct config_expr idlefolders; /* unset: [] */
    /*
     * maxconnections as written, else 1.  offlineimap uses 1 for the IMAP
     * connection pool but 2 for its folder-thread limit when it is unset;
     * maxconnections_set tells the two cases apart.  With idlefolders, the
     * pool holds at least one connection per idle folder.
     */
    int maxconnections;
    bool maxconnections_set;
    enum config_tristate singlethreadperfolder; /* unset: no, or yes with idlefolders */
    bool holdconnectionopen;                    /* forced on by idlefolders */
    int keepalive;                              /* seconds; 0 means 29*60 with idlefolders */
    bool expunge;                               /* true */
    int retrycount;                             /* 2 */
    struct config_expr copy_ignore_eval;
    struct config_expr newmail_hook;
    char *trashfolder, *spamfolder; /* Gmail; read by nothing in offlineimap either */
};

struct config {
    char *path;      /* the file read, or the label of in-memory text */
    struct ini *ini; /* the parsed file, for options read at run time */
    struct config_general general;
    struct config_mbnames mbnames;
    struct config_account *accounts; /* every [Account X], in file order */
    size_t naccounts;
    struct config_repository *repositories; /* every [Repository X], in file order */
    size_t nrepositories;
    struct config_account **sync; /* the accounts this run syncs, in the order asked */
    size_t nsync;
    /* Private: for each ini section, the index of its account or repository. */
    size_t *section_object;
};

struct config_overrides {
    const char *const *set; /* -k "[section:]option=value", applied in order */
    size_t nset;
    const char *accounts; /* -a "acc1,acc2", or NULL for [general] accounts */
    /*
     * --check-config: keep the model even when there are errors (config_load
     * still returns false), so that more checks can run on what was read.
     */
    bool keep_on_error;
};

/*
 * offlineimap3's default configuration file: $XDG_CONFIG_HOME/offlineimap/
 * config (~/.config when XDG_CONFIG_HOME is unset or empty) if it exists,
 * else ~/.offlineimaprc.  A new string.
 */
char *config_default_path(void);

/*
 * Read path (NULL: config_default_path(); "~" is expanded as for -c), apply
 * the overrides and build the model.  Every problem goes to problems; true
 * and *cfg_r set if none is an error, else false and *cfg_r NULL (or, with
 * ov->keep_on_error, the model as far as it could be read, when the file
 * itself was read).
 */
bool config_load(const char *path, const struct config_overrides *ov, struct config **cfg_r,
                 struct config_problems *problems);
/* The same from an already parsed ini, which the config takes over (freed on failure). */
bool config_build(struct ini *ini, const char *accounts_override, struct config **cfg_r,
                  struct config_problems *problems);
void config_free(struct config **cfg);

struct config_account *config_find_account(const struct config *cfg, const char *name);
struct config_repository *config_find_repository(const struct config *cfg, const char *name);

#endif
