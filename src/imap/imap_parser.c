/*
 * The parser works on whole lines.  Bytes are collected up to LF; the line
 * (a "segment") is then tokenized in one go, which allows look-ahead inside
 * the segment.  Tokens never span segments: the only thing that does is a
 * literal, which always ends a segment ("... {12}" CRLF), is then read as raw
 * bytes, and is followed by the next segment of the same response.  The list
 * nesting and the arguments parsed so far live in a stack that survives
 * between segments.
 *
 * Elements of open lists sit on one stack; when a list closes, its elements
 * are copied into the response arena as one array.  All strings go straight
 * into the arena, so the line buffer can be reused for the next segment.
 */
#include "imap/imap_parser.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/xalloc.h"
#include "imap/imap_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum parser_state {
    PS_LINE = 0, /* collecting a line segment */
    PS_LITERAL,  /* reading literal bytes */
    PS_DEAD,     /* an error was reported; every further feed fails */
};

/* What tokenizing a segment ended with. */
enum seg_result {
    SEG_EOL = 0, /* end of the line at top level: the response is complete */
    SEG_BRACKET, /* the "]" closing a response code */
    SEG_LITERAL, /* a literal size ends the line; its bytes follow */
    SEG_ARGS,    /* parse_start: arguments follow ("* 3 EXISTS") */
    SEG_ERROR,   /* why_r says what is wrong */
};

struct imap_parser {
    struct imap_parser_limits lim;
    struct imap_literal_handler handler;
    bool has_handler;

    enum parser_state state;
    bool resp_done;     /* resp was handed out; start afresh on the next feed */
    bool started;       /* the first segment of the current response was parsed */
    bool after_literal; /* a literal just ended: a delimiter must follow */
    char *dead_msg;

    struct arena arena;
    struct buf line;
    size_t resp_bytes; /* bytes of this response so far outside streamed literals */

    /* Arguments of all open lists, innermost last. */
    struct imap_arg *stack;
    size_t nstack, capstack;
    size_t *levels; /* levels[d]: index in stack where the list at depth d starts */
    size_t depth;
    size_t nargs;
    size_t no_rbracket_from; /* no "]" after this offset in the segment */
    /* A limit was hit: why_buf says which, and the error reads differently. */
    bool over_limit;
    char why_buf[160];

    /* The literal being read. */
    uint64_t lit_size, lit_left;
    bool lit_stream;
    struct buf lit;

    struct imap_resp resp;
};

void imap_parser_default_limits(struct imap_parser_limits *lim)
{
    lim->max_response = 8u << 20;
    lim->max_depth = 32;
    lim->max_args = 1000000;
    lim->max_inline_literal = 1u << 20;
    lim->max_literal = (uint64_t)4 << 30;
}

struct imap_parser *imap_parser_new(const struct imap_parser_limits *lim)
{
    struct imap_parser *p = xcalloc(1, sizeof(*p));
    if (lim)
        p->lim = *lim;
    else
        imap_parser_default_limits(&p->lim);
    if (p->lim.max_inline_literal > p->lim.max_literal)
        p->lim.max_inline_literal = p->lim.max_literal;
    arena_init(&p->arena, 16384);
    buf_init(&p->line, p->lim.max_response);
    buf_init(&p->lit, 0);
    p->levels = xcalloc(p->lim.max_depth + 2, sizeof(*p->levels));
    return p;
}

void imap_parser_free(struct imap_parser **pp)
{
    struct imap_parser *p = *pp;
    if (!p)
        return;
    arena_free(&p->arena);
    buf_release(&p->line);
    buf_release(&p->lit);
    free(p->stack);
    free(p->levels);
    free(p->dead_msg);
    free(p);
    *pp = NULL;
}

void imap_parser_set_literal_handler(struct imap_parser *p, const struct imap_literal_handler *h)
{
    p->has_handler = h != NULL && h->begin != NULL && h->data != NULL;
    if (h)
        p->handler = *h;
    else
        memset(&p->handler, 0, sizeof(p->handler));
}

static void start_response(struct imap_parser *p)
{
    arena_reset(&p->arena);
    buf_reset(&p->line);
    p->resp_done = false;
    p->started = false;
    p->after_literal = false;
    p->resp_bytes = 0;
    p->nstack = 0;
    p->depth = 0;
    p->nargs = 0;
    memset(&p->resp, 0, sizeof(p->resp));
}

