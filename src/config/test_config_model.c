/*
 * test_config_model: the typed model on realistic offlineimaprc files:
 * defaults, Gmail, several accounts with [DEFAULT], typos with suggestions
 * and every validation error.
 */
#include "config/config_model.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN "[general]\naccounts = A\n"
#define ACC "[Account A]\nlocalrepository = L\nremoterepository = R\n"
#define LOC "[Repository L]\ntype = Maildir\nlocalfolders = /tmp/mail\n"
#define REM "[Repository R]\ntype = IMAP\nremotehost = imap.example.org\n"

static struct config *build(const char *text, const char *accounts, struct config_problems *p)
{
    struct ini *ini = ini_new("rc");
    struct err e = ERR_INIT;
    if (!ini_parse_text(ini, text, strlen(text), &e)) {
        test_fail_at(__FILE__, __LINE__, "parse failed: %s", e.msg);
        err_clear(&e);
        ini_free(&ini);
        return NULL;
    }
    struct config *cfg = NULL;
    config_build(ini, accounts, &cfg, p);
    return cfg;
}

static const struct config_problem *find_problem(const struct config_problems *p,
                                                 enum config_severity sev, const char *text)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].severity == sev && strstr(p->v[i].msg, text))
            return &p->v[i];
    return NULL;
}

static void print_problems(const struct config_problems *p)
{
    static const char *const names[] = {"info", "warning", "error"};
    for (size_t i = 0; i < p->n; i++)
        fprintf(stderr, "    %s: %s\n", names[p->v[i].severity], p->v[i].msg);
}

static void test_minimal(void)
{
    test_begin("minimal config from the manual: every default");
    setenv("HOME", "/home/u", 1);
    struct config_problems p = CONFIG_PROBLEMS_INIT;
    struct config *cfg = build("[general]\naccounts = Test\n\n"
                               "[Account Test]\nlocalrepository = Local\n"
                               "remoterepository = Remote\n\n"
                               "[Repository Local]\ntype = Maildir\nlocalfolders = ~/Test\n\n"
                               "[Repository Remote]\ntype = IMAP\nremotehost = examplehost\n"
                               "remoteuser = jgoerzen\n",
                               NULL, &p);
    test_assert(cfg != NULL);
    test_assert_inteq(p.n, 0);
    if (!cfg) {
        print_problems(&p);
        config_problems_free(&p);
        test_end();
        return;
    }
    const struct config_general *g = &cfg->general;
    test_assert_inteq(g->accounts.n, 1);
    test_assert_streq(g->accounts.v[0], "Test");
    test_assert_streq(g->metadata, "/home/u/.offlineimap");
    test_assert_inteq(g->maxsyncaccounts, 1);
    test_assert_streq(g->ui, "ttyui");
    test_assert(!g->ignore_readonly && g->fsync && !g->dry_run && !g->pythonfile);
    test_assert_inteq(g->socktimeout, 0);
    test_assert(!cfg->mbnames.present);
    test_assert_inteq(cfg->nsync, 1);
    const struct config_account *a = config_find_account(cfg, "Test");
    test_assert(a && cfg->sync[0] == a);
    test_assert(a->local == config_find_repository(cfg, "Local"));
    test_assert(a->remote == config_find_repository(cfg, "Remote"));
    test_assert(a->autorefresh == 0 && a->quick == 0 && !a->has_maxsize);
    test_assert_inteq(a->maxage_kind, CONFIG_MAXAGE_NONE);
    test_assert_streq(a->presynchook, "");
    test_assert_streq(a->labelsheader, "X-Keywords");
    test_assert(!a->proxy.type && !a->authproxy.type);
    const struct config_repository *l = a->local, *r = a->remote;
    test_assert_inteq(l->type, CONFIG_REPO_MAILDIR);
    test_assert_streq(l->localfolders, "/home/u/Test");
    test_assert_streq(l->sep, ".");
    test_assert(l->createfolders && l->sync_deletes && !l->readonly && !l->restoreatime);
    test_assert(!l->nametrans.text && !l->has_startdate);
    test_assert_inteq(r->type, CONFIG_REPO_IMAP);
    test_assert_streq(r->remotehost, "examplehost");
    test_assert_streq(r->remoteuser, "jgoerzen");
    test_assert_inteq(r->remoteport, 993);
    test_assert(r->ssl && r->starttls && r->expunge && !r->usecompression);
    test_assert_inteq(r->ipv6, CONFIG_UNSET);
    test_assert_streq(r->tls_level, "tls_compat");
    test_assert(!r->ssl_version && !r->sslcacertfile && !r->preauthtunnel);
    test_assert_streq(r->reference, "\"\"");
    test_assert_inteq(r->auth_mechanisms.n, 5);
    test_assert_streq(r->auth_mechanisms.v[0], "GSSAPI");
    test_assert_streq(r->auth_mechanisms.v[4], "LOGIN");
    test_assert(r->maxconnections == 1 && !r->maxconnections_set);
    test_assert_inteq(r->retrycount, 2);
    test_assert_inteq(r->keepalive, 0);
    test_assert_inteq(r->singlethreadperfolder, CONFIG_UNSET);
    test_assert(!r->oauth2_request_url && !r->trashfolder);
    config_free(&cfg);
    test_assert(cfg == NULL);
    config_problems_free(&p);
    test_end();
}

