/*
 * imap_session: one IMAP connection: tags, pipelined commands, responses.
 *
 * Commands are sent without waiting for earlier ones to finish; each has a
 * completion callback run when its tagged response arrives.  Responses are
 * read and parsed as they come, also while a large write is in progress
 * (through the connection's read hook), so a deep pipeline cannot deadlock.
 * Untagged responses go to built-in handlers (CAPABILITY, BYE, ALERT) and then
 * to the consumer set with imap_session_set_untagged() (the open folder).
 *
 * Callbacks (done, untagged, literal) run inside session calls.  They must
 * not send commands on the same session; they record results.
 *
 * When the connection fails or the server sends something unparseable, the
 * session is dead: every pending command completes with the error, and every
 * later call fails at once with it.  Errors have scope ERR_REPO and name the
 * server.
 *
 * With -d imap every line is logged, except that payloads of commands sent
 * with IMAP_SEND_SECRET (LOGIN, AUTHENTICATE answers) are replaced by a marker.
 */
#ifndef IMAP_SESSION_H
#define IMAP_SESSION_H

#include "base/err.h"
#include "imap/imap_cmd.h"
#include "imap/imap_decode.h"
#include "imap/imap_parser.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct imap_session;

/* What a command's tagged answer said, for imap_command() callers. */
struct imap_result {
    enum imap_status status;
    char *code; /* resp-text-code name, or NULL */
    char *text; /* the server's human text */
    /* APPENDUID, if the tagged response had one */
    uint32_t appenduid_validity;
    uint32_t appenduid;
};

/* Completion of a command: tagged is NULL when the session died (e set). */
typedef void imap_done_fn(void *ctx, const struct imap_resp *tagged, const struct err *e);
typedef void imap_untagged_fn(void *ctx, const struct imap_resp *resp);
/*
 * A "+" continuation for a command sent with imap_send_cont(): put the line
 * to send (without CRLF) into *line_r (xmalloc'd) and return true, or return
 * false to cancel the exchange (the session sends "*").
 */
typedef bool imap_cont_fn(void *ctx, const char *text, char **line_r);

enum imap_send_flags {
    IMAP_SEND_SECRET = 1u << 0, /* do not log the arguments */
};

/* Takes ownership of conn.  desc names the server in messages ("host:port"). */
struct imap_session *imap_session_new(struct conn *conn, const char *desc);
void imap_session_free(struct imap_session **s);

struct conn *imap_session_conn(struct imap_session *s);
const char *imap_session_desc(const struct imap_session *s);
bool imap_session_dead(const struct imap_session *s);
const struct imap_caps *imap_session_caps(const struct imap_session *s);
bool imap_session_has_cap(const struct imap_session *s, enum imap_cap cap);
/* Forget the capabilities (after STARTTLS or login) so they are asked again. */
void imap_session_clear_caps(struct imap_session *s);
/* True once capabilities are known (from the greeting, a code or CAPABILITY). */
bool imap_session_caps_known(const struct imap_session *s);

/*
 * The next tagged answer must be the last thing in what the server sent
 * (STARTTLS, COMPRESS): bytes after it would be plain text slipped in before
 * the new layer starts, so they make the session fail.
 */
void imap_session_expect_layer_change(struct imap_session *s);

/* The greeting as a line of text ("* OK [CAPABILITY ...] ready."), or NULL before it. */
const char *imap_session_greeting_line(const struct imap_session *s);
/* Read the greeting.  *preauth_r says whether the server sent PREAUTH. */
bool imap_session_greeting(struct imap_session *s, bool *preauth_r, struct err *e);

void imap_session_set_untagged(struct imap_session *s, imap_untagged_fn *fn, void *ctx);
void imap_session_set_literal_handler(struct imap_session *s, const struct imap_literal_handler *h);

/*
 * Queue a command (text without tag and CRLF, printf-style).  It is written
 * out when the output buffer fills or the session waits.
 */
