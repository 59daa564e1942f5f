/*
 * Unit tests for imap_decode.  Each table row is one server response, the
 * decoder to run on it, and either the decoded value rendered as text or a
 * piece of the expected error.  A Dovecot 2.3 transcript and Gmail-style
 * responses are decoded whole.
 */
#include "imap/imap_decode.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include "test_imap_dovecot.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum which {
    W_CAP,
    W_ENABLED,
    W_LIST,
    W_STATUS,
    W_FETCH,
    W_FLAGS,
    W_SEARCH,
    W_ESEARCH,
    W_VANISHED,
    W_NUMBER,
    W_NAMESPACE,
    W_CODE,
};

/* Decoders take a maximum number of UIDs; the tables use this one. */
#define MAX_UIDS 10

static void render_uids(struct buf *o, const struct uidvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        buf_printf(o, "%s%" PRIu32, i ? "," : "", v->v[i]);
}

static void render_args(struct buf *o, const struct imap_arg *a, size_t n)
{
    buf_append_char(o, '[');
    for (size_t i = 0; i < n; i++)
        buf_printf(o, "%s%s", i ? " " : "", a[i].str);
    buf_append_char(o, ']');
}

static void render_fetch(struct buf *o, const struct imap_fetch *f)
{
    buf_printf(o, "seq=%" PRIu32, f->seq);
    if (f->present & IMAP_FETCH_UID)
        buf_printf(o, " uid=%" PRIu32, f->uid);
    if (f->present & IMAP_FETCH_FLAGS) {
        buf_append_str(o, " flags=");
        render_args(o, f->flags, f->flag_count);
    }
    if (f->present & IMAP_FETCH_SIZE)
        buf_printf(o, " size=%" PRIu64, f->size);
    if (f->present & IMAP_FETCH_INTERNALDATE)
        buf_printf(o, " date=%lld", (long long)f->internaldate);
    if (f->present & IMAP_FETCH_MODSEQ)
        buf_printf(o, " modseq=%" PRIu64, f->modseq);
    if (f->present & IMAP_FETCH_GM_LABELS) {
        buf_append_str(o, " labels=");
        render_args(o, f->labels, f->label_count);
    }
    if (f->present & IMAP_FETCH_GM_MSGID)
        buf_printf(o, " msgid=%" PRIu64, f->gm_msgid);
    if (f->present & IMAP_FETCH_GM_THRID)
        buf_printf(o, " thrid=%" PRIu64, f->gm_thrid);
    for (size_t i = 0; i < f->body_count; i++) {
        const struct imap_fetch_body *b = &f->bodies[i];
        buf_printf(o, " %s[%.*s]", b->binary ? "binary" : "body", (int)b->section_len, b->section);
        if (b->has_origin)
            buf_printf(o, "<%" PRIu32 ">", b->origin);
        if (b->nil)
            buf_append_str(o, "=NIL");
        else if (b->streamed)
            buf_printf(o, "=stream:%" PRIu64, b->size);
        else
            buf_printf(o, "=%" PRIu64 ":%.*s", b->size, (int)b->size, b->data);
    }
}

static const char *code_kind(enum imap_code c)
{
    switch (c) {
    case IMAP_CODE_NONE:
        return "none";
    case IMAP_CODE_OTHER:
        return "other";
    default:
        return "known";
    }
}

