/*
 * config_py_check: py_expr_check() for --check-config (see config_py.h).
 * The work is the helper module's check_expr(); this passes the compiled
 * code, the namespace the expression would run in, and the arguments its
 * option is called with.
 */
#include "config/config_py_internal.h"

#include "config/config_py.h"

#include <stdlib.h>

bool py_expr_check(struct py_expr *x, enum py_check how, struct err *e)
{
    long nargs = how == PY_CHECK_NAMES ? -1
                 : how == PY_CHECK_FN0 ? 0
                 : how == PY_CHECK_FN1 ? 1
                 : how == PY_CHECK_FN2 ? 2
                                       : 3;
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    bool ok = false;
    PyObject *g = pyb_globals(x->with_re);
    if (!g) {
        if (PyErr_Occurred())
            pyb_exc_to_err(e, x->where, "preparing the namespace");
        else
            err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                    "%s: the embedded Python has no namespace (py_start() was not called).",
                    x->where);
        goto out;
    }
    PyObject *r = PyObject_CallFunction(pyb_fn(PYB_CHECK_EXPR), "OOl", x->code, g, nargs);
    Py_DECREF(g);
    if (!r) {
        pyb_exc_to_err(e, x->where, "the expression");
    } else if (r == Py_None) {
        ok = true;
    } else {
        char *what = NULL;
        struct err ce = ERR_INIT;
        if (pyb_to_cstr(r, false, &what, x->where, "the check", &ce) && what)
            err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: %s.", x->where, what);
        else
            err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: the check failed.", x->where);
        err_clear(&ce);
        free(what);
    }
    Py_XDECREF(r);
out:
    pyb_gil_give(gs);
    return ok;
}
