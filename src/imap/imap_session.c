#include "imap/imap_session.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/prof.h"
#include "base/xalloc.h"
#include "net/conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes read from the connection at once; the parser consumes each read whole. */
#define SESSION_READ_CHUNK (256 * 1024)
/* Longest command text we build (not counting literals). */
#define SESSION_MAX_COMMAND (1024 * 1024)

struct pending {
    struct pending *next;
    char tag[16];
    imap_done_fn *done;
    void *ctx;
    imap_cont_fn *cont; /* for commands that take continuations */
    void *cont_ctx;
    bool literal_wait; /* waiting for "+" before a synchronizing literal */
    struct prof_mark mark; /* -P: from sending to the tagged answer */
    char verb[24];         /* the command name, for -P */
};

struct imap_session {
    struct conn *conn;
    char *desc;
    struct imap_parser *parser;
    char *rbuf;
    uint32_t next_tag;
    struct pending *head, *tail;
    size_t n_pending;
    /* Set while a command waits for "+"; at most one at a time. */
    struct pending *cont_waiter;
    bool got_cont;
    bool dead;
    struct err dead_err;
    bool caps_known;
    struct imap_caps caps;
    imap_untagged_fn *untagged;
    void *untagged_ctx;
    struct imap_literal_handler lit;
    bool lit_set;
    /* Remaining bytes of a literal being written by the caller. */
    uint64_t literal_left;
    bool in_literal;
    char *rest_text; /* command text after an external literal */
    bool layer_change; /* nothing may follow the next tagged answer */
    char *bye_text;
    char *greeting; /* the greeting line, for --info */
    struct pending *idle; /* the IDLE command while it runs */
    enum imap_status idle_status;
};

static bool session_read_hook(void *ctx, struct err *e);

struct imap_session *imap_session_new(struct conn *conn, const char *desc)
{
    struct imap_session *s = xcalloc(1, sizeof(*s));
    s->conn = conn;
    s->desc = xstrdup(desc);
    s->parser = imap_parser_new(NULL);
    s->rbuf = xmalloc(SESSION_READ_CHUNK);
    s->next_tag = 1;
    imap_caps_init(&s->caps);
    conn_set_read_hook(conn, session_read_hook, s);
    return s;
}

static void fail_all(struct imap_session *s)
{
    struct pending *p = s->head;
    s->head = s->tail = NULL;
    s->n_pending = 0;
    s->cont_waiter = NULL;
    while (p) {
        struct pending *next = p->next;
        if (p->done)
            p->done(p->ctx, NULL, &s->dead_err);
        free(p);
        p = next;
    }
}

static void session_die(struct imap_session *s, const struct err *e)
{
    if (s->dead)
        return;
    s->dead = true;
    err_set(&s->dead_err, ERR_REPO, e->kind, "%s", e->msg ? e->msg : "connection lost");
    if (s->bye_text && e->kind == ERRK_NETWORK)
        err_prefix(&s->dead_err, "server %s said BYE (%s): ", s->desc, s->bye_text);
    fail_all(s);
}

void imap_session_free(struct imap_session **sp)
{
    struct imap_session *s = *sp;
    if (!s)
        return;
    if (!s->dead) {
        struct err e = ERR_INIT;
        err_set(&e, ERR_REPO, ERRK_NETWORK, "connection to %s closed", s->desc);
        session_die(s, &e);
        err_clear(&e);
    }
    conn_close(&s->conn);
    imap_parser_free(&s->parser);
    imap_caps_release(&s->caps);
    err_clear(&s->dead_err);
    free(s->rbuf);
    free(s->desc);
    free(s->bye_text);
    free(s->rest_text);
    free(s->greeting);
    free(s);
    *sp = NULL;
}

struct conn *imap_session_conn(struct imap_session *s)
{
    return s->conn;
}

const char *imap_session_desc(const struct imap_session *s)
{
    return s->desc;
}

bool imap_session_dead(const struct imap_session *s)
{
    return s->dead;
}

const struct imap_caps *imap_session_caps(const struct imap_session *s)
{
    return &s->caps;
}

bool imap_session_has_cap(const struct imap_session *s, enum imap_cap cap)
{
    return imap_caps_has(&s->caps, cap);
}

void imap_session_clear_caps(struct imap_session *s)
{
    imap_caps_release(&s->caps);
    imap_caps_init(&s->caps);
    s->caps_known = false;
}

