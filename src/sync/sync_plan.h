/*
 * sync_plan: what to do for one folder, decided from three lists.
 *
 * Pure: from the remote list R, the local list L and the status S (what both
 * sides held after the last sync) it computes the actions of offlineimap's
 * two passes (REFERENCE.md 5.2, 5.3): remote to local (copy, delete, flags),
 * then local to remote (copy, delete, flags).  No I/O; tested with tables.
 *
 * Per UID:
 *   R only         download, then record in S
 *   L only         upload (also a local file whose U= is known nowhere else)
 *   R and L, not S record in S with R's flags, then push L's differing flags to R
 *   L and S, not R deleted on the server: delete locally (if the remote
 *                  repository's sync_deletes), then drop from S
 *   R and S, not L deleted locally: delete on the server (if the local
 *                  repository's sync_deletes), then drop from S
 *   S only         drop from S
 *   all three      per flag: a change on the server (R vs S) is applied
 *                  locally; then a local change (L vs S) is applied remotely
 * A read-only side is never changed; its pass is skipped as offlineimap does.
 *
 * The safety rule holds by construction: deletions come only from a UID that
 * S says both sides had.
 */
#ifndef SYNC_PLAN_H
#define SYNC_PLAN_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sync_status_entry {
    uint32_t uid;
    flagset_t flags;
};

struct sync_plan_opts {
    bool local_readonly;
    bool remote_readonly;
    bool remote_sync_deletes; /* propagate deletions made on the server */
    bool local_sync_deletes;  /* propagate deletions made locally */
};

/* A flag change on one message; new_status is what S holds once it is applied. */
struct sync_flag_change {
    struct store_msg msg; /* the message on the side being changed */
    flagset_t add;
    flagset_t del;
    flagset_t new_status;
};

#define SYNC_VEC(type)                                                                             \
    struct {                                                                                       \
        type *v;                                                                                   \
        size_t n;                                                                                  \
        size_t cap;                                                                                \
    }

struct sync_plan {
    SYNC_VEC(struct store_msg) download;            /* remote messages to copy to local */
    SYNC_VEC(struct sync_status_entry) status_add;  /* on both sides already: record only */
    SYNC_VEC(struct store_msg) local_delete;        /* local messages deleted on the server */
    SYNC_VEC(uint32_t) status_drop;                 /* gone on both sides */
    SYNC_VEC(struct sync_flag_change) local_flags;  /* server flag changes to apply locally */
    SYNC_VEC(struct store_msg) upload;              /* local messages to copy to the server */
    SYNC_VEC(struct store_msg) remote_delete;       /* remote messages deleted locally */
    SYNC_VEC(struct sync_flag_change) remote_flags; /* local flag changes to apply remotely */
};

/*
 * Compute the plan.  remote and local must be sorted with
 * store_msg_list_sort(); status sorted by uid without duplicates.
 */
void sync_plan_build(const struct store_msg_list *remote, const struct store_msg_list *local,
                     const struct sync_status_entry *status, size_t n_status,
                     const struct sync_plan_opts *opts, struct sync_plan *plan);
void sync_plan_free(struct sync_plan *plan);
/* True if the plan changes nothing. */
bool sync_plan_empty(const struct sync_plan *plan);

#endif
