/*
 * Unit tests for IDLE in imap_session (RFC 2177) against a scripted peer on
 * a socketpair: the server's answers are written before the client needs
 * them, and what the client sent is read back and compared.
 */
#include "imap/imap_session.h"
#include "net/conn.h"

#include "testlib/test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer {
    int fd;
};

static struct imap_session *session(struct peer *p, int timeout_ms)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    p->fd = sv[1];
    return imap_session_new(conn_from_fd(sv[0], "peer:143", timeout_ms), "peer:143");
}

static void say(struct peer *p, const char *text)
{
    size_t n = strlen(text);
    if (write(p->fd, text, n) != (ssize_t)n)
        abort();
}

/* Everything the client sent so far (the peer socket is drained without waiting). */
static char *heard(struct peer *p)
{
    static char buf[4096];
    ssize_t n = recv(p->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static unsigned untagged_seen;
static void count_untagged(void *ctx, const struct imap_resp *r)
{
    (void)ctx;
    if (imap_resp_data(r) == IMAP_DATA_EXISTS || imap_resp_data(r) == IMAP_DATA_EXPUNGE)
        untagged_seen++;
}

static void test_idle_round(void)
{
    test_begin("IDLE: '+', untagged data while idling, DONE answered OK");
    struct peer p;
    struct imap_session *s = session(&p, 2000);
    imap_session_set_untagged(s, count_untagged, NULL);
    untagged_seen = 0;
    struct err e = ERR_INIT;
    bool refused = true;
    say(&p, "+ idling\r\n");
    test_assert(imap_idle_begin(s, &refused, &e));
    test_assert(!refused);
    test_assert(imap_idle_active(s));
    test_assert_streq(heard(&p), "A1 IDLE\r\n");
    test_assert(imap_session_fd(s) >= 0);
    say(&p, "* 4 EXISTS\r\n* 2 EXPUNGE\r\n");
    /* the data is read only when polled */
    usleep(10000);
    test_assert(imap_poll(s, &e));
    test_assert_inteq(untagged_seen, 2);
    test_assert(imap_idle_active(s));
    say(&p, "A1 OK Idle completed\r\n");
    test_assert(imap_idle_end(s, &e));
    test_assert_streq(heard(&p), "DONE\r\n");
    test_assert(!imap_idle_active(s));
    /* a second round gets the next tag */
    say(&p, "+ idling\r\n");
    test_assert(imap_idle_begin(s, &refused, &e) && !refused);
    test_assert_streq(heard(&p), "A2 IDLE\r\n");
    say(&p, "A2 OK done\r\n");
    test_assert(imap_idle_end(s, &e));
    err_clear(&e);
    imap_session_free(&s);
    close(p.fd);
    test_end();
}

static void test_idle_refused(void)
{
    test_begin("IDLE refused with NO: refused, the session lives on");
    struct peer p;
    struct imap_session *s = session(&p, 2000);
    struct err e = ERR_INIT;
    bool refused = false;
    say(&p, "A1 NO [UNAVAILABLE] not now\r\n");
    test_assert(imap_idle_begin(s, &refused, &e));
    test_assert(refused);
    test_assert(e.msg && strstr(e.msg, "refused IDLE"));
    test_assert(!imap_idle_active(s));
    test_assert(!imap_session_dead(s));
    /* ending an IDLE that never ran is a no-op */
    err_clear(&e);
    test_assert(imap_idle_end(s, &e));
    err_clear(&e);
    imap_session_free(&s);
    close(p.fd);
    test_end();
}

static void test_idle_done_not_ok(void)
{
    test_begin("DONE answered BAD: false");
    struct peer p;
    struct imap_session *s = session(&p, 2000);
    struct err e = ERR_INIT;
    bool refused = true;
    say(&p, "+ idling\r\n");
    test_assert(imap_idle_begin(s, &refused, &e) && !refused);
    say(&p, "A1 BAD what\r\n");
    test_assert(!imap_idle_end(s, &e));
    test_assert(e.msg && strstr(e.msg, "ended IDLE with BAD"));
    err_clear(&e);
    imap_session_free(&s);
    close(p.fd);
    test_end();
}

static void test_idle_silent_server(void)
{
    test_begin("DONE never answered: times out, session dead");
    struct peer p;
    struct imap_session *s = session(&p, 200);
    struct err e = ERR_INIT;
    bool refused = true;
    say(&p, "+ idling\r\n");
    test_assert(imap_idle_begin(s, &refused, &e) && !refused);
    test_assert(!imap_idle_end(s, &e));
    test_assert(e.kind == ERRK_TIMEOUT || e.kind == ERRK_NETWORK);
    test_assert(imap_session_dead(s));
    test_assert(!imap_idle_active(s));
    err_clear(&e);
    imap_session_free(&s);
    close(p.fd);
    test_end();
}

static void test_idle_server_closes(void)
{
    test_begin("the server closes while idling: poll fails, IDLE no longer active");
    struct peer p;
    struct imap_session *s = session(&p, 2000);
    struct err e = ERR_INIT;
    bool refused = true;
    say(&p, "+ idling\r\n");
    test_assert(imap_idle_begin(s, &refused, &e) && !refused);
    say(&p, "* BYE shutting down\r\n");
    close(p.fd);
    usleep(10000);
    test_assert(!imap_poll(s, &e));
    test_assert(imap_session_dead(s));
    test_assert(!imap_idle_active(s));
    err_clear(&e);
    imap_session_free(&s);
    test_end();
}

int main(void)
{
    test_idle_round();
    test_idle_refused();
    test_idle_done_not_ok();
    test_idle_silent_server();
    test_idle_server_closes();
    return test_done();
}