const char *imap_session_greeting_line(const struct imap_session *s)
{
    return s->greeting;
}

bool imap_session_caps_known(const struct imap_session *s)
{
    return s->caps_known;
}

void imap_session_expect_layer_change(struct imap_session *s)
{
    s->layer_change = true;
}

void imap_session_set_untagged(struct imap_session *s, imap_untagged_fn *fn, void *ctx)
{
    s->untagged = fn;
    s->untagged_ctx = ctx;
}

void imap_session_set_literal_handler(struct imap_session *s, const struct imap_literal_handler *h)
{
    if (h) {
        s->lit = *h;
        s->lit_set = true;
        imap_parser_set_literal_handler(s->parser, h);
    } else {
        memset(&s->lit, 0, sizeof(s->lit));
        s->lit_set = false;
        imap_parser_set_literal_handler(s->parser, NULL);
    }
}

/* ---- logging ---------------------------------------------------------- */

static void format_arg(struct buf *b, const struct imap_arg *a, size_t limit)
{
    if (b->len > limit)
        return;
    switch (a->type) {
    case IMAP_ARG_NIL:
        buf_append_str(b, "NIL");
        break;
    case IMAP_ARG_ATOM:
        buf_append(b, a->str, a->len < 200 ? a->len : 200);
        break;
    case IMAP_ARG_STRING:
        buf_append_char(b, '"');
        buf_append(b, a->str, a->len < 200 ? a->len : 200);
        buf_append_char(b, '"');
        break;
    case IMAP_ARG_LITERAL:
    case IMAP_ARG_LITERAL_STREAM:
        buf_printf(b, "{%llu bytes}", (unsigned long long)a->len);
        break;
    case IMAP_ARG_LIST:
        buf_append_char(b, '(');
        for (uint64_t i = 0; i < a->len; i++) {
            if (i)
                buf_append_char(b, ' ');
            format_arg(b, &a->list[i], limit);
        }
        buf_append_char(b, ')');
        break;
    }
}

/* A response as one line of text (literals as their sizes), cut after limit bytes. */
static void format_resp(struct buf *b, const struct imap_resp *r, size_t limit)
{
    if (r->kind == IMAP_RESP_CONTINUATION) {
        buf_append_str(b, "+ ");
        /* Continuation text may carry SASL challenges; they are not secrets. */
        buf_append_str(b, r->text ? r->text : "");
    } else {
        buf_append_str(b, r->kind == IMAP_RESP_TAGGED ? r->tag : "*");
        if (r->status != IMAP_STATUS_NONE) {
            buf_printf(b, " %s", imap_status_name(r->status));
            if (r->code) {
                buf_printf(b, " [%s", r->code);
                for (size_t i = 0; i < r->code_count; i++) {
                    buf_append_char(b, ' ');
                    format_arg(b, &r->code_args[i], limit);
                }
                buf_append_char(b, ']');
            }
            if (r->text && *r->text)
                buf_printf(b, " %s", r->text);
        }
        for (size_t i = 0; i < r->count; i++) {
            buf_append_char(b, ' ');
            format_arg(b, &r->args[i], limit);
        }
    }
    if (b->len > limit)
        buf_truncate(b, limit), buf_append_str(b, "...");
}

void imap_session_log_resp(const struct imap_session *s, const struct imap_resp *r)
{
    if (!log_debug_enabled(LOGC_IMAP))
        return;
    struct buf b;
    buf_init(&b, 4096);
    format_resp(&b, r, 1000);
    log_debug(LOGC_IMAP, "%s < %s", s->desc, b.data);
    buf_release(&b);
}

static void log_sent(const struct imap_session *s, const char *tag, const char *text,
                     unsigned flags)
{
    if (!log_debug_enabled(LOGC_IMAP))
        return;
    if (flags & IMAP_SEND_SECRET) {
        /*
         * Keep only the command name (and the mechanism of AUTHENTICATE): the
         * rest may hold a password or token.
         */
        size_t n = strcspn(text, " ");
        if (n == 12 && strncasecmp(text, "AUTHENTICATE", 12) == 0 && text[n] == ' ')
            n += 1 + strcspn(text + n + 1, " ");
        log_debug(LOGC_IMAP, "%s > %s %.*s <secret hidden>", s->desc, tag, (int)n, text);
    } else {
        size_t len = strlen(text);
        log_debug(LOGC_IMAP, "%s > %s %.*s%s", s->desc, tag, (int)(len > 1000 ? 1000 : len), text,
                  len > 1000 ? "..." : "");
    }
}

