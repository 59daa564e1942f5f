/*
 * Message data: FETCH, and the results of SEARCH, ESEARCH and VANISHED.
 */
#include "imap/imap_decode.h"

#include "imap/imap_cmd.h"
#include "imap/imap_decode_int.h"

#include <string.h>
#include <strings.h>

/*
 * section-spec items: "BODY[" section "]" ["<" number ">"] and the BINARY
 * equivalent (RFC 3516), plus RFC822, RFC822.HEADER and RFC822.TEXT, which
 * mean BODY[], BODY[HEADER] and BODY[TEXT].  Returns 0 if name is no body
 * item, 1 when decoded, -1 on error.
 */
static int decode_body(const struct imap_arg *name, const struct imap_arg *v, struct imap_fetch *f,
                       struct err *e)
{
    const char *s = name->str;
    const char *section;
    size_t section_len;
    bool binary = false, has_origin = false;
    uint32_t origin = 0;
    char q[IMAP_QUOTE_SIZE];
    if (strcasecmp(s, "RFC822") == 0) {
        section = "", section_len = 0;
    } else if (strcasecmp(s, "RFC822.HEADER") == 0) {
        section = "HEADER", section_len = 6;
    } else if (strcasecmp(s, "RFC822.TEXT") == 0) {
        section = "TEXT", section_len = 4;
    } else {
        size_t pre;
        if (strncasecmp(s, "BODY[", 5) == 0) {
            pre = 5;
        } else if (strncasecmp(s, "BINARY[", 7) == 0) {
            pre = 7;
            binary = true;
        } else {
            return 0;
        }
        const char *rb = strchr(s + pre, ']');
        if (!rb) {
            imap_text_quote(s, (size_t)name->len, q);
            imap_dec_fail(e, "FETCH", "item \"%s\" of message %u has no closing bracket", q,
                          f->seq);
            return -1;
        }
        section = s + pre;
        section_len = (size_t)(rb - section);
        const char *rest = rb + 1;
        if (*rest) {
            size_t rl = strlen(rest);
            if (rest[0] != '<' || rest[rl - 1] != '>' || !str_to_u32(rest + 1, rl - 2, &origin)) {
                imap_text_quote(s, (size_t)name->len, q);
                imap_dec_fail(e, "FETCH", "item \"%s\" of message %u has a bad origin", q, f->seq);
                return -1;
            }
            has_origin = true;
        }
    }
    if (f->body_count == IMAP_FETCH_MAX_BODIES) {
        imap_dec_fail(e, "FETCH", "message %u has more than %d body sections", f->seq,
                      IMAP_FETCH_MAX_BODIES);
        return -1;
    }
    struct imap_fetch_body b = {s,      section, section_len, binary, has_origin,
                                origin, false,   false,       NULL,   0};
    switch (v->type) {
    case IMAP_ARG_NIL:
        b.nil = true;
        break;
    case IMAP_ARG_STRING:
    case IMAP_ARG_LITERAL:
        b.data = v->str;
        b.size = v->len;
        break;
    case IMAP_ARG_LITERAL_STREAM:
        b.streamed = true;
        b.size = v->len;
        break;
    default:
        imap_text_quote(s, (size_t)name->len, q);
        imap_dec_fail(e, "FETCH", "the value of %s of message %u is not a string", q, f->seq);
        return -1;
    }
    f->bodies[f->body_count++] = b;
    return 1;
}

static bool all_atoms(const struct imap_arg *list)
{
    for (size_t i = 0; i < list->len; i++)
        if (list->list[i].type != IMAP_ARG_ATOM)
            return false;
    return true;
}

static bool all_texts(const struct imap_arg *list)
{
    for (size_t i = 0; i < list->len; i++)
        if (!imap_dec_text(&list->list[i]))
            return false;
    return true;
}

