/*
 * Table tests of the planner.  Lists are written "uid:FLAGS uid:FLAGS";
 * a local uid of 0 is a new local message.  The plan is rendered as text
 * so each row of the table reads like the expected behaviour.
 */
#include "sync/sync_plan.h"

#include "base/buf.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void parse_list(const char *spec, struct store_msg_list *out)
{
    const char *p = spec;
    uint32_t key = 0;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end;
        unsigned long uid = strtoul(p, &end, 10);
        p = end;
        flagset_t flags = 0;
        if (*p == ':') {
            p++;
            const char *s = p;
            while (*p && *p != ' ')
                p++;
            flags = flags_from_letters(s, (size_t)(p - s));
        }
        struct store_msg m = {.uid = (uint32_t)uid, .key = key++, .flags = flags};
        store_msg_list_push(out, &m);
    }
    store_msg_list_sort(out);
}

static size_t parse_status(const char *spec, struct sync_status_entry *out)
{
    struct store_msg_list l = {0};
    parse_list(spec, &l);
    for (size_t i = 0; i < l.n; i++)
        out[i] = (struct sync_status_entry){l.v[i].uid, l.v[i].flags};
    size_t n = l.n;
    store_msg_list_free(&l);
    return n;
}

static void put_flags(struct buf *b, const char *sign, flagset_t f)
{
    char letters[64];
    if (f) {
        flags_to_letters(f, letters);
        buf_printf(b, "%s%s", sign, letters);
    }
}

static void render(const struct sync_plan *p, struct buf *b)
{
    char letters[64];
    for (size_t i = 0; i < p->download.n; i++) {
        flags_to_letters(p->download.v[i].flags, letters);
        buf_printf(b, "dl:%u(%s) ", p->download.v[i].uid, letters);
    }
    for (size_t i = 0; i < p->status_add.n; i++) {
        flags_to_letters(p->status_add.v[i].flags, letters);
        buf_printf(b, "add:%u(%s) ", p->status_add.v[i].uid, letters);
    }
    for (size_t i = 0; i < p->local_delete.n; i++)
        buf_printf(b, "ldel:%u ", p->local_delete.v[i].uid);
    for (size_t i = 0; i < p->status_drop.n; i++)
        buf_printf(b, "drop:%u ", p->status_drop.v[i]);
    for (size_t i = 0; i < p->local_flags.n; i++) {
        const struct sync_flag_change *c = &p->local_flags.v[i];
        buf_printf(b, "lflag:%u", c->msg.uid);
        put_flags(b, "+", c->add);
        put_flags(b, "-", c->del);
        flags_to_letters(c->new_status, letters);
        buf_printf(b, "=%s ", letters);
    }
    for (size_t i = 0; i < p->upload.n; i++)
        buf_printf(b, "up:%u/k%u ", p->upload.v[i].uid, p->upload.v[i].key);
    for (size_t i = 0; i < p->remote_delete.n; i++)
        buf_printf(b, "rdel:%u ", p->remote_delete.v[i].uid);
    for (size_t i = 0; i < p->remote_flags.n; i++) {
        const struct sync_flag_change *c = &p->remote_flags.v[i];
        buf_printf(b, "rflag:%u", c->msg.uid);
        put_flags(b, "+", c->add);
        put_flags(b, "-", c->del);
        flags_to_letters(c->new_status, letters);
        buf_printf(b, "=%s ", letters);
    }
    buf_truncate(b, b->len && b->data[b->len - 1] == ' ' ? b->len - 1 : b->len);
}

struct row {
    const char *name;
    const char *remote, *local, *status;
    unsigned opts; /* bits below */
    const char *expect;
};

#define LRO 1u      /* local read-only */
#define RRO 2u      /* remote read-only */
#define NO_RDEL 4u  /* remote sync_deletes = no */
#define NO_LDEL 8u  /* local sync_deletes = no */