/* ---- responses --------------------------------------------------------- */

static void take_caps(struct imap_session *s, const struct imap_resp *r)
{
    struct imap_caps caps;
    imap_caps_init(&caps);
    struct err e = ERR_INIT;
    if (imap_decode_capability(r, &caps, &e)) {
        imap_caps_release(&s->caps);
        s->caps = caps;
        s->caps_known = true;
    } else {
        imap_caps_release(&caps);
        log_warn("%s: ignoring an unreadable capability list: %s", s->desc, e.msg);
    }
    err_clear(&e);
}

static void handle_caps_code(struct imap_session *s, const struct imap_resp *r)
{
    if (r->code && !strcmp(r->code, "CAPABILITY"))
        take_caps(s, r);
}

static void handle_untagged(struct imap_session *s, const struct imap_resp *r)
{
    handle_caps_code(s, r);
    if (r->status == IMAP_STATUS_BYE) {
        free(s->bye_text);
        s->bye_text = xstrdup(r->text ? r->text : "");
    } else if (r->status == IMAP_STATUS_OK && r->code && !strcmp(r->code, "ALERT")) {
        log_warn("server %s says: %s", s->desc, r->text ? r->text : "");
    } else if (imap_resp_data(r) == IMAP_DATA_CAPABILITY) {
        take_caps(s, r);
        return;
    }
    if (s->untagged)
        s->untagged(s->untagged_ctx, r);
}

static bool handle_tagged(struct imap_session *s, const struct imap_resp *r, struct err *e)
{
    struct pending *prev = NULL, *p = s->head;
    while (p && strcmp(p->tag, r->tag) != 0) {
        prev = p;
        p = p->next;
    }
    if (!p) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL,
                "server %s answered a command we did not send (tag %.40s)", s->desc, r->tag);
        return false;
    }
    if (prev)
        prev->next = p->next;
    else
        s->head = p->next;
    if (s->tail == p)
        s->tail = prev;
    s->n_pending--;
    if (s->cont_waiter == p)
        s->cont_waiter = NULL;
    handle_caps_code(s, r);
    prof_end(&p->mark, "imap", p->verb, 0);
    if (p->done)
        p->done(p->ctx, r, NULL);
    free(p);
    return true;
}

static bool handle_continuation(struct imap_session *s, const struct imap_resp *r, struct err *e)
{
    struct pending *p = s->cont_waiter;
    if (!p) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL,
                "server %s sent a continuation request nobody asked for", s->desc);
        return false;
    }
    if (p->literal_wait) {
        s->got_cont = true;
        return true;
    }
    char *line = NULL;
    bool go = p->cont && p->cont(p->cont_ctx, r->text ? r->text : "", &line);
    if (!go) {
        free(line);
        line = xstrdup("*");
    }
    log_debug(LOGC_IMAP, "%s > <continuation answer hidden>", s->desc);
    bool ok = conn_write(s->conn, line, strlen(line), e) && conn_write(s->conn, "\r\n", 2, e) &&
              conn_flush(s->conn, e);
    /* The answer may hold a password or token. */
    memset(line, 0, strlen(line));
    free(line);
    return ok;
}

