/*
 * The blinkenlights screen thread (see ui_bl.h): start-up and the terminal
 * checks, the poll loop, keys, the password dialog, SIGWINCH, and putting
 * the terminal back on every way out (ui_bl_stop, exit(), fatal signals,
 * ui_restore_terminal() from a signal handler).
 *
 * Signals: this thread blocks every signal but SIGWINCH, so process signals
 * (SIGTERM, SIGUSR1, ...) go to the program's own handling and never run
 * ncurses' handlers here.  SIGWINCH has our handler (installed before
 * newterm, so ncurses does not install its own): it writes a byte into the
 * wake-up pipe, whichever thread it interrupts.  The terminal size is also
 * checked every second, for a SIGWINCH that something else swallowed.
 */
#include "ui/ui_bl_screen.h"

#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* ---- thread identities ------------------------------------------------- */

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t tid_key;
static atomic_uint_fast64_t tid_counter;
static _Thread_local uint64_t tl_tid;

/* The ui whose screen is up, for the thread-exit destructor. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ui *live_ui;

static void wake(struct ui_bl *bl)
{
    if (!atomic_exchange(&bl->wake_pending, true)) {
        char c = 'w';
        ssize_t n = write(bl->wake_w, &c, 1);
        (void)n;
    }
}

static void thread_gone(void *value)
{
    uint64_t tid = (uint64_t)(uintptr_t)value;
    pthread_mutex_lock(&live_lock);
    struct ui *ui = live_ui;
    if (ui) {
        pthread_mutex_lock(&ui->lock);
        if (ui->bl) {
            bl_model_thread_gone(&ui->bl->model, tid);
            wake(ui->bl);
        }
        pthread_mutex_unlock(&ui->lock);
    }
    pthread_mutex_unlock(&live_lock);
}

static void make_key(void)
{
    if (pthread_key_create(&tid_key, thread_gone) != 0)
        abort();
}

static uint64_t my_tid(void)
{
    if (!tl_tid) {
        pthread_once(&key_once, make_key);
        tl_tid = atomic_fetch_add(&tid_counter, 1) + 1;
        pthread_setspecific(tid_key, (void *)(uintptr_t)tl_tid);
    }
    return tl_tid;
}

/* ---- restoring the terminal from anywhere ------------------------------- */

static volatile sig_atomic_t restore_armed;
static int restore_fd = -1;
static struct termios restore_tio;
static bool restore_tio_ok;
static char restore_seq[256];
static size_t restore_len;
static int winch_fd = -1;
static struct sigaction old_winch;
static bool handlers_installed;

/*
 * Signals whose default action kills the process: while the screen is up
 * and nothing else handles them, a handler puts the terminal back first.
 * The first four are the screen thread's own faults; the rest are for the
 * program, and whoever installs a handler for them later replaces ours
 * (then the program's way out, through ui_terminate(), restores the
 * terminal).  Installed after newterm() so that ncurses' own SIGINT and
 * SIGTERM handlers, which call curses from a signal handler, are replaced.
 */
static const int dying_signals[] = {SIGSEGV, SIGBUS,  SIGILL, SIGFPE, SIGABRT,
                                    SIGINT,  SIGTERM, SIGHUP, SIGQUIT};
#define N_SYNC_FAULTS 4
#define N_DYING (sizeof(dying_signals) / sizeof(dying_signals[0]))
static bool dying_was_default[N_DYING];

void ui_restore_terminal(void)
{
    if (!restore_armed)
        return;
    restore_armed = 0;
    size_t off = 0;
    while (off < restore_len) {
        ssize_t n = write(restore_fd, restore_seq + off, restore_len - off);
        if (n <= 0 && errno != EINTR)
            break;
        if (n > 0)
            off += (size_t)n;
    }
    if (restore_tio_ok)
        tcsetattr(restore_fd, TCSANOW, &restore_tio);
}

static void restore_at_exit(void)
{
    ui_restore_terminal();
}

static void fatal_handler(int sig)
{
    ui_restore_terminal();
    /* SA_RESETHAND put the default action back: die as the signal meant. */
    raise(sig);
}

