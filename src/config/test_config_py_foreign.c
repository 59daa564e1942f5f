/*
 * test_config_py_foreign: shared objects that the loader must refuse, for
 * test-config-py-loader.  Built twice: as a module of "another build" (its
 * entry point gives another interface number and version), and with
 * NO_ENTRY as a shared object without the entry point at all.
 */
#include "config/config_py_plugin.h"

#ifdef NO_ENTRY
int test_config_py_foreign_marker(void);
int test_config_py_foreign_marker(void)
{
    return 0;
}
#else
static const struct config_py_plugin foreign = {
    .abi = 999,
    .size = 16,
    .version = "0.0-other",
    .python = "0.0",
    .libpython = "libpython0.0",
};

const struct config_py_plugin *offlineimap_python_plugin_1(void)
{
    return &foreign;
}
#endif
