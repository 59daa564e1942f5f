/*
 * Unit tests of the daemon's pure parts: offlineimap's quick/full cycle, the
 * meaning of each signal, reading signals from the signalfd, and the network
 * watcher's view of the clocks and addresses.  The loop itself is tested
 * against Dovecot (tests/integ/test_daemon.py).
 */
#include "cli/daemon_internal.h"
#include "cli/netwatch.h"
#include "cli/signals.h"

#include "testlib/test.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_quick(void)
{
    static const struct {
        int cfg;
        const char *seq; /* F = full, Q = quick, for successive syncs */
    } cases[] = {
        {0, "FFFFFF"}, {-1, "QQQQQQ"},   {-5, "QQQQQQ"},
        {1, "FQFQFQ"}, {2, "FQQFQQFQQ"}, {3, "FQQQFQQQ"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned n = 0;
        for (const char *p = cases[i].seq; *p; p++) {
            bool quick = daemon_quick_decide(cases[i].cfg, &n);
            if (quick != (*p == 'Q'))
                test_fail_at(__FILE__, __LINE__, "quick=%d: sync %d should be %s", cases[i].cfg,
                             (int)(p - cases[i].seq) + 1, *p == 'Q' ? "quick" : "full");
        }
    }
    /* A skipped sleep (SIGUSR1) resets the counter: the next sync is full. */
    unsigned n = 0;
    test_assert(!daemon_quick_decide(3, &n));
    test_assert(daemon_quick_decide(3, &n));
    n = 0;
    test_assert(!daemon_quick_decide(3, &n));
    test_assert(daemon_quick_decide(3, &n));
    test_assert(daemon_quick_decide(3, &n));
}

static void test_actions(void)
{
    static const struct {
        int signo;
        enum sig_action action;
    } cases[] = {
        {SIGUSR1, SIG_ACTION_SYNC_NOW},
        {SIGUSR2, SIG_ACTION_STOP_AFTER_SYNC},
        {SIGABRT, SIG_ACTION_STOP_AFTER_SYNC},
        {SIGTERM, SIG_ACTION_ABORT},
        {SIGINT, SIG_ACTION_ABORT},
        {SIGHUP, SIG_ACTION_ABORT},
        {SIGQUIT, SIG_ACTION_DUMP},
        {SIGPIPE, SIG_ACTION_NONE},
        {SIGCHLD, SIG_ACTION_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        test_assert_inteq(signals_action(cases[i].signo), cases[i].action);
}

static void test_signalfd(void)
{
    int fd = -1;
    struct err e = ERR_INIT;
    test_assert(signals_open(&fd, &e));
    test_assert(fd >= 0);
    test_assert_inteq(signals_read(fd), 0); /* nothing pending, no waiting */
    /* Blocked, so they wait for the descriptor instead of ending the test. */
    raise(SIGTERM);
    raise(SIGUSR1);
    int got[2] = {signals_read(fd), signals_read(fd)};
    test_assert((got[0] == SIGTERM && got[1] == SIGUSR1) ||
                (got[0] == SIGUSR1 && got[1] == SIGTERM));
    test_assert_inteq(signals_read(fd), 0);
    /* The same signal twice before it is read is one pending signal, as in the kernel. */
    raise(SIGINT);
    raise(SIGINT);
    test_assert_inteq(signals_read(fd), SIGINT);
    test_assert_inteq(signals_read(fd), 0);
    close(fd);
}

static void test_netwatch(void)
{
    struct netwatch w;
    netwatch_open(&w);
    int64_t ns = 123;
    /* Nothing happened between two looks. */
    test_assert_inteq(netwatch_clocks(&w, 10 * 1000000000LL, &ns), NETWATCH_NONE);
    test_assert_inteq(ns, 0);
    /* A suspend of a minute, as the offsets would show it. */
    w.boot_offset_ns -= 60 * 1000000000LL;
    test_assert_inteq(netwatch_clocks(&w, 10 * 1000000000LL, &ns), NETWATCH_RESUMED);
    /* The offsets come from two clock reads each: allow for a preemption between them. */
    test_assert(ns >= 59 * 1000000000LL && ns < 61 * 1000000000LL);
    test_assert_inteq(netwatch_clocks(&w, 10 * 1000000000LL, &ns), NETWATCH_NONE);
    /* The wall clock set back by an hour. */
    w.real_offset_ns += 3600 * 1000000000LL;
    test_assert_inteq(netwatch_clocks(&w, 10 * 1000000000LL, &ns), NETWATCH_CLOCK_STEP);
    test_assert(ns <= -3599 * 1000000000LL);
    /* A short step is below the threshold. */
    w.real_offset_ns -= 2 * 1000000000LL;
    test_assert_inteq(netwatch_clocks(&w, 10 * 1000000000LL, &ns), NETWATCH_NONE);
    /* Addresses are compared only after a netlink message, and only when they changed. */
    unsigned count = 0;
    test_assert_inteq(netwatch_addresses(&w, &count), NETWATCH_NONE);
    w.addr_dirty = true;
    test_assert_inteq(netwatch_addresses(&w, &count), NETWATCH_NONE);
    w.addr_dirty = true;
    w.addr_hash ^= 1;
    test_assert_inteq(netwatch_addresses(&w, &count), NETWATCH_ADDRESSES);
    test_assert(!w.addr_dirty);
    netwatch_close(&w);
    test_assert_inteq(netwatch_fd(&w), -1);
}

int main(void)
{
    test_begin("daemon: offlineimap's quick and full cycle");
    test_quick();
    test_end();
    test_begin("signals: what each signal asks for");
    test_actions();
    test_end();
    test_begin("signals: read from a signalfd, never handled");
    test_signalfd();
    test_end();
    test_begin("netwatch: suspends, clock steps and address changes");
    test_netwatch();
    test_end();
    return test_done();
}