static void winch_handler(int sig)
{
    (void)sig;
    int saved = errno;
    if (winch_fd >= 0) {
        char c = 'r';
        ssize_t n = write(winch_fd, &c, 1);
        (void)n;
    }
    errno = saved;
}

static void add_cap(const char *name)
{
    char *s = tigetstr(name);
    if (!s || s == (char *)-1)
        return;
    size_t len = strlen(s);
    if (restore_len + len < sizeof(restore_seq)) {
        memcpy(restore_seq + restore_len, s, len);
        restore_len += len;
    }
}

static bool is_default(int sig)
{
    struct sigaction cur;
    return sigaction(sig, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
           cur.sa_handler == SIG_DFL;
}

/* Before newterm(): our SIGWINCH handler, and which dying signals are free. */
static void install_handlers(struct ui_bl *bl)
{
    static bool atexit_done;
    if (!atexit_done && atexit(restore_at_exit) == 0)
        atexit_done = true;
    for (size_t i = 0; i < N_DYING; i++)
        dying_was_default[i] = is_default(dying_signals[i]);
    winch_fd = bl->wake_w;
    struct sigaction sa = {0};
    sa.sa_handler = winch_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, &old_winch);
    handlers_installed = true;
}

/* After newterm(): the restoring handler on the dying signals. */
static void install_dying_handlers(void)
{
    for (size_t i = 0; i < N_DYING; i++) {
        if (!dying_was_default[i])
            continue;
        struct sigaction fa = {0};
        fa.sa_handler = fatal_handler;
        fa.sa_flags = (int)SA_RESETHAND;
        sigemptyset(&fa.sa_mask);
        sigaction(dying_signals[i], &fa, NULL);
    }
}

static void remove_handlers(void)
{
    if (!handlers_installed)
        return;
    sigaction(SIGWINCH, &old_winch, NULL);
    winch_fd = -1;
    for (size_t i = 0; i < N_DYING; i++) {
        struct sigaction cur;
        /* A handler someone installed meanwhile stays. */
        if (sigaction(dying_signals[i], NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) ||
            cur.sa_handler != fatal_handler)
            continue;
        struct sigaction dfl = {0};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(dying_signals[i], &dfl, NULL);
    }
    handlers_installed = false;
}

/* ---- the screen --------------------------------------------------------- */

static bool screen_start(struct ui_bl *bl)
{
    const char *term = getenv("TERM");
    if (!isatty(bl->out_fd)) {
        snprintf(bl->init_err, sizeof(bl->init_err),
                 "The blinkenlights interface needs a terminal, and standard output is not "
                 "one.");
        return false;
    }
    if (!term || !*term) {
        snprintf(bl->init_err, sizeof(bl->init_err),
                 "The blinkenlights interface needs the terminal type, and TERM is not set.");
        return false;
    }
    struct err le = ERR_INIT;
    if (!ui_curses_dl_load(&le)) {
        snprintf(bl->init_err, sizeof(bl->init_err), "%s", le.msg);
        err_clear(&le);
        return false;
    }
    /* setupterm with an error pointer reports instead of exiting. */
    int errret = 0;
    if (setupterm(term, bl->out_fd, &errret) != OK) {
        snprintf(bl->init_err, sizeof(bl->init_err),
                 "The blinkenlights interface cannot use the terminal type '%.100s' (TERM): "
                 "it is not in the terminfo database.",
                 term);
        return false;
    }
    char *cup = tigetstr("cup");
    del_curterm(cur_term);
    if (!cup || cup == (char *)-1) {
        snprintf(bl->init_err, sizeof(bl->init_err),
                 "The blinkenlights interface cannot use the terminal type '%.100s' (TERM): "
                 "it cannot move the cursor.",
                 term);
        return false;
    }
    restore_tio_ok = tcgetattr(bl->out_fd, &restore_tio) == 0;
    install_handlers(bl);
    bl->scr = newterm(term, bl->out, bl->in);
    if (!bl->scr) {
        remove_handlers();
        snprintf(bl->init_err, sizeof(bl->init_err),
                 "The blinkenlights interface could not start curses on this terminal.");
        return false;
    }
    set_term(bl->scr);
    install_dying_handlers();
    restore_len = 0;
    add_cap("sgr0");
    add_cap("cnorm");
    add_cap("rmkx");
    add_cap("rmcup");
    restore_fd = bl->out_fd;
    restore_armed = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    bl_draw_init_colors(bl);
    getmaxyx(stdscr, bl->rows, bl->cols);
    bl->relayout = true;
    return true;
}

