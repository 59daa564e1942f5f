/*
 * imap_parser: server responses, from bytes to a tree of arguments.
 *
 * The parser does no I/O.  The caller feeds it whatever bytes it has; it
 * consumes what it can and says whether a whole response is ready, more input
 * is needed, or the input is bad.  A response may be split at any byte, so
 * the parser can be fed one byte at a time.
 *
 * Hard limits (struct imap_parser_limits) bound everything it keeps: the
 * bytes of one response outside streamed literals, list depth, the number of
 * arguments, and literal sizes.  A size sent by the server is never trusted:
 * nothing is allocated from it; a literal larger than max_inline_literal is
 * either streamed to the caller's literal handler or refused.
 *
 * Grammar handled (RFC 3501 section 9, RFC 9051, with the usual leniencies):
 *   response      = continue-req / response-data / response-tagged
 *   continue-req  = "+" [SP text] CRLF
 *   response-data = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data /
 *                   message-data / capability-data / ...) CRLF
 *   resp-cond     = ("OK" / "NO" / "BAD" / "BYE" / "PREAUTH")
 *                   [SP "[" resp-text-code "]"] [SP text]
 *   literal       = "{" number ["+"] "}" CRLF *CHAR8      ; also literal8 "~{n}"
 * Lines may end in CRLF or a bare LF.  Atoms may carry a bracketed section and
 * a partial suffix, so "BODY[HEADER.FIELDS (Message-ID)]<0>" is one atom.
 */
#ifndef IMAP_PARSER_H
#define IMAP_PARSER_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_arg_type {
    IMAP_ARG_NIL = 0,
    IMAP_ARG_ATOM,
    IMAP_ARG_STRING,         /* quoted string, unescaped */
    IMAP_ARG_LITERAL,        /* literal kept in memory */
    IMAP_ARG_LITERAL_STREAM, /* literal handed to the literal handler; only the size is kept */
    IMAP_ARG_LIST,
};

struct imap_arg {
    enum imap_arg_type type;
    /* ATOM, STRING, LITERAL: NUL-terminated text (may contain NULs in LITERAL); */
    const char *str;
    /* its length in bytes; for LIST the element count; for LITERAL_STREAM the size */
    uint64_t len;
    const struct imap_arg *list; /* LIST elements */
};

enum imap_resp_kind {
    IMAP_RESP_UNTAGGED = 0,
    IMAP_RESP_TAGGED,
    IMAP_RESP_CONTINUATION,
};

enum imap_status {
    IMAP_STATUS_NONE = 0, /* not a status response (e.g. "* 3 EXISTS") */
    IMAP_STATUS_OK,
    IMAP_STATUS_NO,
    IMAP_STATUS_BAD,
    IMAP_STATUS_BYE,
    IMAP_STATUS_PREAUTH,
};

/* A complete response.  It and everything it points to live until the next feed. */
struct imap_resp {
    enum imap_resp_kind kind;
    const char *tag;           /* TAGGED only */
    enum imap_status status;   /* for status responses, tagged or untagged */
    const char *code;          /* resp-text-code name, upper-cased ("UIDVALIDITY"); or NULL */
    const struct imap_arg *code_args; /* arguments inside the brackets after the code name */
    size_t code_count;
    const char *text;          /* human-readable text after the status and code, or continuation text */
    /* For non-status untagged responses, every argument after "*", e.g.
     * "3" "FETCH" (list...), or "CAPABILITY" "IMAP4rev1" ...  For status
     * responses this is empty. */
    const struct imap_arg *args;
    size_t count;
};

struct imap_parser_limits {
    size_t max_response;       /* bytes of one response outside streamed literals */
    size_t max_depth;          /* list nesting */
    size_t max_args;           /* arguments in one response, all levels */
    uint64_t max_inline_literal; /* larger literals must be streamed */
    uint64_t max_literal;      /* absolute ceiling for any literal, streamed or not */
};

/* Defaults: 8 MiB, 32, 1,000,000 args, 1 MiB inline, 4 GiB literal. */
void imap_parser_default_limits(struct imap_parser_limits *lim);

/* Where a literal occurs, for the handler to decide whether to stream it. */
struct imap_literal_info {
    uint64_t size;
    unsigned depth;           /* list depth, 0 = top level */
    const char *resp_number;  /* for "* 12 FETCH (...)": "12"; else NULL */
    const char *resp_name;    /* "FETCH", "LIST", ... upper-cased; or NULL */
    const char *prev_atom;    /* the atom just before the literal at the same depth, e.g. "BODY[]" */
    /*
     * The arguments before the literal at its depth (for "* 3 FETCH (UID 7
     * BODY[] {n}": UID, 7, BODY[]); valid only during the begin callback.
     */
    const struct imap_arg *siblings;
    size_t n_siblings;
};

struct imap_literal_handler {
    /* Return true to receive the literal through data/end instead of in memory. */
    bool (*begin)(void *ctx, const struct imap_literal_info *info);
    /* Bytes of the literal, in order; returning false stops parsing with an error in e. */
    bool (*data)(void *ctx, const void *data, size_t len, struct err *e);
    /* All bytes delivered. */
    bool (*end)(void *ctx, struct err *e);
    void *ctx;
};

enum imap_parse_result {
    IMAP_PARSE_MORE = 0,  /* all input consumed, no complete response yet */
    IMAP_PARSE_RESPONSE,  /* *resp_r is complete; call again with the rest of the input */
    IMAP_PARSE_ERROR,     /* bad input or a limit hit; e explains; the parser is dead */
};

struct imap_parser;

struct imap_parser *imap_parser_new(const struct imap_parser_limits *lim);
void imap_parser_free(struct imap_parser **p);
void imap_parser_set_literal_handler(struct imap_parser *p, const struct imap_literal_handler *h);

/*
 * Feed len bytes.  *used_r is how many were consumed (the caller drops them);
 * on IMAP_PARSE_RESPONSE some input may remain unconsumed.
 */
enum imap_parse_result imap_parser_feed(struct imap_parser *p, const char *data, size_t len,
                                        size_t *used_r, const struct imap_resp **resp_r,
                                        struct err *e);

/* Helpers for decoders. */
bool imap_arg_is_string(const struct imap_arg *a); /* ATOM, STRING or LITERAL */
bool imap_arg_atom_ieq(const struct imap_arg *a, const char *s);
/* For "astring" or "nstring" uses: the text or NULL (NIL, list, stream). */
const char *imap_arg_str(const struct imap_arg *a);
const char *imap_status_name(enum imap_status st);

#endif
