#include "store/msgdate.h"

#include "base/buf.h"
#include "store/msghdr.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const months[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};

struct tok {
    const char *s;
    size_t n;
};

/* Split on spaces, commas and (before a zone) nothing else; comments in () dropped. */
static size_t tokenize(const char *s, size_t len, struct tok *t, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len && n < max) {
        while (i < len && (isspace((unsigned char)s[i]) || s[i] == ','))
            i++;
        if (i >= len)
            break;
        if (s[i] == '(') {
            int depth = 0;
            while (i < len) {
                if (s[i] == '(')
                    depth++;
                else if (s[i] == ')' && --depth == 0) {
                    i++;
                    break;
                }
                i++;
            }
            continue;
        }
        size_t st = i;
        while (i < len && !isspace((unsigned char)s[i]) && s[i] != ',' && s[i] != '(')
            i++;
        t[n].s = s + st;
        t[n].n = i - st;
        n++;
    }
    return n;
}

static bool number(const struct tok *t, long *v)
{
    if (t->n == 0 || t->n > 9)
        return false;
    long x = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!isdigit((unsigned char)t->s[i]))
            return false;
        x = x * 10 + (t->s[i] - '0');
    }
    *v = x;
    return true;
}

static int month_of(const struct tok *t)
{
    if (t->n < 3)
        return -1;
    for (int m = 0; m < 12; m++)
        if (!strncasecmp(t->s, months[m], 3))
            return m;
    return -1;
}

static bool zone_of(const struct tok *t, long *off_r)
{
    if (t->n == 5 && (t->s[0] == '+' || t->s[0] == '-')) {
        long v = 0;
        for (int i = 1; i < 5; i++) {
            if (!isdigit((unsigned char)t->s[i]))
                return false;
            v = v * 10 + (t->s[i] - '0');
        }
        long off = (v / 100) * 3600 + (v % 100) * 60;
        *off_r = t->s[0] == '-' ? -off : off;
        return true;
    }
    static const struct {
        const char *name;
        long hours;
    } zones[] = {{"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},    {"EST", -5}, {"EDT", -4},
                 {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
        if (strlen(zones[i].name) == t->n && !strncasecmp(t->s, zones[i].name, t->n)) {
            *off_r = zones[i].hours * 3600;
            return true;
        }
    return false;
}

static int64_t days_from_civil(long y, int m, int d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01 for a proleptic Gregorian date. */
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + doe - 719468;
}

bool msgdate_parse(const char *s, size_t len, int64_t *t_r)
{
    struct tok t[12];
    size_t n = tokenize(s, len, t, 12);
    size_t i = 0;
    /* An optional day name ("Tue" or "Tue,"). */
    if (i < n && isalpha((unsigned char)t[i].s[0]) && month_of(&t[i]) < 0)
        i++;
    long day, year;
    int mon;
    if (i + 2 >= n)
        return false;
    if (number(&t[i], &day) && (mon = month_of(&t[i + 1])) >= 0) {
        i += 2; /* 1 Jul 2003 */
    } else if ((mon = month_of(&t[i])) >= 0 && number(&t[i + 1], &day)) {
        i += 2; /* Jul 1 2003 (sloppy) */
    } else {
        return false;
    }
    if (i >= n || !number(&t[i], &year))
        return false;
    i++;
    if (t[i - 1].n <= 2)
        year += year < 50 ? 2000 : 1900;
    else if (t[i - 1].n == 3)
        year += 1900;
    long hh = 0, mm = 0, ss = 0;
    if (i < n && memchr(t[i].s, ':', t[i].n)) {
        const char *p = t[i].s, *end = t[i].s + t[i].n;
        long parts[3] = {0, 0, 0};
        int k = 0;
        while (p < end && k < 3) {
            long v = 0;
            const char *st = p;
            while (p < end && isdigit((unsigned char)*p))
                v = v * 10 + (*p++ - '0');
            if (p == st)
                return false;
            parts[k++] = v;
            if (p < end && *p == ':')
                p++;
            else
                break;
        }
        if (k < 2 || p != end)
            return false;
        hh = parts[0];
        mm = parts[1];
        ss = parts[2];
        i++;
    }
    long off = 0;
    if (i < n)
        zone_of(&t[i], &off); /* an unknown zone counts as UTC, as Python does */
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1900 || year > 9999)
        return false;
    *t_r = days_from_civil(year, mon + 1, (int)day) * 86400 + hh * 3600 + mm * 60 + ss - off;
    return true;
}

bool msgdate_from_header(const char *hdr, size_t len, int64_t *t_r)
{
    struct buf v;
    buf_init(&v, 1024);
    bool ok = (msghdr_get(hdr, len, "Date", &v) && msgdate_parse(v.data, v.len, t_r)) ||
              (msghdr_get(hdr, len, "Delivery-date", &v) && msgdate_parse(v.data, v.len, t_r));
    buf_release(&v);
    return ok;
}