static enum imap_parse_result die(struct imap_parser *p, struct err *e)
{
    p->state = PS_DEAD;
    free(p->dead_msg);
    p->dead_msg = xstrdup(e->msg ? e->msg : "The IMAP response parser failed.");
    return IMAP_PARSE_ERROR;
}

/* Fail, quoting the current line segment. */
static enum imap_parse_result fail_line(struct imap_parser *p, struct err *e, const char *why)
{
    char q[IMAP_QUOTE_SIZE];
    imap_text_quote(p->line.data, p->line.len, q);
    if (p->over_limit)
        err_set(e, ERR_REPO, ERRK_PROTOCOL,
                "The IMAP server sent a response beyond this client's limits (%s): \"%s\".", why,
                q);
    else
        err_set(e, ERR_REPO, ERRK_PROTOCOL,
                "The IMAP server sent a malformed response (%s): \"%s\".", why, q);
    return die(p, e);
}

/* Describe a limit that was hit; returns the text for why_r. */
static const char *limit_hit(struct imap_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *limit_hit(struct imap_parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why_buf, sizeof(p->why_buf), fmt, ap);
    va_end(ap);
    p->over_limit = true;
    return p->why_buf;
}

/* The stack holds at most max_args entries: count_arg() checked each one. */
static void push_arg(struct imap_parser *p, const struct imap_arg *a)
{
    if (p->nstack == p->capstack) {
        p->capstack = p->capstack ? p->capstack * 2 : 64;
        p->stack = xreallocarray(p->stack, p->capstack, sizeof(*p->stack));
    }
    p->stack[p->nstack++] = *a;
}

/* Count one more argument against max_args. */
static bool count_arg(struct imap_parser *p, const char **why_r)
{
    if (p->nargs >= p->lim.max_args) {
        *why_r = limit_hit(p, "more than %zu arguments", p->lim.max_args);
        return false;
    }
    p->nargs++;
    return true;
}

/* Move stack[from..nstack) into the arena; returns the array (NULL if empty). */
static const struct imap_arg *pop_to_arena(struct imap_parser *p, size_t from, size_t *count_r)
{
    size_t n = p->nstack - from;
    struct imap_arg *v = NULL;
    if (n) {
        v = arena_alloc(&p->arena, n * sizeof(*v));
        memcpy(v, p->stack + from, n * sizeof(*v));
    }
    p->nstack = from;
    *count_r = n;
    return v;
}

static char *arena_upper(struct arena *a, const char *s, size_t n)
{
    char *u = arena_strndup(a, s, n);
    for (char *c = u; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    return u;
}

/*
 * atom = 1*ATOM-CHAR, read leniently as servers send it: flags ("\Seen"),
 * wildcards, "]" (astring) and 8-bit bytes are accepted.  A "[" starts a
 * section that may hold spaces and parentheses up to the next "]", so
 * BODY[HEADER.FIELDS (Message-ID)]<0> is one atom.  In a response code the
 * atom ends at "]".
 */
static bool scan_atom(struct imap_parser *p, const char *s, size_t len, size_t *pos, bool code,
                      const char **why_r)
{
    size_t i = *pos;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == ')' || (code && c == ']'))
            break;
        if (c < 0x20 || c == 0x7f) {
            *why_r = "control character in an atom";
            return false;
        }
        if (c == '(' || c == '"') {
            *why_r = c == '(' ? "unexpected '(' in an atom" : "unexpected '\"' in an atom";
            return false;
        }
        if (c == '[' && !code && i + 1 < p->no_rbracket_from) {
            const char *rb = memchr(s + i + 1, ']', len - i - 1);
            if (rb) {
                for (const char *q = s + i + 1; q < rb; q++)
                    if ((unsigned char)*q < 0x20 || *q == 0x7f) {
                        *why_r = "control character in an atom";
                        return false;
                    }
                i = (size_t)(rb - s) + 1;
                continue;
            }
            /* Remember, so that a line of "[" stays linear. */
            p->no_rbracket_from = i;
        }
        i++;
    }
    if (i == *pos) {
        *why_r = "empty atom";
        return false;
    }
    *pos = i;
    return true;
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE, with "\" escaping the next byte. */
static bool scan_quoted(struct imap_parser *p, const char *s, size_t len, size_t *pos,
                        struct imap_arg *a, const char **why_r)
{
    size_t i = *pos + 1, start = i, escapes = 0;
    while (i < len && s[i] != '"') {
        if (s[i] == '\\') {
            escapes++;
            i++;
            if (i == len)
                break;
        }
        i++;
    }
    if (i >= len) {
        *why_r = "unterminated quoted string";
        return false;
    }
    size_t n = i - start - escapes;
    char *d = arena_alloc(&p->arena, n + 1);
    size_t k = 0;
    for (size_t j = start; j < i; j++) {
        if (s[j] == '\\')
            j++;
        d[k++] = s[j];
    }
    d[k] = '\0';
    a->type = IMAP_ARG_STRING;
    a->str = d;
    a->len = n;
    a->list = NULL;
    *pos = i + 1;
    return true;
}

