/*
 * imap_decode: typed views of parsed server responses (imap_parser.h).
 *
 * Each decoder checks the whole shape of what it reads: numbers are parsed
 * strictly (base/strutil.h), zero is refused where the RFC says nz-number
 * (UIDs, UIDVALIDITY, UIDNEXT, sequence numbers), sets expand to at most a
 * caller-given number of UIDs, and anything malformed makes the decoder
 * return false with an error (scope ERR_FOLDER, kind ERRK_PROTOCOL) naming
 * the response and the item, never a guess.  Unknown FETCH items, STATUS
 * items, ESEARCH results and LIST extension data are skipped.
 *
 * Strings in the decoded structs point into the response and live as long as
 * it does (until the next imap_parser_feed()), unless a comment says the
 * struct owns them.
 */
#ifndef IMAP_DECODE_H
#define IMAP_DECODE_H

#include "base/buf.h"
#include "base/err.h"
#include "base/strutil.h"
#include "base/uidset.h"
#include "imap/imap_parser.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What an untagged data response is, from its name ("* 3 EXISTS" -> EXISTS). */
enum imap_data {
    IMAP_DATA_NONE = 0, /* not untagged data: a status response, tagged, continuation */
    IMAP_DATA_OTHER,    /* a name we do not decode */
    IMAP_DATA_CAPABILITY,
    IMAP_DATA_LIST,
    IMAP_DATA_LSUB,
    IMAP_DATA_XLIST,
    IMAP_DATA_STATUS,
    IMAP_DATA_FLAGS,
    IMAP_DATA_FETCH,
    IMAP_DATA_SEARCH,
    IMAP_DATA_ESEARCH,
    IMAP_DATA_VANISHED,
    IMAP_DATA_EXISTS,
    IMAP_DATA_EXPUNGE,
    IMAP_DATA_RECENT,
    IMAP_DATA_ENABLED,
    IMAP_DATA_NAMESPACE,
    IMAP_DATA_ID,
};

enum imap_data imap_resp_data(const struct imap_resp *r);
/* A short, single-line rendering of r for logs and tests (literal bodies abbreviated). */
void imap_resp_format(const struct imap_resp *r, struct buf *out);

/* Capabilities.  Bits of imap_caps.bits are 1 << IMAP_CAP_x. */
enum imap_cap {
    IMAP_CAP_IMAP4REV1 = 0,
    IMAP_CAP_IMAP4REV2,
    IMAP_CAP_UIDPLUS,
    IMAP_CAP_LITERALPLUS,  /* LITERAL+ */
    IMAP_CAP_LITERALMINUS, /* LITERAL- */
    IMAP_CAP_IDLE,
    IMAP_CAP_CONDSTORE,
    IMAP_CAP_QRESYNC,
    IMAP_CAP_COMPRESS_DEFLATE,
    IMAP_CAP_STARTTLS,
    IMAP_CAP_LOGINDISABLED,
    IMAP_CAP_SASL_IR,
    IMAP_CAP_MOVE,
    IMAP_CAP_ESEARCH,
    IMAP_CAP_LIST_STATUS,
    IMAP_CAP_LIST_EXTENDED,
    IMAP_CAP_SPECIAL_USE,
    IMAP_CAP_NAMESPACE,
    IMAP_CAP_ENABLE,
    IMAP_CAP_ID,
    IMAP_CAP_UNSELECT,
    IMAP_CAP_BINARY,
    IMAP_CAP_MULTIAPPEND,
    IMAP_CAP_NOTIFY,
    IMAP_CAP_X_GM_EXT_1,
    IMAP_CAP_APPENDLIMIT,
    IMAP_CAP_UTF8_ACCEPT,
    IMAP_CAP_UTF8_ONLY,
    IMAP_CAP_OBJECTID,
    IMAP_CAP_CHILDREN,
    IMAP_CAP_XLIST,
    IMAP_CAP_SEARCHRES,
    IMAP_CAP_QUOTA,
    IMAP_CAP_CREATE_SPECIAL_USE,
    IMAP_CAP_STATUS_SIZE,
    IMAP_CAP_LOGIN_REFERRALS,
    IMAP_CAP_COUNT
};

struct imap_caps {
    uint64_t bits;
    struct strvec auth;   /* AUTH= mechanism names, upper-cased; owned */
    uint64_t appendlimit; /* APPENDLIMIT=n; 0 if absent or given without a value */
    struct strvec names;  /* every capability as the server wrote it, in its order; owned */
};

void imap_caps_init(struct imap_caps *c);
void imap_caps_release(struct imap_caps *c);
bool imap_caps_has(const struct imap_caps *c, enum imap_cap cap);
/* Case-insensitive AUTH=mech lookup. */
bool imap_caps_has_auth(const struct imap_caps *c, const char *mech);
/* "IMAP4rev1", "LITERAL+", "COMPRESS=DEFLATE", ... */
const char *imap_cap_name(enum imap_cap cap);
/* From "* CAPABILITY ..." or a response with a [CAPABILITY ...] code; replaces c. */
bool imap_decode_capability(const struct imap_resp *r, struct imap_caps *c, struct err *e);
/* "* ENABLED CONDSTORE QRESYNC": ORs the bits of the known names into *bits. */
bool imap_decode_enabled(const struct imap_resp *r, uint64_t *bits, struct err *e);