static void test_gmail(void)
{
    test_begin("Gmail: defaults, expressions with lines, continuation");
    struct config_problems p = CONFIG_PROBLEMS_INIT;
    struct config *cfg =
        build("[general]\naccounts = G\npythonfile = $HOME/.offlineimap.py\n"
              "[Account G]\nlocalrepository = GL\nremoterepository = GR\nsynclabels = yes\n"
              "ignorelabels = \\Inbox, \\Starred,,\n"
              "[Repository GL]\ntype = GmailMaildir\nlocalfolders = ~/Mail/Gmail\n"
              "[Repository GR]\ntype = Gmail\nremoteuser = me@gmail.com\n"
              "remotepasseval = get_pass('gmail')\nssl = no\n"
              "folderfilter = lambda f: f not in ['[Gmail]/All Mail',\n"
              "                                   '[Gmail]/Important']\n"
              "nametrans = lambda f: re.sub('^\\[Gmail\\]/', '', f)\n",
              NULL, &p);
    test_assert(cfg != NULL);
    test_assert_inteq(p.n, 0);
    if (cfg) {
        test_assert_streq(cfg->general.pythonfile, "/home/u/.offlineimap.py");
        test_assert_inteq(cfg->general.pythonfile_line, 3);
        const struct config_account *a = config_find_account(cfg, "G");
        test_assert(a->synclabels);
        test_assert_inteq(a->ignorelabels.n, 2);
        test_assert_streq(a->ignorelabels.v[1], "\\Starred");
        const struct config_repository *r = config_find_repository(cfg, "GR");
        test_assert_inteq(r->type, CONFIG_REPO_GMAIL);
        test_assert_streq(r->remotehost, "imap.gmail.com");
        test_assert_inteq(r->remoteport, 993); /* Gmail: 993 even without ssl */
        test_assert(!r->ssl);
        test_assert_streq(r->oauth2_request_url, "https://accounts.google.com/o/oauth2/token");
        test_assert_streq(r->trashfolder, "[Gmail]/Trash");
        test_assert_streq(r->spamfolder, "[Gmail]/Spam");
        test_assert_streq(r->remotepasseval.text, "get_pass('gmail')");
        test_assert_inteq(r->remotepasseval.line, 15);
        test_assert_streq(r->folderfilter.text, "lambda f: f not in ['[Gmail]/All Mail',\n"
                                                "'[Gmail]/Important']");
        test_assert_inteq(r->folderfilter.line, 17);
        test_assert_streq(r->nametrans.text, "lambda f: re.sub('^\\[Gmail\\]/', '', f)");
        test_assert_inteq(config_find_repository(cfg, "GL")->type, CONFIG_REPO_GMAILMAILDIR);
    } else {
        print_problems(&p);
    }
    config_free(&cfg);
    config_problems_free(&p);
    test_end();
}

static const char multi_text[] = "[DEFAULT]\n"
                                 "home = /home/me\n"
                                 "mailroot = %(home)s/Mail\n"
                                 "ssl = no\n"
                                 "[general]\n"
                                 "accounts = Work, Personal\n"
                                 "metadata = %(home)s/.offlineimap\n"
                                 "maxsyncaccounts = 2\n"
                                 "[Account Work]\n"
                                 "localrepository = WorkLocal\n"
                                 "remoterepository = WorkRemote\n"
                                 "autorefresh = 2.5\n"
                                 "quick = 10\n"
                                 "maxage = 30\n"
                                 "proxy = SOCKS5:localhost:9050\n"
                                 "authproxy =\n"
                                 "[Account Personal]\n"
                                 "localrepository = PersonalLocal\n"
                                 "remoterepository = PersonalRemote\n"
                                 "maxage = 2020-02-29\n"
                                 "proxy = HTTP:proxy:3128\n"
                                 "[Repository WorkLocal]\n"
                                 "type = Maildir\n"
                                 "localfolders = %(mailroot)s/work\n"
                                 "[Repository WorkRemote]\n"
                                 "type = IMAP\n"
                                 "remotehost = imap.work.example\n"
                                 "remotepass = 50%% off\n"
                                 "auth_mechanisms = PLAIN,   LOGIN\n"
                                 "[Repository PersonalLocal]\n"
                                 "type = Maildir\n"
                                 "home = /home/other\n"
                                 "localfolders = %(mailroot)s/personal\n"
                                 "sep = /\n"
                                 "[Repository PersonalRemote]\n"
                                 "type = IMAP\n"
                                 "remotehost = mail.example.org\n"
                                 "ssl = yes\n"
                                 "maxconnections = 3\n"
                                 "[Repository Unused]\n"
                                 "type = imap\n";

