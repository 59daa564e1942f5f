#include "imap/imap_cmd.h"

#include "base/xalloc.h"
#include "imap/imap_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 7888: with LITERAL-, only literals up to this size may be non-synchronizing. */
#define LITERAL_MINUS_MAX 4096

void imap_cmd_init(struct imap_cmd *c, size_t max, enum imap_literal_mode mode)
{
    memset(c, 0, sizeof(*c));
    buf_init(&c->text, max);
    c->mode = mode;
}

void imap_cmd_release(struct imap_cmd *c)
{
    buf_release(&c->text);
    free(c->lits);
    free(c->error);
    c->lits = NULL;
    c->error = NULL;
    c->nlits = c->caplits = 0;
}

void imap_cmd_reset(struct imap_cmd *c)
{
    buf_reset(&c->text);
    c->nlits = 0;
    XFREE(c->error);
}

static bool failf(struct imap_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool failf(struct imap_cmd *c, const char *fmt, ...)
{
    if (!c->error) {
        va_list ap;
        va_start(ap, fmt);
        c->error = xvasprintf(fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool put(struct imap_cmd *c, const void *data, size_t n)
{
    if (c->error)
        return false;
    if (!buf_append(&c->text, data, n))
        return failf(c, "The IMAP command would be longer than the limit of %zu bytes.",
                     c->text.max);
    return true;
}

bool imap_cmd_start(struct imap_cmd *c, const char *tag, const char *name)
{
    imap_cmd_reset(c);
    return put(c, tag, strlen(tag)) && put(c, " ", 1) && put(c, name, strlen(name));
}

bool imap_cmd_add_raw(struct imap_cmd *c, const char *s)
{
    return put(c, s, strlen(s));
}

bool imap_cmd_add_rawf(struct imap_cmd *c, const char *fmt, ...)
{
    if (c->error)
        return false;
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    bool ok = put(c, s, strlen(s));
    free(s);
    return ok;
}

bool imap_cmd_add_u64(struct imap_cmd *c, uint64_t n)
{
    char num[24];
    int len = snprintf(num, sizeof(num), "%" PRIu64, n);
    return put(c, num, (size_t)len);
}

static bool literal_header(struct imap_cmd *c, uint64_t size, bool external)
{
    bool sync =
        c->mode == IMAP_LITERAL_SYNC || (c->mode == IMAP_LITERAL_MINUS && size > LITERAL_MINUS_MAX);
    char hdr[32];
    int len = snprintf(hdr, sizeof(hdr), "{%" PRIu64 "%s}\r\n", size, sync ? "" : "+");
    if (!put(c, hdr, (size_t)len))
        return false;
    if (c->nlits == c->caplits) {
        c->caplits = c->caplits ? c->caplits * 2 : 4;
        c->lits = xreallocarray(c->lits, c->caplits, sizeof(*c->lits));
    }
    struct imap_cmd_literal *l = &c->lits[c->nlits++];
    l->offset = c->text.len;
    l->size = size;
    l->sync = sync;
    l->external = external;
    return true;
}

bool imap_cmd_add_literal_header(struct imap_cmd *c, uint64_t size)
{
    return literal_header(c, size, true);
}

bool imap_cmd_add_literal(struct imap_cmd *c, const char *s, size_t len)
{
    if (c->error)
        return false;
    if (memchr(s, '\0', len))
        return failf(c, "A string holding a NUL byte cannot be sent in an IMAP command.");
    return literal_header(c, len, false) && put(c, s, len);
}

enum str_form {
    FORM_ATOM,
    FORM_QUOTED,
    FORM_LITERAL,
};

static enum str_form str_form(const char *s, size_t len)
{
    bool atom = len > 0, quoted = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!imap_is_atom_char(ch))
            atom = false;
        if (ch < 0x20 || ch > 0x7e) {
            quoted = false;
            break;
        }
    }
    if (atom && !(len == 3 && strncasecmp(s, "NIL", 3) == 0))
        return FORM_ATOM;
    return quoted ? FORM_QUOTED : FORM_LITERAL;
}

bool imap_cmd_add_quoted(struct imap_cmd *c, const char *s, size_t len)
{
    if (c->error)
        return false;
    if (str_form(s, len) == FORM_LITERAL) {
        char q[IMAP_QUOTE_SIZE];
        imap_text_quote(s, len, q);
        return failf(c, "The string \"%s\" cannot be sent as an IMAP quoted string.", q);
    }
    if (!put(c, "\"", 1))
        return false;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            if (!put(c, s + start, i - start) || !put(c, "\\", 1))
                return false;
            start = i;
        }
    }
    return put(c, s + start, len - start) && put(c, "\"", 1);
}

bool imap_cmd_add_string(struct imap_cmd *c, const char *s, size_t len)
{
    if (str_form(s, len) == FORM_LITERAL)
        return imap_cmd_add_literal(c, s, len);
    return imap_cmd_add_quoted(c, s, len);
}

