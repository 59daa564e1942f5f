/*
 * test_config_py: the embedded Python on configurations built in memory:
 * every kind of expression offlineimap has, a pythonfile with functions,
 * both styles of foldersort, mbnames, errors with their file, line and
 * traceback, and calls from several threads at once.
 *
 * Python starts once per process, so the order matters: the failing
 * pythonfiles come first (a failed pythonfile is tried again by the next
 * py_start(), as offlineimap does), py_stop() last.
 */
#include "config/test_config_py.h"

#include "base/xalloc.h"

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tpy_pythonfile_path;
char *tpy_marker_path;

/* ---- py_needed and before the start ------------------------------------- */

static void test_needed(void)
{
    test_begin("py_needed: expressions, pythonfile, mbnames");
    struct config *cfg = tpy_build(GEN ACC LOC REM);
    test_assert(cfg && !py_needed(cfg));
    config_free(&cfg);
    static const char *const opts[] = {
        "nametrans",    "folderfilter",   "foldersort",
        "idlefolders",  "remotepasseval", "copy_ignore_eval",
        "newmail_hook", "remoteporteval", "oauth2_access_token_eval"};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        cfg = tpy_build_repo_option(opts[i], "None");
        test_assert(cfg && py_needed(cfg));
        config_free(&cfg);
    }
    cfg = tpy_build_with_pythonfile("/nonexistent.py");
    test_assert(cfg && py_needed(cfg));
    config_free(&cfg);
    cfg = tpy_build(GEN ACC LOC REM "\n[mbnames]\nenabled = yes\nfilename = /tmp/m\nheader = 'h'\n"
                                    "peritem = %(foldername)s\nsep = ' '\nfooter = ''\n");
    test_assert(cfg && py_needed(cfg));
    config_free(&cfg);
    test_end();
}

static void test_not_started(void)
{
    test_begin("before py_start: a clear error, no crash");
    struct config *cfg = tpy_build_repo_option("nametrans", "lambda f: f");
    struct err e = ERR_INIT;
    struct py_expr *x = cfg ? tpy_repo_expr(cfg, "nametrans", &e) : NULL;
    test_assert(x == NULL);
    test_assert_contains(e.msg, "rc line 15: [Repository R] nametrans: the embedded Python is not "
                                "running");
    err_clear(&e);
    config_free(&cfg);
    test_end();
}

/* ---- the pythonfile ------------------------------------------------------- */

static void test_pythonfile_errors(void)
{
    struct sigaction before, after;
    sigaction(SIGINT, NULL, &before);

    test_begin("pythonfile missing: file, line and the reason");
    char *missing = xasprintf("%s/missing.py", test_tmpdir());
    struct config *cfg = tpy_build_with_pythonfile(missing);
    struct err e = ERR_INIT;
    test_assert(cfg && !py_start(cfg, &e));
    char *want = xasprintf("rc line 3: [general] pythonfile: cannot read %s: No such file or "
                           "directory.",
                           missing);
    test_assert_streq(e.msg, want);
    test_assert_inteq(e.scope, ERR_CRITICAL);
    free(want);
    err_clear(&e);
    config_free(&cfg);
    free(missing);
    test_end();

    test_begin("pythonfile with a syntax error: its line and column");
    char *bad = xasprintf("%s/bad.rc.py", test_tmpdir());
    tpy_write_file(bad, "import os\n\ndef f(:\n    pass\n");
    cfg = tpy_build_with_pythonfile(bad);
    test_assert(cfg && !py_start(cfg, &e));
    want = xasprintf("rc line 3: [general] pythonfile: %s is not valid Python: invalid syntax "
                     "(line 3, column 7)\n    def f(:\n",
                     bad);
    test_assert_contains(e.msg, want);
    free(want);
    err_clear(&e);
    config_free(&cfg);
    free(bad);
    test_end();

    test_begin("pythonfile raising at start: exception and its traceback line");
    char *raises = xasprintf("%s/raises", test_tmpdir()); /* any file name, no .py */
    tpy_write_file(raises, "import subprocess\n\ndef half(n):\n    return n / 0\n\nx = half(4)\n");
    cfg = tpy_build_with_pythonfile(raises);
    test_assert(cfg && !py_start(cfg, &e));
    want = xasprintf("rc line 3: [general] pythonfile: running %s raised ZeroDivisionError: "
                     "division by zero\nTraceback (most recent call last):\n  File \"%s\", line 6, "
                     "in <module>\n",
                     raises, raises);
    test_assert_contains(e.msg, want);
    free(want);
    want = xasprintf("File \"%s\", line 4, in half\n    return n / 0\n", raises);
    test_assert_contains(e.msg, want);
    free(want);
    test_assert(!strstr(e.msg, "offlineimap bridge"));
    err_clear(&e);
    config_free(&cfg);
    free(raises);
    test_end();

    test_begin("Python leaves the SIGINT disposition alone");
    sigaction(SIGINT, NULL, &after);
    test_assert(before.sa_handler == after.sa_handler);
    test_end();
}

