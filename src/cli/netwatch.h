/*
 * netwatch: notices what makes held IMAP connections stale.
 *
 * - A suspend and resume: CLOCK_BOOTTIME counts the time suspended,
 *   CLOCK_MONOTONIC does not, so their difference grows by the length of the
 *   sleep.  netwatch_clocks() compares it with the previous call.
 * - The wall clock set or stepped (CLOCK_REALTIME against CLOCK_MONOTONIC):
 *   reported, since a long step usually comes with a resume or a new network.
 * - A change of the machine's addresses (rtnetlink, Linux): a new network, a
 *   lost one, a VPN.  Messages only wake the watcher; it then compares the
 *   set of global addresses (loopback 127/8 and ::1 and link-local ones
 *   left out) with the previous set, so the lifetime updates IPv6 sends
 *   every few minutes report nothing.
 *
 * Without rtnetlink (another system, a sandbox) only the clocks are watched.
 * One thread uses a struct netwatch.
 */
#ifndef CLI_NETWATCH_H
#define CLI_NETWATCH_H

#include <stdbool.h>
#include <stdint.h>

struct netwatch {
    int nl_fd;              /* rtnetlink socket, or -1 */
    int64_t boot_offset_ns; /* BOOTTIME - MONOTONIC at the last look */
    int64_t real_offset_ns; /* REALTIME - MONOTONIC at the last look */
    uint64_t addr_hash;     /* digest of the sorted global addresses */
    unsigned addr_count;
    bool addr_dirty; /* a netlink message came since the last comparison */
};

enum netwatch_event {
    NETWATCH_NONE = 0,
    NETWATCH_RESUMED,    /* the machine was suspended; *ns_r = how long */
    NETWATCH_CLOCK_STEP, /* the wall clock jumped; *ns_r = by how much (signed) */
    NETWATCH_ADDRESSES,  /* the set of addresses changed */
};

void netwatch_open(struct netwatch *w);
void netwatch_close(struct netwatch *w);
/* Descriptor to poll for address messages, or -1. */
int netwatch_fd(const struct netwatch *w);
/* Drain the netlink socket after poll said it is readable. */
void netwatch_drain(struct netwatch *w);
/* Look at the clocks: a suspend or a step of at least threshold_ns since the last look. */
enum netwatch_event netwatch_clocks(struct netwatch *w, int64_t threshold_ns, int64_t *ns_r);
/* If messages came, compare the addresses with the last set (updating it). */
enum netwatch_event netwatch_addresses(struct netwatch *w, unsigned *count_r);

#endif
