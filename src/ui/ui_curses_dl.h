/*
 * ui_curses_dl: ncurses, loaded when the blinkenlights interface starts.
 *
 * Only the curses interface needs ncurses; a program linked with it would
 * map libncursesw and libtinfo in every run, about 260 kB of relocations and
 * symbol tables.  So the program is not linked with it: the screen thread
 * calls ui_curses_dl_load() before it first touches the terminal, which
 * dlopen()s libncursesw.so.6 (it brings libtinfo.so.6) and fills curses_dl
 * with the functions, and the addresses of the variables, that
 * ui_bl_curses.c and ui_bl_draw.c use.  Those files include this header
 * instead of <curses.h>: the names of the functions then stand for
 * curses_dl.xxx and those of the variables (stdscr, COLORS, ...) for
 * *curses_dl.xxx, so their code, and the macros of <curses.h> that call or
 * read them (getch, box, getmaxyx(stdscr, ...)), read as ordinary curses
 * code.  Constants (A_*, KEY_*, COLOR_*, COLOR_PAIR) come from the header.
 *
 * A name used in those files that is missing here is a link error of the
 * program (it is not linked with ncurses), never a silent fallback.
 */
#ifndef UI_UI_CURSES_DL_H
#define UI_UI_CURSES_DL_H

#include "base/err.h"

#include <curses.h>
#include <stdbool.h>
#include <term.h>

#if NCURSES_REENTRANT
#error "a reentrant ncurses reads stdscr, COLORS, ... through functions: list those instead"
#endif

#define CURSES_DL_FUNCS(X)                                                                         \
    X(cbreak)                                                                                      \
    X(clearok)                                                                                     \
    X(curs_set)                                                                                    \
    X(del_curterm)                                                                                 \
    X(delscreen)                                                                                   \
    X(delwin)                                                                                      \
    X(doupdate)                                                                                    \
    X(endwin)                                                                                      \
    X(has_colors)                                                                                  \
    X(idlok)                                                                                       \
    X(init_pair)                                                                                   \
    X(keypad)                                                                                      \
    X(newterm)                                                                                     \
    X(newwin)                                                                                      \
    X(nodelay)                                                                                     \
    X(noecho)                                                                                      \
    X(nonl)                                                                                        \
    X(resizeterm)                                                                                  \
    X(scrollok)                                                                                    \
    X(set_escdelay)                                                                                \
    X(set_term)                                                                                    \
    X(setupterm)                                                                                   \
    X(start_color)                                                                                 \
    X(tigetstr)                                                                                    \
    X(use_default_colors)                                                                          \
    X(waddch)                                                                                      \
    X(waddnstr)                                                                                    \
    X(wattrset)                                                                                    \
    X(wbkgd)                                                                                       \
    X(wborder)                                                                                     \
    X(werase)                                                                                      \
    X(wgetch)                                                                                      \
    X(wmove)                                                                                       \
    X(wnoutrefresh)

/* Variables: their addresses are resolved like functions. */
#define CURSES_DL_VARS(X)                                                                          \
    X(COLORS)                                                                                      \
    X(COLOR_PAIRS)                                                                                 \
    X(cur_term)                                                                                    \
    X(curscr)                                                                                      \
    X(stdscr)

struct curses_api {
#define CURSES_DL_MEMBER(name) __typeof__(&name) name;
    CURSES_DL_FUNCS(CURSES_DL_MEMBER)
    CURSES_DL_VARS(CURSES_DL_MEMBER)
#undef CURSES_DL_MEMBER
};

/* Written once by the first successful ui_curses_dl_load(), read-only after. */
extern struct curses_api curses_dl;

/*
 * Loads the library once (thread-safe); false, with e saying what is missing
 * and what to install, if it cannot be loaded or lacks a name.
 */
bool ui_curses_dl_load(struct err *e);

#ifndef CURSES_DL_NO_NAMES
#define cbreak curses_dl.cbreak
#define clearok curses_dl.clearok
#define curs_set curses_dl.curs_set
#define del_curterm curses_dl.del_curterm
#define delscreen curses_dl.delscreen
#define delwin curses_dl.delwin
#define doupdate curses_dl.doupdate
#define endwin curses_dl.endwin
#define has_colors curses_dl.has_colors
#define idlok curses_dl.idlok
#define init_pair curses_dl.init_pair
#define keypad curses_dl.keypad
#define newterm curses_dl.newterm
#define newwin curses_dl.newwin
#define nodelay curses_dl.nodelay
#define noecho curses_dl.noecho
#define nonl curses_dl.nonl
#define resizeterm curses_dl.resizeterm
#define scrollok curses_dl.scrollok
#define set_escdelay curses_dl.set_escdelay
#define set_term curses_dl.set_term
#define setupterm curses_dl.setupterm
#define start_color curses_dl.start_color
#define tigetstr curses_dl.tigetstr
#define use_default_colors curses_dl.use_default_colors
#define waddch curses_dl.waddch
#define waddnstr curses_dl.waddnstr
#define wattrset curses_dl.wattrset
#define wbkgd curses_dl.wbkgd
#define wborder curses_dl.wborder
#define werase curses_dl.werase
#define wgetch curses_dl.wgetch
#define wmove curses_dl.wmove
#define wnoutrefresh curses_dl.wnoutrefresh
#define COLORS (*curses_dl.COLORS)
#define COLOR_PAIRS (*curses_dl.COLOR_PAIRS)
#define cur_term (*curses_dl.cur_term)
#define curscr (*curses_dl.curscr)
#define stdscr (*curses_dl.stdscr)
#endif

#endif
