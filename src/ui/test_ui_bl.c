/*
 * Tests for the blinkenlights model (ui_bl_model.c), without a terminal:
 * which account a thread belongs to, the colour every event gives a light
 * (the manual's colours), one light per thread and their reuse, log lines in
 * their light's colour and cleaned of control characters, the account row
 * ("N: [active|  M:SS] name: "), the countdown, the progress text and the
 * hotkeys.  test_ui_bl_pty.c runs the real screen on a pseudo-terminal.
 */
#include "ui/ui_bl.h"

#include "base/buf.h"
#include "testlib/test.h"

#include <stdio.h>
#include <string.h>

static void test_thread_account(void)
{
    static const struct {
        const char *thread, *account, *want;
    } t[] = {
        {"Account sync Personal", NULL, "Personal"},
        {"Account sync Personal", "", "Personal"},
        {"Folder INBOX [acc: Personal]", NULL, "Personal"},
        {"Folder a [b] [remote name x [acc: y]] [acc: Work]", NULL, "Work"},
        {"Folder INBOX [acc: Personal]", "Other", "Other"},
        {"MainThread", NULL, NULL},
        {"Sync Runner", NULL, NULL},
        {"Account sync ", NULL, NULL},
        {"Folder [acc: ]", NULL, NULL},
        {"Folder [acc: x", NULL, NULL},
        {NULL, NULL, NULL},
        {NULL, "Acc", "Acc"},
    };
    test_begin("blinkenlights: the account of a thread");
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t len = 0;
        const char *a = bl_thread_account(t[i].thread, t[i].account, &len);
        if (!t[i].want) {
            test_assert(a == NULL);
            continue;
        }
        test_assert(a != NULL);
        if (a) {
            test_assert_inteq(len, strlen(t[i].want));
            test_assert(strncmp(a, t[i].want, len) == 0);
        }
    }
    test_end();
}

static struct bl_light *light(struct bl_model *m, uint64_t tid, const char *thread,
                              const char *account, size_t *acc_r)
{
    size_t li;
    size_t a = bl_model_light(m, tid, thread, account, account ? strlen(account) : 0, &li);
    if (acc_r)
        *acc_r = a;
    return &m->acc[a].lights[li];
}

static void test_colors(void)
{
    static const struct {
        struct log_event ev;
        enum bl_color color;
        bool bold, blink;
    } t[] = {
        {{.type = EV_ACCOUNT_START}, BL_PURPLE, false, false},
        {{.type = EV_CONNECTING}, BL_GRAY, false, false},
        {{.type = EV_CALLING_HOOK}, BL_GRAY, false, false},
        {{.type = EV_SYNC_FOLDERS}, BL_BLUE, false, false},
        {{.type = EV_SYNCING_FOLDER}, BL_CYAN, false, false},
        {{.type = EV_SKIPPING_FOLDER}, BL_CYAN, false, false},
        {{.type = EV_LOAD_MSGLIST}, BL_GREEN, false, false},
        {{.type = EV_SYNCING_MESSAGES}, BL_BLUE, false, false},
        {{.type = EV_COPYING_MESSAGE}, BL_ORANGE, false, false},
        {{.type = EV_PROGRESS, .num = 1, .total = 3}, BL_ORANGE, false, false},
        {{.type = EV_IGNORING_MESSAGE}, BL_RED, false, false},
        {{.type = EV_DELETING_MESSAGES}, BL_RED, false, false},
        {{.type = EV_ADDING_FLAGS}, BL_YELLOW, false, false},
        {{.type = EV_DELETING_FLAGS}, BL_PINK, false, false},
        {{.type = EV_SLEEPING, .num = 10, .count = 300}, BL_RED, false, true},
        {{.type = EV_SLEEPING, .num = 0, .count = 0}, BL_GRAY, false, false},
        {{.type = EV_LOG, .level = LOG_WARN}, BL_RED, true, false},
        {{.type = EV_LOG, .level = LOG_ERROR}, BL_RED, true, false},
        /* Events offlineimap's Blinkenlights leaves the colour alone for. */
        {{.type = EV_LOG, .level = LOG_INFO}, BL_CYAN, false, false},
        {{.type = EV_ACCOUNT_DONE}, BL_CYAN, false, false},
        {{.type = EV_MSGLIST_LOADED}, BL_CYAN, false, false},
        {{.type = EV_CREATING_FOLDER}, BL_CYAN, false, false},
        {{.type = EV_NEW_STATUS_DB}, BL_CYAN, false, false},
        {{.type = EV_VALIDITY_PROBLEM}, BL_CYAN, false, false},
    };
    test_begin("blinkenlights: the manual's colour for every event");
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct bl_model m;
        bl_model_init(&m);
        size_t a;
        struct bl_light *l = light(&m, 7, "Folder INBOX [acc: Test]", "Test", &a);
        test_assert_inteq(l->color, BL_DEFAULT);
        bl_light_set(&m, l, BL_CYAN, false);
        bl_model_event(&m, a, l, &t[i].ev, 1000);
        if (l->color != t[i].color)
            test_fail_at(__FILE__, __LINE__, "event %d: colour %d, expected %d", t[i].ev.type,
                         l->color, t[i].color);
        test_assert_inteq(l->bold, t[i].bold);
        test_assert_inteq(l->blink, t[i].blink);
        bl_model_release(&m);
    }
    test_end();
}