static void literal_info(struct imap_parser *p, struct imap_literal_info *info)
{
    memset(info, 0, sizeof(*info));
    info->size = p->lit_size;
    info->depth = (unsigned)p->depth;
    size_t top_end = p->depth > 0 ? p->levels[1] : p->nstack;
    const struct imap_arg *top = p->stack;
    size_t name_at = 0;
    if (top_end > 0 && top[0].type == IMAP_ARG_ATOM && top[0].str[0] >= '0' &&
        top[0].str[0] <= '9') {
        info->resp_number = top[0].str;
        name_at = 1;
    }
    if (top_end > name_at && top[name_at].type == IMAP_ARG_ATOM)
        info->resp_name = arena_upper(&p->arena, top[name_at].str, top[name_at].len);
    size_t lvl = p->levels[p->depth];
    if (p->nstack > lvl && p->stack[p->nstack - 1].type == IMAP_ARG_ATOM)
        info->prev_atom = p->stack[p->nstack - 1].str;
    if (p->nstack > lvl) {
        info->siblings = &p->stack[lvl];
        info->n_siblings = p->nstack - lvl;
    }
}

/*
 * literal  = "{" number ["+"] "}" CRLF *CHAR8
 * literal8 = "~{" number ["+"] "}" CRLF *OCTET
 * The size is checked against the limits before anything depends on it, and
 * the handler decides between streaming and memory.
 */
static bool scan_literal(struct imap_parser *p, const char *s, size_t len, size_t *pos,
                         const char **why_r)
{
    size_t i = *pos + (s[*pos] == '~' ? 2 : 1);
    size_t dstart = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t ndig = i - dstart;
    if (i < len && s[i] == '+')
        i++;
    if (ndig == 0 || i >= len || s[i] != '}') {
        *why_r = "malformed literal size";
        return false;
    }
    if (i + 1 != len) {
        *why_r = "literal size not at the end of the line";
        return false;
    }
    uint64_t size = 0;
    for (size_t k = dstart; k < dstart + ndig; k++) {
        if (size > p->lim.max_literal) /* stops long before overflow */
            break;
        size = size * 10 + (uint64_t)(s[k] - '0');
    }
    if (size > p->lim.max_literal) {
        *why_r = limit_hit(p, "literal of %.*s bytes, more than the limit of %llu", (int)ndig,
                           s + dstart, (unsigned long long)p->lim.max_literal);
        return false;
    }
    if (!count_arg(p, why_r))
        return false;
    p->lit_size = p->lit_left = size;
    p->lit_stream = false;
    if (p->has_handler) {
        struct imap_literal_info info;
        literal_info(p, &info);
        p->lit_stream = p->handler.begin(p->handler.ctx, &info);
    }
    if (!p->lit_stream) {
        if (size > p->lim.max_inline_literal) {
            *why_r =
                limit_hit(p,
                          "literal of %llu bytes, more than the %llu bytes kept in memory, "
                          "and not taken as a stream",
                          (unsigned long long)size, (unsigned long long)p->lim.max_inline_literal);
            return false;
        }
        if (size > p->lim.max_response - p->resp_bytes - p->line.len) {
            *why_r = limit_hit(p, "response longer than %zu bytes", p->lim.max_response);
            return false;
        }
        buf_reset(&p->lit);
        p->lit.max = (size_t)size;
    }
    *pos = len;
    return true;
}

/*
 * Tokenize s[*pos..len) into the argument stack.  In a response code (code)
 * an unnested "]" ends the arguments.
 */
