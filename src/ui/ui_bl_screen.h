/*
 * ui_bl_screen: the blinkenlights screen thread's state (ui_bl_curses.c
 * runs it, ui_bl_draw.c draws it); internal to src/ui.
 *
 * Fields under "shared" change under ui->lock; fields under "screen thread"
 * are touched by the screen thread only (after start-up), which is the only
 * thread that calls curses.
 */
#ifndef UI_UI_BL_SCREEN_H
#define UI_UI_BL_SCREEN_H

#include "ui/ui_bl.h"
#include "ui/ui_internal.h"

#include "ui/ui_curses_dl.h"

#include <pthread.h>
#include <stdatomic.h>

#define BL_PASSWORD_MAX 4096

struct ui_bl_password {
    bool pending; /* a thread waits for the dialog */
    bool done, ok;
    char *user;
    struct buf input; /* BL_PASSWORD_MAX, wiped after use */
};

struct ui_bl {
    struct ui *ui;
    pthread_t thread;
    int wake_r, wake_w;
    atomic_bool wake_pending;
    FILE *out, *in;
    int out_fd, in_fd;
    bool keys; /* stdin is a terminal: keys and the password dialog work */
    uint64_t main_tid;
    pthread_cond_t cond; /* start-up, password dialog */

    /* shared */
    struct bl_model model;
    bool stop;
    bool init_done, init_ok;
    char init_err[512];
    struct ui_bl_password pw;

    /* screen thread */
    SCREEN *scr;
    WINDOW *banner, *logwin, *accwin, *dialog;
    int rows, cols;
    size_t shown_acc;
    uint64_t drawn_layout, drawn_seq;
    bool relayout;
    unsigned quits; /* 'q' presses so far */
    bool colors, colors256;
    int64_t last_draw_ms;
};

/* ui_bl_draw.c */
void bl_draw_init_colors(struct ui_bl *bl);
/* Redraw what changed; with ui->lock held.  Returns true if something blinks. */
bool bl_draw(struct ui_bl *bl, int64_t now_ms);
void bl_draw_free_windows(struct ui_bl *bl);

#endif