/* Feed bytes to the parser and dispatch every complete response. */
static bool process_input(struct imap_session *s, const char *data, size_t len, struct err *e)
{
    while (len > 0) {
        size_t used = 0;
        const struct imap_resp *r = NULL;
        enum imap_parse_result pr = imap_parser_feed(s->parser, data, len, &used, &r, e);
        data += used;
        len -= used;
        if (pr == IMAP_PARSE_ERROR) {
            err_prefix(e, "server %s: ", s->desc);
            e->scope = ERR_REPO;
            e->kind = ERRK_PROTOCOL;
            return false;
        }
        if (pr == IMAP_PARSE_MORE)
            break;
        imap_session_log_resp(s, r);
        bool ok = true;
        switch (r->kind) {
        case IMAP_RESP_UNTAGGED:
            handle_untagged(s, r);
            break;
        case IMAP_RESP_TAGGED:
            ok = handle_tagged(s, r, e);
            if (ok && s->layer_change) {
                s->layer_change = false;
                if (len > 0) {
                    err_set(e, ERR_REPO, ERRK_PROTOCOL,
                            "server %s sent %zu unexpected bytes together with its answer to "
                            "STARTTLS or COMPRESS; refusing to go on (this is how plain-text "
                            "injection attacks work)",
                            s->desc, len);
                    return false;
                }
            }
            break;
        case IMAP_RESP_CONTINUATION:
            ok = handle_continuation(s, r, e);
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

/* Read once (waiting if wait) and process; false if the session died. */
static bool read_some(struct imap_session *s, bool wait, struct err *e)
{
    ssize_t n = wait ? conn_read(s->conn, s->rbuf, SESSION_READ_CHUNK, e)
                     : conn_read_nowait(s->conn, s->rbuf, SESSION_READ_CHUNK, e);
    if (n == -2)
        return true;
    if (n == 0) {
        err_set(e, ERR_REPO, ERRK_NETWORK, "server %s closed the connection", s->desc);
        if (s->bye_text)
            err_prefix(e, "server %s said BYE (%s): ", s->desc, s->bye_text);
        return false;
    }
    if (n < 0)
        return false;
    return process_input(s, s->rbuf, (size_t)n, e);
}

static bool fail(struct imap_session *s, struct err *e)
{
    session_die(s, e);
    if (e->msg == NULL || e->scope == ERR_OK)
        err_set(e, ERR_REPO, s->dead_err.kind, "%s", s->dead_err.msg);
    return false;
}

static bool check_alive(struct imap_session *s, struct err *e)
{
    if (!s->dead)
        return true;
    err_set(e, ERR_REPO, s->dead_err.kind, "%s", s->dead_err.msg);
    return false;
}

static bool session_read_hook(void *ctx, struct err *e)
{
    struct imap_session *s = ctx;
    /* Drain what is there; the flush goes on afterwards. */
    for (int i = 0; i < 64 && conn_readable(s->conn); i++)
        if (!read_some(s, false, e))
            return false;
    return true;
}

bool imap_poll(struct imap_session *s, struct err *e)
{
    if (!check_alive(s, e))
        return false;
    while (conn_readable(s->conn))
        if (!read_some(s, false, e))
            return fail(s, e);
    return true;
}

bool imap_session_greeting(struct imap_session *s, bool *preauth_r, struct err *e)
{
    /* The greeting is untagged: catch it with a one-off consumer. */
    struct imap_parser *p = s->parser;
    *preauth_r = false;
    for (;;) {
        ssize_t n = conn_read(s->conn, s->rbuf, SESSION_READ_CHUNK, e);
        if (n <= 0) {
            if (n == 0)
                err_set(e, ERR_REPO, ERRK_NETWORK,
                        "server %s closed the connection before its greeting", s->desc);
            return fail(s, e);
        }
        const char *data = s->rbuf;
        size_t len = (size_t)n;
        while (len > 0) {
            size_t used = 0;
            const struct imap_resp *r = NULL;
            enum imap_parse_result pr = imap_parser_feed(p, data, len, &used, &r, e);
            data += used;
            len -= used;
            if (pr == IMAP_PARSE_ERROR) {
                err_prefix(e, "server %s sent a bad greeting: ", s->desc);
                e->kind = ERRK_PROTOCOL;
                return fail(s, e);
            }
            if (pr == IMAP_PARSE_MORE)
                break;
            imap_session_log_resp(s, r);
            if (r->kind != IMAP_RESP_UNTAGGED || r->status == IMAP_STATUS_NONE) {
                err_set(e, ERR_REPO, ERRK_PROTOCOL, "server %s did not start with an IMAP greeting",
                        s->desc);
                return fail(s, e);
            }
            if (r->status == IMAP_STATUS_BYE) {
                err_set(e, ERR_REPO, ERRK_NETWORK, "server %s refused the connection: %s", s->desc,
                        r->text ? r->text : "");
                return fail(s, e);
            }
            if (r->status != IMAP_STATUS_OK && r->status != IMAP_STATUS_PREAUTH) {
                err_set(e, ERR_REPO, ERRK_PROTOCOL, "server %s sent a bad greeting: %s %s", s->desc,
                        imap_status_name(r->status), r->text ? r->text : "");
                return fail(s, e);
            }
            *preauth_r = r->status == IMAP_STATUS_PREAUTH;
            struct buf g;
            buf_init(&g, BUF_UNBOUNDED);
            format_resp(&g, r, 4000);
            free(s->greeting);
            s->greeting = buf_detach(&g, NULL);
            handle_caps_code(s, r);
            /* Anything after the greeting line is processed normally. */
            return len == 0 || process_input(s, data, len, e) || fail(s, e);
        }
    }
}

/* ---- sending ----------------------------------------------------------- */

/* The command name for -P: its first word, or two for UID commands. */
static void set_verb(struct pending *p, const char *text)
{
    if (!p->mark.start_ns)
        return;
    size_t n = strcspn(text, " ");
    if (n == 3 && !strncasecmp(text, "UID", 3) && text[3] == ' ')
        n = 4 + strcspn(text + 4, " ");
    snprintf(p->verb, sizeof(p->verb), "%.*s", (int)n, text);
}

static struct pending *new_pending(struct imap_session *s, imap_done_fn *done, void *ctx)
{
    struct pending *p = xcalloc(1, sizeof(*p));
    prof_begin(&p->mark);
    snprintf(p->tag, sizeof(p->tag), "A%u", s->next_tag++);
    p->done = done;
    p->ctx = ctx;
    if (s->tail)
        s->tail->next = p;
    else
        s->head = p;
    s->tail = p;
    s->n_pending++;
    return p;
}

/* Write "TAG text" (and the literal announcement) for a new command. */
static struct pending *start_command(struct imap_session *s, unsigned flags, imap_done_fn *done,
                                     void *ctx, const char *suffix, struct err *e, const char *fmt,
                                     va_list ap) __attribute__((format(printf, 7, 0)));

static struct pending *start_command(struct imap_session *s, unsigned flags, imap_done_fn *done,
                                     void *ctx, const char *suffix, struct err *e, const char *fmt,
                                     va_list ap)
{
    if (!check_alive(s, e))
        return NULL;
    if (s->in_literal) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "internal error: command sent inside a literal");
        return NULL;
    }
    struct buf text;
    buf_init(&text, SESSION_MAX_COMMAND);
    if (!buf_vprintf(&text, fmt, ap)) {
        buf_release(&text);
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "IMAP command longer than %d bytes",
                SESSION_MAX_COMMAND);
        return NULL;
    }
    if (memchr(text.data, '\r', text.len) || memchr(text.data, '\n', text.len)) {
        buf_release(&text);
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "internal error: line break inside an IMAP command");
        return NULL;
    }
    struct pending *p = new_pending(s, done, ctx);
    set_verb(p, text.data);
    log_sent(s, p->tag, text.data, flags);
    bool ok = conn_write(s->conn, p->tag, strlen(p->tag), e) && conn_write(s->conn, " ", 1, e) &&
              conn_write(s->conn, text.data, text.len, e) &&
              conn_write(s->conn, suffix, strlen(suffix), e);
    buf_release(&text);
    if (!ok) {
        fail(s, e);
        return NULL;
    }
    return p;
}