static const char pythonfile_text[] =
    "import os, subprocess\n"
    "\n"
    "def get_password():\n"
    "    return 'p\\u00e4ss w0rd'\n"
    "\n"
    "def get_password_bytes():\n"
    "    return subprocess.check_output(['echo', 'from-echo']).strip()\n"
    "\n"
    "def get_nothing():\n"
    "    return None\n"
    "\n"
    "def fail(why):\n"
    "    raise ValueError(why)\n"
    "\n"
    "def cmp(a, b):\n" /* Python 3 has no cmp() */
    "    return (a > b) - (a < b)\n"
    "\n"
    "prioritized = ['INBOX', 'personal', 'announce', 'list']\n"
    "\n"
    "def mycmp(x, y):\n" /* the manual's example */
    "    for prefix in prioritized:\n"
    "        if x.startswith(prefix):\n"
    "            return -1\n"
    "        elif y.startswith(prefix):\n"
    "            return +1\n"
    "    return cmp(x, y)\n"
    "\n"
    "def inbox_first(name):\n"
    "    return (name != 'INBOX', name.lower())\n"
    "\n"
    "class Hidden:\n" /* a callable inspect.signature() cannot read */
    "    __signature__ = 'hidden'\n"
    "\n"
    "class KeyOnly(Hidden):\n"
    "    def __call__(self, name):\n"
    "        return name[::-1]\n"
    "\n"
    "class CmpOnly(Hidden):\n"
    "    def __call__(self, a, b):\n"
    "        return cmp(len(a), len(b)) or cmp(a, b)\n"
    "\n"
    "key_only, cmp_only = KeyOnly(), CmpOnly()\n"
    "\n"
    "def touch_marker():\n"
    "    with open(MARKER, 'a') as f:\n"
    "        f.write('new mail\\n')\n"
    "\n";

static void test_pythonfile_ok(void)
{
    test_begin("pythonfile: py_start runs it once, then is idempotent");
    tpy_pythonfile_path = xasprintf("%s/offlineimap.conf.py", test_tmpdir());
    tpy_marker_path = xasprintf("%s/marker", test_tmpdir());
    char *text = xasprintf("%sMARKER = %s%s%s\n", pythonfile_text, "'", tpy_marker_path, "'");
    tpy_write_file(tpy_pythonfile_path, text);
    free(text);
    struct config *cfg = tpy_build_with_pythonfile(tpy_pythonfile_path);
    struct err e = ERR_INIT;
    test_assert(cfg && py_start(cfg, &e));
    if (e.msg)
        fprintf(stderr, "%s\n", e.msg);
    err_clear(&e);
    /* A second start, even with another configuration, changes nothing. */
    struct config *other = tpy_build(GEN ACC LOC REM);
    test_assert(other && py_start(other, &e));
    config_free(&other);
    config_free(&cfg);
    test_end();
}

/* ---- values ----------------------------------------------------------- */

