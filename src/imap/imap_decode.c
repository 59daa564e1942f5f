/*
 * Response classification, the shared helpers, and the decoders of
 * mailbox-level data: CAPABILITY, ENABLED, LIST, STATUS, FLAGS, NAMESPACE and
 * the numeric responses.  FETCH and the search family are in
 * imap_decode_fetch.c, response codes in imap_decode_code.c.
 */
#include "imap/imap_decode.h"

#include "imap/imap_decode_int.h"

#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool imap_dec_fail(struct err *e, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *detail = xvasprintf(fmt, ap);
    va_end(ap);
    err_set(e, ERR_FOLDER, ERRK_PROTOCOL, "The IMAP server sent a malformed %s response: %s.", what,
            detail);
    free(detail);
    return false;
}

void imap_dec_quote(const struct imap_arg *a, char out[IMAP_QUOTE_SIZE])
{
    switch (a->type) {
    case IMAP_ARG_NIL:
        strcpy(out, "NIL");
        return;
    case IMAP_ARG_LIST:
        strcpy(out, "(a list)");
        return;
    case IMAP_ARG_LITERAL_STREAM:
        strcpy(out, "(a streamed literal)");
        return;
    default:
        imap_text_quote(a->str, (size_t)a->len, out);
    }
}

bool imap_dec_u32(const struct imap_arg *a, uint32_t *v_r)
{
    return a->type == IMAP_ARG_ATOM && str_to_u32(a->str, (size_t)a->len, v_r);
}

bool imap_dec_nz32(const struct imap_arg *a, uint32_t *v_r)
{
    return imap_dec_u32(a, v_r) && *v_r != 0;
}

bool imap_dec_u64(const struct imap_arg *a, uint64_t *v_r)
{
    return a->type == IMAP_ARG_ATOM && str_to_u64(a->str, (size_t)a->len, v_r);
}

bool imap_dec_modseq(const struct imap_arg *a, bool allow_zero, uint64_t *v_r)
{
    return imap_dec_u64(a, v_r) && *v_r <= INT64_MAX && (allow_zero || *v_r != 0);
}

bool imap_dec_set(const struct imap_arg *a, size_t max, struct uidvec *out)
{
    return a->type == IMAP_ARG_ATOM && uidset_parse(a->str, (size_t)a->len, max, out);
}

bool imap_dec_text(const struct imap_arg *a)
{
    return imap_arg_is_string(a) && strlen(a->str) == a->len;
}

const struct imap_arg *imap_dec_after_name(const struct imap_resp *r, size_t *count_r)
{
    size_t skip = 1;
    if (r->count >= 2 && r->args[0].type == IMAP_ARG_ATOM && r->args[0].str[0] >= '0' &&
        r->args[0].str[0] <= '9')
        skip = 2;
    if (r->count < skip) {
        *count_r = 0;
        return NULL;
    }
    *count_r = r->count - skip;
    return r->args + skip;
}

static const struct {
    const char *name;
    enum imap_data kind;
} data_names[] = {
    {"CAPABILITY", IMAP_DATA_CAPABILITY},
    {"LIST", IMAP_DATA_LIST},
    {"LSUB", IMAP_DATA_LSUB},
    {"XLIST", IMAP_DATA_XLIST},
    {"STATUS", IMAP_DATA_STATUS},
    {"FLAGS", IMAP_DATA_FLAGS},
    {"FETCH", IMAP_DATA_FETCH},
    {"SEARCH", IMAP_DATA_SEARCH},
    {"ESEARCH", IMAP_DATA_ESEARCH},
    {"VANISHED", IMAP_DATA_VANISHED},
    {"EXISTS", IMAP_DATA_EXISTS},
    {"EXPUNGE", IMAP_DATA_EXPUNGE},
    {"RECENT", IMAP_DATA_RECENT},
    {"ENABLED", IMAP_DATA_ENABLED},
    {"NAMESPACE", IMAP_DATA_NAMESPACE},
    {"ID", IMAP_DATA_ID},
};