static void screen_end(struct ui_bl *bl)
{
    if (!bl->scr)
        return;
    bl_draw_free_windows(bl);
    curs_set(1);
    endwin();
    restore_armed = 0;
    delscreen(bl->scr);
    bl->scr = NULL;
    remove_handlers();
}

static void check_size(struct ui_bl *bl)
{
    struct winsize ws;
    if (ioctl(bl->out_fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0)
        return;
    if (ws.ws_row == bl->rows && ws.ws_col == bl->cols)
        return;
    resizeterm(ws.ws_row, ws.ws_col);
    bl->rows = ws.ws_row;
    bl->cols = ws.ws_col;
    bl->relayout = true;
}

/* ---- keys --------------------------------------------------------------- */

static bool has_handler(int sig)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) != 0)
        return false;
    if (cur.sa_flags & SA_SIGINFO)
        return true;
    return cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN;
}

static void key_quit(struct ui_bl *bl)
{
    struct ui *ui = bl->ui;
    bool again = bl->quits++ > 0;
    if (again) {
        log_warn("Requested immediate shutdown via 'q'");
    } else {
        log_warn("Requested shutdown via 'q'");
        bl->relayout = true; /* the banner now tells what a second 'q' does */
    }
    pthread_mutex_lock(&ui->lock);
    struct ui_control ctl = ui->control;
    pthread_mutex_unlock(&ui->lock);
    void (*fn)(void *) = again ? ctl.quit_now : ctl.quit;
    if (fn) {
        fn(ctl.ctx);
        return;
    }
    /* As offlineimap: 'q' is what SIGTERM does. */
    if (!has_handler(SIGTERM))
        screen_end(bl);
    kill(getpid(), SIGTERM);
}

static void key_sync(struct ui_bl *bl, int digit)
{
    struct ui *ui = bl->ui;
    pthread_mutex_lock(&ui->lock);
    bool control = false;
    const struct bl_account *acc = bl_model_hotkey(&bl->model, digit, &control);
    char *name = acc && !control ? xstrdup(acc->name) : NULL;
    struct ui_control ctl = ui->control;
    pthread_mutex_unlock(&ui->lock);
    if (!name)
        return;
    log_info("Requested synchronization for acc: %s", name);
    if (ctl.sync_now)
        ctl.sync_now(ctl.ctx, name);
    else if (has_handler(SIGUSR1))
        kill(getpid(), SIGUSR1);
    else
        log_warn("Cannot sync account %s now: this run does not wait between syncs.", name);
    free(name);
}

static void wipe_input(struct ui_bl_password *pw)
{
    volatile char *v = pw->input.data;
    for (size_t i = 0; i < pw->input.cap; i++)
        v[i] = 0;
    buf_reset(&pw->input);
}

/* A key for the password dialog; with ui->lock held. */
static void dialog_key(struct ui_bl *bl, int ch)
{
    struct ui_bl_password *pw = &bl->pw;
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        pw->done = pw->ok = true;
    } else if (ch == 27) {
        pw->done = true;
        pw->ok = false;
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        /* Drop one whole UTF-8 character. */
        size_t len = pw->input.len;
        while (len > 0 && ((unsigned char)pw->input.data[len - 1] & 0xc0) == 0x80)
            len--;
        if (len > 0)
            len--;
        for (size_t i = len; i < pw->input.len; i++)
            pw->input.data[i] = 0;
        buf_truncate(&pw->input, len);
    } else if (ch == 21) { /* ^U */
        wipe_input(pw);
    } else if (ch >= 0x20 && ch <= 0xff && ch != 127) {
        buf_append_char(&pw->input, (char)ch);
    }
    if (pw->done)
        pthread_cond_broadcast(&bl->cond);
}