static void test_eval_str(void)
{
    static const struct {
        const char *option, *text, *want;
    } cases[] = {
        {"remotepasseval", "get_password()", "p\xc3\xa4ss w0rd"},
        {"remotepasseval", "get_password_bytes()", "from-echo"},
        {"remotepasseval", "b'caf\\xc3\\xa9'", "caf\xc3\xa9"},
        {"remotehosteval", "'imap.' + 'example.org'", "imap.example.org"},
        {"remoteusereval", "os.environ.get('NO_SUCH_VARIABLE_HERE', 'jdoe')", "jdoe"},
        {"remoteusereval", "__name__", "<none>"},
        {"remoteusereval", "__import__('re').sub('a', 'o', 'imap')", "imop"},
        {"oauth2_access_token_eval", "'%%s-%%d' %% ('tok', 2)", "tok-2"},
        /* each evaluation gets a fresh namespace: the walrus leaves nothing behind */
        {"remoteusereval", "str([(leak := 7)] and 'leak' in globals())", "True"},
        {"remoteusereval", "str('leak' in globals())", "False"},
        {"remoteusereval", "  'leading spaces'", "leading spaces"},
        {"remoteusereval", "\n  'continued'", "continued"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *name =
            tpy_one_line(xasprintf("py_eval_str: %s = %s", cases[i].option, cases[i].text));
        test_begin(name);
        struct config *cfg;
        struct py_expr *x = tpy_expr_for(cases[i].option, cases[i].text, &cfg);
        char *out = NULL;
        struct err e = ERR_INIT;
        test_assert(x && py_eval_str(x, &out, &e));
        if (e.msg)
            fprintf(stderr, "%s\n", e.msg);
        test_assert_streq(out, cases[i].want);
        free(out);
        err_clear(&e);
        py_expr_free(&x);
        test_assert(x == NULL);
        config_free(&cfg);
        test_end();
        free(name);
    }
    test_begin("py_eval_str: __file__ is the pythonfile");
    struct config *cfg;
    struct py_expr *x = tpy_expr_for("remoteusereval", "__file__", &cfg);
    char *out = NULL;
    struct err e = ERR_INIT;
    test_assert(x && py_eval_str(x, &out, &e));
    test_assert_streq(out, tpy_pythonfile_path);
    free(out);
    py_expr_free(&x);
    config_free(&cfg);
    test_end();
}

static void test_eval_int_and_lists(void)
{
    test_begin("py_eval_int: remoteporteval");
    static const struct {
        const char *text;
        int64_t want;
    } ints[] = {{"993", 993},     {"990 + 3", 993},        {"'143'", 143},
                {"' 993 '", 993}, {"int('10') * 14", 140}, {"'imaps'", 993} /* /etc/services */};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        struct config *cfg;
        struct py_expr *x = tpy_expr_for("remoteporteval", ints[i].text, &cfg);
        int64_t n = -1;
        struct err e = ERR_INIT;
        test_assert(x && py_eval_int(x, &n, &e));
        test_assert_inteq(n, ints[i].want);
        err_clear(&e);
        py_expr_free(&x);
        config_free(&cfg);
    }
    test_end();

    test_begin("py_eval_strlist: folderincludes and idlefolders");
    struct config *cfg;
    struct py_expr *x = tpy_expr_for("folderincludes", "['debian.user', 'debian.personal']", &cfg);
    struct strvec v = STRVEC_INIT;
    struct err e = ERR_INIT;
    test_assert(x && py_eval_strlist(x, &v, &e));
    test_assert_inteq(v.n, 2);
    if (v.n == 2) {
        test_assert_streq(v.v[0], "debian.user");
        test_assert_streq(v.v[1], "debian.personal");
    }
    strvec_free(&v);
    py_expr_free(&x);
    config_free(&cfg);
    x = tpy_expr_for("idlefolders", "['INBOX', 'Work']", &cfg);
    test_assert(x && py_eval_strlist(x, &v, &e));
    test_assert(v.n == 2 && !strcmp(v.v[0], "INBOX") && !strcmp(v.v[1], "Work"));
    strvec_free(&v);
    py_expr_free(&x);
    config_free(&cfg);
    /* Any iterable of str; re is there for folderincludes. */
    x = tpy_expr_for("folderincludes", "(n for n in re.split(',', 'a,b,c') if n != 'b')", &cfg);
    test_assert(x && py_eval_strlist(x, &v, &e));
    test_assert(v.n == 2 && !strcmp(v.v[0], "a") && !strcmp(v.v[1], "c"));
    strvec_free(&v);
    py_expr_free(&x);
    config_free(&cfg);
    x = tpy_expr_for("idlefolders", "[]", &cfg);
    test_assert(x && py_eval_strlist(x, &v, &e) && v.n == 0);
    py_expr_free(&x);
    config_free(&cfg);
    err_clear(&e);
    test_end();
}

/* ---- functions -------------------------------------------------------- */