bool imap_send(struct imap_session *s, unsigned flags, imap_done_fn *done, void *ctx,
               struct err *e, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
bool imap_vsend(struct imap_session *s, unsigned flags, imap_done_fn *done, void *ctx,
                struct err *e, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
/* A command that expects "+" continuations (AUTHENTICATE); waits for completion. */
bool imap_send_cont(struct imap_session *s, unsigned flags, imap_cont_fn *cont, void *cont_ctx,
                    imap_done_fn *done, void *ctx, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/*
 * Commands holding arguments that may need literals (mailbox names, user
 * names, passwords) are built in a struct imap_cmd (imap_cmd.h) without a
 * tag, started with imap_session_cmd_init() (which picks the literal mode
 * from the server's capabilities) and finished with imap_cmd_finish().
 * Synchronizing literals wait for the server's "+".
 */
void imap_session_cmd_init(const struct imap_session *s, struct imap_cmd *c);
bool imap_send_cmd(struct imap_session *s, unsigned flags, imap_done_fn *done, void *ctx,
                   struct imap_cmd *c, struct err *e);
bool imap_command_cmd(struct imap_session *s, unsigned flags, struct imap_result *res_r,
                      struct imap_cmd *c, struct err *e);
/*
 * A command whose last literal is external (imap_cmd_add_literal_header, an
 * APPEND body): sends everything before the literal's bytes, then the caller
 * gives exactly its size bytes with imap_literal_write() and finishes with
 * imap_literal_end().  If the server refuses before the literal (a
 * synchronizing literal answered NO), done has already run and *refused_r is
 * true.
 */
bool imap_send_external(struct imap_session *s, imap_done_fn *done, void *ctx,
                        struct imap_cmd *c, bool *refused_r, struct err *e);
bool imap_literal_write(struct imap_session *s, const void *data, size_t len, struct err *e);
bool imap_literal_end(struct imap_session *s, struct err *e);

/* Write out everything queued. */
bool imap_flush(struct imap_session *s, struct err *e);
/* Flush and wait until every pending command has completed. */
bool imap_wait_all(struct imap_session *s, struct err *e);
/* Flush and wait until at most max_pending commands are still pending. */
bool imap_wait_pending(struct imap_session *s, size_t max_pending, struct err *e);
/* Number of commands sent and not yet completed. */
size_t imap_pending(const struct imap_session *s);
/* Read and process whatever responses are available now, without waiting. */
bool imap_poll(struct imap_session *s, struct err *e);

void imap_result_release(struct imap_result *r);
/*
 * Send a command and wait for it.  True if the server said OK.  On NO or BAD,
 * false with an ERR_FOLDER error quoting the server's text; res_r (may be
 * NULL) receives the status, code and text either way.
 */
bool imap_command(struct imap_session *s, unsigned flags, struct imap_result *res_r,
                  struct err *e, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Pipelined commands whose answers matter: imap_result_done is a done
 * callback that fills the struct imap_result given as its ctx (status NONE
 * if the connection was lost first; zero the struct before sending, release
 * it after); imap_result_ok then turns an answer other than OK into an
 * ERR_FOLDER error naming the command (name: "SELECT", "UID FETCH", ...).
 */
void imap_result_done(void *ctx, const struct imap_resp *r, const struct err *e);
bool imap_result_ok(const struct imap_session *s, const struct imap_result *res, const char *name,
                    struct err *e);

/*
 * IDLE (RFC 2177).  imap_idle_begin() sends IDLE and waits for the server's
 * "+"; if the server answers NO or BAD instead, it returns true with
 * *refused_r set and e describing the refusal.  While IDLE runs, no other
 * command may be sent; untagged responses reach the untagged consumer when
 * imap_poll() reads them (poll imap_session_fd() for input first).
 * imap_idle_end() sends DONE and waits for the tagged answer (bounded by the
 * connection's timeout): false if the server did not say OK or the session
 * died.  imap_idle_active() says whether IDLE is running.
 */
bool imap_idle_begin(struct imap_session *s, bool *refused_r, struct err *e);
bool imap_idle_end(struct imap_session *s, struct err *e);
bool imap_idle_active(const struct imap_session *s);
/* The descriptor to poll for input (see conn_fd()). */
int imap_session_fd(struct imap_session *s);

/* Log a line of protocol at debug level (used by the session itself). */
void imap_session_log_resp(const struct imap_session *s, const struct imap_resp *r);

#endif
