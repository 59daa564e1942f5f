#include "status/status_validity.h"

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/strutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Far more than "4294967295\n"; anything longer is not ours. */
#define VALIDITY_FILE_MAX 4096

bool status_validity_read(const char *path, bool *present_r, uint32_t *value_r, struct err *e)
{
    *present_r = false;
    *value_r = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return true;
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "Cannot read the saved UIDVALIDITY file %s: %s.", path,
                strerror(errno));
        return false;
    }
    struct buf b;
    buf_init(&b, VALIDITY_FILE_MAX);
    if (!fs_read_file(path, VALIDITY_FILE_MAX, &b, e)) {
        buf_release(&b);
        err_prefix(e, "Cannot read the saved UIDVALIDITY: ");
        return false;
    }
    char *nl = memchr(b.data, '\n', b.len);
    size_t line_len = nl ? (size_t)(nl - b.data) : b.len;
    b.data[line_len] = '\0';
    bool ok = memchr(b.data, '\0', line_len) == NULL;
    char *t = str_trim(b.data);
    ok = ok && str_to_u32(t, strlen(t), value_r);
    if (!ok) {
        *value_r = 0;
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "The saved UIDVALIDITY file %s does not hold a number (first line \"%.40s\"); "
                "move it away to have it written anew.",
                path, t);
    } else {
        *present_r = true;
    }
    buf_release(&b);
    return ok;
}

bool status_validity_write(const char *path, uint32_t value, bool durable, struct err *e)
{
    char text[16];
    int n = snprintf(text, sizeof(text), "%u\n", (unsigned)value);
    if (!fs_write_atomic(path, text, (size_t)n, durable, e)) {
        err_prefix(e, "Cannot save the UIDVALIDITY: ");
        return false;
    }
    return true;
}
