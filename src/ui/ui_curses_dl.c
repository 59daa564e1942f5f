/*
 * ui_curses_dl: loading ncurses for the blinkenlights interface (see
 * ui_curses_dl.h).
 */
#define CURSES_DL_NO_NAMES 1
#include "ui/ui_curses_dl.h"

#include "base/dl.h"

#include <pthread.h>

struct curses_api curses_dl;

static bool loaded;
static struct err load_err = ERR_INIT;

static void load(void)
{
    /* ncurses 6's ABI; libncursesw.so.6 needs libtinfo.so.6, which the loader maps with it. */
    static const char *const sonames[] = {"libncursesw.so.6", NULL};
    static const struct dl_lib lib = {"ncurses", sonames, "libncursesw6",
                                      "which draws the blinkenlights interface"};
    struct curses_api api;
#define CURSES_DL_SYM(name) {#name, &api.name},
    const struct dl_sym syms[] = {CURSES_DL_FUNCS(CURSES_DL_SYM) CURSES_DL_VARS(CURSES_DL_SYM)};
#undef CURSES_DL_SYM
    if (!dl_load(&lib, syms, sizeof(syms) / sizeof(syms[0]), NULL, &load_err))
        return;
    curses_dl = api;
    loaded = true; /* the library stays loaded until the program ends */
}

bool ui_curses_dl_load(struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    if (!loaded)
        err_set(e, ERR_CRITICAL, ERRK_GENERIC, "%s", load_err.msg);
    return loaded;
}