static void test_multi(void)
{
    test_begin("several accounts sharing [DEFAULT]");
    struct config_problems p = CONFIG_PROBLEMS_INIT;
    struct config *cfg = build(multi_text, NULL, &p);
    test_assert(cfg != NULL);
    /* The unused repository's bad type is only a warning. */
    test_assert_inteq(config_problems_count(&p, CONFIG_ERROR), 0);
    test_assert(find_problem(&p, CONFIG_WARNING,
                             "rc line 41: [Repository Unused] type: \"imap\" is not a repository "
                             "type; types are case-sensitive, write IMAP (no account synced by "
                             "this run uses this repository, so this is not fatal)."));
    if (cfg) {
        test_assert_streq(cfg->general.metadata, "/home/me/.offlineimap");
        test_assert_inteq(cfg->general.maxsyncaccounts, 2);
        test_assert_inteq(cfg->nsync, 2);
        test_assert_streq(cfg->sync[0]->name, "Work");
        test_assert_streq(cfg->sync[1]->name, "Personal");
        const struct config_account *w = cfg->sync[0], *pe = cfg->sync[1];
        test_assert(w->autorefresh == 2.5 && w->quick == 10);
        test_assert_inteq(w->maxage_kind, CONFIG_MAXAGE_DAYS);
        test_assert_inteq(w->maxage_days, 30);
        test_assert_streq(w->proxy.type, "SOCKS5");
        test_assert_streq(w->proxy.host, "localhost");
        test_assert_inteq(w->proxy.port, 9050);
        test_assert(w->authproxy.type == NULL); /* authproxy = (empty): none */
        test_assert_inteq(pe->maxage_kind, CONFIG_MAXAGE_DATE);
        test_assert(pe->maxage_date.year == 2020 && pe->maxage_date.month == 2 &&
                    pe->maxage_date.day == 29);
        test_assert_streq(pe->authproxy.type, "HTTP"); /* unset: same as proxy */
        test_assert_streq(w->local->localfolders, "/home/me/Mail/work");
        /* %(home)s in a DEFAULT value expands in the section being read */
        test_assert_streq(pe->local->localfolders, "/home/other/Mail/personal");
        test_assert_streq(pe->local->sep, "/");
        test_assert(!w->remote->ssl);
        test_assert_inteq(w->remote->remoteport, 143);
        test_assert(pe->remote->ssl);
        test_assert_inteq(pe->remote->remoteport, 993);
        test_assert(pe->remote->maxconnections == 3 && pe->remote->maxconnections_set);
        test_assert_streq(w->remote->remotepass, "50% off");
        test_assert_inteq(w->remote->auth_mechanisms.n, 2);
        test_assert_streq(w->remote->auth_mechanisms.v[1], "LOGIN");
        test_assert_inteq(config_find_repository(cfg, "Unused")->type, CONFIG_REPO_UNKNOWN);
    }
    config_free(&cfg);
    config_problems_free(&p);
    test_end();

    test_begin("-a selects accounts; errors elsewhere become warnings");
    char *text = xasprintf("%s[Account Broken]\nlocalrepository = Nowhere\n", multi_text);
    cfg = build(text, " Personal,Personal", &p);
    test_assert(cfg != NULL);
    test_assert_inteq(cfg ? cfg->nsync : 0, 1);
    test_assert(find_problem(&p, CONFIG_WARNING,
                             "-a  Personal,Personal: the account 'Personal' "
                             "is listed twice; it is synced once."));
    test_assert(find_problem(&p, CONFIG_WARNING,
                             "rc line 42: [Account Broken]: no remoterepository; name the "
                             "[Repository ...] section of the IMAP server (account Broken is "
                             "not synced by this run, so this is not fatal)."));
    config_free(&cfg);
    config_problems_free(&p);
    cfg = build(text, "Broken", &p);
    test_assert(cfg == NULL);
    test_assert(find_problem(&p, CONFIG_ERROR,
                             "rc line 43: [Account Broken] localrepository: "
                             "there is no [Repository Nowhere] section."));
    test_assert(find_problem(&p, CONFIG_ERROR, "[Account Broken]: no remoterepository"));
    config_problems_free(&p);
    cfg = build(text, "Nobody", &p);
    test_assert(cfg == NULL);
    test_assert(find_problem(&p, CONFIG_ERROR,
                             "The account 'Nobody' does not exist (-a Nobody: there is no "
                             "[Account Nobody] section). Valid accounts are: Work, Personal, "
                             "Broken"));
    config_problems_free(&p);
    free(text);
    test_end();
}

