#include "cli/netwatch.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#endif

static int64_t clock_ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t boot_offset(void)
{
#ifdef CLOCK_BOOTTIME
    return clock_ns(CLOCK_BOOTTIME) - clock_ns(CLOCK_MONOTONIC);
#else
    return 0;
#endif
}

static int64_t real_offset(void)
{
    return clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
}

/* One address, as bytes with its family first, for sorting and hashing. */
struct addr_key {
    unsigned char b[17];
};

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct addr_key));
}

static bool global_addr(const struct sockaddr *sa, struct addr_key *k)
{
    memset(k, 0, sizeof(*k));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        const unsigned char *p = (const unsigned char *)&in->sin_addr;
        if (p[0] == 127 || (p[0] == 169 && p[1] == 254))
            return false;
        k->b[0] = 4;
        memcpy(k->b + 1, p, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr))
            return false;
        k->b[0] = 6;
        memcpy(k->b + 1, &in6->sin6_addr, 16);
        return true;
    }
    return false;
}

/* FNV-1a over the sorted global addresses of interfaces that are up. */
static uint64_t address_digest(unsigned *count_r)
{
    struct ifaddrs *ifa = NULL;
    *count_r = 0;
    if (getifaddrs(&ifa) != 0)
        return 0;
    size_t n = 0, cap = 16;
    struct addr_key *v = xcalloc(cap, sizeof(*v));
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
            continue;
        struct addr_key k;
        if (!global_addr(i->ifa_addr, &k))
            continue;
        if (n == cap) {
            cap *= 2;
            v = xreallocarray(v, cap, sizeof(*v));
        }
        v[n++] = k;
    }
    freeifaddrs(ifa);
    qsort(v, n, sizeof(*v), key_cmp);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < sizeof(v[i].b); j++) {
            h ^= v[i].b[j];
            h *= 1099511628211ull;
        }
    free(v);
    *count_r = (unsigned)n;
    return h;
}

void netwatch_open(struct netwatch *w)
{
    memset(w, 0, sizeof(*w));
    w->nl_fd = -1;
    w->boot_offset_ns = boot_offset();
    w->real_offset_ns = real_offset();
    w->addr_hash = address_digest(&w->addr_count);
#ifdef __linux__
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd >= 0) {
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
                                 .nl_groups =
                                     RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK};
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            w->nl_fd = fd;
        } else {
            log_debug(LOGC_THREAD, "no network change notices (rtnetlink: %s)", strerror(errno));
            close(fd);
        }
    }
#endif
}

void netwatch_close(struct netwatch *w)
{
    if (w->nl_fd >= 0)
        close(w->nl_fd);
    w->nl_fd = -1;
}

int netwatch_fd(const struct netwatch *w)
{
    return w->nl_fd;
}

void netwatch_drain(struct netwatch *w)
{
    char buf[8192];
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(w->nl_fd, buf, sizeof(buf), 0);
        if (n > 0) {
            w->addr_dirty = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ENOBUFS) {
            /* Messages were lost: look anyway. */
            w->addr_dirty = true;
            continue;
        }
        break;
    }
}

enum netwatch_event netwatch_clocks(struct netwatch *w, int64_t threshold_ns, int64_t *ns_r)
{
    int64_t b = boot_offset(), r = real_offset();
    int64_t db = b - w->boot_offset_ns, dr = r - w->real_offset_ns;
    w->boot_offset_ns = b;
    w->real_offset_ns = r;
    if (db >= threshold_ns) {
        *ns_r = db;
        return NETWATCH_RESUMED;
    }
    /* A resume without CLOCK_BOOTTIME shows as a forward step of the wall clock. */
    if (dr >= threshold_ns || dr <= -threshold_ns) {
        *ns_r = dr;
        return NETWATCH_CLOCK_STEP;
    }
    *ns_r = 0;
    return NETWATCH_NONE;
}

enum netwatch_event netwatch_addresses(struct netwatch *w, unsigned *count_r)
{
    *count_r = w->addr_count;
    if (!w->addr_dirty)
        return NETWATCH_NONE;
    w->addr_dirty = false;
    unsigned n;
    uint64_t h = address_digest(&n);
    *count_r = n;
    if (h == w->addr_hash && n == w->addr_count)
        return NETWATCH_NONE;
    w->addr_hash = h;
    w->addr_count = n;
    return NETWATCH_ADDRESSES;
}
