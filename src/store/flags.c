#include "store/flags.h"

#include <strings.h>

flagset_t flags_from_letters(const char *s, size_t len)
{
    flagset_t f = 0;
    for (size_t i = 0; i < len; i++)
        f |= flag_bit(s[i]);
    return f;
}

size_t flags_to_letters(flagset_t f, char *out)
{
    size_t n = 0;
    for (int bit = 0; bit < 52; bit++) {
        if (f & ((flagset_t)1 << bit))
            out[n++] = bit < 26 ? (char)('A' + bit) : (char)('a' + bit - 26);
    }
    out[n] = '\0';
    return n;
}

static const struct {
    char letter;
    const char *name;
} standard[] = {
    {'D', "\\Draft"}, {'F', "\\Flagged"}, {'R', "\\Answered"}, {'S', "\\Seen"}, {'T', "\\Deleted"},
};

const char *flag_imap_name(char letter)
{
    for (size_t i = 0; i < sizeof(standard) / sizeof(standard[0]); i++)
        if (standard[i].letter == letter)
            return standard[i].name;
    return NULL;
}

char flag_from_imap_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(standard) / sizeof(standard[0]); i++) {
        const char *n = standard[i].name;
        size_t nl = 0;
        while (n[nl])
            nl++;
        if (nl == len && strncasecmp(n, name, len) == 0)
            return standard[i].letter;
    }
    return 0;
}