static bool decode_render(enum which w, const struct imap_resp *r, struct buf *o, struct err *e)
{
    switch (w) {
    case W_CAP: {
        struct imap_caps c;
        imap_caps_init(&c);
        if (!imap_decode_capability(r, &c, e))
            return false;
        for (int i = 0; i < IMAP_CAP_COUNT; i++)
            if (imap_caps_has(&c, (enum imap_cap)i))
                buf_printf(o, "%s ", imap_cap_name((enum imap_cap)i));
        buf_append_str(o, "auth=");
        for (size_t i = 0; i < c.auth.n; i++)
            buf_printf(o, "%s%s", i ? "," : "", c.auth.v[i]);
        if (c.appendlimit)
            buf_printf(o, " appendlimit=%" PRIu64, c.appendlimit);
        imap_caps_release(&c);
        return true;
    }
    case W_ENABLED: {
        uint64_t bits = UINT64_C(1) << IMAP_CAP_IDLE;
        if (!imap_decode_enabled(r, &bits, e))
            return false;
        for (int i = 0; i < IMAP_CAP_COUNT; i++)
            if (bits & (UINT64_C(1) << i))
                buf_printf(o, "%s ", imap_cap_name((enum imap_cap)i));
        return true;
    }
    case W_LIST: {
        struct imap_list_entry l;
        if (!imap_decode_list(r, &l, e))
            return false;
        buf_printf(o, "attrs=%#x delim=%s%c name=%s", l.attrs, l.delim ? "" : "NIL",
                   l.delim ? l.delim : ' ', l.name);
        return true;
    }
    case W_STATUS: {
        struct imap_status_resp s;
        if (!imap_decode_status(r, &s, e))
            return false;
        buf_printf(o, "%s:", s.name);
        if (s.present & IMAP_STATUS_HAS_MESSAGES)
            buf_printf(o, " messages=%" PRIu32, s.messages);
        if (s.present & IMAP_STATUS_HAS_UIDNEXT)
            buf_printf(o, " uidnext=%" PRIu32, s.uidnext);
        if (s.present & IMAP_STATUS_HAS_UIDVALIDITY)
            buf_printf(o, " uidvalidity=%" PRIu32, s.uidvalidity);
        if (s.present & IMAP_STATUS_HAS_UNSEEN)
            buf_printf(o, " unseen=%" PRIu32, s.unseen);
        if (s.present & IMAP_STATUS_HAS_RECENT)
            buf_printf(o, " recent=%" PRIu32, s.recent);
        if (s.present & IMAP_STATUS_HAS_HIGHESTMODSEQ)
            buf_printf(o, " highestmodseq=%" PRIu64, s.highestmodseq);
        if (s.present & IMAP_STATUS_HAS_SIZE)
            buf_printf(o, " size=%" PRIu64, s.size);
        return true;
    }
    case W_FETCH: {
        struct imap_fetch f;
        if (!imap_decode_fetch(r, &f, e))
            return false;
        render_fetch(o, &f);
        return true;
    }
    case W_FLAGS: {
        const struct imap_arg *flags;
        size_t n;
        if (!imap_decode_flags(r, &flags, &n, e))
            return false;
        render_args(o, flags, n);
        return true;
    }
    case W_SEARCH: {
        struct uidvec v = UIDVEC_INIT;
        uint64_t modseq;
        bool ok = imap_decode_search(r, MAX_UIDS, &v, &modseq, e);
        if (ok) {
            render_uids(o, &v);
            if (modseq)
                buf_printf(o, " modseq=%" PRIu64, modseq);
        }
        uidvec_free(&v);
        return ok;
    }
    case W_ESEARCH: {
        struct uidvec v = UIDVEC_INIT;
        struct imap_esearch s;
        bool ok = imap_decode_esearch(r, MAX_UIDS, &s, &v, e);
        if (ok) {
            buf_printf(o, "tag=%s%s", s.tag ? s.tag : "-", s.uid ? " uid" : "");
            if (s.present & IMAP_ESEARCH_MIN)
                buf_printf(o, " min=%" PRIu32, s.min);
            if (s.present & IMAP_ESEARCH_MAX)
                buf_printf(o, " max=%" PRIu32, s.max);
            if (s.present & IMAP_ESEARCH_COUNT)
                buf_printf(o, " count=%" PRIu32, s.count);
            if (s.present & IMAP_ESEARCH_MODSEQ)
                buf_printf(o, " modseq=%" PRIu64, s.modseq);
            if (s.present & IMAP_ESEARCH_ALL) {
                buf_append_str(o, " all=");
                render_uids(o, &v);
            }
        }
        uidvec_free(&v);
        return ok;
    }
    case W_VANISHED: {
        struct uidvec v = UIDVEC_INIT;
        bool earlier;
        bool ok = imap_decode_vanished(r, MAX_UIDS, &earlier, &v, e);
        if (ok) {
            buf_append_str(o, earlier ? "earlier " : "");
            render_uids(o, &v);
        }
        uidvec_free(&v);
        return ok;
    }
    case W_NUMBER: {
        enum imap_data kind;
        uint32_t n;
        if (!imap_decode_number(r, &kind, &n, e))
            return false;
        buf_printf(o, "%s %" PRIu32,
                   kind == IMAP_DATA_EXISTS    ? "EXISTS"
                   : kind == IMAP_DATA_EXPUNGE ? "EXPUNGE"
                                               : "RECENT",
                   n);
        return true;
    }
    case W_NAMESPACE: {
        struct imap_namespace ns;
        if (!imap_decode_namespace(r, &ns, e))
            return false;
        if (ns.has_personal)
            buf_printf(o, "prefix=\"%s\" delim=%c", ns.prefix, ns.delim ? ns.delim : '-');
        else
            buf_append_str(o, "none");
        return true;
    }
    case W_CODE: {
        struct imap_code_data d;
        imap_code_data_init(&d);
        bool ok = imap_decode_code(r, MAX_UIDS, &d, e);
        if (ok) {
            buf_printf(o, "%s %s", code_kind(d.code), d.name ? d.name : "-");
            if (d.num)
                buf_printf(o, " num=%" PRIu32, d.num);
            if (d.modseq)
                buf_printf(o, " modseq=%" PRIu64, d.modseq);
            if (d.uidvalidity)
                buf_printf(o, " uidvalidity=%" PRIu32, d.uidvalidity);
            if (d.src_uids.n) {
                buf_append_str(o, " src=");
                render_uids(o, &d.src_uids);
            }
            if (d.uids.n) {
                buf_append_str(o, " uids=");
                render_uids(o, &d.uids);
            }
            if (d.code == IMAP_CODE_PERMANENTFLAGS) {
                buf_append_str(o, " flags=");
                render_args(o, d.flags, d.flag_count);
            }
        }
        imap_code_data_release(&d);
        return ok;
    }
    }
    return false;
}