static enum seg_result parse_args(struct imap_parser *p, const char *s, size_t len, size_t *pos,
                                  bool code, const char **why_r)
{
    size_t i = *pos;
    for (;;) {
        while (i < len && s[i] == ' ')
            i++;
        if (i == len) {
            *pos = i;
            if (code) {
                *why_r = "unterminated response code";
                return SEG_ERROR;
            }
            if (p->depth > 0) {
                *why_r = "line ends inside a parenthesized list";
                return SEG_ERROR;
            }
            return SEG_EOL;
        }
        struct imap_arg a = {IMAP_ARG_NIL, NULL, 0, NULL};
        char c = s[i];
        if (c == '(') {
            if (p->depth >= p->lim.max_depth) {
                *why_r = limit_hit(p, "lists nested deeper than %zu", p->lim.max_depth);
                return SEG_ERROR;
            }
            if (!count_arg(p, why_r))
                return SEG_ERROR;
            p->levels[++p->depth] = p->nstack;
            i++;
            continue;
        }
        if (c == ')') {
            if (p->depth == 0) {
                *why_r = "unbalanced ')'";
                return SEG_ERROR;
            }
            size_t n;
            a.type = IMAP_ARG_LIST;
            a.list = pop_to_arena(p, p->levels[p->depth--], &n);
            a.len = n;
            push_arg(p, &a);
            i++;
        } else if (c == ']' && code) {
            if (p->depth > 0) {
                *why_r = "unbalanced ']'";
                return SEG_ERROR;
            }
            *pos = i + 1;
            return SEG_BRACKET;
        } else if (c == '"') {
            if (!count_arg(p, why_r) || !scan_quoted(p, s, len, &i, &a, why_r))
                return SEG_ERROR;
            push_arg(p, &a);
        } else if (c == '{' || (c == '~' && i + 1 < len && s[i + 1] == '{')) {
            if (code) {
                *why_r = "literal inside a response code";
                return SEG_ERROR;
            }
            if (!scan_literal(p, s, len, &i, why_r))
                return SEG_ERROR;
            *pos = i;
            return SEG_LITERAL;
        } else {
            size_t start = i;
            if (!count_arg(p, why_r) || !scan_atom(p, s, len, &i, code, why_r))
                return SEG_ERROR;
            if (i - start == 3 && strncasecmp(s + start, "NIL", 3) == 0) {
                a.type = IMAP_ARG_NIL;
            } else {
                a.type = IMAP_ARG_ATOM;
                a.str = arena_strndup(&p->arena, s + start, i - start);
                a.len = i - start;
            }
            push_arg(p, &a);
        }
        if (i < len && s[i] != ' ' && s[i] != ')' && !(code && s[i] == ']')) {
            *why_r = "missing space between arguments";
            return SEG_ERROR;
        }
    }
}

static const char *const status_names[] = {"NONE", "OK", "NO", "BAD", "BYE", "PREAUTH"};

const char *imap_status_name(enum imap_status st)
{
    if ((size_t)st < sizeof(status_names) / sizeof(status_names[0]))
        return status_names[st];
    return "?";
}

/* The status word at s[*pos], followed by SP or the end of the line. */
static enum imap_status scan_status(const char *s, size_t len, size_t *pos)
{
    size_t i = *pos;
    while (i < len && s[i] != ' ')
        i++;
    for (size_t k = IMAP_STATUS_OK; k <= IMAP_STATUS_PREAUTH; k++) {
        size_t n = strlen(status_names[k]);
        if (i - *pos == n && strncasecmp(s + *pos, status_names[k], n) == 0) {
            *pos = i;
            return (enum imap_status)k;
        }
    }
    return IMAP_STATUS_NONE;
}

/*
 * resp-text-code = atom [SP ...] inside "[" "]".  A code whose arguments do
 * not tokenize (free text, unbalanced quotes) is kept as its name plus one
 * STRING holding the raw text up to the first "]"; without any "]" the
 * bracket is just part of the text.  Either way the response survives: its
 * text is for humans.
 */
