#include "ui/ui_testutil.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <stdlib.h>

void cap_open(struct cap *c)
{
    *c = (struct cap){0};
    c->out = open_memstream(&c->obuf, &c->olen);
    c->err = open_memstream(&c->ebuf, &c->elen);
    if (!c->out || !c->err)
        abort();
}

const char *cap_out(struct cap *c)
{
    fflush(c->out);
    return c->obuf;
}

const char *cap_err(struct cap *c)
{
    fflush(c->err);
    return c->ebuf;
}

void cap_close(struct cap *c)
{
    fclose(c->out);
    fclose(c->err);
    free(c->obuf);
    free(c->ebuf);
    *c = (struct cap){0};
}

struct ui *cap_ui(struct cap *c, const char *name, const struct ui_opts *opts)
{
    struct ui_opts o = opts ? *opts : (struct ui_opts){0};
    struct err e = ERR_INIT;
    o.out = c->out;
    o.err = c->err;
    struct ui *ui = ui_new(name, &o, &e);
    if (!ui) {
        fprintf(stderr, "ui_new(%s): %s\n", name, e.msg);
        abort();
    }
    return ui;
}

void ev_send(struct ui *ui, struct log_event ev)
{
    ui_event(ui, &ev);
}

char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    if (f) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            buf_append(&b, chunk, n);
        fclose(f);
    }
    return buf_detach(&b, NULL);
}
