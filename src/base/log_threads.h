/*
 * log_threads: the registry behind log_thread_activity() and
 * log_threads_dump() (log.h), private to log.c.
 *
 * Each thread that names itself gets one entry, allocated on first use and
 * removed by a thread-specific-data destructor when the thread exits, so no
 * caller has to remember to unregister.  One mutex guards the list; an entry
 * is only written by its own thread and read by the dumper under the mutex.
 */
#ifndef BASE_LOG_THREADS_H
#define BASE_LOG_THREADS_H

#include "base/log.h"

/* The calling thread's name changed (it is registered if it was not). */
void log_threads_named(const char *name);
/* The calling thread emitted ev (only registered threads keep a note). */
void log_threads_note(const struct log_event *ev);

#endif
