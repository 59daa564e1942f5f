/*
 * config_py_expr: compiled expressions, Python errors turned into struct
 * err, and conversions between C strings and Python objects.
 *
 * Strings cross the border as UTF-8 with surrogateescape, as offlineimap3
 * sees file names: a folder name that is not valid UTF-8 reaches nametrans
 * as a str and comes back with the same bytes.
 */
#include "config/config_py_internal.h"

#include "config/config_py.h"

#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PyObject *pyb_str(const char *s)
{
    if (!s)
        return Py_NewRef(Py_None);
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
}

/* Any str as a C string for a message: odd characters escaped, never fails. */
static char *message_text(PyObject *s)
{
    PyObject *b =
        PyUnicode_Check(s) ? PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace") : NULL;
    if (!b) {
        PyErr_Clear();
        return xstrdup("?");
    }
    char *data = PyBytes_AS_STRING(b);
    size_t len = (size_t)PyBytes_GET_SIZE(b);
    char *out = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        out[i] = data[i] ? data[i] : '?';
    out[len] = '\0';
    Py_DECREF(b);
    return out;
}

PyObject *pyb_fetch(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (!type)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

void pyb_exc_to_err(struct err *e, const char *where, const char *what)
{
    PyObject *exc = pyb_fetch();
    if (!exc) {
        err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: %s failed without a Python exception.", where,
                what);
        return;
    }
    PyObject *f = PyObject_CallOneArg(pyb_fn(PYB_FORMAT_EXC), exc);
    if (f && PyTuple_Check(f) && PyTuple_GET_SIZE(f) == 2) {
        char *summary = message_text(PyTuple_GET_ITEM(f, 0));
        char *text = message_text(PyTuple_GET_ITEM(f, 1));
        err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: %s raised %s%s%s", where, what, summary,
                *text ? "\n" : "", text);
        free(summary);
        free(text);
    } else {
        PyErr_Clear();
        err_set(e, ERR_FOLDER, ERRK_CONFIG,
                "%s: %s raised %s (the traceback could not be formatted).", where, what,
                Py_TYPE(exc)->tp_name);
    }
    Py_XDECREF(f);
    Py_DECREF(exc);
}

bool pyb_syntax_parts(PyObject *exc, char **msg_r, long *lineno_r, long *offset_r, char **detail_r)
{
    PyObject *f = PyObject_CallOneArg(pyb_fn(PYB_FORMAT_SYNTAX), exc);
    bool ok = f && PyTuple_Check(f) && PyTuple_GET_SIZE(f) == 4;
    if (ok) {
        *msg_r = message_text(PyTuple_GET_ITEM(f, 0));
        *lineno_r = PyLong_AsLong(PyTuple_GET_ITEM(f, 1));
        *offset_r = PyLong_AsLong(PyTuple_GET_ITEM(f, 2));
        *detail_r = message_text(PyTuple_GET_ITEM(f, 3));
        if (*lineno_r < 0)
            *lineno_r = 0;
        if (*offset_r < 0)
            *offset_r = 0;
    }
    PyErr_Clear();
    Py_XDECREF(f);
    return ok;
}

char *pyb_describe(PyObject *o)
{
    enum { MAX_REPR = 80 };
    PyObject *r = PyObject_Repr(o);
    char *repr = r ? message_text(r) : NULL;
    Py_XDECREF(r);
    PyErr_Clear();
    char *out;
    if (!repr)
        out = xasprintf("a value of type %s", Py_TYPE(o)->tp_name);
    else if (strlen(repr) > MAX_REPR)
        out = xasprintf("%.*s... (%s)", (int)MAX_REPR, repr, Py_TYPE(o)->tp_name);
    else
        out = xasprintf("%s (%s)", repr, Py_TYPE(o)->tp_name);
    free(repr);
    return out;
}

bool pyb_to_cstr(PyObject *o, bool bytes_ok, char **out_r, const char *where, const char *what,
                 struct err *e)
{
    *out_r = NULL;
    PyObject *b;
    if (PyUnicode_Check(o)) {
        b = PyUnicode_AsEncodedString(o, "utf-8", "surrogateescape");
    } else if (bytes_ok && PyBytes_Check(o)) {
        /* offlineimap3 decodes bytes with .decode('utf-8'): invalid UTF-8 fails. */
        PyObject *u = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o), "strict");
        Py_XDECREF(u);
        b = u ? Py_NewRef(o) : NULL;
    } else {
        return true;
    }
    if (!b) {
        pyb_exc_to_err(e, where, what);
        return false;
    }
    const char *data = PyBytes_AS_STRING(b);
    size_t len = (size_t)PyBytes_GET_SIZE(b);
    if (memchr(data, '\0', len)) {
        err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: %s gave a string with a NUL character.", where,
                what);
        Py_DECREF(b);
        return false;
    }
    *out_r = xstrndup(data, len);
    Py_DECREF(b);
    return true;
}

