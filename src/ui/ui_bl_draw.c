/*
 * Drawing the blinkenlights screen (the screen thread only, with ui->lock
 * held): the banner line, the log pane and the account rows, laid out as in
 * offlineimap's Curses.Blinkenlights (rows from the bottom up, hotkey 0 at
 * the bottom), and the password dialog on top.
 *
 * Colours: a light is '@' in its colour on black, as in offlineimap; a log
 * line is in its light's colour on the terminal's background.  With 256
 * colours the manual's orange, pink and gray are real ones; with 8, orange
 * is yellow, yellow is bold yellow, pink is bold magenta and gray is white.
 */
#include "ui/ui_bl_screen.h"

#include "base/xalloc.h"

#include <string.h>

#define PAIR_LIGHT(c) (1 + (int)(c))
#define PAIR_TEXT(c) (1 + BL_NCOLORS + (int)(c))
#define PAIR_BANNER (1 + 2 * BL_NCOLORS)

#define BANNER_KEYS "keys: 0-9 sync account now, q quit"
/* After the first 'q': the run ends after what is running; a second one exits at once. */
#define BANNER_QUITTING "stopping: q again exits at once"

static const struct {
    short c8;
    bool bold8;
    short c256;
} palette[BL_NCOLORS] = {
    [BL_DEFAULT] = {COLOR_WHITE, false, 252},  [BL_BLACK] = {COLOR_BLACK, false, 0},
    [BL_RED] = {COLOR_RED, false, 196},        [BL_GRAY] = {COLOR_WHITE, false, 248},
    [BL_PURPLE] = {COLOR_MAGENTA, false, 129}, [BL_CYAN] = {COLOR_CYAN, false, 51},
    [BL_GREEN] = {COLOR_GREEN, false, 46},     [BL_BLUE] = {COLOR_BLUE, false, 33},
    [BL_ORANGE] = {COLOR_YELLOW, false, 208},  [BL_YELLOW] = {COLOR_YELLOW, true, 226},
    [BL_PINK] = {COLOR_MAGENTA, true, 213},
};

void bl_draw_init_colors(struct ui_bl *bl)
{
    bl->colors = has_colors() && start_color() == OK;
    if (!bl->colors)
        return;
    bool defaults = use_default_colors() == OK;
    bl->colors256 = COLORS >= 256 && COLOR_PAIRS > PAIR_BANNER;
    if (COLOR_PAIRS <= PAIR_BANNER) {
        bl->colors = false;
        return;
    }
    for (int c = 0; c < BL_NCOLORS; c++) {
        short fg = bl->colors256 ? palette[c].c256 : palette[c].c8;
        init_pair((short)PAIR_LIGHT(c), fg, COLOR_BLACK);
        /* Text of a default or dark light is in the terminal's own colours. */
        short tfg = (c == BL_DEFAULT || c == BL_BLACK) ? (defaults ? -1 : COLOR_WHITE) : fg;
        init_pair((short)PAIR_TEXT(c), tfg, defaults ? -1 : COLOR_BLACK);
    }
    init_pair(PAIR_BANNER, COLOR_WHITE, COLOR_BLUE);
}

static chtype light_attr(const struct ui_bl *bl, enum bl_color c, bool bold)
{
    if (!bl->colors)
        return (c == BL_BLACK ? A_DIM : A_BOLD) | (bold ? A_UNDERLINE : 0);
    chtype a = (chtype)COLOR_PAIR(PAIR_LIGHT(c));
    if (bold || (!bl->colors256 && palette[c].bold8))
        a |= A_BOLD;
    return a;
}

static chtype text_attr(const struct ui_bl *bl, enum bl_color c, bool bold)
{
    if (!bl->colors)
        return bold ? A_BOLD : A_NORMAL;
    chtype a = (chtype)COLOR_PAIR(PAIR_TEXT(c));
    if (bold || (!bl->colors256 && palette[c].bold8))
        a |= A_BOLD;
    return a;
}

void bl_draw_free_windows(struct ui_bl *bl)
{
    WINDOW **w[] = {&bl->banner, &bl->logwin, &bl->accwin, &bl->dialog};
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        if (*w[i])
            delwin(*w[i]);
        *w[i] = NULL;
    }
}

static void draw_banner(struct ui_bl *bl)
{
    chtype attr = bl->colors ? (A_BOLD | (chtype)COLOR_PAIR(PAIR_BANNER)) : A_REVERSE;
    WINDOW *w = bl->banner;
    werase(w);
    wbkgd(w, ' ' | attr);
    char left[96];
    snprintf(left, sizeof(left), "OfflineIMAP %s", bl->ui->version);
    const char *keys = bl->quits ? BANNER_QUITTING : BANNER_KEYS;
    int room = bl->cols - (int)strlen(left) - (int)strlen(keys) - 1;
    wattrset(w, (int)attr);
    mvwaddnstr(w, 0, 0, left, bl->cols - 1);
    if (room > 0)
        mvwaddstr(w, 0, (int)strlen(left) + room, keys);
    wnoutrefresh(w);
}

static void add_line(struct ui_bl *bl, const struct bl_line *line)
{
    WINDOW *w = bl->logwin;
    int y, x;
    getyx(w, y, x);
    wattrset(w, (int)text_attr(bl, line->color, line->bold));
    if (y || x)
        waddch(w, '\n');
    waddstr(w, line->text);
}

