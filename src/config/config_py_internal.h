/*
 * config_py_internal: what the files of config_py share.  Not for other
 * modules: include config/config_py.h instead.
 *
 * Python.h comes first, as the Python documentation requires (it sets
 * feature macros that the standard headers read).
 *
 * Locking: every function here that returns or takes a PyObject must be
 * called with the GIL held (pyb_gil_take()).  Nothing here takes a mutex
 * while holding the GIL, so that a thread waiting for the GIL never holds a
 * lock that a thread running Python code needs.
 */
#ifndef CONFIG_PY_INTERNAL_H
#define CONFIG_PY_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "base/err.h"

#include <stdbool.h>

/* The functions of the helper module (config_py_helper.c), by name. */
enum pyb_fn {
    PYB_FORMAT_EXC,      /* (exc) -> (summary, traceback text) */
    PYB_FORMAT_SYNTAX,   /* (SyntaxError) -> (msg, lineno, offset, detail) */
    PYB_REMEMBER_SOURCE, /* (filename, text): so that tracebacks show expression lines */
    PYB_READ_PYTHONFILE, /* (path) -> (code, None) or (None, message) */
    PYB_RUN_PYTHONFILE,  /* (path, code) -> namespace dict */
    PYB_SORT_NAMES,      /* (f, names) -> order (list of indices) */
    PYB_SORT_ITEMS,      /* (f, accounts, folders, roots) -> order */
    PYB_CHECK_EXPR,      /* (code, globals, nargs) -> None or what is wrong */
    PYB_NFN,
};

/* The Python source of the helper module, and the file name its code carries. */
extern const char pyb_helper_source[];
#define PYB_HELPER_FILE "<offlineimap bridge>"

/*
 * Take the GIL for the calling thread, after checking that the interpreter
 * is running; false (with e set, naming what) if it is not.
 */
bool pyb_gil_take(PyGILState_STATE *st_r, const char *what, struct err *e);
void pyb_gil_give(PyGILState_STATE st);
/* Start the interpreter without loading any pythonfile (for py_format_item). */
bool pyb_core_start(struct err *e);

/* A helper module function (borrowed reference). */
PyObject *pyb_fn(enum pyb_fn fn);
/* A new dict for one evaluation: the pythonfile's namespace (+ re). NULL: not started. */
PyObject *pyb_globals(bool with_re);
/* Where peritem was written ("file line N: [mbnames] peritem"), for py_format_item. */
const char *pyb_peritem_where(void);

/* The pending exception (normalised, with its traceback), cleared; NULL if none. */
PyObject *pyb_fetch(void);
/*
 * The parts of a SyntaxError for a message: msg, lineno and offset (0 when
 * unknown), and the source line with its caret; false if they could not be
 * read.  The strings are new.
 */
bool pyb_syntax_parts(PyObject *exc, char **msg_r, long *lineno_r, long *offset_r, char **detail_r);

/*
 * Turn the pending Python exception into e: "<where>: <what> raised
 * <Type>: <message>\n<traceback>".  Clears the exception.  Scope ERR_FOLDER.
 */
void pyb_exc_to_err(struct err *e, const char *where, const char *what);

/* C string (UTF-8; other bytes kept with surrogateescape) to str, NULL to None; new reference. */
PyObject *pyb_str(const char *s);
/*
 * str (or, with bytes_ok, bytes holding UTF-8) to a new C string.  A NUL
 * inside, or a str that cannot be UTF-8, is an error; neither str nor
 * bytes leaves *out_r NULL and returns true, for the caller's type message.
 */
bool pyb_to_cstr(PyObject *o, bool bytes_ok, char **out_r, const char *where, const char *what,
                 struct err *e);
/* "[1, 2, 3] (list)" for type errors: a short repr and the type name; new C string. */
char *pyb_describe(PyObject *o);

/* The expression's code and cached callable (config_py.c). */
struct py_expr {
    char *where;     /* "file line N: [section] option" */
    char *filename;  /* the code's file name in tracebacks */
    PyObject *code;  /* compiled in eval mode */
    PyObject *value; /* the callable, once evaluated (callable expressions) */
    bool with_re;
};

/* Evaluate x's code once more in a fresh namespace; new reference, NULL with e set. */
PyObject *pyb_expr_eval(struct py_expr *x, struct err *e);
/* The callable x evaluates to (evaluated once, then cached); borrowed, NULL with e set. */
PyObject *pyb_expr_callable(struct py_expr *x, struct err *e);

#endif