enum imap_data imap_resp_data(const struct imap_resp *r)
{
    if (r->kind != IMAP_RESP_UNTAGGED || r->status != IMAP_STATUS_NONE || r->count == 0)
        return IMAP_DATA_NONE;
    const struct imap_arg *name = &r->args[0];
    bool numbered = name->type == IMAP_ARG_ATOM && name->str[0] >= '0' && name->str[0] <= '9';
    if (numbered) {
        if (r->count < 2)
            return IMAP_DATA_OTHER;
        name = &r->args[1];
    }
    if (name->type != IMAP_ARG_ATOM)
        return IMAP_DATA_OTHER;
    for (size_t i = 0; i < sizeof(data_names) / sizeof(data_names[0]); i++) {
        if (strcasecmp(name->str, data_names[i].name) != 0)
            continue;
        /* Only message data carries a number in front. */
        bool want_number =
            data_names[i].kind == IMAP_DATA_FETCH || data_names[i].kind == IMAP_DATA_EXISTS ||
            data_names[i].kind == IMAP_DATA_EXPUNGE || data_names[i].kind == IMAP_DATA_RECENT;
        return want_number == numbered ? data_names[i].kind : IMAP_DATA_OTHER;
    }
    return IMAP_DATA_OTHER;
}

/* Formatting for logs and tests. */

static void format_bytes(struct buf *out, const char *s, size_t len)
{
    buf_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            buf_printf(out, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            buf_append_char(out, (char)c);
        else
            buf_printf(out, "\\x%02x", c);
    }
    buf_append_char(out, '"');
}

static void format_args(struct buf *out, const struct imap_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct imap_arg *a = &args[i];
        if (i > 0)
            buf_append_char(out, ' ');
        switch (a->type) {
        case IMAP_ARG_NIL:
            buf_append_str(out, "NIL");
            break;
        case IMAP_ARG_ATOM:
            buf_append(out, a->str, (size_t)a->len);
            break;
        case IMAP_ARG_STRING:
            format_bytes(out, a->str, (size_t)a->len);
            break;
        case IMAP_ARG_LITERAL:
            buf_printf(out, "{%llu}", (unsigned long long)a->len);
            if (a->len <= 200)
                format_bytes(out, a->str, (size_t)a->len);
            break;
        case IMAP_ARG_LITERAL_STREAM:
            buf_printf(out, "{%llu}<stream>", (unsigned long long)a->len);
            break;
        case IMAP_ARG_LIST:
            buf_append_char(out, '(');
            format_args(out, a->list, (size_t)a->len);
            buf_append_char(out, ')');
            break;
        }
    }
}

void imap_resp_format(const struct imap_resp *r, struct buf *out)
{
    if (r->kind == IMAP_RESP_CONTINUATION) {
        buf_append_str(out, "+ ");
        buf_append_str(out, r->text ? r->text : "");
        return;
    }
    buf_append_str(out, r->kind == IMAP_RESP_TAGGED ? r->tag : "*");
    if (r->status == IMAP_STATUS_NONE) {
        buf_append_char(out, ' ');
        format_args(out, r->args, r->count);
        return;
    }
    buf_printf(out, " %s", imap_status_name(r->status));
    if (r->code) {
        buf_printf(out, " [%s", r->code);
        if (r->code_count) {
            buf_append_char(out, ' ');
            format_args(out, r->code_args, r->code_count);
        }
        buf_append_char(out, ']');
    }
    if (r->text && *r->text)
        buf_printf(out, " %s", r->text);
}

/* CAPABILITY and ENABLED. */

