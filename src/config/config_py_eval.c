/*
 * config_py_eval: the values of the expressions, of each kind offlineimap
 * expects, and the calls of the functions they give.
 *
 * Value options (passwords, hosts, idlefolders, mbnames header...) are
 * evaluated again at each call, in a fresh copy of the namespace, as
 * localeval.eval() does.  Function options (nametrans, folderfilter,
 * foldersort, copy_ignore_eval, newmail_hook, mbnames' folderfilter and
 * sort_keyfunc) are evaluated once, as offlineimap does when it creates the
 * repository, and the function is kept for every call.
 */
#include "config/config_py_internal.h"

#include "config/config_py.h"

#include "base/xalloc.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

/* Longest list accepted from folderincludes, idlefolders or copy_ignore_eval. */
#define PYB_MAX_LIST_ITEMS (1u << 24)

/* "<where>: <subject> <v><context>, not <needed>." */
static void type_error(struct err *e, const char *where, const char *subject, PyObject *v,
                       const char *context, const char *needed)
{
    char *d = pyb_describe(v);
    err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: %s %s%s, not %s.", where, subject, d, context, needed);
    free(d);
}

bool py_eval_str(struct py_expr *x, char **out_r, struct err *e)
{
    *out_r = NULL;
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    PyObject *v = pyb_expr_eval(x, e);
    bool ok = v && pyb_to_cstr(v, true, out_r, x->where, "the expression", e);
    if (ok && !*out_r) {
        type_error(e, x->where, "the expression gives", v, "", "a str (or bytes)");
        ok = false;
    }
    Py_XDECREF(v);
    pyb_gil_give(gs);
    return ok;
}

bool py_eval_int(struct py_expr *x, int64_t *out_r, struct err *e)
{
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    PyObject *v = pyb_expr_eval(x, e);
    bool ok = false;
    if (!v) {
        /* e is set */
    } else if (PyLong_Check(v) && !PyBool_Check(v)) {
        int overflow;
        long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow || (n == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            type_error(e, x->where, "the expression gives", v, "", "a number that fits in 64 bits");
        } else {
            *out_r = n;
            ok = true;
        }
    } else if (PyUnicode_Check(v)) {
        /*
         * offlineimap3 hands the value to socket.getaddrinfo() as the port,
         * which takes "993" and also a service name ("imaps", /etc/services).
         */
        char *s = NULL;
        if (pyb_to_cstr(v, false, &s, x->where, "the expression", e)) {
            str_trim(s);
            int64_t n;
            struct servent se, *res = NULL;
            char sbuf[1024];
            if (str_to_i64(s, strlen(s), &n)) {
                *out_r = n;
                ok = true;
            } else if (*s && getservbyname_r(s, "tcp", &se, sbuf, sizeof(sbuf), &res) == 0 && res) {
                *out_r = ntohs((uint16_t)res->s_port);
                ok = true;
            } else {
                type_error(e, x->where, "the expression gives", v, "",
                           "an int, a str of digits or a service name of /etc/services");
            }
        }
        free(s);
    } else {
        type_error(e, x->where, "the expression gives", v, "", "an int");
    }
    Py_XDECREF(v);
    pyb_gil_give(gs);
    return ok;
}

bool py_eval_strlist(struct py_expr *x, struct strvec *out, struct err *e)
{
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    PyObject *v = pyb_expr_eval(x, e);
    PyObject *it = NULL;
    struct strvec got = STRVEC_INIT;
    bool ok = false;
    if (!v)
        goto out;
    /* A str is iterable, but a folder list made of its letters is never meant. */
    if (PyUnicode_Check(v) || PyBytes_Check(v) || !(it = PyObject_GetIter(v))) {
        PyErr_Clear();
        type_error(e, x->where, "the expression gives", v, "", "a list of str");
        goto out;
    }
    PyObject *item;
    while ((item = PyIter_Next(it))) {
        char *s = NULL;
        bool item_ok = false;
        if (got.n >= PYB_MAX_LIST_ITEMS) {
            err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: the list has more than %u items.", x->where,
                    PYB_MAX_LIST_ITEMS);
        } else if (pyb_to_cstr(item, false, &s, x->where, "the expression", e)) {
            item_ok = s != NULL;
            if (!s) {
                char *what = xasprintf("item %zu of the list is", got.n + 1);
                type_error(e, x->where, what, item, "", "a str");
                free(what);
            }
        }
        Py_DECREF(item);
        if (!item_ok)
            goto out;
        strvec_push_owned(&got, s);
    }
    if (PyErr_Occurred()) {
        pyb_exc_to_err(e, x->where, "the expression");
        goto out;
    }
    for (size_t i = 0; i < got.n; i++)
        strvec_push_owned(out, got.v[i]);
    got.n = 0;
    ok = true;
out:
    strvec_free(&got);
    Py_XDECREF(it);
    Py_XDECREF(v);
    pyb_gil_give(gs);
    return ok;
}

/*
 * Call x's function with args (a tuple, stolen; NULL if building it failed);
 * new reference, NULL with e set.  arg_text names the argument in errors.
 */