bool imap_vsend(struct imap_session *s, unsigned flags, imap_done_fn *done, void *ctx,
                struct err *e, const char *fmt, va_list ap)
{
    return start_command(s, flags, done, ctx, "\r\n", e, fmt, ap) != NULL;
}

bool imap_send(struct imap_session *s, unsigned flags, imap_done_fn *done, void *ctx, struct err *e,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = imap_vsend(s, flags, done, ctx, e, fmt, ap);
    va_end(ap);
    return ok;
}

bool imap_flush(struct imap_session *s, struct err *e)
{
    if (!check_alive(s, e))
        return false;
    if (!conn_flush(s->conn, e))
        return fail(s, e);
    /* The read hook may have run and found the session dead. */
    return check_alive(s, e);
}

bool imap_wait_all(struct imap_session *s, struct err *e)
{
    if (!imap_flush(s, e))
        return false;
    while (s->head) {
        if (!read_some(s, true, e))
            return fail(s, e);
    }
    return true;
}

bool imap_wait_pending(struct imap_session *s, size_t max_pending, struct err *e)
{
    if (!imap_flush(s, e))
        return false;
    while (s->n_pending > max_pending) {
        if (!read_some(s, true, e))
            return fail(s, e);
    }
    return true;
}

size_t imap_pending(const struct imap_session *s)
{
    return s->n_pending;
}