static const char *const cap_names[IMAP_CAP_COUNT] = {
    [IMAP_CAP_IMAP4REV1] = "IMAP4rev1",
    [IMAP_CAP_IMAP4REV2] = "IMAP4rev2",
    [IMAP_CAP_UIDPLUS] = "UIDPLUS",
    [IMAP_CAP_LITERALPLUS] = "LITERAL+",
    [IMAP_CAP_LITERALMINUS] = "LITERAL-",
    [IMAP_CAP_IDLE] = "IDLE",
    [IMAP_CAP_CONDSTORE] = "CONDSTORE",
    [IMAP_CAP_QRESYNC] = "QRESYNC",
    [IMAP_CAP_COMPRESS_DEFLATE] = "COMPRESS=DEFLATE",
    [IMAP_CAP_STARTTLS] = "STARTTLS",
    [IMAP_CAP_LOGINDISABLED] = "LOGINDISABLED",
    [IMAP_CAP_SASL_IR] = "SASL-IR",
    [IMAP_CAP_MOVE] = "MOVE",
    [IMAP_CAP_ESEARCH] = "ESEARCH",
    [IMAP_CAP_LIST_STATUS] = "LIST-STATUS",
    [IMAP_CAP_LIST_EXTENDED] = "LIST-EXTENDED",
    [IMAP_CAP_SPECIAL_USE] = "SPECIAL-USE",
    [IMAP_CAP_NAMESPACE] = "NAMESPACE",
    [IMAP_CAP_ENABLE] = "ENABLE",
    [IMAP_CAP_ID] = "ID",
    [IMAP_CAP_UNSELECT] = "UNSELECT",
    [IMAP_CAP_BINARY] = "BINARY",
    [IMAP_CAP_MULTIAPPEND] = "MULTIAPPEND",
    [IMAP_CAP_NOTIFY] = "NOTIFY",
    [IMAP_CAP_X_GM_EXT_1] = "X-GM-EXT-1",
    [IMAP_CAP_APPENDLIMIT] = "APPENDLIMIT",
    [IMAP_CAP_UTF8_ACCEPT] = "UTF8=ACCEPT",
    [IMAP_CAP_UTF8_ONLY] = "UTF8=ONLY",
    [IMAP_CAP_OBJECTID] = "OBJECTID",
    [IMAP_CAP_CHILDREN] = "CHILDREN",
    [IMAP_CAP_XLIST] = "XLIST",
    [IMAP_CAP_SEARCHRES] = "SEARCHRES",
    [IMAP_CAP_QUOTA] = "QUOTA",
    [IMAP_CAP_CREATE_SPECIAL_USE] = "CREATE-SPECIAL-USE",
    [IMAP_CAP_STATUS_SIZE] = "STATUS=SIZE",
    [IMAP_CAP_LOGIN_REFERRALS] = "LOGIN-REFERRALS",
};

_Static_assert(IMAP_CAP_COUNT <= 64, "capabilities must fit in imap_caps.bits");

const char *imap_cap_name(enum imap_cap cap)
{
    return (unsigned)cap < IMAP_CAP_COUNT ? cap_names[cap] : "?";
}

static int cap_lookup(const char *name)
{
    for (int i = 0; i < IMAP_CAP_COUNT; i++)
        if (strcasecmp(name, cap_names[i]) == 0)
            return i;
    return -1;
}

void imap_caps_init(struct imap_caps *c)
{
    memset(c, 0, sizeof(*c));
}

void imap_caps_release(struct imap_caps *c)
{
    strvec_free(&c->auth);
    strvec_free(&c->names);
    imap_caps_init(c);
}

bool imap_caps_has(const struct imap_caps *c, enum imap_cap cap)
{
    return (unsigned)cap < IMAP_CAP_COUNT && (c->bits & (UINT64_C(1) << cap)) != 0;
}

bool imap_caps_has_auth(const struct imap_caps *c, const char *mech)
{
    for (size_t i = 0; i < c->auth.n; i++)
        if (strcasecmp(c->auth.v[i], mech) == 0)
            return true;
    return false;
}