/* LIST, LSUB and XLIST. */
enum imap_mbox_attr {
    IMAP_MBOX_NOSELECT = 1u << 0,
    IMAP_MBOX_NONEXISTENT = 1u << 1,
    IMAP_MBOX_HASCHILDREN = 1u << 2,
    IMAP_MBOX_HASNOCHILDREN = 1u << 3,
    IMAP_MBOX_NOINFERIORS = 1u << 4,
    IMAP_MBOX_SUBSCRIBED = 1u << 5,
    IMAP_MBOX_REMOTE = 1u << 6,
    IMAP_MBOX_MARKED = 1u << 7,
    IMAP_MBOX_UNMARKED = 1u << 8,
    IMAP_MBOX_ALL = 1u << 9, /* also XLIST \AllMail */
    IMAP_MBOX_ARCHIVE = 1u << 10,
    IMAP_MBOX_DRAFTS = 1u << 11,
    IMAP_MBOX_FLAGGED = 1u << 12, /* also XLIST \Starred */
    IMAP_MBOX_JUNK = 1u << 13,    /* also XLIST \Spam */
    IMAP_MBOX_SENT = 1u << 14,
    IMAP_MBOX_TRASH = 1u << 15,
    IMAP_MBOX_IMPORTANT = 1u << 16, /* Gmail, RFC 8457 */
    IMAP_MBOX_INBOX = 1u << 17,     /* XLIST \Inbox */
};
#define IMAP_MBOX_SPECIAL_USE                                                                      \
    (IMAP_MBOX_ALL | IMAP_MBOX_ARCHIVE | IMAP_MBOX_DRAFTS | IMAP_MBOX_FLAGGED | IMAP_MBOX_JUNK |   \
     IMAP_MBOX_SENT | IMAP_MBOX_TRASH | IMAP_MBOX_IMPORTANT)

struct imap_list_entry {
    uint32_t attrs;   /* enum imap_mbox_attr bits; unknown attributes are ignored */
    char delim;       /* hierarchy delimiter, '\0' for NIL */
    const char *name; /* as sent (modified UTF-7 unless UTF8=ACCEPT is on); never holds NUL */
};

bool imap_decode_list(const struct imap_resp *r, struct imap_list_entry *out, struct err *e);

/* STATUS. */
enum imap_status_item {
    IMAP_STATUS_HAS_MESSAGES = 1u << 0,
    IMAP_STATUS_HAS_UIDNEXT = 1u << 1,
    IMAP_STATUS_HAS_UIDVALIDITY = 1u << 2,
    IMAP_STATUS_HAS_UNSEEN = 1u << 3,
    IMAP_STATUS_HAS_HIGHESTMODSEQ = 1u << 4,
    IMAP_STATUS_HAS_RECENT = 1u << 5,
    IMAP_STATUS_HAS_SIZE = 1u << 6,
};

struct imap_status_resp {
    const char *name;
    unsigned present; /* enum imap_status_item bits */
    uint32_t messages, uidnext, uidvalidity, unseen, recent;
    uint64_t highestmodseq, size;
};

bool imap_decode_status(const struct imap_resp *r, struct imap_status_resp *out, struct err *e);

/* FETCH. */
enum imap_fetch_item {
    IMAP_FETCH_UID = 1u << 0,
    IMAP_FETCH_FLAGS = 1u << 1,
    IMAP_FETCH_SIZE = 1u << 2,
    IMAP_FETCH_INTERNALDATE = 1u << 3,
    IMAP_FETCH_MODSEQ = 1u << 4,
    IMAP_FETCH_GM_LABELS = 1u << 5,
    IMAP_FETCH_GM_MSGID = 1u << 6,
    IMAP_FETCH_GM_THRID = 1u << 7,
};

/* One BODY[...], BINARY[...] or RFC822[.HEADER/.TEXT] item. */
struct imap_fetch_body {
    const char *item;    /* the item as sent: "BODY[HEADER.FIELDS (Message-ID)]<0>" */
    const char *section; /* points into item: "HEADER.FIELDS (Message-ID)"; "" for BODY[] */
    size_t section_len;  /* section is not NUL-terminated at section_len */
    bool binary;         /* BINARY[...] */
    bool has_origin;     /* "<n>" followed the section */
    uint32_t origin;
    bool nil;         /* the value was NIL */
    bool streamed;    /* the value went to the literal handler; only size is known */
    const char *data; /* in memory (not streamed, not NIL); may hold NUL bytes */
    uint64_t size;
};

#define IMAP_FETCH_MAX_BODIES 8

