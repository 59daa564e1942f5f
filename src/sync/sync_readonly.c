#include "sync/sync_readonly.h"

#include "base/buf.h"
#include "base/log.h"

#include <inttypes.h>

/* Python's str() of a list of ints. */
static void py_list(struct buf *out, const uint32_t *uids, size_t n)
{
    buf_reset(out);
    buf_append(out, "[", 1);
    for (size_t i = 0; i < n; i++)
        buf_printf(out, "%s%" PRIu32, i ? ", " : "", uids[i]);
    buf_append(out, "]", 1);
}

void sync_readonly_upload(const char *type, const char *folder, int64_t uid)
{
    log_warn("Attempted to synchronize message %" PRId64 " to folder %s[%s], but that folder is "
             "read-only.  The message will not be copied to that folder.",
             uid, type, folder);
}

void sync_readonly_flags(const char *type, const char *folder, const uint32_t *uids, size_t n)
{
    struct buf list;
    buf_init(&list, BUF_UNBOUNDED);
    for (size_t at = 0; at < n; at += SYNC_READONLY_FLAG_BATCH) {
        size_t k = n - at < SYNC_READONLY_FLAG_BATCH ? n - at : SYNC_READONLY_FLAG_BATCH;
        py_list(&list, uids + at, k);
        log_warn("Attempted to modify flags for messages %s in folder %s[%s], but that folder is "
                 "read-only.  No flags have been modified for that message.",
                 list.data, type, folder);
    }
    buf_release(&list);
}

void sync_readonly_delete(const char *type, const char *folder, const uint32_t *uids, size_t n)
{
    if (n == 0)
        return;
    sync_readonly_flags(type, folder, uids, n);
    struct buf list;
    buf_init(&list, BUF_UNBOUNDED);
    py_list(&list, uids, n);
    log_warn("Attempted to delete messages %s in folder %s[%s], but that folder is read-only.  "
             "No messages have been deleted in that folder.",
             list.data, type, folder);
    buf_release(&list);
}