struct dcase {
    enum which w;
    const char *in;
    const char *expect; /* rendering, or NULL when an error is expected */
    const char *error;  /* substring of the error */
};

#include "test_imap_decode_cases.h"

/* Parse exactly one response from in. */
static const struct imap_resp *parse1(struct imap_parser *p, const char *in)
{
    size_t used;
    const struct imap_resp *r = NULL;
    struct err e = ERR_INIT;
    enum imap_parse_result res = imap_parser_feed(p, in, strlen(in), &used, &r, &e);
    if (res != IMAP_PARSE_RESPONSE || used != strlen(in)) {
        test_fail_at(__FILE__, __LINE__, "\"%s\" does not parse: %s", in, e.msg ? e.msg : "");
        err_clear(&e);
        return NULL;
    }
    return r;
}

static void test_cases(void)
{
    test_begin("decoders: table of responses, values and errors");
    struct imap_parser *p = imap_parser_new(NULL);
    for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
        const struct dcase *c = &dcases[i];
        const struct imap_resp *r = parse1(p, c->in);
        if (!r)
            continue;
        struct buf o;
        buf_init(&o, BUF_UNBOUNDED);
        struct err e = ERR_INIT;
        bool ok = decode_render(c->w, r, &o, &e);
        if (c->expect ? !ok || strcmp(o.data, c->expect) != 0
                      : ok || !strstr(e.msg, c->error) ||
                            !(e.scope == ERR_FOLDER && e.kind == ERRK_PROTOCOL))
            test_fail_at(__FILE__, __LINE__, "#%zu \"%s\": got %s \"%s\" (%s), want \"%s\"", i,
                         c->in, ok ? "ok" : "error", o.data, e.msg ? e.msg : "",
                         c->expect ? c->expect : c->error);
        err_clear(&e);
        buf_release(&o);
    }
    imap_parser_free(&p);
    test_end();
}