struct imap_fetch {
    uint32_t seq;
    unsigned present; /* enum imap_fetch_item bits */
    uint32_t uid;
    const struct imap_arg *flags; /* flags[i].str, i < flag_count; all atoms */
    size_t flag_count;
    uint64_t size; /* RFC822.SIZE */
    time_t internaldate;
    uint64_t modseq;
    const struct imap_arg *labels; /* labels[i].str, i < label_count; strings */
    size_t label_count;
    uint64_t gm_msgid, gm_thrid;
    struct imap_fetch_body bodies[IMAP_FETCH_MAX_BODIES];
    size_t body_count;
};

bool imap_decode_fetch(const struct imap_resp *r, struct imap_fetch *out, struct err *e);

/* "* FLAGS (...)": flag atoms. */
bool imap_decode_flags(const struct imap_resp *r, const struct imap_arg **flags_r, size_t *count_r,
                       struct err *e);

/*
 * "* SEARCH n..." [(MODSEQ m)]: numbers appended to out, at most max of them.
 * *modseq_r is 0 when the response has no MODSEQ.
 */
bool imap_decode_search(const struct imap_resp *r, size_t max, struct uidvec *out,
                        uint64_t *modseq_r, struct err *e);

/* ESEARCH (RFC 4731). */
enum imap_esearch_item {
    IMAP_ESEARCH_MIN = 1u << 0,
    IMAP_ESEARCH_MAX = 1u << 1,
    IMAP_ESEARCH_COUNT = 1u << 2,
    IMAP_ESEARCH_ALL = 1u << 3,
    IMAP_ESEARCH_MODSEQ = 1u << 4,
};

struct imap_esearch {
    const char *tag;  /* the command tag from (TAG "..."), or NULL */
    bool uid;         /* the results are UIDs */
    unsigned present; /* enum imap_esearch_item bits */
    uint32_t min, max, count;
    uint64_t modseq;
};

/* ALL is expanded into all_out (at most max numbers). */
bool imap_decode_esearch(const struct imap_resp *r, size_t max, struct imap_esearch *out,
                         struct uidvec *all_out, struct err *e);

/* "* VANISHED [(EARLIER)] set": UIDs appended to out (at most max). */
bool imap_decode_vanished(const struct imap_resp *r, size_t max, bool *earlier_r,
                          struct uidvec *out, struct err *e);

/* "* n EXISTS", "* n EXPUNGE" (n > 0), "* n RECENT". */
bool imap_decode_number(const struct imap_resp *r, enum imap_data *kind_r, uint32_t *n_r,
                        struct err *e);

/* NAMESPACE (RFC 2342): the first personal namespace is enough for us. */
struct imap_namespace {
    bool has_personal;
    const char *prefix; /* "" or "INBOX." */
    char delim;         /* '\0' for NIL */
};

bool imap_decode_namespace(const struct imap_resp *r, struct imap_namespace *out, struct err *e);

/* Response codes, from the "[...]" of a status response. */
enum imap_code {
    IMAP_CODE_NONE = 0, /* no code */
    IMAP_CODE_OTHER,    /* a code we do not decode; see imap_code_data.name */
    IMAP_CODE_ALERT,
    IMAP_CODE_ALREADYEXISTS,
    IMAP_CODE_APPENDUID,
    IMAP_CODE_CAPABILITY, /* decode it with imap_decode_capability() */
    IMAP_CODE_CLOSED,
    IMAP_CODE_COPYUID,
    IMAP_CODE_HIGHESTMODSEQ,
    IMAP_CODE_LIMIT,
    IMAP_CODE_MODIFIED,
    IMAP_CODE_NOMODSEQ,
    IMAP_CODE_NONEXISTENT,
    IMAP_CODE_OVERQUOTA,
    IMAP_CODE_PARSE,
    IMAP_CODE_PERMANENTFLAGS,
    IMAP_CODE_READ_ONLY,
    IMAP_CODE_READ_WRITE,
    IMAP_CODE_TRYCREATE,
    IMAP_CODE_UIDNEXT,
    IMAP_CODE_UIDNOTSTICKY,
    IMAP_CODE_UIDVALIDITY,
    IMAP_CODE_UNAVAILABLE,
    IMAP_CODE_UNSEEN,
    IMAP_CODE_AUTHENTICATIONFAILED,
};

struct imap_code_data {
    enum imap_code code;
    const char *name;             /* the code name as sent, upper-cased; NULL for NONE */
    uint32_t num;                 /* UIDNEXT, UIDVALIDITY, UNSEEN */
    uint64_t modseq;              /* HIGHESTMODSEQ */
    uint32_t uidvalidity;         /* APPENDUID, COPYUID */
    struct uidvec src_uids;       /* COPYUID source UIDs; owned */
    struct uidvec uids;           /* APPENDUID, COPYUID destination, MODIFIED; owned */
    const struct imap_arg *flags; /* PERMANENTFLAGS: flags[i].str, i < flag_count */
    size_t flag_count;
};

void imap_code_data_init(struct imap_code_data *d);
void imap_code_data_release(struct imap_code_data *d);
/* Decode r's response code into d (released first); max bounds the UID sets. */
bool imap_decode_code(const struct imap_resp *r, size_t max, struct imap_code_data *d,
                      struct err *e);

#endif
