/*
 * config_py_plugin: the entry point of offlineimap-python.so, the table of
 * config_py's functions that the program's loader calls through.
 * Compiled into the module only (the unit tests link config_py directly).
 */
#include "config/config_py_internal.h"

#include "config/config_py_plugin.h"

#ifndef OIMAP_VERSION
#error "OIMAP_VERSION (the project version) must be defined by the build"
#endif
#ifndef OIMAP_LIBPYTHON
#error "OIMAP_LIBPYTHON (the libpython linked) must be defined by the build"
#endif

/* Filled in by the entry point: .layout is this build's, computed there. */
static struct config_py_plugin plugin = {
    .abi = CONFIG_PY_PLUGIN_ABI,
    .size = sizeof(struct config_py_plugin),
    .version = OIMAP_VERSION,
    .python = PY_VERSION,
    .libpython = OIMAP_LIBPYTHON,
    .start = py_start,
    .stop = py_stop,
    .expr_new = py_expr_new,
    .expr_free = py_expr_free,
    .expr_where = py_expr_where,
    .eval_str = py_eval_str,
    .eval_int = py_eval_int,
    .eval_strlist = py_eval_strlist,
    .call_str_str = py_call_str_str,
    .call_str_bool = py_call_str_bool,
    .call_str2_bool = py_call_str2_bool,
    .call_void = py_call_void,
    .call_uidlist = py_call_uidlist,
    .sort_names = py_sort_names,
    .sort_mbnames = py_sort_mbnames,
    .format_item = py_format_item,
    .expr_check = py_expr_check,
};

/* Called once, by the loader, before any other function of the module. */
const struct config_py_plugin *offlineimap_python_plugin_1(void)
{
    plugin.layout = config_py_plugin_layout();
    return &plugin;
}
