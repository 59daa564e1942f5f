/*
 * ui_redact: no secret reaches any output, whatever the emitter did.
 *
 * The IMAP layer already hides what it sends with IMAP_SEND_SECRET; this is
 * the second line of defence, applied to every message the interfaces
 * write.  Two rules:
 *
 *   - An IMAP command line "<tag> LOGIN <user> <password>" or
 *     "<tag> AUTHENTICATE <mechanism> <initial response>" (RFC 3501 6.2.2,
 *     RFC 4959) keeps its tag, command and mechanism; the rest of that line
 *     becomes "<secret hidden>".  The keyword matches in any case when it
 *     follows a tag (letters and digits with at least one digit, as every
 *     client makes them) and one space, as in "-d imap" traces
 *     ("Remote > A0001 LOGIN ..."); "Login failed" in prose is left alone.
 *   - Every string registered with ui_add_secret() is replaced wherever it
 *     appears.
 *
 * A message that needs no change costs two scans for the keywords and one
 * memmem per secret.
 */
#define _GNU_SOURCE /* memmem */
#include "ui/ui_internal.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define HIDDEN "<secret hidden>"

static bool is_word_char(char c)
{
    return c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != '\0';
}

static bool ieq_prefix(const char *s, const char *kw)
{
    for (; *kw; s++, kw++) {
        char c = *s;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != *kw)
            return false;
    }
    return true;
}

/*
 * Where the secret part of a command at `kw` (a keyword of length kwlen in
 * msg) starts, or NULL when this is no command with arguments.
 */
static bool is_tag_before(const char *msg, const char *space)
{
    const char *p = space;
    bool digit = false;
    while (p > msg && is_word_char(p[-1])) {
        char c = p[-1];
        if (c >= '0' && c <= '9')
            digit = true;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
        p--;
    }
    return p < space && digit;
}

static const char *secret_start(const char *msg, const char *kw, size_t kwlen, bool mech)
{
    if (kw - msg < 2 || kw[-1] != ' ' || !is_tag_before(msg, kw - 1))
        return NULL;
    const char *p = kw + kwlen;
    if (*p != ' ')
        return NULL;
    if (mech) {
        /* AUTHENTICATE <mechanism>: the mechanism is no secret. */
        p++;
        while (is_word_char(*p))
            p++;
        if (*p != ' ')
            return NULL;
    }
    /* Already hidden by the emitter. */
    if (strncmp(p + 1, HIDDEN, sizeof(HIDDEN) - 1) == 0)
        return NULL;
    return p + 1;
}

/* The start of the next secret command argument at or after p, or NULL. */
static const char *next_hit(const char *msg, const char *p)
{
    static const struct {
        const char *kw;
        size_t len;
        bool mech;
    } cmds[] = {{"LOGIN", 5, false}, {"AUTHENTICATE", 12, true}};
    for (const char *q = p; *q; q++) {
        if (q[0] != 'L' && q[0] != 'l' && q[0] != 'A' && q[0] != 'a')
            continue;
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
            if (ieq_prefix(q, cmds[i].kw)) {
                const char *s = secret_start(msg, q, cmds[i].len, cmds[i].mech);
                if (s)
                    return s;
            }
        }
    }
    return NULL;
}

static char *redact_commands(const char *msg, const char *hit)
{
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    const char *p = msg;
    while (hit) {
        buf_append(&out, p, (size_t)(hit - p));
        buf_append_str(&out, HIDDEN);
        p = hit + strcspn(hit, "\r\n");
        hit = next_hit(msg, p);
    }
    buf_append_str(&out, p);
    return buf_detach(&out, NULL);
}

static char *replace_secret(char *text, const char *secret, bool *changed)
{
    size_t slen = strlen(secret);
    if (!memmem(text, strlen(text), secret, slen))
        return text;
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    const char *p = text, *hit;
    while ((hit = memmem(p, strlen(p), secret, slen)) != NULL) {
        buf_append(&out, p, (size_t)(hit - p));
        buf_append_str(&out, HIDDEN);
        p = hit + slen;
    }
    buf_append_str(&out, p);
    free(text);
    *changed = true;
    return buf_detach(&out, NULL);
}

char *ui_redact(const char *msg, const struct strvec *secrets)
{
    bool changed = false;
    const char *hit = next_hit(msg, msg);
    char *text = NULL;
    if (hit) {
        text = redact_commands(msg, hit);
        changed = true;
    }
    for (size_t i = 0; secrets && i < secrets->n; i++) {
        if (!text) {
            if (!strstr(msg, secrets->v[i]))
                continue;
            text = xstrdup(msg);
        }
        text = replace_secret(text, secrets->v[i], &changed);
    }
    if (!changed) {
        free(text);
        return NULL;
    }
    return text;
}