static const struct {
    const char *name, *text;
    enum config_severity severity;
    const char *msg;
} problem_cases[] = {
    {"no [general]", ACC LOC REM, CONFIG_ERROR,
     "rc: there is no [general] section; offlineimap needs one"},
    {"no accounts option", "[general]\nui = basic\n" ACC LOC REM, CONFIG_ERROR,
     "rc line 1: [general]: no accounts option; list the accounts to sync"},
    {"account listed without a section", "[general]\naccounts = A, B\n" ACC LOC REM, CONFIG_ERROR,
     "The account 'B' does not exist (rc line 2: there is no [Account B] section). Valid "
     "accounts are: A"},
    {"accounts keep trailing spaces, as offlineimap's lstrip",
     "[general]\naccounts = A ,B\n" ACC LOC REM, CONFIG_ERROR, "The account 'A ' does not exist"},
    {"no localrepository", GEN "[Account A]\nremoterepository = R\n" LOC REM, CONFIG_ERROR,
     "rc line 3: [Account A]: no localrepository; name the [Repository ...] section"},
    {"no remoterepository", GEN "[Account A]\nlocalrepository = L\n" LOC REM, CONFIG_ERROR,
     "rc line 3: [Account A]: no remoterepository"},
    {"repository section missing", GEN ACC LOC, CONFIG_ERROR,
     "rc line 5: [Account A] remoterepository: there is no [Repository R] section."},
    {"no type", GEN ACC "[Repository L]\nlocalfolders = /x\n" REM, CONFIG_ERROR,
     "rc line 6: [Repository L]: no type; set type = Maildir, GmailMaildir, IMAP or Gmail."},
    {"unknown type", GEN ACC "[Repository L]\ntype = mbox\n" REM, CONFIG_ERROR,
     "rc line 7: [Repository L] type: \"mbox\" is not a repository type (use Maildir, "
     "GmailMaildir, IMAP or Gmail)."},
    {"Maildir cannot be remote", GEN ACC LOC "[Repository R]\ntype = Maildir\nlocalfolders = /x\n",
     CONFIG_ERROR,
     "rc line 5: [Account A] remoterepository: [Repository R] has type = Maildir, which is not "
     "supported for remote repositories (use IMAP or Gmail)."},
    {"Gmail cannot be local", GEN ACC "[Repository L]\ntype = Gmail\n" REM, CONFIG_ERROR,
     "which is not supported for local repositories (use Maildir, GmailMaildir or IMAP)."},
    {"no localfolders", GEN ACC "[Repository L]\ntype = Maildir\n" REM, CONFIG_ERROR,
     "rc line 6: [Repository L]: no localfolders; a Maildir repository needs the directory"},
    {"no remotehost", GEN ACC LOC "[Repository R]\ntype = IMAP\n", CONFIG_ERROR,
     "rc line 9: [Repository R]: no remotehost; an IMAP repository needs remotehost (or "
     "remotehosteval, or a tunnel)."},
    {"both tunnels", GEN ACC LOC REM "preauthtunnel = ssh x imapd\ntransporttunnel = openssl\n",
     CONFIG_ERROR, "[Repository R]: both preauthtunnel and transporttunnel are set"},
    {"status_backend", GEN ACC "status_backend = sqlite\n" LOC REM, CONFIG_ERROR,
     "rc line 6: [Account A] status_backend: the 'status_backend' configuration option is not "
     "supported anymore; please, remove this configuration option."},
    {"maxage with startdate", GEN ACC "maxage = 3\n" LOC "startdate = 2020-01-01\n" REM,
     CONFIG_ERROR,
     "rc line 3: [Account A]: only one of maxage, startdate (in [Repository L]) and startdate (in "
     "[Repository R]) may be set."},
    {"two startdates", GEN ACC LOC "startdate = 2020-01-01\n" REM "startdate = 2020-01-01\n",
     CONFIG_ERROR, "only one of maxage, startdate"},
    {"maxage on IMAP-IMAP", GEN ACC "maxage = 3\n[Repository L]\ntype = IMAP\nremotehost = h\n" REM,
     CONFIG_ERROR, "rc line 6: [Account A] maxage: maxage is not supported on IMAP-IMAP sync."},
    {"unknown auth mechanism", GEN ACC LOC REM "auth_mechanisms = PLAIN, NTLM\n", CONFIG_ERROR,
     "rc line 12: [Repository R] auth_mechanisms: unknown authentication mechanism \"NTLM\""},
    {"auth mechanisms are case-sensitive", GEN ACC LOC REM "auth_mechanisms = login\n",
     CONFIG_ERROR, "unknown authentication mechanism \"login\""},
    {"bad boolean", GEN ACC LOC REM "ssl = maybe\n", CONFIG_ERROR,
     "rc line 12: [Repository R] ssl = maybe: not a boolean (use yes or no)."},
    {"bad boolean from DEFAULT", "[DEFAULT]\nreadonly = sometimes\n" GEN ACC LOC REM, CONFIG_ERROR,
     "rc line 2: [Repository L] readonly (set in [DEFAULT]) = sometimes: not a boolean"},
    {"bad integer", GEN ACC "quick = often\n" LOC REM, CONFIG_ERROR,
     "rc line 6: [Account A] quick = often: not a whole number."},
    {"bad float", GEN ACC "autorefresh = 5m\n" LOC REM, CONFIG_ERROR,
     "rc line 6: [Account A] autorefresh = 5m: not a number."},
    {"port out of range", GEN ACC LOC REM "remoteport = 99999\n", CONFIG_ERROR,
     "rc line 12: [Repository R] remoteport: 99999 is too large (the most allowed is 65535)."},
    {"maxconnections 0", GEN ACC LOC REM "maxconnections = 0\n", CONFIG_ERROR,
     "[Repository R] maxconnections: 0 is too small (the least allowed is 1)."},
    {"maxsyncaccounts 0", "[general]\naccounts = A\nmaxsyncaccounts = 0\n" ACC LOC REM,
     CONFIG_ERROR, "[general] maxsyncaccounts: 0 is too small"},
    {"tls_level without ssl_version", GEN ACC LOC REM "tls_level = tls_secure\n", CONFIG_ERROR,
     "[Repository R] tls_level: when tls_level is not tls_compat, ssl_version must be set too."},
    {"ssl_version not allowed by the level",
     GEN ACC LOC REM "tls_level = tls_secure\nssl_version = tls1\n", CONFIG_ERROR,
     "[Repository R] ssl_version: \"tls1\" is not an SSL version allowed with tls_level = "
     "tls_secure (use tls1_3, tls1_2, tls1_1)."},
    {"unknown tls_level", GEN ACC LOC REM "tls_level = high\n", CONFIG_ERROR,
     "\"high\" is not a TLS level"},
    {"bad maxage", GEN ACC "maxage = 0\n" LOC REM, CONFIG_ERROR,
     "rc line 6: [Account A] maxage: invalid maxage value 0 (use a number of days of at least 1"},
    {"maxage not a date", GEN ACC "maxage = 2020-02-30\n" LOC REM, CONFIG_ERROR,
     "invalid maxage value \"2020-02-30\""},
    {"startdate in the future", GEN ACC LOC "startdate = 2999-01-01\n" REM, CONFIG_ERROR,
     "rc line 9: [Repository L] startdate: 2999-01-01 is in the future."},
    {"startdate not a date", GEN ACC LOC "startdate = 1/2/2020\n" REM, CONFIG_ERROR,
     "\"1/2/2020\" is not a date (write YYYY-MM-DD)."},
    {"bad proxy", GEN ACC "proxy = localhost:9050\n" LOC REM, CONFIG_ERROR,
     "[Account A] proxy: \"localhost:9050\" is not TYPE:host:port"},
    {"bad proxy type", GEN ACC "proxy = SOCKS6:h:1\n" LOC REM, CONFIG_ERROR,
     "\"SOCKS6\" is not a proxy type"},
    {"utf8foldernames with decodefoldernames",
     GEN ACC "utf8foldernames = yes\n" LOC REM "decodefoldernames = yes\n", CONFIG_ERROR,
     "utf8foldernames and decodefoldernames (in [Repository R]) may not be used"},
    {"mbnames without its options", GEN ACC LOC REM "[mbnames]\nenabled = no\nsep = \" \"\n",
     CONFIG_ERROR,
     "rc line 12: [mbnames]: no filename, header, peritem, footer options; once [mbnames] exists "
     "offlineimap reads filename, header, peritem, sep and footer, even with enabled = no."},
    {"bad fingerprint", GEN ACC LOC REM "cert_fingerprint = abcd, 0123\n", CONFIG_ERROR,
     "\"abcd\" is not a SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512 fingerprint"},
    {"missing CA file", GEN ACC LOC REM "sslcacertfile = /nonexistent/ca.pem\n", CONFIG_ERROR,
     "[Repository R] sslcacertfile: the CA certificate file /nonexistent/ca.pem does not exist."},
    {"empty Maildir sep", GEN ACC LOC "sep =\n" REM, CONFIG_ERROR,
     "[Repository L] sep: the folder separator is empty"},
    {"interpolation error", GEN ACC LOC REM "remotepass = 100%\n", CONFIG_ERROR,
     "rc line 12: [Repository R] remotepass: the '%' at position 4 is not followed by '%' or '('"},
    {"negative autorefresh is fixed to 0", GEN ACC "autorefresh = -1\n" LOC REM, CONFIG_WARNING,
     "rc line 6: [Account A] autorefresh: autorefresh for A is negative, fixing it to 0."},
    {"extra space after Account", GEN ACC "[Account  A]\nx = 1\n" LOC REM, CONFIG_WARNING,
     "rc line 6: [Account  A]: ignored, since offlineimap looks for [Account A], with exactly "
     "one space."},
    {"preauthtunnel on Gmail", GEN ACC LOC "[Repository R]\ntype = Gmail\npreauthtunnel = x\n",
     CONFIG_WARNING,
     "rc line 11: [Repository R] preauthtunnel: ignored, as offlineimap ignores it for Gmail"},
    {"synclabels without Gmail", GEN ACC "synclabels = yes\n" LOC REM, CONFIG_WARNING,
     "[Account A] synclabels: has no effect"},
    {"tls_level is only checked with ssl", GEN ACC LOC REM "ssl = no\ntls_level = high\n",
     CONFIG_WARNING, "\"high\" is not a TLS level"},
    {"typo in an option", GEN ACC LOC REM "remoteusr = me\n", CONFIG_WARNING,
     "rc line 12: [Repository R] remoteusr: unknown option, ignored (did you mean remoteuser?)."},
    {"typo: - for _", GEN ACC "maildir_windows_compatible = yes\n" LOC REM, CONFIG_WARNING,
     "(did you mean maildir-windows-compatible?)"},
    {"typo: a prefix", GEN ACC LOC REM "sslcacert = /etc/ssl/ca.pem\n", CONFIG_WARNING,
     "sslcacert: unknown option, ignored (did you mean sslcacertfile?)."},
    {"typo in [general]", "[general]\naccounts = A\nmetdata = /x\n" ACC LOC REM, CONFIG_WARNING,
     "rc line 3: [general] metdata: unknown option, ignored (did you mean metadata?)."},
    {"unknown option with no near name", GEN ACC "colour = blue\n" LOC REM, CONFIG_WARNING,
     "rc line 6: [Account A] colour: unknown option, ignored."},
    {"IMAP option in a Maildir repository", GEN ACC LOC "remotehost = h\n" REM, CONFIG_WARNING,
     "rc line 9: [Repository L] remotehost: not used by Maildir repositories, ignored."},
    {"account option in a repository", GEN ACC LOC "autorefresh = 5\n" REM, CONFIG_WARNING,
     "[Repository L] autorefresh: not an option of this section (it belongs in a [Account ...] "
     "section), ignored."},
    {"misspelt section", GEN ACC LOC REM "[Acount B]\nx = 1\n", CONFIG_WARNING,
     "rc line 12: [Acount B]: offlineimap does not use this section (did you mean [Account B]? "
     "section names are case-sensitive)."},
    {"capitalised General", "[General]\nx = 1\n" GEN ACC LOC REM, CONFIG_WARNING,
     "did you mean [general]?"},
    {"unused DEFAULT option", "[DEFAULT]\nfoo = 1\n" GEN ACC LOC REM, CONFIG_WARNING,
     "rc line 2: [DEFAULT] foo: not an option of any section and not referred to as %(foo)s, "
     "so it has no effect."},
    {"typo in [mbnames]",
     GEN ACC LOC REM
     "[mbnames]\nfilename = f\nheader = h\nperitem = p\nsep = s\nfooter = f\nincrementel = no\n",
     CONFIG_WARNING, "[mbnames] incrementel: unknown option, ignored (did you mean incremental?)."},
    {"unknown section", GEN ACC LOC REM "[colours]\nx = 1\n", CONFIG_WARNING,
     "rc line 12: [colours]: offlineimap does not use this section."},
    {"misspelt Repository section", GEN ACC LOC REM "[Repositry X]\n", CONFIG_WARNING,
     "(did you mean [Repository X]? section names are case-sensitive)."},
    {"bad ipv6", GEN ACC LOC REM "ipv6 = v6\n", CONFIG_ERROR,
     "rc line 12: [Repository R] ipv6 = v6: not a boolean (use yes or no)."},
    {"Gmail dead options", GEN ACC LOC "[Repository R]\ntype = Gmail\ntrashfolder = Bin\n",
     CONFIG_INFO,
     "[Repository R] trashfolder: has no effect; offlineimap reads it but never uses it."},
    {"IMAP sep is ignored", GEN ACC LOC REM "sep = /\n", CONFIG_INFO,
     "rc line 12: [Repository R] sep: the 'sep' setting is being ignored for IMAP repository 'R' "
     "(it's autodetected)."},
    {"realdelete was removed", GEN ACC LOC REM "realdelete = no\n", CONFIG_INFO,
     "[Repository R] realdelete: this option was removed from offlineimap and is ignored."},
};

