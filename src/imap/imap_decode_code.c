/*
 * Response codes: the "[...]" after OK, NO, BAD, BYE or PREAUTH.
 */
#include "imap/imap_decode.h"

#include "imap/imap_decode_int.h"

#include <string.h>

static const struct {
    const char *name;
    enum imap_code code;
} code_names[] = {
    {"ALERT", IMAP_CODE_ALERT},
    {"ALREADYEXISTS", IMAP_CODE_ALREADYEXISTS},
    {"APPENDUID", IMAP_CODE_APPENDUID},
    {"CAPABILITY", IMAP_CODE_CAPABILITY},
    {"CLOSED", IMAP_CODE_CLOSED},
    {"COPYUID", IMAP_CODE_COPYUID},
    {"HIGHESTMODSEQ", IMAP_CODE_HIGHESTMODSEQ},
    {"LIMIT", IMAP_CODE_LIMIT},
    {"MODIFIED", IMAP_CODE_MODIFIED},
    {"NOMODSEQ", IMAP_CODE_NOMODSEQ},
    {"NONEXISTENT", IMAP_CODE_NONEXISTENT},
    {"OVERQUOTA", IMAP_CODE_OVERQUOTA},
    {"PARSE", IMAP_CODE_PARSE},
    {"PERMANENTFLAGS", IMAP_CODE_PERMANENTFLAGS},
    {"READ-ONLY", IMAP_CODE_READ_ONLY},
    {"READ-WRITE", IMAP_CODE_READ_WRITE},
    {"TRYCREATE", IMAP_CODE_TRYCREATE},
    {"UIDNEXT", IMAP_CODE_UIDNEXT},
    {"UIDNOTSTICKY", IMAP_CODE_UIDNOTSTICKY},
    {"UIDVALIDITY", IMAP_CODE_UIDVALIDITY},
    {"UNAVAILABLE", IMAP_CODE_UNAVAILABLE},
    {"UNSEEN", IMAP_CODE_UNSEEN},
    {"AUTHENTICATIONFAILED", IMAP_CODE_AUTHENTICATIONFAILED},
};

void imap_code_data_init(struct imap_code_data *d)
{
    memset(d, 0, sizeof(*d));
}

void imap_code_data_release(struct imap_code_data *d)
{
    uidvec_free(&d->src_uids);
    uidvec_free(&d->uids);
    imap_code_data_init(d);
}

static bool bad_code(struct err *e, const struct imap_code_data *d, const char *why)
{
    err_set(e, ERR_FOLDER, ERRK_PROTOCOL,
            "The IMAP server sent a malformed [%s] response code: %s.", d->name, why);
    return false;
}

bool imap_decode_code(const struct imap_resp *r, size_t max, struct imap_code_data *d,
                      struct err *e)
{
    imap_code_data_release(d);
    if (!r->code)
        return true;
    d->name = r->code;
    d->code = IMAP_CODE_OTHER;
    for (size_t i = 0; i < sizeof(code_names) / sizeof(code_names[0]); i++)
        if (strcmp(r->code, code_names[i].name) == 0)
            d->code = code_names[i].code;
    const struct imap_arg *a = r->code_args;
    size_t n = r->code_count;
    switch (d->code) {
    case IMAP_CODE_UIDNEXT:
    case IMAP_CODE_UIDVALIDITY:
    case IMAP_CODE_UNSEEN:
        /* "UIDNEXT" SP nz-number, and the same for the others */
        if (n != 1 || !imap_dec_nz32(&a[0], &d->num))
            return bad_code(e, d, "its argument is not a non-zero number");
        break;
    case IMAP_CODE_HIGHESTMODSEQ:
        if (n != 1 || !imap_dec_modseq(&a[0], false, &d->modseq))
            return bad_code(e, d, "its argument is not a valid mod-sequence");
        break;
    case IMAP_CODE_APPENDUID:
        /* "APPENDUID" SP nz-number SP append-uid */
        if (n != 2 || !imap_dec_nz32(&a[0], &d->uidvalidity))
            return bad_code(e, d, "it does not hold a UIDVALIDITY and a UID set");
        if (!imap_dec_set(&a[1], max, &d->uids)) {
            uidvec_free(&d->uids);
            return bad_code(e, d, "its UID set is malformed or too large");
        }
        break;
    case IMAP_CODE_COPYUID:
        /* "COPYUID" SP nz-number SP uid-set SP uid-set */
        if (n != 3 || !imap_dec_nz32(&a[0], &d->uidvalidity))
            return bad_code(e, d, "it does not hold a UIDVALIDITY and two UID sets");
        if (!imap_dec_set(&a[1], max, &d->src_uids) || !imap_dec_set(&a[2], max, &d->uids)) {
            uidvec_free(&d->src_uids);
            uidvec_free(&d->uids);
            return bad_code(e, d, "a UID set is malformed or too large");
        }
        if (d->src_uids.n != d->uids.n) {
            uidvec_free(&d->src_uids);
            uidvec_free(&d->uids);
            return bad_code(e, d, "its two UID sets differ in size");
        }
        break;
    case IMAP_CODE_MODIFIED:
        /* "MODIFIED" SP sequence-set (RFC 7162) */
        if (n != 1 || !imap_dec_set(&a[0], max, &d->uids)) {
            uidvec_free(&d->uids);
            return bad_code(e, d, "its set is malformed or too large");
        }
        break;
    case IMAP_CODE_PERMANENTFLAGS:
        if (n != 1 || a[0].type != IMAP_ARG_LIST)
            return bad_code(e, d, "it does not hold a list of flags");
        for (size_t i = 0; i < a[0].len; i++)
            if (a[0].list[i].type != IMAP_ARG_ATOM)
                return bad_code(e, d, "an element of its list is not a flag");
        d->flags = a[0].list;
        d->flag_count = (size_t)a[0].len;
        break;
    default:
        /* Codes that are only a name; arguments, if any, are ignored. */
        break;
    }
    return true;
}