static void parse_code(struct imap_parser *p, const char *s, size_t len, size_t *pos)
{
    size_t open = *pos, i = open + 1, nargs = p->nargs;
    while (i < len && s[i] != ' ' && s[i] != ']' && imap_is_atom_char((unsigned char)s[i]))
        i++;
    size_t name_end = i;
    if (name_end == open + 1 || i == len || (s[i] != ' ' && s[i] != ']'))
        goto raw;
    if (s[i] == ' ') {
        const char *why = NULL;
        i++;
        if (parse_args(p, s, len, &i, true, &why) != SEG_BRACKET) {
            p->nstack = 0;
            p->depth = 0;
            p->nargs = nargs;
            p->over_limit = false;
            goto raw;
        }
        p->resp.code_args = pop_to_arena(p, 0, &p->resp.code_count);
    } else {
        i++;
    }
    p->resp.code = arena_upper(&p->arena, s + open + 1, name_end - open - 1);
    *pos = i;
    return;
raw:;
    const char *rb = memchr(s + open, ']', len - open);
    if (!rb || name_end == open + 1 || name_end == len ||
        (s[name_end] != ' ' && s[name_end] != ']'))
        return; /* no code: the bracket is text */
    p->resp.code = arena_upper(&p->arena, s + open + 1, name_end - open - 1);
    if (s[name_end] == ' ') {
        struct imap_arg *a = arena_zalloc(&p->arena, sizeof(*a));
        a->type = IMAP_ARG_STRING;
        a->len = (size_t)(rb - s) - name_end - 1;
        a->str = arena_strndup(&p->arena, s + name_end + 1, (size_t)a->len);
        p->resp.code_args = a;
        p->resp.code_count = 1;
    }
    *pos = (size_t)(rb - s) + 1;
}