static void test_problem_table(void)
{
    for (size_t i = 0; i < sizeof(problem_cases) / sizeof(problem_cases[0]); i++) {
        test_begin(problem_cases[i].name);
        struct config_problems p = CONFIG_PROBLEMS_INIT;
        struct config *cfg = build(problem_cases[i].text, NULL, &p);
        if (!find_problem(&p, problem_cases[i].severity, problem_cases[i].msg)) {
            test_fail_at(__FILE__, __LINE__, "expected \"%s\"; got:", problem_cases[i].msg);
            print_problems(&p);
        }
        /* Errors fail the build; anything less must not. */
        bool errors = config_problems_count(&p, CONFIG_ERROR) > 0;
        test_assert_inteq(errors, problem_cases[i].severity == CONFIG_ERROR);
        test_assert_inteq(cfg == NULL, errors);
        config_free(&cfg);
        config_problems_free(&p);
        test_end();
    }
}

/* Ours: TLS 1.3, which imaplib2's table predates, is allowed at every level. */
static void test_tls1_3(void)
{
    static const char *const levels[] = {"tls_secure", "tls_no_ssl", "tls_compat"};
    for (size_t i = 0; i < 3; i++) {
        test_begin("ssl_version = tls1_3 allowed with every tls_level");
        char text[512];
        snprintf(text, sizeof(text), GEN ACC LOC REM "tls_level = %s\nssl_version = tls1_3\n",
                 levels[i]);
        struct config_problems p = CONFIG_PROBLEMS_INIT;
        struct config *cfg = build(text, NULL, &p);
        test_assert(cfg != NULL);
        test_assert_inteq(config_problems_count(&p, CONFIG_ERROR), 0);
        test_assert_inteq(config_problems_count(&p, CONFIG_WARNING), 0);
        config_free(&cfg);
        config_problems_free(&p);
        test_end();
    }
}