static void test_classify(void)
{
    test_begin("decoders: response classification");
    const struct {
        const char *in;
        enum imap_data kind;
    } t[] = {
        {"* 3 FETCH (UID 1)\r\n", IMAP_DATA_FETCH},
        {"* 3 fetch (UID 1)\r\n", IMAP_DATA_FETCH},
        {"* FETCH (UID 1)\r\n", IMAP_DATA_OTHER},
        {"* 3 LIST () \"/\" x\r\n", IMAP_DATA_OTHER},
        {"* 3 EXISTS\r\n", IMAP_DATA_EXISTS},
        {"* EXISTS\r\n", IMAP_DATA_OTHER},
        {"* 3\r\n", IMAP_DATA_OTHER},
        {"* 0 RECENT\r\n", IMAP_DATA_RECENT},
        {"* 2 EXPUNGE\r\n", IMAP_DATA_EXPUNGE},
        {"* LIST () \"/\" x\r\n", IMAP_DATA_LIST},
        {"* LSUB () \"/\" x\r\n", IMAP_DATA_LSUB},
        {"* XLIST () \"/\" x\r\n", IMAP_DATA_XLIST},
        {"* STATUS x ()\r\n", IMAP_DATA_STATUS},
        {"* FLAGS ()\r\n", IMAP_DATA_FLAGS},
        {"* SEARCH\r\n", IMAP_DATA_SEARCH},
        {"* ESEARCH\r\n", IMAP_DATA_ESEARCH},
        {"* VANISHED 1\r\n", IMAP_DATA_VANISHED},
        {"* CAPABILITY IMAP4rev1\r\n", IMAP_DATA_CAPABILITY},
        {"* ENABLED\r\n", IMAP_DATA_ENABLED},
        {"* NAMESPACE NIL NIL NIL\r\n", IMAP_DATA_NAMESPACE},
        {"* ID NIL\r\n", IMAP_DATA_ID},
        {"* XYZZY 1\r\n", IMAP_DATA_OTHER},
        {"* \"LIST\" 1\r\n", IMAP_DATA_OTHER},
        {"* (LIST) 1\r\n", IMAP_DATA_OTHER},
        {"* OK [CAPABILITY IMAP4rev1] x\r\n", IMAP_DATA_NONE},
        {"a1 OK x\r\n", IMAP_DATA_NONE},
        {"+ go\r\n", IMAP_DATA_NONE},
    };
    struct imap_parser *p = imap_parser_new(NULL);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const struct imap_resp *r = parse1(p, t[i].in);
        if (r && imap_resp_data(r) != t[i].kind)
            test_fail_at(__FILE__, __LINE__, "\"%s\": got %d, want %d", t[i].in,
                         (int)imap_resp_data(r), (int)t[i].kind);
    }
    imap_parser_free(&p);
    test_end();
}

/* Decode every response of the transcript with the decoder its kind calls for. */
static void decode_transcript(const char *in, size_t len, struct buf *out)
{
    struct imap_parser *p = imap_parser_new(NULL);
    size_t off = 0;
    while (off < len) {
        size_t used;
        const struct imap_resp *r;
        struct err e = ERR_INIT;
        enum imap_parse_result res = imap_parser_feed(p, in + off, len - off, &used, &r, &e);
        off += used;
        if (res != IMAP_PARSE_RESPONSE) {
            test_fail_at(__FILE__, __LINE__, "transcript: %s", e.msg ? e.msg : "incomplete");
            err_clear(&e);
            break;
        }
        enum which w = W_CODE;
        switch (imap_resp_data(r)) {
        case IMAP_DATA_CAPABILITY:
            w = W_CAP;
            break;
        case IMAP_DATA_ENABLED:
            w = W_ENABLED;
            break;
        case IMAP_DATA_LIST:
        case IMAP_DATA_LSUB:
        case IMAP_DATA_XLIST:
            w = W_LIST;
            break;
        case IMAP_DATA_STATUS:
            w = W_STATUS;
            break;
        case IMAP_DATA_FLAGS:
            w = W_FLAGS;
            break;
        case IMAP_DATA_FETCH:
            w = W_FETCH;
            break;
        case IMAP_DATA_SEARCH:
            w = W_SEARCH;
            break;
        case IMAP_DATA_ESEARCH:
            w = W_ESEARCH;
            break;
        case IMAP_DATA_VANISHED:
            w = W_VANISHED;
            break;
        case IMAP_DATA_EXISTS:
        case IMAP_DATA_EXPUNGE:
        case IMAP_DATA_RECENT:
            w = W_NUMBER;
            break;
        case IMAP_DATA_NAMESPACE:
            w = W_NAMESPACE;
            break;
        default:
            break;
        }
        if (!decode_render(w, r, out, &e))
            buf_printf(out, "ERROR %s", e.msg);
        buf_append_char(out, '\n');
        if (r->code && strcmp(r->code, "CAPABILITY") == 0) {
            decode_render(W_CAP, r, out, &e);
            buf_append_char(out, '\n');
        }
        err_clear(&e);
    }
    imap_parser_free(&p);
}

#include "test_imap_decode_transcripts.h"

