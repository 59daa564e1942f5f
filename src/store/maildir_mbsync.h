/*
 * maildir_mbsync: reading what mbsync (isync) keeps about a Maildir folder,
 * so that the Maildir store can take a folder over from it
 * (store_maildir_mbsync.c).  Private to the Maildir store.
 *
 * The sync state (isync's sync_state.c, 1.1 to 1.5) is a text file:
 *
 *   FarUidValidity <n>          (MasterUidValidity before 1.4)
 *   NearUidValidity <n>         (SlaveUidValidity before 1.4)
 *   MaxPulledUid <n>
 *   MaxPushedUid <n>
 *   [MaxExpiredFarUid <n>]      (MaxExpiredMasterUid, MaxExpiredSlaveUid before)
 *   <empty line>
 *   <far uid> <near uid> [<|>][^|~|X]<flags>
 *   ...
 *
 * or, before 1.1, a first line "<far uv>:<max far> <near uv>:<max exp>:<max near>"
 * followed directly by the entries.  A uid of 0 means "no partner", -1 (pre-1.3)
 * "skipped".  '<' / '>' mark a MaxSize placeholder on the far / near side,
 * '^' a skipped and '~' ('X' before 1.3) an expired message; the flags are
 * the DFPRST letters both sides had at the last sync.  Every line ends in
 * '\n'; mbsync itself refuses a state that does not, and so do we.
 *
 * Where mbsync keeps it (sync_state.c prepare_state):
 *   SyncState *        <near box directory>/.mbsyncstate
 *   SyncState <p>      (in a Channel) <p><near box>
 *   global <p>         <p>:<far store>:<far box>_:<near store>:<near box>
 *                      (default ~/.mbsync/, in 1.5 $XDG_STATE_HOME/isync/)
 * with '/' in box names written as '!', ':' being the FieldDelimiter.  The
 * near box is the box's name in the Maildir store: the folder's directory
 * relative to the store's Path, as offlineimap names the folder.  Beside the
 * state are <state>.journal, <state>.new (both exist while mbsync runs or
 * after it was interrupted) and <state>.lock (an fcntl lock while it runs).
 *
 * mbsync's Maildir store numbers messages itself: ",U=<near uid>" in the file
 * name, and <folder>/.uidvalidity holding "<uidvalidity>\n<next uid>\n".
 */
#ifndef STORE_MAILDIR_MBSYNC_H
#define STORE_MAILDIR_MBSYNC_H

#include "base/err.h"
#include "base/strutil.h"
#include "store/flags.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Largest state file read (about 20 bytes a message). */
#define MBSYNC_STATE_MAX ((size_t)512 << 20)
/* Longest line accepted in a state file (mbsync's own limit is 127 bytes). */
#define MBSYNC_LINE_MAX 1024
/* Largest mbsync configuration file read. */
#define MBSYNC_RC_MAX ((size_t)1 << 20)

/* The file names mbsync uses. */
#define MBSYNC_INBOX_STATE ".mbsyncstate"
#define MBSYNC_UIDVALIDITY ".uidvalidity"
#define MBSYNC_ALTMAP ".isyncuidmap.db"
/* What a state file is renamed to once taken over. */
#define MBSYNC_TAKEN_SUFFIX ".taken-over-by-offlineimap"
/*
 * The first words of the stub written where a state was taken over.  mbsync
 * refuses to read it ("malformed sync state header entry") and so fails that
 * box instead of syncing it again from scratch, which would copy every
 * message twice (the files now carry the server's UIDs in U=).
 */
#define MBSYNC_STUB_MARK "OfflineIMAP took this folder over from mbsync"

enum mbsync_placeholder {
    MBSYNC_PH_NONE = 0,
    MBSYNC_PH_FAR,  /* '<': the far (IMAP) message is mbsync's placeholder */
    MBSYNC_PH_NEAR, /* '>': the near (Maildir) file is mbsync's placeholder */
};

struct mbsync_pair {
    uint32_t far, near;  /* 0: no partner on that side */
    flagset_t flags;     /* the flags at the last sync */
    uint8_t placeholder; /* enum mbsync_placeholder */
    bool skipped;        /* '^' or a pre-1.3 -1 uid */
    bool expired;        /* '~' or 'X' */
};

struct mbsync_state {
    bool stub; /* the file is our stub (MBSYNC_STUB_MARK), not a state */
    uint32_t far_uidvalidity;
    uint32_t near_uidvalidity;
    uint32_t max_pulled, max_pushed;
    struct mbsync_pair *v;
    size_t n, cap;
};

/*
 * Parse a state file's contents (data[0..len), not NUL-terminated).  name is
 * the file for messages.  Errors (ERR_FOLDER) name the file and line.  Our
 * stub parses as a state with stub set and nothing else.
 */
bool mbsync_state_parse(const char *data, size_t len, const char *name, struct mbsync_state *out,
                        struct err *e);
/* Read and parse the file at path. */
bool mbsync_state_read(const char *path, struct mbsync_state *out, struct err *e);
void mbsync_state_free(struct mbsync_state *s);
/* True if the file at path is our stub (read errors count as no). */
bool mbsync_state_is_stub(const char *path);

/*
 * Read <dir>/.uidvalidity.  *present_r is false (and no error) when the file
 * does not exist; a file that does not start with a number is an error.
 */
bool mbsync_uidvalidity_read(const char *dir, bool *present_r, uint32_t *uidvalidity_r,
                             struct err *e);

/*
 * Where the SyncState values of an mbsync configuration point: for each
 * value other than "*", after "~" expansion, the directory and the file
 * prefix in it ("~/.mbsync/" is the directory ~/.mbsync with an empty
 * prefix).  Relative values are skipped, as mbsync would look for them in
 * its working directory.  *delim_r gets the FieldDelimiter (':' unless set).
 */
void mbsync_rc_sync_states(const char *text, size_t len, const char *home, struct strvec *dirs_r,
                           struct strvec *prefixes_r, char *delim_r);

/*
 * True if file name fname (in a state directory whose prefix is prefix) is a
 * state for the near box box (already with '/' as '!'): prefix<box>, or
 * prefix<d><far store><d><far box>_<d><near store><d><box>.
 */
bool mbsync_state_name_matches(const char *fname, const char *prefix, const char *box, char delim);

/* A state found outside the folder, and what it says. */
struct mbsync_found {
    char *path;
    uint32_t far_uidvalidity, near_uidvalidity;
    time_t mtime;
};

/*
 * Look for states of the near box box in mbsync's state directories under
 * home (the defaults, and those named by ~/.mbsyncrc or
 * $XDG_CONFIG_HOME/isyncrc).  Appends what it finds to *found_r (n_r
 * entries); unreadable candidates are logged and skipped.
 */
void mbsync_find_states(const char *home, const char *box, struct mbsync_found **found_r,
                        size_t *n_r);
void mbsync_found_free(struct mbsync_found *v, size_t n);

#endif