static void test_lights(void)
{
    test_begin("blinkenlights: one light per thread, dark when it ends, then reused");
    struct bl_model m;
    bl_model_init(&m);
    size_t a;
    struct bl_light *main_l = light(&m, 1, "MainThread", NULL, &a);
    test_assert_inteq(a, 0);
    test_assert(m.acc[0].name == NULL);
    struct bl_light *acct = light(&m, 2, "Account sync Test", "Test", &a);
    test_assert_inteq(a, 1);
    test_assert_streq(m.acc[1].name, "Test");
    test_assert(acct != main_l);
    /* A worker renamed for another folder keeps its light. */
    light(&m, 3, "Folder INBOX [acc: Test]", "Test", NULL);
    light(&m, 3, "Folder Sub [acc: Test]", "Test", NULL);
    test_assert_inteq(m.acc[1].nlights, 2);
    test_assert_streq(m.acc[1].lights[1].thread, "Folder Sub [acc: Test]");
    light(&m, 4, "Folder Other [acc: Test]", "Test", NULL);
    test_assert_inteq(m.acc[1].nlights, 3);

    /* Thread 3 ends: black, and the next new thread of Test takes its place. */
    bl_light_set(&m, &m.acc[1].lights[1], BL_ORANGE, false);
    bl_model_thread_gone(&m, 3);
    test_assert_inteq(m.acc[1].lights[1].color, BL_BLACK);
    test_assert(m.acc[1].lights[1].idle);
    struct bl_light *l5 = light(&m, 5, "Folder Next [acc: Test]", "Test", NULL);
    test_assert(l5 == &m.acc[1].lights[1]);
    test_assert_inteq(l5->color, BL_DEFAULT);
    test_assert_inteq(m.acc[1].nlights, 3);

    /* EV_THREAD_EXIT names the thread: its light goes dark, from any speaker. */
    size_t ma;
    struct log_event ex = {
        .type = EV_THREAD_EXIT, .thread = "MainThread", .text = "Folder Other [acc: Test]"};
    struct bl_light *ml = light(&m, 1, "MainThread", NULL, &ma);
    bl_model_event(&m, ma, ml, &ex, 0);
    test_assert_inteq(m.acc[1].lights[2].color, BL_BLACK);
    test_assert(m.acc[1].lights[2].idle);
    /* The same thread speaking again lights its light again. */
    struct bl_light *l4 = light(&m, 4, "Folder Other [acc: Test]", "Test", NULL);
    test_assert(l4 == &m.acc[1].lights[2]);
    test_assert(!l4->idle);

    /*
     * A thread that reports the end of its own folder (a worker between two
     * folders, the account thread after a folder the skip list settled) lives
     * on: its light goes dark but is not given to a new thread.
     */
    bl_light_set(&m, l4, BL_ORANGE, false);
    bl_model_thread_named_gone(&m, "Folder Other [acc: Test]", 4);
    test_assert_inteq(l4->color, BL_BLACK);
    test_assert(!l4->idle);
    test_assert_inteq(l4->tid, 4);
    /* (A new light may move the array: compare places, not pointers.) */
    light(&m, 6, "Folder New [acc: Test]", "Test", NULL);
    test_assert_inteq(m.acc[1].nlights, 4);
    test_assert_inteq(m.acc[1].lights[3].tid, 6);
    test_assert(light(&m, 4, "Account sync Test", "Test", NULL) == &m.acc[1].lights[2]);
    bl_model_thread_gone(&m, 6);

    /* A thread that moves to another account leaves a dark light behind. */
    light(&m, 2, "Account sync Work", "Work", &a);
    test_assert_inteq(a, 2);
    test_assert_inteq(m.acc[1].lights[0].color, BL_BLACK);
    test_assert_inteq(m.acc[1].lights[0].tid, 0);
    test_assert(bl_model_find(&m, 2) == &m.acc[2].lights[0]);
    test_assert(bl_model_find(&m, 99) == NULL);
    test_assert_inteq(m.nacc, 3);
    bl_model_release(&m);
    test_end();

    test_begin("blinkenlights: limits on accounts and lights");
    bl_model_init(&m);
    char name[32];
    for (int i = 0; i < BL_MAX_ACCOUNTS + 5; i++) {
        snprintf(name, sizeof(name), "acc%d", i);
        light(&m, (uint64_t)(100 + i), "x", name, &a);
    }
    test_assert_inteq(m.nacc, BL_MAX_ACCOUNTS);
    test_assert_inteq(a, 0); /* the overflow goes to *Control */
    for (int i = 0; i < BL_MAX_LIGHTS_PER_ACCOUNT + 5; i++)
        light(&m, (uint64_t)(1000 + i), "t", "acc1", NULL);
    test_assert_inteq(m.acc[2].nlights, BL_MAX_LIGHTS_PER_ACCOUNT);
    bl_model_release(&m);
    test_end();
}

