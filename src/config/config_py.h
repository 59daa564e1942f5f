/*
 * config_py: the embedded Python that evaluates offlineimap's
 * Python-expression options (REFERENCE.md 2.8).
 *
 * offlineimap evaluates those options with eval() in a namespace made of the
 * top-level names of [general] pythonfile (executed as a module, whatever its
 * file extension); nametrans, folderfilter, folderincludes, foldersort and
 * mbnames' folderfilter and sort_keyfunc also get the module re.  This module
 * does the same with libpython3, started only when the configuration uses
 * such an option (py_needed()), once per process.
 *
 * The program does not link libpython: there these functions are the
 * loader's (config_py_loader.c), which loads config_py, built as the module
 * offlineimap-python.so, on the first call that needs Python and forwards
 * to it (config_py_plugin.h).  Without the module, a call fails with an
 * error naming the option that needs Python.
 *
 * Each expression is compiled once (py_expr_new) with where it came from
 * (file, line, section, option), so that an error says exactly that plus the
 * Python traceback:
 *   ~/.offlineimaprc line 14: [Repository Remote] nametrans: the expression
 *   raised NameError: name 'foo' is not defined
 *   Traceback (most recent call last): ...
 * An error fails only what depends on the expression (ERR_FOLDER for a
 * folder's nametrans, ERR_REPO for a password, ...); the caller picks the
 * scope.
 *
 * Threads: every call takes the GIL; any thread may call.  Calls into user
 * code are serialised by the GIL, as in offlineimap.
 */
#ifndef CONFIG_PY_H
#define CONFIG_PY_H

#include "base/err.h"
#include "base/strutil.h"
#include "base/uidset.h"
#include "config/config_model.h"

#include <stdbool.h>
#include <stdint.h>

/* True if cfg has any Python-expression option set or a pythonfile. */
bool py_needed(const struct config *cfg);

/*
 * Start the interpreter and run [general] pythonfile (if any) into the shared
 * namespace.  Idempotent and thread-safe.  pythonfile errors name the file,
 * the line of the pythonfile option and carry the traceback.
 */
bool py_start(const struct config *cfg, struct err *e);
/* Stop the interpreter (at exit; no call may be in progress). */
void py_stop(void);

struct py_expr;

/*
 * Compile x (its text and line) for option `option` of [section] in the file
 * `file`.  with_re puts the module re in its namespace (nametrans,
 * folderfilter, folderincludes, foldersort, mbnames folderfilter and
 * sort_keyfunc).  A syntax error is reported here.
 */
struct py_expr *py_expr_new(const struct config_expr *x, const char *file, const char *section,
                            const char *option, bool with_re, struct err *e);
void py_expr_free(struct py_expr **x);
/* "file line N: [section] option" for messages. */
const char *py_expr_where(const struct py_expr *x);

/* The expression's value, of each kind offlineimap expects. */
/* str (or bytes, decoded as UTF-8): remotehosteval, remoteusereval, remotepasseval, the
 * oauth2 *_eval options, mbnames header/sep/footer. */
bool py_eval_str(struct py_expr *x, char **out_r, struct err *e);
/* int: remoteporteval; a str of digits or a service name of /etc/services is taken as
 * offlineimap3's socket.getaddrinfo() takes it ("993", "imaps"). */
bool py_eval_int(struct py_expr *x, int64_t *out_r, struct err *e);
/* A list (or any iterable) of str: folderincludes, idlefolders. */
bool py_eval_strlist(struct py_expr *x, struct strvec *out, struct err *e);

/* The expression is a callable; call it. */
/* f(name) -> str: nametrans. */
bool py_call_str_str(struct py_expr *x, const char *arg, char **out_r, struct err *e);
/* f(name) -> truth value: folderfilter. */
bool py_call_str_bool(struct py_expr *x, const char *arg, bool *out_r, struct err *e);
/* f(a, b) -> truth value: mbnames folderfilter(accountname, foldername). */
bool py_call_str2_bool(struct py_expr *x, const char *a, const char *b, bool *out_r, struct err *e);
/* f() with no arguments, result ignored: newmail_hook. */
bool py_call_void(struct py_expr *x, struct err *e);
/*
 * f(foldername) -> list of ints or None: copy_ignore_eval.  *none_r is true
 * for None (nothing ignored).
 */
bool py_call_uidlist(struct py_expr *x, const char *arg, struct uidvec *out, bool *none_r,
                     struct err *e);
/*
 * Sort names in place with foldersort: offlineimap calls it with two names and
 * expects -1/0/1 (cmp style); people also write one-argument key functions.
 * Both are accepted: a callable taking one argument is a key, two a cmp.
 */
bool py_sort_names(struct py_expr *x, struct strvec *names, struct err *e);

/*
 * mbnames' sort_keyfunc over items of (accountname, foldername, localfolders):
 * sort the items (given as three parallel string vectors) in place by the key
 * the function returns for each item's dict.
 */
bool py_sort_mbnames(struct py_expr *x, struct strvec *accounts, struct strvec *folders,
                     struct strvec *localfolders, struct err *e);
/*
 * mbnames peritem: Python's "%" formatting of the raw peritem string with the
 * item's dict ({'accountname':..., 'foldername':..., 'localfolders':...});
 * localfolders may be NULL (None).
 */
bool py_format_item(const char *peritem, const char *account, const char *folder,
                    const char *localfolders, char **out_r, struct err *e);

/*
 * --check-config: what an expression would do wrong, found without running
 * user code where possible.  Every global name it reads must be defined (by
 * the pythonfile, re where injected, or Python); for the PY_CHECK_FN* kinds
 * the expression is evaluated (a lambda or a function name: nothing of the
 * user's runs but what builds the function) and must give a function that
 * accepts that many arguments.  False with e ("<where>: <what is wrong>")
 * when something is wrong.
 */
enum py_check {
    PY_CHECK_NAMES,   /* only the names: the expression is not evaluated (passwords) */
    PY_CHECK_FN0,     /* newmail_hook */
    PY_CHECK_FN1,     /* nametrans, folderfilter, copy_ignore_eval, mbnames sort_keyfunc */
    PY_CHECK_FN2,     /* mbnames folderfilter */
    PY_CHECK_FN_SORT, /* foldersort: one argument or two */
};
bool py_expr_check(struct py_expr *x, enum py_check how, struct err *e);

#endif