static void test_quiet_cases(void)
{
    test_begin("referenced helper options and tunnels need no warning");
    struct config_problems p = CONFIG_PROBLEMS_INIT;
    struct config *cfg = build("[DEFAULT]\nroot = /srv\n" GEN ACC
                               "[Repository L]\ntype = Maildir\nbase = %(root)s/m\n"
                               "localfolders = %(base)s\ncustomflag_x = $Forwarded\n"
                               "[Repository R]\ntype = IMAP\n"
                               "preauthtunnel = ssh host imapd\nremotehosteval = get_host()\n"
                               "idlefolders = ['INBOX']\nkeepalive = 60\n"
                               "[mbnames]\nenabled = yes\nfilename = ~/mb\nheader = \"m \"\n"
                               "peritem = +%(accountname)s/%(foldername)s\nsep = \" \"\n"
                               "footer = \"\\n\"\n",
                               NULL, &p);
    test_assert(cfg != NULL);
    test_assert_inteq(p.n, 0);
    print_problems(&p);
    if (cfg) {
        const struct config_repository *l = config_find_repository(cfg, "L");
        test_assert_streq(l->localfolders, "/srv/m");
        test_assert_streq(l->customflag['x' - 'a'], "$Forwarded");
        const struct config_repository *r = config_find_repository(cfg, "R");
        test_assert_streq(r->preauthtunnel, "ssh host imapd");
        test_assert(r->remotehost == NULL);
        test_assert_streq(r->remotehosteval.text, "get_host()");
        test_assert_streq(r->idlefolders.text, "['INBOX']");
        test_assert_inteq(r->keepalive, 60);
        const struct config_mbnames *m = &cfg->mbnames;
        test_assert(m->present && m->enabled && !m->incremental);
        test_assert_streq(m->filename, "/home/u/mb");
        test_assert_streq(m->peritem, "+%(accountname)s/%(foldername)s"); /* raw */
        test_assert_streq(m->header.text, "\"m \"");
        test_assert_streq(m->footer.text, "\"\\n\"");
        test_assert(!m->folderfilter.text && !m->sort_keyfunc.text);
    }
    config_free(&cfg);
    config_problems_free(&p);
    test_end();
}