static char *make_where(const char *file, unsigned line, const char *section, const char *option)
{
    if (line)
        return xasprintf("%s line %u: [%s] %s", file, line, section, option);
    return xasprintf("%s: [%s] %s", file, section, option);
}

/* The pending SyntaxError from compiling an expression, as e; with the GIL. */
static void syntax_error(struct err *e, const char *where, bool multiline)
{
    if (!PyErr_ExceptionMatches(PyExc_SyntaxError)) {
        pyb_exc_to_err(e, where, "compiling the expression");
        return;
    }
    PyObject *exc = pyb_fetch();
    char *msg, *detail;
    long lineno, offset;
    if (pyb_syntax_parts(exc, &msg, &lineno, &offset, &detail)) {
        char pos[96] = "";
        if (multiline && lineno > 0 && offset > 0)
            snprintf(pos, sizeof(pos), " (line %ld of the value, column %ld)", lineno, offset);
        else if (multiline && lineno > 0)
            snprintf(pos, sizeof(pos), " (line %ld of the value)", lineno);
        else if (offset > 0)
            snprintf(pos, sizeof(pos), " (column %ld)", offset);
        err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: the expression is not valid Python: %s%s%s%s",
                where, msg, pos, *detail ? "\n" : "", detail);
        free(msg);
        free(detail);
    } else {
        err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: the expression is not valid Python.", where);
    }
    Py_XDECREF(exc);
}

struct py_expr *py_expr_new(const struct config_expr *x, const char *file, const char *section,
                            const char *option, bool with_re, struct err *e)
{
    char *where = make_where(file, x->line, section, option);
    if (!x->text) {
        err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: the option is not set.", where);
        free(where);
        return NULL;
    }
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, where, e)) {
        free(where);
        return NULL;
    }
    /* As eval() does with a str: leading spaces and tabs are dropped, coding cookies ignored. */
    const char *text = x->text + strspn(x->text, " \t");
    PyCompilerFlags cf = _PyCompilerFlags_INIT;
    cf.cf_flags = PyCF_SOURCE_IS_UTF8 | PyCF_IGNORE_COOKIE;
    PyObject *code = Py_CompileStringExFlags(text, where, Py_eval_input, &cf, -1);
    struct py_expr *px = NULL;
    if (!code) {
        syntax_error(e, where, strchr(text, '\n') != NULL);
    } else {
        PyObject *r = PyObject_CallFunction(pyb_fn(PYB_REMEMBER_SOURCE), "ss", where, text);
        if (!r)
            PyErr_Clear(); /* only costs the source lines in tracebacks */
        Py_XDECREF(r);
        px = xcalloc(1, sizeof(*px));
        px->where = where;
        px->code = code;
        px->with_re = with_re;
        where = NULL;
    }
    pyb_gil_give(gs);
    free(where);
    return px;
}

void py_expr_free(struct py_expr **xp)
{
    struct py_expr *x = *xp;
    if (!x)
        return;
    *xp = NULL;
    /* After py_stop() the objects went with the interpreter. */
    PyGILState_STATE gs;
    struct err e = ERR_INIT;
    if (pyb_gil_take(&gs, "py_expr_free", &e)) {
        Py_XDECREF(x->code);
        Py_XDECREF(x->value);
        pyb_gil_give(gs);
    }
    err_clear(&e);
    free(x->where);
    free(x);
}

const char *py_expr_where(const struct py_expr *x)
{
    return x->where;
}

PyObject *pyb_expr_eval(struct py_expr *x, struct err *e)
{
    PyObject *g = pyb_globals(x->with_re);
    if (!g) {
        if (PyErr_Occurred())
            pyb_exc_to_err(e, x->where, "preparing the namespace");
        else
            err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                    "%s: the embedded Python has no namespace (py_start() was not called).",
                    x->where);
        return NULL;
    }
    PyObject *v = PyEval_EvalCode(x->code, g, g);
    Py_DECREF(g);
    if (!v)
        pyb_exc_to_err(e, x->where, "the expression");
    return v;
}

PyObject *pyb_expr_callable(struct py_expr *x, struct err *e)
{
    if (x->value)
        return x->value;
    PyObject *v = pyb_expr_eval(x, e);
    if (!v)
        return NULL;
    if (!PyCallable_Check(v)) {
        char *d = pyb_describe(v);
        err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: the expression gives %s, not a function.",
                x->where, d);
        free(d);
        Py_DECREF(v);
        return NULL;
    }
    /* Another thread may have evaluated it meanwhile (eval can let go of the GIL). */
    if (x->value)
        Py_DECREF(v);
    else
        x->value = v;
    return x->value;
}