/* resp-cond = status [SP "[" resp-text-code "]"] [SP text] */
static void parse_resp_text(struct imap_parser *p, const char *s, size_t len, size_t pos)
{
    /* scan_status() stopped at a space or at the end of the line. */
    while (pos < len && s[pos] == ' ')
        pos++;
    if (pos < len && s[pos] == '[') {
        parse_code(p, s, len, &pos);
        if (pos < len && s[pos] == ' ')
            pos++;
    }
    p->resp.text = arena_strndup(&p->arena, s + pos, len - pos);
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static bool is_tag_char(unsigned char c)
{
    return c != '+' && (imap_is_atom_char(c) || c == ']');
}

/* The first segment: the kind of response, its tag and status. */
static enum seg_result parse_start(struct imap_parser *p, const char *s, size_t len, size_t *pos,
                                   const char **why_r)
{
    if (len == 0) {
        *why_r = "empty line";
        return SEG_ERROR;
    }
    if (s[0] == '+') {
        if (len > 1 && s[1] != ' ') {
            *why_r = "missing space after '+'";
            return SEG_ERROR;
        }
        p->resp.kind = IMAP_RESP_CONTINUATION;
        p->resp.text = len > 1 ? arena_strndup(&p->arena, s + 2, len - 2) : "";
        return SEG_EOL;
    }
    size_t i = 0;
    if (s[0] == '*') {
        if (len < 2 || s[1] != ' ') {
            *why_r = "missing space after '*'";
            return SEG_ERROR;
        }
        p->resp.kind = IMAP_RESP_UNTAGGED;
        i = 2;
        p->resp.status = scan_status(s, len, &i);
        if (p->resp.status == IMAP_STATUS_NONE) {
            *pos = 2;
            return SEG_ARGS;
        }
    } else {
        while (i < len && s[i] != ' ') {
            if (!is_tag_char((unsigned char)s[i])) {
                *why_r = "bad character in the tag";
                return SEG_ERROR;
            }
            i++;
        }
        if (i == len) {
            *why_r = "tag without a status";
            return SEG_ERROR;
        }
        p->resp.kind = IMAP_RESP_TAGGED;
        p->resp.tag = arena_strndup(&p->arena, s, i);
        i++;
        p->resp.status = scan_status(s, len, &i);
        if (p->resp.status < IMAP_STATUS_OK || p->resp.status > IMAP_STATUS_BAD) {
            *why_r = "tagged response without OK, NO or BAD";
            return SEG_ERROR;
        }
    }
    parse_resp_text(p, s, len, i);
    return SEG_EOL;
}

/* Parse the segment in p->line (ending in LF). */
static enum seg_result parse_segment(struct imap_parser *p, const char **why_r)
{
    const char *s = p->line.data;
    size_t len = p->line.len - 1;
    if (len > 0 && s[len - 1] == '\r')
        len--;
    if (memchr(s, '\0', len)) {
        *why_r = "NUL byte";
        return SEG_ERROR;
    }
    if (memchr(s, '\r', len)) {
        *why_r = "CR without LF";
        return SEG_ERROR;
    }
    p->no_rbracket_from = len;
    size_t pos = 0;
    if (!p->started) {
        p->started = true;
        enum seg_result r = parse_start(p, s, len, &pos, why_r);
        if (r != SEG_ARGS)
            return r;
    } else if (p->after_literal) {
        p->after_literal = false;
        if (len > 0 && s[0] != ' ' && s[0] != ')') {
            *why_r = "missing space after a literal";
            return SEG_ERROR;
        }
    }
    enum seg_result r = parse_args(p, s, len, &pos, false, why_r);
    if (r == SEG_EOL) {
        p->resp.args = pop_to_arena(p, 0, &p->resp.count);
        if (p->resp.count == 0) {
            *why_r = "untagged response without content";
            return SEG_ERROR;
        }
    }
    return r;
}

static void finish_literal(struct imap_parser *p)
{
    struct imap_arg a = {IMAP_ARG_LITERAL_STREAM, NULL, p->lit_size, NULL};
    if (!p->lit_stream) {
        a.type = IMAP_ARG_LITERAL;
        a.str = arena_strndup(&p->arena, p->lit.data, p->lit.len);
        p->resp_bytes += p->lit.len;
        buf_reset(&p->lit);
        if (p->lit.cap > (256u << 10))
            buf_release(&p->lit);
    }
    push_arg(p, &a);
    p->state = PS_LINE;
    p->after_literal = true;
}

/* Hand literal bytes over; false if the handler refused them. */
static bool feed_literal(struct imap_parser *p, const char *data, size_t n, struct err *e)
{
    if (p->lit_stream) {
        if (n && !p->handler.data(p->handler.ctx, data, n, e))
            goto refused;
    } else {
        buf_append(&p->lit, data, n); /* cannot fail: max is the literal size */
    }
    p->lit_left -= n;
    if (p->lit_left == 0) {
        if (p->lit_stream && p->handler.end && !p->handler.end(p->handler.ctx, e))
            goto refused;
        finish_literal(p);
    }
    return true;
refused:
    if (!err_isset(e))
        err_set(e, ERR_REPO, ERRK_PROTOCOL,
                "The handler of a %llu-byte IMAP literal stopped reading it.",
                (unsigned long long)p->lit_size);
    return false;
}

enum imap_parse_result imap_parser_feed(struct imap_parser *p, const char *data, size_t len,
                                        size_t *used_r, const struct imap_resp **resp_r,
                                        struct err *e)
{
    *used_r = 0;
    *resp_r = NULL;
    if (p->state == PS_DEAD) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "%s", p->dead_msg);
        return IMAP_PARSE_ERROR;
    }
    if (p->resp_done)
        start_response(p);
    size_t pos = 0;
    for (;;) {
        if (p->state == PS_LITERAL) {
            size_t n = len - pos;
            if (n > p->lit_left)
                n = (size_t)p->lit_left;
            if (!feed_literal(p, data + pos, n, e)) {
                *used_r = pos + n;
                return die(p, e);
            }
            pos += n;
            if (p->state == PS_LITERAL)
                break; /* input used up */
            continue;
        }
        if (pos == len)
            break;
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
        size_t room = p->lim.max_response - p->resp_bytes - p->line.len;
        if (n > room) {
            buf_append(&p->line, data + pos, room);
            *used_r = pos + room;
            return fail_line(p, e,
                             limit_hit(p, "response longer than %zu bytes", p->lim.max_response));
        }
        buf_append(&p->line, data + pos, n);
        pos += n;
        if (!nl)
            break;
        const char *why = "syntax error";
        enum seg_result r = parse_segment(p, &why);
        *used_r = pos;
        if (r == SEG_ERROR || r == SEG_BRACKET)
            return fail_line(p, e, why);
        p->resp_bytes += p->line.len;
        buf_reset(&p->line);
        if (r == SEG_EOL) {
            p->resp_done = true;
            *resp_r = &p->resp;
            return IMAP_PARSE_RESPONSE;
        }
        p->state = PS_LITERAL;
    }
    *used_r = pos;
    return IMAP_PARSE_MORE;
}

bool imap_arg_is_string(const struct imap_arg *a)
{
    return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_STRING || a->type == IMAP_ARG_LITERAL;
}

bool imap_arg_atom_ieq(const struct imap_arg *a, const char *s)
{
    return a->type == IMAP_ARG_ATOM && strcasecmp(a->str, s) == 0;
}

const char *imap_arg_str(const struct imap_arg *a)
{
    return imap_arg_is_string(a) ? a->str : NULL;
}