/* New log lines, or the whole pane again after a layout change. */
static void draw_log(struct ui_bl *bl, bool replay)
{
    const struct bl_model *m = &bl->model;
    int height = getmaxy(bl->logwin);
    size_t first = 0;
    if (replay) {
        werase(bl->logwin);
        wmove(bl->logwin, 0, 0);
        if (m->ring_len > (size_t)height)
            first = m->ring_len - (size_t)height;
    } else {
        while (first < m->ring_len &&
               m->ring[(m->ring_start + first) % BL_LOG_LINES].seq <= bl->drawn_seq)
            first++;
    }
    for (size_t i = first; i < m->ring_len; i++) {
        const struct bl_line *line = &m->ring[(m->ring_start + i) % BL_LOG_LINES];
        add_line(bl, line);
        bl->drawn_seq = line->seq;
    }
    wnoutrefresh(bl->logwin);
}

/* Returns true if a light blinks. */
static bool draw_accounts(struct ui_bl *bl, int64_t now_ms)
{
    const struct bl_model *m = &bl->model;
    WINDOW *w = bl->accwin;
    bool blinking = false;
    bool dark_phase = (now_ms / 500) % 2 == 1;
    struct buf text;
    buf_init(&text, BUF_UNBOUNDED);
    werase(w);
    for (size_t a = 0; a < bl->shown_acc; a++) {
        int y = (int)(bl->shown_acc - 1 - a);
        buf_reset(&text);
        bl_row_prefix(m, a, now_ms, &text);
        wattrset(w, A_NORMAL);
        mvwaddnstr(w, y, 0, text.data, bl->cols);
        const struct bl_account *acc = &m->acc[a];
        for (size_t i = 0; i < acc->nlights; i++) {
            const struct bl_light *l = &acc->lights[i];
            enum bl_color c = l->color;
            if (l->blink) {
                blinking = true;
                if (dark_phase)
                    c = BL_BLACK;
            }
            waddch(w, '@' | light_attr(bl, c, l->bold));
        }
        buf_reset(&text);
        bl_row_progress(m, a, &text);
        if (text.len) {
            wattrset(w, (int)text_attr(bl, BL_ORANGE, false));
            waddstr(w, text.data);
        }
        if (acc->sleeping)
            blinking = true;
    }
    buf_release(&text);
    wnoutrefresh(w);
    return blinking;
}

static void draw_dialog(struct ui_bl *bl)
{
    char line[160];
    snprintf(line, sizeof(line), "Please enter password for user '%s':", bl->pw.user);
    int width = (int)strlen(line) + 4;
    if (width < 44)
        width = 44;
    if (width > bl->cols)
        width = bl->cols;
    int height = 7 < bl->rows ? 7 : bl->rows;
    if (!bl->dialog)
        bl->dialog = newwin(height, width, (bl->rows - height) / 2, (bl->cols - width) / 2);
    if (!bl->dialog)
        return;
    WINDOW *w = bl->dialog;
    werase(w);
    wattrset(w, A_NORMAL);
    box(w, 0, 0);
    mvwaddnstr(w, 0, 2, " Input Required ", width - 4);
    mvwaddnstr(w, 2, 2, line, width - 4);
    mvwaddnstr(w, 3, 2, "(what you type is not shown)", width - 4);
    mvwaddnstr(w, 5, 2, "Enter: confirm   Escape: cancel", width - 4);
    wnoutrefresh(w);
}

static void layout(struct ui_bl *bl)
{
    bl_draw_free_windows(bl);
    int rows = bl->rows, cols = bl->cols;
    size_t nacc = bl->model.nacc;
    /* The banner and at least one log line come first; accounts get what is left. */
    size_t room = rows > 2 ? (size_t)(rows - 2) : 0;
    bl->shown_acc = nacc < room ? nacc : room;
    int logh = rows - 1 - (int)bl->shown_acc;
    bl->banner = newwin(1, cols, 0, 0);
    if (logh > 0) {
        bl->logwin = newwin(logh, cols, 1, 0);
        if (bl->logwin) {
            idlok(bl->logwin, TRUE);
            scrollok(bl->logwin, TRUE);
        }
    }
    if (bl->shown_acc)
        bl->accwin = newwin((int)bl->shown_acc, cols, rows - (int)bl->shown_acc, 0);
    bl->drawn_layout = bl->model.layout_gen;
}

bool bl_draw(struct ui_bl *bl, int64_t now_ms)
{
    bool dialog = bl->pw.pending && !bl->pw.done;
    if (!dialog && bl->dialog) {
        /* The dialog went away: draw what was under it again. */
        delwin(bl->dialog);
        bl->dialog = NULL;
        bl->relayout = true;
    }
    bool replay = bl->relayout || bl->drawn_layout != bl->model.layout_gen;
    if (replay) {
        layout(bl);
        clearok(curscr, TRUE);
        bl->relayout = false;
    }
    if (bl->banner && replay)
        draw_banner(bl);
    if (bl->logwin)
        draw_log(bl, replay);
    bool blinking = bl->accwin ? draw_accounts(bl, now_ms) : false;
    if (dialog)
        draw_dialog(bl);
    bl->model.dirty = false;
    return blinking;
}