/* Wait until the command p is no longer pending (its done callback ran). */
static bool wait_for(struct imap_session *s, struct pending *p, struct err *e)
{
    if (!imap_flush(s, e))
        return false;
    for (;;) {
        bool found = false;
        for (struct pending *q = s->head; q; q = q->next)
            if (q == p)
                found = true;
        if (!found)
            return true;
        if (!read_some(s, true, e))
            return fail(s, e);
    }
}

bool imap_send_cont(struct imap_session *s, unsigned flags, imap_cont_fn *cont, void *cont_ctx,
                    imap_done_fn *done, void *ctx, struct err *e, const char *fmt, ...)
{
    if (s->cont_waiter) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "internal error: two commands wait for continuations");
        return false;
    }
    va_list ap;
    va_start(ap, fmt);
    struct pending *p = start_command(s, flags, done, ctx, "\r\n", e, fmt, ap);
    va_end(ap);
    if (!p)
        return false;
    p->cont = cont;
    p->cont_ctx = cont_ctx;
    s->cont_waiter = p;
    return wait_for(s, p, e);
}

void imap_session_cmd_init(const struct imap_session *s, struct imap_cmd *c)
{
    enum imap_literal_mode mode = IMAP_LITERAL_SYNC;
    if (imap_caps_has(&s->caps, IMAP_CAP_LITERALPLUS))
        mode = IMAP_LITERAL_PLUS;
    else if (imap_caps_has(&s->caps, IMAP_CAP_LITERALMINUS))
        mode = IMAP_LITERAL_MINUS;
    imap_cmd_init(c, SESSION_MAX_COMMAND, mode);
}

static bool still_pending(const struct imap_session *s, const struct pending *p)
{
    for (const struct pending *q = s->head; q; q = q->next)
        if (q == p)
            return true;
    return false;
}

/*
 * Wait for the "+" that lets a synchronizing literal go.  Returns true with
 * *refused_r set if the command completed instead (the server said NO/BAD).
 */
static bool wait_continuation(struct imap_session *s, struct pending *p, bool *refused_r,
                              struct err *e)
{
    if (s->cont_waiter) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "internal error: two commands wait for continuations");
        return fail(s, e);
    }
    s->cont_waiter = p;
    p->literal_wait = true;
    s->got_cont = false;
    *refused_r = false;
    if (!imap_flush(s, e))
        return false;
    while (!s->got_cont) {
        if (!still_pending(s, p)) {
            *refused_r = true;
            return true;
        }
        if (!read_some(s, true, e))
            return fail(s, e);
    }
    s->cont_waiter = NULL;
    p->literal_wait = false;
    return true;
}

static void log_cmd(const struct imap_session *s, const char *tag, const struct imap_cmd *c,
                    unsigned flags)
{
    if (!log_debug_enabled(LOGC_IMAP))
        return;
    /* Up to the first literal (or the CRLF): literal contents are not logged. */
    size_t n = c->nlits ? c->lits[0].offset : c->text.len;
    while (n > 0 && (c->text.data[n - 1] == '\n' || c->text.data[n - 1] == '\r'))
        n--;
    char *text = xstrndup(c->text.data, n);
    log_sent(s, tag, text, flags);
    free(text);
}

/*
 * Send c under a new tag, waiting for "+" before each synchronizing literal.
 * If the last literal is external, stop before its bytes and keep the rest of
 * the text for imap_literal_end().
 */
static struct pending *send_cmd(struct imap_session *s, unsigned flags, imap_done_fn *done,
                                void *ctx, struct imap_cmd *c, bool *refused_r, struct err *e)
{
    *refused_r = false;
    if (!check_alive(s, e))
        return NULL;
    if (s->in_literal) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "internal error: command sent inside a literal");
        return NULL;
    }
    struct pending *p = new_pending(s, done, ctx);
    set_verb(p, c->text.data);
    log_cmd(s, p->tag, c, flags);
    if (!conn_write(s->conn, p->tag, strlen(p->tag), e) || !conn_write(s->conn, " ", 1, e)) {
        fail(s, e);
        return NULL;
    }
    size_t pos = 0;
    for (size_t i = 0; i < c->nlits; i++) {
        const struct imap_cmd_literal *l = &c->lits[i];
        if (!conn_write(s->conn, c->text.data + pos, l->offset - pos, e)) {
            fail(s, e);
            return NULL;
        }
        pos = l->offset;
        if (l->sync) {
            if (!wait_continuation(s, p, refused_r, e))
                return NULL;
            if (*refused_r)
                return p;
        }
        if (l->external) {
            free(s->rest_text);
            s->rest_text = xstrndup(c->text.data + pos, c->text.len - pos);
            s->in_literal = true;
            s->literal_left = l->size;
            return p;
        }
    }
    if (!conn_write(s->conn, c->text.data + pos, c->text.len - pos, e)) {
        fail(s, e);
        return NULL;
    }
    return p;
}

