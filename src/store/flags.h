/*
 * flags: message flags as a set of Maildir letters.
 *
 * A flagset_t has one bit per letter: 'A'..'Z' are bits 0..25 and 'a'..'z'
 * bits 26..51, so iterating bits upward yields ASCII order, the order
 * offlineimap writes flags in file names and in its status cache.
 *
 * The standard letters and their IMAP system flags (REFERENCE.md 4.1, 5.4):
 *   D \Draft   F \Flagged   R \Answered   S \Seen   T \Deleted
 * Lower-case letters stand for IMAP keywords mapped with customflag_[a-z].
 */
#ifndef STORE_FLAGS_H
#define STORE_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t flagset_t;

static inline bool flag_letter_valid(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline flagset_t flag_bit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (flagset_t)1 << (c - 'A');
    if (c >= 'a' && c <= 'z')
        return (flagset_t)1 << (26 + (c - 'a'));
    return 0;
}

#define FLAG_DRAFT (flag_bit('D'))
#define FLAG_FLAGGED (flag_bit('F'))
#define FLAG_ANSWERED (flag_bit('R'))
#define FLAG_SEEN (flag_bit('S'))
#define FLAG_DELETED (flag_bit('T'))
/* The five letters offlineimap maps to IMAP system flags. */
#define FLAGS_STANDARD (FLAG_DRAFT | FLAG_FLAGGED | FLAG_ANSWERED | FLAG_SEEN | FLAG_DELETED)

/* Letters in s (any order, unknown characters ignored) as a set. */
flagset_t flags_from_letters(const char *s, size_t len);
/* Write the sorted letters and a NUL into out (at least 53 bytes); returns the length. */
size_t flags_to_letters(flagset_t f, char *out);
/* The IMAP system flag for a standard letter ("\\Seen"), or NULL. */
const char *flag_imap_name(char letter);
/* The letter for an IMAP system flag (case-insensitive), or 0. */
char flag_from_imap_name(const char *name, size_t len);

#endif