/* One msg-att item; false with e if its value is malformed. */
static bool decode_item(const struct imap_arg *name, const struct imap_arg *v, struct imap_fetch *f,
                        struct err *e)
{
    bool ok = true;
    const char *n = name->str;
    if (strcasecmp(n, "UID") == 0) {
        ok = imap_dec_nz32(v, &f->uid);
        f->present |= IMAP_FETCH_UID;
    } else if (strcasecmp(n, "FLAGS") == 0) {
        ok = v->type == IMAP_ARG_LIST && all_atoms(v);
        f->flags = v->list;
        f->flag_count = (size_t)v->len;
        f->present |= IMAP_FETCH_FLAGS;
    } else if (strcasecmp(n, "RFC822.SIZE") == 0) {
        ok = imap_dec_u64(v, &f->size);
        f->present |= IMAP_FETCH_SIZE;
    } else if (strcasecmp(n, "INTERNALDATE") == 0) {
        ok = v->type == IMAP_ARG_STRING &&
             imap_parse_date_time(v->str, (size_t)v->len, &f->internaldate);
        f->present |= IMAP_FETCH_INTERNALDATE;
    } else if (strcasecmp(n, "MODSEQ") == 0) {
        /* "MODSEQ" SP "(" permsg-modsequence ")" */
        ok = v->type == IMAP_ARG_LIST && v->len == 1 &&
             imap_dec_modseq(&v->list[0], false, &f->modseq);
        f->present |= IMAP_FETCH_MODSEQ;
    } else if (strcasecmp(n, "X-GM-LABELS") == 0) {
        ok = v->type == IMAP_ARG_LIST && all_texts(v);
        f->labels = v->list;
        f->label_count = (size_t)v->len;
        f->present |= IMAP_FETCH_GM_LABELS;
    } else if (strcasecmp(n, "X-GM-MSGID") == 0) {
        ok = imap_dec_u64(v, &f->gm_msgid);
        f->present |= IMAP_FETCH_GM_MSGID;
    } else if (strcasecmp(n, "X-GM-THRID") == 0) {
        ok = imap_dec_u64(v, &f->gm_thrid);
        f->present |= IMAP_FETCH_GM_THRID;
    } else {
        /* A body section, or an item we do not use, whatever its value. */
        return decode_body(name, v, f, e) >= 0;
    }
    if (!ok) {
        char q[IMAP_QUOTE_SIZE];
        imap_dec_quote(v, q);
        return imap_dec_fail(e, "FETCH", "%s \"%s\" of message %u is not a valid value", n, q,
                             f->seq);
    }
    return true;
}

/* message-data = nz-number SP "FETCH" SP msg-att */
bool imap_decode_fetch(const struct imap_resp *r, struct imap_fetch *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (imap_resp_data(r) != IMAP_DATA_FETCH)
        return imap_dec_fail(e, "FETCH", "it is not a FETCH response");
    char q[IMAP_QUOTE_SIZE];
    if (!imap_dec_nz32(&r->args[0], &out->seq)) {
        imap_dec_quote(&r->args[0], q);
        return imap_dec_fail(e, "FETCH", "\"%s\" is not a message sequence number", q);
    }
    if (r->count != 3 || r->args[2].type != IMAP_ARG_LIST)
        return imap_dec_fail(e, "FETCH", "message %u has no list of items", out->seq);
    const struct imap_arg *items = r->args[2].list;
    size_t n = (size_t)r->args[2].len;
    if (n % 2)
        return imap_dec_fail(e, "FETCH", "an item of message %u has no value", out->seq);
    for (size_t i = 0; i < n; i += 2) {
        if (items[i].type != IMAP_ARG_ATOM) {
            imap_dec_quote(&items[i], q);
            return imap_dec_fail(e, "FETCH", "\"%s\" in message %u is not an item name", q,
                                 out->seq);
        }
        if (!decode_item(&items[i], &items[i + 1], out, e))
            return false;
    }
    return true;
}

/* mailbox-data =/ "SEARCH" *(SP nz-number) [SP search-sort-mod-seq] (RFC 7162) */
bool imap_decode_search(const struct imap_resp *r, size_t max, struct uidvec *out,
                        uint64_t *modseq_r, struct err *e)
{
    *modseq_r = 0;
    if (imap_resp_data(r) != IMAP_DATA_SEARCH)
        return imap_dec_fail(e, "SEARCH", "it is not a SEARCH response");
    size_t n;
    const struct imap_arg *args = imap_dec_after_name(r, &n);
    char q[IMAP_QUOTE_SIZE];
    for (size_t i = 0; i < n; i++) {
        const struct imap_arg *a = &args[i];
        if (a->type == IMAP_ARG_LIST && i == n - 1) {
            if (a->len != 2 || !imap_arg_atom_ieq(&a->list[0], "MODSEQ") ||
                !imap_dec_modseq(&a->list[1], false, modseq_r))
                return imap_dec_fail(e, "SEARCH", "the list at its end is not (MODSEQ n)");
            break;
        }
        uint32_t v;
        if (!imap_dec_nz32(a, &v)) {
            imap_dec_quote(a, q);
            return imap_dec_fail(e, "SEARCH", "\"%s\" is not a message number", q);
        }
        if (i >= max)
            return imap_dec_fail(e, "SEARCH", "it holds more than %zu results", max);
        uidvec_push(out, v);
    }
    return true;
}

