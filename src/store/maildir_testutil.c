#include "store/maildir_testutil.h"

#include "base/err.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdlib.h>

void mt_make_maildir(const char *rel)
{
    static const char *const subs[] = {"cur", "new", "tmp"};
    for (int i = 0; i < 3; i++) {
        char *r = xasprintf("%s/%s", rel, subs[i]);
        char *p = fs_join(test_tmpdir(), r);
        struct err e = ERR_INIT;
        if (!fs_mkdir_p(p, 0700, &e))
            test_fail_at(__FILE__, __LINE__, "mkdir %s: %s", p, e.msg);
        err_clear(&e);
        free(p);
        free(r);
    }
}

struct store_folder *mt_open_folder(struct store *s, const char *name, bool for_write)
{
    struct store_folder *f = NULL;
    struct err e = ERR_INIT;
    if (!s->ops->open_folder(s, name, for_write, &f, &e))
        test_fail_at(__FILE__, __LINE__, "open %s: %s", name, e.msg);
    err_clear(&e);
    return f;
}
