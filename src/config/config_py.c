/*
 * config_py: the interpreter's life (start, pythonfile, stop), the GIL,
 * error formatting and compiled expressions.  The evaluations themselves
 * are in config_py_eval.c.
 *
 * State: one interpreter per process.  py_state goes NEW -> RUNNING ->
 * STOPPED (or NEW -> FAILED when the interpreter cannot start); it is read
 * without a lock (atomic) and changed under start_lock.  The Python objects
 * below (helper functions, re, the namespace) are only touched with the GIL.
 */
#include "config/config_py_internal.h"

#include "config/config_py.h"

#include "base/xalloc.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum pyb_state { PYB_NEW = 0, PYB_RUNNING, PYB_STOPPED, PYB_FAILED };

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int py_state = PYB_NEW;
static char *start_failure;        /* why the interpreter could not start (FAILED) */
static PyThreadState *main_tstate; /* saved by PyEval_SaveThread() after start */
static pthread_t start_thread;

/* With the GIL. */
static PyObject *helper_fns[PYB_NFN];
static PyObject *re_module;
static PyObject *namespace; /* the pythonfile's names; NULL until py_start() */
static char *peritem_where;

static const char *const helper_names[PYB_NFN] = {
    [PYB_FORMAT_EXC] = "format_exc",           [PYB_FORMAT_SYNTAX] = "format_syntax",
    [PYB_REMEMBER_SOURCE] = "remember_source", [PYB_READ_PYTHONFILE] = "read_pythonfile",
    [PYB_RUN_PYTHONFILE] = "run_pythonfile",   [PYB_SORT_NAMES] = "sort_names",
    [PYB_SORT_ITEMS] = "sort_items",           [PYB_CHECK_EXPR] = "check_expr",
};

/* ---- starting and stopping ---------------------------------------------- */

static char *status_message(PyStatus st)
{
    if (st.func)
        return xasprintf("%s: %s", st.func, st.err_msg ? st.err_msg : "failed");
    return xstrdup(st.err_msg ? st.err_msg : "failed");
}

/* Run the helper module and keep its functions and re; with the GIL. */
static char *load_helper(void)
{
    PyObject *code = Py_CompileString(pyb_helper_source, PYB_HELPER_FILE, Py_file_input);
    PyObject *mod = code ? PyImport_ExecCodeModule("_offlineimap_bridge", code) : NULL;
    Py_XDECREF(code);
    re_module = mod ? PyImport_ImportModule("re") : NULL;
    /*
     * Importing signal installs Python's SIGINT handler when SIGINT is at
     * SIG_DFL, even with install_signal_handlers off; import it now, while
     * the caller restores its own disposition afterwards.
     */
    PyObject *sig = re_module ? PyImport_ImportModule("signal") : NULL;
    Py_XDECREF(sig);
    for (int i = 0; sig && i < PYB_NFN; i++)
        if (!(helper_fns[i] = PyObject_GetAttrString(mod, helper_names[i])))
            break;
    Py_XDECREF(mod);
    if (!PyErr_Occurred())
        return NULL;
    PyObject *exc = pyb_fetch();
    PyObject *s = exc ? PyObject_Str(exc) : NULL;
    const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
    char *failure =
        xasprintf("its helper module could not be loaded (%s%s%s); is the Python "
                  "standard library installed?",
                  exc ? Py_TYPE(exc)->tp_name : "error", msg ? ": " : "", msg ? msg : "");
    PyErr_Clear();
    Py_XDECREF(s);
    Py_XDECREF(exc);
    return failure;
}

/* Start the interpreter; called with start_lock held. */
static bool core_start_locked(struct err *e)
{
    switch (atomic_load(&py_state)) {
    case PYB_RUNNING:
        return true;
    case PYB_STOPPED:
        err_set(e, ERR_CRITICAL, ERRK_GENERIC, "The embedded Python was already stopped.");
        return false;
    case PYB_FAILED:
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "The embedded Python could not start: %s.",
                start_failure);
        return false;
    }

    struct sigaction old_int;
    sigaction(SIGINT, NULL, &old_int);

    /*
     * Isolated: no user site directory, no PYTHON* environment variables, no
     * signal handlers, no .pyc files written next to the pythonfile.  The
     * standard library and the system's site-packages stay on the path.
     * UTF-8 mode, as a normal python3 has it in C and UTF-8 locales.
     */
    PyPreConfig pre;
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.utf8_mode = 1;
    PyStatus st = Py_PreInitialize(&pre);
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.write_bytecode = 0;
    config.install_signal_handlers = 0;
    config.site_import = 1;
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    char *failure = NULL;
    if (PyStatus_Exception(st))
        failure = status_message(st);
    else
        failure = load_helper();
    sigaction(SIGINT, &old_int, NULL);
    if (failure) {
        start_failure = failure;
        atomic_store(&py_state, PYB_FAILED);
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "The embedded Python could not start: %s.",
                start_failure);
        return false;
    }
    start_thread = pthread_self();
    main_tstate = PyEval_SaveThread();
    atomic_store(&py_state, PYB_RUNNING);
    return true;
}

bool pyb_core_start(struct err *e)
{
    if (atomic_load(&py_state) == PYB_RUNNING)
        return true;
    pthread_mutex_lock(&start_lock);
    bool ok = core_start_locked(e);
    pthread_mutex_unlock(&start_lock);
    return ok;
}

bool pyb_gil_take(PyGILState_STATE *st_r, const char *what, struct err *e)
{
    if (atomic_load(&py_state) != PYB_RUNNING) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                "%s: the embedded Python is not running (py_start() was not called or failed).",
                what);
        return false;
    }
    *st_r = PyGILState_Ensure();
    return true;
}