static void test_nametrans(void)
{
    static const struct {
        const char *text, *in, *want;
    } cases[] = {
        {"lambda f: re.sub('^INBOX\\.', '', f)", "INBOX.Sent", "Sent"},
        {"lambda f: re.sub('^INBOX\\.', '', f)", "INBOXES", "INBOXES"},
        {"lambda folder: re.sub(r'^\\[Gmail\\]/', '', folder)", "[Gmail]/All Mail", "All Mail"},
        {"lambda f: {'a': 'b'}.get(f, f)", "a", "b"},
        {"lambda f: {'a': 'b'}.get(f, f)", "c", "c"},
        {"lambda f: 'prefix.' + f", "INBOX", "prefix.INBOX"},
        {"lambda f: f.upper()", "Entw\xc3\xbcrfe", "ENTW\xc3\x9cRFE"},
        /* bytes that are not UTF-8 go there and back unchanged */
        {"lambda f: f", "Caf\xe9", "Caf\xe9"},
        {"lambda f: f + '.x'", "Caf\xe9", "Caf\xe9.x"},
        {"lambda f: f.replace('.', '/')", "a.b.c", "a/b/c"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *name = xasprintf("nametrans %s (%s)", cases[i].text, cases[i].in);
        test_begin(name);
        struct config *cfg;
        struct py_expr *x = tpy_expr_for("nametrans", cases[i].text, &cfg);
        char *out = NULL;
        struct err e = ERR_INIT;
        test_assert(x && py_call_str_str(x, cases[i].in, &out, &e));
        if (e.msg)
            fprintf(stderr, "%s\n", e.msg);
        test_assert_streq(out, cases[i].want);
        free(out);
        /* The function is kept: a second call gives the same. */
        test_assert(x && py_call_str_str(x, cases[i].in, &out, &e));
        test_assert_streq(out, cases[i].want);
        free(out);
        err_clear(&e);
        py_expr_free(&x);
        config_free(&cfg);
        test_end();
        free(name);
    }
}

static void test_folderfilter(void)
{
    static const struct {
        const char *text, *in;
        bool want;
    } cases[] = {
        {"lambda f: f in ['INBOX', 'Sent']", "INBOX", true},
        {"lambda f: f in ['INBOX', 'Sent']", "Trash", false},
        {"lambda f: f not in ['Trash', 'Spam']", "Trash", false},
        {"lambda f: not re.search('(^Trash$|Del)', f)", "Deleted Items", false},
        {"lambda f: not re.search('(^Trash$|Del)', f)", "Trash2", true},
        {"lambda f: re.search('^Lists/', f)", "Lists/debian", true},
        {"lambda f: re.search('^Lists/', f)", "INBOX", false},
        {"lambda f: 1", "x", true},
        {"lambda f: len(f) - 1", "x", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *name = xasprintf("folderfilter %s (%s)", cases[i].text, cases[i].in);
        test_begin(name);
        struct config *cfg;
        struct py_expr *x = tpy_expr_for("folderfilter", cases[i].text, &cfg);
        bool got = !cases[i].want;
        struct err e = ERR_INIT;
        test_assert(x && py_call_str_bool(x, cases[i].in, &got, &e));
        test_assert(got == cases[i].want);
        err_clear(&e);
        py_expr_free(&x);
        config_free(&cfg);
        test_end();
        free(name);
    }
}

static void check_sort(const char *text, const char *const *in, const char *const *want, size_t n)
{
    struct config *cfg;
    struct py_expr *x = tpy_expr_for("foldersort", text, &cfg);
    struct strvec v = STRVEC_INIT;
    for (size_t i = 0; i < n; i++)
        strvec_push(&v, in[i]);
    struct err e = ERR_INIT;
    test_assert(x && py_sort_names(x, &v, &e));
    if (e.msg)
        fprintf(stderr, "%s\n", e.msg);
    for (size_t i = 0; i < n && i < v.n; i++)
        test_assert_streq(v.v[i], want[i]);
    err_clear(&e);
    strvec_free(&v);
    py_expr_free(&x);
    config_free(&cfg);
}

static void test_foldersort(void)
{
    static const char *const names[] = {"list-x", "zeta", "INBOX", "announce", "personal", "Alpha"};
    static const char *const by_manual[] = {"INBOX",  "personal", "announce",
                                            "list-x", "Alpha",    "zeta"};
    test_begin("foldersort: the manual's mycmp (cmp style)");
    check_sort("mycmp", names, by_manual, 6);
    test_end();

    test_begin("foldersort: a cmp lambda, reversed");
    static const char *const reversed[] = {"zeta",     "personal", "list-x",
                                           "announce", "INBOX",    "Alpha"};
    check_sort("lambda x, y: -cmp(x, y)", names, reversed, 6);
    test_end();

    test_begin("foldersort: key functions (def, lambda, builtin)");
    static const char *const keyed[] = {"INBOX", "Alpha", "announce", "list-x", "personal", "zeta"};
    check_sort("inbox_first", names, keyed, 6);
    static const char *const lowered[] = {"Alpha",  "announce", "INBOX",
                                          "list-x", "personal", "zeta"};
    check_sort("lambda name: name.lower()", names, lowered, 6);
    check_sort("str.lower", names, lowered, 6);
    static const char *const by_len[] = {"zeta",   "INBOX",    "Alpha",
                                         "list-x", "announce", "personal"};
    check_sort("len", names, by_len, 6); /* stable: equal lengths keep their order */
    test_end();

    test_begin("foldersort: signature unknown, cmp tried then key");
    static const char *const by_len_name[] = {"zeta",   "Alpha",    "INBOX",
                                              "list-x", "announce", "personal"};
    check_sort("cmp_only", names, by_len_name, 6);
    /* by the reversed name: XOBNI ahplA atez ecnonna lanosrep x-tsil */
    static const char *const by_reversed[] = {"INBOX",    "Alpha",    "zeta",
                                              "announce", "personal", "list-x"};
    check_sort("key_only", names, by_reversed, 6);
    test_end();

    test_begin("foldersort: empty and single lists");
    check_sort("mycmp", names, names, 0);
    check_sort("inbox_first", names, names, 1);
    test_end();
}

static void test_copy_ignore_and_hook(void)
{
    test_begin("copy_ignore_eval: a list, None, odd numbers dropped");
    struct config *cfg;
    struct py_expr *x = tpy_expr_for(
        "copy_ignore_eval", "lambda f: [7, 3, 2**40, 0, -5, 9] if f == 'INBOX' else None", &cfg);
    struct uidvec u = UIDVEC_INIT;
    bool none = true;
    struct err e = ERR_INIT;
    test_assert(x && py_call_uidlist(x, "INBOX", &u, &none, &e));
    test_assert(!none);
    test_assert_inteq(u.n, 3);
    if (u.n == 3)
        test_assert(u.v[0] == 7 && u.v[1] == 3 && u.v[2] == 9);
    uidvec_free(&u);
    test_assert(x && py_call_uidlist(x, "Sent", &u, &none, &e));
    test_assert(none && u.n == 0);
    py_expr_free(&x);
    config_free(&cfg);
    x = tpy_expr_for("copy_ignore_eval", "lambda f: range(1, 4)", &cfg);
    test_assert(x && py_call_uidlist(x, "INBOX", &u, &none, &e));
    test_assert(!none && u.n == 3 && u.v[2] == 3);
    uidvec_free(&u);
    py_expr_free(&x);
    config_free(&cfg);
    err_clear(&e);
    test_end();

    test_begin("newmail_hook: calls a pythonfile function that writes a file");
    x = tpy_expr_for("newmail_hook", "lambda: touch_marker()", &cfg);
    test_assert(x && py_call_void(x, &e));
    test_assert(x && py_call_void(x, &e));
    FILE *f = fopen(tpy_marker_path, "r");
    char buf[64] = "";
    test_assert(f != NULL);
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    test_assert_streq(buf, "new mail\nnew mail\n");
    py_expr_free(&x);
    config_free(&cfg);
    /* A function given by name works the same. */
    x = tpy_expr_for("newmail_hook", "touch_marker", &cfg);
    test_assert(x && py_call_void(x, &e));
    test_assert(access(tpy_marker_path, F_OK) == 0);
    py_expr_free(&x);
    config_free(&cfg);
    err_clear(&e);
    test_end();
}

#define MBN                                                                                        \
    GEN ACC LOC REM "\n[mbnames]\nenabled = yes\nfilename = /tmp/mb\n"                             \
                    "header = '# mbnames\\tfile\\n' + 'mailboxes '\n"                              \
                    "peritem = +%(accountname)s/%(foldername)s\n"                                  \
                    "sep = \" \"\nfooter = \"\\n\"\n"

static struct py_expr *mb_expr(const struct config *cfg, const struct config_expr *x,
                               const char *option, bool re)
{
    struct err e = ERR_INIT;
    struct py_expr *px = py_expr_new(x, cfg->ini->display, "mbnames", option, re, &e);
    if (!px)
        test_fail_at(__FILE__, __LINE__, "%s: %s", option, e.msg);
    err_clear(&e);
    return px;
}

static void test_mbnames(void)
{
    test_begin("mbnames: header, sep and footer strings with escapes");
    struct config *cfg = tpy_build(MBN "folderfilter = lambda acct, folder: acct == 'A' and "
                                       "not re.search('^Trash', folder)\n"
                                       "sort_keyfunc = lambda d: (d['foldername'].lower(), "
                                       "d['accountname'])\n");
    test_assert(cfg != NULL);
    if (!cfg) {
        test_end();
        return;
    }
    const struct config_mbnames *m = &cfg->mbnames;
    struct err e = ERR_INIT;
    char *out = NULL;
    struct py_expr *x = mb_expr(cfg, &m->header, "header", false);
    test_assert(x && py_eval_str(x, &out, &e));
    test_assert_streq(out, "# mbnames\tfile\nmailboxes ");
    XFREE(out);
    py_expr_free(&x);
    x = mb_expr(cfg, &m->sep, "sep", false);
    test_assert(x && py_eval_str(x, &out, &e));
    test_assert_streq(out, " ");
    XFREE(out);
    py_expr_free(&x);
    x = mb_expr(cfg, &m->footer, "footer", false);
    test_assert(x && py_eval_str(x, &out, &e));
    test_assert_streq(out, "\n");
    XFREE(out);
    py_expr_free(&x);
    test_end();

    test_begin("mbnames: folderfilter with two arguments");
    x = mb_expr(cfg, &m->folderfilter, "folderfilter", true);
    bool keep = false;
    test_assert(x && py_call_str2_bool(x, "A", "INBOX", &keep, &e) && keep);
    test_assert(x && py_call_str2_bool(x, "A", "Trash", &keep, &e) && !keep);
    test_assert(x && py_call_str2_bool(x, "B", "INBOX", &keep, &e) && !keep);
    py_expr_free(&x);
    test_end();

    test_begin("mbnames: sort_keyfunc over the item dicts");
    x = mb_expr(cfg, &m->sort_keyfunc, "sort_keyfunc", true);
    struct strvec acc = STRVEC_INIT, fold = STRVEC_INIT, roots = STRVEC_INIT;
    static const char *const items[][3] = {{"B", "work", "/m/b"},
                                           {"A", "INBOX", "/m/a"},
                                           {"B", "INBOX", "/m/b"},
                                           {"A", "Sent", "/m/a"}};
    for (size_t i = 0; i < 4; i++) {
        strvec_push(&acc, items[i][0]);
        strvec_push(&fold, items[i][1]);
        strvec_push(&roots, items[i][2]);
    }
    test_assert(x && py_sort_mbnames(x, &acc, &fold, &roots, &e));
    static const char *const want[][3] = {{"A", "INBOX", "/m/a"},
                                          {"B", "INBOX", "/m/b"},
                                          {"A", "Sent", "/m/a"},
                                          {"B", "work", "/m/b"}};
    for (size_t i = 0; i < 4; i++) {
        test_assert_streq(acc.v[i], want[i][0]);
        test_assert_streq(fold.v[i], want[i][1]);
        test_assert_streq(roots.v[i], want[i][2]);
    }
    py_expr_free(&x);
    strvec_free(&acc);
    strvec_free(&fold);
    strvec_free(&roots);
    test_end();

    test_begin("mbnames: peritem is Python's % formatting");
    static const struct {
        const char *peritem, *want;
    } fmts[] = {
        {"+%(accountname)s/%(foldername)s", "+A/INBOX"},
        {"%(localfolders)s/%(foldername)s", "/m/a/INBOX"},
        {"'%(foldername)-8s'|%%", "'INBOX   '|%"},
        {"%(foldername)r", "'INBOX'"},
        {"no fields", "no fields"},
    };
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        test_assert(py_format_item(fmts[i].peritem, "A", "INBOX", "/m/a", &out, &e));
        test_assert_streq(out, fmts[i].want);
        XFREE(out);
    }
    test_assert(m->peritem && py_format_item(m->peritem, "A", "Sent", "/m/a", &out, &e));
    test_assert_streq(out, "+A/Sent");
    XFREE(out);
    test_end();

    test_begin("mbnames: peritem errors name the option");
    test_assert(!py_format_item("%(nokey)s", "A", "INBOX", "/m/a", &out, &e));
    test_assert(out == NULL);
    test_assert_contains(e.msg, "[mbnames] peritem: formatting the item for account 'A', folder "
                                "'INBOX', raised KeyError: 'nokey'");
    err_clear(&e);
    test_assert(!py_format_item("%d", "A", "INBOX", "/m/a", &out, &e));
    test_assert_contains(e.msg, "raised TypeError: %d format: a real number is required, not dict");
    err_clear(&e);
    test_end();
    config_free(&cfg);
}

/* ---- threads -------------------------------------------------------------- */

enum { NTHREADS = 8, NCALLS = 300 };

struct thread_arg {
    struct py_expr *nametrans, *folderfilter, *foldersort;
    int id;
    int failures;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    for (int i = 0; i < NCALLS; i++) {
        char in[64], want[64];
        snprintf(in, sizeof(in), "INBOX.t%d.%d", a->id, i);
        snprintf(want, sizeof(want), "t%d.%d", a->id, i);
        char *out = NULL;
        struct err e = ERR_INIT;
        if (!py_call_str_str(a->nametrans, in, &out, &e) || strcmp(out, want) != 0)
            a->failures++;
        free(out);
        bool keep = false;
        if (!py_call_str_bool(a->folderfilter, in, &keep, &e) || keep != (i % 2 == 0))
            a->failures++;
        struct strvec v = STRVEC_INIT;
        strvec_push(&v, "zeta");
        strvec_push(&v, in);
        strvec_push(&v, "INBOX");
        if (!py_sort_names(a->foldersort, &v, &e) || strcmp(v.v[0], "zeta") != 0 ||
            strcmp(v.v[1], "INBOX") != 0 || strcmp(v.v[2], in) != 0)
            a->failures++;
        strvec_free(&v);
        err_clear(&e);
    }
    return NULL;
}

static void test_threads(void)
{
    test_begin("8 threads calling nametrans, folderfilter and foldersort at once");
    struct config *cfg1, *cfg2, *cfg3;
    /* Fresh expressions: the threads also race to evaluate them the first time. */
    struct py_expr *nt = tpy_expr_for("nametrans", "lambda f: re.sub('^INBOX\\.', '', f)", &cfg1);
    struct py_expr *ff =
        tpy_expr_for("folderfilter", "lambda f: int(f.rsplit('.', 1)[1]) %% 2 == 0", &cfg2);
    struct py_expr *fs = tpy_expr_for("foldersort", "cmp_only", &cfg3); /* by length */
    pthread_t th[NTHREADS];
    struct thread_arg args[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        args[i] = (struct thread_arg){nt, ff, fs, i, 0};
        test_assert(pthread_create(&th[i], NULL, thread_main, &args[i]) == 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        test_assert_inteq(args[i].failures, 0);
    }
    py_expr_free(&nt);
    py_expr_free(&ff);
    py_expr_free(&fs);
    config_free(&cfg1);
    config_free(&cfg2);
    config_free(&cfg3);
    test_end();
}

/* ---- the end -------------------------------------------------------------- */

static void test_stop(void)
{
    test_begin("py_stop: later calls fail cleanly, frees still work");
    struct config *cfg;
    struct py_expr *x = tpy_expr_for("nametrans", "lambda f: f", &cfg);
    py_stop();
    char *out = NULL;
    struct err e = ERR_INIT;
    test_assert(x && !py_call_str_str(x, "INBOX", &out, &e));
    test_assert_contains(e.msg, "the embedded Python is not running");
    err_clear(&e);
    py_expr_free(&x);
    test_assert(!py_start(cfg, &e));
    test_assert_contains(e.msg, "already stopped");
    err_clear(&e);
    test_assert(!py_format_item("%(foldername)s", "A", "B", "C", &out, &e));
    err_clear(&e);
    py_stop(); /* twice is harmless */
    config_free(&cfg);
    test_end();
}

int main(void)
{
    test_needed();
    test_not_started();
    test_pythonfile_errors();
    test_pythonfile_ok();
    test_eval_str();
    test_eval_int_and_lists();
    test_nametrans();
    test_folderfilter();
    test_foldersort();
    test_copy_ignore_and_hook();
    test_mbnames();
    test_py_syntax_errors();
    test_py_runtime_errors();
    test_py_no_leaks();
    test_py_check();
    test_threads();
    test_stop();
    free(tpy_pythonfile_path);
    free(tpy_marker_path);
    return test_done();
}
