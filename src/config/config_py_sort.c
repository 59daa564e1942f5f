/*
 * config_py_sort: foldersort, mbnames' sort_keyfunc and peritem.
 *
 * The sorts run in Python (the helper module's sort_names and sort_items,
 * stable like list.sort) over the indices of the names, and the C vectors
 * are then put in that order: the strings never make a round trip.
 */
#include "config/config_py_internal.h"

#include "config/config_py.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* A new list of str from n C strings; NULL with a Python exception. */
static PyObject *str_list(char *const *v, size_t n)
{
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++) {
        PyObject *s = pyb_str(v[i]);
        if (!s)
            Py_CLEAR(l);
        else
            PyList_SET_ITEM(l, (Py_ssize_t)i, s);
    }
    return l;
}

/*
 * order (a list the helper returned) as n indices, checked to be a
 * permutation of 0..n-1; a new array, or NULL.
 */
static size_t *permutation(PyObject *order, size_t n)
{
    if (!PyList_Check(order) || (size_t)PyList_GET_SIZE(order) != n)
        return NULL;
    size_t *idx = xcalloc(n ? n : 1, sizeof(*idx));
    bool *seen = xcalloc(n ? n : 1, sizeof(*seen));
    bool ok = true;
    for (size_t k = 0; ok && k < n; k++) {
        size_t i = PyLong_AsSize_t(PyList_GET_ITEM(order, (Py_ssize_t)k));
        ok = !PyErr_Occurred() && i < n && !seen[i];
        if (ok) {
            seen[i] = true;
            idx[k] = i;
        }
    }
    PyErr_Clear();
    free(seen);
    if (!ok)
        XFREE(idx);
    return idx;
}

static void apply_permutation(char **v, const size_t *idx, size_t n)
{
    if (n == 0)
        return;
    char **tmp = xreallocarray(NULL, n, sizeof(*tmp));
    for (size_t k = 0; k < n; k++)
        tmp[k] = v[idx[k]];
    memcpy(v, tmp, n * sizeof(*tmp));
    free(tmp);
}

/* Call the helper sort function fn with f and lists; the order, or NULL with e set. */
static size_t *sorted_order(struct py_expr *x, enum pyb_fn fn, PyObject *lists[], size_t nlists,
                            size_t n, struct err *e)
{
    PyObject *f = pyb_expr_callable(x, e);
    if (!f)
        return NULL;
    PyObject *args = PyTuple_New((Py_ssize_t)nlists + 1);
    if (!args) {
        pyb_exc_to_err(e, x->where, "sorting");
        return NULL;
    }
    PyTuple_SET_ITEM(args, 0, Py_NewRef(f));
    for (size_t i = 0; i < nlists; i++)
        PyTuple_SET_ITEM(args, (Py_ssize_t)i + 1, Py_NewRef(lists[i]));
    PyObject *order = PyObject_Call(pyb_fn(fn), args, NULL);
    Py_DECREF(args);
    if (!order) {
        pyb_exc_to_err(e, x->where, "the expression");
        return NULL;
    }
    size_t *idx = permutation(order, n);
    Py_DECREF(order);
    if (!idx)
        err_set(e, ERR_FOLDER, ERRK_CONFIG, "%s: sorting gave no valid order (internal error).",
                x->where);
    return idx;
}

bool py_sort_names(struct py_expr *x, struct strvec *names, struct err *e)
{
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    bool ok = false;
    PyObject *list = str_list(names->v, names->n);
    if (!list) {
        pyb_exc_to_err(e, x->where, "preparing the names");
    } else {
        size_t *idx = sorted_order(x, PYB_SORT_NAMES, &list, 1, names->n, e);
        if (idx) {
            apply_permutation(names->v, idx, names->n);
            free(idx);
            ok = true;
        }
    }
    Py_XDECREF(list);
    pyb_gil_give(gs);
    return ok;
}

bool py_sort_mbnames(struct py_expr *x, struct strvec *accounts, struct strvec *folders,
                     struct strvec *localfolders, struct err *e)
{
    size_t n = accounts->n;
    if (folders->n != n || localfolders->n != n) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                "%s: py_sort_mbnames() was given vectors of different lengths.", x->where);
        return false;
    }
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, x->where, e))
        return false;
    struct strvec *vecs[3] = {accounts, folders, localfolders};
    PyObject *lists[3] = {NULL, NULL, NULL};
    bool ok = true;
    for (size_t i = 0; ok && i < 3; i++)
        ok = (lists[i] = str_list(vecs[i]->v, n)) != NULL;
    if (!ok) {
        pyb_exc_to_err(e, x->where, "preparing the items");
    } else {
        size_t *idx = sorted_order(x, PYB_SORT_ITEMS, lists, 3, n, e);
        ok = idx != NULL;
        for (size_t i = 0; ok && i < 3; i++)
            apply_permutation(vecs[i]->v, idx, n);
        free(idx);
    }
    for (size_t i = 0; i < 3; i++)
        Py_XDECREF(lists[i]);
    pyb_gil_give(gs);
    return ok;
}

bool py_format_item(const char *peritem, const char *account, const char *folder,
                    const char *localfolders, char **out_r, struct err *e)
{
    *out_r = NULL;
    if (!pyb_core_start(e))
        return false;
    PyGILState_STATE gs;
    if (!pyb_gil_take(&gs, "[mbnames] peritem", e))
        return false;
    const char *where = pyb_peritem_where();
    PyObject *fmt = pyb_str(peritem);
    PyObject *item = Py_BuildValue("{sNsNsN}", "accountname", pyb_str(account), "foldername",
                                   pyb_str(folder), "localfolders", pyb_str(localfolders));
    PyObject *r = fmt && item ? PyUnicode_Format(fmt, item) : NULL;
    char *what = xasprintf("formatting the item for account '%s', folder '%s',", account, folder);
    bool ok = false;
    if (!r)
        pyb_exc_to_err(e, where, what);
    else
        ok = pyb_to_cstr(r, false, out_r, where, what, e); /* r is a str */
    free(what);
    Py_XDECREF(r);
    Py_XDECREF(item);
    Py_XDECREF(fmt);
    pyb_gil_give(gs);
    return ok;
}
