/*
 * Fuzz target for check_shell_words: any bytes are read without a crash; a
 * refusal leaves the output alone; an accepted command gives words no longer
 * than the input (plus $HOME for a ~), and the same words again.
 */
#include "cli/check_shell.h"

#include "base/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *cmd = xstrndup((const char *)data, size);
    struct strvec a = STRVEC_INIT, b = STRVEC_INIT;
    bool ok = check_shell_words(cmd, "/home/h", &a);
    if (!ok && a.n != 0)
        abort();
    if (ok) {
        for (size_t i = 0; i < a.n; i++)
            if (strlen(a.v[i]) > strlen(cmd) + strlen("/home/h"))
                abort();
        if (!check_shell_words(cmd, "/home/h", &b) || a.n != b.n)
            abort();
        for (size_t i = 0; i < a.n; i++)
            if (strcmp(a.v[i], b.v[i]) != 0)
                abort();
        for (size_t i = 0; i < a.n; i++)
            (void)check_shell_program(a.v[i], "/nonexistent");
    }
    strvec_free(&a);
    strvec_free(&b);
    free(cmd);
    return 0;
}