static void test_log(void)
{
    test_begin("blinkenlights: log lines in their light's colour, without control characters");
    struct bl_model m;
    bl_model_init(&m);
    size_t a;
    struct bl_light *l = light(&m, 2, "Account sync Test", "Test", &a);
    bl_model_event(&m, a, l, &(struct log_event){.type = EV_ACCOUNT_START}, 0);
    bl_model_log(&m, l, "*** Processing account Test");
    bl_model_log(&m, NULL, "tab\there, escape \x1b[2J, bell \a, del \x7f\nsecond line");
    test_assert_inteq(m.ring_len, 2);
    test_assert_streq(m.ring[0].text, "*** Processing account Test");
    test_assert_inteq(m.ring[0].color, BL_PURPLE);
    test_assert_streq(m.ring[1].text, "tab here, escape ?[2J, bell ?, del ?\nsecond line");
    test_assert_inteq(m.ring[1].color, BL_DEFAULT);
    test_assert(m.ring[1].seq == m.ring[0].seq + 1);
    char big[BL_LOG_LINE_MAX + 100];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    bl_model_log(&m, l, big);
    test_assert_inteq(strlen(m.ring[2].text), BL_LOG_LINE_MAX);
    for (int i = 0; i < BL_LOG_LINES + 10; i++) {
        char line[32];
        snprintf(line, sizeof(line), "line %d", i);
        bl_model_log(&m, l, line);
    }
    test_assert_inteq(m.ring_len, BL_LOG_LINES);
    char want[32];
    snprintf(want, sizeof(want), "line %d", BL_LOG_LINES + 9);
    test_assert_streq(m.ring[(m.ring_start + m.ring_len - 1) % BL_LOG_LINES].text, want);
    test_assert_streq(m.ring[m.ring_start].text, "line 10");
    bl_model_release(&m);
    test_end();
}

static void test_rows(void)
{
    test_begin("blinkenlights: account rows and the countdown");
    struct bl_model m;
    bl_model_init(&m);
    size_t a;
    light(&m, 1, "MainThread", NULL, NULL);
    struct bl_light *l = light(&m, 2, "Account sync Test", "Test", &a);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    bl_row_prefix(&m, 0, 0, &b);
    test_assert_streq(b.data, "0: [active]     *Control: ");
    buf_reset(&b);
    bl_row_prefix(&m, 1, 0, &b);
    test_assert_streq(b.data, "1: [active]         Test: ");

    /* A five-minute sleep, announced in 10-second slices as offlineimap does. */
    struct log_event sl = {.type = EV_SLEEPING, .num = 10, .count = 300};
    test_assert(bl_model_event(&m, a, l, &sl, 50000));
    test_assert(m.acc[1].sleeping);
    buf_reset(&b);
    bl_row_prefix(&m, 1, 50000, &b);
    test_assert_streq(b.data, "1: [  5:00]         Test: ");
    buf_reset(&b);
    bl_row_prefix(&m, 1, 50000 + 1500, &b);
    test_assert_streq(b.data, "1: [  4:59]         Test: ");
    sl.count = 290;
    test_assert(!bl_model_event(&m, a, l, &sl, 60000)); /* not a new sleep */
    buf_reset(&b);
    bl_row_prefix(&m, 1, 60000 + 230000, &b);
    test_assert_streq(b.data, "1: [  1:00]         Test: ");
    test_assert_inteq(bl_sleep_remaining(&m.acc[1], 60000 + 290000), 0);
    sl.num = 0;
    sl.count = 0;
    test_assert(!bl_model_event(&m, a, l, &sl, 61000));
    test_assert(!m.acc[1].sleeping);
    buf_reset(&b);
    bl_row_prefix(&m, 1, 61000, &b);
    test_assert_streq(b.data, "1: [active]         Test: ");
    sl.num = 10;
    sl.count = 7200;
    test_assert(bl_model_event(&m, a, l, &sl, 0)); /* the next sleep is new again */
    buf_reset(&b);
    bl_row_prefix(&m, 1, 0, &b);
    test_assert_streq(b.data, "1: [120:00]         Test: ");

    /* Python's "%12.12s": twelve characters, right-aligned, UTF-8 counted as characters. */
    static const struct {
        const char *name, *want;
    } names[] = {
        {"A-very-long-account-name", "2: [active] A-very-long-: "},
        {"Éé", "2: [active]           Éé: "},
        {"ÀÁÂÃÄÅÆÇÈÉÊËÌÍ", "2: [active] ÀÁÂÃÄÅÆÇÈÉÊË: "},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct bl_model m2;
        bl_model_init(&m2);
        light(&m2, 1, "MainThread", NULL, NULL);
        light(&m2, 2, "x", "Test", NULL);
        light(&m2, 3, "y", names[i].name, &a);
        buf_reset(&b);
        bl_row_prefix(&m2, a, 0, &b);
        test_assert_streq(b.data, names[i].want);
        bl_model_release(&m2);
    }
    buf_release(&b);
    bl_model_release(&m);
    test_end();
}