static void test_transcripts(void)
{
    test_begin("decoders: Dovecot 2.3 transcript");
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    decode_transcript(dovecot_transcript, sizeof(dovecot_transcript) - 1, &out);
    test_assert(strcmp(out.data, dovecot_decoded) == 0);
    if (strcmp(out.data, dovecot_decoded) != 0)
        fprintf(stderr, "%s", out.data);
    buf_release(&out);
    test_end();

    test_begin("decoders: Gmail responses");
    buf_init(&out, BUF_UNBOUNDED);
    decode_transcript(gmail_transcript, strlen(gmail_transcript), &out);
    test_assert(strcmp(out.data, gmail_decoded) == 0);
    if (strcmp(out.data, gmail_decoded) != 0)
        fprintf(stderr, "%s", out.data);
    buf_release(&out);
    test_end();
}

static void test_format(void)
{
    test_begin("decoders: imap_resp_format");
    struct imap_parser *p = imap_parser_new(NULL);
    const struct {
        const char *in, *out;
    } t[] = {
        {"* 1 FETCH (UID 5 BODY[] {3}\r\na\"\x01)\r\n",
         "* 1 FETCH (UID 5 BODY[] {3}\"a\\\"\\x01\")"},
        {"a1 NO [TRYCREATE] No such mailbox\r\n", "a1 NO [TRYCREATE] No such mailbox"},
        {"* OK [HIGHESTMODSEQ 6]\r\n", "* OK [HIGHESTMODSEQ 6]"},
        {"+ \r\n", "+ "},
        {"* LIST () NIL \"\"\r\n", "* LIST () NIL \"\""},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const struct imap_resp *r = parse1(p, t[i].in);
        struct buf o;
        buf_init(&o, BUF_UNBOUNDED);
        if (r)
            imap_resp_format(r, &o);
        test_assert_streq(o.data, t[i].out);
        buf_release(&o);
    }
    imap_parser_free(&p);
    test_end();
}

static bool stream_all(void *ctx, const struct imap_literal_info *info)
{
    return info->size > 3;
}

static bool count_data(void *ctx, const void *data, size_t len, struct err *e)
{
    *(size_t *)ctx += len;
    return true;
}

static void test_streamed_and_nul(void)
{
    test_begin("decoders: streamed bodies, NUL bytes in names and bodies");
    struct imap_parser *p = imap_parser_new(NULL);
    size_t streamed = 0;
    struct imap_literal_handler h = {stream_all, count_data, NULL, &streamed};
    imap_parser_set_literal_handler(p, &h);
    const char in[] = "* 3 FETCH (UID 9 BODY[] {10}\r\n0123456789 BODY[1] {3}\r\na\0b)\r\n"
                      "* LIST () \"/\" {3}\r\na\0b\r\n";
    size_t used;
    const struct imap_resp *r;
    struct err e = ERR_INIT;
    test_assert(imap_parser_feed(p, in, sizeof(in) - 1, &used, &r, &e) == IMAP_PARSE_RESPONSE);
    struct imap_fetch f;
    test_assert(imap_decode_fetch(r, &f, &e));
    test_assert(f.seq == 3 && f.uid == 9 && f.body_count == 2);
    test_assert(f.bodies[0].streamed && f.bodies[0].size == 10 && f.bodies[0].data == NULL);
    test_assert(f.bodies[0].section_len == 0 && !f.bodies[0].nil);
    test_assert(!f.bodies[1].streamed && f.bodies[1].size == 3);
    test_assert(memcmp(f.bodies[1].data, "a\0b", 3) == 0);
    test_assert(f.bodies[1].section_len == 1 && f.bodies[1].section[0] == '1');
    test_assert(streamed == 10);
    size_t off = used;
    test_assert(imap_parser_feed(p, in + off, sizeof(in) - 1 - off, &used, &r, &e) ==
                IMAP_PARSE_RESPONSE);
    struct imap_list_entry l;
    test_assert(!imap_decode_list(r, &l, &e));
    test_assert(strstr(e.msg, "\"a\\x00b\" is not a mailbox name") != NULL);
    err_clear(&e);
    imap_parser_free(&p);
    test_end();
}

int main(void)
{
    test_cases();
    test_streamed_and_nul();
    test_classify();
    test_transcripts();
    test_format();
    return test_done();
}