static PyObject *call(struct py_expr *x, PyObject *args, const char *arg_text, struct err *e)
{
    if (!args) {
        pyb_exc_to_err(e, x->where, "passing the arguments");
        return NULL;
    }
    PyObject *f = pyb_expr_callable(x, e);
    if (!f) {
        Py_DECREF(args);
        return NULL;
    }
    PyObject *r = PyObject_Call(f, args, NULL);
    Py_DECREF(args);
    if (!r) {
        char *what = arg_text ? xasprintf("the expression, called with %s,", arg_text)
                              : xstrdup("the expression");
        pyb_exc_to_err(e, x->where, what);
        free(what);
    }
    return r;
}

bool py_call_str_str(struct py_expr *x, const char *arg, char **out_r, struct err *e)
{
    *out_r = NULL;
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    char *arg_text = xasprintf("'%s'", arg);
    PyObject *r = call(x, Py_BuildValue("(N)", pyb_str(arg)), arg_text, e);
    bool ok = r && pyb_to_cstr(r, false, out_r, x->where, "the expression", e);
    if (ok && !*out_r) {
        char *context = xasprintf(" for %s", arg_text);
        type_error(e, x->where, "the function gives", r, context, "a str");
        free(context);
        ok = false;
    }
    Py_XDECREF(r);
    free(arg_text);
    pyb_gil_give(gs);
    return ok;
}

/* The truth of r (stolen), as Python's "if r:". */
static bool truth(struct py_expr *x, PyObject *r, const char *arg_text, bool *out_r, struct err *e)
{
    if (!r)
        return false;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (t < 0) {
        char *what = xasprintf("the truth value of its result for %s", arg_text);
        pyb_exc_to_err(e, x->where, what);
        free(what);
        return false;
    }
    *out_r = t != 0;
    return true;
}

bool py_call_str_bool(struct py_expr *x, const char *arg, bool *out_r, struct err *e)
{
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    char *arg_text = xasprintf("'%s'", arg);
    bool ok =
        truth(x, call(x, Py_BuildValue("(N)", pyb_str(arg)), arg_text, e), arg_text, out_r, e);
    free(arg_text);
    pyb_gil_give(gs);
    return ok;
}

bool py_call_str2_bool(struct py_expr *x, const char *a, const char *b, bool *out_r, struct err *e)
{
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    char *arg_text = xasprintf("'%s', '%s'", a, b);
    PyObject *args = Py_BuildValue("(NN)", pyb_str(a), pyb_str(b));
    bool ok = truth(x, call(x, args, arg_text, e), arg_text, out_r, e);
    free(arg_text);
    pyb_gil_give(gs);
    return ok;
}

bool py_call_void(struct py_expr *x, struct err *e)
{
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    PyObject *r = call(x, PyTuple_New(0), NULL, e);
    Py_XDECREF(r);
    pyb_gil_give(gs);
    return r != NULL;
}

bool py_call_uidlist(struct py_expr *x, const char *arg, struct uidvec *out, bool *none_r,
                     struct err *e)
{
    *none_r = false;
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    char *arg_text = xasprintf("'%s'", arg);
    PyObject *r = call(x, Py_BuildValue("(N)", pyb_str(arg)), arg_text, e);
    PyObject *it = NULL;
    struct uidvec got = UIDVEC_INIT;
    bool ok = false;
    if (!r)
        goto out;
    if (r == Py_None) {
        *none_r = true;
        ok = true;
        goto out;
    }
    if (PyUnicode_Check(r) || PyBytes_Check(r) || !(it = PyObject_GetIter(r))) {
        PyErr_Clear();
        char *context = xasprintf(" for %s", arg_text);
        type_error(e, x->where, "the function gives", r, context, "a list of UIDs (int) or None");
        free(context);
        goto out;
    }
    PyObject *item;
    size_t n = 0;
    while ((item = PyIter_Next(it))) {
        bool item_ok = ++n <= PYB_MAX_LIST_ITEMS && PyLong_Check(item) && !PyBool_Check(item);
        if (item_ok) {
            /* No UID is 0, negative or above 2^32-1: such numbers can match nothing. */
            int overflow;
            long long uid = PyLong_AsLongLongAndOverflow(item, &overflow);
            if (!overflow && uid > 0 && uid <= UINT32_MAX)
                uidvec_push(&got, (uint32_t)uid);
        } else if (n > PYB_MAX_LIST_ITEMS) {
            err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: the list for %s has more than %u items.",
                    x->where, arg_text, PYB_MAX_LIST_ITEMS);
        } else {
            char *what = xasprintf("item %zu of the list for %s is", n, arg_text);
            type_error(e, x->where, what, item, "", "an int (a UID)");
            free(what);
        }
        Py_DECREF(item);
        if (!item_ok)
            goto out;
    }
    if (PyErr_Occurred()) {
        char *what = xasprintf("the expression, called with %s,", arg_text);
        pyb_exc_to_err(e, x->where, what);
        free(what);
        goto out;
    }
    for (size_t i = 0; i < got.n; i++)
        uidvec_push(out, got.v[i]);
    ok = true;
out:
    uidvec_free(&got);
    Py_XDECREF(it);
    Py_XDECREF(r);
    free(arg_text);
    pyb_gil_give(gs);
    return ok;
}