bool imap_send_cmd(struct imap_session *s, unsigned flags, imap_done_fn *done, void *ctx,
                   struct imap_cmd *c, struct err *e)
{
    bool refused;
    return send_cmd(s, flags, done, ctx, c, &refused, e) != NULL;
}

bool imap_send_external(struct imap_session *s, imap_done_fn *done, void *ctx, struct imap_cmd *c,
                        bool *refused_r, struct err *e)
{
    return send_cmd(s, 0, done, ctx, c, refused_r, e) != NULL;
}

bool imap_literal_write(struct imap_session *s, const void *data, size_t len, struct err *e)
{
    if (!check_alive(s, e))
        return false;
    if (!s->in_literal || len > s->literal_left) {
        err_set(e, ERR_REPO, ERRK_GENERIC,
                "internal error: literal data beyond the announced size for %s", s->desc);
        return fail(s, e);
    }
    s->literal_left -= len;
    if (!conn_write(s->conn, data, len, e))
        return fail(s, e);
    return check_alive(s, e);
}

bool imap_literal_end(struct imap_session *s, struct err *e)
{
    if (!check_alive(s, e))
        return false;
    if (!s->in_literal || s->literal_left != 0) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "internal error: literal for %s ended %llu bytes short",
                s->desc, (unsigned long long)s->literal_left);
        return fail(s, e);
    }
    s->in_literal = false;
    const char *rest = s->rest_text ? s->rest_text : "\r\n";
    bool ok = conn_write(s->conn, rest, strlen(rest), e);
    XFREE(s->rest_text);
    return ok || fail(s, e);
}

/* ---- synchronous commands ------------------------------------------------ */

struct sync_wait {
    struct imap_result *res;
    bool done;
    struct err err;
};

static void sync_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
    struct sync_wait *w = ctx;
    w->done = true;
    if (!r) {
        err_set(&w->err, e->scope, e->kind, "%s", e->msg);
        return;
    }
    w->res->status = r->status;
    w->res->code = r->code ? xstrdup(r->code) : NULL;
    w->res->text = xstrdup(r->text ? r->text : "");
    if (r->code && !strcmp(r->code, "APPENDUID")) {
        struct imap_code_data d;
        imap_code_data_init(&d);
        struct err de = ERR_INIT;
        if (imap_decode_code(r, 1, &d, &de) && d.uids.n == 1) {
            w->res->appenduid_validity = d.uidvalidity;
            w->res->appenduid = d.uids.v[0];
        }
        err_clear(&de);
        imap_code_data_release(&d);
    }
}

void imap_result_release(struct imap_result *r)
{
    free(r->code);
    free(r->text);
    memset(r, 0, sizeof(*r));
}

static bool finish_command(struct imap_session *s, struct pending *p, struct sync_wait *w,
                           struct imap_result *res, struct imap_result *local, const char *name,
                           struct err *e);

bool imap_command_cmd(struct imap_session *s, unsigned flags, struct imap_result *res_r,
                      struct imap_cmd *c, struct err *e)
{
    struct imap_result local = {0};
    struct imap_result *res = res_r ? res_r : &local;
    memset(res, 0, sizeof(*res));
    struct sync_wait w = {.res = res, .done = false, .err = ERR_INIT};
    bool refused;
    struct pending *p = send_cmd(s, flags, sync_done, &w, c, &refused, e);
    if (!p)
        return false;
    return finish_command(s, p, &w, res, &local, c->text.data, e);
}

