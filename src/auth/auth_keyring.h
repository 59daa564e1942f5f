/*
 * auth_keyring: passwords in the desktop keyring (the freedesktop Secret
 * Service: GNOME Keyring, KWallet, KeePassXC...) through libsecret, found as
 * Python's keyring library (which offlineimap 8.0.1 uses) stores them: items
 * whose attributes are service = <remote host> and username = <user>.
 *
 * Guarantees:
 * - libsecret is loaded with dlopen() when first needed: the program runs
 *   without it (the keyring is then simply not there).
 * - Without a D-Bus session bus (no DBUS_SESSION_BUS_ADDRESS and no
 *   $XDG_RUNTIME_DIR/bus) the keyring is not tried at all, so nothing tries
 *   to start one.
 * - A call never takes longer than timeout_ms: a keyring that does not answer
 *   (a hung bus, a daemon waiting for an unlock prompt nobody sees) is given
 *   up, the call cancelled, and the sync goes on as without a keyring.
 * - Nothing is printed; what happened goes to the debug log, without the
 *   password.
 */
#ifndef AUTH_KEYRING_H
#define AUTH_KEYRING_H

#include "base/err.h"

#include <stdbool.h>

#define KEYRING_TIMEOUT_MS 10000

enum keyring_result {
    KEYRING_FOUND,
    KEYRING_NOT_FOUND,   /* the keyring answered: no such item */
    KEYRING_UNAVAILABLE, /* no libsecret, no session bus, no answer in time, an error: e says */
};

/* The password for user on host, in *pw_r (xmalloc'd) when found. */
enum keyring_result auth_keyring_lookup(const char *host, const char *user, int timeout_ms,
                                        char **pw_r, struct err *e);
/* Store (or replace) it, as Python keyring's set_password(host, user, password). */
bool auth_keyring_store(const char *host, const char *user, const char *password, int timeout_ms,
                        struct err *e);

#endif