static void read_keys(struct ui_bl *bl)
{
    struct ui *ui = bl->ui;
    int ch;
    while ((ch = getch()) != ERR) {
        if (ch == KEY_RESIZE) {
            check_size(bl);
            continue;
        }
        pthread_mutex_lock(&ui->lock);
        bool dialog = bl->pw.pending && !bl->pw.done;
        if (dialog)
            dialog_key(bl, ch);
        pthread_mutex_unlock(&ui->lock);
        if (dialog)
            continue;
        if (ch == 'q')
            key_quit(bl);
        else if (ch >= '0' && ch <= '9')
            key_sync(bl, ch - '0');
        if (!bl->scr)
            return; /* the screen ended for a quit */
    }
}

/* ---- the loop ----------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run(struct ui_bl *bl)
{
    struct ui *ui = bl->ui;
    bool blinking = false, need_draw = true;
    int64_t last_size_check = mono_ms();
    for (;;) {
        int64_t now = mono_ms();
        int timeout = 1000;
        if (need_draw) {
            int64_t wait = BL_REDRAW_MS - (now - bl->last_draw_ms);
            timeout = wait > 0 ? (int)wait : 0;
        } else if (blinking) {
            timeout = (int)(500 - now % 500);
        }
        struct pollfd fds[2] = {{.fd = bl->wake_r, .events = POLLIN},
                                {.fd = bl->in_fd, .events = POLLIN}};
        int n = poll(fds, bl->keys ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (fds[0].revents & POLLIN)) {
            char tmp[64];
            ssize_t got;
            while ((got = read(bl->wake_r, tmp, sizeof(tmp))) > 0) {
                for (ssize_t i = 0; i < got; i++)
                    if (tmp[i] == 'r')
                        check_size(bl);
            }
            /*
             * Cleared after the pipe is drained: a wake() between a clear and
             * the drain would leave the flag set with its byte gone, and no
             * later wake() would write again.  A wake() that still sees the
             * flag set changed the model before the draw below.
             */
            atomic_store(&bl->wake_pending, false);
            need_draw = true;
        }
        if (n > 0 && bl->keys && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (fds[1].revents & (POLLHUP | POLLERR))
                bl->keys = false;
            read_keys(bl);
            need_draw = true;
        }
        if (!bl->scr)
            break;
        now = mono_ms();
        if (now - last_size_check >= 1000) {
            check_size(bl);
            last_size_check = now;
        }
        if (blinking && n == 0)
            need_draw = true;
        if (bl->relayout)
            need_draw = true;
        pthread_mutex_lock(&ui->lock);
        bool stop = bl->stop;
        if (!stop && need_draw && now - bl->last_draw_ms >= BL_REDRAW_MS) {
            blinking = bl_draw(bl, ui_now_ms(ui));
            bl->last_draw_ms = now;
            need_draw = bl->relayout;
        }
        pthread_mutex_unlock(&ui->lock);
        if (stop)
            break;
        doupdate();
    }
}

static void *screen_thread(void *arg)
{
    struct ui_bl *bl = arg;
    struct ui *ui = bl->ui;
    /* Process signals are for the program; SIGWINCH may come here. */
    sigset_t set;
    sigfillset(&set);
    sigdelset(&set, SIGWINCH);
    for (size_t i = 0; i < N_SYNC_FAULTS; i++)
        sigdelset(&set, dying_signals[i]);
    pthread_sigmask(SIG_SETMASK, &set, NULL);
    /* This thread speaks as the main thread (key messages). */
    tl_tid = bl->main_tid;
    /* UTF-8 names need the user's character set, for this thread only. */
    locale_t loc = newlocale(LC_CTYPE_MASK, "", (locale_t)0);
    if (loc)
        uselocale(loc);

    bool ok = screen_start(bl);
    pthread_mutex_lock(&ui->lock);
    bl->init_done = true;
    bl->init_ok = ok;
    pthread_cond_broadcast(&bl->cond);
    pthread_mutex_unlock(&ui->lock);
    if (ok) {
        run(bl);
        screen_end(bl);
    }
    if (loc) {
        uselocale(LC_GLOBAL_LOCALE);
        freelocale(loc);
    }
    return NULL;
}

