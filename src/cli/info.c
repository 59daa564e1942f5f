/*
 * info: --info (see info.h); texts from offlineimap3's ui/UIBase.py.
 */
#include "cli/info.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli/foldermap.h"
#include "cli/repo_setup.h"
#include "store/store_imap.h"
#include "ui/ui.h"

#include <stdlib.h>
#include <string.h>

/* Python's repr() of a str (as_bytes: of bytes, with the b prefix) holding s. */
static void py_repr(struct buf *b, const char *s, bool as_bytes)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    if (as_bytes)
        buf_append_char(b, 'b');
    buf_append_char(b, q);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == (unsigned char)q)
            buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            buf_append_str(b, "\\n");
        else if (*p == '\r')
            buf_append_str(b, "\\r");
        else if (*p == '\t')
            buf_append_str(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f || (as_bytes && *p >= 0x80))
            buf_printf(b, "\\x%02x", *p);
        else
            buf_append_char(b, (char)*p);
    }
    buf_append_char(b, q);
}

static void show_expr(struct ui *ui, const char *option, const struct config_expr *x)
{
    if (x->text && *x->text)
        ui_display(ui, "%s= %s\n", option, x->text);
}

/* "Folderlist:\n name -> visible (disabled)\n ...". */
static void show_folders(struct ui *ui, const struct strvec *names, const struct strvec *vis,
                         const bool *wanted)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_append_str(&b, "Folderlist:\n ");
    for (size_t i = 0; i < names->n; i++) {
        if (i)
            buf_append_str(&b, "\n ");
        buf_append_str(&b, names->v[i]);
        if (strcmp(names->v[i], vis->v[i]) != 0)
            buf_printf(&b, " -> %s", vis->v[i]);
        if (!wanted[i])
            buf_append_str(&b, " (disabled)");
    }
    buf_append_char(&b, '\n');
    ui_display(ui, "%s", b.data);
    buf_release(&b);
}

static bool list_has(const struct strvec *v, const char *name)
{
    return strvec_contains(v, name);
}