void pyb_gil_give(PyGILState_STATE st)
{
    PyGILState_Release(st);
}

static char *pythonfile_where(const struct config *cfg)
{
    const char *file = cfg->ini ? cfg->ini->display : cfg->path;
    if (cfg->general.pythonfile_line)
        return xasprintf("%s line %u: [general] pythonfile", file, cfg->general.pythonfile_line);
    return xasprintf("%s: [general] pythonfile", file);
}

/* Run the pythonfile into namespace; with the GIL. */
static bool load_pythonfile(const struct config *cfg, struct err *e)
{
    const char *path = cfg->general.pythonfile;
    char *where = pythonfile_where(cfg);
    bool ok = false;
    PyObject *res = PyObject_CallFunction(pyb_fn(PYB_READ_PYTHONFILE), "N", pyb_str(path));
    if (!res) {
        if (PyErr_ExceptionMatches(PyExc_SyntaxError)) {
            PyObject *exc = pyb_fetch();
            char *msg, *detail;
            long lineno, offset;
            if (pyb_syntax_parts(exc, &msg, &lineno, &offset, &detail)) {
                char pos[96] = "";
                if (lineno > 0 && offset > 0)
                    snprintf(pos, sizeof(pos), " (line %ld, column %ld)", lineno, offset);
                else if (lineno > 0)
                    snprintf(pos, sizeof(pos), " (line %ld)", lineno);
                err_set(e, ERR_CRITICAL, ERRK_CONFIG, "%s: %s is not valid Python: %s%s%s%s", where,
                        path, msg, pos, *detail ? "\n" : "", detail);
                free(msg);
                free(detail);
            } else {
                err_set(e, ERR_CRITICAL, ERRK_CONFIG, "%s: %s is not valid Python.", where, path);
            }
            Py_XDECREF(exc);
        } else {
            pyb_exc_to_err(e, where, "loading the file");
            e->scope = ERR_CRITICAL;
        }
        goto out;
    }
    PyObject *code = PyTuple_GetItem(res, 0);
    PyObject *msg = PyTuple_GetItem(res, 1);
    if (code == Py_None) {
        const char *m = PyUnicode_AsUTF8(msg);
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "%s: %s.", where, m ? m : "cannot read the file");
        PyErr_Clear();
        goto out;
    }
    PyObject *ns = PyObject_CallFunction(pyb_fn(PYB_RUN_PYTHONFILE), "NO", pyb_str(path), code);
    if (!ns) {
        char *what = xasprintf("running %s", path);
        pyb_exc_to_err(e, where, what);
        e->scope = ERR_CRITICAL;
        free(what);
        goto out;
    }
    namespace = ns;
    ok = true;
out:
    Py_XDECREF(res);
    free(where);
    return ok;
}

bool py_start(const struct config *cfg, struct err *e)
{
    pthread_mutex_lock(&start_lock);
    bool ok = core_start_locked(e);
    if (ok) {
        PyGILState_STATE gs = PyGILState_Ensure();
        if (!peritem_where && cfg->mbnames.peritem) {
            const char *file = cfg->ini ? cfg->ini->display : cfg->path;
            peritem_where =
                xasprintf("%s line %u: [mbnames] peritem", file, cfg->mbnames.peritem_line);
        }
        /* A failed pythonfile is tried again next time, as offlineimap does. */
        if (!namespace) {
            if (cfg->general.pythonfile) {
                ok = load_pythonfile(cfg, e);
            } else {
                namespace = PyDict_New();
                ok = namespace != NULL;
                if (!ok)
                    pyb_exc_to_err(e, "py_start", "creating the namespace");
            }
        }
        PyGILState_Release(gs);
    }
    pthread_mutex_unlock(&start_lock);
    return ok;
}

void py_stop(void)
{
    pthread_mutex_lock(&start_lock);
    if (atomic_load(&py_state) == PYB_FAILED)
        atomic_store(&py_state, PYB_STOPPED);
    if (atomic_load(&py_state) == PYB_RUNNING) {
        atomic_store(&py_state, PYB_STOPPED);
        /*
         * Python must be finalised by the thread that initialised it.  From
         * any other thread the interpreter is left to the process exit.
         */
        if (pthread_equal(start_thread, pthread_self())) {
            PyEval_RestoreThread(main_tstate);
            for (int i = 0; i < PYB_NFN; i++)
                Py_CLEAR(helper_fns[i]);
            Py_CLEAR(re_module);
            Py_CLEAR(namespace);
            /* A failure here (an atexit function raised) has no one to tell. */
            (void)Py_FinalizeEx();
        }
        main_tstate = NULL;
    }
    XFREE(peritem_where);
    XFREE(start_failure);
    pthread_mutex_unlock(&start_lock);
}

PyObject *pyb_fn(enum pyb_fn fn)
{
    return helper_fns[fn];
}

PyObject *pyb_globals(bool with_re)
{
    if (!namespace)
        return NULL;
    PyObject *g = PyDict_Copy(namespace);
    if (!g)
        return NULL;
    /* eval() puts the builtins in a namespace that lacks them. */
    if ((with_re && PyDict_SetItemString(g, "re", re_module) < 0) ||
        (!PyDict_GetItemString(g, "__builtins__") &&
         PyDict_SetItemString(g, "__builtins__", PyEval_GetBuiltins()) < 0))
        Py_CLEAR(g);
    return g;
}

const char *pyb_peritem_where(void)
{
    return peritem_where ? peritem_where : "[mbnames] peritem";
}