bool imap_cmd_add_astring(struct imap_cmd *c, const char *s, size_t len)
{
    switch (str_form(s, len)) {
    case FORM_ATOM:
        return put(c, s, len);
    case FORM_QUOTED:
        return imap_cmd_add_quoted(c, s, len);
    case FORM_LITERAL:
        break;
    }
    return imap_cmd_add_literal(c, s, len);
}

/* flag = "\Answered" / ... / keyword / flag-extension; keyword = atom; flag-extension = "\" atom */
bool imap_flag_is_valid(const char *s)
{
    if (*s == '\\')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (!imap_is_atom_char((unsigned char)*s))
            return false;
    return true;
}

bool imap_cmd_add_flags(struct imap_cmd *c, const char *const *flags, size_t n)
{
    if (!put(c, "(", 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!imap_flag_is_valid(flags[i])) {
            char q[IMAP_QUOTE_SIZE];
            imap_text_quote(flags[i], strlen(flags[i]), q);
            return failf(c, "\"%s\" is not a valid IMAP flag.", q);
        }
        if ((i > 0 && !put(c, " ", 1)) || !put(c, flags[i], strlen(flags[i])))
            return false;
    }
    return put(c, ")", 1);
}

bool imap_cmd_finish(struct imap_cmd *c, struct err *e)
{
    if (!c->error)
        put(c, "\r\n", 2);
    if (c->error) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "%s", c->error);
        return false;
    }
    return true;
}

/* Dates. */

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t year, int month)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : dim[month - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool imap_format_date_time(time_t t, char out[IMAP_DATE_TIME_SIZE])
{
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return false;
    int year = tm.tm_year + 1900;
    if (year < 1981 || year > 9999)
        return false;
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    unsigned long uoff = (unsigned long)(off < 0 ? -off : off);
    /* The moduli only tell the compiler how wide each field is. */
    snprintf(out, IMAP_DATE_TIME_SIZE, "%02u-%s-%04u %02u:%02u:%02u %c%02lu%02lu",
             (unsigned)tm.tm_mday % 100u, month_names[(unsigned)tm.tm_mon % 12u],
             (unsigned)year % 10000u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, sign, (uoff / 60) % 100u, uoff % 60u);
    return true;
}

bool imap_format_date(int year, int month, int day, char out[IMAP_DATE_SIZE])
{
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month))
        return false;
    snprintf(out, IMAP_DATE_SIZE, "%u-%s-%04u", (unsigned)day % 100u, month_names[month - 1],
             (unsigned)year % 10000u);
    return true;
}

/* n digits at s[*i] as a number; false if any is not a digit. */
static bool digits(const char *s, size_t len, size_t *i, size_t n, int *v_r)
{
    if (len - *i < n)
        return false;
    int v = 0;
    for (size_t k = 0; k < n; k++) {
        char ch = s[*i + k];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (ch - '0');
    }
    *i += n;
    *v_r = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *i, char ch)
{
    if (*i >= len || s[*i] != ch)
        return false;
    (*i)++;
    return true;
}

bool imap_parse_date_time(const char *s, size_t len, time_t *t_r)
{
    size_t i = 0;
    int day, year, hour, min, sec, zh, zm, month = 0;
    /* date-day-fixed = (SP DIGIT) / 2DIGIT; a lone digit is tolerated too. */
    if (len > 0 && s[0] == ' ')
        i++;
    if (!digits(s, len, &i, 1, &day))
        return false;
    if (s[0] != ' ' && i < len && s[i] >= '0' && s[i] <= '9') {
        day = day * 10 + (s[i] - '0');
        i++;
    }
    if (!expect(s, len, &i, '-') || len - i < 3)
        return false;
    for (int m = 0; m < 12; m++)
        if (strncasecmp(s + i, month_names[m], 3) == 0)
            month = m + 1;
    i += 3;
    if (month == 0 || !expect(s, len, &i, '-') || !digits(s, len, &i, 4, &year) ||
        !expect(s, len, &i, ' ') || !digits(s, len, &i, 2, &hour) || !expect(s, len, &i, ':') ||
        !digits(s, len, &i, 2, &min) || !expect(s, len, &i, ':') || !digits(s, len, &i, 2, &sec) ||
        !expect(s, len, &i, ' ') || i >= len)
        return false;
    char zsign = s[i++];
    if ((zsign != '+' && zsign != '-') || !digits(s, len, &i, 2, &zh) ||
        !digits(s, len, &i, 2, &zm) || i != len)
        return false;
    if (year < 1 || day < 1 || day > days_in_month(year, month) || hour > 23 || min > 59 ||
        sec > 60 || zh > 23 || zm > 59)
        return false;
    int64_t t = days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
    int64_t zone = (int64_t)zh * 3600 + zm * 60;
    t += zsign == '+' ? -zone : zone;
    if ((int64_t)(time_t)t != t)
        return false;
    *t_r = (time_t)t;
    return true;
}