static const struct row rows[] = {
    {"empty everywhere", "", "", "", 0, ""},
    {"first sync downloads", "1:S 2: 3:FS", "", "", 0, "dl:1(S) dl:2() dl:3(FS)"},
    {"second run changes nothing", "1:S 2:", "1:S 2:", "1:S 2:", 0, ""},
    {"new local message uploads", "", "0:S", "", 0, "up:0/k0"},
    {"stale U= uploads again", "", "7:S", "", 0, "up:7/k0"},
    {"both have it, status lost", "4:S", "4:S", "", 0, "add:4(S)"},
    {"status lost, local flags win", "4:S", "4:FS", "", 0, "add:4(S) rflag:4+F=FS"},
    {"deleted on server", "", "5:S", "5:S", 0, "ldel:5"},
    {"deleted on server, no sync_deletes", "", "5:S", "5:S", NO_RDEL, ""},
    {"deleted locally", "6:S", "", "6:S", 0, "rdel:6"},
    {"deleted locally, no sync_deletes", "6:S", "", "6:S", NO_LDEL, ""},
    {"gone everywhere", "", "", "8:S", 0, "drop:8"},
    {"server sets flag", "1:FS", "1:S", "1:S", 0, "lflag:1+F=FS"},
    {"server clears flag", "1:", "1:S", "1:S", 0, "lflag:1-S="},
    {"local sets flag", "1:S", "1:RS", "1:S", 0, "rflag:1+R=RS"},
    {"local clears flag", "1:S", "1:", "1:S", 0, "rflag:1-S="},
    {"both change different flags", "1:FS", "1:RS", "1:S", 0, "lflag:1+F=FS rflag:1+R=FRS"},
    {"local sets flag the server lacks", "1:", "1:S", "1:", 0, "rflag:1+S=S"},
    {"conflict 2: server cleared, local kept", "1:", "1:S", "1:S", 0, "lflag:1-S="},
    {"same change on both sides", "1:FS", "1:FS", "1:S", 0, "lflag:1=FS"},
    {"local read-only: nothing local", "1:S 2:", "3:S", "3:S", LRO, ""},
    {"local read-only: local deletion still propagates", "1:S 3:S", "", "3:S", LRO, "rdel:3"},
    {"local read-only: uploads still go", "", "0:", "", LRO, "up:0/k0"},
    {"remote read-only: no uploads", "1:S", "0:", "", RRO, "dl:1(S)"},
    {"remote read-only: no remote delete", "6:S", "", "6:S", RRO, ""},
    {"remote read-only: local flags apply", "1:FS", "1:S", "1:S", RRO, "lflag:1+F=FS"},
    {"mixed", "1:S 2:F 4:S 9:", "1:S 3:S 4:RS 0: 0:T", "1:S 2:F 3:S 4:S 5:", 0,
     "dl:9() ldel:3 drop:5 up:0/k3 up:0/k4 rdel:2 rflag:4+R=RS"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        test_begin(r->name);
        struct store_msg_list remote = {0}, local = {0};
        parse_list(r->remote, &remote);
        parse_list(r->local, &local);
        struct sync_status_entry status[64];
        size_t ns = parse_status(r->status, status);
        struct sync_plan_opts o = {
            .local_readonly = r->opts & LRO,
            .remote_readonly = r->opts & RRO,
            .remote_sync_deletes = !(r->opts & NO_RDEL),
            .local_sync_deletes = !(r->opts & NO_LDEL),
        };
        struct sync_plan p;
        sync_plan_build(&remote, &local, status, ns, &o, &p);
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        render(&p, &b);
        test_assert_streq(b.data, r->expect);
        test_assert(sync_plan_empty(&p) == (r->expect[0] == '\0'));
        buf_release(&b);
        sync_plan_free(&p);
        store_msg_list_free(&remote);
        store_msg_list_free(&local);
        test_end();
    }
    return test_done();
}