bool imap_command(struct imap_session *s, unsigned flags, struct imap_result *res_r, struct err *e,
                  const char *fmt, ...)
{
    struct imap_result local = {0};
    struct imap_result *res = res_r ? res_r : &local;
    memset(res, 0, sizeof(*res));
    struct sync_wait w = {.res = res, .done = false, .err = ERR_INIT};
    va_list ap;
    va_start(ap, fmt);
    struct pending *p = start_command(s, flags, sync_done, &w, "\r\n", e, fmt, ap);
    va_end(ap);
    if (!p)
        return false;
    return finish_command(s, p, &w, res, &local, fmt, e);
}

static bool finish_command(struct imap_session *s, struct pending *p, struct sync_wait *w,
                           struct imap_result *res, struct imap_result *local, const char *name,
                           struct err *e)
{
    if (!wait_for(s, p, e)) {
        err_clear(&w->err);
        imap_result_release(local);
        return false;
    }
    if (err_isset(&w->err)) {
        err_move(e, &w->err);
        imap_result_release(local);
        return false;
    }
    bool ok = res->status == IMAP_STATUS_OK;
    if (!ok) {
        /* Name the command, not its arguments (which may be secret). */
        size_t n = strcspn(name, " ");
        if (!strncmp(name, "UID ", 4))
            n = 4 + strcspn(name + 4, " ");
        err_set(e, ERR_FOLDER, ERRK_PROTOCOL, "server %s answered %.*s with %s: %s", s->desc,
                (int)n, name, imap_status_name(res->status), res->text ? res->text : "");
    }
    imap_result_release(local);
    return ok;
}

/* ---- pipelined commands with results --------------------------------------------- */

void imap_result_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
    struct imap_result *res = ctx;
    imap_result_release(res);
    if (!r) {
        res->status = IMAP_STATUS_NONE;
        res->text = xstrdup(e && e->msg[0] ? e->msg : "connection lost");
        return;
    }
    res->status = r->status;
    res->code = r->code ? xstrdup(r->code) : NULL;
    res->text = xstrdup(r->text ? r->text : "");
}

bool imap_result_ok(const struct imap_session *s, const struct imap_result *res, const char *name,
                    struct err *e)
{
    if (res->status == IMAP_STATUS_OK)
        return true;
    err_set(e, ERR_FOLDER, ERRK_PROTOCOL, "server %s answered %s with %s: %s", s->desc, name,
            res->status == IMAP_STATUS_NONE ? "nothing" : imap_status_name(res->status),
            res->text ? res->text : "");
    return false;
}

/* ---- IDLE ---------------------------------------------------------------- */

static void idle_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
    struct imap_session *s = ctx;
    (void)e;
    s->idle_status = r ? r->status : IMAP_STATUS_NONE;
    s->idle = NULL;
}

static struct pending *send_idle(struct imap_session *s, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static struct pending *send_idle(struct imap_session *s, struct err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct pending *p = start_command(s, 0, idle_done, s, "\r\n", e, fmt, ap);
    va_end(ap);
    return p;
}

bool imap_idle_begin(struct imap_session *s, bool *refused_r, struct err *e)
{
    *refused_r = false;
    if (s->idle) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "internal error: IDLE while IDLE runs");
        return false;
    }
    struct pending *p = send_idle(s, e, "IDLE");
    if (!p)
        return false;
    s->idle = p;
    s->idle_status = IMAP_STATUS_NONE;
    if (!wait_continuation(s, p, refused_r, e))
        return false;
    if (*refused_r) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "server %s refused IDLE (%s)", s->desc,
                imap_status_name(s->idle_status));
        return true;
    }
    return true;
}

bool imap_idle_active(const struct imap_session *s)
{
    return s->idle != NULL;
}

bool imap_idle_end(struct imap_session *s, struct err *e)
{
    struct pending *p = s->idle;
    if (!p)
        return check_alive(s, e);
    log_debug(LOGC_IMAP, "%s > DONE", s->desc);
    if (!check_alive(s, e))
        return false;
    if (!conn_write(s->conn, "DONE\r\n", 6, e))
        return fail(s, e);
    if (!wait_for(s, p, e))
        return false;
    if (s->idle_status != IMAP_STATUS_OK) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "server %s ended IDLE with %s", s->desc,
                imap_status_name(s->idle_status));
        return false;
    }
    return true;
}

int imap_session_fd(struct imap_session *s)
{
    return conn_fd(s->conn);
}