static void test_progress(void)
{
    test_begin("blinkenlights: copy progress in the account row");
    static const struct {
        int64_t bytes;
        const char *want;
    } hb[] = {
        {0, "0 B"},
        {-5, "0 B"},
        {1023, "1023 B"},
        {1024, "1.0 KiB"},
        {1536, "1.5 KiB"},
        {5 * 1048576 + 1048576 / 4, "5.2 MiB"},
        {3LL << 30, "3.0 GiB"},
        {5LL << 40, "5.0 TiB"},
        {5LL << 50, "5120.0 TiB"},
    };
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    for (size_t i = 0; i < sizeof(hb) / sizeof(hb[0]); i++) {
        buf_reset(&b);
        bl_human_bytes(&b, hb[i].bytes);
        test_assert_streq(b.data, hb[i].want);
    }
    struct bl_model m;
    bl_model_init(&m);
    size_t a;
    /* Pointers into the lights move when a light is added: take them after. */
    light(&m, 2, "Folder INBOX [acc: Test]", "Test", &a);
    light(&m, 3, "Folder Sent [acc: Test]", "Test", &a);
    struct bl_light *l1 = light(&m, 2, "Folder INBOX [acc: Test]", "Test", &a);
    struct bl_light *l2 = light(&m, 3, "Folder Sent [acc: Test]", "Test", &a);
    bl_model_event(
        &m, a, l1,
        &(struct log_event){
            .type = EV_PROGRESS, .folder = "INBOX", .num = 12, .total = 40, .count = 1288490},
        0);
    bl_model_event(&m, a, l2,
                   &(struct log_event){
                       .type = EV_PROGRESS, .folder = "Sent", .num = 3, .total = 9, .count = 2048},
                   0);
    buf_reset(&b);
    bl_row_progress(&m, a, &b);
    test_assert_streq(b.data, " INBOX 12/40 1.2 MiB Sent 3/9 2.0 KiB");
    /* Copy lines keep it; the end of the copy or other work ends it. */
    bl_model_event(&m, a, l1, &(struct log_event){.type = EV_COPYING_MESSAGE}, 0);
    bl_model_event(&m, a, l2, &(struct log_event){.type = EV_DELETING_MESSAGES}, 0);
    buf_reset(&b);
    bl_row_progress(&m, a, &b);
    test_assert_streq(b.data, " INBOX 12/40 1.2 MiB");
    bl_model_event(
        &m, a, l1,
        &(struct log_event){
            .type = EV_PROGRESS, .folder = "INBOX", .num = 40, .total = 40, .count = 4000000},
        0);
    buf_reset(&b);
    bl_row_progress(&m, a, &b);
    test_assert_streq(b.data, "");
    bl_model_release(&m);
    buf_release(&b);
    test_end();
}

static void test_hotkeys(void)
{
    test_begin("blinkenlights: hotkeys are the rows' numbers");
    struct bl_model m;
    bl_model_init(&m);
    light(&m, 1, "MainThread", NULL, NULL);
    light(&m, 2, "Account sync Personal", "Personal", NULL);
    light(&m, 3, "Account sync Work", "Work", NULL);
    bool control = false;
    const struct bl_account *acc = bl_model_hotkey(&m, 0, &control);
    test_assert(acc && control);
    acc = bl_model_hotkey(&m, 1, &control);
    test_assert(acc && !control);
    test_assert_streq(acc->name, "Personal");
    acc = bl_model_hotkey(&m, 2, &control);
    test_assert_streq(acc->name, "Work");
    test_assert(bl_model_hotkey(&m, 3, &control) == NULL);
    test_assert(bl_model_hotkey(&m, -1, &control) == NULL);
    bl_model_release(&m);
    test_end();
}

int main(void)
{
    test_thread_account();
    test_colors();
    test_lights();
    test_log();
    test_rows();
    test_progress();
    test_hotkeys();
    return test_done();
}
