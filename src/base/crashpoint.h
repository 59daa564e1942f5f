/*
 * crashpoint: named places where a test can make the process die.
 *
 * The crash suite proves that a SIGKILL at any instant leaves a state the
 * next run converges from.  Code marks the interesting instants (just before
 * and after every durable step) with crashpoint("name").  Nothing happens
 * unless the environment asks, read once by crashpoint_init():
 *
 *   OIMAP_CRASHPOINT=name:n   die by SIGKILL the n-th time "name" is reached
 *                             ("*:n" = the n-th point of any name)
 *   OIMAP_CRASHPOINT_LOG=path append "name\n" to path at every point reached,
 *                             so a test can list the points a run passes
 *   OIMAP_CRASHPOINT_ACTION=pause:path  instead of dying there, create path
 *                             and wait (in that thread) until it is removed,
 *                             so a test can act at that instant
 *
 * When neither is set a crashpoint costs one predictable branch.
 */
#ifndef BASE_CRASHPOINT_H
#define BASE_CRASHPOINT_H

#include <stdbool.h>

void crashpoint_init(void);
void crashpoint_hit(const char *name);

extern bool crashpoint_armed;

static inline void crashpoint(const char *name)
{
    if (__builtin_expect(crashpoint_armed, 0))
        crashpoint_hit(name);
}

#endif