/* ---- the interface to ui.c --------------------------------------------- */

static void bl_free(struct ui_bl *bl)
{
    if (bl->wake_r >= 0)
        close(bl->wake_r);
    if (bl->wake_w >= 0)
        close(bl->wake_w);
    bl_model_release(&bl->model);
    wipe_input(&bl->pw);
    buf_release(&bl->pw.input);
    free(bl->pw.user);
    pthread_cond_destroy(&bl->cond);
    free(bl);
}

bool ui_bl_start(struct ui *ui, const struct ui_opts *opts, struct err *e)
{
    struct ui_bl *bl = xcalloc(1, sizeof(*bl));
    bl->ui = ui;
    bl->out = opts->out ? opts->out : stdout;
    bl->in = opts->in ? opts->in : stdin;
    bl->out_fd = fileno(bl->out);
    bl->in_fd = fileno(bl->in);
    bl->keys = bl->in_fd >= 0 && isatty(bl->in_fd);
    bl->wake_r = bl->wake_w = -1;
    pthread_cond_init(&bl->cond, NULL);
    bl_model_init(&bl->model);
    buf_init(&bl->pw.input, BL_PASSWORD_MAX);
    buf_reserve(&bl->pw.input, BL_PASSWORD_MAX);
    int p[2];
    if (pipe(p) != 0) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC, "Cannot start the blinkenlights interface: %s.",
                strerror(errno));
        bl_free(bl);
        return false;
    }
    bl->wake_r = p[0];
    bl->wake_w = p[1];
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    fflush(bl->out);
    bl->main_tid = my_tid();
    size_t li;
    bl_model_light(&bl->model, bl->main_tid, log_thread_name(), NULL, 0, &li);
    /* The main thread's light is red (the manual's "Red, meaning 1"). */
    bl_light_set(&bl->model, &bl->model.acc[0].lights[li], BL_RED, false);

    if (pthread_create(&bl->thread, NULL, screen_thread, bl) != 0) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC, "Cannot start the blinkenlights interface: %s.",
                strerror(errno));
        bl_free(bl);
        return false;
    }
    pthread_mutex_lock(&ui->lock);
    while (!bl->init_done)
        pthread_cond_wait(&bl->cond, &ui->lock);
    bool ok = bl->init_ok;
    if (ok)
        ui->bl = bl;
    pthread_mutex_unlock(&ui->lock);
    if (!ok) {
        pthread_join(bl->thread, NULL);
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "%s", bl->init_err);
        bl_free(bl);
        return false;
    }
    pthread_mutex_lock(&live_lock);
    live_ui = ui;
    pthread_mutex_unlock(&live_lock);
    return true;
}

void ui_bl_stop(struct ui *ui)
{
    struct ui_bl *bl = ui->bl;
    if (!bl)
        return;
    pthread_mutex_lock(&live_lock);
    if (live_ui == ui)
        live_ui = NULL;
    pthread_mutex_unlock(&live_lock);
    pthread_mutex_lock(&ui->lock);
    bl->stop = true;
    pthread_cond_broadcast(&bl->cond);
    pthread_mutex_unlock(&ui->lock);
    wake(bl);
    pthread_join(bl->thread, NULL);

    pthread_mutex_lock(&ui->lock);
    /* Password prompts still waiting give up (they see ui->bl gone). */
    while (bl->pw.pending)
        pthread_cond_wait(&bl->cond, &ui->lock);
    ui->bl = NULL;
    ui->bl_ended = true;
    ui->console = ui->out;
    /* offlineimap's Blinkenlights.terminate(): basic console, banner first. */
    char *banner = ui_banner_text(ui);
    struct ui_record r = {.level = LOG_INFO, .thread = log_thread_name(), .msg = banner};
    ui_emit(ui, &r);
    free(banner);
    pthread_mutex_unlock(&ui->lock);
    bl_free(bl);
}

