/*
 * prof: the -P profile, a text file per thread of where the time and the
 * bytes go.
 *
 * offlineimap's -P writes cProfile data (Python function calls); a C program
 * has no such thing, so this profiles operations instead:
 *
 *   struct prof_mark m;
 *   prof_begin(&m);
 *   ... one IMAP command, one message saved, one fsync ...
 *   prof_end(&m, "imap", "UID FETCH", bytes);
 *
 * Each thread adds up, per (context, kind, operation), the count, the total
 * and longest wall-clock time and the bytes, in memory of its own (no lock
 * on the way).  The context is the thread's name at that moment ("Folder
 * INBOX [acc: Work]"), so a worker that syncs several folders shows each.
 * When the thread ends, its table is written to
 * DIR/<YYYYmmddHHMMSS>_<n>_<first thread name>.prof (n counts the threads
 * of the run); the main thread writes its table with prof_thread_done().
 * Operations nest (a folder's sync contains its commands), so times of
 * different rows overlap: each row says how long that kind of operation took
 * in all.
 *
 * Disabled (the default), prof_begin(), prof_end() and prof_add() are
 * inline and cost one predictable test of a flag (prof_end() tests the
 * mark, which stays 0).  prof_enable() must be called before any other
 * thread starts.
 */
#ifndef BASE_PROF_H
#define BASE_PROF_H

#include <stdbool.h>
#include <stdint.h>

struct prof_mark {
    int64_t start_ns; /* 0 when profiling is off */
};

/* Turn profiling on; files go to dir (which must exist). */
void prof_enable(const char *dir);
bool prof_enabled(void);

/* Set by prof_enable() only; read through the functions below. */
extern bool prof_on;

int64_t prof_now_ns(void);
void prof_record(struct prof_mark *m, const char *kind, const char *op, uint64_t bytes);
void prof_record_add(const char *kind, const char *op, uint64_t count, uint64_t bytes);

static inline void prof_begin(struct prof_mark *m)
{
    m->start_ns = __builtin_expect(prof_on, 0) ? prof_now_ns() : 0;
}

/*
 * Account the time since prof_begin(m) to (kind, op) with bytes.  kind is a
 * string literal ("imap", "net", "maildir", ...); op is copied.
 */
static inline void prof_end(struct prof_mark *m, const char *kind, const char *op, uint64_t bytes)
{
    if (__builtin_expect(m->start_ns != 0, 0))
        prof_record(m, kind, op, bytes);
}

/* Only bytes, no time (e.g. data read while waiting is timed elsewhere). */
static inline void prof_add(const char *kind, const char *op, uint64_t count, uint64_t bytes)
{
    if (__builtin_expect(prof_on, 0))
        prof_record_add(kind, op, count, bytes);
}

/* Write the calling thread's table now and forget it (for the main thread at exit). */
void prof_thread_done(void);

#endif
