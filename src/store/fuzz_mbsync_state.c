/*
 * Fuzz target for mbsync's sync state parser (and the mbsyncrc reader and
 * state-name matcher, which see the same bytes).  Beyond not crashing it
 * checks that a parsed state, written out again in mbsync's own format,
 * parses back to the same values.
 */
#include "store/maildir_mbsync.h"

#include "base/buf.h"
#include "base/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_state(const struct mbsync_state *st, struct buf *out)
{
    buf_printf(out, "FarUidValidity %u\nNearUidValidity %u\nMaxPulledUid %u\nMaxPushedUid %u\n\n",
               (unsigned)st->far_uidvalidity, (unsigned)st->near_uidvalidity,
               (unsigned)st->max_pulled, (unsigned)st->max_pushed);
    for (size_t i = 0; i < st->n; i++) {
        const struct mbsync_pair *p = &st->v[i];
        char letters[64];
        flags_to_letters(p->flags, letters);
        buf_printf(out, "%u %u %s%s%s\n", (unsigned)p->far, (unsigned)p->near,
                   p->placeholder == MBSYNC_PH_FAR    ? "<"
                   : p->placeholder == MBSYNC_PH_NEAR ? ">"
                                                      : "",
                   p->skipped   ? "^"
                   : p->expired ? "~"
                                : "",
                   letters);
    }
}

static void check_roundtrip(const struct mbsync_state *st)
{
    if (st->stub)
        return;
    for (size_t i = 0; i < st->n; i++)
        if (st->v[i].skipped && st->v[i].expired)
            abort();
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    write_state(st, &b);
    struct mbsync_state again;
    struct err e = ERR_INIT;
    if (!mbsync_state_parse(b.data, b.len, "again", &again, &e))
        abort();
    if (again.far_uidvalidity != st->far_uidvalidity ||
        again.near_uidvalidity != st->near_uidvalidity || again.n != st->n)
        abort();
    for (size_t i = 0; i < st->n; i++) {
        const struct mbsync_pair *x = &st->v[i], *y = &again.v[i];
        if (x->far != y->far || x->near != y->near || x->flags != y->flags ||
            x->placeholder != y->placeholder || x->skipped != y->skipped ||
            x->expired != y->expired)
            abort();
    }
    mbsync_state_free(&again);
    buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct mbsync_state st;
    struct err e = ERR_INIT;
    if (mbsync_state_parse(text, size, "fuzz", &st, &e)) {
        if (err_isset(&e))
            abort();
        check_roundtrip(&st);
    } else if (!err_isset(&e) || e.scope != ERR_FOLDER || st.v || st.n) {
        abort();
    }
    mbsync_state_free(&st);
    err_clear(&e);

    struct strvec dirs = STRVEC_INIT, prefixes = STRVEC_INIT;
    char delim = 0;
    mbsync_rc_sync_states(text, size, "/home/u", &dirs, &prefixes, &delim);
    if (dirs.n != prefixes.n || delim == 0)
        abort();
    for (size_t i = 0; i < dirs.n; i++)
        if (dirs.v[i][0] != '/' || strchr(prefixes.v[i], '/'))
            abort();
    strvec_free(&dirs);
    strvec_free(&prefixes);

    /* The first line as a file name in a state directory. */
    char name[256];
    size_t n = 0;
    while (n < size && n < sizeof(name) - 1 && data[n] != '\n' && data[n] != '\0')
        n++;
    memcpy(name, data, n);
    name[n] = '\0';
    (void)mbsync_state_name_matches(name, "", "INBOX", ':');
    (void)mbsync_state_name_matches(name, "p-", "A!b", ';');
    return 0;
}
