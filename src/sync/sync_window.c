#include "sync/sync_window.h"

#include <string.h>

bool sync_window_lists(struct store *remote, struct store_folder *rf, struct store *local,
                       struct store_folder *lf, int64_t cutoff,
                       const struct store_list_opts *ropts, const struct store_list_opts *lopts,
                       struct store_msg_list *rl, struct store_msg_list *ll, uint32_t *min_uid_r,
                       struct err *e)
{
    /* The server's list with dates, to find where the window starts. */
    struct store_list_opts ro = *ropts;
    ro.want_date = true;
    struct store_msg_list all = {0};
    if (!remote->ops->list_msgs(rf, &ro, &all, e))
        return false;
    uint32_t min_uid = UINT32_MAX;
    for (size_t i = 0; i < all.n; i++)
        if (all.v[i].date >= cutoff && all.v[i].uid < min_uid)
            min_uid = all.v[i].uid;
    if (min_uid == UINT32_MAX) {
        /* Nothing recent on the server: the recent local files set the window. */
        struct store_list_opts lo = *lopts;
        lo.min_date = cutoff;
        if (!local->ops->list_msgs(lf, &lo, ll, e)) {
            store_msg_list_free(&all);
            return false;
        }
        for (size_t i = 0; i < ll->n; i++)
            if (ll->v[i].uid && ll->v[i].uid < min_uid)
                min_uid = ll->v[i].uid;
    } else {
        struct store_list_opts lo = *lopts;
        lo.min_uid = min_uid;
        lo.min_date = 0;
        if (!local->ops->list_msgs(lf, &lo, ll, e)) {
            store_msg_list_free(&all);
            return false;
        }
    }
    for (size_t i = 0; i < all.n; i++)
        if (all.v[i].uid >= min_uid)
            store_msg_list_push(rl, &all.v[i]);
    store_msg_list_free(&all);
    *min_uid_r = min_uid;
    return true;
}