/*
 * esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
 * search-correlator = SP "(" "TAG" SP tag-string ")"
 */
bool imap_decode_esearch(const struct imap_resp *r, size_t max, struct imap_esearch *out,
                         struct uidvec *all_out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (imap_resp_data(r) != IMAP_DATA_ESEARCH)
        return imap_dec_fail(e, "ESEARCH", "it is not an ESEARCH response");
    size_t n, i = 0;
    const struct imap_arg *args = imap_dec_after_name(r, &n);
    char q[IMAP_QUOTE_SIZE];
    if (i < n && args[i].type == IMAP_ARG_LIST) {
        const struct imap_arg *c = &args[i];
        if (c->len != 2 || !imap_arg_atom_ieq(&c->list[0], "TAG") || !imap_dec_text(&c->list[1]))
            return imap_dec_fail(e, "ESEARCH", "its correlator is not (TAG \"tag\")");
        out->tag = c->list[1].str;
        i++;
    }
    if (i < n && imap_arg_atom_ieq(&args[i], "UID")) {
        out->uid = true;
        i++;
    }
    for (; i < n; i += 2) {
        const struct imap_arg *name = &args[i];
        if (name->type != IMAP_ARG_ATOM || i + 1 == n) {
            imap_dec_quote(name, q);
            return imap_dec_fail(e, "ESEARCH", "\"%s\" is not a result name with a value", q);
        }
        const struct imap_arg *v = &args[i + 1];
        bool ok = true;
        if (imap_arg_atom_ieq(name, "MIN")) {
            ok = imap_dec_nz32(v, &out->min);
            out->present |= IMAP_ESEARCH_MIN;
        } else if (imap_arg_atom_ieq(name, "MAX")) {
            ok = imap_dec_nz32(v, &out->max);
            out->present |= IMAP_ESEARCH_MAX;
        } else if (imap_arg_atom_ieq(name, "COUNT")) {
            ok = imap_dec_u32(v, &out->count);
            out->present |= IMAP_ESEARCH_COUNT;
        } else if (imap_arg_atom_ieq(name, "MODSEQ")) {
            ok = imap_dec_modseq(v, false, &out->modseq);
            out->present |= IMAP_ESEARCH_MODSEQ;
        } else if (imap_arg_atom_ieq(name, "ALL")) {
            if (out->present & IMAP_ESEARCH_ALL)
                return imap_dec_fail(e, "ESEARCH", "it holds ALL twice");
            ok = imap_dec_set(v, max, all_out);
            out->present |= IMAP_ESEARCH_ALL;
        }
        if (!ok) {
            imap_dec_quote(v, q);
            return imap_dec_fail(e, "ESEARCH", "%s \"%s\" is not a valid value (or too many)",
                                 name->str, q);
        }
    }
    return true;
}

/* expunged-resp = "VANISHED" [SP "(EARLIER)"] SP known-uids */
bool imap_decode_vanished(const struct imap_resp *r, size_t max, bool *earlier_r,
                          struct uidvec *out, struct err *e)
{
    *earlier_r = false;
    if (imap_resp_data(r) != IMAP_DATA_VANISHED)
        return imap_dec_fail(e, "VANISHED", "it is not a VANISHED response");
    size_t n, i = 0;
    const struct imap_arg *args = imap_dec_after_name(r, &n);
    if (n > 0 && args[0].type == IMAP_ARG_LIST) {
        if (args[0].len != 1 || !imap_arg_atom_ieq(&args[0].list[0], "EARLIER"))
            return imap_dec_fail(e, "VANISHED", "its list is not (EARLIER)");
        *earlier_r = true;
        i++;
    }
    if (n != i + 1)
        return imap_dec_fail(e, "VANISHED", "it does not hold exactly one UID set");
    if (!imap_dec_set(&args[i], max, out)) {
        char q[IMAP_QUOTE_SIZE];
        imap_dec_quote(&args[i], q);
        return imap_dec_fail(e, "VANISHED", "\"%s\" is not a valid UID set of at most %zu UIDs", q,
                             max);
    }
    return true;
}