static bool remote_info(struct ui *ui, const struct config_repository *r, struct repo_stores *rs)
{
    struct store *s = rs->account.remote;
    struct foldermap *fm = &rs->fmap;
    const char *host;
    int port;
    bool ssl;
    store_imap_endpoint(s, &host, &port, &ssl);
    ui_display(ui, "Remote repository '%s': type '%s'", r->name, config_repo_type_name(r->type));
    ui_display(ui, "Host: %s Port: %d SSL: %s", host ? host : "None", port, ssl ? "True" : "False");
    struct err e = ERR_INIT;
    char *greeting = NULL;
    struct strvec caps = STRVEC_INIT;
    if (!store_imap_server_info(s, &greeting, &caps, &e)) {
        ui_display(ui, "Failed to connect. Reason %s", e.msg);
        err_clear(&e);
        strvec_free(&caps);
        return false;
    }
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    bool has_id = false;
    buf_append_char(&b, '(');
    for (size_t i = 0; i < caps.n; i++) {
        /* imaplib2 keeps the capabilities upper-cased. */
        for (char *p = caps.v[i]; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        has_id = has_id || !strcmp(caps.v[i], "ID");
        if (i)
            buf_append_str(&b, ", ");
        py_repr(&b, caps.v[i], false);
    }
    buf_append_str(&b, caps.n == 1 ? ",)" : ")");
    if (has_id)
        ui_display(ui, "Server supports ID extension.");
    struct buf w;
    buf_init(&w, BUF_UNBOUNDED);
    py_repr(&w, greeting, true);
    ui_display(ui, "Server welcome string: %s", w.data);
    ui_display(ui, "Server capabilities: %s\n", b.data);
    buf_release(&w);
    buf_release(&b);
    free(greeting);
    strvec_free(&caps);

    show_expr(ui, "folderfilter", &r->folderfilter);
    show_expr(ui, "folderincludes", &r->folderincludes);
    show_expr(ui, "nametrans", &r->nametrans);
    struct store_folder_list l = {0};
    bool ok = s->ops->list_folders(s, &l, &e);
    struct strvec names = STRVEC_INIT, vis = STRVEC_INIT;
    if (ok) {
        fm->rsep = l.sep;
        for (size_t i = 0; i < l.n; i++)
            if (!l.v[i].noselect && l.v[i].name[0])
                strvec_push(&names, l.v[i].name);
        for (size_t i = 0; i < fm->rincludes.n; i++)
            if (!list_has(&names, fm->rincludes.v[i]))
                strvec_push(&names, fm->rincludes.v[i]);
        for (size_t i = 0; ok && i < names.n; i++) {
            char *v = NULL;
            ok = foldermap_remote_visible(fm, names.v[i], &v, &e);
            strvec_push_owned(&vis, ok ? v : xstrdup(names.v[i]));
        }
        ok = ok && foldermap_sort(fm, &names, &vis, &e);
    }
    bool *wanted = xcalloc(names.n + 1, sizeof(*wanted));
    for (size_t i = 0; ok && i < names.n; i++)
        ok = foldermap_remote_wanted(fm, names.v[i], &wanted[i], &e);
    if (ok)
        show_folders(ui, &names, &vis, wanted);
    else
        log_error("%s", e.msg);
    err_clear(&e);
    free(wanted);
    strvec_free(&names);
    strvec_free(&vis);
    store_folder_list_free(&l);
    return ok;
}

static bool local_info(struct ui *ui, const struct config_repository *r, struct repo_stores *rs)
{
    struct store *s = rs->account.local;
    struct foldermap *fm = &rs->fmap;
    ui_display(ui, "Local repository '%s': type '%s'", r->name, config_repo_type_name(r->type));
    show_expr(ui, "folderfilter", &r->folderfilter);
    show_expr(ui, "folderincludes", &r->folderincludes);
    show_expr(ui, "nametrans", &r->nametrans);
    struct err e = ERR_INIT;
    struct store_folder_list l = {0};
    struct strvec names = STRVEC_INIT, vis = STRVEC_INIT;
    bool ok = s->ops->connect(s, &e) && s->ops->list_folders(s, &l, &e);
    for (size_t i = 0; ok && i < l.n; i++)
        if (!l.v[i].noselect && l.v[i].name[0]) {
            strvec_push(&names, l.v[i].name);
            strvec_push_owned(&vis, foldermap_local_visible_cb(fm, l.v[i].name));
        }
    bool *wanted = xcalloc(names.n + 1, sizeof(*wanted));
    for (size_t i = 0; ok && i < names.n; i++)
        ok = foldermap_local_wanted(fm, names.v[i], &wanted[i], &e);
    if (ok)
        show_folders(ui, &names, &vis, wanted);
    else
        log_error("%s", e.msg);
    err_clear(&e);
    free(wanted);
    strvec_free(&names);
    strvec_free(&vis);
    store_folder_list_free(&l);
    return ok;
}

int info_run(const struct config *cfg, struct ui *ui)
{
    int status = 0;
    for (size_t i = 0; i < cfg->nsync; i++) {
        const struct config_account *acc = cfg->sync[i];
        struct repo_stores rs;
        struct err e = ERR_INIT;
        struct repo_setup_opts so = {.cfg = cfg, .account = acc, .ui = ui, .single_thread = true};
        if (!repo_setup(&so, &rs, &e)) {
            log_error("%s", e.msg);
            err_clear(&e);
            status = 1;
            continue;
        }
        rs.fmap.lsep = rs.account.local_sep;
        if (!remote_info(ui, acc->remote, &rs))
            status = 1;
        if (!local_info(ui, acc->local, &rs))
            status = 1;
        repo_stores_release(&rs);
    }
    return status;
}
