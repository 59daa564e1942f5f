/*
 * ui_bl: the blinkenlights interface (offlineimap's Curses.Blinkenlights);
 * internal to src/ui.
 *
 * Two halves.  The model (ui_bl_model.c) is plain data with no curses in
 * it: one row per account (plus "*Control" for threads of no account), one
 * light per thread in the account's row with the colour of what that thread
 * does now, the last lines of the log with the colour of the light that
 * spoke them, the countdown to each account's next sync and the copy
 * progress of each thread.  It is changed by the threads that emit events,
 * always under ui->lock, and unit-tested alone.
 *
 * The screen (ui_bl_curses.c) is one thread that owns ncurses: it is the
 * only caller of any curses function.  It sleeps in poll() on the terminal
 * and a wake-up pipe, redraws from the model under ui->lock when woken (at
 * most every BL_REDRAW_MS), blinks the countdown light twice a second,
 * reads the keys, shows the password dialog, follows SIGWINCH, and restores
 * the terminal when it stops.
 *
 * Threads are told apart by a number given to each OS thread the first time
 * it emits (not by name: a folder worker renames itself for every folder but
 * keeps its light).  A thread's light goes black when the thread ends (a
 * thread-specific-data destructor notices it) or when an EV_THREAD_EXIT
 * names it; a black light is taken again by the next new thread of its
 * account, as offlineimap reuses its thread frames.
 */
#ifndef UI_UI_BL_H
#define UI_UI_BL_H

#include "base/buf.h"
#include "base/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_MAX_ACCOUNTS 32           /* more accounts share the *Control row */
#define BL_MAX_LIGHTS_PER_ACCOUNT 64 /* more threads share the last light */
#define BL_LOG_LINES 1000            /* lines kept for redrawing the log pane */
#define BL_LOG_LINE_MAX 8192         /* bytes of one log message kept */
#define BL_REDRAW_MS 40              /* at most 25 redraws a second */

/* The manual's colours (its Tk.Blinkenlights section). */
enum bl_color {
    BL_DEFAULT = 0, /* a new thread that did nothing yet */
    BL_BLACK,       /* the thread ended */
    BL_RED,         /* the main thread; deleting; the countdown (flashing with black) */
    BL_GRAY,        /* connecting; hooks; done sleeping */
    BL_PURPLE,      /* account thread */
    BL_CYAN,        /* syncing a folder */
    BL_GREEN,       /* loading a message list */
    BL_BLUE,        /* folder structure, message sync controller */
    BL_ORANGE,      /* copying a message */
    BL_YELLOW,      /* adding flags */
    BL_PINK,        /* removing flags */
    BL_NCOLORS,
};

struct bl_progress {
    bool on;
    char *folder;
    int64_t num, total, bytes;
};

struct bl_light {
    uint64_t tid; /* the thread it belongs to; 0 when none */
    char *thread; /* the name it last spoke with */
    enum bl_color color;
    bool bold;  /* warnings: bold red */
    bool blink; /* the countdown: red and black in turn */
    bool idle;  /* black: free for the account's next new thread */
    struct bl_progress prog;
};

struct bl_account {
    char *name; /* NULL: "*Control" */
    struct bl_light *lights;
    size_t nlights;
    bool sleeping;
    int64_t sleep_until_ms; /* monotonic time the countdown reaches 0 */
};

struct bl_line {
    char *text;
    enum bl_color color;
    bool bold;
    uint64_t seq;
};

struct bl_model {
    struct bl_account acc[BL_MAX_ACCOUNTS];
    size_t nacc;
    struct bl_line ring[BL_LOG_LINES];
    size_t ring_start, ring_len;
    uint64_t next_seq;   /* sequence number of the next log line */
    uint64_t layout_gen; /* bumped when accounts are added */
    bool dirty;          /* something to redraw */
};

void bl_model_init(struct bl_model *m);
void bl_model_release(struct bl_model *m);

/*
 * The account a thread works for: `account` when not empty, else the one in
 * the name ("Account sync X", "... [acc: X]"), else NULL (*Control).  The
 * result points into `account` or `thread`; *len_r is its length.
 */
const char *bl_thread_account(const char *thread, const char *account, size_t *len_r);

/*
 * The light of thread `tid` (named `thread`) in the row of `account` (NULL or
 * "": *Control), made or moved there if needed.  Returns the account index
 * and sets *light_r.
 */
size_t bl_model_light(struct bl_model *m, uint64_t tid, const char *thread, const char *account,
                      size_t account_len, size_t *light_r);
/* The light of `tid`, or NULL when it has none. */
struct bl_light *bl_model_find(struct bl_model *m, uint64_t tid);

/* Colour a light: blink and progress stop, idle ends. */
void bl_light_set(struct bl_model *m, struct bl_light *l, enum bl_color c, bool bold);

/*
 * What an event does to the thread's light (its colour as in offlineimap's
 * Blinkenlights; EV_PROGRESS updates the progress).  EV_SLEEPING starts or
 * ends the account's countdown; returns true when a sleep starts, for the
 * "Next sync in" message.
 */
bool bl_model_event(struct bl_model *m, size_t acc, struct bl_light *l, const struct log_event *ev,
                    int64_t now_ms);

/* A thread ended: its light goes black and idle. */
void bl_model_thread_gone(struct bl_model *m, uint64_t tid);
/*
 * EV_THREAD_EXIT: the light that last spoke as `thread` goes black and idle,
 * unless it is the light of `caller` (the OS thread reporting the end, which
 * lives on): that one goes black but stays its thread's.
 */
void bl_model_thread_named_gone(struct bl_model *m, const char *thread, uint64_t caller);

/* Append a log line in the colour of light l (NULL: default colour). */
void bl_model_log(struct bl_model *m, const struct bl_light *l, const char *msg);

/* The row's text before its lights: "1: [  4:59]     Personal: ". */
void bl_row_prefix(const struct bl_model *m, size_t acc, int64_t now_ms, struct buf *out);
/* The progress after the lights: " INBOX 12/40 1.2 MiB" per copying thread. */
void bl_row_progress(const struct bl_model *m, size_t acc, struct buf *out);
/* Bytes for people: "512 B", "1.5 KiB", "12.3 MiB", "1.0 GiB". */
void bl_human_bytes(struct buf *out, int64_t bytes);
/* Seconds until the account's next sync (0 when not sleeping). */
int64_t bl_sleep_remaining(const struct bl_account *a, int64_t now_ms);

/* The account of hotkey `digit` (0-9), or NULL; *control_r when it is *Control. */
const struct bl_account *bl_model_hotkey(const struct bl_model *m, int digit, bool *control_r);

#endif
