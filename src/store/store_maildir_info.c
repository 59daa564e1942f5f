/*
 * The Maildir store's message identity and facts (store.h msg_ident and
 * msg_info): the unique part of a file name, and a file's wire size, mtime
 * and Message-ID, read from the file itself.
 */
#include "store/maildir_priv.h"
#include "base/log.h"

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "store/maildir_name.h"
#include "store/msghdr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Header bytes kept to find the Message-ID. */
#define INFO_HEADER_MAX (64 * 1024)

bool maildir_msg_ident(struct store_folder *f, const struct store_msg *msg, struct buf *out,
                       struct err *e)
{
    struct maildir_msg *m = maildir_msg_by_key(f, msg->key, e);
    if (!m)
        return false;
    struct maildir_name p;
    char unique[MAILDIR_NAME_MAX + 1];
    buf_reset(out);
    if (!maildir_name_parse(m->name, strlen(m->name), f->st->infosep, f->fmd5, &p)) {
        buf_append_str(out, m->name);
        return true;
    }
    size_t n = maildir_name_unique(m->name, &p, unique);
    buf_append(out, unique, n);
    return true;
}

static bool read_info(struct store_folder *f, struct maildir_msg *m, struct store_msg_info *info)
{
    int fd = openat(f->dfd[m->sub], m->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return false;
    }
    struct buf hdr;
    buf_init(&hdr, INFO_HEADER_MAX);
    bool in_header = true;
    uint64_t size = 0, bare_lf = 0;
    char prev = '\0';
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            buf_release(&hdr);
            return false;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] == '\n' && prev != '\r')
                bare_lf++;
            prev = chunk[i];
        }
        size += (uint64_t)n;
        if (in_header) {
            size_t room = hdr.max - hdr.len;
            buf_append(&hdr, chunk, (size_t)n < room ? (size_t)n : room);
            if (msghdr_length(hdr.data, hdr.len) < hdr.len || hdr.len == hdr.max)
                in_header = false;
        }
    }
    close(fd);
    struct buf id;
    buf_init(&id, 1000);
    size_t hlen = msghdr_length(hdr.data, hdr.len);
    if (msghdr_message_id(hdr.data, hlen, &id) && id.len)
        info->message_id = xstrdup(id.data);
    buf_release(&id);
    buf_release(&hdr);
    info->wire_size = size + bare_lf;
    info->date = (int64_t)sb.st_mtime;
    info->ok = true;
    return true;
}

bool maildir_msg_info(struct store_folder *f, const struct store_msg *msgs, size_t n,
                      struct store_msg_info *out, struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        struct err me = ERR_INIT;
        struct maildir_msg *m = maildir_msg_by_key(f, msgs[i].key, &me);
        err_clear(&me);
        if (m && !read_info(f, m, &out[i])) {
            /* Renamed behind our back: look once more. */
            if (maildir_relocate(f, m, &me))
                read_info(f, m, &out[i]);
            err_clear(&me);
        }
    }
    maildir_relocation_end(f);
    return true;
}

bool maildir_folder_stamp(struct store *s, const char *name, struct buf *out, bool *racy_r,
                          struct err *e)
{
    struct maildir_store *st = (struct maildir_store *)s;
    const char *canon;
    if (!maildir_check_folder_name(st, name, &canon, e))
        return false;
    char *path = *canon ? fs_join(st->root, canon) : xstrdup(st->root);
    int64_t now_ns = fs_now_ns();
    buf_reset(out);
    *racy_r = false;
    bool ok = true;
    /*
     * Every message added, removed or renamed (flags) changes the modification
     * time of new/ or cur/; a change inside a file (never done by mail
     * readers) would not, nor would one to tmp/, which holds no messages.
     */
    for (int i = MD_NEW; i <= MD_CUR && ok; i++) {
        char *sub = fs_join(path, maildir_sub_names[i]);
        struct stat sb;
        if (stat(sub, &sb) != 0) {
            err_set(e, ERR_FOLDER, maildir_errkind(errno), "Maildir folder %s: cannot stat %s: %s.",
                    path, sub, strerror(errno));
            ok = false;
        } else {
            int64_t ns = (int64_t)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
            buf_printf(out, "%s%llu:%llu:%lld", i == MD_NEW ? "" : ",",
                       (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino,
                       (long long)ns);
            if (now_ns - ns < fs_time_window_ns(sub, &sb.st_mtim)) {
                *racy_r = true;
                log_debug(LOGC_MAILDIR, "Maildir folder %s: %s changed %lld us ago: too recent",
                          path, maildir_sub_names[i], (long long)((now_ns - ns) / 1000));
            }
        }
        free(sub);
    }
    free(path);
    return ok;
}
