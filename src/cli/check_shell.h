/*
 * check_shell: which programs a /bin/sh command line (a hook or a tunnel,
 * which offlineimap runs with Popen(cmd, shell=True)) would start, found
 * without running anything, for --check-config.
 *
 * check_shell_words() reads the command with the POSIX shell's token rules
 * (quotes, backslashes, comments, the operators | || && ; & |& and newlines,
 * redirections with their targets, leading NAME=value assignments) and
 * returns the command word of each simple command, with its quotes removed
 * and a leading ~ or ~user expanded.  When the command uses something whose
 * effect cannot be known without running it, it returns false and the
 * caller says nothing: command substitution ($( ) or backquotes) anywhere, a
 * subshell or group, a reserved word (if, for, while, case, !, ...) or a
 * parameter expansion or pattern in a command word, a here-document, an
 * unterminated quote.
 *
 * check_shell_program() says whether a command word names a builtin of
 * dash (Debian's /bin/sh), an executable file (a word with a '/'), or an
 * executable file in one of $PATH's directories.
 */
#ifndef CLI_CHECK_SHELL_H
#define CLI_CHECK_SHELL_H

#include "base/strutil.h"

#include <stdbool.h>

/* The longest command looked at; a longer one is not checked (false). */
#define CHECK_SHELL_MAX 65536

/*
 * The command words of cmd's simple commands, in order, into words_r
 * (appended).  home is $HOME for "~" (NULL: leave a leading ~ as it is).
 * False (and words_r as it was) when the command cannot be read statically.
 */
bool check_shell_words(const char *cmd, const char *home, struct strvec *words_r);

enum check_shell_prog {
    CHECK_SHELL_OK = 0,    /* a builtin, or an executable file */
    CHECK_SHELL_NOT_FOUND, /* no '/': neither a builtin nor in a $PATH directory */
    CHECK_SHELL_MISSING,   /* a path to nothing */
    CHECK_SHELL_NOT_EXEC,  /* a path to a file that is not executable */
    CHECK_SHELL_DIRECTORY, /* a path to a directory */
};

/* Look word up as dash would; path is $PATH (NULL: dash's default path). */
enum check_shell_prog check_shell_program(const char *word, const char *path);

#endif