static void test_paths_and_tristates(void)
{
    test_begin("path expansion as offlineimap's xforms; tristates");
    setenv("OIMAP_TEST_DIR", "/data", 1);
    struct config_problems p = CONFIG_PROBLEMS_INIT;
    struct config *cfg = build(GEN ACC "[Repository L]\ntype = Maildir\n"
                                       "localfolders = $OIMAP_TEST_DIR/mail\n" REM
                                       "sslclientcert = /etc/./ssl/../ssl//client.pem\n"
                                       "sslclientkey = key.pem\n"
                                       "remotepassfile = ~/$OIMAP_TEST_DIR\n"
                                       "ipv6 = no\nsinglethreadperfolder = yes\n",
                               NULL, &p);
    test_assert(cfg != NULL);
    print_problems(&p);
    if (cfg) {
        const struct config_repository *l = config_find_repository(cfg, "L");
        const struct config_repository *r = config_find_repository(cfg, "R");
        test_assert_streq(l->localfolders, "/data/mail");
        test_assert_streq(r->sslclientcert, "/etc/ssl/client.pem");
        test_assert(r->sslclientkey[0] == '/' && strstr(r->sslclientkey, "/key.pem"));
        test_assert_streq(r->remotepassfile, "/home/u/$OIMAP_TEST_DIR"); /* ~ only */
        test_assert_inteq(r->ipv6, CONFIG_NO);
        test_assert_inteq(r->singlethreadperfolder, CONFIG_YES);
        test_assert(config_find_repository(cfg, "Nope") == NULL);
        test_assert(config_find_account(cfg, "Nope") == NULL);
    }
    config_free(&cfg);
    config_problems_free(&p);
    unsetenv("OIMAP_TEST_DIR");
    test_end();
}