/* The account of a thread: the event's, the registered one, or from its name. */
static const char *thread_account(struct ui *ui, const char *thread, const char *account,
                                  size_t *len_r)
{
    if ((!account || !*account) && thread) {
        for (size_t i = 0; i < ui->thr_names.n; i++) {
            if (strcmp(ui->thr_names.v[i], thread) == 0 && ui->thr_accounts.v[i][0]) {
                account = ui->thr_accounts.v[i];
                break;
            }
        }
    }
    return bl_thread_account(thread, account, len_r);
}

void ui_bl_event(struct ui *ui, const struct log_event *ev)
{
    struct ui_bl *bl = ui->bl;
    if (ev->type == EV_THREAD_EXIT) {
        /*
         * Spoken as MainThread (offlineimap's monitor) by the thread that
         * ended its folder: no light of its own moves to *Control for it.
         */
        bl_model_thread_named_gone(&bl->model, ev->text ? ev->text : ev->thread, my_tid());
        wake(bl);
        return;
    }
    size_t alen = 0, li;
    const char *acct = thread_account(ui, ev->thread, ev->account, &alen);
    size_t a = bl_model_light(&bl->model, my_tid(), ev->thread, acct, alen, &li);
    struct bl_light *l = &bl->model.acc[a].lights[li];
    if (bl_model_event(&bl->model, a, l, ev, ui_now_ms(ui))) {
        long long secs = ev->count;
        ui_emitf(ui, LOG_INFO, NULL, ev->thread, "Next sync in %lld:%02lld", secs / 60, secs % 60);
    }
    wake(bl);
}

void ui_bl_write(struct ui *ui, const struct ui_record *r)
{
    struct ui_bl *bl = ui->bl;
    struct bl_light *l = bl_model_find(&bl->model, my_tid());
    if (!l) {
        size_t alen = 0, li;
        const char *acct = thread_account(ui, r->thread, NULL, &alen);
        size_t a = bl_model_light(&bl->model, my_tid(), r->thread, acct, alen, &li);
        l = &bl->model.acc[a].lights[li];
    }
    /* offlineimap's Blinkenlights.warn(): the speaker's light turns bold red. */
    if (r->level >= LOG_WARN)
        bl_light_set(&bl->model, l, BL_RED, true);
    bl_model_log(&bl->model, l, r->msg);
    wake(bl);
}

bool ui_bl_getpass(struct ui *ui, const char *user, char **pw_r, struct err *e)
{
    struct ui_bl *bl = ui->bl;
    const char *thread = log_thread_name();
    ui_emitf(ui, LOG_WARN, NULL, thread, " *** Input Required");
    ui_emitf(ui, LOG_WARN, NULL, thread, " *** Please enter password for user '%s': ", user);
    if (!bl->keys) {
        err_set(e, ERR_REPO, ERRK_AUTH,
                "Cannot ask for the password of user '%s': standard input is not a terminal.",
                user);
        return false;
    }
    while (bl->pw.pending && !bl->stop)
        pthread_cond_wait(&bl->cond, &ui->lock);
    if (bl->stop) {
        err_set(e, ERR_REPO, ERRK_ABORTED,
                "The password of user '%s' was not asked: the interface is shutting down.", user);
        return false;
    }
    bl->pw.pending = true;
    bl->pw.done = bl->pw.ok = false;
    free(bl->pw.user);
    bl->pw.user = xstrdup(user);
    wake(bl);
    while (!bl->pw.done && !bl->stop)
        pthread_cond_wait(&bl->cond, &ui->lock);
    bool ok = bl->pw.done && bl->pw.ok;
    if (ok)
        *pw_r = xstrndup(bl->pw.input.data, bl->pw.input.len);
    else if (bl->stop && !bl->pw.done)
        err_set(e, ERR_REPO, ERRK_ABORTED,
                "The password prompt for user '%s' ended: the interface is shutting down.", user);
    else
        err_set(e, ERR_REPO, ERRK_AUTH, "The password prompt for user '%s' was cancelled.", user);
    wipe_input(&bl->pw);
    bl->pw.pending = false;
    pthread_cond_broadcast(&bl->cond);
    wake(bl);
    return ok;
}
