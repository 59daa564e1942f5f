/*
 * ui_testutil: capture what an interface prints, for the ui test programs.
 */
#ifndef UI_UI_TESTUTIL_H
#define UI_UI_TESTUTIL_H

#include "ui/ui.h"

#include <stdio.h>

struct cap {
    FILE *out, *err;
    char *obuf, *ebuf;
    size_t olen, elen;
};

void cap_open(struct cap *c);
/* What was written so far (flushed first). */
const char *cap_out(struct cap *c);
const char *cap_err(struct cap *c);
void cap_close(struct cap *c);
/* ui_new() with c's streams added to opts (which may be NULL); aborts on error. */
struct ui *cap_ui(struct cap *c, const char *name, const struct ui_opts *opts);
void ev_send(struct ui *ui, struct log_event ev);
#define EV(ui, ...) ev_send((ui), (struct log_event){__VA_ARGS__})

/* The file's contents, malloc'ed ("" when it cannot be read). */
char *slurp(const char *path);

#endif