bool imap_decode_capability(const struct imap_resp *r, struct imap_caps *c, struct err *e)
{
    const struct imap_arg *args;
    size_t n;
    if (imap_resp_data(r) == IMAP_DATA_CAPABILITY) {
        args = imap_dec_after_name(r, &n);
    } else if (r->code && strcmp(r->code, "CAPABILITY") == 0) {
        args = r->code_args;
        n = r->code_count;
    } else {
        return imap_dec_fail(e, "CAPABILITY", "it holds no capability list");
    }
    struct imap_caps nc;
    imap_caps_init(&nc);
    for (size_t i = 0; i < n; i++) {
        char q[IMAP_QUOTE_SIZE];
        if (args[i].type != IMAP_ARG_ATOM) {
            imap_dec_quote(&args[i], q);
            imap_caps_release(&nc);
            return imap_dec_fail(e, "CAPABILITY", "\"%s\" is not a capability name", q);
        }
        const char *s = args[i].str;
        strvec_push(&nc.names, s);
        if (strncasecmp(s, "AUTH=", 5) == 0 && s[5]) {
            char *mech = xstrdup(s + 5);
            for (char *p = mech; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                    *p = (char)(*p - 'a' + 'A');
            if (strvec_contains(&nc.auth, mech))
                free(mech);
            else
                strvec_push_owned(&nc.auth, mech);
        } else if (strncasecmp(s, "APPENDLIMIT=", 12) == 0) {
            if (!str_to_u64(s + 12, strlen(s + 12), &nc.appendlimit)) {
                imap_dec_quote(&args[i], q);
                imap_caps_release(&nc);
                return imap_dec_fail(e, "CAPABILITY", "bad number in \"%s\"", q);
            }
            nc.bits |= UINT64_C(1) << IMAP_CAP_APPENDLIMIT;
        } else {
            int cap = cap_lookup(s);
            if (cap >= 0)
                nc.bits |= UINT64_C(1) << cap;
        }
    }
    imap_caps_release(c);
    *c = nc;
    return true;
}

bool imap_decode_enabled(const struct imap_resp *r, uint64_t *bits, struct err *e)
{
    if (imap_resp_data(r) != IMAP_DATA_ENABLED)
        return imap_dec_fail(e, "ENABLED", "it is not an ENABLED response");
    size_t n;
    const struct imap_arg *args = imap_dec_after_name(r, &n);
    for (size_t i = 0; i < n; i++) {
        if (args[i].type != IMAP_ARG_ATOM) {
            char q[IMAP_QUOTE_SIZE];
            imap_dec_quote(&args[i], q);
            return imap_dec_fail(e, "ENABLED", "\"%s\" is not a capability name", q);
        }
        int cap = cap_lookup(args[i].str);
        if (cap >= 0)
            *bits |= UINT64_C(1) << cap;
    }
    return true;
}

/* LIST, LSUB, XLIST. */

static const struct {
    const char *name;
    uint32_t bits;
} mbox_attrs[] = {
    {"\\Noselect", IMAP_MBOX_NOSELECT},
    /* RFC 5258: \NonExistent implies \Noselect. */
    {"\\NonExistent", IMAP_MBOX_NONEXISTENT | IMAP_MBOX_NOSELECT},
    {"\\HasChildren", IMAP_MBOX_HASCHILDREN},
    {"\\HasNoChildren", IMAP_MBOX_HASNOCHILDREN},
    {"\\Noinferiors", IMAP_MBOX_NOINFERIORS},
    {"\\Subscribed", IMAP_MBOX_SUBSCRIBED},
    {"\\Remote", IMAP_MBOX_REMOTE},
    {"\\Marked", IMAP_MBOX_MARKED},
    {"\\Unmarked", IMAP_MBOX_UNMARKED},
    {"\\All", IMAP_MBOX_ALL},
    {"\\Archive", IMAP_MBOX_ARCHIVE},
    {"\\Drafts", IMAP_MBOX_DRAFTS},
    {"\\Flagged", IMAP_MBOX_FLAGGED},
    {"\\Junk", IMAP_MBOX_JUNK},
    {"\\Sent", IMAP_MBOX_SENT},
    {"\\Trash", IMAP_MBOX_TRASH},
    {"\\Important", IMAP_MBOX_IMPORTANT},
    /* Gmail's XLIST names. */
    {"\\Inbox", IMAP_MBOX_INBOX},
    {"\\AllMail", IMAP_MBOX_ALL},
    {"\\Spam", IMAP_MBOX_JUNK},
    {"\\Starred", IMAP_MBOX_FLAGGED},
};

/*
 * mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil)
 *                SP mailbox [SP mbox-list-extended]
 */
bool imap_decode_list(const struct imap_resp *r, struct imap_list_entry *out, struct err *e)
{
    enum imap_data kind = imap_resp_data(r);
    if (kind != IMAP_DATA_LIST && kind != IMAP_DATA_LSUB && kind != IMAP_DATA_XLIST)
        return imap_dec_fail(e, "LIST", "it is not a LIST, LSUB or XLIST response");
    size_t n;
    const struct imap_arg *args = imap_dec_after_name(r, &n);
    char q[IMAP_QUOTE_SIZE];
    memset(out, 0, sizeof(*out));
    if (n < 3 || n > 4 || args[0].type != IMAP_ARG_LIST)
        return imap_dec_fail(e, "LIST", "it does not have the form (attributes) delimiter name");
    for (size_t i = 0; i < args[0].len; i++) {
        const struct imap_arg *a = &args[0].list[i];
        if (a->type != IMAP_ARG_ATOM) {
            imap_dec_quote(a, q);
            return imap_dec_fail(e, "LIST", "\"%s\" is not a mailbox attribute", q);
        }
        for (size_t k = 0; k < sizeof(mbox_attrs) / sizeof(mbox_attrs[0]); k++)
            if (strcasecmp(a->str, mbox_attrs[k].name) == 0)
                out->attrs |= mbox_attrs[k].bits;
    }
    const struct imap_arg *d = &args[1];
    if (d->type == IMAP_ARG_NIL) {
        out->delim = '\0';
    } else if ((d->type == IMAP_ARG_STRING || d->type == IMAP_ARG_ATOM) && d->len == 1 &&
               (unsigned char)d->str[0] >= 0x20 && (unsigned char)d->str[0] < 0x7f) {
        out->delim = d->str[0];
    } else {
        imap_dec_quote(d, q);
        return imap_dec_fail(e, "LIST", "\"%s\" is not a hierarchy delimiter", q);
    }
    if (!imap_dec_text(&args[2])) {
        imap_dec_quote(&args[2], q);
        return imap_dec_fail(e, "LIST", "\"%s\" is not a mailbox name", q);
    }
    out->name = args[2].str;
    if (n == 4 && args[3].type != IMAP_ARG_LIST)
        return imap_dec_fail(e, "LIST", "extended data after mailbox \"%s\" is not a list",
                             out->name);
    return true;
}

/* STATUS: "STATUS" SP mailbox SP "(" [status-att-list] ")" */
bool imap_decode_status(const struct imap_resp *r, struct imap_status_resp *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (imap_resp_data(r) != IMAP_DATA_STATUS)
        return imap_dec_fail(e, "STATUS", "it is not a STATUS response");
    size_t n;
    const struct imap_arg *args = imap_dec_after_name(r, &n);
    char q[IMAP_QUOTE_SIZE];
    if (n != 2 || !imap_dec_text(&args[0]) || args[1].type != IMAP_ARG_LIST)
        return imap_dec_fail(e, "STATUS", "it does not have the form mailbox (items)");
    out->name = args[0].str;
    const struct imap_arg *it = args[1].list;
    size_t ni = (size_t)args[1].len;
    if (ni % 2)
        return imap_dec_fail(e, "STATUS", "an item of mailbox \"%s\" has no value", out->name);
    for (size_t i = 0; i < ni; i += 2) {
        const struct imap_arg *v = &it[i + 1];
        bool ok = true;
        if (imap_arg_atom_ieq(&it[i], "MESSAGES")) {
            ok = imap_dec_u32(v, &out->messages);
            out->present |= IMAP_STATUS_HAS_MESSAGES;
        } else if (imap_arg_atom_ieq(&it[i], "UIDNEXT")) {
            ok = imap_dec_nz32(v, &out->uidnext);
            out->present |= IMAP_STATUS_HAS_UIDNEXT;
        } else if (imap_arg_atom_ieq(&it[i], "UIDVALIDITY")) {
            ok = imap_dec_nz32(v, &out->uidvalidity);
            out->present |= IMAP_STATUS_HAS_UIDVALIDITY;
        } else if (imap_arg_atom_ieq(&it[i], "UNSEEN")) {
            ok = imap_dec_u32(v, &out->unseen);
            out->present |= IMAP_STATUS_HAS_UNSEEN;
        } else if (imap_arg_atom_ieq(&it[i], "RECENT")) {
            ok = imap_dec_u32(v, &out->recent);
            out->present |= IMAP_STATUS_HAS_RECENT;
        } else if (imap_arg_atom_ieq(&it[i], "HIGHESTMODSEQ")) {
            ok = imap_dec_modseq(v, true, &out->highestmodseq);
            out->present |= IMAP_STATUS_HAS_HIGHESTMODSEQ;
        } else if (imap_arg_atom_ieq(&it[i], "SIZE")) {
            ok = imap_dec_u64(v, &out->size);
            out->present |= IMAP_STATUS_HAS_SIZE;
        } else if (it[i].type != IMAP_ARG_ATOM) {
            imap_dec_quote(&it[i], q);
            return imap_dec_fail(e, "STATUS", "\"%s\" in mailbox \"%s\" is not an item name", q,
                                 out->name);
        }
        if (!ok) {
            imap_dec_quote(v, q);
            return imap_dec_fail(e, "STATUS", "%s \"%s\" of mailbox \"%s\" is not a valid value",
                                 it[i].str, q, out->name);
        }
    }
    return true;
}

bool imap_decode_number(const struct imap_resp *r, enum imap_data *kind_r, uint32_t *n_r,
                        struct err *e)
{
    enum imap_data kind = imap_resp_data(r);
    if (kind != IMAP_DATA_EXISTS && kind != IMAP_DATA_EXPUNGE && kind != IMAP_DATA_RECENT)
        return imap_dec_fail(e, "EXISTS", "it is not an EXISTS, EXPUNGE or RECENT response");
    char q[IMAP_QUOTE_SIZE];
    const char *name = kind == IMAP_DATA_EXISTS    ? "EXISTS"
                       : kind == IMAP_DATA_EXPUNGE ? "EXPUNGE"
                                                   : "RECENT";
    if (r->count != 2)
        return imap_dec_fail(e, name, "unexpected arguments after %s", name);
    /* EXPUNGE takes an nz-number: a message sequence number. */
    bool ok = kind == IMAP_DATA_EXPUNGE ? imap_dec_nz32(&r->args[0], n_r)
                                        : imap_dec_u32(&r->args[0], n_r);
    if (!ok) {
        imap_dec_quote(&r->args[0], q);
        return imap_dec_fail(e, name, "\"%s\" is not a valid number", q);
    }
    *kind_r = kind;
    return true;
}

bool imap_decode_flags(const struct imap_resp *r, const struct imap_arg **flags_r, size_t *count_r,
                       struct err *e)
{
    if (imap_resp_data(r) != IMAP_DATA_FLAGS)
        return imap_dec_fail(e, "FLAGS", "it is not a FLAGS response");
    size_t n;
    const struct imap_arg *args = imap_dec_after_name(r, &n);
    if (n != 1 || args[0].type != IMAP_ARG_LIST)
        return imap_dec_fail(e, "FLAGS", "it does not hold one list of flags");
    for (size_t i = 0; i < args[0].len; i++)
        if (args[0].list[i].type != IMAP_ARG_ATOM) {
            char q[IMAP_QUOTE_SIZE];
            imap_dec_quote(&args[0].list[i], q);
            return imap_dec_fail(e, "FLAGS", "\"%s\" is not a flag", q);
        }
    *flags_r = args[0].list;
    *count_r = (size_t)args[0].len;
    return true;
}

/*
 * Namespace         = nil / "(" 1*Namespace-Descr ")"
 * Namespace-Descr   = "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil)
 *                     *(Namespace-Response-Extension) ")"
 */
static bool check_namespace(const struct imap_arg *a, struct err *e)
{
    if (a->type == IMAP_ARG_NIL)
        return true;
    if (a->type != IMAP_ARG_LIST || a->len == 0)
        return imap_dec_fail(e, "NAMESPACE", "a namespace is neither NIL nor a list");
    for (size_t i = 0; i < a->len; i++) {
        const struct imap_arg *d = &a->list[i];
        if (d->type != IMAP_ARG_LIST || d->len < 2 || !imap_dec_text(&d->list[0]))
            return imap_dec_fail(e, "NAMESPACE", "a namespace lacks its prefix");
        const struct imap_arg *dl = &d->list[1];
        if (dl->type != IMAP_ARG_NIL &&
            !((dl->type == IMAP_ARG_STRING || dl->type == IMAP_ARG_ATOM) && dl->len == 1))
            return imap_dec_fail(e, "NAMESPACE", "a namespace delimiter is not one character");
    }
    return true;
}

bool imap_decode_namespace(const struct imap_resp *r, struct imap_namespace *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (imap_resp_data(r) != IMAP_DATA_NAMESPACE)
        return imap_dec_fail(e, "NAMESPACE", "it is not a NAMESPACE response");
    size_t n;
    const struct imap_arg *args = imap_dec_after_name(r, &n);
    if (n != 3)
        return imap_dec_fail(e, "NAMESPACE", "it does not list three namespaces");
    for (size_t i = 0; i < 3; i++)
        if (!check_namespace(&args[i], e))
            return false;
    if (args[0].type == IMAP_ARG_LIST) {
        const struct imap_arg *d = args[0].list[0].list;
        out->has_personal = true;
        out->prefix = d[0].str;
        out->delim = d[1].type == IMAP_ARG_NIL ? '\0' : d[1].str[0];
    }
    return true;
}