static char *write_file(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_load(void)
{
    test_begin("config_load: overrides, missing file, parse errors");
    char *path = write_file("rc", GEN ACC LOC REM);
    const char *set[] = {"Account_A:autorefresh=5", "Repository_R:remoteport=1143",
                         "general:dry-run=True"};
    struct config_overrides ov = {set, 3, NULL};
    struct config *cfg = NULL;
    struct config_problems p = CONFIG_PROBLEMS_INIT;
    test_assert(config_load(path, &ov, &cfg, &p));
    test_assert_inteq(p.n, 0);
    if (cfg) {
        test_assert(cfg->accounts[0].autorefresh == 5.0);
        test_assert_inteq(cfg->repositories[1].remoteport, 1143);
        test_assert(cfg->general.dry_run);
        test_assert_streq(cfg->path, path);
    }
    config_free(&cfg);

    const char *bad[] = {"Account_B:autorefresh=5"};
    struct config_overrides ov2 = {bad, 1, NULL};
    test_assert(!config_load(path, &ov2, &cfg, &p));
    test_assert(find_problem(&p, CONFIG_ERROR,
                             "-k Account_B:autorefresh=5: there is no section "
                             "[Account B]"));
    config_problems_free(&p);

    const char *badval[] = {"Account_A:autorefresh=soon"};
    struct config_overrides ov3 = {badval, 1, NULL};
    test_assert(!config_load(path, &ov3, &cfg, &p));
    test_assert(find_problem(&p, CONFIG_ERROR,
                             "-k Account_A:autorefresh=soon: [Account A] "
                             "autorefresh = soon: not a number."));
    config_problems_free(&p);

    char *missing = xasprintf("%s/nope", test_tmpdir());
    test_assert(!config_load(missing, NULL, &cfg, &p));
    char *want = xasprintf("Config file '%s' does not exist; aborting!", missing);
    test_assert(find_problem(&p, CONFIG_ERROR, want));
    free(want);
    free(missing);
    config_problems_free(&p);

    char *broken = write_file("broken", "[general]\naccounts = A\n[general]\noops\n");
    test_assert(!config_load(broken, NULL, &cfg, &p));
    test_assert_inteq(p.n, 2);
    test_assert(find_problem(&p, CONFIG_ERROR,
                             "broken line 3: duplicate section [general] (it "
                             "was already opened on line 1)."));
    test_assert(find_problem(&p, CONFIG_ERROR, "broken line 4: \"oops\" is neither"));
    config_problems_free(&p);
    free(broken);
    free(path);
    test_end();

    test_begin("default path: XDG config if it exists, else ~/.offlineimaprc");
    char *home = xasprintf("%s/home", test_tmpdir());
    char *xdgdir = xasprintf("%s/.config/offlineimap", home);
    char *cmd = xasprintf("mkdir -p '%s'", xdgdir);
    test_assert(system(cmd) == 0);
    setenv("HOME", home, 1);
    unsetenv("XDG_CONFIG_HOME");
    char *d = config_default_path();
    char *rc = xasprintf("%s/.offlineimaprc", home);
    test_assert_streq(d, rc);
    free(d);
    char *xdgfile = xasprintf("%s/config", xdgdir);
    FILE *f = fopen(xdgfile, "w");
    fclose(f);
    d = config_default_path();
    test_assert_streq(d, xdgfile);
    free(d);
    setenv("XDG_CONFIG_HOME", "", 1); /* empty counts as unset */
    d = config_default_path();
    test_assert_streq(d, xdgfile);
    free(d);
    setenv("XDG_CONFIG_HOME", test_tmpdir(), 1);
    d = config_default_path();
    test_assert_streq(d, rc);
    free(d);
    unsetenv("XDG_CONFIG_HOME");
    char *tilde = write_file("home/.offlineimaprc", GEN ACC LOC REM);
    test_assert(config_load("~/.offlineimaprc", NULL, &cfg, &p));
    config_free(&cfg);
    config_problems_free(&p);
    free(tilde);
    free(xdgfile);
    free(rc);
    free(cmd);
    free(xdgdir);
    free(home);
    setenv("HOME", "/home/u", 1);
    test_end();
}

int main(void)
{
    setenv("HOME", "/home/u", 1);
    test_minimal();
    test_gmail();
    test_multi();
    test_problem_table();
    test_tls1_3();
    test_quiet_cases();
    test_paths_and_tristates();
    test_load();
    return test_done();
}
